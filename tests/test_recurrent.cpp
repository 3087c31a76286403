// Recurrent cells (xgrad/recurrent.hpp): the gradients the reverse sweep
// computes for an RNN cell and an LSTM cell against the course's hand-written
// cell backward formulas, written out literally in float64; backpropagation
// through time over an unrolled RNN against the course's rnn_backward loop;
// GRU and unrolled nets against finite differences; float32 against float64;
// shape and length errors; the state carried across segments (truncated
// backpropagation through time); clip_grad_norm; no allocation on replay.
#include <doctest/doctest.h>

#include <xtensor/xmath.hpp>
#include <xtensor/xnoalias.hpp>
#include <xtensor/xview.hpp>

#include "alloc_count.hpp"
#include "helpers.hpp"

using xg::Matrix;
using namespace xgt;
using M = Matrix<double>;

namespace {

M sigmoid_of(const M& z) { return 1.0 / (1.0 + xt::exp(-z)); }
M block_rows(const M& a, std::size_t b, std::size_t e) { return xt::view(a, xt::range(b, e), xt::all()); }
M block_cols(const M& a, std::size_t b, std::size_t e) { return xt::view(a, xt::all(), xt::range(b, e)); }
M stack(const M& top, const M& bottom) {
    M s({top.shape()[0] + bottom.shape()[0], top.shape()[1]});
    xt::view(s, xt::range(0, top.shape()[0]), xt::all()) = top;
    xt::view(s, xt::range(top.shape()[0], s.shape()[0]), xt::all()) = bottom;
    return s;
}
M dot(const M& a, const M& b) { return ref_matmul(a, b); }
M tr(const M& a) { return ref_transpose(a); }

/// J = Σ (y ⊙ R): the gradient arriving at y is R.
xg::Var<double> weighted(xg::Var<double> y, const M& R) { return sum(y * y.graph().input(R, "R" + y.name())); }

struct Sizes {
    std::size_t n_x, n_a, m;
};
const Sizes shapes[] = {{3, 5, 10}, {1, 1, 1}, {4, 2, 7}, {6, 8, 3}};

}  // namespace

TEST_CASE("RNN cell: the sweep gives the course's rnn_cell_backward, to float64 round-off") {
    // The course's cell: a_next = tanh(Wax · xt + Waa · a_prev + ba), and its backward
    //   dtanh = (1 − a_next²) ⊙ da_next
    //   dxt = Waxᵀ · dtanh        dWax = dtanh · xtᵀ
    //   da_prev = Waaᵀ · dtanh    dWaa = dtanh · a_prevᵀ
    //   dba = Σ_columns dtanh
    std::mt19937_64 rng(1);
    for (const Sizes& s : shapes) {
        CAPTURE(s.n_x);
        CAPTURE(s.n_a);
        xg::Rng init(7);
        const xg::RNNCell<double> cell(s.n_x, s.n_a, init);
        xg::Graph<double> g;
        const M xt_ = randn(s.n_x, s.m, rng), a_prev_ = randn(s.n_a, s.m, rng), da_next = randn(s.n_a, s.m, rng);
        auto x = g.input(xt_, "xt", true);
        auto a_prev = g.input(a_prev_, "a_prev", true);
        auto a_next = cell(x, a_prev).named("a_next");
        g.backward(weighted(a_next, da_next));

        const M& Wax = cell.Wax.value();
        const M& Waa = cell.Waa.value();
        const M a_ref = xt::tanh(dot(Wax, xt_) + dot(Waa, a_prev_) + cell.ba.value());
        CHECK(rel_err(a_next.value(), a_ref) <= 1e-14);
        const M dtanh = (1.0 - a_ref * a_ref) * da_next;
        CHECK(rel_err(x.grad(), dot(tr(Wax), dtanh)) <= 1e-13);
        CHECK(rel_err(cell.Wax.grad(), dot(dtanh, tr(xt_))) <= 1e-13);
        CHECK(rel_err(a_prev.grad(), dot(tr(Waa), dtanh)) <= 1e-13);
        CHECK(rel_err(cell.Waa.grad(), dot(dtanh, tr(a_prev_))) <= 1e-13);
        CHECK(rel_err(cell.ba.grad(), ref_sum_cols(dtanh)) <= 1e-13);
    }
}

TEST_CASE("LSTM cell: the sweep gives the course's lstm_cell_backward, to float64 round-off") {
    std::mt19937_64 rng(2);
    for (const Sizes& s : shapes) {
        CAPTURE(s.n_x);
        CAPTURE(s.n_a);
        const std::size_t n = s.n_a;
        xg::Rng init(8);
        xg::LSTMCell<double> cell(s.n_x, n, init);
        cell.b.value() = randn(4 * n, 1, rng, 0.5);  // biases that are not zero
        xg::Graph<double> g;
        const M xt_ = randn(s.n_x, s.m, rng), a_prev_ = randn(n, s.m, rng), c_prev_ = randn(n, s.m, rng);
        const M da_next = randn(n, s.m, rng), dc_next = randn(n, s.m, rng);
        auto x = g.input(xt_, "xt", true);
        xg::LSTMState<double> prev{g.input(a_prev_, "a_prev", true), g.input(c_prev_, "c_prev", true)};
        const xg::LSTMState<double> next = cell(x, prev);
        g.backward(weighted(next.a, da_next) + weighted(next.c, dc_next));

        // The course's forward, with its four weight matrices cut out of W = [Wf; Wi; Wc; Wo].
        const M& W = cell.W.value();
        const M& b = cell.b.value();
        const M Wf = block_rows(W, 0, n), Wi = block_rows(W, n, 2 * n), Wc = block_rows(W, 2 * n, 3 * n),
                Wo = block_rows(W, 3 * n, 4 * n);
        const M bf = block_rows(b, 0, n), bi = block_rows(b, n, 2 * n), bc = block_rows(b, 2 * n, 3 * n),
                bo = block_rows(b, 3 * n, 4 * n);
        const M concat = stack(a_prev_, xt_);
        const M ft = sigmoid_of(dot(Wf, concat) + bf);
        const M it = sigmoid_of(dot(Wi, concat) + bi);
        const M cct = xt::tanh(dot(Wc, concat) + bc);
        const M c_next = ft * c_prev_ + it * cct;
        const M ot = sigmoid_of(dot(Wo, concat) + bo);
        const M a_next = ot * xt::tanh(c_next);
        CHECK(rel_err(next.a.value(), a_next) <= 1e-14);
        CHECK(rel_err(next.c.value(), c_next) <= 1e-14);

        // The course's backward: the gates' gradients (before their nonlinearity) ...
        const M tc = xt::tanh(c_next);
        const M dot_ = da_next * tc * ot * (1.0 - ot);
        const M dcct = (dc_next * it + ot * (1.0 - tc * tc) * it * da_next) * (1.0 - cct * cct);
        const M dit = (dc_next * cct + ot * (1.0 - tc * tc) * cct * da_next) * it * (1.0 - it);
        const M dft = (dc_next * c_prev_ + ot * (1.0 - tc * tc) * c_prev_ * da_next) * ft * (1.0 - ft);
        // ... the weights and biases ...
        const M dWf = dot(dft, tr(concat)), dWi = dot(dit, tr(concat)), dWc = dot(dcct, tr(concat)), dWo = dot(dot_, tr(concat));
        const M dbf = ref_sum_cols(dft), dbi = ref_sum_cols(dit), dbc = ref_sum_cols(dcct), dbo = ref_sum_cols(dot_);
        // ... and the previous state and the input.
        const M da_prev = dot(tr(block_cols(Wf, 0, n)), dft) + dot(tr(block_cols(Wi, 0, n)), dit) +
                          dot(tr(block_cols(Wc, 0, n)), dcct) + dot(tr(block_cols(Wo, 0, n)), dot_);
        const M dc_prev = dc_next * ft + ot * (1.0 - tc * tc) * ft * da_next;
        const std::size_t all = n + s.n_x;
        const M dxt = dot(tr(block_cols(Wf, n, all)), dft) + dot(tr(block_cols(Wi, n, all)), dit) +
                      dot(tr(block_cols(Wc, n, all)), dcct) + dot(tr(block_cols(Wo, n, all)), dot_);

        const M& dW = cell.W.grad();
        const M& db = cell.b.grad();
        CHECK(rel_err(block_rows(dW, 0, n), dWf) <= 1e-13);
        CHECK(rel_err(block_rows(dW, n, 2 * n), dWi) <= 1e-13);
        CHECK(rel_err(block_rows(dW, 2 * n, 3 * n), dWc) <= 1e-13);
        CHECK(rel_err(block_rows(dW, 3 * n, 4 * n), dWo) <= 1e-13);
        CHECK(rel_err(block_rows(db, 0, n), dbf) <= 1e-13);
        CHECK(rel_err(block_rows(db, n, 2 * n), dbi) <= 1e-13);
        CHECK(rel_err(block_rows(db, 2 * n, 3 * n), dbc) <= 1e-13);
        CHECK(rel_err(block_rows(db, 3 * n, 4 * n), dbo) <= 1e-13);
        CHECK(rel_err(prev.a.grad(), da_prev) <= 1e-13);
        CHECK(rel_err(prev.c.grad(), dc_prev) <= 1e-13);
        CHECK(rel_err(x.grad(), dxt) <= 1e-13);
    }
}

TEST_CASE("an unrolled RNN: backpropagation through time is the course's rnn_backward loop") {
    // J = Σ_t Σ (a⟨t⟩ ⊙ R⟨t⟩), so da⟨t⟩ = R⟨t⟩ arrives at each step from the loss.
    // rnn_backward: for t = T … 1, the cell's backward on da⟨t⟩ + da_prev⟨t+1⟩,
    // adding dWax, dWaa, dba over t.
    std::mt19937_64 rng(3);
    for (std::size_t T : {1, 2, 5, 9}) {
        CAPTURE(T);
        const std::size_t n_x = 3, n_a = 4, m = 6;
        xg::Rng init(9);
        const xg::RNNCell<double> cell(n_x, n_a, init);
        xg::Graph<double> g;
        std::vector<M> xs_, Rs;
        std::vector<xg::Var<double>> xs;
        for (std::size_t t = 0; t < T; ++t) {
            xs_.push_back(randn(n_x, m, rng));
            Rs.push_back(randn(n_a, m, rng));
            xs.push_back(g.input(xs_.back(), "x<" + std::to_string(t + 1) + ">", true));
        }
        const M a0_ = randn(n_a, m, rng);
        auto a0 = g.input(a0_, "a0", true);
        const std::vector<xg::Var<double>> a = xg::unroll(cell, xs, a0);
        REQUIRE(a.size() == T);
        CHECK(a.back().name() == "a<" + std::to_string(T) + ">");
        xg::Var<double> J = weighted(a[0], Rs[0]);
        for (std::size_t t = 1; t < T; ++t) J = J + weighted(a[t], Rs[t]);
        g.backward(J);

        const M &Wax = cell.Wax.value(), &Waa = cell.Waa.value();
        std::vector<M> as{a0_};
        for (std::size_t t = 0; t < T; ++t) as.push_back(xt::tanh(dot(Wax, xs_[t]) + dot(Waa, as.back()) + cell.ba.value()));
        M dWax = xt::zeros<double>({n_a, n_x}), dWaa = xt::zeros<double>({n_a, n_a}), dba = xt::zeros<double>({n_a, std::size_t(1)});
        M da_prevt = xt::zeros<double>({n_a, m});
        std::vector<M> dx(T);
        for (std::size_t t = T; t-- > 0;) {
            const M da_next = Rs[t] + da_prevt;
            const M dtanh = (1.0 - as[t + 1] * as[t + 1]) * da_next;
            dx[t] = dot(tr(Wax), dtanh);
            dWax += dot(dtanh, tr(xs_[t]));
            dWaa += dot(dtanh, tr(as[t]));
            dba += ref_sum_cols(dtanh);
            da_prevt = dot(tr(Waa), dtanh);
        }
        CHECK(rel_err(cell.Wax.grad(), dWax) <= 1e-13);
        CHECK(rel_err(cell.Waa.grad(), dWaa) <= 1e-13);
        CHECK(rel_err(cell.ba.grad(), dba) <= 1e-13);
        CHECK(rel_err(a0.grad(), da_prevt) <= 1e-13);
        for (std::size_t t = 0; t < T; ++t) CHECK(rel_err(xs[t].grad(), dx[t]) <= 1e-13);
    }
}

TEST_CASE("unrolled RNN, LSTM and GRU nets with an embedding and a softmax loss: gradients against finite differences") {
    std::mt19937_64 rng(4);
    const std::size_t V = 6, d = 3, n = 4, m = 5, T = 4;
    for (int kind = 0; kind < 3; ++kind) {
        CAPTURE(kind);
        xg::Rng init(10);
        xg::Graph<double> g;
        auto E = g.parameter(randn(d, V, rng, 0.5), "E");
        auto Wy = g.parameter(randn(V, n, rng, 0.5), "Wy");
        std::vector<xg::Var<double>> xs;
        std::vector<xg::Var<double>> targets;
        for (std::size_t t = 0; t < T; ++t) {
            M ids({1, m}), next({1, m});
            for (std::size_t j = 0; j < m; ++j) {
                ids(0, j) = double(rng() % V);
                next(0, j) = double(rng() % V);
            }
            xs.push_back(embedding(E, g.input(ids, "ids" + std::to_string(t))));
            targets.push_back(g.input(next, "y" + std::to_string(t)));
        }
        std::vector<xg::Var<double>> hs;
        xg::RNNCell<double> rnn(d, n, init);
        xg::LSTMCell<double> lstm(d, n, init);
        xg::GRUCell<double> gru(d, n, init);
        if (kind == 0) hs = xg::unroll(rnn, xs, xg::initial_state(g, n, m));
        if (kind == 1) {
            for (const auto& s : xg::unroll(lstm, xs, {xg::initial_state(g, n, m), xg::initial_state(g, n, m, "c0")})) hs.push_back(s.a);
        }
        if (kind == 2) hs = xg::unroll(gru, xs, xg::initial_state(g, n, m, "h0"));
        // One dense layer over all steps at once: the steps side by side.
        auto J = softmax_cross_entropy(matmul(Wy, concat_columns(hs)), concat_columns(targets));
        check_grads(g, J);
    }
}

TEST_CASE("recurrent cells in float32 follow float64") {
    std::mt19937_64 rng(5);
    const std::size_t n_x = 5, n = 7, m = 9, T = 6;
    const M x = randn(n_x, m * T, rng);
    const auto run = [&](auto zero) {
        using R = decltype(zero);
        xg::Rng init(11);
        xg::LSTMCell<R> cell(n_x, n, init);
        xg::Graph<R> g;
        auto X = g.input(xt::cast<R>(x), "X");
        std::vector<xg::Var<R>> xs;
        for (std::size_t t = 0; t < T; ++t) xs.push_back(columns(X, t * m, (t + 1) * m));
        const auto st = xg::unroll(cell, xs, {xg::initial_state(g, n, m), xg::initial_state(g, n, m, "c0")});
        auto J = mean(square(st.back().a));
        g.backward(J);
        return M(xt::cast<double>(cell.W.grad()));
    };
    const M g64 = run(0.0);
    CHECK(grad_rel_err(run(0.0f), g64) <= 1e-4);
}

TEST_CASE("recurrent cells refuse a wrong input, a wrong state and an empty sequence, and build nothing") {
    xg::Rng init(12);
    const xg::RNNCell<double> rnn(3, 5, init);
    const xg::LSTMCell<double> lstm(3, 5, init);
    const xg::GRUCell<double> gru(3, 5, init);
    xg::Graph<double> g;
    auto x = g.input(xt::zeros<double>({3, 4}), "x");
    auto x_bad = g.input(xt::zeros<double>({2, 4}), "x_bad");
    auto a = g.input(xt::zeros<double>({5, 4}), "a");
    auto a_bad = g.input(xt::zeros<double>({5, 3}), "a_bad");
    const std::size_t size = g.size();

    std::string msg = message_of<xg::ShapeError>([&] { rnn(x_bad, a); });
    CHECK(contains(msg, "RNNCell 3 -> 5: input x_bad is [2x4]; the cell takes 3 rows (n_x)"));
    msg = message_of<xg::ShapeError>([&] { rnn(x, a_bad); });
    CHECK(contains(msg, "RNNCell 3 -> 5: the previous state a_bad is [5x3], but must be 5x4"));
    CHECK(contains(msg, "x [3x4]"));
    msg = message_of<xg::ShapeError>([&] { lstm(x, {a, a_bad}); });
    CHECK(contains(msg, "LSTMCell 3 -> 5: the previous state a_bad is [5x3], but must be 5x4"));
    msg = message_of<xg::ShapeError>([&] { gru(x_bad, a); });
    CHECK(contains(msg, "GRUCell 3 -> 5: input x_bad is [2x4]"));
    msg = message_of<xg::ValueError>([&] { xg::unroll(rnn, {}, a); });
    CHECK(contains(msg, "unroll(RNNCell 3 -> 5): a sequence of length 0"));
    CHECK_THROWS_AS(xg::unroll(lstm, {}, {a, a}), xg::ValueError);
    CHECK_THROWS_AS(xg::unroll(gru, {}, a), xg::ValueError);
    CHECK(g.size() == size);
    // A bad step in the middle of a sequence: the steps before it are built, nothing of it.
    rnn(x, a);  // the parameter leaves
    const std::size_t before_step = g.size();
    rnn(x, a);
    const std::size_t per_step = g.size() - before_step;
    const std::size_t before_seq = g.size();
    CHECK_THROWS_AS(xg::unroll(rnn, {x, x_bad}, a), xg::ShapeError);
    CHECK(g.size() == before_seq + per_step);
    xg::Graph<double> other;
    auto y = other.input(xt::zeros<double>({3, 4}), "y");
    CHECK_THROWS_AS(rnn(y, a), xg::GraphError);
    CHECK_THROWS_AS(xg::RNNCell<double>(0, 5, init), xg::ValueError);
    CHECK_THROWS_AS(xg::LSTMCell<double>(3, 5, init, xg::init::xavier(), "a/b"), xg::ValueError);
}

TEST_CASE("truncated backpropagation through time: the state carried into the next segment by set_value, or detach") {
    std::mt19937_64 rng(6);
    const std::size_t n_x = 2, n = 3, m = 4, T = 3;
    xg::Rng init(13);
    const xg::RNNCell<double> cell(n_x, n, init);
    std::vector<M> segment1, segment2;
    for (std::size_t t = 0; t < T; ++t) {
        segment1.push_back(randn(n_x, m, rng));
        segment2.push_back(randn(n_x, m, rng));
    }
    const M R = randn(n, m, rng);

    // One graph per segment, replayed: the last state is copied into a0.
    xg::Graph<double> g;
    std::vector<xg::Var<double>> xs;
    for (std::size_t t = 0; t < T; ++t) xs.push_back(g.input(segment1[t]));
    auto a0 = xg::initial_state(g, n, m);
    const auto a = xg::unroll(cell, xs, a0);
    auto J = weighted(a.back(), R);
    g.backward(J);
    const M carried = a.back().value();
    for (std::size_t t = 0; t < T; ++t) g.set_value(xs[t], segment2[t]);
    g.set_value(a0, carried);
    g.forward();
    g.backward(J);
    const M dWax_replayed = cell.Wax.grad();

    // The same two segments in one graph, the second starting from detach(a⟨T⟩):
    // only the second segment's steps contribute.
    xg::Graph<double> h;
    std::vector<xg::Var<double>> x1, x2;
    for (std::size_t t = 0; t < T; ++t) {
        x1.push_back(h.input(segment1[t]));
        x2.push_back(h.input(segment2[t]));
    }
    const auto s1 = xg::unroll(cell, x1, xg::initial_state(h, n, m));
    const auto s2 = xg::unroll(cell, x2, detach(s1.back()));
    h.backward(weighted(s2.back(), R));
    CHECK(rel_err(cell.Wax.grad(), dWax_replayed) <= 1e-15);
    // Without detach the first segment would add its part: a different gradient.
    h.backward(weighted(xg::unroll(cell, x2, s1.back()).back(), R));
    CHECK(rel_err(cell.Wax.grad(), dWax_replayed) > 1e-6);
}

TEST_CASE("clip_grad_norm scales every gradient by max_norm / (N + 1e-6) when the global norm N is larger") {
    xg::Parameter<double> p(M{{1.0, 2.0}}), q(M{{3.0}});
    p.grad() = M{{3.0, 0.0}};
    q.grad() = M{{4.0}};
    CHECK(xg::clip_grad_norm<double>({p, q}, 10.0) == 5.0);  // under the limit: unchanged
    CHECK(p.grad() == M{{3.0, 0.0}});
    CHECK(xg::clip_grad_norm<double>({p, q}, 1.0) == 5.0);
    const double s = 1.0 / (5.0 + 1e-6);
    CHECK(p.grad()(0, 0) == doctest::Approx(3.0 * s).epsilon(1e-15));
    CHECK(q.grad()(0, 0) == doctest::Approx(4.0 * s).epsilon(1e-15));
    CHECK(xg::clip_grad_norm<double>({p, q}, 1.0) == doctest::Approx(5.0 * s).epsilon(1e-15));
    xg::Parameter<float> f(Matrix<float>{{1.0f}});
    f.grad() = Matrix<float>{{-8.0f}};
    CHECK(xg::clip_grad_norm<float>({f}, 2.0) == 8.0);
    CHECK(f.grad()(0, 0) == doctest::Approx(-2.0).epsilon(1e-6));
    CHECK_THROWS_AS(xg::clip_grad_norm<double>({p}, 0.0), xg::ValueError);
    CHECK_THROWS_AS(xg::clip_grad_norm<double>({p}, std::nan("")), xg::ValueError);
}

TEST_CASE("a replayed LSTM training step at fixed T allocates nothing") {
    std::mt19937_64 rng(7);
    const std::size_t V = 7, d = 4, n = 6, m = 5, T = 5;
    xg::Rng init(14);
    const xg::LSTMCell<double> cell(d, n, init);
    xg::Graph<double> g;
    auto E = g.parameter(randn(d, V, rng, 0.3), "E");
    auto Wy = g.parameter(randn(V, n, rng, 0.3), "Wy");
    const auto tokens = [&] {
        M ids({1, m * (T + 1)});
        for (double& v : ids) v = double(rng() % V);
        return ids;
    };
    auto ids = g.input(tokens(), "ids");
    auto X = embedding(E, columns(ids, 0, m * T));
    std::vector<xg::Var<double>> xs;
    for (std::size_t t = 0; t < T; ++t) xs.push_back(columns(X, t * m, (t + 1) * m));
    std::vector<xg::Var<double>> as;
    for (const auto& s : xg::unroll(cell, xs, {xg::initial_state(g, n, m), xg::initial_state(g, n, m, "c0")})) as.push_back(s.a);
    auto J = softmax_cross_entropy(matmul(Wy, concat_columns(as)), columns(ids, m, m * (T + 1)));
    std::vector<xg::Parameter<double>> params = g.parameters();
    const auto step = [&] {
        g.forward();
        g.backward(J);
        xg::clip_grad_norm(params, 1.0);
        for (auto& p : params) xt::noalias(p.value()) -= 0.1 * p.grad();
    };
    std::vector<M> batches;
    for (int k = 0; k < 4; ++k) batches.push_back(tokens());
    step();
    const long before = allocation_count();
    for (int k = 0; k < 8; ++k) {
        g.set_value(ids, batches[std::size_t(k % 4)]);
        step();
    }
    CHECK(allocation_count() - before == 0);
}

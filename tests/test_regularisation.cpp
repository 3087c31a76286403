// Regularisation and normalisation: dropout (masks, modes, seeds, the
// course's backward with the mask read back, gradient checks with the mask
// held), the L2 penalty and decoupled weight decay, batch and layer
// normalisation against the compact hand-derived backward and against finite
// differences, the layers in Sequential (summary, checkpoints, evaluation),
// and replays that allocate nothing.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "alloc_count.hpp"
#include "helpers.hpp"
#include "temp_files.hpp"

using xg::Matrix;
using namespace xgt;

namespace {

/// max |a − b| over the entries (same shapes).
template <class A, class B>
double max_abs_diff(const A& a, const B& b) {
    REQUIRE(a.size() == b.size());
    double d = 0;
    for (std::size_t k = 0; k < a.size(); ++k) d = std::max(d, std::fabs(double(a.data()[k]) - double(b.data()[k])));
    return d;
}

/// Per-row (over_cols = true: over the columns) or per-column mean and σ = √(var + ε), biased variance.
struct Stats {
    Matrix<double> mu, sigma, xhat;
};

Stats stats_of(const Matrix<double>& x, bool over_columns, double eps = 1e-5) {
    const std::size_t n = x.shape()[0], m = x.shape()[1];
    const std::size_t count = over_columns ? n : m, len = over_columns ? m : n;
    Stats s;
    s.mu = over_columns ? Matrix<double>({n, 1}) : Matrix<double>({1, m});
    s.sigma = s.mu;
    s.xhat = Matrix<double>(x.shape());
    for (std::size_t a = 0; a < count; ++a) {
        const auto at = [&](std::size_t b) { return over_columns ? x(a, b) : x(b, a); };
        double mu = 0, v = 0;
        for (std::size_t b = 0; b < len; ++b) mu += at(b);
        mu /= double(len);
        for (std::size_t b = 0; b < len; ++b) v += (at(b) - mu) * (at(b) - mu);
        v /= double(len);
        s.mu.data()[a] = mu;
        s.sigma.data()[a] = std::sqrt(v + eps);
        for (std::size_t b = 0; b < len; ++b) {
            (over_columns ? s.xhat(a, b) : s.xhat(b, a)) = (at(b) - mu) / std::sqrt(v + eps);
        }
    }
    return s;
}

/// A node whose loss is J = Σ W ⊙ Y for a fixed random W: dY = W at every entry.
xg::Var<double> weighted(xg::Var<double> y, const Matrix<double>& w) {
    return y.graph().apply(std::make_shared<const WeightedSum<double>>(w), {y});
}

}  // namespace

// ---- dropout ----------------------------------------------------------------------------

TEST_CASE("dropout: Y = D ⊙ X / keep_prob with a 0/1 mask, and the course's dX = D ⊙ dY / keep_prob") {
    std::mt19937_64 rng(1);
    xg::Graph<double> g;
    const double keep = 0.8;
    auto X = g.parameter(randn(6, 50, rng), "A1");
    auto Y = xg::dropout(X, keep, "D1").named("A1′");
    const Matrix<double> D = xg::dropout_mask(Y);
    REQUIRE(xg::shape_of(D) == xg::Shape{6, 50});
    std::size_t kept = 0;
    for (double d : D) {
        CHECK((d == 0.0 || d == 1.0));
        kept += d == 1.0;
    }
    // About keep_prob of the 300 entries survive (binomial: 240 ± 7).
    CHECK(kept > 200);
    CHECK(kept < 280);
    for (std::size_t k = 0; k < D.size(); ++k) CHECK(Y.value().data()[k] == D.data()[k] * X.value().data()[k] / keep);

    const Matrix<double> w = randn(6, 50, rng);
    auto J = weighted(Y, w);
    g.backward(J);
    // The course: dA = D ⊙ dA′ / keep_prob, with dA′ = w here.
    Matrix<double> expect(w.shape());
    for (std::size_t k = 0; k < w.size(); ++k) expect.data()[k] = D.data()[k] * w.data()[k] / keep;
    CHECK(max_abs_diff(X.grad(), expect) == 0.0);
}

TEST_CASE("dropout: a new mask on every training forward; the same seed gives the same masks") {
    std::mt19937_64 rng(2);
    const Matrix<double> x = randn(4, 30, rng);
    const auto masks = [&](std::uint32_t seed) {
        xg::Graph<double> g;
        g.seed(seed);
        auto X = g.input(x, "X");
        auto Y = xg::dropout(X, 0.5);
        std::vector<Matrix<double>> out{xg::dropout_mask(Y)};
        g.forward();
        out.push_back(xg::dropout_mask(Y));
        return out;
    };
    const auto a = masks(7), b = masks(7), c = masks(8);
    CHECK(a[0] == b[0]);
    CHECK(a[1] == b[1]);
    CHECK(a[0] != a[1]);  // redrawn on replay
    CHECK(a[0] != c[0]);  // another seed, another mask

    // The draws are the graph's generator's: D = (U < keep_prob), U = Rng(seed).uniform() row by row.
    xg::Rng r(7);
    Matrix<double> d(x.shape());
    for (double& v : d) v = r.uniform() < 0.5 ? 1.0 : 0.0;
    CHECK(a[0] == d);
}

TEST_CASE("dropout: evaluation mode is the identity and draws no mask; holding keeps the mask") {
    std::mt19937_64 rng(3);
    xg::Graph<double> g;
    auto X = g.parameter(randn(3, 8, rng), "X");
    auto Y = xg::dropout(X, 0.6).named("Y");
    const Matrix<double> first = xg::dropout_mask(Y);

    g.hold_random_state(true);
    g.forward();
    CHECK(xg::dropout_mask(Y) == first);
    g.hold_random_state(false);

    g.set_mode(xg::Mode::evaluation);
    CHECK(!g.training());
    g.forward();
    CHECK(Y.value() == X.value());
    const std::string why = message_of<xg::GraphError>([&] { (void)xg::dropout_mask(Y); });
    CHECK(contains(why, "dropout_mask(Y)"));
    CHECK(contains(why, "evaluation mode"));
    const Matrix<double> w = randn(3, 8, rng);
    auto J = weighted(Y, w);
    g.backward(J);
    CHECK(X.grad() == w);  // dX = dY

    g.set_mode(xg::Mode::training);
    g.forward();
    CHECK(Y.value() != X.value());
    CHECK(message_of<xg::GraphError>([&] { (void)xg::dropout_mask(X); }).find("not a dropout node") != std::string::npos);
}

TEST_CASE("dropout: keep_prob outside (0, 1] is refused, naming the op and the node; keep_prob 1 keeps everything") {
    xg::Graph<double> g;
    auto X = g.input(Matrix<double>{{1.0, 2.0}}, "A2");
    const std::size_t size = g.size();
    for (double bad : {0.0, -0.5, 1.5, double(NAN)}) {
        const std::string m = message_of<xg::ValueError>([&] { xg::dropout(X, bad); });
        CHECK(contains(m, "dropout(A2)"));
        CHECK(contains(m, "keep_prob must lie in (0, 1]"));
    }
    CHECK(g.size() == size);
    auto Y = xg::dropout(X, 1.0);
    CHECK(Y.value() == X.value());
}

TEST_CASE("dropout: the gradient checker holds the mask; a network with dropout checks in training mode") {
    std::mt19937_64 rng(4);
    xg::Graph<double> g;
    g.seed(3);
    auto X = g.input(randn(3, 10, rng), "X");
    auto Yl = g.input(labels01(1, 10, rng), "Y");
    auto W1 = g.parameter(randn(5, 3, rng), "W1");
    auto b1 = g.parameter(randn(5, 1, rng), "b1");
    auto W2 = g.parameter(randn(1, 5, rng), "W2");
    auto b2 = g.parameter(randn(1, 1, rng), "b2");
    auto A1 = tanh(matmul(W1, X) + b1).named("A1");
    auto D1 = xg::dropout(A1, 0.7, "D1").named("A1′");
    auto J = binary_cross_entropy_with_logits(matmul(W2, D1) + b2, Yl).named("J");
    const Matrix<double> mask = xg::dropout_mask(D1);
    const xg::GradCheckReport r = check_grads(g, J);
    CHECK(r.max_rel_err() < 1e-6);
    CHECK(xg::dropout_mask(D1) == mask);  // the check kept the mask
    CHECK(!g.holding_random_state());     // and gave the hold back

    // Without the hold, finite differences would see a new mask on every
    // replay: the analytic gradient differs from such differences.
    g.backward(J);
    const Matrix<double> analytic = g.parameter_of(W1.id()).grad();
    const Matrix<double> redrawn = fd_grad(g, J, g.parameter_of(W1.id()));
    CHECK(grad_rel_err(analytic, redrawn) > 1e-3);
}

TEST_CASE("dropout: explain prints the course's dA = D ⊙ dA′ / keep_prob") {
    std::mt19937_64 rng(5);
    xg::Graph<double> g;
    auto W = g.parameter(randn(2, 3, rng), "W1");
    auto X = g.input(randn(3, 4, rng), "X");
    auto A = tanh(matmul(W, X)).named("A1");
    auto Ad = xg::dropout(A, 0.8, "D1").named("A1′");
    auto J = sum(Ad).named("J");
    const std::string text = xg::explain(J);
    INFO(text);
    CHECK(contains(text, "A1′ = D1 ⊙ A1 / keep_prob\n"));
    CHECK(contains(text, "dA1  = D1 ⊙ dA1′ / keep_prob\n"));
}

// ---- L2 penalty and weight decay ----------------------------------------------------------

TEST_CASE("l2_penalty: (λ / 2m) Σ ‖W‖², dW gains (λ/m) W, m follows the batch; explain shows it") {
    std::mt19937_64 rng(6);
    const double lambda = 0.7;
    xg::Parameter<double> W1(randn(4, 3, rng), "W1"), W2(randn(1, 4, rng), "W2");
    const Matrix<double>& w1 = std::as_const(W1).value();  // reading, not writing: no new version
    const Matrix<double>& w2 = std::as_const(W2).value();
    const Matrix<double> x = randn(3, 8, rng), y = labels01(1, 8, rng);
    const auto cost = [&](xg::Graph<double>& g, bool penalised) {
        auto X = g.input(x, "X");
        auto Y = g.input(y, "Y");
        auto A1 = tanh(matmul(g.parameter(W1), X)).named("A1");
        auto Z2 = matmul(g.parameter(W2), A1).named("Z2");
        auto J = binary_cross_entropy_with_logits(Z2, Y).named("J_ce");
        if (!penalised) return J;
        return (J + xg::l2_penalty(X, std::vector<xg::Parameter<double>>{W1, W2}, lambda).named("J_L2")).named("J");
    };
    xg::Graph<double> plain, reg;
    auto J0 = cost(plain, false);
    auto J = cost(reg, true);
    double squares = 0;
    for (double v : w1) squares += v * v;
    for (double v : w2) squares += v * v;
    CHECK(J.value()(0, 0) == doctest::Approx(J0.value()(0, 0) + lambda / (2 * 8.0) * squares).epsilon(1e-14));

    plain.backward(J0);
    const Matrix<double> g1 = W1.grad(), g2 = W2.grad();
    reg.backward(J);
    CHECK(max_abs_diff(W1.grad(), Matrix<double>(g1 + lambda / 8.0 * w1)) < 1e-15);
    CHECK(max_abs_diff(W2.grad(), Matrix<double>(g2 + lambda / 8.0 * w2)) < 1e-15);
    check_grads(reg, J);

    const std::string text = xg::explain(J);
    INFO(text);
    // dJ_L2 = 1 (the penalty is a term of J): dW = (λ / m) W + the cross-entropy's part.
    CHECK(contains(text, "dJ_L2 = 1\n"));
    CHECK(contains(text, "dW1   = (λ / m) dJ_L2 ⊙ W1 + dt3 · Xᵀ\n"));
    CHECK(contains(text, "dW2   = (λ / m) dJ_L2 ⊙ W2 + dZ2 · A1ᵀ\n"));

    // m is read on every forward: the penalty follows the batch.
    xg::Graph<double> only;
    auto Xo = only.input(randn(3, 4, rng), "X");
    auto P = xg::l2_penalty(Xo, std::vector<xg::Var<double>>{only.parameter(W2)}, lambda);
    double s2 = 0;
    for (double v : w2) s2 += v * v;
    CHECK(P.value()(0, 0) == doctest::Approx(lambda / (2 * 4.0) * s2).epsilon(1e-14));
    only.set_value(Xo, randn(3, 2, rng));
    only.forward();
    CHECK(P.value()(0, 0) == doctest::Approx(lambda / (2 * 2.0) * s2).epsilon(1e-14));
}

TEST_CASE("l2_penalty: bad input is refused, naming the op, and nothing is added") {
    std::mt19937_64 rng(7);
    xg::Graph<double> g, other;
    auto X = g.input(randn(2, 5, rng), "X");
    auto W = g.parameter(randn(3, 2, rng), "W1");
    xg::Parameter<double> stranger(randn(2, 2, rng), "W9");
    const std::size_t size = g.size();
    const std::string m1 = message_of<xg::GraphError>([&] {
        xg::l2_penalty(X, std::vector<xg::Parameter<double>>{g.parameter_of(W.id()), stranger}, 0.1);
    });
    CHECK(contains(m1, "l2_penalty(X"));
    CHECK(contains(m1, "W9 [2x2] is not in the graph of X"));
    const std::string m2 = message_of<xg::ValueError>([&] { xg::l2_penalty(X, std::vector<xg::Var<double>>{W}, -1.0); });
    CHECK(contains(m2, "l2_penalty(X, W1)"));
    CHECK(contains(m2, "lambda"));
    CHECK(contains(message_of<xg::ValueError>([&] { xg::l2_penalty(X, std::vector<xg::Var<double>>{}, 0.1); }),
                   "no weights"));
    auto V = other.parameter(randn(2, 2, rng), "V");
    CHECK(contains(message_of<xg::GraphError>([&] { xg::l2_penalty(X, std::vector<xg::Var<double>>{W, V}, 0.1); }),
                   "another graph"));
    CHECK(g.size() == size);
}

TEST_CASE("weight decay: gradient descent and AdamW shrink W by α λ W before their update") {
    std::mt19937_64 rng(8);
    const Matrix<double> w0 = randn(3, 2, rng), gW = randn(3, 2, rng), b0 = randn(3, 1, rng), gb = randn(3, 1, rng);
    xg::Parameter<double> W(w0, "W"), b(b0, "b");
    W.grad() = gW;
    b.grad() = gb;
    const double alpha = 0.1, lambda = 0.5;

    xg::GradientDescent<double> sgd({W, b}, alpha);
    sgd.set_weight_decay(lambda, {W});
    CHECK(sgd.weight_decay(0) == lambda);
    CHECK(sgd.weight_decay(1) == 0.0);
    sgd.step();
    CHECK(max_abs_diff(W.value(), Matrix<double>((1 - alpha * lambda) * w0 - alpha * gW)) < 1e-15);
    CHECK(max_abs_diff(b.value(), Matrix<double>(b0 - alpha * gb)) < 1e-15);  // not decayed
    CHECK(contains(sgd.describe(), "weight decay λ = 0.5 on 1 of 2 parameters"));

    // AdamW at t = 1: v̂ = dW, ŝ = dW², so W ← (1 − α λ) W − α dW / (|dW| + ε).
    W.value() = w0;
    xg::AdamW<double> adamw({W}, alpha, lambda);
    adamw.step();
    Matrix<double> expect(w0.shape());
    for (std::size_t k = 0; k < w0.size(); ++k) {
        const double g = gW.data()[k];
        expect.data()[k] = (1 - alpha * lambda) * w0.data()[k] - alpha * g / (std::fabs(g) + 1e-8);
    }
    CHECK(max_abs_diff(W.value(), expect) < 1e-12);
    CHECK(adamw.describe().rfind("AdamW(α = 0.1", 0) == 0);
    CHECK(contains(adamw.describe(), "weight decay λ = 0.5"));

    // Adam with an L2 term in the gradient is a different rule: its decay is divided by √ŝ.
    W.value() = w0;
    W.grad() = gW + lambda * w0;
    xg::Adam<double> adam_l2({W}, alpha);
    adam_l2.step();
    CHECK(max_abs_diff(W.value(), expect) > 1e-3);

    CHECK(contains(message_of<xg::ValueError>([&] { sgd.set_weight_decay(-1); }), "decay"));
    xg::Parameter<double> stray(randn(1, 1, rng), "stray");
    CHECK(contains(message_of<xg::ValueError>([&] { sgd.set_weight_decay(0.1, {stray}); }), "stray"));
    CHECK(sgd.weight_decay(0) == lambda);  // the refused call changed nothing
}

// ---- batch and layer normalisation ----------------------------------------------------------

TEST_CASE("batch_norm: values, and dX against the compact formula to float64 round-off and finite differences") {
    std::mt19937_64 rng(9);
    for (const auto& nm : {std::pair<std::size_t, std::size_t>{3, 7}, {1, 2}, {5, 40}}) {
        const std::size_t n = nm.first, m = nm.second;
        CAPTURE(n);
        CAPTURE(m);
        xg::Graph<double> g;
        auto X = g.parameter(randn(n, m, rng, 2.0), "X");
        auto gamma = g.parameter(randn(n, 1, rng), "γ");
        auto beta = g.parameter(randn(n, 1, rng), "β");
        auto Y = xg::batch_norm(X, gamma, beta);
        const Stats s = stats_of(X.value(), true);
        Matrix<double> y(X.value().shape());
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < m; ++j) y(i, j) = gamma.value()(i, 0) * s.xhat(i, j) + beta.value()(i, 0);
        CHECK(max_abs_diff(Y.value(), y) < 1e-13);

        const Matrix<double> w = randn(n, m, rng);
        auto J = weighted(Y, w);
        g.backward(J);
        // dx = (1/m) · γ / σ · (m · dy − Σ dy − x̂ ⊙ Σ(dy ⊙ x̂)), each row.
        Matrix<double> dx(w.shape()), dgamma({n, 1}), dbeta({n, 1});
        for (std::size_t i = 0; i < n; ++i) {
            double sg = 0, sgx = 0;
            for (std::size_t j = 0; j < m; ++j) {
                sg += w(i, j);
                sgx += w(i, j) * s.xhat(i, j);
            }
            for (std::size_t j = 0; j < m; ++j) {
                dx(i, j) = gamma.value()(i, 0) / s.sigma(i, 0) * (double(m) * w(i, j) - sg - s.xhat(i, j) * sgx) / double(m);
            }
            dgamma(i, 0) = sgx;
            dbeta(i, 0) = sg;
        }
        CHECK(max_abs_diff(X.grad(), dx) <= 1e-13 * std::max(1.0, max_abs_diff(dx, Matrix<double>(0 * dx))));
        CHECK(max_abs_diff(gamma.grad(), dgamma) < 1e-12);
        CHECK(max_abs_diff(beta.grad(), dbeta) < 1e-12);
        check_grads(g, J);
    }
}

TEST_CASE("layer_norm: values, and dX against the compact formula to float64 round-off and finite differences") {
    std::mt19937_64 rng(10);
    for (const auto& nm : {std::pair<std::size_t, std::size_t>{4, 6}, {2, 1}, {30, 3}}) {
        const std::size_t n = nm.first, m = nm.second;
        CAPTURE(n);
        CAPTURE(m);
        xg::Graph<double> g;
        auto X = g.parameter(randn(n, m, rng, 2.0), "X");
        auto gamma = g.parameter(randn(n, 1, rng), "γ");
        auto beta = g.parameter(randn(n, 1, rng), "β");
        auto Y = xg::layer_norm(X, gamma, beta);
        const Stats s = stats_of(X.value(), false);
        Matrix<double> y(X.value().shape());
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < m; ++j) y(i, j) = gamma.value()(i, 0) * s.xhat(i, j) + beta.value()(i, 0);
        CHECK(max_abs_diff(Y.value(), y) < 1e-13);

        const Matrix<double> w = randn(n, m, rng);
        auto J = weighted(Y, w);
        g.backward(J);
        // dx = (1/n) (n γ ⊙ dy − Σ_rows (γ ⊙ dy) − x̂ ⊙ Σ_rows (γ ⊙ dy ⊙ x̂)) / σ, each column.
        Matrix<double> dx(w.shape());
        for (std::size_t j = 0; j < m; ++j) {
            double a = 0, b = 0;
            for (std::size_t i = 0; i < n; ++i) {
                a += gamma.value()(i, 0) * w(i, j);
                b += gamma.value()(i, 0) * w(i, j) * s.xhat(i, j);
            }
            for (std::size_t i = 0; i < n; ++i) {
                dx(i, j) = (double(n) * gamma.value()(i, 0) * w(i, j) - a - s.xhat(i, j) * b) / s.sigma(0, j) / double(n);
            }
        }
        CHECK(max_abs_diff(X.grad(), dx) <= 1e-13 * std::max(1.0, max_abs_diff(dx, Matrix<double>(0 * dx))));
        check_grads(g, J);
    }
}

TEST_CASE("batch_norm: running averages — the first batch, then momentum; evaluation uses them") {
    std::mt19937_64 rng(11);
    xg::Graph<double> g;
    const Matrix<double> x1 = randn(2, 6, rng, 3.0), x2 = randn(2, 6, rng, 3.0);
    auto X = g.input(x1, "X");
    auto gamma = g.parameter(Matrix<double>{{2.0}, {0.5}}, "γ");
    auto beta = g.parameter(Matrix<double>{{1.0}, {-1.0}}, "β");
    xg::RunningStats<double> run(2, 0.25);
    auto Y = xg::batch_norm(X, gamma, beta, run).named("Y");
    const auto var_of = [](const Matrix<double>&, const Stats& s, std::size_t i) {
        return s.sigma(i, 0) * s.sigma(i, 0) - 1e-5;
    };
    const Stats s1 = stats_of(x1, true);
    CHECK(run.batches.value()(0, 0) == 1.0);
    for (std::size_t i = 0; i < 2; ++i) {
        CHECK(run.mean.value()(i, 0) == doctest::Approx(s1.mu(i, 0)).epsilon(1e-14));
        CHECK(run.variance.value()(i, 0) == doctest::Approx(var_of(x1, s1, i)).epsilon(1e-10));
    }
    g.set_value(X, x2);
    g.forward();
    const Stats s2 = stats_of(x2, true);
    CHECK(run.batches.value()(0, 0) == 2.0);
    for (std::size_t i = 0; i < 2; ++i) {
        CHECK(run.mean.value()(i, 0) == doctest::Approx(0.75 * s1.mu(i, 0) + 0.25 * s2.mu(i, 0)).epsilon(1e-14));
        CHECK(run.variance.value()(i, 0) ==
              doctest::Approx(0.75 * var_of(x1, s1, i) + 0.25 * var_of(x2, s2, i)).epsilon(1e-10));
    }
    // Holding the random state leaves the averages alone.
    g.hold_random_state(true);
    g.forward();
    CHECK(run.batches.value()(0, 0) == 2.0);
    g.hold_random_state(false);

    // Evaluation: the running averages, for any number of columns (one too).
    g.set_mode(xg::Mode::evaluation);
    const Matrix<double> x3 = randn(2, 1, rng);
    g.set_value(X, x3);
    g.forward();
    for (std::size_t i = 0; i < 2; ++i) {
        const double sd = std::sqrt(run.variance.value()(i, 0) + 1e-5);
        CHECK(Y.value()(i, 0) ==
              doctest::Approx(gamma.value()(i, 0) * (x3(i, 0) - run.mean.value()(i, 0)) / sd + beta.value()(i, 0)));
    }
    CHECK(run.batches.value()(0, 0) == 2.0);  // evaluation updates nothing
    check_grads(g, weighted(Y, randn(2, 1, rng)));
}

TEST_CASE("batch_norm and layer_norm: bad input is refused with typed errors naming the op and nodes") {
    std::mt19937_64 rng(12);
    xg::Graph<double> g;
    auto X = g.input(randn(3, 4, rng), "Z1");
    auto x1 = g.input(randn(3, 1, rng), "z");
    auto gamma = g.parameter(Matrix<double>(xt::ones<double>({3, 1})), "γ1");
    auto beta = g.parameter(Matrix<double>(xt::zeros<double>({3, 1})), "β1");
    auto wrong = g.parameter(randn(2, 1, rng), "γ2");
    const std::size_t size = g.size();
    const std::string one = message_of<xg::ValueError>([&] { xg::batch_norm(x1, gamma, beta); });
    CHECK(contains(one, "batch_norm(z, γ1, β1)"));
    CHECK(contains(one, "a batch of one column in training mode"));
    CHECK(contains(message_of<xg::ShapeError>([&] { xg::batch_norm(X, wrong, beta); }), "batch_norm(Z1, γ2, β1)"));
    xg::RunningStats<double> fresh(3);
    g.set_mode(xg::Mode::evaluation);
    const std::string before = message_of<xg::ValueError>([&] { xg::batch_norm(X, gamma, beta, fresh); });
    CHECK(contains(before, "batch_norm(Z1, γ1, β1)"));
    CHECK(contains(before, "before any running averages exist"));
    CHECK(contains(message_of<xg::ValueError>([&] { xg::batch_norm(X, gamma, beta); }), "keeps none"));
    CHECK(contains(message_of<xg::ShapeError>([&] { xg::batch_norm(X, gamma, beta, xg::RunningStats<double>(2)); }),
                   "running_mean [2x1]"));
    CHECK(contains(message_of<xg::ValueError>([&] { xg::batch_norm(X, gamma, beta, 0.0); }), "epsilon"));
    CHECK(contains(message_of<xg::ValueError>([] { xg::RunningStats<double>(3, 1.5); }), "momentum"));
    auto row = g.input(randn(1, 4, rng), "r");
    auto g1 = g.parameter(Matrix<double>{{1.0}}, "g1");
    auto b1 = g.parameter(Matrix<double>{{0.0}}, "b1");
    const size_t size2 = g.size();
    CHECK(contains(message_of<xg::ShapeError>([&] { xg::layer_norm(row, g1, b1); }), "layer_norm(r, g1, b1): r has one row"));
    CHECK(g.size() == size2);
    CHECK(size2 == size + 3);
    CHECK(fresh.batches.value()(0, 0) == 0.0);
}

// ---- layers -------------------------------------------------------------------------------

TEST_CASE("Sequential with Dropout, BatchNorm and LayerNorm: training graph, summary, evaluation, checkpoints") {
    std::mt19937_64 rng(13);
    xg::Sequential<double> model(2, 5);
    model.add(8, xg::Activation::identity)
        .add_batch_norm(xg::Activation::relu)
        .add_dropout(0.75)
        .add(6, xg::Activation::identity)
        .add_layer_norm(xg::Activation::tanh)
        .add(1, xg::Activation::sigmoid);
    CHECK(model.describe() ==
          "2 -> 8 identity -> batchnorm relu -> dropout 0.75 -> 6 identity -> layernorm tanh -> 1 sigmoid (113 parameters)");
    const std::string summary = model.summary();
    INFO(summary);
    CHECK(contains(summary, "BatchNorm 8, momentum 0.1, relu"));
    CHECK(contains(summary, "Dropout 8, keep_prob 0.75"));
    CHECK(contains(summary, "LayerNorm 6, tanh"));
    CHECK(contains(summary, "running averages (not trained)"));
    CHECK(contains(summary, " 17\n"));
    CHECK(model.state_count() == 17);
    CHECK(model.parameters().size() == 10);
    CHECK(model.checkpoint_parameters().size() == 13);
    CHECK(model.checkpoint_parameters()[10].name() == "running_mean2");

    xg::Graph<double> g;
    auto X = g.input(randn(2, 16, rng), "X");
    auto Y = g.input(labels01(1, 16, rng), "Y");
    auto J = binary_cross_entropy(model(X), Y);
    CHECK(J.value()(0, 0) > 0);
    check_grads(g, J);  // through dropout (held) and both normalisations

    // predict evaluates: dropout off (the same answer twice), batch norm on its averages.
    const Matrix<double> x = randn(2, 5, rng);
    const Matrix<double> p1 = model.predict(x), p2 = model.predict(x);
    CHECK(p1 == p2);
    Matrix<double> first_column({2, 1});
    first_column(0, 0) = x(0, 0);
    first_column(1, 0) = x(1, 0);
    const Matrix<double> single = model.predict(first_column);
    CHECK(single(0, 0) == doctest::Approx(p1(0, 0)).epsilon(1e-12));  // evaluation does not mix the columns

    TempDir dir;
    xg::save_parameters(dir.path().string(), model.checkpoint_parameters());
    xg::Sequential<double> copy(2, 99);
    copy.add(8, xg::Activation::identity)
        .add_batch_norm(xg::Activation::relu)
        .add_dropout(0.75)
        .add(6, xg::Activation::identity)
        .add_layer_norm(xg::Activation::tanh)
        .add(1, xg::Activation::sigmoid);
    CHECK(contains(message_of<xg::ValueError>([&] { copy.predict(x); }), "before any running averages exist"));
    xg::load_parameters(dir.path().string(), copy.checkpoint_parameters());
    CHECK(copy.predict(x) == p1);

    // A model whose batch norm has seen no training batch refuses to evaluate.
    xg::Sequential<double> untrained(2, 1);
    untrained.add(3, xg::Activation::identity).add_batch_norm();
    CHECK(contains(message_of<xg::ValueError>([&] { untrained.predict(x); }), "before any running averages exist"));
    CHECK(contains(message_of<xg::ValueError>([&] { untrained.add_dropout(0.0); }), "keep_prob"));
    CHECK(contains(message_of<xg::ValueError>([&] { untrained.add(1, xg::Activation::identity).add_layer_norm(); }),
                   "at least 2"));
}

// ---- allocation-free replays ----------------------------------------------------------------

TEST_CASE("replayed training steps with dropout, batch norm, layer norm and an L2 penalty allocate nothing") {
    std::mt19937_64 rng(14);
    xg::Sequential<double> model(3, 2);
    model.add(16, xg::Activation::identity)
        .add_batch_norm(xg::Activation::relu)
        .add_dropout(0.8)
        .add(8, xg::Activation::identity)
        .add_layer_norm(xg::Activation::relu)
        .add(1, xg::Activation::sigmoid);
    xg::Graph<double> g;
    auto X = g.input(randn(3, 64, rng), "X");
    auto Y = g.input(labels01(1, 64, rng), "Y");
    auto cost = binary_cross_entropy(model(X), Y);  // first: the penalty's weights must be in the graph
    auto J = cost + xg::l2_penalty(X, std::vector<xg::Parameter<double>>{model.dense(0).W, model.dense(3).W}, 0.1);
    xg::AdamW<double> opt(model.parameters(), 0.01, 0.01);
    const auto step = [&] {
        g.forward();
        g.backward(J);
        opt.step();
    };
    step();
    const long before = allocation_count();
    for (int k = 0; k < 50; ++k) step();
    CHECK(allocation_count() - before == 0);
}

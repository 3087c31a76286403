// Engine semantics: creation order, replay, gradient modes, parameters shared
// across graphs, names, formulas.
#include <doctest/doctest.h>

#include <map>
#include <random>
#include <utility>

#include "helpers.hpp"

using xg::Matrix;
using namespace xgt;

TEST_CASE("building computes values at once; nodes live in creation order") {
    xg::Graph<double> g;
    auto a = g.input(Matrix<double>{{1, 2}, {3, 4}}, "a");
    auto b = g.parameter(Matrix<double>{{10}, {20}}, "b");
    auto c = (a + b).named("c");
    CHECK(c.value() == Matrix<double>{{11, 12}, {23, 24}});
    CHECK(g.size() == 3);
    CHECK(g.kind(a.id()) == xg::NodeKind::input);
    CHECK(g.kind(b.id()) == xg::NodeKind::parameter);
    CHECK(g.kind(c.id()) == xg::NodeKind::op);
    CHECK(g.inputs(c.id()) == std::vector<std::uint32_t>{a.id(), b.id()});
    CHECK(c.id() > a.id());
    CHECK(c.name() == "c");
    CHECK(tanh(c).name() == "t3");
    CHECK_FALSE(g.requires_grad(a.id()));
    CHECK(g.requires_grad(c.id()));
}

TEST_CASE("forward() replays from the current leaves") {
    xg::Graph<double> g;
    xg::Parameter<double> w(Matrix<double>{{2}}, "w");
    auto x = g.input(Matrix<double>{{1, 2, 3}}, "x");
    auto y = matmul(g.parameter(w), x);
    CHECK(y.value() == Matrix<double>{{2, 4, 6}});
    w.value()(0, 0) = 3;
    CHECK(y.value() == Matrix<double>{{2, 4, 6}});  // unchanged until replay
    g.forward();
    CHECK(y.value() == Matrix<double>{{3, 6, 9}});
    g.set_value(x, Matrix<double>{{1, 1, 1, 1}});
    g.forward();
    CHECK(y.value() == Matrix<double>{{3, 3, 3, 3}});
}

TEST_CASE("backward overwrites parameter gradients by default, accumulates on request") {
    std::mt19937_64 rng(1);
    xg::Graph<double> g;
    auto W = g.parameter(randn(2, 3, rng), "W");
    auto X = g.input(randn(3, 4, rng), "X");
    auto J = weighted_sum(tanh(matmul(W, X)), rng);
    g.backward(J);
    const Matrix<double> once = W.grad();
    g.backward(J);
    CHECK(W.grad() == once);  // overwritten, not doubled
    g.backward(J, xg::GradMode::accumulate);
    CHECK(rel_err(W.grad(), Matrix<double>(2.0 * once)) <= 1e-15);
    g.parameter_of(W.id()).zero_grad();
    CHECK(W.grad() == Matrix<double>(xt::zeros<double>({2, 3})));
    g.backward(J, xg::GradMode::accumulate);
    CHECK(W.grad() == once);
}

TEST_CASE("accumulating over two mini-batches equals the gradient of their sum") {
    std::mt19937_64 rng(2);
    xg::Parameter<double> W(randn(2, 3, rng), "W");
    const Matrix<double> X1 = randn(3, 5, rng), X2 = randn(3, 5, rng);
    const Matrix<double> Y1 = labels01(2, 5, rng), Y2 = labels01(2, 5, rng);
    xg::Graph<double> g;
    auto X = g.input(X1, "X"), Y = g.input(Y1, "Y");
    auto J = binary_cross_entropy(sigmoid(matmul(g.parameter(W), X)), Y);
    W.zero_grad();
    g.backward(J, xg::GradMode::accumulate);
    g.set_value(X, X2);
    g.set_value(Y, Y2);
    g.forward();
    g.backward(J, xg::GradMode::accumulate);
    const Matrix<double> acc = W.grad();

    // The same from one graph over both batches: J1 + J2 = 2 · J(all) (m doubles).
    xg::Graph<double> h;
    auto Xall = h.input(xt::concatenate(xt::xtuple(X1, X2), 1), "X");
    auto Yall = h.input(xt::concatenate(xt::xtuple(Y1, Y2), 1), "Y");
    auto Jall = binary_cross_entropy(sigmoid(matmul(h.parameter(W), Xall)), Yall);
    h.backward(Jall);
    CHECK(rel_err(acc, Matrix<double>(2.0 * W.grad())) <= 1e-13);
}

TEST_CASE("a Parameter outlives graphs; one leaf per Parameter per graph") {
    std::mt19937_64 rng(3);
    xg::Parameter<double> W(randn(2, 2, rng), "W");
    {
        xg::Graph<double> g;
        auto w1 = g.parameter(W);
        auto w2 = g.parameter(W);
        CHECK(w1.id() == w2.id());
        CHECK(w1.name() == "W");
        auto J = weighted_sum(matmul(w1, w2), rng);
        g.backward(J);
        // Gradient of Σ R ⊙ (W W) is R Wᵀ + Wᵀ R: both uses counted.
    }
    CHECK(W.grad().size() == 4);
    xg::Graph<double> inference;
    auto y = matmul(inference.parameter(W), inference.input(Matrix<double>{{1}, {0}}));
    CHECK(y.value()(0, 0) == W.value()(0, 0));
    CHECK(inference.parameters().size() == 1);
}

TEST_CASE("intermediate gradients are kept for inspection") {
    std::mt19937_64 rng(4);
    xg::Graph<double> g;
    auto W = g.parameter(randn(3, 2, rng), "W");
    auto X = g.input(randn(2, 6, rng), "X");
    auto Z = matmul(W, X).named("Z");
    auto A = tanh(Z).named("A");
    auto J = weighted_sum(A, rng);
    g.backward(J);
    // dZ = dA ⊙ (1 − A²)
    const Matrix<double> expect = A.grad() * (1.0 - A.value() * A.value());
    CHECK(rel_err(Z.grad(), expect) <= 1e-15);
    CHECK(J.grad()(0, 0) == 1.0);
    CHECK(g.has_grad(A.id()));
    CHECK_FALSE(g.has_grad(X.id()));
}

TEST_CASE("op formulas render in Unicode, ASCII and LaTeX") {
    using namespace xg::sym;
    xg::Graph<double> g;
    auto W = g.parameter(Matrix<double>{{1}}, "W2");
    auto A = g.input(Matrix<double>{{1}}, "A1");
    auto Z = matmul(W, A);
    const xg::Op<double>* mm = g.op(Z.id());
    const Names names{{"W2", "A1"}, "Z2", "dZ2"};
    CHECK(render(mm->formula(), names) == "W2 · A1");
    CHECK(render(mm->grad_formula(0), names) == "dZ2 · A1ᵀ");
    CHECK(render(mm->grad_formula(1), names) == "W2ᵀ · dZ2");
    CHECK(render(mm->grad_formula(1), names, Style::ascii) == "W2.T @ dZ2");
    CHECK(render(mm->grad_formula(1), names, Style::latex) == "W_{2}^\\top \\cdot dZ_{2}");

    auto T = tanh(Z);
    const Names tn{{"Z1"}, "A1", "dA1"};
    CHECK(render(g.op(T.id())->grad_formula(0), tn) == "dA1 ⊙ (1 − A1²)");
    CHECK(render(g.op(T.id())->grad_formula(0), tn, Style::ascii) == "dA1 * (1 - A1^2)");

    auto Y = g.input(Matrix<double>{{1}}, "Y");
    auto J = binary_cross_entropy(sigmoid(Z), Y);
    const xg::Op<double>* bce = g.op(J.id());
    const Names bn{{"A2", "Y", "Z2"}, "J", "dJ"};
    CHECK(render(with_unit_grad(bce->grad_formula(2)), bn) == "(A2 − Y) / m");
    CHECK(render(bce->formula(), bn) == "−(1 / m) Σ(Y ⊙ log(A2) + (1 − Y) ⊙ log(1 − A2))");
    const Names xy{{"x", "y"}, "z", "dz"};
    CHECK(render(-(in(0) - in(1)) / (2.0 * m()), xy) == "−(x − y) / (2 m)");
    CHECK(render(in(0) - (in(1) - in(0)), xy, Style::ascii) == "x - (y - x)");
    CHECK(render(dot(in(0), in(1)) * grad(), xy) == "(x · y) ⊙ dz");
    CHECK(render(with_unit_grad(grad() * out()), xy) == "z");
}

TEST_CASE("an identity gradient shares its consumer's buffer and reads the same numbers") {
    std::mt19937_64 rng(6);
    xg::Graph<double> g;
    auto W = g.parameter(randn(3, 2, rng), "W");
    auto b = g.parameter(randn(3, 1, rng), "b");
    auto X = g.input(randn(2, 5, rng), "X");
    auto t = matmul(W, X);            // unnamed; its only consumer is the add
    auto Z = (t + b).named("Z");
    auto J = weighted_sum(tanh(Z), rng);
    g.backward(J);
    CHECK(t.grad() == Z.grad());
    CHECK(&t.grad() == &Z.grad());    // one buffer
    // With a second consumer, t gets its own gradient: dt = dZ + d(tanh t).
    auto J2 = weighted_sum(tanh(Z) + tanh(t), rng);
    g.backward(J2);
    CHECK(&t.grad() != &Z.grad());
    for (auto& p : g.parameters()) CHECK(grad_rel_err(p.grad(), fd_grad(g, J2, p)) <= 1e-6);
    g.backward(J);  // back to the first loss: the alias returns
    CHECK(&t.grad() == &Z.grad());
}

TEST_CASE("numeric-debug mode names the first node with a non-finite value or gradient") {
    xg::Graph<double> g;
    g.check_numerics(true);
    CHECK(g.checking_numerics());
    auto x = g.parameter(Matrix<double>{{1.0, 2.0}}, "x");
    auto big = g.input(Matrix<double>{{1e308, 1.0}}, "big");
    try {
        (big + big).named("sum");
        FAIL("no exception");
    } catch (const xg::ValueError& e) {
        CHECK(std::string(e.what()) == "numeric check: add(big, big) [1x2] computed a non-finite value at (0, 0) = inf");
    }
    CHECK(g.size() == 2);  // the failing node was not added

    // A finite value whose gradient overflows: J = Σ w ⊙ (x + x) with w = 1e308
    // and tiny x; dy = w is finite, dx = 2 w is not.
    auto tiny = g.parameter(Matrix<double>{{1e-300, 1e-300}}, "tiny");
    auto y = (tiny + tiny).named("y");
    auto J = g.apply(std::make_shared<const WeightedSum<double>>(Matrix<double>{{1e308, 1e308}}), {y}).named("J");
    try {
        g.backward(J);
        FAIL("no exception");
    } catch (const xg::ValueError& e) {
        CHECK(std::string(e.what()) ==
              "numeric check: the backward of y = add(tiny, tiny) gave a non-finite gradient for tiny [1x2] at (0, 0) = inf");
    }
    g.check_numerics(false);
    CHECK_NOTHROW(g.backward(J));  // off: no check
    CHECK(std::isinf(tiny.grad()(0, 0)));
    (void)x;
}

namespace {
/// An op that takes two scratch matrices in one forward and writes through
/// the first after asking for the second.
class TwoScratch final : public xg::Op<double> {
public:
    std::string name() const override { return "two_scratch"; }
    xg::Shape shape(const xg::ShapeContext& c) const override { return c.shape(0); }
    void forward(const xg::ForwardContext<double>& c) const override {
        Matrix<double>& a = c.scratch(0, c.in(0).shape());
        Matrix<double>& b = c.scratch(1, c.in(0).shape());
        for (std::size_t k = 0; k < a.size(); ++k) {
            a.data()[k] = 2 * c.in(0)[k];
            b.data()[k] = a.data()[k] + 1;
            c.out()[k] = b.data()[k];
        }
    }
    void backward(xg::BackwardContext<double>& c) const override { c.pass_through(0, 2.0); }
    xg::sym::Expr formula() const override { return 2.0 * xg::sym::in(0) + xg::sym::num(1); }
    xg::sym::Expr grad_formula(std::size_t) const override { return 2.0 * xg::sym::grad(); }
};
}  // namespace

TEST_CASE("scratch matrices stay valid while an op asks for more") {
    xg::Graph<double> g;
    auto x = g.parameter(Matrix<double>{{1, 2, 3}}, "x");
    auto y = g.apply(std::make_shared<const TwoScratch>(), {x});
    CHECK(y.value() == Matrix<double>{{3, 5, 7}});
    g.forward();
    CHECK(y.value() == Matrix<double>{{3, 5, 7}});
}

TEST_CASE("backward refuses values computed from leaves that changed since: set_value, optimiser steps") {
    // J = Σ (W X)²: dW = 2 (W X) Xᵀ, which mixes the stored W X with the current X.
    xg::Graph<double> g;
    xg::Parameter<double> w(Matrix<double>{{1.0}}, "W");
    auto W = g.parameter(w);
    auto X = g.input(Matrix<double>{{10.0}}, "X");
    auto J = sum(square(matmul(W, X)));
    g.backward(J);
    CHECK(w.grad()(0, 0) == doctest::Approx(200.0));  // 2 · 10 · 10

    // New data of the same shape: the stored W X is still 10, X is now 30.
    g.set_value(X, Matrix<double>{{30.0}});
    try {
        g.backward(J);
        FAIL("backward ran on stale values");
    } catch (const xg::GraphError& e) {
        const std::string m = e.what();
        CHECK(m.find("input X") != std::string::npos);
        CHECK(m.find("set_value") != std::string::npos);
        CHECK(m.find("forward()") != std::string::npos);
    }
    CHECK(w.grad()(0, 0) == doctest::Approx(200.0));  // nothing changed
    g.forward();
    g.backward(J);
    CHECK(w.grad()(0, 0) == doctest::Approx(1800.0));  // 2 · 30 · 30, not the mixed 2 · 10 · 30

    // An optimiser step writes the parameter through value().
    xg::GradientDescent<double> sgd(g.parameters(), 1e-3);
    sgd.step();
    try {
        g.backward(J);
        FAIL("backward ran after an optimiser step without forward()");
    } catch (const xg::GraphError& e) {
        const std::string m = e.what();
        CHECK(m.find("parameter W") != std::string::npos);
        CHECK(m.find("Parameter::value()") != std::string::npos);
    }
    g.forward();
    CHECK_NOTHROW(g.backward(J));

    // Reading through a const handle is not a write.
    const std::uint64_t v = w.version();
    CHECK(std::as_const(w).value()(0, 0) == doctest::Approx(1.0 - 1.8));
    CHECK(w.version() == v);
    CHECK_NOTHROW(g.backward(J));
    w.value();  // write access, even if nothing is written
    CHECK(w.version() == v + 1);
    CHECK_THROWS_AS(g.backward(J), xg::GraphError);

    // The explicit opt-out: differentiate the values as recorded.
    g.accept_changed_leaves();
    CHECK_NOTHROW(g.backward(J));
}

TEST_CASE("a leaf outside the loss's graph may change without a forward()") {
    xg::Graph<double> g;
    auto W = g.parameter(Matrix<double>{{2.0}}, "W");
    auto X = g.input(Matrix<double>{{3.0}}, "X");
    auto other = g.input(Matrix<double>{{1.0}}, "other");
    auto J = sum(matmul(W, X));
    auto K = sum(matmul(W, other));
    g.set_value(other, Matrix<double>{{5.0}});
    CHECK_NOTHROW(g.backward(J));  // J does not read `other`
    CHECK(W.grad()(0, 0) == 3.0);
    CHECK_THROWS_AS(g.backward(K), xg::GraphError);
}

TEST_CASE("absurd sizes are a ShapeError before anything is allocated") {
    // A custom op that declares a 2^33 × 2^31 output: rows · cols · 8 bytes overflows.
    class Huge final : public xg::Op<double> {
    public:
        std::string name() const override { return "huge"; }
        xg::Shape shape(const xg::ShapeContext&) const override { return {std::size_t(1) << 33, std::size_t(1) << 31}; }
        void forward(const xg::ForwardContext<double>&) const override {}
        void backward(xg::BackwardContext<double>&) const override {}
        xg::sym::Expr formula() const override { return xg::sym::in(0); }
        xg::sym::Expr grad_formula(std::size_t) const override { return xg::sym::grad(); }
    };
    class Empty final : public xg::Op<double> {
    public:
        std::string name() const override { return "nothing"; }
        xg::Shape shape(const xg::ShapeContext&) const override { return {0, 3}; }
        void forward(const xg::ForwardContext<double>&) const override {}
        void backward(xg::BackwardContext<double>&) const override {}
        xg::sym::Expr formula() const override { return xg::sym::in(0); }
        xg::sym::Expr grad_formula(std::size_t) const override { return xg::sym::grad(); }
    };
    xg::Graph<double> g;
    auto X = g.input(Matrix<double>{{1.0}}, "X");
    try {
        g.apply(std::make_shared<const Huge>(), {X});
        FAIL("no exception");
    } catch (const xg::ShapeError& e) {
        const std::string m = e.what();
        CHECK(m.find("huge(X)") != std::string::npos);
        CHECK(m.find("8589934592x2147483648") != std::string::npos);
    }
    try {
        g.apply(std::make_shared<const Empty>(), {X});
        FAIL("no exception");
    } catch (const xg::ShapeError& e) {
        CHECK(std::string(e.what()).find("nothing(X): the op's shape() gave an empty output [0x3]") != std::string::npos);
    }
    CHECK(g.size() == 1);
    // Helpers that make matrices of a user-given shape check it too.
    try {
        (void)xg::one_hot(Matrix<double>{{0, 1}}, std::size_t(1) << 62);
        FAIL("no exception");
    } catch (const xg::ShapeError& e) {
        CHECK(std::string(e.what()).find("one_hot(labels, 4611686018427387904)") != std::string::npos);
    }
    xg::Rng rng(1);
    CHECK_THROWS_AS(xg::randn<double>(std::size_t(1) << 40, std::size_t(1) << 40, rng), xg::ShapeError);
    CHECK(xg::checked_size({3, 4}, 8, "x") == 12);
    CHECK_THROWS_AS(xg::checked_size({std::size_t(1) << 62, 4}, 1, "x"), xg::ShapeError);
    CHECK_THROWS_AS(xg::checked_size({std::size_t(1) << 31, std::size_t(1) << 31}, 8, "x"), xg::ShapeError);
}

namespace {

/// A small net whose every kind of buffer changes with the batch size m:
/// input values and (requires_grad) gradient, op values and gradients, a
/// broadcast sink (s · A with s 1 × 1) and the scratch of the softmax loss.
struct BatchNet {
    xg::Parameter<double> W, b, s, V;
    xg::Graph<double> g;
    xg::Var<double> X, Y, J;
    BatchNet(const xg::Parameter<double>& W_, const xg::Parameter<double>& b_, const xg::Parameter<double>& s_,
             const xg::Parameter<double>& V_, const Matrix<double>& x, const Matrix<double>& y)
        : W(W_), b(b_), s(s_), V(V_) {
        X = g.input(x, "X", /*requires_grad=*/true);
        Y = g.input(y, "Y");
        auto A = g.parameter(s) * tanh(matmul(g.parameter(W), X) + g.parameter(b));
        J = softmax_cross_entropy(matmul(g.parameter(V), A), Y);
    }
};

}  // namespace

TEST_CASE("a graph alternating between two batch sizes computes what a fresh graph computes, in its first buffers") {
    std::mt19937_64 rng(31);
    const xg::Parameter<double> W(randn(4, 3, rng), "W"), b(randn(4, 1, rng), "b"), s(Matrix<double>{{0.7}}, "s"),
        V(randn(3, 4, rng), "V");
    const std::size_t sizes[] = {5, 2, 5, 2, 5, 2};
    auto batch = [&](std::size_t m) {
        Matrix<double> y({1, m});
        for (std::size_t j = 0; j < m; ++j) y(0, j) = double(j % 3);
        return std::pair<Matrix<double>, Matrix<double>>(randn(3, m, rng), y);
    };
    auto [x0, y0] = batch(5);
    BatchNet net(W, b, s, V, x0, y0);
    const Matrix<double>* value_object = &net.X.value();
    std::map<std::size_t, std::pair<const double*, const double*>> buffers;  // per m: X's value and gradient
    for (std::size_t m : sizes) {
        CAPTURE(m);
        auto [x, y] = batch(m);
        net.g.set_value(net.X, x);
        net.g.set_value(net.Y, y);
        net.g.forward();
        net.g.backward(net.J);
        // What a graph built on this batch computes.
        const xg::Parameter<double> W2(W.value(), "W"), b2(b.value(), "b"), s2(s.value(), "s"), V2(V.value(), "V");
        BatchNet fresh(W2, b2, s2, V2, x, y);
        fresh.g.backward(fresh.J);
        CHECK(net.J.value()(0, 0) == doctest::Approx(fresh.J.value()(0, 0)).epsilon(1e-14));
        CHECK(net.X.value() == x);
        CHECK(xt::allclose(net.X.grad(), fresh.X.grad(), 1e-13, 1e-15));
        CHECK(xt::allclose(W.grad(), W2.grad(), 1e-13, 1e-15));
        CHECK(xt::allclose(b.grad(), b2.grad(), 1e-13, 1e-15));
        CHECK(xt::allclose(s.grad(), s2.grad(), 1e-13, 1e-15));
        CHECK(xt::allclose(V.grad(), V2.grad(), 1e-13, 1e-15));
        // The Matrix a reference points to stays; its buffer is the one this
        // size had the first time (swapped back, not reallocated).
        CHECK(&net.X.value() == value_object);
        const std::pair<const double*, const double*> now{net.X.value().data(), net.X.grad().data()};
        if (buffers.count(m)) {
            CHECK(buffers[m] == now);
        } else {
            buffers[m] = now;
        }
    }
    CHECK(buffers[5].first != buffers[2].first);
}

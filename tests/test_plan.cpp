// The backward plan and the op contract: one plan, computed by the engine and
// read by explain; buffer sharing decided by Op::gradient_is_identity, never
// by the printed formula; every contribution's overwrite-or-add decision.
#include <doctest/doctest.h>

#include <random>

#include "helpers.hpp"

using xg::GradWrite;
using xg::Matrix;
using xg::Var;
using namespace xgt;

namespace {

/// y = 2 x, whose printed gradient formula claims "dx = dy" (a display
/// mistake) and whose contract says nothing: the engine must not trust the text.
class DoubleWithWrongFormula final : public xg::Op<double> {
public:
    std::string name() const override { return "double_it"; }
    xg::Shape shape(const xg::ShapeContext& c) const override {
        c.require_arity(1);
        return c.shape(0);
    }
    void forward(const xg::ForwardContext<double>& c) const override {
        for (std::size_t k = 0; k < c.in(0).size(); ++k) c.out()[k] = 2 * c.in(0)[k];
    }
    void backward(xg::BackwardContext<double>& c) const override {
        c.grad(0).store([&](std::size_t k) { return 2 * c.dout()[k]; });
    }
    xg::sym::Expr formula() const override { return xg::sym::in(0); }
    xg::sym::Expr grad_formula(std::size_t) const override { return xg::sym::grad(); }
};

/// y = x, declared an identity for its input: the engine may share buffers.
class Identity final : public xg::Op<double> {
public:
    std::string name() const override { return "identity"; }
    xg::Shape shape(const xg::ShapeContext& c) const override {
        c.require_arity(1);
        return c.shape(0);
    }
    void forward(const xg::ForwardContext<double>& c) const override {
        std::copy(c.in(0).data, c.in(0).data + c.in(0).size(), c.out().data);
    }
    void backward(xg::BackwardContext<double>& c) const override { c.pass_through(0); }
    xg::sym::Expr formula() const override { return xg::sym::in(0); }
    xg::sym::Expr grad_formula(std::size_t) const override { return xg::sym::grad(); }
    bool gradient_is_identity(std::size_t) const override { return true; }
};

/// An op that forgot one of its formulas (grad_formula when grad_only, else formula).
class NoFormula final : public xg::Op<double> {
public:
    explicit NoFormula(bool grad_only) : grad_only_(grad_only) {}
    std::string name() const override { return "mystery"; }
    xg::Shape shape(const xg::ShapeContext& c) const override { return c.shape(0); }
    void forward(const xg::ForwardContext<double>& c) const override {
        std::copy(c.in(0).data, c.in(0).data + c.in(0).size(), c.out().data);
    }
    void backward(xg::BackwardContext<double>& c) const override { c.pass_through(0); }
    xg::sym::Expr formula() const override { return grad_only_ ? xg::sym::in(0) : nullptr; }
    xg::sym::Expr grad_formula(std::size_t) const override { return grad_only_ ? nullptr : xg::sym::grad(); }

private:
    bool grad_only_;
};

struct TwoLayer {
    xg::Graph<double> g;
    Var<double> X, Y, W1, b1, W2, b2, t1, Z1, A1, t2, Z2, A2, J;
    explicit TwoLayer(std::mt19937_64& rng) {
        X = g.input(randn(2, 5, rng), "X");
        Y = g.input(labels01(1, 5, rng), "Y");
        W1 = g.parameter(randn(4, 2, rng), "W1");
        b1 = g.parameter(randn(4, 1, rng), "b1");
        W2 = g.parameter(randn(1, 4, rng), "W2");
        b2 = g.parameter(randn(1, 1, rng), "b2");
        t1 = matmul(W1, X);
        Z1 = (t1 + b1).named("Z1");
        A1 = tanh(Z1).named("A1");
        t2 = matmul(W2, A1);
        Z2 = (t2 + b2).named("Z2");
        A2 = sigmoid(Z2).named("A2");
        J = binary_cross_entropy(A2, Y).named("J");
    }
};

}  // namespace

TEST_CASE("the plan of the two-layer network: reach, visit order, writes, broadcast sinks, shared buffers") {
    std::mt19937_64 rng(1);
    TwoLayer n(rng);
    const xg::BackwardPlan& p = n.g.backward_plan(n.J.id());
    CHECK(p.loss == n.J.id());
    // Every node is an ancestor of J; all but the data reach a gradient.
    for (std::uint32_t id = 0; id <= n.J.id(); ++id) CHECK(p.in_graph[id] == 1);
    CHECK(p.reach[n.X.id()] == 0);
    CHECK(p.reach[n.Y.id()] == 0);
    for (auto v : {n.W1, n.b1, n.W2, n.b2, n.t1, n.Z1, n.A1, n.t2, n.Z2, n.J}) CHECK(p.reach[v.id()] == 1);
    // The cross-entropy on σ(Z2) differentiates Z2 directly: A2 gets no gradient.
    CHECK(p.reach[n.A2.id()] == 0);
    // Visits: the op nodes with a gradient, consumers first.
    std::vector<std::uint32_t> order;
    for (const auto& v : p.visits) order.push_back(v.node);
    CHECK(order == std::vector<std::uint32_t>{n.J.id(), n.Z2.id(), n.t2.id(), n.A1.id(), n.Z1.id(), n.t1.id()});
    // Each gradient has one contribution here, so every edge overwrites; the biases are broadcast sinks.
    for (const auto& e : p.edges) {
        CAPTURE(e.input);
        CHECK(e.write == GradWrite::overwrite);
        CHECK(e.broadcast == (e.input == n.b1.id() || e.input == n.b2.id()));
        CHECK(p.contribution_count(e.input) == 1);
    }
    // t1 = W1 · X and t2 share the gradient buffers of Z1 and Z2 (add passes dZ on unchanged).
    CHECK(p.grad_owner[n.t1.id()] == n.Z1.id());
    CHECK(p.grad_owner[n.t2.id()] == n.Z2.id());
    CHECK(p.shares_gradient(n.t1.id()));
    CHECK_FALSE(p.shares_gradient(n.Z1.id()));
    CHECK_FALSE(p.shares_gradient(n.W1.id()));  // parameters keep their own gradient
    n.g.backward(n.J);
    CHECK(&n.t1.grad() == &n.Z1.grad());
    CHECK(&n.t2.grad() == &n.Z2.grad());
}

TEST_CASE("the plan: a node read twice by one op is zeroed once and added to by both edges") {
    std::mt19937_64 rng(2);
    xg::Graph<double> g;
    auto W = g.parameter(randn(3, 3, rng), "W");
    auto S = matmul(W, W);  // W read twice by one op
    auto T = (tanh(W) * W);
    auto J = sum(S + T);
    const xg::BackwardPlan& p = g.backward_plan(J.id());
    std::vector<GradWrite> into_w;
    for (std::uint32_t k : p.edges_into(W.id())) into_w.push_back(p.edges[k].write);
    // Sweep order: mul (reads tanh(W) and W), then tanh, then matmul (W twice).
    CHECK(into_w == std::vector<GradWrite>{GradWrite::overwrite, GradWrite::accumulate, GradWrite::accumulate,
                                           GradWrite::accumulate});
    auto J2 = sum(matmul(W, W));
    const xg::BackwardPlan& p2 = g.backward_plan(J2.id());
    std::vector<GradWrite> first;
    for (std::uint32_t k : p2.edges_into(W.id())) first.push_back(p2.edges[k].write);
    CHECK(first == std::vector<GradWrite>{GradWrite::zero_then_accumulate, GradWrite::accumulate});
    for (auto* loss : {&J, &J2}) {
        g.backward(*loss);
        for (auto& q : g.parameters()) CHECK(grad_rel_err(q.grad(), fd_grad(g, *loss, q)) <= 1e-7);
    }
    // Accumulating into the parameter: nothing is zeroed.
    g.backward(J2);
    const Matrix<double> once = W.grad();
    g.backward(J2, xg::GradMode::accumulate);
    CHECK(rel_err(W.grad(), Matrix<double>(2.0 * once)) <= 1e-15);
}

TEST_CASE("the plan is the engine's: explain prints a line exactly where the engine keeps a gradient") {
    std::mt19937_64 rng(3);
    TwoLayer n(rng);
    const xg::Explanation e = xg::derive(n.J);
    const xg::BackwardPlan& p = n.g.backward_plan(n.J.id());
    for (const xg::Equation& q : e.backward) {
        CAPTURE(q.lhs);
        CHECK(p.reach[q.node] == 1);
        CHECK_FALSE(p.shares_gradient(q.node));  // a shared gradient is written as its owner's
    }
    // Every reached node either has its own line, or is an unnamed node that
    // shares its consumer's buffer, or is the loss (its 1 is in the formulas).
    std::size_t lines = 0;
    for (std::uint32_t id = 0; id <= n.J.id(); ++id) {
        if (!p.reach[id]) continue;
        const bool has_line = std::any_of(e.backward.begin(), e.backward.end(),
                                          [&](const xg::Equation& q) { return q.node == id; });
        CHECK(has_line != (p.shares_gradient(id) || id == n.J.id()));
        lines += has_line;
    }
    CHECK(lines == e.backward.size());
}

TEST_CASE("a custom op whose formula says 'the incoming gradient' but computes 2g: the engine follows the kernel") {
    std::mt19937_64 rng(4);
    xg::Graph<double> g;
    auto W = g.parameter(randn(3, 2, rng), "W");
    auto X = g.input(randn(2, 4, rng), "X");
    auto t = matmul(W, X);
    auto D = g.apply(std::make_shared<const DoubleWithWrongFormula>(), {t});
    auto J = weighted_sum(tanh(D), rng);
    const xg::BackwardPlan& p = g.backward_plan(J.id());
    CHECK_FALSE(p.shares_gradient(t.id()));  // the default contract: no sharing
    g.backward(J);
    CHECK(&t.grad() != &D.grad());
    CHECK(rel_err(t.grad(), Matrix<double>(2.0 * D.grad())) <= 1e-15);
    CHECK(grad_rel_err(W.grad(), fd_grad(g, J, g.parameter_of(W.id()))) <= 1e-7);
    // explain prints the (wrong) formula, but gives t a line of its own: it is
    // not folded into D's gradient, because the engine does not share it.
    const std::string text = xg::explain(J, {xg::sym::Style::ascii});
    CHECK(text.find("dt" + std::to_string(t.id()) + " = ") != std::string::npos);
}

TEST_CASE("a custom op that declares gradient_is_identity shares its input's gradient buffer") {
    std::mt19937_64 rng(5);
    xg::Graph<double> g;
    auto V = g.parameter(randn(3, 2, rng), "V");
    auto X = g.input(randn(2, 4, rng), "X");
    auto t = matmul(V, X);
    auto I = g.apply(std::make_shared<const Identity>(), {t}, "I");
    auto J = weighted_sum(tanh(I), rng);
    g.backward(J);
    CHECK(g.backward_plan(J.id()).shares_gradient(t.id()));
    CHECK(&t.grad() == &I.grad());
    CHECK(grad_rel_err(V.grad(), fd_grad(g, J, g.parameter_of(V.id()))) <= 1e-7);
    const std::string text = xg::explain(J, {xg::sym::Style::ascii});
    CAPTURE(text);
    CHECK(text.find("= dI @ X.T") != std::string::npos);   // dV is written with I's gradient
    CHECK(text.find("dt" + std::to_string(t.id())) == std::string::npos);  // t has no line of its own
}

TEST_CASE("a custom op with an empty formula: explain and to_dot throw a GraphError naming it") {
    for (bool grad_only : {false, true}) {
        CAPTURE(grad_only);
        xg::Graph<double> g;
        auto W = g.parameter(Matrix<double>{{1, 2}}, "W");
        auto M = g.apply(std::make_shared<const NoFormula>(grad_only), {W}, "M");
        auto J = sum(M);
        g.backward(J);  // the engine never reads formulas
        CHECK(W.grad() == Matrix<double>{{1, 1}});
        const std::string want = grad_only ? "grad_formula(0)" : "formula()";
        for (int k = 0; k < 2; ++k) {
            try {
                if (k == 0) (void)xg::explain(J);
                else (void)xg::to_dot(J);
                FAIL("no exception");
            } catch (const xg::GraphError& e) {
                const std::string m = e.what();
                CHECK(m.find("mystery") != std::string::npos);
                CHECK(m.find("M") != std::string::npos);
                CHECK(m.find(want) != std::string::npos);
            }
        }
    }
}

TEST_CASE("backward_plan refuses a non-scalar loss; a growing graph keeps the plan of an earlier loss valid") {
    std::mt19937_64 rng(6);
    TwoLayer n(rng);
    CHECK_THROWS_AS(n.g.backward_plan(n.Z1.id()), xg::GraphError);
    n.g.backward(n.J);
    const Matrix<double> dW1 = n.W1.grad();
    auto extra = sum(square(n.A1));  // later nodes are not ancestors of J
    (void)extra;
    n.g.backward(n.J);
    CHECK(n.W1.grad() == dW1);
}

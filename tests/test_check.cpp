// The gradient checker itself: it passes correct gradients, catches wrong
// ones (and says where), leaves the graph as it found it, and refuses what it
// cannot check.
#include <doctest/doctest.h>

#include <random>
#include <sstream>

#include "helpers.hpp"

using xg::Matrix;
using namespace xgt;

namespace {

/// softsign y = x / (1 + |x|), dy/dx = 1 / (1 + |x|)², with a backward that
/// can be made wrong: scaled by `factor`, or at one entry only, or with the
/// square forgotten.
enum class Bug { none, factor, one_entry, no_square };

class Softsign final : public xg::Op<double> {
public:
    explicit Softsign(Bug bug = Bug::none, double factor = 1) : bug_(bug), factor_(factor) {}
    std::string name() const override { return "softsign"; }
    xg::Shape shape(const xg::ShapeContext& c) const override {
        c.require_arity(1);
        return c.shape(0);
    }
    void forward(const xg::ForwardContext<double>& c) const override {
        for (std::size_t k = 0; k < c.in(0).size(); ++k) c.out()[k] = c.in(0)[k] / (1 + std::fabs(c.in(0)[k]));
    }
    void backward(xg::BackwardContext<double>& c) const override {
        const auto x = c.in(0), g = c.dout();
        c.grad(0).store([&](std::size_t k) {
            const double d = 1 + std::fabs(x[k]);
            double v = g[k] / (d * d);
            if (bug_ == Bug::factor) v *= factor_;
            if (bug_ == Bug::one_entry && k == 4) v *= factor_;
            if (bug_ == Bug::no_square) v = g[k] / d;
            return v;
        });
    }
    xg::sym::Expr formula() const override { return xg::sym::in(0) / (1.0 + xg::sym::fn({"abs", "abs", "abs"}, xg::sym::in(0))); }
    xg::sym::Expr grad_formula(std::size_t) const override {
        return xg::sym::grad() / xg::sym::square(1.0 + xg::sym::fn({"abs", "abs", "abs"}, xg::sym::in(0)));
    }

private:
    Bug bug_;
    double factor_;
};

xg::Var<double> softsign(xg::Var<double> x, Bug bug = Bug::none, double factor = 1) {
    return x.graph().apply(std::make_shared<const Softsign>(bug, factor), {x});
}

/// A small network with a softsign layer: J = mse(W2 softsign(W1 X + b1), Y).
struct Net {
    xg::Graph<double> g;
    xg::Var<double> W1, b1, W2, X, J;
    Net(Bug bug, double factor, std::uint64_t seed = 7) {
        std::mt19937_64 rng(seed);
        X = g.input(randn(3, 6, rng), "X");
        W1 = g.parameter(randn(4, 3, rng), "W1");
        b1 = g.parameter(randn(4, 1, rng), "b1");
        W2 = g.parameter(randn(2, 4, rng), "W2");
        auto Y = g.input(randn(2, 6, rng), "Y");
        J = mean_squared_error(matmul(W2, softsign(matmul(W1, X) + b1, bug, factor)), Y).named("J");
    }
};

}  // namespace

TEST_CASE("a correct backward passes: one entry per parameter, in creation order") {
    Net net(Bug::none, 1);
    const xg::GradCheckReport r = xg::check_gradients(net.g, net.J);
    INFO(r.str());
    CHECK(r.ok());
    REQUIRE(r.entries.size() == 3);
    CHECK(r.entries[0].name == "W1");
    CHECK(r.entries[1].name == "b1");
    CHECK(r.entries[2].name == "W2");
    CHECK(r.entries[0].shape == xg::Shape{4, 3});
    for (const auto& e : r.entries) {
        CHECK(e.ok);
        CHECK(e.max_rel_err <= 1e-7);
        CHECK(e.max_abs_err <= 1e-8);
    }
    CHECK(r.max_rel_err() == r.worst()->max_rel_err);
    CHECK_NOTHROW(xg::require_gradients_ok(net.g, net.J));
}

TEST_CASE("a wrong backward is caught, with the parameter, the entry and both numbers") {
    SUBCASE("the square forgotten") {
        Net net(Bug::no_square, 1);
        const xg::GradCheckReport r = xg::check_gradients(net.g, net.J);
        CHECK_FALSE(r.ok());
        CHECK_FALSE(r.entries[0].ok);  // W1 and b1 sit before the softsign
        CHECK_FALSE(r.entries[1].ok);
        CHECK(r.entries[2].ok);  // W2 comes after it: unaffected
        CHECK(r.worst()->max_rel_err > 0.1);
    }
    SUBCASE("wrong at one entry only: the report points at it") {
        Net good(Bug::none, 1), bad(Bug::one_entry, 1.5);
        good.g.backward(good.J);
        const xg::GradCheckReport r = xg::check_gradients(bad.g, bad.J);
        CHECK_FALSE(r.ok());
        // Entry 4 of the 4 × 6 softsign input is Z1(0, 4): it feeds b1(0, 0) and row 0 of W1.
        const xg::GradCheckEntry& b1 = r.entries[1];
        CHECK_FALSE(b1.ok);
        CHECK(b1.worst_row == 0);
        CHECK(b1.worst_col == 0);
        CHECK(b1.numeric == doctest::Approx(good.b1.grad()(0, 0)).epsilon(1e-7));
        CHECK(b1.analytic == bad.b1.grad()(0, 0));
        CHECK(b1.analytic != doctest::Approx(b1.numeric).epsilon(1e-3));
        CHECK(b1.max_abs_err == doctest::Approx(std::fabs(b1.analytic - b1.numeric)));
        CHECK(r.entries[0].worst_row == 0);
    }
    SUBCASE("a small error: caught by the default tolerance, let through by a loose one") {
        Net net(Bug::factor, 1 + 1e-4);
        const xg::GradCheckReport strict = xg::check_gradients(net.g, net.J);
        CHECK_FALSE(strict.ok());
        CHECK(strict.worst()->max_rel_err == doctest::Approx(1e-4).epsilon(1e-2));
        xg::GradCheckOptions loose;
        loose.rtol = 1e-3;
        CHECK(xg::check_gradients(net.g, net.J, loose).ok());
    }
    SUBCASE("require_gradients_ok throws the report") {
        Net net(Bug::factor, -1);  // wrong sign
        try {
            xg::require_gradients_ok(net.g, net.J);
            FAIL("no exception");
        } catch (const xg::GradientCheckError& e) {
            const std::string msg = e.what();
            CHECK(msg == e.report().str());
            CHECK(contains(msg, "FAILED for 2 of 3 parameters"));
            CHECK(contains(msg, "\n  W1 [4x3]: max abs err "));
            CHECK(contains(msg, "\n  W2 [2x4]: max abs err "));
            CHECK_FALSE(e.report().ok());
        }
        CHECK_THROWS_AS(xg::require_gradients_ok(net.g, net.J, {net.b1}), xg::GradientCheckError);
        CHECK_NOTHROW(xg::require_gradients_ok(net.g, net.J, {net.W2}));
    }
}

TEST_CASE("the report reads as documented") {
    xg::Graph<double> g;
    auto W = g.parameter(Matrix<double>{{0.5}}, "W");
    auto J = sum(softsign(W, Bug::factor, 2.0));
    const xg::GradCheckReport r = xg::check_gradients(g, J);
    // dJ/dW = 1 / (1 + |w|)² = 4/9; the backward doubles it.
    CHECK(r.str() ==
          "gradient check, central differences with h = 1e-06, pass when |analytic - numeric| <= max(1e-05 "
          "max(|analytic|, |numeric|), 1e-07): FAILED for 1 of 1 parameter\n"
          "  W [1x1]: max abs err 0.44, max rel err 0.5 at (0, 0): analytic 0.888889, numeric 0.444444  FAILED");
    std::ostringstream os;
    os << r;
    CHECK(os.str() == r.str());
}

TEST_CASE("the checker leaves values as they were and gradients as backward() computes them") {
    Net net(Bug::none, 1);
    const Matrix<double> w1 = net.W1.value(), j = net.J.value();
    net.g.backward(net.J);
    const Matrix<double> dw1 = net.W1.grad();
    CHECK(xg::check_gradients(net.g, net.J).ok());
    CHECK(net.W1.value() == w1);
    CHECK(net.J.value() == j);
    CHECK(net.W1.grad() == dw1);
}

TEST_CASE("which leaves: every parameter, a chosen few, unreached ones, and what cannot be checked") {
    Net net(Bug::none, 1);
    const xg::GradCheckReport r = xg::check_gradients(net.g, net.J, {net.W2, net.W1, net.W2});
    REQUIRE(r.entries.size() == 2);  // each once, in creation order
    CHECK(r.entries[0].name == "W1");
    CHECK(r.entries[1].name == "W2");

    // A parameter the loss does not depend on: its gradient is 0, and so is the finite difference.
    auto unused = net.g.parameter(Matrix<double>{{1.0, 2.0}}, "unused");
    const xg::GradCheckReport r2 = xg::check_gradients(net.g, net.J, {unused});
    CHECK(r2.ok());
    CHECK(r2.entries[0].max_abs_err == 0.0);

    std::string msg = message_of<xg::GraphError>([&] { xg::check_gradients(net.g, net.J, {net.X}); });
    CHECK(contains(msg, "check_gradients: the input X carries no gradient; make it with g.input(value, name, true)"));
    msg = message_of<xg::GraphError>([&] { xg::check_gradients(net.g, net.J, {net.J}); });
    CHECK(contains(msg, "J is not a leaf"));
    xg::Graph<double> other;
    auto p = other.parameter(Matrix<double>{{1.0}}, "p");
    CHECK(contains(message_of<xg::GraphError>([&] { xg::check_gradients(net.g, net.J, {p}); }), "another graph"));
    CHECK(contains(message_of<xg::GraphError>([&] { xg::check_gradients(other, net.J); }), "another graph"));
    // The loss must be 1 × 1.
    auto big = tanh(p + other.input(Matrix<double>{{1.0, 2.0}}));
    CHECK(contains(message_of<xg::GraphError>([&] { xg::check_gradients(other, big); }), "must be a 1x1 node"));
}

TEST_CASE("an error raised by a perturbed forward is passed on, with the values restored") {
    xg::Graph<double> g;
    auto P = g.parameter(Matrix<double>{{1.0, 1e-7}}, "P");  // log(1e-7 − h) is out of its domain
    auto J = sum(log(P));
    CHECK_THROWS_AS(xg::check_gradients(g, J), xg::ValueError);
    CHECK(P.value() == Matrix<double>{{1.0, 1e-7}});
    CHECK(J.value()(0, 0) == doctest::Approx(std::log(1e-7)));
    // A step below the distance to the edge of the domain works (the truncation
    // error of log at 1e-7 then needs a looser tolerance).
    xg::GradCheckOptions small;
    small.step = 1e-10;
    small.rtol = 1e-4;
    const xg::GradCheckReport r = xg::check_gradients(g, J, small);
    INFO(r.str());
    CHECK(r.ok());
}

TEST_CASE("an input made with requires_grad gets a gradient, and the checker checks it") {
    std::mt19937_64 rng(31);
    xg::Graph<double> g;
    auto W = g.parameter(randn(3, 4, rng), "W");
    auto X = g.input(randn(4, 6, rng), "X", true);
    auto J = weighted_sum(tanh(matmul(W, X)), rng);
    g.backward(J);
    REQUIRE(g.has_grad(X.id()));
    // dX = Wᵀ · (dA ⊙ (1 − A²)), with dA the weighted sum's weights.
    const xg::GradCheckReport r = xg::check_gradients(g, J, {X, W});
    CHECK(r.ok());
    REQUIRE(r.entries.size() == 2);
    CHECK(r.entries[1].name == "X");
    CHECK(r.max_rel_err() < 1e-6);
    const Matrix<double> x0 = X.value();
    xg::check_gradients(g, J, {X});
    CHECK(X.value() == x0);  // restored
}

TEST_CASE("detach: the checker differentiates what backward() does, so a correct graph passes") {
    std::mt19937_64 rng(41);
    xg::Graph<double> g;
    auto W = g.parameter(randn(3, 3, rng), "W");
    auto V = g.parameter(randn(3, 2, rng), "V");
    auto X = g.input(randn(3, 2, rng), "X", true);

    // J = Σ C ⊙ (W ⊙ detach(W)) V: backward() gives dW = (C Vᵀ) ⊙ W (detach(W)
    // is a constant), where differences that see through detach give twice that.
    auto C = g.input(randn(3, 2, rng), "C");
    auto J = sum(C * matmul(W * xg::detach(W), V)).named("J");
    const xg::GradCheckReport r = xg::check_gradients(g, J);
    INFO(r.str());
    CHECK(r.ok());
    REQUIRE(r.entries.size() == 2);
    CHECK(r.entries[0].max_rel_err < 1e-7);

    // A frozen first layer, as in transfer learning: W's gradient is 0, and so
    // is the difference, while V and the data X (through the live path) check.
    auto frozen = xg::detach(tanh(matmul(W, X)));
    auto J2 = weighted_sum(tanh(matmul(xg::transpose(V), frozen) + matmul(xg::transpose(V), X)), rng).named("J2");
    const xg::GradCheckReport r2 = xg::check_gradients(g, J2, {W, V, X});
    INFO(r2.str());
    CHECK(r2.ok());
    REQUIRE(r2.entries.size() == 3);
    CHECK(r2.entries[0].name == "W");
    CHECK(r2.entries[0].max_abs_err == 0.0);  // neither backward() nor the differences move W
    CHECK(r2.entries[2].name == "X");
    g.backward(J2);
    CHECK(g.has_grad(X.id()));

    // The values are as they were, and a replay still sees through nothing new.
    const Matrix<double> j2 = J2.value();
    g.forward();
    CHECK(J2.value() == j2);
}

TEST_CASE("detach: a wrong backward after a detach is still caught") {
    std::mt19937_64 rng(43);
    xg::Graph<double> g;
    auto W = g.parameter(randn(2, 3, rng), "W");
    auto X = g.input(randn(3, 4, rng), "X");
    auto C = g.input(randn(2, 4, rng), "C");
    auto Z = matmul(W, X);
    // softsign with the square forgotten, fed by a live path and a detached one.
    auto J = sum(C * (softsign(Z, Bug::no_square) + xg::detach(Z) * Z)).named("J");
    const xg::GradCheckReport r = xg::check_gradients(g, J);
    INFO(r.str());
    CHECK_FALSE(r.ok());
    REQUIRE(r.entries.size() == 1);
    CHECK(r.entries[0].max_rel_err > 1e-2);

    // The same with a correct softsign passes.
    auto J_right = sum(C * (softsign(Z) + xg::detach(Z) * Z)).named("J_right");
    const xg::GradCheckReport right = xg::check_gradients(g, J_right);
    INFO(right.str());
    CHECK(right.ok());
}

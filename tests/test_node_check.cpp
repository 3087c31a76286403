// check_nodes: every op node's backward on its own against central
// differences; a wrong custom op deep in a network is found by its name and
// equation, which the end-to-end gradient check cannot say.
#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <random>

#include <xgrad/xgrad.hpp>

namespace {

using Matrix = xg::Matrix<double>;

/// y = x³, dx = 3 g ⊙ x²; `wrong` forgets the square (3 g ⊙ x).
class Cube final : public xg::Op<double> {
public:
    explicit Cube(bool wrong) : wrong_(wrong) {}
    std::string name() const override { return "cube"; }
    xg::Shape shape(const xg::ShapeContext& c) const override {
        c.require_arity(1);
        return c.shape(0);
    }
    void forward(const xg::ForwardContext<double>& c) const override {
        for (std::size_t k = 0; k < c.in(0).size(); ++k) c.out()[k] = std::pow(c.in(0)[k], 3);
    }
    void backward(xg::BackwardContext<double>& c) const override {
        const auto x = c.in(0), g = c.dout();
        c.grad(0).store([&](std::size_t k) { return 3 * g[k] * (wrong_ ? x[k] : x[k] * x[k]); });
    }
    xg::sym::Expr formula() const override { return xg::sym::pow(xg::sym::in(0), 3); }
    xg::sym::Expr grad_formula(std::size_t) const override {
        return 3.0 * (xg::sym::grad() * xg::sym::square(xg::sym::in(0)));
    }

private:
    bool wrong_;
};

Matrix normal(std::size_t r, std::size_t c, std::mt19937_64& rng) {
    std::normal_distribution<double> n(0.0, 1.0);
    Matrix a({r, c});
    for (double& v : a) v = n(rng);
    return a;
}

/// X → tanh → cube → σ, cross-entropy; the cube node is "C".
struct Net {
    xg::Graph<double> g;
    xg::Var<double> J;
    explicit Net(bool wrong, std::size_t hidden = 4) {
        std::mt19937_64 rng(5);
        auto X = g.input(normal(3, 6, rng), "X");
        Matrix y({1, 6});
        for (std::size_t j = 0; j < 6; ++j) y(0, j) = double(j % 2);
        auto Y = g.input(y, "Y");
        auto W1 = g.parameter(normal(hidden, 3, rng), "W1");
        auto b1 = g.parameter(normal(hidden, 1, rng), "b1");
        auto W2 = g.parameter(normal(1, hidden, rng), "W2");
        auto b2 = g.parameter(normal(1, 1, rng), "b2");
        auto A1 = tanh((matmul(W1, X) + b1).named("Z1")).named("A1");
        auto C = g.apply(std::make_shared<const Cube>(wrong), {A1}, "C");
        auto Z2 = (matmul(W2, C) + b2).named("Z2");
        J = binary_cross_entropy(sigmoid(Z2).named("A2"), Y).named("J");
    }
};

}  // namespace

TEST_CASE("check_nodes: every backward of a correct network passes") {
    Net net(false);
    const xg::NodeCheckReport r = xg::check_nodes(net.g, net.J);
    INFO(r.str());
    CHECK(r.ok());
    CHECK(r.first_failure() == nullptr);
    // matmul (2 inputs), add (2), tanh, cube, matmul (2), add (2), sigmoid, the loss (its prediction).
    CHECK(r.entries.size() == 12);
    bool saw_cube = false;
    for (const xg::NodeCheckEntry& e : r.entries) {
        CHECK(e.checked > 0);
        CHECK(e.max_rel_err <= 1e-5);
        if (e.name == "C") {
            saw_cube = true;
            CHECK(e.op == "cube");
            CHECK(e.equation == "C = A1³");
            CHECK(e.gradient == "dA1 = 3 dC ⊙ A1²");
        }
    }
    CHECK(saw_cube);
    CHECK(r.str().find("ok (12 node inputs)") != std::string::npos);
}

TEST_CASE("check_nodes finds a wrong custom op by its name and equation") {
    Net net(true);
    // The end-to-end check sees wrong parameter gradients, not which op is wrong.
    CHECK_FALSE(xg::check_gradients(net.g, net.J).ok());
    const xg::NodeCheckReport r = xg::check_nodes(net.g, net.J);
    INFO(r.str());
    CHECK_FALSE(r.ok());
    const xg::NodeCheckEntry* f = r.first_failure();
    REQUIRE(f != nullptr);
    CHECK(f->name == "C");
    CHECK(f->op == "cube");
    CHECK(f->input_name == "A1");
    CHECK(f->max_rel_err > 1e-3);
    // Only the cube fails: the ops it feeds are right whatever it computes.
    std::size_t failed = 0;
    for (const xg::NodeCheckEntry& e : r.entries) failed += e.ok ? 0 : 1;
    CHECK(failed == 1);
    CHECK(r.str().find("the first wrong backward: C = A1³ (op cube)") != std::string::npos);
    CHECK(r.str().find("FAILED for 1 of 12 node inputs") != std::string::npos);
}

TEST_CASE("check_nodes samples the entries of a large input and leaves the graph as it was") {
    Net net(false, 40);
    const double before = net.J.value()(0, 0);
    xg::NodeCheckOptions o;
    o.max_entries = 10;
    const xg::NodeCheckReport r = xg::check_nodes(net.g, net.J, o);
    INFO(r.str());
    CHECK(r.ok());
    for (const xg::NodeCheckEntry& e : r.entries) {
        if (e.name == "C") CHECK(e.checked == 10);        // 40 × 6 entries, 10 sampled
        if (e.input_name == "b2") CHECK(e.checked == 1);  // 1 × 1: all of it
    }
    CHECK(net.J.value()(0, 0) == before);
}

TEST_CASE("check_nodes refuses a loss of another graph") {
    Net a(false), b(false);
    CHECK_THROWS_AS(xg::check_nodes(a.g, b.J), xg::GraphError);
    xg::NodeCheckOptions o;
    o.step = 0;
    CHECK_THROWS_AS(xg::check_nodes(a.g, a.J, o), xg::GraphError);
}

// Examples of docs/derive.md and the reference pages docs/reference/derivation.md
// and docs/reference/node_check.md:
//
//   derivation builder   check_derivation with a network builder, and the report's fields
//   derivation graph     check_derivation on one graph
//   derivation parse     parse_expression, parse_equations and a ParseError
//   derivation nodes     check_nodes finding a wrong custom op
//
// Without an argument, every section in turn.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <random>
#include <string>

#include <xgrad/xgrad.hpp>

namespace {

xg::Matrix<double> normal(std::size_t r, std::size_t c, std::mt19937_64& rng) {
    std::normal_distribution<double> n(0.0, 1.0);
    xg::Matrix<double> a({r, c});
    for (double& v : a) v = n(rng);
    return a;
}

// A network builder: the same named nodes at the sizes of a probe.
xg::DerivationNetwork logistic(const xg::DerivationProbe& p) {
    std::mt19937_64 rng(p.seed);
    auto g = std::make_unique<xg::Graph<double>>();
    const std::size_t n = p.sizes[0], m = p.examples;
    xg::Matrix<double> labels({1, m});
    for (std::size_t j = 0; j < m; ++j) labels(0, j) = double(rng() % 2);
    auto X = g->input(normal(n, m, rng), "X");
    auto Y = g->input(labels, "Y");
    auto w = g->parameter(normal(1, n, rng), "w");
    auto b = g->parameter(normal(1, 1, rng), "b");
    auto Z = (matmul(w, X) + b).named("Z");
    auto A = sigmoid(Z).named("A");
    auto J = binary_cross_entropy(A, Y).named("J");
    return {std::move(g), J};
}

void builder_section() {
    const std::vector<xg::TypedEquation> eqs = xg::parse_equations(
        "dZ = A - Y\n"
        "dw = dZ . X^T        # the 1/m forgotten\n"
        "db = 1/m * sum_columns(dZ)\n");
    const xg::DerivationReport r = xg::check_derivation(logistic, eqs);
    std::cout << r;

    const xg::EquationCheck* wrong = r.first_wrong();
    if (wrong && wrong->mistake == xg::Mistake::factor_m) std::cout << "fix " << wrong->equation.lhs << ": " << wrong->hint << "\n";
}

void graph_section() {
    xg::DerivationProbe p;
    p.examples = 4;
    p.sizes = {3};
    xg::DerivationNetwork net = logistic(p);
    xg::DerivationOptions options;
    options.convention = xg::Convention::autodiff;  // every dX is ∂J/∂X
    const auto eqs = xg::parse_equations("dZ = (A - Y) / m; dw = dZ @ X.T; db = sum(dZ, axis=1, keepdims=True)");
    std::cout << xg::check_derivation(*net.graph, net.loss, eqs, options);
}

void parse_section() {
    const xg::sym::Expr e = xg::parse_expression("1/m * dZ1 . X^T");
    std::cout << xg::sym::render(e, {}) << "\n";
    std::cout << xg::sym::render(e, {}, xg::sym::Style::ascii) << "\n";
    try {
        xg::parse_equations("dZ2 = A2 - Y\ndW2 = 1/m * dZ2 .. A1^T\n");
    } catch (const xg::ParseError& err) {
        std::cout << err.what() << "\n";
        std::cout << "line " << err.line() << ", column " << err.column() << "\n";
    }
}

// y = x³, with a backward that forgets the square: dx = 3 g ⊙ x.
class WrongCube final : public xg::Op<double> {
public:
    std::string name() const override { return "cube"; }
    xg::Shape shape(const xg::ShapeContext& c) const override {
        c.require_arity(1);
        return c.shape(0);
    }
    void forward(const xg::ForwardContext<double>& c) const override {
        for (std::size_t k = 0; k < c.in(0).size(); ++k) c.out()[k] = std::pow(c.in(0)[k], 3);
    }
    void backward(xg::BackwardContext<double>& c) const override {
        c.grad(0).store([&](std::size_t k) { return 3 * c.dout()[k] * c.in(0)[k]; });  // should be x²
    }
    xg::sym::Expr formula() const override { return xg::sym::pow(xg::sym::in(0), 3); }
    xg::sym::Expr grad_formula(std::size_t) const override {
        return 3.0 * (xg::sym::grad() * xg::sym::square(xg::sym::in(0)));
    }
};

void nodes_section() {
    std::mt19937_64 rng(3);
    xg::Graph<double> g;
    auto X = g.input(normal(2, 4, rng), "X");
    auto Y = g.input(xg::Matrix<double>{{1, 0, 0, 1}}, "Y");
    auto W1 = g.parameter(normal(3, 2, rng), "W1");
    auto W2 = g.parameter(normal(1, 3, rng), "W2");
    auto H = tanh(matmul(W1, X)).named("H");
    auto C = g.apply(std::make_shared<const WrongCube>(), {H}, "C");
    auto J = binary_cross_entropy_with_logits(matmul(W2, C).named("Z"), Y).named("J");

    const xg::NodeCheckReport r = xg::check_nodes(g, J);
    std::cout << r;
    if (const xg::NodeCheckEntry* f = r.first_failure()) std::cout << "wrong: " << f->equation << "\n";
}

}  // namespace

int main(int argc, char** argv) {
    const std::string what = argc > 1 ? argv[1] : "";
    const struct {
        const char* name;
        void (*run)();
    } sections[] = {{"builder", builder_section}, {"graph", graph_section}, {"parse", parse_section},
                    {"nodes", nodes_section}};
    bool found = false;
    for (const auto& s : sections) {
        if (!what.empty() && what != s.name) continue;
        found = true;
        if (what.empty()) std::printf("== %s\n", s.name);
        s.run();
    }
    if (!found) {
        std::fprintf(stderr, "derivation: no section %s\n", what.c_str());
        return 2;
    }
    return 0;
}

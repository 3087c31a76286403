// Each op's forward formula and the gradient it sends to each input, rendered
// with xg::sym::render: the mathematics the equation printer composes. Every
// row of the op table (tests/op_table.hpp) states the text it prints, and its
// formulas, evaluated as numbers, must compute what its kernels compute.
#include <doctest/doctest.h>

#include <functional>
#include <random>
#include <vector>

#include "helpers.hpp"
#include "op_table.hpp"
#include "sym_eval.hpp"

using xg::Matrix;
using namespace xgt;
namespace ot = xgt::op_table;
namespace {

struct Row {
    std::string forward;             // "Y = …"
    std::vector<std::string> grads;  // one per input: "dA = …" (empty for a non-differentiable input)
};

/// Render node y's op with its inputs' names, output `out` and gradient d`out`.
Row render(const xg::Graph<double>& g, xg::Var<double> y, const std::string& out,
           xg::sym::Style style = xg::sym::Style::unicode) {
    const xg::Op<double>& op = *g.op(y.id());
    xg::sym::Names names;
    for (std::uint32_t in : g.inputs(y.id())) names.inputs.push_back(g.name(in));
    names.output = out;
    names.grad = "d" + out;
    Row r{xg::sym::render(op.formula(), names, style), {}};
    for (std::size_t i = 0; i < names.inputs.size(); ++i) {
        r.grads.push_back(op.differentiable(i) ? xg::sym::render(op.grad_formula(i), names, style) : "");
    }
    return r;
}

}  // namespace

TEST_CASE("every row of the op table prints its formula and gradient formulas") {
    std::mt19937_64 rng(3);
    for (const ot::Row& r : ot::rows()) {
        CAPTURE(r.name);
        xg::Graph<double> g;
        const ot::Values v = ot::sample(r, {2, 3, 2}, rng);
        std::vector<xg::Var<double>> leaves;
        for (std::size_t i = 0; i < r.arity(); ++i) leaves.push_back(g.parameter(v[i], r.inputs[i]));
        const xg::Var<double> y = r.build(leaves, r.attr);
        const Row text = render(g, y, r.out);
        CHECK(text.forward == r.formula);
        CHECK(text.grads == r.grads);
    }
}

TEST_CASE("every row's formulas, evaluated as numbers, compute what its kernels compute") {
    // The value and every input gradient of each row, on several shapes,
    // against its formula() and grad_formula(i) evaluated with the node's
    // input values, output and incoming gradient.
    std::mt19937_64 rng(4);
    for (const ot::Row& r : ot::rows()) {
        CAPTURE(r.name);
        for (const ot::Dims& d : {ot::Dims{1, 1, 1}, ot::Dims{3, 1, 2}, ot::Dims{1, 4, 3}, ot::Dims{3, 4, 2}}) {
            const ot::Values v = ot::sample(r, d, rng);
            xg::Graph<double> g;
            std::vector<xg::Var<double>> leaves;
            for (std::size_t i = 0; i < r.arity(); ++i) {
                leaves.push_back(r.differentiable[i] ? g.parameter(v[i], r.inputs[i]) : g.input(v[i], r.inputs[i]));
            }
            const xg::Var<double> y = r.build(leaves, r.attr);
            const auto J = weighted_sum(y, rng);
            if (g.requires_grad(J.id())) g.backward(J);
            SymEnv env;
            if (r.teach) {
                ot::Values in;
                for (std::uint32_t j : g.inputs(y.id())) in.push_back(g.value(j));
                ot::Functions f;
                r.teach(f, in, r.attr);
                for (auto& [name, fn] : f) env.matrix_functions[name] = fn;
            }
            if (r.teach_named) {
                ot::Named n;
                r.teach_named(n, g, y.id(), r.attr);
                for (auto& [name, m] : n.vars) env.vars[name] = m;
                for (auto& [name, v] : n.symbols) env.symbols[name] = v;
            }
            const NodeFormulaValues f = eval_node_formulas(g, y.id(), env);
            CHECK(rel_err(y.value(), f.value) <= 1e-12);
            std::size_t grads = 0;
            for (std::size_t j = 0; j < f.grads.size(); ++j) {
                if (!f.grads[j]) continue;
                CAPTURE(j);
                CHECK(grad_rel_err(g.grad(g.inputs(y.id())[j]), *f.grads[j]) <= 1e-12);
                ++grads;
            }
            // Every differentiable input of the row got its gradient from a formula.
            std::size_t want = 0;
            for (bool dflt : r.differentiable) want += dflt;
            CHECK(grads == want);
        }
    }
}

TEST_CASE("formula variants: the sign and size of the number, other exponents, the default slope") {
    xg::Graph<double> g;
    auto X = g.parameter(Matrix<double>{{0.5, -1.0}, {2.0, 1.5}}, "X");
    auto P = g.parameter(Matrix<double>{{0.5, 1.0}, {2.0, 1.5}}, "P");
    struct Case {
        xg::Var<double> node;
        std::string forward;
        std::vector<std::string> grads;
    };
    const Case cases[] = {
        {1.0 + X, "X + 1", {"dY"}},
        {X + -2.0, "X − 2", {"dY"}},
        {X - -2.0, "X + 2", {"dY"}},
        {1.0 - X, "1 − X", {"−dY"}},
        {X * 0.5, "0.5 X", {"0.5 dY"}},
        {-2.0 * X, "−2 X", {"−2 dY"}},
        {1.0 / P, "1 / P", {"−dY / P²"}},
        {pow(P, 2.0), "P²", {"2 dY ⊙ P"}},
        {pow(P, -1.0), "P⁻¹", {"−dY ⊙ P^−2"}},
        {pow(P, 1.0), "P", {"dY"}},
    };
    for (const Case& c : cases) {
        const Row r = render(g, c.node, "Y");
        CAPTURE(g.op(c.node.id())->name());
        CHECK(r.forward == c.forward);
        CHECK(r.grads == c.grads);
    }
}

TEST_CASE("formulas in ASCII and LaTeX, and at the loss (dJ = 1)") {
    xg::Graph<double> g;
    auto Z = g.parameter(Matrix<double>{{0.5, -1.0}, {2.0, 1.5}}, "Z2");
    auto y = g.input(Matrix<double>{{1.0, 0.0}}, "y");
    const Row relu_ascii = render(g, relu(Z), "A2", xg::sym::Style::ascii);
    CHECK(relu_ascii.grads[0] == "dA2 * step(Z2)");
    const Row relu_latex = render(g, relu(Z), "A2", xg::sym::Style::latex);
    CHECK(relu_latex.grads[0] == "dA_{2} \\odot \\operatorname{step}\\left(Z_{2}\\right)");
    const Row sm_ascii = render(g, softmax(Z), "A2", xg::sym::Style::ascii);
    CHECK(sm_ascii.grads[0] == "A2 * (dA2 - sum_rows(dA2 * A2))");
    const Row sum_latex = render(g, sum(Z, xg::Axis::over_cols), "S", xg::sym::Style::latex);
    CHECK(sum_latex.forward == "\\sum_{\\text{columns}} Z_{2}");

    // At the loss the incoming gradient is 1: dZ2 = (softmax(Z2) − onehot(y)) / m, the
    // softmax counterpart of the lecture's dZ2 = (A2 − Y) / m.
    auto J = softmax_cross_entropy(Z, y);
    const xg::sym::Expr dz = xg::sym::with_unit_grad(g.op(J.id())->grad_formula(0));
    CHECK(xg::sym::render(dz, {{"Z2", "y"}, "J", "dJ"}) == "(softmax(Z2) − onehot(y)) / m");
    auto M = mean_squared_error(Z, g.input(Matrix<double>{{0.0, 1.0}, {1.0, 0.0}}, "Y"));
    CHECK(xg::sym::render(xg::sym::with_unit_grad(g.op(M.id())->grad_formula(0)), {{"A", "Y"}, "J", "dJ"}) ==
          "2 (A − Y) / m");
}

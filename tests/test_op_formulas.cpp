// Each op's forward formula and the gradient it sends to each input, rendered
// with xg::sym::render: the mathematics the equation printer composes.
#include <doctest/doctest.h>

#include <functional>
#include <vector>

#include "helpers.hpp"

using xg::Matrix;
using namespace xgt;

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

TEST_CASE("every op's formula and gradient formulas render as the mathematics") {
    xg::Graph<double> g;
    auto A = g.parameter(Matrix<double>{{1.0, 2.0}, {3.0, 4.0}}, "A");
    auto B = g.parameter(Matrix<double>{{1.0}, {2.0}}, "B");
    auto X = g.parameter(Matrix<double>{{0.5, -1.0}, {2.0, 1.5}}, "X");
    auto P = g.parameter(Matrix<double>{{0.5, 1.0}, {2.0, 1.5}}, "P");
    auto Y = g.input(Matrix<double>{{0.0, 1.0}, {1.0, 0.0}}, "Y");
    auto y = g.input(Matrix<double>{{1.0, 0.0}}, "y");
    using xg::Axis;
    struct Case {
        xg::Var<double> node;
        std::string forward;
        std::vector<std::string> grads;
    };
    const Case cases[] = {
        {A - B, "A − B", {"dY", "−dY"}},
        {A * B, "A ⊙ B", {"dY ⊙ B", "dY ⊙ A"}},
        {A / B, "A / B", {"dY / B", "−(dY ⊙ A) / B²"}},
        {-X, "−X", {"−dY"}},
        {X + 1.0, "X + 1", {"dY"}},
        {1.0 + X, "X + 1", {"dY"}},
        {X - 1.0, "X − 1", {"dY"}},
        {X + -2.0, "X − 2", {"dY"}},
        {1.0 - X, "1 − X", {"−dY"}},
        {2.0 * X, "2 X", {"2 dY"}},
        {X * 0.5, "0.5 X", {"0.5 dY"}},
        {-2.0 * X, "−2 X", {"−2 dY"}},
        {2.0 - X, "2 − X", {"−dY"}},
        {X / 400.0, "X / 400", {"dY / 400"}},
        {1.0 / P, "1 / P", {"−dY / P²"}},
        {3.0 / P, "3 / P", {"−3 dY / P²"}},
        {exp(X), "exp(X)", {"dY ⊙ Y"}},
        {log(P), "log(P)", {"dY / P"}},
        {square(X), "X²", {"2 dY ⊙ X"}},
        {pow(P, 3.0), "P³", {"3 dY ⊙ P²"}},
        {pow(P, 2.0), "P²", {"2 dY ⊙ P"}},
        {pow(P, 0.5), "P^0.5", {"0.5 dY ⊙ P^−0.5"}},
        {pow(P, -1.0), "P⁻¹", {"−dY ⊙ P^−2"}},
        {pow(P, -2.0), "P^−2", {"−2 dY ⊙ P^−3"}},
        {pow(P, 1.0), "P", {"dY"}},
        {sqrt(P), "√(P)", {"dY / (2 Y)"}},
        {abs(X), "abs(X)", {"dY ⊙ sign(X)"}},
        {relu(X), "relu(X)", {"dY ⊙ step(X)"}},
        {leaky_relu(X, 0.1), "leaky_relu(X)", {"dY ⊙ (0.1 + 0.9 step(X))"}},
        {leaky_relu(X), "leaky_relu(X)", {"dY ⊙ (0.01 + 0.99 step(X))"}},
        {softplus(X), "softplus(X)", {"dY ⊙ σ(X)"}},
        {softmax(X), "softmax(X)", {"Y ⊙ (dY − Σ_rows(dY ⊙ Y))"}},
        {sum(X), "Σ X", {"dY"}},
        {sum(X, Axis::rows), "Σ_rows X", {"dY"}},
        {sum(X, Axis::cols), "Σ_columns X", {"dY"}},
        {mean(X), "(1 / (n m)) Σ X", {"dY / (n m)"}},
        {mean(X, Axis::rows), "(1 / n) Σ_rows X", {"dY / n"}},
        {mean(X, Axis::cols), "(1 / m) Σ_columns X", {"dY / m"}},
        {transpose(X), "Xᵀ", {"dYᵀ"}},
        {detach(X), "X", {""}},
        {softmax_cross_entropy(X, Y), "−(1 / m) Σ(Y ⊙ log(softmax(X)))", {"dY ((softmax(X) − Y) / m)", ""}},
        {softmax_cross_entropy(X, y), "−(1 / m) Σ(onehot(y) ⊙ log(softmax(X)))",
         {"dY ((softmax(X) − onehot(y)) / m)", ""}},
        {mean_squared_error(X, P), "(1 / m) Σ (X − P)²", {"dY (2 (X − P) / m)", "−dY (2 (X − P) / m)"}},
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
    const Row sum_latex = render(g, sum(Z, xg::Axis::cols), "S", xg::sym::Style::latex);
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

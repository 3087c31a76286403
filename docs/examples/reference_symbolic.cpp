// Examples of the reference pages for formulas, the equation printer and the
// gradient checker (docs/reference/formula.md, explain.md, check.md):
//
//   reference_symbolic formula    xg::sym: building, rendering, rewriting formulas
//   reference_symbolic explain    xg::derive, xg::render, xg::explain, xg::to_dot
//   reference_symbolic check      xg::check_gradients and its report
//
// Without an argument, every section in turn (see docs_helpers.hpp).
#include <cstdio>
#include <iostream>
#include <string>

#include <xgrad/xgrad.hpp>

#include "docs_helpers.hpp"

namespace {

void formula_section() {
    using namespace xg::sym;
    // The gradient tanh sends to its input, over the placeholders grad() and out().
    const Expr tanh_grad = grad() * (1.0 - square(out()));
    const Names names{{"Z1"}, "A1", "dA1"};  // input 0, output, incoming gradient
    std::printf("unicode: %s\n", render(tanh_grad, names).c_str());
    std::printf("ascii:   %s\n", render(tanh_grad, names, Style::ascii).c_str());
    std::printf("latex:   %s\n", render(tanh_grad, names, Style::latex).c_str());
    // text_width counts terminal columns: a combining tilde takes none.
    std::printf("text_width: %zu %zu %zu\n", text_width("dZ̃1"), text_width("A1ᵀ"), text_width("dA1"));

    // Every constructor, rendered with inputs named X and W.
    const Names xw{{"X", "W"}, "Y", "dY"};
    const Expr sigma = fn({"σ", "sigmoid", "\\sigma"}, in(0));
    const Expr alpha = symbol(Spelling{"α", "alpha", "\\alpha"});
    const Expr all[] = {
        add(in(0), num(1)),           sub(in(0), in(1)),        neg(in(0)),
        scale(alpha, in(0)),          hadamard(in(0), in(1)),   matmul(in(1), in(0)),
        div(in(0), m()),              pow(in(0), 3),            transpose(in(0)),
        sum_columns(in(0)),           sum_rows(in(0)),          sum_all(in(0)),
        sigma,                        symbol("k") * in(0),      dot(transpose(in(1)), var("dZ2")),
        in(0) + in(1) - in(0) / 2.0,  -in(0) * in(1),           1.0 + 2.0 * in(0),
    };
    for (const Expr& e : all) std::printf("  %s\n", render(e, xw).c_str());

    // At the loss, the incoming gradient is 1: with_unit_grad writes it in and simplifies.
    std::printf("with_unit_grad: %s\n", render(with_unit_grad(tanh_grad), names).c_str());
    // substitute puts expressions in for the inputs; bind_placeholders does it for any placeholder.
    std::printf("substitute: %s\n", render(substitute(sigma, {matmul(var("W"), var("X"))}), {}).c_str());
    const Bindings b{{var("Z1")}, var("A1"), var("dA1")};
    std::printf("bind_placeholders: %s\n", render(bind_placeholders(tanh_grad, b), {}).c_str());
    std::printf("simplify: %s\n", render(simplify(num(1) * neg(neg(var("x")))), {}).c_str());
    std::printf("is_grad(grad()): %d, is_grad(tanh_grad): %d\n", is_grad(grad()), is_grad(tanh_grad));

    // An Expr is a shared pointer to an immutable Term.
    const Expr e = dot(var("W"), in(0));
    std::printf("kind matmul: %d, %zu args, first a variable named %s, second input %zu\n", e->kind == Kind::matmul,
                e->args.size(), e->args[0]->text.unicode.c_str(), e->args[1]->index);
    const Expr p = pow(var("x"), 0.5), s = sum_columns(var("dZ"));
    std::printf("pow exponent %g; Σ_columns prefix %d, spelled %s in ASCII\n", p->number, s->prefix, s->text.ascii.c_str());
}

void explain_section() {
    xg::Graph<double> g;
    auto X = g.input(xg::Matrix<double>{{1.0, 2.0, 3.0}}, "X");
    auto Y = g.input(xg::Matrix<double>{{0.0, 1.0, 1.0}}, "Y");
    auto w = g.parameter(xg::Matrix<double>{{0.5}}, "w");
    auto b = g.parameter(xg::Matrix<double>{{0.0}}, "b");
    auto Z = (w * X + b).named("Z");
    auto J = binary_cross_entropy_with_logits(Z, Y).named("J");

    std::cout << xg::explain(J);  // ExplainOptions{}: Unicode, folded, no shapes

    xg::ExplainOptions o;
    o.style = xg::sym::Style::ascii;
    o.shapes = true;
    o.all_nodes = true;
    std::cout << xg::explain(J, o);

    // The same as data: leaves, then one Equation per line.
    const xg::Explanation d = xg::derive(J);
    for (const xg::Leaf& l : d.leaves)
        std::printf("leaf %s (node %u, %s) [%s]\n", l.name.c_str(), l.node,
                    l.kind == xg::NodeKind::parameter ? "parameter" : "input", to_string(l.shape).c_str());
    for (const xg::Equation& q : d.forward)
        std::printf("forward %s = %s (node %u) [%s]\n", q.lhs.c_str(), render(q.rhs, {}).c_str(), q.node,
                    to_string(q.shape).c_str());
    std::printf("%zu backward lines; LaTeX:\n%s", d.backward.size(), xg::render(d, xg::sym::Style::latex).c_str());

    // Graphviz DOT, here without the gradient flow and the shapes.
    std::cout << xg::to_dot(J, xg::DotOptions{/*gradients=*/false, /*shapes=*/false});
}

void check_section() {
    xg::Graph<double> g;
    auto X = g.input(xg::Matrix<double>{{1.0, -2.0, 0.5}, {0.3, 0.8, -1.0}}, "X", /*requires_grad=*/true);
    auto W = g.parameter(xg::Matrix<double>{{0.7, -1.2}}, "W");
    auto b = g.parameter(xg::Matrix<double>{{0.1}}, "b");
    auto J = mean_squared_error(tanh(matmul(W, X) + b), g.input(xg::Matrix<double>{{0.5, -0.5, 0.0}}, "Y"));

    const xg::GradCheckReport all = xg::check_gradients(g, J);  // every parameter: W, b
    std::cout << all << "\n";                                    // operator<<: the text of str()
    std::printf("ok %d, %zu entries, max abs err %.0e, max rel err below 1e-6: %d, worst: %s\n", all.ok(),
                all.entries.size(), all.max_abs_err(), all.max_rel_err() < 1e-6, all.worst()->name.c_str());

    // Chosen leaves (an input made with requires_grad included), with other options.
    xg::GradCheckOptions options;
    options.step = 1e-5;
    options.rtol = 1e-6;
    options.atol = 1e-9;
    const xg::GradCheckReport some = xg::check_gradients(g, J, {X, b}, options);
    for (const xg::GradCheckEntry& e : some.entries)
        std::printf("%s [%s]: worst at (%zu, %zu), analytic %.6f, numeric %.6f, rel err below rtol: %d, ok %d\n",
                    e.name.c_str(), to_string(e.shape).c_str(), e.worst_row, e.worst_col, e.analytic, e.numeric,
                    e.max_rel_err <= some.options.rtol, e.ok);
    std::printf("largest absolute error of b below 1e-9: %d\n", some.entries[1].max_abs_err < 1e-9);

    // For tests: throw GradientCheckError (what() is the report) unless all pass.
    xg::require_gradients_ok(g, J);
    xg::GradCheckOptions strict;
    strict.rtol = 1e-14;
    strict.atol = 0;
    try {
        xg::require_gradients_ok(g, J, {W}, strict);
    } catch (const xg::GradientCheckError& e) {
        std::printf("GradientCheckError: %zu entry, ok %d\n", e.report().entries.size(), e.report().ok());
    }
}

}  // namespace

int main(int argc, char** argv) {
    return docs::run_sections(argc, argv,
                              {{"formula", formula_section}, {"explain", explain_section}, {"check", check_section}});
}

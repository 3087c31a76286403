// A numeric evaluator for xg::sym expressions, for tests: it reads the
// equations `explain` prints as matrix programs, so a test can check that
// each printed equation computes what the engine computed.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "helpers.hpp"
#include "op_table.hpp"

namespace xgt {

using xg::Matrix;

struct SymEnv {
    std::map<std::string, Matrix<double>> vars;  ///< node values by name; gradients by "d" + name
    std::map<std::string, double> symbols;       ///< m
    /// Elementwise functions by their Unicode name: those the built-in ops
    /// print are there from the start (a test adds those of its own ops).
    /// Each gives NaN for NaN, as IEEE arithmetic does, so a formula evaluated
    /// here says where a NaN must go.
    std::map<std::string, std::function<double(double)>> functions{
        {"tanh", [](double x) { return std::tanh(x); }},
        {"σ", [](double x) { return 1 / (1 + std::exp(-x)); }},
        {"log", [](double x) { return std::log(x); }},
        {"exp", [](double x) { return std::exp(x); }},
        {"√", [](double x) { return std::sqrt(x); }},
        {"abs", [](double x) { return std::fabs(x); }},
        {"sign", [](double x) { return x > 0 ? 1.0 : x < 0 ? -1.0 : x == 0 ? 0.0 : x; }},
        {"step", [](double x) { return x > 0 ? 1.0 : x <= 0 ? 0.0 : x; }},
        {"relu", [](double x) { return x > 0 ? x : x <= 0 ? 0.0 : x; }},
        {"softplus", [](double x) { return std::log1p(std::exp(x)); }},
    };
    /// Functions of a whole matrix (softmax over each column, …), by Unicode name.
    std::map<std::string, std::function<Matrix<double>(const Matrix<double>&)>> matrix_functions{
        // A NaN makes its column NaN.
        {"softmax", [](const Matrix<double>& z) { return op_table::ref::softmax(z); }},
    };

    /// Every node of `g` by name, and the gradient of every node the last
    /// backward() reached.
    static SymEnv of(const xg::Graph<double>& g) {
        SymEnv env;
        for (std::uint32_t id = 0; id < g.size(); ++id) {
            env.vars[g.name(id)] = g.value(id);
            if (g.has_grad(id)) env.vars["d" + g.name(id)] = g.grad(id);
        }
        return env;
    }
};

inline Matrix<double> broadcast_op(const Matrix<double>& a, const Matrix<double>& b,
                                   const std::function<double(double, double)>& f) {
    const std::size_t ar = a.shape()[0], ac = a.shape()[1], br = b.shape()[0], bc = b.shape()[1];
    REQUIRE((ar == br || ar == 1 || br == 1));
    REQUIRE((ac == bc || ac == 1 || bc == 1));
    const std::size_t R = std::max(ar, br), C = std::max(ac, bc);
    Matrix<double> out({R, C});
    for (std::size_t i = 0; i < R; ++i)
        for (std::size_t j = 0; j < C; ++j) out(i, j) = f(a(ar == 1 ? 0 : i, ac == 1 ? 0 : j), b(br == 1 ? 0 : i, bc == 1 ? 0 : j));
    return out;
}

inline Matrix<double> scalar(double v) { return Matrix<double>{{v}}; }

/// Σ over `axis` (0: the rows, 1: the columns, 2: everything), keepdims.
inline Matrix<double> sum_axis(const Matrix<double>& a, int axis) {
    const std::size_t R = a.shape()[0], C = a.shape()[1];
    const std::size_t r = axis == 1 ? R : 1, c = axis == 0 ? C : 1;
    Matrix<double> s = xt::zeros<double>({r, c});
    for (std::size_t i = 0; i < R; ++i)
        for (std::size_t j = 0; j < C; ++j) s(r == 1 ? 0 : i, c == 1 ? 0 : j) += a(i, j);
    return s;
}

/// True for the spellings of a slice, "{}[1:3, :]" and "{}[:, 1:3]".
inline bool is_slice_spelling(const std::string& f) { return f.rfind("{}[", 0) == 0; }

/// The functions that move blocks, which the sequence ops print: a slice
/// "{}[b:e, :]" or "{}[:, b:e]"; concat_rows and concat_columns of their
/// arguments; the embedding's lookup E[:, ids] and its adjoint
/// scatter_columns(dY, ids) (a third argument, E, gives its shape); the
/// block of a joined gradient that came from one part,
/// "{0}[rows of {k}]" or "{0}[:, columns of {k}]", whose arguments are the
/// gradient and every part (argument k is the part; the parts before it
/// give the block's place).
inline Matrix<double> eval_structural(const std::string& f, const std::vector<Matrix<double>>& a) {
    std::smatch m;
    if (std::regex_match(f, m, std::regex(R"(\{\}\[(\d+):(\d+), :\])"))) {
        return op_table::ref::slice(a.at(0), false, std::stoul(m[1]), std::stoul(m[2]));
    }
    if (std::regex_match(f, m, std::regex(R"(\{\}\[:, (\d+):(\d+)\])"))) {
        return op_table::ref::slice(a.at(0), true, std::stoul(m[1]), std::stoul(m[2]));
    }
    if (f == "concat_rows" || f == "concat_columns") return op_table::ref::concat(a, f == "concat_columns");
    if (f == "{0}[:, {1}]") return op_table::ref::embedding(a.at(0), a.at(1));
    if (f == "scatter_columns({0}, {1})") {  // arguments dY, ids, E: dY's columns added onto E's shape
        Matrix<double> d = xt::zeros<double>({a.at(2).shape()[0], a.at(2).shape()[1]});
        for (std::size_t i = 0; i < d.shape()[0]; ++i)
            for (std::size_t j = 0; j < a[1].shape()[1]; ++j) d(i, std::size_t(a[1](0, j))) += a[0](i, j);
        return d;
    }
    const bool cols = std::regex_match(f, m, std::regex(R"(\{0\}\[:, columns of \{(\d+)\}\])"));
    if (cols || std::regex_match(f, m, std::regex(R"(\{0\}\[rows of \{(\d+)\}\])"))) {
        const std::size_t k = std::stoul(m[1]);
        REQUIRE(k < a.size());
        std::size_t at = 0;
        for (std::size_t j = 1; j < k; ++j) at += a[j].shape()[cols ? 1 : 0];
        return op_table::ref::slice(a[0], cols, at, at + a[k].shape()[cols ? 1 : 0]);
    }
    FAIL("unknown function of several matrices " << f);
    return {};
}

inline Matrix<double> sym_eval(const xg::sym::Expr& e, const SymEnv& env) {
    using xg::sym::Kind;
    const auto arg = [&](std::size_t k) { return sym_eval(e->args[k], env); };
    switch (e->kind) {
        case Kind::variable: {
            const auto it = env.vars.find(e->text.unicode);
            REQUIRE_MESSAGE(it != env.vars.end(), "unknown matrix " << e->text.unicode);
            return it->second;
        }
        case Kind::number:
            return scalar(e->number);
        case Kind::symbol: {
            const auto it = env.symbols.find(e->text.unicode);
            REQUIRE_MESSAGE(it != env.symbols.end(), "unknown symbol " << e->text.unicode);
            return scalar(it->second);
        }
        case Kind::function: {
            const std::string& f = e->text.unicode;
            if (e->args.size() > 1 || is_slice_spelling(f)) {
                std::vector<Matrix<double>> args;
                for (std::size_t k = 0; k < e->args.size(); ++k) args.push_back(arg(k));
                return eval_structural(f, args);
            }
            if (f == "Σ_columns") return sum_axis(arg(0), 1);
            if (f == "Σ_rows") return sum_axis(arg(0), 0);
            if (f == "Σ_all" || f == "Σ") return sum_axis(arg(0), 2);
            const auto mf = env.matrix_functions.find(f);
            if (mf != env.matrix_functions.end()) return mf->second(arg(0));
            const auto it = env.functions.find(f);
            REQUIRE_MESSAGE(it != env.functions.end(), "unknown function " << f);
            Matrix<double> x = arg(0);
            for (double& v : x) v = it->second(v);
            return x;
        }
        case Kind::neg:
            return -arg(0);
        case Kind::add:
            return broadcast_op(arg(0), arg(1), [](double x, double y) { return x + y; });
        case Kind::sub:
            return broadcast_op(arg(0), arg(1), [](double x, double y) { return x - y; });
        case Kind::scale:
        case Kind::hadamard:
            return broadcast_op(arg(0), arg(1), [](double x, double y) { return x * y; });
        case Kind::div:
            return broadcast_op(arg(0), arg(1), [](double x, double y) { return x / y; });
        case Kind::matmul: {
            const Matrix<double> a = arg(0), b = arg(1);
            REQUIRE(a.shape()[1] == b.shape()[0]);
            return ref_matmul(a, b);
        }
        case Kind::pow: {
            Matrix<double> x = arg(0);
            for (double& v : x) v = std::pow(v, e->number);
            return x;
        }
        case Kind::transpose:
            return ref_transpose(arg(0));
        case Kind::input:
        case Kind::output:
        case Kind::grad:
            FAIL("an unbound placeholder in an explained equation");
    }
    FAIL("unknown kind");
    return {};
}

/// `a` broadcast to `shape` (each dimension equal, or 1): an equation such as
/// dX = dS for S = Σ_columns X writes the broadcast of dS implicitly.
inline Matrix<double> broadcast_to(const Matrix<double>& a, xg::Shape shape) {
    return broadcast_op(a, xt::zeros<double>({shape.rows, shape.cols}), [](double x, double) { return x; });
}

}  // namespace xgt

namespace xgt {

/// `a` summed over the axes along which it is larger than `shape` (keepdims):
/// the adjoint of broadcasting, as the engine applies it to a broadcasting op's gradients.
inline Matrix<double> unbroadcast_to(const Matrix<double>& a, xg::Shape shape) {
    Matrix<double> s = xt::zeros<double>({shape.rows, shape.cols});
    for (std::size_t i = 0; i < a.shape()[0]; ++i)
        for (std::size_t j = 0; j < a.shape()[1]; ++j) s(shape.rows == 1 ? 0 : i, shape.cols == 1 ? 0 : j) += a(i, j);
    return s;
}

/// An op node's formulas evaluated as numbers: its forward formula, and for
/// each input the gradient formula gives it (fitted to the input's shape:
/// summed over broadcast axes, or broadcast up for a reduction), empty where
/// the input is not differentiable or the last sweep gave it no gradient.
struct NodeFormulaValues {
    Matrix<double> value;
    std::vector<std::optional<Matrix<double>>> grads;
};

/// Evaluate node `id` of `g`'s formulas with its inputs' values, its value and
/// (for the gradients) the gradient the last backward() gave it. The symbols
/// m and n are the columns and rows of input 0; `env` supplies any other
/// function (a row's hidden numbers).
inline NodeFormulaValues eval_node_formulas(const xg::Graph<double>& g, std::uint32_t id, SymEnv env) {
    using namespace xg::sym;
    const xg::Op<double>& op = *g.op(id);
    const std::vector<std::uint32_t>& in = g.inputs(id);
    Bindings b;
    for (std::size_t j = 0; j < in.size(); ++j) {
        const std::string name = "in" + std::to_string(j);
        env.vars[name] = g.value(in[j]);
        b.inputs.push_back(var(name));
    }
    env.vars["out"] = g.value(id);
    b.output = var("out");
    env.symbols["m"] = double(g.shape(in.at(0)).cols);
    env.symbols["n"] = double(g.shape(in.at(0)).rows);
    NodeFormulaValues r;
    r.value = broadcast_to(sym_eval(bind_placeholders(op.formula(), b), env), g.shape(id));
    const bool swept = g.has_grad(id);
    if (swept) {
        env.vars["grad"] = g.grad(id);
        b.grad = var("grad");
    }
    for (std::size_t j = 0; j < in.size(); ++j) {
        if (!swept || !op.differentiable(j) || !g.has_grad(in[j])) {
            r.grads.emplace_back();
            continue;
        }
        const Matrix<double> d = sym_eval(bind_placeholders(op.grad_formula(j), b), env);
        const xg::Shape want = g.shape(in[j]);
        const bool larger = d.shape()[0] >= want.rows && d.shape()[1] >= want.cols;
        r.grads.emplace_back(larger ? unbroadcast_to(d, want) : broadcast_to(d, want));
    }
    return r;
}

}  // namespace xgt

// xgrad — symbolic formulas. Every op states its forward value and the gradient
// it sends to each input as a small expression over its inputs, its output and
// its incoming gradient; `explain` composes them into the equations of a graph.
//
//   tanh:    forward  tanh(x)          backward  g ⊙ (1 − y²)
//   matmul:  forward  A · B            backward  g · Bᵀ   and   Aᵀ · g
//
// Expressions render as Unicode ("dZ1 · Xᵀ"), ASCII ("dZ1 @ X.T") or LaTeX.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace xg::sym {

/// What a Term is.
enum class Kind {
    input,      ///< the op's i-th input (its value)
    output,     ///< the op's output value
    grad,       ///< the gradient arriving at the op's output
    number,     ///< a literal: 1, 2, 0.5
    symbol,     ///< a named scalar: m, α
    function,   ///< f(x): tanh, σ, exp, Σ_columns …
    neg,        ///< −x
    add,        ///< x + y
    sub,        ///< x − y
    scale,      ///< x y with x a scalar: 2 X, α X
    hadamard,   ///< x ⊙ y (elementwise)
    matmul,     ///< x · y
    div,        ///< x / y
    pow,        ///< x^p (p a number)
    transpose,  ///< xᵀ
    variable,   ///< a named matrix of a graph (W1, dZ2): what `explain` binds placeholders to
};

/// A spelling in each of the three output styles.
struct Spelling {
    std::string unicode;  ///< "σ"
    std::string ascii;    ///< "sigmoid"
    std::string latex;    ///< "\\sigma"
};

struct Term;
/// A formula: an immutable expression tree, shared freely.
using Expr = std::shared_ptr<const Term>;

/// One node of a formula: its kind, its operands (args) and what a leaf holds.
struct Term {
    Kind kind;              ///< what the term is
    std::size_t index = 0;  ///< input: which one
    double number = 0;      ///< number: its value; pow: the exponent
    Spelling text;          ///< symbol / function / variable: its name
    bool prefix = false;    ///< function: written without parentheses around an atom (Σ_columns dZ)
    std::vector<Expr> args;  ///< the operands, in order
};

// A function's spelling in one style may be a template: "sum({}, axis=1)"
// renders with the argument in place of {} and no parentheses added, except
// before a postfix ("{}[1:3, :]" renders "(A + B)[1:3, :]").

/// The op's input i (placeholder).
Expr in(std::size_t i);
/// The op's output value (placeholder).
Expr out();
/// The gradient arriving at the op's output (placeholder).
Expr grad();
/// A number: 1, 2, 0.5.
Expr num(double v);
/// A named scalar (α, m), spelled per style.
Expr symbol(Spelling s);
/// A named scalar with the same spelling in every style.
Expr symbol(const std::string& unicode_and_ascii);
/// name(arg): tanh(x), σ(x); `prefix` writes it without parentheses around an atom (Σ_columns dZ).
Expr fn(Spelling name, Expr arg, bool prefix = false);
/// name(a, b, …): a function of several matrices, "concat_rows(A, B)". A
/// spelling with numbered holes "{0}", "{1}", … is a template that places
/// argument k at "{k}" ("{0}[rows of {2}]" renders "dY[rows of B]"); an
/// argument no hole names is not printed but still belongs to the formula
/// (an evaluator may read its shape).
Expr fn(Spelling name, std::vector<Expr> args);
/// −x
Expr neg(Expr x);
/// x + y
Expr add(Expr x, Expr y);
/// x − y
Expr sub(Expr x, Expr y);
/// s x, with s a scalar (number or symbol): 2 X, α X.
Expr scale(Expr s, Expr x);
/// x ⊙ y, elementwise.
Expr hadamard(Expr x, Expr y);
/// x · y, the matrix product.
Expr matmul(Expr x, Expr y);
/// x / y
Expr div(Expr x, Expr y);
/// x^p, p a number (x², x^0.5).
Expr pow(Expr x, double p);
/// xᵀ
Expr transpose(Expr x);
/// A named matrix (a node of a graph, or its gradient): renders as its name,
/// with trailing digits as a subscript in LaTeX (W1 → W_{1}).
Expr var(const std::string& name);

/// The adjoint of broadcasting, keepdims: Σ over the columns (n × m → n × 1),
/// over the rows (n × m → 1 × m), or over every entry (→ 1 × 1).
/// Unicode "Σ_columns x", ASCII "sum(x, axis=1, keepdims=True)".
Expr sum_columns(Expr x);
Expr sum_rows(Expr x);
Expr sum_all(Expr x);

/// The symbol "m": the number of examples (columns).
Expr m();

// Operators for writing formulas like mathematics:
//   a + b, a - b, -a, a / b, a * b (⊙; a scalar factor when one side is a
//   number or symbol), dot(a, b) (matrix product), transpose(a), square(a).
inline Expr operator+(Expr x, Expr y) { return add(std::move(x), std::move(y)); }
inline Expr operator-(Expr x, Expr y) { return sub(std::move(x), std::move(y)); }
inline Expr operator-(Expr x) { return neg(std::move(x)); }
inline Expr operator/(Expr x, Expr y) { return div(std::move(x), std::move(y)); }
Expr operator*(Expr x, Expr y);
inline Expr operator+(double x, Expr y) { return add(num(x), std::move(y)); }
inline Expr operator-(double x, Expr y) { return sub(num(x), std::move(y)); }
inline Expr operator*(double x, Expr y) { return scale(num(x), std::move(y)); }
inline Expr operator/(Expr x, double y) { return div(std::move(x), num(y)); }
inline Expr dot(Expr x, Expr y) { return matmul(std::move(x), std::move(y)); }
inline Expr square(Expr x) { return pow(std::move(x), 2); }

/// How render() writes a formula: Unicode (dZ1 · Xᵀ), ASCII like NumPy (dZ1 @ X.T), or LaTeX.
enum class Style { unicode, ascii, latex };

/// What the placeholders of a formula stand for when it is rendered.
struct Names {
    std::vector<std::string> inputs;  ///< name of input i
    std::string output;               ///< name of the op's output
    std::string grad;                 ///< name of the incoming gradient (dZ2)
};

/// Render `e` with the given names in one style, with the fewest parentheses
/// that keep its meaning.
std::string render(const Expr& e, const Names& names, Style style = Style::unicode);

/// The columns that rendered UTF-8 text takes on a terminal: one per
/// character, none for a combining mark (U+0300–U+036F: the hat of X̂1, the
/// tilde of Z̃1), so that "Z̃1" is 2 wide. For aligning printed formulas.
std::size_t text_width(const std::string& text);

/// `e` with the incoming gradient replaced by the number 1 and simplified
/// (1 ⊙ x → x, 1 · x → x): the form of a formula at the loss, where dJ = 1.
Expr with_unit_grad(const Expr& e);

/// Replace each input placeholder i by `inputs[i]` (an expression) — used to
/// express one formula in terms of another.
Expr substitute(const Expr& e, const std::vector<Expr>& inputs);

/// What each placeholder of an op's formula stands for in a graph: input i,
/// the output, the incoming gradient. A null entry leaves its placeholder.
struct Bindings {
    std::vector<Expr> inputs;  ///< what input i stands for
    Expr output;               ///< what the output stands for
    Expr grad;                 ///< what the incoming gradient stands for
};

/// Replace the placeholders of `e` as `b` says, then simplify: the formula of
/// one op, written in terms of the nodes around it.
Expr bind_placeholders(const Expr& e, const Bindings& b);

/// Drop the factors and divisors that are the number 1 (1 ⊙ x, x · 1,
/// 1 x, x / 1 → x) and double negations (−(−x) → x); x + (−y) → x − y.
Expr simplify(const Expr& e);

/// True when `e` is exactly the incoming gradient (an identity pass-through).
bool is_grad(const Expr& e);

}  // namespace xg::sym

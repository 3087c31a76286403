// xgrad — equations typed as text. Type the backward equations as you would
// write them on paper (the notation `explain` prints, in ASCII or Unicode),
// and get them as formulas:
//
//   auto eqs = xg::parse_equations("dZ2 = A2 - Y\n"
//                                  "dW2 = 1/m * dZ2 . A1^T\n");
//
// Notation: names are the graph's named nodes (their values) and d<name>
// (their gradients); m is the number of examples (columns); `^T`, `.T` and
// `ᵀ` transpose; `.`, `@` and `·` are the matrix product; `*` and `⊙` the
// elementwise product (a number times a matrix too); + − / and parentheses;
// powers `^2`, `²`; the elementwise functions tanh, sigmoid (σ), relu,
// step, exp, log, sqrt (√), abs, sign, softplus; softmax (of each column);
// sum_columns (Σ_columns), sum_rows (Σ_rows), sum_all (Σ_all, Σ), and NumPy's
// sum(x, axis=1, keepdims=True). A number or m next to a factor multiplies
// it: `2 X`, `(1/m) dZ2 · A1ᵀ`.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "xgrad/error.hpp"
#include "xgrad/formula.hpp"

namespace xg {

/// A mistake in the text of an equation: what() reads
/// "line 2, column 14: expected a name, a number or '(' after '*', found ')'"
/// followed by the line and a caret under the column.
class ParseError : public ValueError {
public:
    ParseError(std::size_t line, std::size_t column, const std::string& message, const std::string& text);
    /// 1-based line of the text parsed.
    std::size_t line() const { return line_; }
    /// 1-based column (in characters) where the mistake is.
    std::size_t column() const { return column_; }
    /// What was expected and what was found, without the position.
    const std::string& message() const { return message_; }

private:
    std::size_t line_;
    std::size_t column_;
    std::string message_;
};

/// One equation as typed: `dZ1 = (W2^T . dZ2) * (1 - A1^2)`.
struct TypedEquation {
    std::string lhs;       ///< the name defined: "dZ1"
    sym::Expr rhs;         ///< over sym::var(name) and sym::m()
    std::string text;      ///< the line as typed, without comment and surrounding blanks
    std::size_t line = 0;  ///< 1-based line number in the text parsed
};

/// Parse one right-hand side (`(W2^T . dZ2) * (1 - A1^2)`) into a formula
/// over sym::var(name) and sym::m(). ParseError with the position for text
/// that is not an expression of the notation above.
sym::Expr parse_expression(const std::string& text);

/// Parse equations, one per line (`;` also separates them); blank lines and
/// everything after `#` are skipped. ParseError for the first line that is
/// not `name = expression`, or a name defined twice.
std::vector<TypedEquation> parse_equations(const std::string& text);

}  // namespace xg

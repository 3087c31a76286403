// xgrad — check a person's own derivation. Type the backward equations as you
// would write them on paper (the notation `explain` prints, in ASCII or
// Unicode); xgrad evaluates each one on the graph's values, compares it with
// the gradient of the reverse sweep, and says which line is wrong, by how
// much, and what would make it right. See docs/derive.md.
//
//   auto eqs = xg::parse_equations("dZ2 = A2 - Y\n"
//                                  "dW2 = 1/m * dZ2 . A1^T\n");
//   xg::DerivationReport r = xg::check_derivation(build_two_layer, eqs);
//   std::cout << r;   // dZ2 agrees; dW2 agrees; or which is wrong and why
//
// Notation: names are the graph's named nodes (their values) and d<name>
// (their gradients), spelt with letters (Greek too), digits, _ and a
// combining hat or tilde (X̂1, dZ̃1); m is the number of examples (columns); `^T`, `.T` and
// `ᵀ` transpose; `.`, `@` and `·` are the matrix product; `*` and `⊙` the
// elementwise product (a number times a matrix too); + − / and parentheses;
// powers `^2`, `²`; the elementwise functions tanh, sigmoid (σ), relu,
// step, exp, log, sqrt (√), abs, sign, softplus; softmax (of each column);
// sum_columns (Σ_columns), sum_rows (Σ_rows), sum_all (Σ_all, Σ), and NumPy's
// sum(x, axis=1, keepdims=True). A number or m next to a factor multiplies
// it: `2 X`, `(1/m) dZ2 · A1ᵀ`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "xgrad/error.hpp"
#include "xgrad/formula.hpp"
#include "xgrad/graph.hpp"

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

/// How a person writes gradients.
enum class Convention {
    /// The lecture's: dZ = m ∂J/∂Z for every node computed per example (every
    /// node except the parameters), so dZ2 = A2 − Y, and the 1/m goes into
    /// dW and db (which are ∂J/∂W, ∂J/∂b).
    lecture,
    /// xgrad's: every d<name> is ∂J/∂<name>, as backward() computes it
    /// (dZ2 = (A2 − Y) / m, dW2 = dZ2 · A1ᵀ).
    autodiff,
};

/// What a network builder is asked to build: its sizes and a seed for its random values.
struct DerivationProbe {
    std::size_t examples = 1;        ///< m, the number of columns of the data
    std::vector<std::size_t> sizes;  ///< layer widths, each at least 1 (the builder decides what each one means)
    std::uint64_t seed = 0;          ///< for the random values of its data and weights
};

/// A network built for one probe: the graph owns its nodes; `loss` is a 1 × 1
/// node of it. The equations name its nodes by their given names.
struct DerivationNetwork {
    std::unique_ptr<Graph<double>> graph;
    Var<double> loss;
};

/// Builds the same network (the same named nodes) at the sizes of a probe.
using NetworkBuilder = std::function<DerivationNetwork(const DerivationProbe&)>;

/// How check_derivation probes and what it accepts.
struct DerivationOptions {
    Convention convention = Convention::lecture;
    /// The probes of the builder overload: the first at sizes drawn from
    /// [2, 5] and m from [3, 7], then every size 1 with m = 1, then the
    /// drawn sizes with one column, then each size and m drawn from [1, 6].
    std::size_t probes = 6;
    /// How many sizes each probe carries.
    std::size_t sizes = 4;
    std::uint64_t seed = 1;
    /// An entry agrees when |yours − engine's| ≤ max(rtol · max(|yours|, |engine's|), atol).
    double rtol = 1e-7;
    double atol = 1e-10;
    /// How the report writes formulas.
    sym::Style style = sym::Style::unicode;
};

/// What the check of one equation found.
enum class Verdict {
    agrees,        ///< equal to the engine's gradient (in the chosen convention) on every probe
    differs,       ///< evaluates, at the node's shape, to other numbers on some probe
    follows,       ///< right given the engine's gradients; wrong only because it reads a wrong equation
    cannot_check,  ///< an unknown name, a gradient the sweep does not compute, or shapes that do not fit
};

/// The kind of mistake a repair found: the single change to the right-hand
/// side that makes it agree on every probe.
enum class Mistake {
    none,            ///< no single change repairs it (or nothing is wrong)
    factor_m,        ///< right up to exactly the factor m or 1/m (the 1/m convention)
    sign,            ///< right up to the sign
    transpose,       ///< a matrix where its transpose is meant, or the reverse
    sum_axis,        ///< a sum over the wrong axis
    missing_factor,  ///< lacks a factor of the engine's equation (an activation's derivative)
    extra_factor,    ///< has a factor too many
    operand_order,   ///< a matrix product with its operands swapped
    product_kind,    ///< ⊙ where · is meant, or the reverse
};

/// The check of one typed equation.
struct EquationCheck {
    TypedEquation equation;
    Verdict verdict = Verdict::agrees;
    /// The node the left-hand side names (its value, or its gradient when `gradient`).
    std::string node;
    bool gradient = true;
    /// The largest relative difference |yours − engine's| / max(|yours|, |engine's|, atol / rtol)
    /// on the probe where it is largest, that probe's index, and the entry (row, col) with both values.
    double max_rel_diff = 0;
    std::size_t probe = 0;
    std::size_t row = 0, col = 0;
    double yours = 0, engine = 0;
    /// For cannot_check: what is unknown or which shapes do not fit (with the shapes).
    std::string problem;
    /// The repair: the kind of mistake and a sentence that names it ("it
    /// lacks the factor (1 − A1²), the derivative of tanh in A1 = tanh(Z1)"),
    /// found by trying single changes (inside right-hand sides of up to 64 terms).
    Mistake mistake = Mistake::none;
    std::string hint;
    /// The engine's equation for that node, as `explain` prints it (xgrad's convention).
    std::string engine_equation;
    /// For follows: the wrong equations' left-hand sides it reads.
    std::vector<std::string> reads_wrong;
};

/// The check of a derivation: one entry per equation, in sweep order (the
/// order of explain's backward lines; forward equations first).
struct DerivationReport {
    DerivationOptions options;
    std::vector<EquationCheck> checks;
    /// The probes used: the sizes asked for, and the m each network was built
    /// with (the columns of its data, which a builder may make more than asked).
    std::vector<DerivationProbe> probes;
    /// The index in `checks` of the first equation in sweep order that is
    /// wrong on its own (differs or cannot be checked), or checks.size().
    std::size_t cause = 0;

    /// True when every equation agrees.
    bool ok() const;
    /// The first wrong equation (nullptr when ok()).
    const EquationCheck* first_wrong() const;
    /// One line per equation ("dZ1 = …   agrees"), then the details of each
    /// that does not agree: differences, repair, the engine's equation.
    std::string str() const;
};

std::ostream& operator<<(std::ostream& os, const DerivationReport& r);

/// Check `equations` against the reverse sweep of the network `build` makes,
/// on options.probes probes of different sizes and random values (1 × 1 and
/// one-column shapes included), so that an equation right only by accident at
/// one shape or on one draw is caught. Each equation is evaluated twice: with
/// the engine's gradients for the d-names it reads (its verdict) and with the
/// values of the person's own earlier equations (`follows` when only that
/// fails). Throws GraphError when `build` returns no graph or a loss that is
/// not a 1 × 1 node of it; rethrows what `build` throws.
DerivationReport check_derivation(const NetworkBuilder& build, const std::vector<TypedEquation>& equations,
                                  const DerivationOptions& options = {});

/// The same on one graph at its own shapes: probes its current values, then
/// random N(0, 1) values of its parameters and of the inputs that only
/// differentiable slots read (not labels), options.probes times in all.
/// Shapes never change here, so a missing transpose of a square matrix can
/// go unnoticed: prefer the builder overload. The graph's values are
/// restored and forward() rerun before it returns.
DerivationReport check_derivation(Graph<double>& graph, Var<double> loss, const std::vector<TypedEquation>& equations,
                                  const DerivationOptions& options = {});

}  // namespace xg

// Evaluating typed equations and searching for the repair of a wrong one.
// Internal to the library (lib/derivation_*.cpp).
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "xgrad/derivation.hpp"
#include "xgrad/explain.hpp"

namespace xg::detail {

using Mat = Matrix<double>;

/// Why a formula could not be evaluated: a name it does not know, or shapes
/// that do not fit (`what` names the operands and their shapes).
struct EvalFailure {
    enum class Kind { unknown_name, shapes } kind = Kind::shapes;
    std::string what;
};

/// The matrices a formula's names stand for; nullptr for a name it does not know.
using Lookup = std::function<const Mat*(const std::string&)>;

/// The value of `e` (numpy-style 2-D broadcasting for + − ⊙ /, m = `m`);
/// throws EvalFailure. `style` is how the failure writes formulas.
Mat evaluate(const sym::Expr& e, const Lookup& lookup, double m, sym::Style style);

/// The largest relative difference of `a` from `b` (same shape), the entry
/// where it is largest and both values there: |a − b| / max(|a|, |b|, atol / rtol).
struct Difference {
    double rel = 0;
    std::size_t row = 0, col = 0;
    double a = 0, b = 0;
};
Difference difference(const Mat& a, const Mat& b, double rtol, double atol);

/// One probe of a network, reduced to what the equations read: the values of
/// its named nodes, the engine's gradients in the person's convention, m.
struct Snapshot {
    std::map<std::string, std::uint32_t> ids;  ///< node name → id (nodes of the loss's graph)
    std::map<std::string, Mat> values;         ///< node name → value
    std::map<std::string, Mat> grads;          ///< "d" + node name → gradient, in the person's convention
    double m = 1;
    DerivationProbe probe;
};

/// The snapshot of `g` after forward() and backward(loss).
Snapshot snapshot(Graph<double>& g, Var<double> loss, Convention convention, const DerivationProbe& probe);

/// What the engine knows about the nodes of the first probe, for hints.
struct EngineText {
    std::map<std::uint32_t, std::string> backward;  ///< node id → "dZ1 = dA1 ⊙ (1 − A1²)"
    std::map<std::uint32_t, std::string> forward;   ///< node id → "A1 = tanh(Z1)"
    std::map<std::uint32_t, std::size_t> order;     ///< node id → position among the backward lines
    /// node id → the factors without a gradient of its backward equation, each with where it comes from.
    std::map<std::uint32_t, std::vector<std::pair<sym::Expr, std::string>>> factors;
};

/// The engine's equations for the nodes of `g` (from explain's derivation of
/// `loss`), and the factors of each backward equation that read no gradient.
EngineText engine_text(Graph<double>& g, Var<double> loss, sym::Style style);

/// The names a formula reads.
void names_in(const sym::Expr& e, std::set<std::string>& out);

/// What the repair search knows about the equation's target.
struct RepairContext {
    const std::vector<Snapshot>* probes = nullptr;
    /// The value the equation must have on each probe.
    std::vector<const Mat*> targets;
    /// How a name is looked up on probe p (the engine's gradients first).
    std::function<const Mat*(std::size_t p, const std::string&)> lookup;
    /// Factors of the engine's equation that hold no gradient ((1 − A1²)),
    /// each with where it comes from ("the derivative of tanh in A1 = tanh(Z1)").
    std::vector<std::pair<sym::Expr, std::string>> factors;
    const DerivationOptions* options = nullptr;
    bool gradient = true;       ///< the equation defines a gradient (not a value)
    bool parameter = false;     ///< … of a parameter leaf
    std::string lhs;
};

/// The first single change to `rhs` that makes it agree on every probe, as
/// the kind of mistake and a sentence naming it; Mistake::none when there is none.
std::pair<Mistake, std::string> find_repair(const sym::Expr& rhs, const RepairContext& c);

/// `e` rendered with no placeholders.
std::string text(const sym::Expr& e, sym::Style style);

}  // namespace xg::detail

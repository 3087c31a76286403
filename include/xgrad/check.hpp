// xgrad — the gradient checker: compares what backward() computes with central
// finite differences in float64, parameter by parameter. This is how a user
// verifies autodiff (a custom op's hand-written backward above all) against
// the mathematics. See docs/howto-gradient-check.md.
//
//   xg::GradCheckReport r = xg::check_gradients(g, J);
//   if (!r.ok()) std::cout << r;            // which parameter, which entry, by how much
//   xg::require_gradients_ok(g, J);         // or: throw GradientCheckError with that report
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "xgrad/error.hpp"
#include "xgrad/graph.hpp"

namespace xg {

/// How a gradient check perturbs and what it accepts.
struct GradCheckOptions {
    /// h of the central difference (J(v + h) − J(v − h)) / 2h, an absolute step.
    /// Keep every input of a kink (relu, abs at 0) farther than h from it.
    double step = 1e-6;
    /// An entry passes when |analytic − numeric| ≤ max(rtol · max(|analytic|, |numeric|), atol).
    double rtol = 1e-5;
    /// The absolute tolerance of that test, for gradients near 0.
    double atol = 1e-7;
};

/// The check of one parameter leaf.
struct GradCheckEntry {
    std::string name;  ///< the leaf's name
    Shape shape;
    /// max over entries of |analytic − numeric|.
    double max_abs_err = 0;
    /// max over entries of |analytic − numeric| / max(|analytic|, |numeric|, atol / rtol):
    /// the relative error, measured absolutely (against atol) where the gradient is tiny.
    /// The entry passes exactly when this is ≤ rtol.
    double max_rel_err = 0;
    /// The entry with the largest relative error: its row, column and both gradients there.
    std::size_t worst_row = 0;
    std::size_t worst_col = 0;
    double analytic = 0;  ///< backward()'s gradient at the worst entry
    double numeric = 0;   ///< the finite difference at the worst entry
    bool ok = true;       ///< max_rel_err ≤ rtol
};

/// The result of a gradient check: one entry per checked parameter.
struct GradCheckReport {
    GradCheckOptions options;
    std::vector<GradCheckEntry> entries;  ///< in the graph's creation order

    /// True when every entry passed.
    bool ok() const;
    /// The largest max_abs_err / max_rel_err over all entries (0 when there are none).
    double max_abs_err() const;
    double max_rel_err() const;
    /// The entry with the largest relative error (nullptr when there are none).
    const GradCheckEntry* worst() const;
    /// The report as text: a header line with the verdict, then one line per
    /// parameter: "W1 [4x2]: max abs err 1.2e-11, max rel err 3.4e-10 at (2, 1):
    /// analytic 0.0123, numeric 0.0123  ok".
    std::string str() const;
};

std::ostream& operator<<(std::ostream& os, const GradCheckReport& r);

/// Check d loss / d p for every parameter leaf p of `g` (each once, in creation
/// order). Runs forward() and backward(loss) once, then for each entry of each
/// parameter replays, at v + h and v − h, a copy of `g` on the same Parameters
/// (2 replays per entry: keep graphs small). In that copy each input an op
/// does not differentiate (detach's, a loss's labels) is held at its present
/// value wherever gradients could otherwise reach it: backward() treats it
/// as a constant, so the finite differences do too, and a graph that
/// detaches a part of itself is checked for what the engine differentiates.
/// Dropout and batch_norm (docs/regularisation.md): the check holds the
/// graph's random state (Graph::hold_random_state) while it runs, so in
/// training mode every replay uses the dropout masks drawn last (each
/// dropout node is checked with its mask fixed, as X ⊙ D / keep_prob) and no
/// running average changes; batch_norm's batch statistics are recomputed on
/// every replay, as backward() differentiates them. In evaluation mode
/// dropout is the identity and batch_norm uses its running averages.
/// Afterwards every value is as before and the parameters'
/// gradients are those of this backward(loss) (overwrite mode). A parameter
/// the sweep does not reach is checked against a zero gradient.
/// Throws GraphError when `loss` is not a 1 × 1 node of `g`; rethrows, with
/// the values restored, an error a perturbed forward raises (a log of a
/// perturbed 0, say).
GradCheckReport check_gradients(Graph<double>& g, Var<double> loss, const GradCheckOptions& options = {});

/// The same for the given leaves only: parameter leaves of `g`, or input
/// leaves made with requires_grad (g.input(value, name, true)), whose values
/// are perturbed through set_value. GraphError for an op node, or an input
/// that carries no gradient.
GradCheckReport check_gradients(Graph<double>& g, Var<double> loss, const std::vector<Var<double>>& leaves,
                                const GradCheckOptions& options = {});

/// A failed gradient check; what() is the whole report.
class GradientCheckError : public Error {
public:
    explicit GradientCheckError(GradCheckReport report);
    const GradCheckReport& report() const { return report_; }

private:
    GradCheckReport report_;
};

/// check_gradients, throwing GradientCheckError (whose message is the report)
/// unless every parameter passes; returns the report otherwise. For tests:
/// CHECK_NOTHROW(xg::require_gradients_ok(g, J)) fails with the report.
GradCheckReport require_gradients_ok(Graph<double>& g, Var<double> loss, const GradCheckOptions& options = {});
GradCheckReport require_gradients_ok(Graph<double>& g, Var<double> loss, const std::vector<Var<double>>& leaves,
                                     const GradCheckOptions& options = {});

}  // namespace xg

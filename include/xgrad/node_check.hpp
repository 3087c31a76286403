// xgrad — the per-node gradient check: every op node's backward against central
// differences in float64, on its own, with a random incoming gradient. Where
// check_gradients says *that* a parameter's gradient is wrong, check_nodes
// says *which op* computes it wrong, by its printed equation:
//
//   xg::NodeCheckReport r = xg::check_nodes(g, J);
//   if (!r.ok()) std::cout << r;   // "A = cube(Z): the gradient to Z differs …"
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "xgrad/graph.hpp"

namespace xg {

/// How check_nodes perturbs, samples and what it accepts.
struct NodeCheckOptions {
    /// h of the central difference, an absolute step.
    double step = 1e-6;
    /// An entry passes when |analytic − numeric| ≤ max(rtol · max(|analytic|, |numeric|), atol).
    double rtol = 1e-5;
    double atol = 1e-7;
    /// Entries checked per input at most: a larger input has this many drawn at random.
    std::size_t max_entries = 24;
    /// Seed of the incoming gradients and of the sampled entries.
    std::uint64_t seed = 1;
};

/// The check of one input of one op node.
struct NodeCheckEntry {
    std::uint32_t node = 0;  ///< the op node's id
    std::string name;        ///< its name
    std::string op;          ///< its op's name
    std::string equation;    ///< its forward equation as explain prints it: "A1 = tanh(Z1)"
    std::size_t input = 0;   ///< which input (slot)
    std::string input_name;  ///< that input's name
    std::string gradient;    ///< the op's formula for that gradient: "dZ1 = dA1 ⊙ (1 − A1²)"
    std::size_t checked = 0;  ///< entries compared
    /// The largest |analytic − numeric| / max(|analytic|, |numeric|, atol / rtol), where, and both values there.
    double max_rel_err = 0;
    std::size_t worst_row = 0, worst_col = 0;
    double analytic = 0, numeric = 0;
    bool ok = true;
};

/// The result of check_nodes: one entry per differentiable input of every op
/// node of the loss's graph, in creation order.
struct NodeCheckReport {
    NodeCheckOptions options;
    std::vector<NodeCheckEntry> entries;

    bool ok() const;
    /// The first failing entry in creation order (nullptr when ok()).
    const NodeCheckEntry* first_failure() const;
    /// A verdict line, then the first failure by its equation and gradient formula, then every entry.
    std::string str() const;
};

std::ostream& operator<<(std::ostream& os, const NodeCheckReport& r);

/// Check the backward of every op node on the graph of `loss` on its own:
/// for node y = f(x1, …) and a random incoming gradient G (N(0, 1) entries),
/// the gradient its backward sends to each differentiable input xi is compared
/// with central differences of Σ G ⊙ f(…) in xi, at the inputs' present values
/// (up to options.max_entries sampled entries per input). The op runs in a
/// small graph of its own (leaves holding its inputs' values), so one wrong op
/// is found by name however deep it sits. Runs forward() first; leaves `g`'s
/// values as they were. GraphError when `loss` is not a node of `g`.
NodeCheckReport check_nodes(Graph<double>& g, Var<double> loss, const NodeCheckOptions& options = {});

}  // namespace xg

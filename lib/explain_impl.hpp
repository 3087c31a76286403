// The derivation of a loss, with what the DOT writer needs beyond the
// equations. Internal to the library.
#pragma once

#include <cstdint>
#include <vector>

#include "xgrad/explain.hpp"

namespace xg::detail {

/// What node `consumer` sends to its input `slot` in the reverse sweep,
/// already summed over stretched axes when the op broadcasts.
struct Contribution {
    std::uint32_t consumer = 0;
    std::size_t slot = 0;
    sym::Expr expr;
};

struct Derivation {
    Explanation equations;
    std::vector<char> in_graph;  ///< per node id up to the loss: an ancestor of the loss (or the loss)
    std::vector<char> has_grad;  ///< per node id: the sweep computes its gradient
    /// Per node id: the contributions to its gradient, in the order the sweep adds them.
    std::vector<std::vector<Contribution>> contributions;
};

template <class T>
Derivation derive_graph(const Graph<T>& g, std::uint32_t loss, bool all_nodes);

}  // namespace xg::detail

// xgrad — the backward plan: what one reverse sweep from a loss does, worked
// out once and read by everything that needs it. Graph::backward executes it;
// explain() and to_dot() print it. There is no second copy of this logic:
// what explain prints is what the engine runs, because both read this plan.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace xg {

/// How a contribution is written into the gradient buffer of its input.
enum class GradWrite : std::uint8_t {
    overwrite,             ///< the first contribution to that gradient in the sweep: the buffer is set
    accumulate,            ///< a later contribution: added to the buffer
    zero_then_accumulate,  ///< the first of several contributions from one op (the node is read twice by it):
                           ///< the buffer is zeroed first, then every one of them adds, whatever order the op writes in
};

/// One edge of the reverse sweep: op node `consumer` sends the gradient for
/// its input `slot` (node `input`).
struct PlanEdge {
    std::uint32_t consumer = 0;
    std::uint32_t slot = 0;
    std::uint32_t input = 0;
    GradWrite write = GradWrite::overwrite;
    /// The op broadcasts and the input's shape differs from the output's: the
    /// op writes a gradient of the output's shape, which the engine sums over
    /// the stretched axes (keepdims) into the input's gradient.
    bool broadcast = false;
    /// The consumer writes only some rows of the input's gradient
    /// (BackwardPlan::rows_written): the rows the input's own backward reads
    /// (the rows of a in W · concat_rows(a, x) when x takes no gradient;
    /// Op::writes_grad_rows, Op::dout_rows_read). Graph::grad computes the
    /// other rows on request.
    bool some_rows = false;
};

/// The visit of one op node in the sweep: edges [first_edge, first_edge + edge_count).
struct PlanVisit {
    std::uint32_t node = 0;
    std::uint32_t first_edge = 0;
    std::uint32_t edge_count = 0;
};

/// The reverse sweep from one loss (Graph::backward_plan). Node ids index
/// every per-node vector; nodes created after the loss are not in it (they
/// cannot be its ancestors), so a plan never goes stale when the graph grows.
/// The engine recomputes it only when shapes change (gradient sharing depends
/// on them).
struct BackwardPlan {
    /// The loss node.
    std::uint32_t loss = 0;
    /// Per node id ≤ loss: 1 for the loss and its ancestors (the forward graph of the loss).
    std::vector<char> in_graph;
    /// Per node id ≤ loss: 1 when the sweep computes its gradient (it requires
    /// one and lies on a path to the loss through differentiable inputs).
    std::vector<char> reach;
    /// The op nodes the sweep visits, in the order it visits them (reverse
    /// creation order: every consumer before the nodes it reads).
    std::vector<PlanVisit> visits;
    /// Every edge of the sweep, grouped by visit, each visit's in slot order.
    std::vector<PlanEdge> edges;
    /// Per node id ≤ loss: the node whose gradient buffer holds this node's
    /// gradient — itself, unless its gradient is exactly its one consumer's
    /// gradient (an op node read once, of the consumer's shape, whose op
    /// declares Op::gradient_is_identity for it: t in Z = t + b). Then the two
    /// share one buffer and the engine writes nothing for that edge.
    std::vector<std::uint32_t> grad_owner;

    /// The edges into node `id`, in the order the sweep adds them (indices into `edges`).
    std::vector<std::uint32_t> edges_into(std::uint32_t id) const {
        std::vector<std::uint32_t> out;
        if (id + 1 >= into_offsets.size()) return out;
        for (std::uint32_t k = into_offsets[id]; k < into_offsets[id + 1]; ++k) out.push_back(into[k]);
        return out;
    }
    /// The number of edges into node `id` (its gradient's contributions).
    std::uint32_t contribution_count(std::uint32_t id) const {
        return id + 1 < into_offsets.size() ? into_offsets[id + 1] - into_offsets[id] : 0;
    }
    /// The rows [first, second) of its input's gradient that edge k writes:
    /// all of them (second = SIZE_MAX) unless edges[k].some_rows.
    std::pair<std::size_t, std::size_t> rows_written(std::uint32_t k) const {
        std::size_t lo = 0, hi = partial_rows.size();
        while (lo < hi) {  // sorted by edge
            const std::size_t mid = (lo + hi) / 2;
            if (partial_rows[mid].edge < k) lo = mid + 1; else hi = mid;
        }
        if (lo < partial_rows.size() && partial_rows[lo].edge == k) return {partial_rows[lo].begin, partial_rows[lo].end};
        return {0, std::size_t(-1)};
    }
    /// The edges with some_rows and their rows, in edge order.
    struct PartialRows {
        std::uint32_t edge = 0;
        std::size_t begin = 0;
        std::size_t end = 0;
    };
    std::vector<PartialRows> partial_rows;
    /// True when node `id` shares its one consumer's gradient buffer.
    bool shares_gradient(std::uint32_t id) const { return id < grad_owner.size() && grad_owner[id] != id; }

    /// Edges into each node, as a compressed index: the edges into `id` are
    /// into[into_offsets[id] .. into_offsets[id + 1]).
    std::vector<std::uint32_t> into_offsets;
    std::vector<std::uint32_t> into;
};

}  // namespace xg

// The graph's node storage, shared by the files of the engine
// (graph.cpp: building and inspecting; graph_forward.cpp: replay, shapes,
// versions and numeric checks; graph_backward.cpp: the plan and the sweep).
// Internal to the library.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "reshape_keeping.hpp"
#include "xgrad/graph.hpp"
#include "xgrad/plan.hpp"

namespace xg {

template <class T>
struct Graph<T>::Node {
    NodeKind kind = NodeKind::input;
    std::shared_ptr<const Op<T>> op;
    std::vector<std::uint32_t> inputs;
    std::string name;
    Shape shape;                      // as of the last build / forward
    Matrix<T> value;                  // inputs and op nodes (parameters keep theirs)
    Matrix<T> grad;                   // op nodes (parameters keep theirs)
    Parameter<T> param;               // parameter leaves
    // The op's own scratch matrices, made on the op's first request (most ops
    // have none); a deque, so references stay valid as it grows.
    std::unique_ptr<std::deque<Matrix<T>>> scratch;
    std::vector<Matrix<T>> bscratch;  // per input: gradient before un-broadcasting
    bool requires_grad = false;
    bool partial = false;             // the last sweep wrote some rows of grad only (Impl::partials)
    Node* grad_alias = nullptr;       // op node whose grad buffer this node shares (the plan's grad_owner)
    std::uint64_t grad_epoch = 0;     // sweep that last wrote grad
    std::uint64_t version = 0;        // input leaves: bumped by set_value (parameters count their own)
    std::uint64_t seen_version = 0;   // leaves: the version the node values were last computed from
    std::uint32_t readers = 0;        // op nodes that read this node (each counted once)
    // Fused value: the consumer whose value buffer holds this op node's value
    // until the consumer overwrites it in place (Op::forward_in_place; W·X in
    // W·X + b). The node's own `value` is then empty, or a copy computed on
    // request by Graph::value() after the forward numbered `materialised`.
    Node* value_alias = nullptr;
    std::uint64_t materialised = std::uint64_t(-1);
    bool absorbed = false;            // holds the value of an input in its buffer (that input's value_alias)

    // The allocations of the node's own buffers before their last change of
    // shape (lib/reshape_keeping.hpp): alternating between two batch sizes
    // swaps them back instead of reallocating. Made on the first change of
    // shape of a buffer that had one, so a node whose shapes never change
    // pays one null pointer.
    struct Spares {
        Matrix<T> value;
        Matrix<T> grad;
        std::vector<Matrix<T>> scratch;   // per scratch matrix k
        std::vector<Matrix<T>> bscratch;  // per input j
    };
    std::unique_ptr<Spares> spares;

    Spares& spare() {
        if (!spares) spares = std::make_unique<Spares>();
        return *spares;
    }
    // The value (of an input or op node) takes shape s.
    void reshape_value(Shape s) {
        detail::reshape_keeping(value, [this]() -> Matrix<T>& { return spare().value; }, s);
    }
    // The node's own gradient buffer (not a parameter's) takes shape s.
    void reshape_grad(Shape s) {
        detail::reshape_keeping(grad, [this]() -> Matrix<T>& { return spare().grad; }, s);
    }
    // Scratch matrix k takes shape s (made on the op's first request; a
    // deque, so references stay valid as it grows).
    Matrix<T>& reshape_scratch(std::size_t k, Shape s) {
        if (!scratch) scratch = std::make_unique<std::deque<Matrix<T>>>();
        if (scratch->size() <= k) scratch->resize(k + 1);
        Matrix<T>& m = (*scratch)[k];
        const bool first = shape_of(m) == Shape{0, 0};
        detail::reshape_keeping(m, [this, k]() -> Matrix<T>& { return spare_at(spare().scratch, k); }, s);
        if (first) std::fill(m.begin(), m.end(), T(0));  // a new scratch matrix starts at zeros
        return m;
    }
    // The buffer of input j's gradient before un-broadcasting takes shape s.
    Matrix<T>& reshape_bscratch(std::size_t j, Shape s) {
        if (bscratch.size() < inputs.size()) bscratch.resize(inputs.size());
        detail::reshape_keeping(bscratch[j], [this, j]() -> Matrix<T>& { return spare_at(spare().bscratch, j); }, s);
        return bscratch[j];
    }
    static Matrix<T>& spare_at(std::vector<Matrix<T>>& v, std::size_t k) {
        if (v.size() <= k) v.resize(k + 1);
        return v[k];
    }
};

template <class T>
struct Graph<T>::Impl {
    std::deque<Node> nodes;  // stable addresses, creation order
    std::vector<std::uint32_t> leaves;
    std::unordered_map<const void*, std::uint32_t> param_leaf;  // a Parameter's storage → its one leaf
    // Per-call scratch for contexts, sized to the largest arity seen.
    std::vector<ConstView<T>> views;
    std::vector<GradSink<T>> sinks;
    std::vector<char> pass;
    std::vector<char> need;
    std::vector<T> pass_scale;
    std::vector<char> bsink;  // 1 where input j's sink is its bscratch
    std::vector<char> bacc;   // accumulate flag for the bscratch → grad reduction
    // The backward plan, cached for one loss. Nodes created later cannot be
    // its ancestors, so the plan of a loss never goes stale as the graph
    // grows; a shape change invalidates it (gradient sharing depends on shapes).
    BackwardPlan plan;
    bool plan_valid = false;
    std::uint64_t epoch = 0;
    std::uint64_t forwards = 0;  // forward() calls: the age of the values
    // The node shapes before the last re-inference (reinfer_shapes), or
    // empty: the answer when the leaves take those shapes again.
    std::vector<Shape> shapes_before;
    // make_plan's working arrays, kept so that re-planning allocates nothing.
    // The gradients the last sweep wrote in part (PlanEdge::some_rows): node
    // `node` has rows [begin, end) of its gradient; op node `consumer`'s
    // backward, for its input `slot`, writes the others when Graph::grad
    // asks, if the values are still those of the sweep (forward() number
    // `forwards`, the consumer's leaf inputs at the versions
    // partial_versions[first_version …]). Cleared by each sweep, keeping
    // their capacity.
    struct PartialGrad {
        std::uint32_t node = 0, consumer = 0, slot = 0;
        std::size_t begin = 0, end = 0;
        std::uint64_t forwards = 0;
        std::size_t first_version = 0;
    };
    std::vector<PartialGrad> partials;
    /// The record of node `id`'s partly computed gradient, or null.
    const PartialGrad* partial_of(std::uint32_t id) const {
        for (const PartialGrad& r : partials) {
            if (r.node == id) return &r;
        }
        return nullptr;
    }
    std::vector<std::uint64_t> partial_versions;
    std::vector<char> plan_written;
    std::vector<Shape> plan_shapes;
    std::vector<char> plan_needs;
    std::vector<std::uint32_t> plan_count;
    bool shapes_dirty = false;
    bool check_numerics = false;
    bool forward_incomplete = false;  // the last forward() threw part-way
    // Modes and random draws (Graph::set_mode, seed, hold_random_state).
    Mode mode = Mode::training;
    Rng rng{0};
    bool hold_random = false;
    bool recomputing = false;  // a value computed on request: ops keep their draws
};

}  // namespace xg

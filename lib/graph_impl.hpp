// The graph's node storage, shared by the files of the engine
// (graph.cpp: building and inspecting; graph_forward.cpp: replay, shapes,
// versions and numeric checks; graph_backward.cpp: the plan and the sweep).
// Internal to the library.
#pragma once

#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

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
    Node* grad_alias = nullptr;       // op node whose grad buffer this node shares (the plan's grad_owner)
    std::uint64_t grad_epoch = 0;     // sweep that last wrote grad
    std::uint64_t version = 0;        // input leaves: bumped by set_value (parameters count their own)
    std::uint64_t seen_version = 0;   // leaves: the version the node values were last computed from
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
    bool shapes_dirty = false;
    bool check_numerics = false;
    bool forward_incomplete = false;  // the last forward() threw part-way
};

}  // namespace xg

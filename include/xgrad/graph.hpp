// xgrad — the graph engine.
//
// A Graph owns its nodes in creation order. A node can only refer to nodes
// created before it, so creation order is a topological order: forward()
// walks the nodes forwards, backward() walks them backwards. No recursion, no
// hash sets: a chain of 100 000 nodes costs what 100 000 loop iterations cost.
//
// Leaves are *inputs* (data, no gradient) or *parameters* (trainable; their
// value and gradient live in a Parameter, shared by every graph that uses
// it). Every other node applies an Op to earlier nodes. Building a node
// computes its value at once; forward() replays the whole graph from the
// current leaf values; backward(loss) runs one reverse sweep.
//
// Buffers are allocated when a shape is first seen and reused afterwards:
// replaying a step with unchanged shapes allocates nothing. A buffer whose
// shape changes keeps the allocation of its previous shape beside it and
// swaps it back when that shape returns, so alternating two shapes (full
// mini-batches and the smaller last one) allocates nothing once both have
// been seen; the price is that both shapes' buffers are kept.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "xgrad/error.hpp"
#include "xgrad/op.hpp"
#include "xgrad/plan.hpp"
#include "xgrad/random.hpp"
#include "xgrad/tensor.hpp"

namespace xg {

template <class T>
class Graph;

/// A trainable matrix and its gradient. Copies share the same storage, so a
/// Parameter outlives any graph it is used in: rebuild a graph, or build a
/// second one for inference, and the weights stay.
template <class T>
class Parameter {
public:
    /// An empty handle (no storage).
    Parameter() = default;
    /// A parameter holding `value`; its gradient starts as zeros of the same shape.
    explicit Parameter(Matrix<T> value, std::string name = "");

    /// The value (shared by every copy of this handle).
    const Matrix<T>& value() const { return d_->value; }
    /// Writable value (an optimiser step writes here). Every call counts as a
    /// write: it advances version(), and a graph that computed its values
    /// from the old version refuses backward() until forward() has run (see
    /// Graph::backward). Read through a const reference (`std::as_const(p).value()`)
    /// to look without writing. Changing the shape is allowed between steps;
    /// the next forward() re-infers every shape.
    Matrix<T>& value() {
        ++d_->version;
        return d_->value;
    }
    /// How many times write access to the value was taken (value() on a
    /// non-const handle, by any copy): graphs compare it with the version
    /// their values were computed from.
    std::uint64_t version() const { return d_->version; }
    /// ∂loss/∂parameter from the last backward() (added to in GradMode::accumulate); the value's shape.
    const Matrix<T>& grad() const { return d_->grad; }
    /// Writable gradient. Every call counts as a write: the graph forgets
    /// which columns of the gradient the last sweep wrote, so the next sweep
    /// of an op that writes only a few (embedding) clears the whole buffer
    /// once. Read through a const reference (`std::as_const(p).grad()`) to
    /// look without writing, and scale with scale_grad().
    Matrix<T>& grad() {
        d_->grad_columns.forget();
        return d_->grad;
    }
    /// Multiply the gradient by `s` (gradient clipping). For a finite `s`
    /// zeros stay zeros, so this does not count as a write (see grad()).
    void scale_grad(T s);
    /// Which columns of the gradient may be non-zero, when known: kept by the
    /// sweeps of ops that write only a few columns (embedding), so that the
    /// next sweep clears only those; unknown after any other write.
    const GradColumns& grad_columns() const { return d_->grad_columns; }
    /// The name given at construction (its leaves' default name, its checkpoint file name).
    const std::string& name() const { return d_->name; }
    Shape shape() const { return shape_of(d_->value); }
    /// Set the gradient to zeros (of the value's shape).
    void zero_grad();

    /// True when the handle has storage.
    explicit operator bool() const { return d_ != nullptr; }
    /// The same storage (not merely equal values).
    friend bool operator==(const Parameter& a, const Parameter& b) { return a.d_ == b.d_; }
    friend bool operator!=(const Parameter& a, const Parameter& b) { return a.d_ != b.d_; }

private:
    friend class Graph<T>;
    struct Data {
        Matrix<T> value;
        Matrix<T> grad;
        std::string name;
        std::uint64_t version = 0;
        GradColumns grad_columns;  // which of grad's columns may be non-zero
    };
    std::shared_ptr<Data> d_;
};

/// A handle to a node: {graph, id}. Cheap to copy; valid while its graph lives.
/// Operators and functions on Vars build new nodes (see xgrad/ops.hpp).
template <class T>
class Var {
public:
    /// An empty handle (no graph).
    Var() = default;
    /// Node `id` of `g` (ops and Graph::var make these).
    Var(Graph<T>* g, std::uint32_t id) : g_(g), id_(id) {}

    /// The node's graph. Throws GraphError for an empty Var.
    Graph<T>& graph() const;
    /// The node's index in creation order.
    std::uint32_t id() const { return id_; }
    /// True unless empty.
    explicit operator bool() const { return g_ != nullptr; }

    /// The node's value (as of its build or the last forward()). The
    /// reference stays valid while the graph lives and shows the current
    /// value, also after a forward() on a new shape; a pointer to its
    /// entries (data()) holds only while the shape stays.
    const Matrix<T>& value() const;
    /// ∂loss/∂node from the last backward(loss). Throws GraphError if that
    /// sweep did not reach this node. Take the reference again after each
    /// backward(): a sweep from another loss, or on new shapes, may keep the
    /// gradient in another node's buffer (shared buffers).
    const Matrix<T>& grad() const;
    Shape shape() const;
    /// The user-given name, or a generated one ("t7").
    std::string name() const;
    /// Give the node a name (shown in errors and equations); returns *this.
    Var named(const std::string& name) const;

private:
    Graph<T>* g_ = nullptr;
    std::uint32_t id_ = 0;
};

/// What a node is: a data leaf, a trainable leaf, or an op applied to earlier nodes.
enum class NodeKind { input, parameter, op };

/// What backward() does to parameter gradients already present.
enum class GradMode {
    overwrite,   ///< each parameter's grad becomes this sweep's gradient (default)
    accumulate,  ///< this sweep's gradient is added to each parameter's grad
};

/// Training or evaluation: what the ops that behave differently in the two
/// do (dropout draws a mask or is the identity; batch_norm normalises with
/// the batch's statistics and updates its running averages, or normalises
/// with those averages).
enum class Mode {
    training,    ///< the default
    evaluation,
};

/// Owns nodes in creation order (a topological order); builds, replays and
/// differentiates them. Not copyable. See docs/reference/graph.md.
template <class T>
class Graph {
public:
    Graph();
    ~Graph();
    Graph(const Graph&) = delete;
    Graph& operator=(const Graph&) = delete;

    // ---- building ------------------------------------------------------
    /// A data leaf holding a copy of `value`. It carries no gradient unless
    /// `requires_grad` is true: then backward() also computes ∂loss/∂input
    /// (a gradient with respect to the data, e.g. to check or visualise it).
    /// Throws ShapeError for an empty matrix.
    Var<T> input(const Matrix<T>& value, const std::string& name = "", bool requires_grad = false);
    /// A leaf for an existing parameter; named after it unless `name` is given.
    Var<T> parameter(const Parameter<T>& p, const std::string& name = "");
    /// A leaf for a new parameter initialised to `value`.
    Var<T> parameter(const Matrix<T>& value, const std::string& name = "");
    /// A node applying `op` to `inputs`: checks that the inputs belong to
    /// this graph, infers the shape (ShapeError on mismatch) and computes the
    /// value at once.
    Var<T> apply(std::shared_ptr<const Op<T>> op, const std::vector<Var<T>>& inputs,
                 const std::string& name = "");

    // ---- running -------------------------------------------------------
    /// Replace the value of an input leaf (new data). A new shape is allowed;
    /// the next forward() re-infers every shape (ShapeError if the graph no
    /// longer fits, leaving the graph as it was). The same shape is copied
    /// into the leaf's buffer; a new one gets a new buffer and the old one
    /// is kept aside, to be swapped back in when the leaf (and, through
    /// forward() and backward(), every node) takes that shape again.
    void set_value(Var<T> input, const Matrix<T>& value);
    /// Recompute every node from the current leaf values. If it throws (a
    /// ValueError from an op, say), backward() refuses to run until a
    /// forward() completes.
    void forward();
    /// One reverse sweep from `loss` (a 1x1 node): afterwards grad() of every
    /// node on a path from a parameter to the loss holds ∂loss/∂node, and
    /// each parameter's grad() is overwritten (or, with GradMode::accumulate,
    /// added to). Intermediate gradients are always this sweep's. The sweep
    /// runs backward_plan(loss).
    /// Throws GraphError, changing nothing, for a non-scalar loss, after a
    /// forward() that failed part-way, and when a leaf of the loss's graph
    /// changed since the values were computed — a new shape, set_value(), or
    /// write access to a parameter's value (an optimiser step): the values
    /// would mix two states. Call forward() first (or accept_changed_leaves()).
    void backward(Var<T> loss, GradMode mode = GradMode::overwrite);
    /// Declare the recorded node values current although leaves were written
    /// since the last forward() (same shapes only): backward() then
    /// differentiates the values as recorded instead of refusing. For when
    /// the write did not change the numbers, or differentiating the old state
    /// is what you want.
    void accept_changed_leaves();

    /// Numeric-debug mode (off by default; when off it costs one branch per
    /// node). When on, building, forward() and backward() stop at the first
    /// leaf or node whose value, or gradient, has a NaN or ±Inf entry, and
    /// throw a ValueError naming that node, its op, its shape and the entry.
    void check_numerics(bool on);
    bool checking_numerics() const;

    // ---- modes and random draws ------------------------------------------
    /// Switch between Mode::training (the default) and Mode::evaluation. It
    /// changes no value by itself: the next node built, or the next
    /// forward(), computes in the new mode (backward() differentiates the
    /// values as the last forward computed them).
    void set_mode(Mode mode);
    Mode mode() const;
    /// True in Mode::training.
    bool training() const { return mode() == Mode::training; }
    /// Reseed the generator the random ops draw from (dropout's masks), like
    /// np.random.seed(seed): the same seed, graph and calls give the same
    /// masks. A new graph is seeded with 0.
    void seed(std::uint32_t seed);
    /// That generator (each training build or forward() of a dropout node
    /// draws its mask from it, in node order).
    Rng& rng();
    /// Hold the random state: while on, a training forward() keeps each
    /// dropout mask already drawn (drawing only for a node that has none of
    /// its shape) and batch_norm leaves its running averages as they are, so
    /// the graph is a fixed function of its leaves. check_gradients holds it
    /// during a check. Off by default.
    void hold_random_state(bool on);
    bool holding_random_state() const;

    // ---- inspecting ----------------------------------------------------
    // Nodes are numbered 0, 1, … in creation order (Var::id()); every
    // accessor throws GraphError for an id that is not in the graph.

    /// The number of nodes.
    std::size_t size() const;
    NodeKind kind(std::uint32_t id) const;
    /// The op of an op node (nullptr for leaves).
    const Op<T>* op(std::uint32_t id) const;
    /// The ids of an op node's inputs (empty for a leaf).
    const std::vector<std::uint32_t>& inputs(std::uint32_t id) const;
    /// User-given name, or "" when none was given.
    const std::string& given_name(std::uint32_t id) const;
    /// User-given name, or the generated "t<id>".
    std::string name(std::uint32_t id) const;
    void set_name(std::uint32_t id, const std::string& name);
    /// The node's shape as of its build or the last forward().
    Shape shape(std::uint32_t id) const;
    /// The node's value (a parameter leaf's is its Parameter's). The value of
    /// an op node whose buffer the engine shares with its only consumer (W·X
    /// in W·X + b, see Op::forward_in_place) is computed here, on the first
    /// call after each forward(), into a buffer of its own; GraphError if a
    /// leaf it reads changed since (call forward() first).
    const Matrix<T>& value(std::uint32_t id) const;
    /// True when the last backward() computed a gradient for this node.
    bool has_grad(std::uint32_t id) const;
    /// That gradient; GraphError when has_grad(id) is false.
    const Matrix<T>& grad(std::uint32_t id) const;
    /// True when gradients can flow to this node (a parameter, or an op with
    /// a differentiable input that requires one).
    bool requires_grad(std::uint32_t id) const;
    /// The Parameter behind a parameter leaf.
    Parameter<T> parameter_of(std::uint32_t id) const;
    /// Scratch matrix k that op node `id` keeps between replays (see
    /// ForwardContext::scratch; dropout's mask is its scratch 0), to look
    /// at. GraphError when the node has no scratch matrix k.
    const Matrix<T>& scratch(std::uint32_t id, std::size_t k) const;
    /// Every parameter used by the graph, in creation order (each once).
    std::vector<Parameter<T>> parameters() const;
    /// A Var for node `id`.
    Var<T> var(std::uint32_t id);
    /// The plan of the reverse sweep from node `loss` (a 1 × 1 node): which
    /// nodes get a gradient, the order of the visits, how each contribution is
    /// written, which gradient buffers are shared. backward() executes it,
    /// explain() and to_dot() print it. Computed on first use and kept until
    /// shapes change (or another loss is planned). GraphError for a
    /// non-scalar loss.
    const BackwardPlan& backward_plan(std::uint32_t loss) const;

private:
    friend class BackwardContext<T>;
    friend class ForwardContext<T>;
    struct Node;
    struct Impl;
    std::unique_ptr<Impl> impl_;

    Node& node(std::uint32_t id);
    const Node& node(std::uint32_t id) const;
    const Matrix<T>& value_ref(const Node& n) const;
    Matrix<T>& value_out(Node& n);
    Matrix<T>& grad_ref(Node& n);
    void run_forward_into(std::uint32_t id, MutView<T> out);
    void fuse_value(std::uint32_t id);
    void unfuse_value(std::uint32_t id);
    const Matrix<T>& fused_value(std::uint32_t id);
    std::uint64_t leaf_version(const Node& n) const;
    Var<T> add_leaf(NodeKind kind, const std::string& name, const Matrix<T>* value, const Parameter<T>* p,
                    bool requires_grad);
    void run_forward(std::uint32_t id);
    Matrix<T>& scratch_matrix(std::uint32_t id, std::size_t k, Shape s);
    void check_leaf_shapes();
    void check_not_empty_value(Shape s, const std::string& name) const;
    void check_leaves_current(const BackwardPlan& plan) const;
    void reinfer_shapes();
    void infer_shapes(std::vector<Shape>& shapes) const;
    void make_plan(std::uint32_t loss) const;
    void prepare_gradients(const BackwardPlan& plan, GradMode mode);
    void visit(const BackwardPlan& plan, const PlanVisit& v, GradMode mode);
    void run_backward(std::uint32_t id);
    void complete_grad(std::uint32_t id);
    void do_pass_through(std::uint32_t id, std::size_t i, T s);
    void prepare_sink(std::uint32_t id, std::size_t j);
    void check_finite_value(std::uint32_t id);
    void check_finite_grad(std::uint32_t id, std::uint32_t input);
    void check_finite_leaf(std::uint32_t id);
    std::string label(std::uint32_t id) const;
};

// ---- Var inline members -------------------------------------------------
template <class T>
Graph<T>& Var<T>::graph() const {
    if (!g_) throw GraphError("xgrad: use of an empty Var (default-constructed, no graph)");
    return *g_;
}
template <class T>
const Matrix<T>& Var<T>::value() const { return graph().value(id_); }
template <class T>
const Matrix<T>& Var<T>::grad() const { return graph().grad(id_); }
template <class T>
Shape Var<T>::shape() const { return graph().shape(id_); }
template <class T>
std::string Var<T>::name() const { return graph().name(id_); }
template <class T>
Var<T> Var<T>::named(const std::string& name) const {
    graph().set_name(id_, name);
    return *this;
}

extern template class Parameter<float>;
extern template class Parameter<double>;
extern template class Graph<float>;
extern template class Graph<double>;

}  // namespace xg

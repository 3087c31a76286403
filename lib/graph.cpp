// The engine, part 1: parameters, building nodes, and inspecting the graph.
// (Replay, shapes and versions: graph_forward.cpp; the plan and the reverse
// sweep: graph_backward.cpp.)
#include <algorithm>
#include <cmath>

#include "graph_impl.hpp"
#include "instantiate.hpp"

namespace xg {

// ---- Parameter ------------------------------------------------------------

template <class T>
Parameter<T>::Parameter(Matrix<T> value, std::string name) : d_(std::make_shared<Data>()) {
    d_->value = std::move(value);
    d_->grad = xt::zeros<T>(d_->value.shape());
    d_->grad_columns.set_all_zero();
    d_->name = std::move(name);
}

template <class T>
void Parameter<T>::zero_grad() {
    ensure_shape(d_->grad, shape());
    std::fill(d_->grad.begin(), d_->grad.end(), T(0));
    d_->grad_columns.set_all_zero();
}

template <class T>
void Parameter<T>::scale_grad(T s) {
    for (T& v : d_->grad) v *= s;
    if (!std::isfinite(s)) d_->grad_columns.forget();  // 0 · ±Inf is NaN
}

// ---- Graph internals --------------------------------------------------------

template <class T>
Graph<T>::Graph() : impl_(std::make_unique<Impl>()) {}

template <class T>
Graph<T>::~Graph() = default;

template <class T>
typename Graph<T>::Node& Graph<T>::node(std::uint32_t id) {
    if (id >= impl_->nodes.size()) throw GraphError("xgrad: node id " + std::to_string(id) + " is not in this graph");
    return impl_->nodes[id];
}

template <class T>
const typename Graph<T>::Node& Graph<T>::node(std::uint32_t id) const {
    if (id >= impl_->nodes.size()) throw GraphError("xgrad: node id " + std::to_string(id) + " is not in this graph");
    return impl_->nodes[id];
}

template <class T>
const Matrix<T>& Graph<T>::value_ref(const Node& n) const {
    // Through the const handle: the engine reading a parameter is not a write.
    if (n.kind == NodeKind::parameter) return n.param.d_->value;
    return n.value_alias ? n.value_alias->value : n.value;
}

template <class T>
Matrix<T>& Graph<T>::value_out(Node& n) {
    return n.value_alias ? n.value_alias->value : n.value;
}

template <class T>
Matrix<T>& Graph<T>::grad_ref(Node& n) {
    if (n.kind == NodeKind::parameter) return n.param.d_->grad;
    return n.grad_alias ? n.grad_alias->grad : n.grad;
}

template <class T>
std::uint64_t Graph<T>::leaf_version(const Node& n) const {
    return n.kind == NodeKind::parameter ? n.param.version() : n.version;
}

template <class T>
std::string Graph<T>::name(std::uint32_t id) const {
    const Node& n = node(id);
    return n.name.empty() ? "t" + std::to_string(id) : n.name;
}

template <class T>
std::string Graph<T>::label(std::uint32_t id) const {
    // "J = binary_cross_entropy(A2, Y)" or "tanh(Z1)" for an unnamed node.
    const Node& n = node(id);
    std::string s;
    if (!n.name.empty()) s = n.name + " = ";
    if (!n.op) return s.empty() ? name(id) : n.name;
    s += n.op->name() + "(";
    for (std::size_t j = 0; j < n.inputs.size(); ++j) {
        if (j) s += ", ";
        s += name(n.inputs[j]);
    }
    return s + ")";
}

namespace {
/// "matmul(W1, X)": an op call as messages name it.
std::string call_text(const std::string& op, const std::vector<std::string>& names) {
    std::string s = op + "(";
    for (std::size_t j = 0; j < names.size(); ++j) s += (j ? ", " : "") + names[j];
    return s + ")";
}

void check_not_empty(Shape s, const char* what, const std::string& name) {
    if (s.rows == 0 || s.cols == 0) {
        throw ShapeError(std::string(what) + " " + (name.empty() ? std::string("(unnamed)") : name) + " is empty [" + to_string(s) +
                         "]: xgrad matrices have at least one row and one column");
    }
}
}  // namespace

// ---- building -----------------------------------------------------------------
//
// The promise: an exception while building a node — a shape error, an op's
// ValueError, or an allocation failure anywhere — leaves the graph exactly as
// it was. Everything that can fail happens inside a try block that removes
// the half-built node again.

template <class T>
Var<T> Graph<T>::add_leaf(NodeKind kind, const std::string& name, const Matrix<T>* value, const Parameter<T>* p,
                          bool requires_grad) {
    Impl& im = *impl_;
    const auto id = static_cast<std::uint32_t>(im.nodes.size());
    im.nodes.emplace_back();
    bool listed = false;
    try {
        Node& n = im.nodes.back();
        n.kind = kind;
        n.requires_grad = requires_grad;
        n.name = name;
        if (p) {
            n.param = *p;
            n.shape = p->shape();
            n.seen_version = p->version();
        } else {
            n.value = *value;
            n.shape = shape_of(*value);
        }
        im.leaves.push_back(id);
        listed = true;
        if (p) im.param_leaf.emplace(p->d_.get(), id);
    } catch (...) {
        if (listed) im.leaves.pop_back();
        im.nodes.pop_back();
        throw;
    }
    return Var<T>(this, id);
}

template <class T>
Var<T> Graph<T>::input(const Matrix<T>& value, const std::string& name, bool requires_grad) {
    check_not_empty(shape_of(value), "input", name);
    return add_leaf(NodeKind::input, name, &value, nullptr, requires_grad);
}

template <class T>
Var<T> Graph<T>::parameter(const Parameter<T>& p, const std::string& name) {
    if (!p) throw GraphError("parameter: empty Parameter handle (no storage)");
    check_not_empty(p.shape(), "parameter", name.empty() ? p.name() : name);
    // One leaf per Parameter: its gradient storage is shared, so two leaves
    // would overwrite each other's contributions.
    const auto found = impl_->param_leaf.find(p.d_.get());
    if (found != impl_->param_leaf.end()) {
        if (!name.empty()) impl_->nodes[found->second].name = name;
        return Var<T>(this, found->second);
    }
    return add_leaf(NodeKind::parameter, name.empty() ? p.name() : name, nullptr, &p, true);
}

template <class T>
Var<T> Graph<T>::parameter(const Matrix<T>& value, const std::string& name) {
    check_not_empty(shape_of(value), "parameter", name);
    return parameter(Parameter<T>(value, name), name);
}

template <class T>
Var<T> Graph<T>::apply(std::shared_ptr<const Op<T>> op, const std::vector<Var<T>>& inputs,
                       const std::string& name) {
    if (!op) throw GraphError("apply: null op");
    Impl& im = *impl_;
    const std::string opname = op->name();
    std::vector<Shape> shapes;
    std::vector<std::string> names;
    for (std::size_t j = 0; j < inputs.size(); ++j) {
        const Var<T>& v = inputs[j];
        if (!v) throw GraphError(opname + ": input " + std::to_string(j) + " is an empty Var (no graph)");
        if (&v.graph() != this) {
            throw GraphError(opname + ": input " + std::to_string(j) + " (" + v.name() +
                             ") belongs to another graph; nodes of different graphs cannot be combined");
        }
        const Node& a = node(v.id());
        if (a.kind != NodeKind::op && shape_of(value_ref(a)) != a.shape) {
            // Shapes are inferred from the recorded shape, kernels read the
            // value as it is now: building on a reshaped leaf would read out
            // of bounds.
            throw GraphError(opname + ": " + this->name(v.id()) + " changed shape from [" + to_string(a.shape) +
                             "] to [" + to_string(shape_of(value_ref(a))) +
                             "]; call forward() before building new nodes on it");
        }
        if (im.check_numerics && a.kind != NodeKind::op) check_finite_leaf(v.id());
        shapes.push_back(shape(v.id()));
        names.push_back(this->name(v.id()));
    }
    if (im.shapes_dirty) {
        throw GraphError(opname + ": an input leaf changed shape; call forward() before building new nodes");
    }
    const ShapeContext context(opname, shapes, names);
    const Shape s = op->shape(context);
    if (s.rows == 0 || s.cols == 0) context.fail("the op's shape() gave an empty output [" + to_string(s) + "]");
    checked_size(s, sizeof(T), call_text(opname, names));

    // Per-call scratch for the contexts: each grown on its own, so a failure
    // part-way leaves every one at least as large as its recorded size.
    const std::size_t k = inputs.size();
    if (im.views.size() < k) im.views.resize(k);
    if (im.sinks.size() < k) im.sinks.resize(k);
    if (im.pass.size() < k) im.pass.resize(k);
    if (im.need.size() < k) im.need.resize(k);
    if (im.pass_scale.size() < k) im.pass_scale.resize(k);
    if (im.bsink.size() < k) im.bsink.resize(k);
    if (im.bacc.size() < k) im.bacc.resize(k);

    const auto id = static_cast<std::uint32_t>(im.nodes.size());
    im.nodes.emplace_back();
    try {
        Node& n = im.nodes.back();
        n.kind = NodeKind::op;
        n.op = std::move(op);
        n.name = name;
        n.shape = s;
        n.inputs.reserve(k);
        for (std::size_t j = 0; j < k; ++j) {
            n.inputs.push_back(inputs[j].id());
            if (n.op->differentiable(j) && node(inputs[j].id()).requires_grad) n.requires_grad = true;
        }
        // An input whose value shares its consumer's buffer gets one of its
        // own now that it has a second reader.
        for (std::size_t j = 0; j < k; ++j) {
            if (node(inputs[j].id()).value_alias) unfuse_value(inputs[j].id());
        }
        n.value.resize({s.rows, s.cols});
        run_forward(id);
        if (im.check_numerics) check_finite_value(id);
    } catch (...) {
        im.nodes.pop_back();  // leave the graph as it was
        throw;
    }
    // Nothing below can fail.
    Node& n = im.nodes.back();
    for (std::size_t j = 0; j < k; ++j) {
        const std::uint32_t in = n.inputs[j];
        if (std::find(n.inputs.begin(), n.inputs.begin() + j, in) == n.inputs.begin() + j) ++im.nodes[in].readers;
    }
    fuse_value(id);
    return Var<T>(this, id);
}

// ---- fused values -------------------------------------------------------------

namespace {
/// Marks a value computed again on request: an op that draws (dropout) or
/// keeps running averages (batch_norm) must then compute what it computed in
/// the last forward, so it keeps its draws and averages (ForwardContext::holding).
struct Recomputing {
    bool& flag;
    bool was;
    explicit Recomputing(bool& f) : flag(f), was(f) { flag = true; }
    ~Recomputing() { flag = was; }
    Recomputing(const Recomputing&) = delete;
    Recomputing& operator=(const Recomputing&) = delete;
};
}  // namespace
//
// W·X in W·X + b: an op node read by one consumer only, of the consumer's
// shape, whose consumer computes in place over it (Op::forward_in_place) and
// whose own backward does not read its value, keeps its value in the
// consumer's buffer: forward() writes W·X there and the add overwrites it with
// W·X + b. The graph holds one buffer less, and every number is what it was
// (the same operations on the same values). A node takes part in one such
// pair at most, as the producer or as the consumer.

template <class T>
void Graph<T>::fuse_value(std::uint32_t id) {
    Impl& im = *impl_;
    Node& c = im.nodes[id];
    for (std::size_t j = 0; j < c.inputs.size(); ++j) {
        const std::uint32_t in = c.inputs[j];
        Node& p = im.nodes[in];
        const bool once = std::count(c.inputs.begin(), c.inputs.end(), in) == 1;
        if (p.kind != NodeKind::op || p.readers != 1 || !once || p.shape != c.shape || p.value_alias ||
            p.absorbed || !c.op->forward_in_place(j) || p.op->backward_reads_output()) {
            continue;
        }
        p.value_alias = &c;
        c.absorbed = true;
        p.materialised = std::uint64_t(-1);
        p.value = Matrix<T>();  // the buffer is freed
        if (p.spares) p.spares->value = Matrix<T>();
        return;
    }
}

template <class T>
void Graph<T>::unfuse_value(std::uint32_t id) {
    Node& p = impl_->nodes[id];
    if (shape_of(p.value) != p.shape || p.materialised != impl_->forwards) {
        // Computed from its inputs as they are (all of them hold their own
        // values: the producer of a pair consumes no fused value) — which
        // must still have the shapes p was built on: a leaf reshaped since
        // (a Parameter given a matrix of another shape) would be read out of
        // bounds.
        for (const std::uint32_t j : p.inputs) {
            const Node& a = impl_->nodes[j];
            if (shape_of(value_ref(a)) != a.shape) {
                throw GraphError(name(id) + " = " + p.op->name() + "(…): its input " + name(j) + " changed shape from [" +
                                 to_string(a.shape) + "] to [" + to_string(shape_of(value_ref(a))) +
                                 "]; call forward() before building new nodes on " + name(id));
            }
        }
        Matrix<T> v({p.shape.rows, p.shape.cols});
        const Recomputing keep_draws(impl_->recomputing);
        run_forward_into(id, view(v));
        std::swap(p.value, v);
    }
    p.value_alias->absorbed = false;
    p.value_alias = nullptr;
    p.materialised = std::uint64_t(-1);
}

template <class T>
const Matrix<T>& Graph<T>::fused_value(std::uint32_t id) {
    Impl& im = *impl_;
    Node& p = im.nodes[id];
    if (p.materialised == im.forwards && shape_of(p.value) == p.shape) return p.value;
    for (std::uint32_t j : p.inputs) {
        const Node& a = im.nodes[j];
        if (a.kind != NodeKind::op && leaf_version(a) != a.seen_version) {
            throw GraphError("value(" + name(id) + "): " + label(id) +
                             " shares its buffer with its consumer, so its value is computed on request, and " +
                             name(j) + " changed since the last forward(); call forward() first");
        }
    }
    Matrix<T> v({p.shape.rows, p.shape.cols});
    const Recomputing keep_draws(im.recomputing);
    run_forward_into(id, view(v));
    std::swap(p.value, v);
    p.materialised = im.forwards;
    return p.value;
}

// ---- inspecting ---------------------------------------------------------------

template <class T>
std::size_t Graph<T>::size() const { return impl_->nodes.size(); }

template <class T>
NodeKind Graph<T>::kind(std::uint32_t id) const { return node(id).kind; }

template <class T>
const Op<T>* Graph<T>::op(std::uint32_t id) const { return node(id).op.get(); }

template <class T>
const std::vector<std::uint32_t>& Graph<T>::inputs(std::uint32_t id) const { return node(id).inputs; }

template <class T>
const std::string& Graph<T>::given_name(std::uint32_t id) const { return node(id).name; }

template <class T>
void Graph<T>::set_name(std::uint32_t id, const std::string& name) { node(id).name = name; }

template <class T>
Shape Graph<T>::shape(std::uint32_t id) const { return node(id).shape; }

template <class T>
const Matrix<T>& Graph<T>::value(std::uint32_t id) const {
    const Node& n = node(id);
    if (n.value_alias) return const_cast<Graph*>(this)->fused_value(id);
    return value_ref(n);
}

template <class T>
bool Graph<T>::has_grad(std::uint32_t id) const {
    const Node& n = node(id);
    return impl_->epoch != 0 && n.grad_epoch == impl_->epoch;
}

template <class T>
const Matrix<T>& Graph<T>::grad(std::uint32_t id) const {
    if (!has_grad(id)) {
        throw GraphError("grad(" + name(id) + "): the last backward() did not reach " + name(id) +
                         " (it needs no gradient, or backward() has not run)");
    }
    Graph& self = *const_cast<Graph*>(this);
    Node& n = self.node(id);
    if (n.partial) self.complete_grad(id);  // the rows the sweep did not need
    return self.grad_ref(n);
}

template <class T>
bool Graph<T>::requires_grad(std::uint32_t id) const { return node(id).requires_grad; }

template <class T>
Parameter<T> Graph<T>::parameter_of(std::uint32_t id) const {
    const Node& n = node(id);
    if (n.kind != NodeKind::parameter) throw GraphError("parameter_of(" + name(id) + "): not a parameter leaf");
    return n.param;
}

template <class T>
std::vector<Parameter<T>> Graph<T>::parameters() const {
    // Each Parameter has exactly one leaf, so listing the leaves lists each once.
    std::vector<Parameter<T>> out;
    for (std::uint32_t id : impl_->leaves) {
        const Node& n = impl_->nodes[id];
        if (n.kind == NodeKind::parameter) out.push_back(n.param);
    }
    return out;
}

template <class T>
Var<T> Graph<T>::var(std::uint32_t id) {
    node(id);  // bounds check
    return Var<T>(this, id);
}

// ---- modes and random draws ---------------------------------------------------

template <class T>
void Graph<T>::set_mode(Mode mode) { impl_->mode = mode; }

template <class T>
Mode Graph<T>::mode() const { return impl_->mode; }

template <class T>
void Graph<T>::seed(std::uint32_t seed) { impl_->rng = Rng(seed); }

template <class T>
Rng& Graph<T>::rng() { return impl_->rng; }

template <class T>
void Graph<T>::hold_random_state(bool on) { impl_->hold_random = on; }

template <class T>
bool Graph<T>::holding_random_state() const { return impl_->hold_random; }

template <class T>
const Matrix<T>& Graph<T>::scratch(std::uint32_t id, std::size_t k) const {
    const Node& n = node(id);
    if (!n.scratch || k >= n.scratch->size()) {
        throw GraphError("scratch(" + name(id) + ", " + std::to_string(k) + "): " + label(id) +
                         " keeps no scratch matrix " + std::to_string(k));
    }
    return (*n.scratch)[k];
}

#define XG_GRAPH_INSTANTIATIONS(T) \
    template class Parameter<T>;   \
    template class Graph<T>;
XG_INSTANTIATE_FLOAT_DOUBLE(XG_GRAPH_INSTANTIATIONS)
#undef XG_GRAPH_INSTANTIATIONS

}  // namespace xg

// The engine: node storage, build, forward replay and the reverse sweep.
#include "xgrad/graph.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <sstream>

#include "broadcast.hpp"

namespace xg {

// ---- Parameter ------------------------------------------------------------

template <class T>
Parameter<T>::Parameter(Matrix<T> value, std::string name) : d_(std::make_shared<Data>()) {
    d_->value = std::move(value);
    d_->grad = xt::zeros<T>(d_->value.shape());
    d_->name = std::move(name);
}

template <class T>
void Parameter<T>::zero_grad() {
    ensure_shape(d_->grad, shape());
    std::fill(d_->grad.begin(), d_->grad.end(), T(0));
}

// ---- Graph internals --------------------------------------------------------

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
    std::deque<Matrix<T>> scratch;    // the op's own scratch (references stay valid as it grows)
    std::vector<Matrix<T>> bscratch;  // per input: gradient before un-broadcasting
    bool requires_grad = false;
    Node* grad_alias = nullptr;       // op node whose grad buffer this node shares (see plan_backward)
    std::uint64_t grad_epoch = 0;     // sweep that last wrote grad
};

template <class T>
struct Graph<T>::Impl {
    std::deque<Node> nodes;  // stable addresses, creation order
    std::vector<std::uint32_t> leaves;
    // Per-call scratch for contexts, sized to the largest arity seen.
    std::vector<ConstView<T>> views;
    std::vector<GradSink<T>> sinks;
    std::vector<char> pass;
    std::vector<char> need;
    std::vector<T> pass_scale;
    std::vector<char> bsink;   // 1 where input j's sink is its bscratch
    std::vector<char> bacc;    // accumulate flag for the bscratch → grad reduction
    // Backward plan, cached for one loss. Nodes created later cannot be its
    // ancestors, so the plan of a loss never goes stale.
    std::uint32_t plan_loss = std::numeric_limits<std::uint32_t>::max();
    std::vector<char> reach;
    std::vector<std::uint32_t> uses;
    std::vector<char> written;
    std::uint64_t epoch = 0;
    bool shapes_dirty = false;
    bool check_numerics = false;
    bool forward_incomplete = false;  // the last forward() threw part-way
};

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
Matrix<T>& Graph<T>::value_ref(Node& n) {
    return n.kind == NodeKind::parameter ? n.param.value() : n.value;
}

template <class T>
Matrix<T>& Graph<T>::grad_ref(Node& n) {
    if (n.kind == NodeKind::parameter) return n.param.grad();
    return n.grad_alias ? n.grad_alias->grad : n.grad;
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
void check_not_empty(Shape s, const char* what, const std::string& name) {
    if (s.rows == 0 || s.cols == 0) {
        throw ShapeError(std::string(what) + " " + (name.empty() ? std::string("(unnamed)") : name) + " is empty [" + to_string(s) +
                         "]: xgrad matrices have at least one row and one column");
    }
}
}  // namespace

// ---- building -----------------------------------------------------------------

template <class T>
Var<T> Graph<T>::input(const Matrix<T>& value, const std::string& name, bool requires_grad) {
    check_not_empty(shape_of(value), "input", name);
    Node& n = impl_->nodes.emplace_back();
    n.kind = NodeKind::input;
    n.requires_grad = requires_grad;
    n.name = name;
    n.value = value;
    n.shape = shape_of(value);
    const auto id = static_cast<std::uint32_t>(impl_->nodes.size() - 1);
    impl_->leaves.push_back(id);
    return Var<T>(this, id);
}

template <class T>
Var<T> Graph<T>::parameter(const Parameter<T>& p, const std::string& name) {
    if (!p) throw GraphError("parameter: empty Parameter handle (no storage)");
    check_not_empty(p.shape(), "parameter", name.empty() ? p.name() : name);
    // One leaf per Parameter: its gradient storage is shared, so two leaves
    // would overwrite each other's contributions.
    for (std::uint32_t id : impl_->leaves) {
        Node& old = impl_->nodes[id];
        if (old.kind == NodeKind::parameter && old.param == p) {
            if (!name.empty()) old.name = name;
            return Var<T>(this, id);
        }
    }
    Node& n = impl_->nodes.emplace_back();
    n.kind = NodeKind::parameter;
    n.param = p;
    n.name = name.empty() ? p.name() : name;
    n.shape = p.shape();
    n.requires_grad = true;
    const auto id = static_cast<std::uint32_t>(impl_->nodes.size() - 1);
    impl_->leaves.push_back(id);
    return Var<T>(this, id);
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
        Node& a = node(v.id());
        if (a.kind != NodeKind::op && shape_of(value_ref(a)) != a.shape) {
            // Shapes are inferred from the recorded shape, kernels read the
            // value as it is now: building on a reshaped leaf would read out
            // of bounds.
            throw GraphError(opname + ": " + this->name(v.id()) + " changed shape from [" + to_string(a.shape) +
                             "] to [" + to_string(shape_of(value_ref(a))) +
                             "]; call forward() before building new nodes on it");
        }
        if (impl_->check_numerics && a.kind != NodeKind::op) check_finite_leaf(v.id());
        shapes.push_back(shape(v.id()));
        names.push_back(this->name(v.id()));
    }
    if (impl_->shapes_dirty) {
        throw GraphError(opname + ": an input leaf changed shape; call forward() before building new nodes");
    }
    const Shape s = op->shape(ShapeContext(opname, shapes, names));

    Node& n = impl_->nodes.emplace_back();
    const auto id = static_cast<std::uint32_t>(impl_->nodes.size() - 1);
    n.kind = NodeKind::op;
    n.op = std::move(op);
    n.name = name;
    n.shape = s;
    n.inputs.reserve(inputs.size());
    for (std::size_t j = 0; j < inputs.size(); ++j) {
        n.inputs.push_back(inputs[j].id());
        if (n.op->differentiable(j) && node(inputs[j].id()).requires_grad) n.requires_grad = true;
    }
    n.value.resize({s.rows, s.cols});
    const std::size_t k = inputs.size();
    if (impl_->views.size() < k) {
        impl_->views.resize(k);
        impl_->sinks.resize(k);
        impl_->pass.resize(k);
        impl_->need.resize(k);
        impl_->pass_scale.resize(k);
        impl_->bsink.resize(k);
        impl_->bacc.resize(k);
    }
    try {
        run_forward(id);
        if (impl_->check_numerics) check_finite_value(id);
    } catch (...) {
        impl_->nodes.pop_back();  // leave the graph as it was
        throw;
    }
    return Var<T>(this, id);
}

// ---- forward ------------------------------------------------------------------

template <class T>
void Graph<T>::run_forward(std::uint32_t id) {
    Node& n = impl_->nodes[id];
    ConstView<T>* views = impl_->views.data();
    for (std::size_t j = 0; j < n.inputs.size(); ++j) views[j] = view(value_ref(impl_->nodes[n.inputs[j]]));
    ForwardContext<T> c;
    c.graph_ = this;
    c.node_ = id;
    c.in_ = views;
    c.n_in_ = n.inputs.size();
    c.out_ = view(n.value);
    c.scratch_ = &n.scratch;
    n.op->forward(c);
}

template <class T>
void Graph<T>::set_value(Var<T> input, const Matrix<T>& value) {
    if (!input || &input.graph() != this) throw GraphError("set_value: the node belongs to another graph");
    Node& n = node(input.id());
    if (n.kind != NodeKind::input) {
        throw GraphError("set_value(" + name(input.id()) +
                         "): only input leaves take new values; update a Parameter through its value()");
    }
    check_not_empty(shape_of(value), "set_value: input", n.name);
    if (shape_of(value) == shape_of(n.value)) {
        std::copy(value.begin(), value.end(), n.value.begin());  // same shape: reuse the buffer
    } else {
        n.value = value;
    }
    if (shape_of(value) != n.shape) impl_->shapes_dirty = true;
}

template <class T>
void Graph<T>::check_leaf_shapes(bool for_backward) {
    bool changed = impl_->shapes_dirty;
    for (std::uint32_t id : impl_->leaves) {
        Node& n = impl_->nodes[id];
        if (shape_of(value_ref(n)) != n.shape) {
            changed = true;
            if (for_backward) {
                throw GraphError("backward: leaf " + name(id) + " changed shape from [" + to_string(n.shape) + "] to [" +
                                 to_string(shape_of(value_ref(n))) + "] since the last forward(); call forward() first");
            }
        }
    }
    if (changed && !for_backward) reinfer_shapes();
}

template <class T>
void Graph<T>::reinfer_shapes() {
    // Infer into a side table first: on a ShapeError the graph keeps its shapes.
    const std::size_t count = impl_->nodes.size();
    std::vector<Shape> shapes(count);
    for (std::uint32_t id = 0; id < count; ++id) {
        Node& n = impl_->nodes[id];
        if (n.kind != NodeKind::op) {
            shapes[id] = shape_of(value_ref(n));
            check_not_empty(shapes[id], n.kind == NodeKind::parameter ? "parameter" : "input", name(id));
            continue;
        }
        std::vector<Shape> in;
        std::vector<std::string> names;
        for (std::uint32_t j : n.inputs) {
            in.push_back(shapes[j]);
            names.push_back(name(j));
        }
        shapes[id] = n.op->shape(ShapeContext(n.op->name(), in, names));
    }
    for (std::uint32_t id = 0; id < count; ++id) {
        Node& n = impl_->nodes[id];
        n.shape = shapes[id];
        if (n.kind == NodeKind::op) ensure_shape(n.value, n.shape);
    }
    impl_->shapes_dirty = false;
    impl_->plan_loss = std::numeric_limits<std::uint32_t>::max();  // gradient aliases depend on shapes
}

template <class T>
void Graph<T>::forward() {
    check_leaf_shapes(false);
    const std::size_t count = impl_->nodes.size();
    // Until this replay completes, values are a mix of two states: backward()
    // refuses to run on them.
    impl_->forward_incomplete = true;
    for (std::uint32_t id = 0; id < count; ++id) {
        if (impl_->nodes[id].kind != NodeKind::op) {
            if (impl_->check_numerics) check_finite_leaf(id);
            continue;
        }
        run_forward(id);
        if (impl_->check_numerics) check_finite_value(id);
    }
    impl_->forward_incomplete = false;
}

namespace {
/// Index of the first non-finite entry, or npos.
template <class T>
std::size_t first_non_finite(ConstView<T> v) {
    for (std::size_t k = 0; k < v.size(); ++k) {
        if (!std::isfinite(v[k])) return k;
    }
    return std::string::npos;
}

template <class T>
std::string entry_text(ConstView<T> v, std::size_t k) {
    std::ostringstream s;
    s << "(" << k / v.cols << ", " << k % v.cols << ") = " << v[k];
    return s.str();
}
}  // namespace

template <class T>
void Graph<T>::check_finite_value(std::uint32_t id) {
    const ConstView<T> v = view(value_ref(impl_->nodes[id]));
    const std::size_t k = first_non_finite(v);
    if (k == std::string::npos) return;
    throw ValueError("numeric check: " + label(id) + " [" + to_string(v.shape()) + "] computed a non-finite value at " +
                     entry_text(v, k));
}

template <class T>
void Graph<T>::check_finite_leaf(std::uint32_t id) {
    Node& n = impl_->nodes[id];
    const ConstView<T> v = view(value_ref(n));
    const std::size_t k = first_non_finite(v);
    if (k == std::string::npos) return;
    throw ValueError(std::string("numeric check: ") + (n.kind == NodeKind::parameter ? "parameter " : "input ") +
                     name(id) + " [" + to_string(v.shape()) + "] holds a non-finite value at " + entry_text(v, k));
}

template <class T>
void Graph<T>::check_finite_grad(std::uint32_t id, std::uint32_t input) {
    const ConstView<T> v = view(grad_ref(impl_->nodes[input]));
    const std::size_t k = first_non_finite(v);
    if (k == std::string::npos) return;
    throw ValueError("numeric check: the backward of " + label(id) + " gave a non-finite gradient for " + name(input) +
                     " [" + to_string(v.shape()) + "] at " + entry_text(v, k));
}

template <class T>
void Graph<T>::check_numerics(bool on) { impl_->check_numerics = on; }

template <class T>
bool Graph<T>::checking_numerics() const { return impl_->check_numerics; }

// ---- backward -----------------------------------------------------------------

template <class T>
void Graph<T>::plan_backward(std::uint32_t loss) {
    if (impl_->plan_loss == loss) return;
    std::vector<char>& reach = impl_->reach;
    reach.assign(impl_->nodes.size(), 0);
    reach[loss] = impl_->nodes[loss].requires_grad ? 1 : 0;
    for (std::uint32_t id = loss + 1; id-- > 0;) {
        if (!reach[id]) continue;
        const Node& n = impl_->nodes[id];
        if (n.kind != NodeKind::op) continue;
        for (std::size_t j = 0; j < n.inputs.size(); ++j) {
            const std::uint32_t in = n.inputs[j];
            if (n.op->differentiable(j) && impl_->nodes[in].requires_grad) reach[in] = 1;
        }
    }

    // Gradient aliases. When an op node's gradient is exactly its consumer's
    // gradient — one consumer, same shape, an identity formula (dt = dZ for
    // t in Z = t + b) — it shares the consumer's buffer instead of holding a
    // copy: one buffer and one pass less, and grad() reads the same numbers.
    std::vector<std::uint32_t>& uses = impl_->uses;
    uses.assign(impl_->nodes.size(), 0);
    for (std::uint32_t id = 0; id <= loss; ++id) {
        Node& n = impl_->nodes[id];
        n.grad_alias = nullptr;
        if (!reach[id] || n.kind != NodeKind::op) continue;
        for (std::size_t j = 0; j < n.inputs.size(); ++j) {
            if (n.op->differentiable(j) && reach[n.inputs[j]]) ++uses[n.inputs[j]];
        }
    }
    for (std::uint32_t id = loss + 1; id-- > 0;) {
        Node& n = impl_->nodes[id];
        if (!reach[id] || n.kind != NodeKind::op) continue;
        for (std::size_t j = 0; j < n.inputs.size(); ++j) {
            Node& a = impl_->nodes[n.inputs[j]];
            if (a.kind != NodeKind::op || uses[n.inputs[j]] != 1 || !reach[n.inputs[j]] || a.shape != n.shape ||
                !n.op->differentiable(j) || !sym::is_grad(n.op->grad_formula(j))) {
                continue;
            }
            a.grad_alias = n.grad_alias ? n.grad_alias : &n;
        }
    }
    impl_->plan_loss = loss;
}

template <class T>
void Graph<T>::backward(Var<T> loss, GradMode mode) {
    if (!loss || &loss.graph() != this) throw GraphError("backward: the loss node belongs to another graph");
    const std::uint32_t lid = loss.id();
    check_leaf_shapes(true);
    if (impl_->shapes_dirty) {
        throw GraphError("backward: an input leaf changed shape since the last forward(); call forward() first");
    }
    if (impl_->forward_incomplete) {
        throw GraphError("backward: the last forward() failed part-way, so the values mix two states; "
                         "fix its cause and call forward() again first");
    }
    Node& L = impl_->nodes[lid];
    if (L.shape != Shape{1, 1}) {
        throw GraphError("backward(" + name(lid) + "): the loss must be a 1x1 node, " + name(lid) + " is [" +
                         to_string(L.shape) + "]; reduce it first (e.g. a loss or a sum)");
    }
    plan_backward(lid);
    Impl& im = *impl_;
    if (im.reach.size() < im.nodes.size()) im.reach.resize(im.nodes.size(), 0);
    im.written.assign(im.nodes.size(), 0);
    ++im.epoch;

    // Seed: dJ/dJ = 1.
    {
        Matrix<T>& g = grad_ref(L);
        const bool acc = L.kind == NodeKind::parameter && mode == GradMode::accumulate;
        ensure_shape(g, Shape{1, 1});
        g(0, 0) = acc ? g(0, 0) + T(1) : T(1);
        im.written[lid] = 1;
        L.grad_epoch = im.epoch;
    }

    for (std::uint32_t id = lid + 1; id-- > 0;) {
        if (!im.reach[id]) continue;
        Node& n = im.nodes[id];
        if (n.kind != NodeKind::op) continue;
        const std::size_t k = n.inputs.size();
        const bool bcast = n.op->broadcasts();
        for (std::size_t j = 0; j < k; ++j) {
            const std::uint32_t in = n.inputs[j];
            Node& a = im.nodes[in];
            im.views[j] = view(value_ref(a));
            im.sinks[j] = GradSink<T>{};
            im.pass[j] = 0;
            im.need[j] = 0;
            im.bsink[j] = 0;
            if (!n.op->differentiable(j) || !im.reach[in]) continue;
            im.need[j] = 1;
            Matrix<T>& target = grad_ref(a);
            if (shape_of(target) != a.shape) {
                // A new shape (first sweep, or a reshaped parameter): whatever
                // the old buffer held is not a gradient of this value.
                target.resize({a.shape.rows, a.shape.cols});
                std::fill(target.begin(), target.end(), T(0));
            }
            bool acc = im.written[in] || (a.kind == NodeKind::parameter && mode == GradMode::accumulate);
            if (!acc) {
                // The same node twice among this op's inputs: zero it once and
                // let every occurrence add, whatever order the op writes in.
                for (std::size_t j2 = j + 1; j2 < k; ++j2) {
                    if (n.inputs[j2] == in && n.op->differentiable(j2)) {
                        std::fill(target.begin(), target.end(), T(0));
                        acc = true;
                        break;
                    }
                }
            }
            im.written[in] = 1;
            a.grad_epoch = im.epoch;
            if (bcast && a.shape != n.shape) {
                // The op writes a gradient of the output's shape, summed back
                // afterwards. Its buffer is made only if the op asks for it
                // (prepare_sink): a pass-through needs none.
                im.bsink[j] = 1;
                im.bacc[j] = acc ? 1 : 0;
            } else {
                im.sinks[j] = GradSink<T>{view(target), acc};
            }
        }
        BackwardContext<T> c;
        c.graph_ = this;
        c.node_ = id;
        c.in_ = im.views.data();
        c.n_in_ = k;
        c.out_ = view(n.value);
        c.dout_ = view(grad_ref(n));
        c.sinks_ = im.sinks.data();
        c.need_ = im.need.data();
        c.pass_ = im.pass.data();
        c.pass_scale_ = im.pass_scale.data();
        c.scratch_ = &n.scratch;
        n.op->backward(c);
        for (std::size_t j = 0; j < k; ++j) {
            if (!im.bsink[j] || im.pass[j] || !im.sinks[j].view.data) continue;
            Node& a = im.nodes[n.inputs[j]];
            detail::unbroadcast_into<T>(view(n.bscratch[j]), view(grad_ref(a)), im.bacc[j] != 0, T(1));
        }
        if (im.check_numerics) {
            for (std::size_t j = 0; j < k; ++j) {
                if (im.need[j]) check_finite_grad(id, n.inputs[j]);
            }
        }
    }
}

template <class T>
void Graph<T>::do_pass_through(std::uint32_t id, std::size_t j, T s) {
    Impl& im = *impl_;
    Node& n = im.nodes[id];
    if (j >= n.inputs.size() || !im.need[j]) return;  // no gradient wanted
    Node& a = im.nodes[n.inputs[j]];
    const bool acc = im.bsink[j] ? im.bacc[j] != 0 : im.sinks[j].accumulate;
    Matrix<T>& src = grad_ref(n);
    Matrix<T>& dst = grad_ref(a);
    im.pass[j] = 1;
    if (&src == &dst && s == T(1) && !acc) return;  // an alias: the gradient is already there
    detail::unbroadcast_into<T>(view(src), view(dst), acc, s);
}

template <class T>
void Graph<T>::prepare_sink(std::uint32_t id, std::size_t j) {
    Node& n = impl_->nodes[id];
    if (n.bscratch.size() < n.inputs.size()) n.bscratch.resize(n.inputs.size());
    ensure_shape(n.bscratch[j], n.shape);
    impl_->sinks[j] = GradSink<T>{view(n.bscratch[j]), false};
}

template <class T>
void BackwardContext<T>::prepare_sink(std::size_t i) const {
    graph_->prepare_sink(node_, i);
}

template <class T>
void BackwardContext<T>::pass_through(std::size_t i, T s) {
    graph_->do_pass_through(node_, i, s);
}

template <class T>
void ForwardContext<T>::fail(const std::string& what) const {
    throw ValueError(graph_->label(node_) + ": " + what);
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
    return n.kind == NodeKind::parameter ? n.param.value() : n.value;
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
    return const_cast<Graph*>(this)->grad_ref(const_cast<Node&>(node(id)));
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
    std::vector<Parameter<T>> out;
    for (std::uint32_t id : impl_->leaves) {
        const Node& n = impl_->nodes[id];
        if (n.kind != NodeKind::parameter) continue;
        if (std::find(out.begin(), out.end(), n.param) == out.end()) out.push_back(n.param);
    }
    return out;
}

template <class T>
Var<T> Graph<T>::var(std::uint32_t id) {
    node(id);  // bounds check
    return Var<T>(this, id);
}

template class Parameter<float>;
template class Parameter<double>;
template class Graph<float>;
template class Graph<double>;
template class BackwardContext<float>;
template class BackwardContext<double>;
template class ForwardContext<float>;
template class ForwardContext<double>;

}  // namespace xg

// The engine, part 2: replaying the graph, re-inferring shapes after a leaf
// changed shape, leaf versions, and the numeric-debug checks.
#include <algorithm>
#include <cmath>

#include "graph_impl.hpp"
#include "messages.hpp"
#include "instantiate.hpp"

namespace xg {

template <class T>
void Graph<T>::run_forward(std::uint32_t id) {
    run_forward_into(id, view(value_out(impl_->nodes[id])));
}

template <class T>
void Graph<T>::run_forward_into(std::uint32_t id, MutView<T> out) {
    Node& n = impl_->nodes[id];
    ConstView<T>* views = impl_->views.data();
    for (std::size_t j = 0; j < n.inputs.size(); ++j) views[j] = view(value_ref(impl_->nodes[n.inputs[j]]));
    ForwardContext<T> c;
    c.graph_ = this;
    c.node_ = id;
    c.in_ = views;
    c.n_in_ = n.inputs.size();
    c.out_ = out;
    n.op->forward(c);
}

template <class T>
Matrix<T>& Graph<T>::scratch_matrix(std::uint32_t id, std::size_t k, Shape s) {
    return impl_->nodes[id].reshape_scratch(k, s);
}

template <class T>
Matrix<T>& ForwardContext<T>::scratch(std::size_t k, Shape s) const {
    return const_cast<Graph<T>*>(graph_)->scratch_matrix(node_, k, s);
}

template <class T>
void ForwardContext<T>::fail(const std::string& what) const {
    throw ValueError(graph_->label(node_) + ": " + what);
}

template <class T>
bool ForwardContext<T>::training() const {
    return graph_->impl_->mode == Mode::training;
}

template <class T>
bool ForwardContext<T>::holding() const {
    return graph_->impl_->hold_random || graph_->impl_->recomputing;
}

template <class T>
Rng& ForwardContext<T>::rng() const {
    return graph_->impl_->rng;
}

template <class T>
void Graph<T>::set_value(Var<T> input, const Matrix<T>& value) {
    if (!input || &input.graph() != this) throw GraphError("set_value: the node belongs to another graph");
    Node& n = node(input.id());
    if (n.kind != NodeKind::input) {
        throw GraphError("set_value(" + name(input.id()) +
                         "): only input leaves take new values; update a Parameter through its value()");
    }
    check_not_empty_value(shape_of(value), n.name);
    // The same shape is copied into the buffer; a new one swaps in the
    // buffer the leaf had for it before, if any (lib/reshape_keeping.hpp).
    n.reshape_value(shape_of(value));
    std::copy(value.begin(), value.end(), n.value.begin());
    ++n.version;
    if (shape_of(value) != n.shape) impl_->shapes_dirty = true;
}

template <class T>
void Graph<T>::check_not_empty_value(Shape s, const std::string& name) const {
    if (s.rows == 0 || s.cols == 0) {
        throw ShapeError("set_value: input " + (name.empty() ? std::string("(unnamed)") : name) + " is empty [" +
                         to_string(s) + "]: xgrad matrices have at least one row and one column");
    }
}

template <class T>
void Graph<T>::check_leaf_shapes() {
    bool changed = impl_->shapes_dirty;
    for (std::uint32_t id : impl_->leaves) {
        const Node& n = impl_->nodes[id];
        if (shape_of(value_ref(n)) != n.shape) changed = true;
    }
    if (changed) reinfer_shapes();
}

template <class T>
void Graph<T>::reinfer_shapes() {
    // Infer into a side table first: on a ShapeError the graph keeps its
    // shapes. The side table holds the shapes the nodes had before the last
    // change: when the leaves take those shapes again (a full batch after
    // the smaller last one), it is the answer already, and nothing is
    // inferred or allocated (an op's shape depends on its input shapes only).
    Impl& im = *impl_;
    const std::size_t count = im.nodes.size();
    std::vector<Shape>& shapes = im.shapes_before;
    bool known = shapes.size() == count;
    for (std::size_t k = 0; known && k < im.leaves.size(); ++k) {
        const std::uint32_t id = im.leaves[k];
        known = shapes[id] == shape_of(value_ref(im.nodes[id]));
    }
    if (!known) {
        try {
            infer_shapes(shapes);
        } catch (...) {
            shapes.clear();  // not a table of any leaf shapes
            throw;
        }
    }
    // The new shapes in, the current ones kept for the next change back;
    // then the buffers follow (each keeping its other shape's allocation).
    for (std::uint32_t id = 0; id < count; ++id) std::swap(im.nodes[id].shape, shapes[id]);
    im.shapes_dirty = true;  // until every buffer has its shape
    im.plan_valid = false;   // gradient sharing depends on shapes
    for (std::uint32_t id = 0; id < count; ++id) {
        Node& n = im.nodes[id];
        if (n.kind != NodeKind::op) continue;
        if (n.value_alias && n.value_alias->shape != n.shape) {
            // No longer the consumer's shape: the value gets its own buffer.
            n.value_alias->absorbed = false;
            n.value_alias = nullptr;
        }
        if (!n.value_alias) n.reshape_value(n.shape);
    }
    im.shapes_dirty = false;
}

template <class T>
void Graph<T>::infer_shapes(std::vector<Shape>& shapes) const {
    const std::size_t count = impl_->nodes.size();
    shapes.resize(count);
    for (std::uint32_t id = 0; id < count; ++id) {
        const Node& n = impl_->nodes[id];
        if (n.kind != NodeKind::op) {
            shapes[id] = shape_of(value_ref(n));
            if (shapes[id].rows == 0 || shapes[id].cols == 0) {
                throw ShapeError(std::string(n.kind == NodeKind::parameter ? "parameter " : "input ") + name(id) +
                                 " is empty [" + to_string(shapes[id]) +
                                 "]: xgrad matrices have at least one row and one column");
            }
            continue;
        }
        std::vector<Shape> in;
        std::vector<std::string> names;
        for (std::uint32_t j : n.inputs) {
            in.push_back(shapes[j]);
            names.push_back(name(j));
        }
        const ShapeContext context(n.op->name(), in, names);
        shapes[id] = n.op->shape(context);
        if (shapes[id].rows == 0 || shapes[id].cols == 0) {
            context.fail("the op's shape() gave an empty output [" + to_string(shapes[id]) + "]");
        }
        checked_size(shapes[id], sizeof(T), label(id));
    }
}

template <class T>
void Graph<T>::forward() {
    check_leaf_shapes();
    Impl& im = *impl_;
    const std::size_t count = im.nodes.size();
    // Until this replay completes, values are a mix of two states: backward()
    // refuses to run on them.
    im.forward_incomplete = true;
    ++im.forwards;
    for (std::uint32_t id : im.leaves) {
        Node& n = im.nodes[id];
        n.seen_version = leaf_version(n);
    }
    for (std::uint32_t id = 0; id < count; ++id) {
        if (im.nodes[id].kind != NodeKind::op) {
            if (im.check_numerics) check_finite_leaf(id);
            continue;
        }
        run_forward(id);
        if (im.check_numerics) check_finite_value(id);
    }
    im.forward_incomplete = false;
}

template <class T>
void Graph<T>::accept_changed_leaves() {
    for (std::uint32_t id : impl_->leaves) {
        const Node& n = impl_->nodes[id];
        if (shape_of(value_ref(n)) != n.shape) {
            throw GraphError("accept_changed_leaves: " + name(id) + " changed shape from [" + to_string(n.shape) +
                             "] to [" + to_string(shape_of(value_ref(n))) + "]; only forward() can take a new shape");
        }
    }
    for (std::uint32_t id : impl_->leaves) {
        Node& n = impl_->nodes[id];
        n.seen_version = leaf_version(n);
    }
}

template <class T>
void Graph<T>::check_leaves_current(const BackwardPlan& plan) const {
    for (std::uint32_t id : impl_->leaves) {
        if (id > plan.loss || !plan.in_graph[id]) continue;
        const Node& n = impl_->nodes[id];
        if (leaf_version(n) == n.seen_version) continue;
        const bool param = n.kind == NodeKind::parameter;
        throw GraphError("backward(" + name(plan.loss) + "): " + (param ? "parameter " : "input ") + name(id) +
                         (param ? " was written (write access through Parameter::value(), e.g. an optimiser step)"
                                : " took a new value (set_value)") +
                         " since the graph's values were computed, so they would mix two states; call forward() "
                         "first (or accept_changed_leaves() to differentiate the values as recorded)");
    }
}

// ---- numeric checks -------------------------------------------------------------

template <class T>
void Graph<T>::check_finite_value(std::uint32_t id) {
    const ConstView<T> v = view(value_out(impl_->nodes[id]));
    const std::size_t k = detail::first_non_finite(v.data, v.size());
    if (k == v.size()) return;
    throw ValueError("numeric check: " + label(id) + " [" + to_string(v.shape()) + "] computed a non-finite value at " +
                     detail::entry_text("", k / v.cols, k % v.cols, v[k]));
}

template <class T>
void Graph<T>::check_finite_leaf(std::uint32_t id) {
    const Node& n = impl_->nodes[id];
    const ConstView<T> v = view(value_ref(n));
    const std::size_t k = detail::first_non_finite(v.data, v.size());
    if (k == v.size()) return;
    throw ValueError(std::string("numeric check: ") + (n.kind == NodeKind::parameter ? "parameter " : "input ") +
                     name(id) + " [" + to_string(v.shape()) + "] holds a non-finite value at " +
                     detail::entry_text("", k / v.cols, k % v.cols, v[k]));
}

template <class T>
void Graph<T>::check_finite_grad(std::uint32_t id, std::uint32_t input) {
    Node& a = impl_->nodes[input];
    const ConstView<T> v = view(grad_ref(a));
    std::size_t first = 0, end = v.size();
    const typename Impl::PartialGrad* r = a.partial ? impl_->partial_of(input) : nullptr;
    if (r) {  // the rows this op wrote (the only writer of a partial gradient)
        first = r->begin * v.cols;
        end = r->end * v.cols;
    }
    const std::size_t k = first + detail::first_non_finite(v.data + first, end - first);
    if (k == end) return;
    throw ValueError("numeric check: the backward of " + label(id) + " gave a non-finite gradient for " + name(input) +
                     " [" + to_string(v.shape()) + "] at " + detail::entry_text("", k / v.cols, k % v.cols, v[k]));
}

template <class T>
void Graph<T>::check_numerics(bool on) { impl_->check_numerics = on; }

template <class T>
bool Graph<T>::checking_numerics() const { return impl_->check_numerics; }

#define XG_GRAPH_FORWARD_INSTANTIATIONS(T)                                           \
    template void Graph<T>::run_forward(std::uint32_t);                              \
    template void Graph<T>::run_forward_into(std::uint32_t, MutView<T>);             \
    template Matrix<T>& Graph<T>::scratch_matrix(std::uint32_t, std::size_t, Shape); \
    template void Graph<T>::set_value(Var<T>, const Matrix<T>&);                     \
    template void Graph<T>::check_not_empty_value(Shape, const std::string&) const;  \
    template void Graph<T>::check_leaf_shapes();                                     \
    template void Graph<T>::reinfer_shapes();                                        \
    template void Graph<T>::infer_shapes(std::vector<Shape>&) const;                 \
    template void Graph<T>::forward();                                               \
    template void Graph<T>::accept_changed_leaves();                                 \
    template void Graph<T>::check_leaves_current(const BackwardPlan&) const;         \
    template void Graph<T>::check_finite_value(std::uint32_t);                       \
    template void Graph<T>::check_finite_leaf(std::uint32_t);                        \
    template void Graph<T>::check_finite_grad(std::uint32_t, std::uint32_t);         \
    template void Graph<T>::check_numerics(bool);                                    \
    template bool Graph<T>::checking_numerics() const;                               \
    template class ForwardContext<T>;
XG_INSTANTIATE_FLOAT_DOUBLE(XG_GRAPH_FORWARD_INSTANTIATIONS)
#undef XG_GRAPH_FORWARD_INSTANTIATIONS

}  // namespace xg

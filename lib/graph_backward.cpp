// The engine, part 3: the backward plan and the reverse sweep that executes it.
//
// make_plan works out, once per loss, everything the sweep decides: which
// nodes get a gradient, the order of the visits, whether each contribution
// overwrites or adds, which sinks are broadcast, which gradient buffers are
// shared. backward() is then a loop over the plan's visits, and explain()
// prints the same plan (lib/explain.cpp).
#include <algorithm>

#include "broadcast.hpp"
#include "graph_impl.hpp"
#include "instantiate.hpp"

namespace xg {

// ---- the plan -------------------------------------------------------------------

template <class T>
void Graph<T>::make_plan(std::uint32_t loss) const {
    Impl& im = *impl_;
    BackwardPlan& p = im.plan;
    im.plan_valid = false;
    const std::size_t n = std::size_t(loss) + 1;  // later nodes cannot be ancestors of the loss
    const auto& nodes = im.nodes;
    p.loss = loss;
    p.in_graph.assign(n, 0);
    p.reach.assign(n, 0);
    p.visits.clear();
    p.edges.clear();
    p.grad_owner.resize(n);

    // Ancestors of the loss, and the nodes a gradient reaches: it requires
    // one and is read, through a differentiable input, by a reached op.
    p.in_graph[loss] = 1;
    p.reach[loss] = nodes[loss].requires_grad ? 1 : 0;
    for (std::uint32_t id = loss + 1; id-- > 0;) {
        const Node& a = nodes[id];
        if (!p.in_graph[id] || a.kind != NodeKind::op) continue;
        for (std::size_t j = 0; j < a.inputs.size(); ++j) {
            const std::uint32_t in = a.inputs[j];
            p.in_graph[in] = 1;
            if (p.reach[id] && a.op->differentiable(j) && nodes[in].requires_grad) p.reach[in] = 1;
        }
    }

    // Visits in reverse creation order; each visit's edges in slot order. The
    // first contribution to a gradient overwrites it, later ones add — unless
    // one op reads the node twice: then its first edge zeroes the buffer and
    // all of them add, whatever order the op writes in.
    std::vector<char>& written = im.plan_written;
    std::vector<std::uint32_t>& count = im.plan_count;
    written.assign(n, 0);
    count.assign(n + 1, 0);
    for (std::uint32_t id = loss + 1; id-- > 0;) {
        const Node& c = nodes[id];
        if (!p.reach[id] || c.kind != NodeKind::op) continue;
        PlanVisit v;
        v.node = id;
        v.first_edge = std::uint32_t(p.edges.size());
        for (std::size_t j = 0; j < c.inputs.size(); ++j) {
            const std::uint32_t in = c.inputs[j];
            if (!c.op->differentiable(j) || !p.reach[in]) continue;
            PlanEdge e;
            e.consumer = id;
            e.slot = std::uint32_t(j);
            e.input = in;
            e.broadcast = c.op->broadcasts() && nodes[in].shape != c.shape;
            if (written[in]) {
                e.write = GradWrite::accumulate;
            } else {
                e.write = GradWrite::overwrite;
                for (std::size_t j2 = j + 1; j2 < c.inputs.size(); ++j2) {
                    if (c.inputs[j2] == in && c.op->differentiable(j2)) e.write = GradWrite::zero_then_accumulate;
                }
                written[in] = 1;
            }
            p.edges.push_back(e);
            ++count[in + 1];
        }
        v.edge_count = std::uint32_t(p.edges.size()) - v.first_edge;
        p.visits.push_back(v);
    }

    // The edges into each node, in sweep order (a compressed index).
    for (std::size_t id = 0; id < n; ++id) count[id + 1] += count[id];
    p.into_offsets = count;
    p.into.assign(p.edges.size(), 0);
    for (std::uint32_t k = 0; k < p.edges.size(); ++k) p.into[count[p.edges[k].input]++] = k;

    // Shared gradient buffers: an op node read once, of its consumer's shape,
    // through an input whose gradient the op declares to be the incoming one
    // unchanged, keeps its gradient in its consumer's buffer (one buffer and
    // one pass less; grad() reads the same numbers). Consumers are visited
    // first, so their owner is already final.
    for (std::uint32_t id = 0; id < n; ++id) p.grad_owner[id] = id;
    for (const PlanEdge& e : p.edges) {
        const Node& a = nodes[e.input];
        const Node& c = nodes[e.consumer];
        if (a.kind == NodeKind::op && p.contribution_count(e.input) == 1 && a.shape == c.shape &&
            c.op->gradient_is_identity(e.slot)) {
            p.grad_owner[e.input] = p.grad_owner[e.consumer];
        }
    }

    // Gradients computed in part: an op node whose gradient has one writer,
    // which can write some rows only (matmul's dB), while the node's own
    // backward reads only some rows (concat_rows, when some of its parts take
    // no gradient): the writer writes just those. Not when another node's
    // gradient lives in this node's buffer (that one would need every row).
    std::vector<char>& owns_other = im.plan_written;  // reused: one flag per node
    owns_other.assign(n, 0);
    for (std::uint32_t id = 0; id < n; ++id) {
        if (p.grad_owner[id] != id) owns_other[p.grad_owner[id]] = 1;
    }
    std::vector<Shape>& shapes = im.plan_shapes;  // kept: a plan remade for new shapes allocates nothing
    std::vector<char>& needs = im.plan_needs;
    p.partial_rows.clear();
    for (std::uint32_t k = 0; k < p.edges.size(); ++k) {
        PlanEdge& e = p.edges[k];
        const Node& a = nodes[e.input];
        if (a.kind != NodeKind::op || e.write != GradWrite::overwrite || e.broadcast || e.input == loss ||
            p.contribution_count(e.input) != 1 || p.grad_owner[e.input] != e.input || owns_other[e.input] ||
            !nodes[e.consumer].op->writes_grad_rows(e.slot)) {
            continue;
        }
        shapes.clear();
        needs.clear();
        for (std::size_t j = 0; j < a.inputs.size(); ++j) {
            shapes.push_back(nodes[a.inputs[j]].shape);
            needs.push_back(a.op->differentiable(j) && p.reach[a.inputs[j]] ? 1 : 0);
        }
        const std::pair<std::size_t, std::size_t> r = a.op->dout_rows_read(a.shape, shapes, needs);
        const std::size_t end = std::min(r.second, a.shape.rows), begin = std::min(r.first, end);
        if (begin == 0 && end == a.shape.rows) continue;
        e.some_rows = true;
        p.partial_rows.push_back(BackwardPlan::PartialRows{k, begin, end});
    }
    im.plan_valid = true;
}

template <class T>
const BackwardPlan& Graph<T>::backward_plan(std::uint32_t loss) const {
    const Node& L = node(loss);
    if (L.shape != Shape{1, 1}) {
        throw GraphError("backward(" + name(loss) + "): the loss must be a 1x1 node, " + name(loss) + " is [" +
                         to_string(L.shape) + "]; reduce it first (e.g. a loss or a sum)");
    }
    if (!impl_->plan_valid || impl_->plan.loss != loss) make_plan(loss);
    return impl_->plan;
}

// ---- the sweep -----------------------------------------------------------------

template <class T>
void Graph<T>::backward(Var<T> loss, GradMode mode) {
    if (!loss || &loss.graph() != this) throw GraphError("backward: the loss node belongs to another graph");
    const std::uint32_t lid = loss.id();
    Impl& im = *impl_;
    for (std::uint32_t id : im.leaves) {
        const Node& n = im.nodes[id];
        if (shape_of(value_ref(n)) != n.shape) {
            throw GraphError("backward: leaf " + name(id) + " changed shape from [" + to_string(n.shape) + "] to [" +
                             to_string(shape_of(value_ref(n))) + "] since the last forward(); call forward() first");
        }
    }
    if (im.shapes_dirty) {
        throw GraphError("backward: an input leaf changed shape since the last forward(); call forward() first");
    }
    if (im.forward_incomplete) {
        throw GraphError("backward: the last forward() failed part-way, so the values mix two states; "
                         "fix its cause and call forward() again first");
    }
    const BackwardPlan& plan = backward_plan(lid);
    check_leaves_current(plan);
    prepare_gradients(plan, mode);
    for (const PlanVisit& v : plan.visits) visit(plan, v, mode);
}

template <class T>
void Graph<T>::prepare_gradients(const BackwardPlan& plan, GradMode mode) {
    Impl& im = *impl_;
    // Shared buffers as the plan says (pointers, so grad() follows them).
    for (std::uint32_t id = 0; id < plan.grad_owner.size(); ++id) {
        const std::uint32_t owner = plan.grad_owner[id];
        im.nodes[id].grad_alias = owner == id ? nullptr : &im.nodes[owner];
    }
    ++im.epoch;
    for (std::uint32_t id = 0; id < plan.reach.size(); ++id) {
        if (!plan.reach[id] || plan.grad_owner[id] != id) continue;
        Node& a = im.nodes[id];
        Matrix<T>& g = grad_ref(a);
        if (shape_of(g) != a.shape) {
            // A new shape (first sweep, a new batch size, or a reshaped
            // parameter): whatever the buffer held is not a gradient of this
            // value. A node's own buffer keeps its other shape's allocation.
            if (a.kind == NodeKind::parameter) {
                g.resize({a.shape.rows, a.shape.cols});
            } else {
                a.reshape_grad(a.shape);
            }
            std::fill(g.begin(), g.end(), T(0));
            if (a.kind == NodeKind::parameter) a.param.d_->grad_columns.set_all_zero();
        }
    }
    for (const typename Impl::PartialGrad& r : im.partials) im.nodes[r.node].partial = false;
    im.partials.clear();  // both keep their capacity
    im.partial_versions.clear();
    for (std::uint32_t id = 0; id < plan.reach.size(); ++id) {
        if (plan.reach[id]) im.nodes[id].grad_epoch = im.epoch;
    }
    // Seed: dJ/dJ = 1.
    Node& L = im.nodes[plan.loss];
    Matrix<T>& g = grad_ref(L);
    const bool acc = L.kind == NodeKind::parameter && mode == GradMode::accumulate;
    ensure_shape(g, Shape{1, 1});
    g(0, 0) = acc ? g(0, 0) + T(1) : T(1);
    if (L.kind == NodeKind::parameter) L.param.d_->grad_columns.forget();
    L.grad_epoch = im.epoch;
}

template <class T>
void Graph<T>::visit(const BackwardPlan& plan, const PlanVisit& v, GradMode mode) {
    Impl& im = *impl_;
    Node& n = im.nodes[v.node];
    const std::size_t k = n.inputs.size();
    for (std::size_t j = 0; j < k; ++j) {
        im.views[j] = view(value_ref(im.nodes[n.inputs[j]]));
        im.sinks[j] = GradSink<T>{};
        im.pass[j] = 0;
        im.need[j] = 0;
        im.bsink[j] = 0;
    }
    const PlanEdge* edges = plan.edges.data() + v.first_edge;
    for (std::uint32_t e = 0; e < v.edge_count; ++e) {
        const PlanEdge& edge = edges[e];
        Node& a = im.nodes[edge.input];
        Matrix<T>& target = grad_ref(a);
        // Adding to a parameter's gradient in GradMode::accumulate: every
        // write adds, and nothing is zeroed.
        const bool keep = a.kind == NodeKind::parameter && mode == GradMode::accumulate;
        if (edge.write == GradWrite::zero_then_accumulate && !keep) {
            std::fill(target.begin(), target.end(), T(0));
            if (a.kind == NodeKind::parameter) a.param.d_->grad_columns.set_all_zero();
        }
        const bool acc = keep || edge.write != GradWrite::overwrite;
        im.need[edge.slot] = 1;
        if (edge.broadcast) {
            // The op writes a gradient of the output's shape, summed back
            // afterwards. Its buffer is made only if the op asks for it
            // (prepare_sink): a pass-through needs none.
            im.bsink[edge.slot] = 1;
            im.bacc[edge.slot] = acc ? 1 : 0;
        } else {
            GradSink<T>& sink = im.sinks[edge.slot];
            sink = GradSink<T>{view(target), acc, nullptr};
            if (a.kind == NodeKind::parameter) sink.columns = &a.param.d_->grad_columns;
            if (edge.some_rows) {
                const std::pair<std::size_t, std::size_t> rows = plan.rows_written(v.first_edge + e);
                sink.rows_begin = rows.first;
                sink.rows_end = rows.second;
                // What Graph::grad needs to write the other rows on request.
                a.partial = true;
                im.partials.push_back(typename Impl::PartialGrad{edge.input, v.node, edge.slot, rows.first, rows.second,
                                                                 im.forwards, im.partial_versions.size()});
                for (const std::uint32_t in : n.inputs) {
                    const Node& l = im.nodes[in];
                    if (l.kind != NodeKind::op) im.partial_versions.push_back(leaf_version(l));
                }
            }
        }
        // Which columns of a parameter's gradient may be non-zero: kept by an
        // op that says so (for its own writes), unknown after any other write
        // (forgotten before it, in case the op throws part-way).
        if (a.kind == NodeKind::parameter && (edge.broadcast || !n.op->keeps_grad_columns())) {
            a.param.d_->grad_columns.forget();
        }
    }
    run_backward(v.node);
    for (std::uint32_t e = 0; e < v.edge_count; ++e) {
        const std::uint32_t j = edges[e].slot;
        if (!im.bsink[j] || im.pass[j] || !im.sinks[j].view.data) continue;
        detail::unbroadcast_into<T>(view(n.bscratch[j]), view(grad_ref(im.nodes[edges[e].input])), im.bacc[j] != 0,
                                    T(1));
    }
    for (std::uint32_t e = 0; e < v.edge_count; ++e) {  // a pass-through is the engine's write
        Node& a = im.nodes[edges[e].input];
        if (a.kind == NodeKind::parameter && im.pass[edges[e].slot]) a.param.d_->grad_columns.forget();
    }
    if (im.check_numerics) {
        for (std::uint32_t e = 0; e < v.edge_count; ++e) check_finite_grad(v.node, edges[e].input);
    }
}

// The op's backward on the views, sinks and flags set up in impl_.
template <class T>
void Graph<T>::run_backward(std::uint32_t id) {
    Impl& im = *impl_;
    Node& n = im.nodes[id];
    BackwardContext<T> c;
    c.graph_ = this;
    c.node_ = id;
    c.in_ = im.views.data();
    c.n_in_ = n.inputs.size();
    c.out_ = view(value_out(n));
    c.dout_ = view(grad_ref(n));
    c.sinks_ = im.sinks.data();
    c.need_ = im.need.data();
    c.pass_ = im.pass.data();
    c.pass_scale_ = im.pass_scale.data();
    n.op->backward(c);
}

// The rows of a partly computed gradient that the sweep skipped, written by
// the same backward as the others, from the values of that sweep.
template <class T>
void Graph<T>::complete_grad(std::uint32_t id) {
    Impl& im = *impl_;
    Node& a = im.nodes[id];
    const typename Impl::PartialGrad* record = im.partial_of(id);
    if (!record) throw GraphError("grad(" + name(id) + "): internal error: no record of its rows");
    const typename Impl::PartialGrad r = *record;
    Node& m = im.nodes[r.consumer];
    if (m.partial) complete_grad(r.consumer);  // the writer reads its own gradient whole
    bool current = im.forwards == r.forwards && !im.forward_incomplete;
    std::size_t k = r.first_version;
    for (const std::uint32_t in : m.inputs) {
        const Node& l = im.nodes[in];
        if (l.kind == NodeKind::op) continue;
        if (k >= im.partial_versions.size() || leaf_version(l) != im.partial_versions[k]) current = false;
        ++k;
    }
    if (!current) {
        throw GraphError("grad(" + name(id) + "): the last backward() computed rows " + std::to_string(r.begin) +
                         " to " + std::to_string(r.end) + " of this gradient, the ones read further back; " +
                         "the others are computed on request from that sweep's values, which have changed since " +
                         "(a forward() or a written leaf); call backward() again");
    }
    for (std::size_t j = 0; j < m.inputs.size(); ++j) {
        im.views[j] = view(value_ref(im.nodes[m.inputs[j]]));
        im.sinks[j] = GradSink<T>{};
        im.pass[j] = 0;
        im.need[j] = j == r.slot ? 1 : 0;
        im.bsink[j] = 0;
    }
    const std::pair<std::size_t, std::size_t> ranges[] = {{0, r.begin}, {r.end, a.shape.rows}};
    for (const auto& rows : ranges) {
        if (rows.first >= rows.second) continue;
        im.sinks[r.slot] = GradSink<T>{view(grad_ref(a)), false, nullptr, rows.first, rows.second};
        run_backward(r.consumer);
    }
    a.partial = false;
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
    if (&src == &dst && s == T(1) && !acc) return;  // a shared buffer: the gradient is already there
    detail::unbroadcast_into<T>(view(src), view(dst), acc, s);
}

template <class T>
void Graph<T>::prepare_sink(std::uint32_t id, std::size_t j) {
    Node& n = impl_->nodes[id];
    impl_->sinks[j] = GradSink<T>{view(n.reshape_bscratch(j, n.shape)), false, nullptr};
}

template <class T>
void BackwardContext<T>::prepare_sink(std::size_t i) const {
    graph_->prepare_sink(node_, i);
}

template <class T>
Matrix<T>& BackwardContext<T>::scratch(std::size_t k, Shape s) const {
    return graph_->scratch_matrix(node_, k, s);
}

template <class T>
void BackwardContext<T>::pass_through(std::size_t i, T s) {
    graph_->do_pass_through(node_, i, s);
}

#define XG_GRAPH_BACKWARD_INSTANTIATIONS(T)                                         \
    template void Graph<T>::make_plan(std::uint32_t) const;                         \
    template const BackwardPlan& Graph<T>::backward_plan(std::uint32_t) const;      \
    template void Graph<T>::backward(Var<T>, GradMode);                             \
    template void Graph<T>::prepare_gradients(const BackwardPlan&, GradMode);       \
    template void Graph<T>::visit(const BackwardPlan&, const PlanVisit&, GradMode); \
    template void Graph<T>::run_backward(std::uint32_t);                            \
    template void Graph<T>::complete_grad(std::uint32_t);                           \
    template void Graph<T>::do_pass_through(std::uint32_t, std::size_t, T);         \
    template void Graph<T>::prepare_sink(std::uint32_t, std::size_t);               \
    template class BackwardContext<T>;
XG_INSTANTIATE_FLOAT_DOUBLE(XG_GRAPH_BACKWARD_INSTANTIATIONS)
#undef XG_GRAPH_BACKWARD_INSTANTIATIONS

}  // namespace xg

// explain: the forward graph and the reverse sweep of a loss as equations,
// composed from each op's formula() and grad_formula(). What the sweep does
// is read from the engine's own plan (Graph::backward_plan); this file only
// decides how to print it.
#include <algorithm>
#include <queue>
#include <sstream>
#include <tuple>

#include "explain_impl.hpp"
#include "instantiate.hpp"

namespace xg {
namespace detail {

namespace {

/// The adjoint of broadcasting an input of shape `in` to the output shape `out`.
sym::Expr unbroadcast(sym::Expr e, Shape in, Shape out) {
    const bool rows = in.rows == 1 && out.rows > 1, cols = in.cols == 1 && out.cols > 1;
    if (rows && cols) return sym::sum_all(std::move(e));
    if (cols) return sym::sum_columns(std::move(e));
    if (rows) return sym::sum_rows(std::move(e));
    return e;
}

/// parts[lo] + … + parts[hi − 1], as a balanced tree (it renders the same as
/// a chain, and stays shallow for a node read by thousands of ops).
sym::Expr sum_of(const std::vector<Contribution>& parts, std::size_t lo, std::size_t hi) {
    if (hi - lo == 1) return parts[lo].expr;
    const std::size_t mid = lo + (hi - lo) / 2;
    return sym::add(sum_of(parts, lo, mid), sum_of(parts, mid, hi));
}

/// An inlined formula holds at most this many op nodes along any path, so a
/// long chain of unnamed nodes prints as lines, not one unreadable (and
/// deeply recursive) expression.
constexpr unsigned max_inline_depth = 8;

}  // namespace

/// The formula an op prints for its value (or, with slot ≥ 0, for the
/// gradient it sends to input `slot`); GraphError naming the op when it is empty.
template <class T>
sym::Expr op_formula(const Graph<T>& g, std::uint32_t id, int slot = -1) {
    const Op<T>* op = g.op(id);
    sym::Expr e = slot < 0 ? op->formula() : op->grad_formula(std::size_t(slot));
    if (!e) {
        throw GraphError("explain: the op '" + op->name() + "' of node " + g.name(id) + " returned an empty " +
                         (slot < 0 ? std::string("formula()") : "grad_formula(" + std::to_string(slot) + ")") +
                         "; every op must give its formulas (docs/howto-custom-op.md)");
    }
    return e;
}

template <class T>
Derivation derive_graph(const Graph<T>& g, std::uint32_t loss, bool all) {
    if (loss >= g.size()) throw GraphError("explain: node id " + std::to_string(loss) + " is not in this graph");
    if (g.shape(loss) != Shape{1, 1}) {
        throw GraphError("explain(" + g.name(loss) + "): the loss must be a 1x1 node, " + g.name(loss) + " is [" +
                         to_string(g.shape(loss)) + "]; reduce it first (e.g. a loss or a sum)");
    }
    // What the sweep does — reach, order, contributions, shared buffers — is
    // the engine's own plan; everything below only decides how to print it.
    const BackwardPlan& plan = g.backward_plan(loss);
    const std::size_t n = std::size_t(loss) + 1;
    const auto is_op = [&](std::uint32_t id) { return g.kind(id) == NodeKind::op; };

    Derivation d;
    d.in_graph = plan.in_graph;
    d.has_grad = plan.reach;
    const std::vector<char>& anc = d.in_graph;
    const std::vector<char>& reach = d.has_grad;
    d.contributions.assign(n, {});
    for (std::uint32_t id = 0; id < n; ++id) {
        for (std::uint32_t k : plan.edges_into(id)) {
            d.contributions[id].push_back({plan.edges[k].consumer, plan.edges[k].slot, nullptr});
        }
    }

    // How often each node is read in the forward graph (for inlining).
    std::vector<unsigned> uses(n, 0);
    for (std::uint32_t id = 0; id < n; ++id) {
        if (!anc[id] || !is_op(id)) continue;
        for (std::uint32_t in : g.inputs(id)) ++uses[in];
    }

    // Folding: an unnamed op node whose gradient shares its consumer's buffer
    // in the plan gets no line of its own; its gradient is written as its
    // consumer's.
    std::vector<char> folded(n, 0);
    std::vector<std::uint32_t> res(n);  // the node whose gradient line stands for this one's
    for (std::uint32_t id = loss + 1; id-- > 0;) {
        res[id] = id;
        if (all || id == loss || !plan.shares_gradient(id) || !g.given_name(id).empty()) continue;
        folded[id] = 1;
        res[id] = res[d.contributions[id].front().consumer];  // consumers come later: already resolved
    }
    // Lines: the seed dJ = 1 only with all_nodes (its 1 is written into the
    // formulas), or when the loss is itself a parameter.
    std::vector<char> line(n, 0);
    for (std::uint32_t id = 0; id < n; ++id) {
        line[id] = reach[id] && !folded[id] && (id != loss || all || !is_op(id));
    }

    // How a node's value is written where it is used: its name, or (inlined)
    // its own formula.
    std::vector<sym::Expr> value(n);
    std::vector<char> inlined(n, 0);
    std::vector<unsigned> depth(n, 0);  // op nodes along the longest path of an inlined formula
    for (std::uint32_t id = 0; id < n; ++id) {
        if (!anc[id]) continue;
        if (is_op(id)) {
            depth[id] = 1;
            for (std::uint32_t in : g.inputs(id)) depth[id] = std::max(depth[id], depth[in] + 1);
        }
        inlined[id] = !all && is_op(id) && id != loss && g.given_name(id).empty() && uses[id] == 1 && !line[id] &&
                      depth[id] <= max_inline_depth;
        if (!inlined[id]) {
            value[id] = sym::var(g.name(id));
            depth[id] = 0;
            continue;
        }
        sym::Bindings b;
        for (std::uint32_t in : g.inputs(id)) b.inputs.push_back(value[in]);
        value[id] = sym::bind_placeholders(op_formula(g, id), b);
    }
    // How a node's gradient is written where it is used: 1 at the loss, its
    // consumer's when folded, else d<name>.
    std::vector<sym::Expr> grad(n);
    for (std::uint32_t id = loss + 1; id-- > 0;) {
        if (!reach[id]) continue;
        if (id == loss) grad[id] = sym::num(1);
        else if (folded[id]) grad[id] = grad[res[id]];
        else grad[id] = sym::var("d" + g.name(id));
    }

    // The contributions as formulas.
    for (std::uint32_t id = 0; id < n; ++id) {
        for (Contribution& p : d.contributions[id]) {
            const Op<T>* op = g.op(p.consumer);
            sym::Bindings b;
            for (std::uint32_t in : g.inputs(p.consumer)) b.inputs.push_back(value[in]);
            b.output = value[p.consumer];
            b.grad = grad[p.consumer];
            p.expr = sym::bind_placeholders(op_formula(g, p.consumer, int(p.slot)), b);
            if (op->broadcasts()) p.expr = unbroadcast(p.expr, g.shape(id), g.shape(p.consumer));
        }
    }

    // Leaves and forward lines, in creation order.
    Explanation& e = d.equations;
    for (std::uint32_t id = 0; id < n; ++id) {
        if (!anc[id]) continue;
        if (!is_op(id)) {
            e.leaves.push_back(Leaf{id, g.name(id), g.kind(id), g.shape(id)});
        } else if (!inlined[id]) {
            sym::Bindings b;
            for (std::uint32_t in : g.inputs(id)) b.inputs.push_back(value[in]);
            e.forward.push_back(Equation{id, g.name(id), sym::bind_placeholders(op_formula(g, id), b), g.shape(id), {}});
        }
    }

    // Backward lines. A line is finished at the visit of its last consumer
    // (a folded node's visit is its consumer's); lines finished at later
    // visits come first, and within one visit leaves (in creation order)
    // come before intermediate nodes (in sweep order). A line always comes
    // after the lines it reads: a topological sort with that preference.
    std::vector<std::tuple<std::uint32_t, int, std::int64_t>> key(n);  // larger first
    std::vector<unsigned> pending(n, 0);
    std::vector<std::vector<std::uint32_t>> readers(n);
    std::vector<std::uint32_t> listed(n, n);  // listed[r] == id: r is already among id's lines to wait for
    for (std::uint32_t id = 0; id < n; ++id) {
        if (!line[id]) continue;
        const auto& parts = d.contributions[id];
        const std::uint32_t visit = id == loss ? loss + 1 : res[parts.back().consumer];
        const bool leaf = !is_op(id);
        key[id] = {visit, leaf ? 1 : 0, leaf ? -std::int64_t(id) : std::int64_t(id)};
        std::vector<std::uint32_t> deps;
        for (const Contribution& p : parts) {
            const std::uint32_t r = res[p.consumer];
            if (line[r] && listed[r] != id) {
                listed[r] = id;
                deps.push_back(r);
            }
        }
        pending[id] = unsigned(deps.size());
        for (std::uint32_t r : deps) readers[r].push_back(id);
    }
    const auto later = [&](std::uint32_t a, std::uint32_t b) { return key[a] < key[b]; };
    std::priority_queue<std::uint32_t, std::vector<std::uint32_t>, decltype(later)> ready(later);
    for (std::uint32_t id = 0; id < n; ++id) {
        if (line[id] && pending[id] == 0) ready.push(id);
    }
    while (!ready.empty()) {
        const std::uint32_t id = ready.top();
        ready.pop();
        const sym::Expr rhs =
            id == loss ? sym::num(1) : sym::simplify(sum_of(d.contributions[id], 0, d.contributions[id].size()));
        e.backward.push_back(Equation{id, "d" + g.name(id), rhs, g.shape(id), {}});
        for (std::uint32_t r : readers[id]) {
            if (--pending[r] == 0) ready.push(r);
        }
    }
    return d;
}

#define XG_DERIVE_GRAPH_INSTANTIATIONS(T)                                   \
    template Derivation derive_graph(const Graph<T>&, std::uint32_t, bool);
XG_INSTANTIATE_FLOAT_DOUBLE(XG_DERIVE_GRAPH_INSTANTIATIONS)
#undef XG_DERIVE_GRAPH_INSTANTIATIONS

}  // namespace detail

// ---- text ---------------------------------------------------------------------

namespace {

std::string pad(const std::string& s, std::size_t w) {
    const std::size_t have = sym::text_width(s);
    return s + std::string(w > have ? w - have : 0, ' ');
}

std::string shape_text(Shape s, sym::Style style) {
    const std::string r = std::to_string(s.rows), c = std::to_string(s.cols);
    switch (style) {
        case sym::Style::unicode:
            return "[" + r + "×" + c + "]";
        case sym::Style::ascii:
            return "[" + r + "x" + c + "]";
        case sym::Style::latex:
            return r + " \\times " + c;
    }
    return "";
}

/// Right-hand sides up to this width set the column of the shapes.
constexpr std::size_t max_padded_width = 120;

/// "t = 1 … 4" in ASCII ("t = 1 ... 4") and LaTeX ("t = 1 \\ldots 4").
std::string replace_all(std::string s, const std::string& from, const std::string& to) {
    for (std::size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
    return s;
}
std::string ascii_steps(const std::string& s) { return replace_all(s, "…", "..."); }
std::string latex_steps(const std::string& s) { return "\\text{for } " + replace_all(s, "…", "\\ldots"); }

const char* kind_text(NodeKind k) { return k == NodeKind::parameter ? "parameter" : "input"; }

void section(std::ostringstream& out, const char* title, const std::vector<Equation>& eqs, sym::Style style,
             bool shapes, const char* empty) {
    const sym::Names none;
    std::vector<std::string> lhs, rhs;
    std::size_t wl = 0, wr = 0;
    for (const Equation& q : eqs) {
        lhs.push_back(sym::render(sym::var(q.lhs), none, style));
        rhs.push_back(sym::render(q.rhs, none, style));
        wl = std::max(wl, sym::text_width(lhs.back()));
        // The shapes column lines up after the right-hand sides, but not after
        // a very long one (the sum of thousands of contributions): padding
        // every line to its width would make the text quadratic in size.
        const std::size_t r = sym::text_width(rhs.back());
        if (r <= max_padded_width) wr = std::max(wr, r);
    }
    if (style == sym::Style::latex) {
        out << "% " << title << "\n";
        if (eqs.empty()) {
            out << "% " << empty << "\n";
            return;
        }
        out << "\\begin{aligned}\n";
        for (std::size_t k = 0; k < eqs.size(); ++k) {
            out << lhs[k] << " &= " << rhs[k];
            if (!eqs[k].steps.empty()) out << " && " << latex_steps(eqs[k].steps);
            if (shapes) out << " && " << shape_text(eqs[k].shape, style);
            out << (k + 1 < eqs.size() ? " \\\\\n" : "\n");
        }
        out << "\\end{aligned}\n";
        return;
    }
    out << title << ":\n";
    if (eqs.empty()) out << "  " << empty << "\n";
    bool any_steps = false;
    for (const Equation& q : eqs) any_steps = any_steps || !q.steps.empty();
    for (std::size_t k = 0; k < eqs.size(); ++k) {
        out << "  " << pad(lhs[k], wl) << " = ";
        if (shapes) out << pad(rhs[k], wr) << "   " << shape_text(eqs[k].shape, style);
        else out << (any_steps && !eqs[k].steps.empty() ? pad(rhs[k], wr) : rhs[k]);
        if (!eqs[k].steps.empty()) out << "   " << (style == sym::Style::ascii ? ascii_steps(eqs[k].steps) : eqs[k].steps);
        out << "\n";
    }
}

}  // namespace

std::string render(const Explanation& d, sym::Style style, bool shapes) {
    std::ostringstream out;
    if (shapes) {
        std::size_t w = 0;
        for (const Leaf& l : d.leaves) w = std::max(w, sym::text_width(l.name));
        if (style == sym::Style::latex) {
            out << "% leaves:";
            for (const Leaf& l : d.leaves) {
                out << " " << l.name << " (" << kind_text(l.kind) << ", " << shape_text(l.shape, sym::Style::ascii)
                    << ")";
            }
            out << "\n";
        } else {
            out << "leaves:\n";
            for (const Leaf& l : d.leaves) {
                out << "  " << pad(l.name, w) << "  " << pad(kind_text(l.kind), 9) << "  " << shape_text(l.shape, style)
                    << "\n";
            }
        }
    }
    section(out, "forward", d.forward, style, shapes, "(no op node)");
    section(out, "backward", d.backward, style, shapes, "(no node needs a gradient)");
    return out.str();
}

template <class T>
Explanation derive(Var<T> loss, bool all_nodes) {
    return detail::derive_graph(loss.graph(), loss.id(), all_nodes).equations;
}

template <class T>
std::string explain(Var<T> loss, const ExplainOptions& o) {
    const Explanation d = derive(loss, o.all_nodes);
    return render(o.fold_steps && !o.all_nodes ? fold_steps(d) : d, o.style, o.shapes);
}

#define XG_EXPLAIN_INSTANTIATIONS(T)                             \
    template Explanation derive(Var<T>, bool);                   \
    template std::string explain(Var<T>, const ExplainOptions&);
XG_INSTANTIATE_FLOAT_DOUBLE(XG_EXPLAIN_INSTANTIATIONS)
#undef XG_EXPLAIN_INSTANTIATIONS

}  // namespace xg

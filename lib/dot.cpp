// to_dot: the graph of a loss, and its gradient flow, as Graphviz DOT.
#include <sstream>

#include "explain_impl.hpp"
#include "instantiate.hpp"

namespace xg {

namespace {

/// A DOT string literal: quotes and backslashes escaped, lines joined by \n.
std::string quoted(const std::vector<std::string>& lines) {
    std::string s = "\"";
    for (std::size_t k = 0; k < lines.size(); ++k) {
        if (k) s += "\\n";
        for (char ch : lines[k]) {
            if (ch == '"' || ch == '\\') s += '\\';
            s += ch;
        }
    }
    return s + "\"";
}

std::string shape_text(Shape s) { return std::to_string(s.rows) + "×" + std::to_string(s.cols); }

}  // namespace

template <class T>
std::string to_dot(Var<T> loss, const DotOptions& o) {
    const Graph<T>& g = loss.graph();
    const detail::Derivation d = detail::derive_graph(g, loss.id(), true);
    const std::size_t n = d.in_graph.size();
    const char* red = "\"#c0392b\"";
    std::ostringstream s;
    s << "digraph xgrad {\n"
      << "  graph [rankdir=TB, nodesep=0.3, ranksep=0.4];\n"
      << "  node [fontname=\"Helvetica\", fontsize=11];\n"
      << "  edge [fontname=\"Helvetica\", fontsize=10, arrowsize=0.7];\n";
    for (std::uint32_t id = 0; id < n; ++id) {
        if (!d.in_graph[id]) continue;
        const NodeKind k = g.kind(id);
        const std::string what = k == NodeKind::op ? g.op(id)->name() : k == NodeKind::parameter ? "parameter" : "input";
        std::vector<std::string> label{g.name(id), o.shapes ? what + "  " + shape_text(g.shape(id)) : what};
        s << "  n" << id << " [label=" << quoted(label);
        if (k == NodeKind::op) s << ", shape=box, style=rounded";
        else if (k == NodeKind::parameter) s << ", shape=ellipse, style=filled, fillcolor=\"#d6e6f5\"";
        else s << ", shape=ellipse, style=filled, fillcolor=\"#eeeeee\"";
        if (o.gradients && d.has_grad[id]) s << ", color=" << red;
        if (id == loss.id()) s << ", peripheries=2";
        s << "];\n";
    }
    s << "  // forward: each input to its consumer\n";
    for (std::uint32_t id = 0; id < n; ++id) {
        if (!d.in_graph[id] || g.kind(id) != NodeKind::op) continue;
        for (std::uint32_t in : g.inputs(id)) s << "  n" << in << " -> n" << id << ";\n";
    }
    if (o.gradients) {
        s << "  graph [fontname=\"Helvetica\", fontsize=10, labelloc=b, label=\"black: forward (input to op)    "
             "red, dashed: reverse sweep, each edge labelled with the gradient it carries\"];\n";
        s << "  // reverse sweep: each contribution, against its forward edge\n";
        for (std::uint32_t id = 0; id < n; ++id) {
            for (const detail::Contribution& p : d.contributions[id]) {
                s << "  n" << id << " -> n" << p.consumer << " [dir=back, style=dashed, color=" << red
                  << ", fontcolor=" << red << ", label=" << quoted({" " + sym::render(p.expr, {}) + " "}) << "];\n";
            }
        }
    }
    s << "}\n";
    return s.str();
}

#define XG_DOT_INSTANTIATIONS(T)                            \
    template std::string to_dot(Var<T>, const DotOptions&);
XG_INSTANTIATE_FLOAT_DOUBLE(XG_DOT_INSTANTIATIONS)
#undef XG_DOT_INSTANTIATIONS

}  // namespace xg

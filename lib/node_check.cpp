// check_nodes: each op node's backward, on its own, against central differences.
#include "xgrad/node_check.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <numeric>
#include <ostream>
#include <random>

#include "xgrad/ops.hpp"

namespace xg {

namespace {

std::string fmt(const char* f, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}

std::string rendered(const sym::Expr& e) { return e ? sym::render(e, sym::Names{}) : std::string("(no formula)"); }

/// The entries of a matrix of `n` entries to check: all, or `k` drawn at random.
std::vector<std::size_t> sample(std::size_t n, std::size_t k, std::mt19937_64& rng) {
    std::vector<std::size_t> idx(n);
    std::iota(idx.begin(), idx.end(), std::size_t(0));
    if (n <= k) return idx;
    for (std::size_t i = 0; i < k; ++i) std::swap(idx[i], idx[i + std::size_t(rng() % (n - i))]);
    idx.resize(k);
    std::sort(idx.begin(), idx.end());
    return idx;
}

}  // namespace

NodeCheckReport check_nodes(Graph<double>& g, Var<double> loss, const NodeCheckOptions& o) {
    if (!loss || &loss.graph() != &g) throw GraphError("check_nodes: the loss node belongs to another graph");
    if (!(o.step > 0)) throw GraphError("check_nodes: the step h must be positive");
    g.forward();
    // The loss's graph: the loss and its ancestors.
    std::vector<char> in_graph(loss.id() + 1, 0);
    in_graph[loss.id()] = 1;
    for (std::uint32_t id = loss.id() + 1; id-- > 0;) {
        if (!in_graph[id] || g.kind(id) != NodeKind::op) continue;
        for (std::uint32_t in : g.inputs(id)) in_graph[in] = 1;
    }
    NodeCheckReport report;
    report.options = o;
    std::mt19937_64 rng(o.seed);
    std::normal_distribution<double> normal(0.0, 1.0);
    const double floor = o.rtol > 0 ? o.atol / o.rtol : 0;
    for (std::uint32_t id = 0; id <= loss.id(); ++id) {
        if (!in_graph[id] || g.kind(id) != NodeKind::op) continue;
        const Op<double>* op = g.op(id);
        const std::vector<std::uint32_t>& ins = g.inputs(id);
        bool any = false;
        for (std::size_t j = 0; j < ins.size(); ++j) any = any || op->differentiable(j);
        if (!any) continue;

        // The op alone: a leaf per input (a parameter where it is differentiable).
        Graph<double> h;
        std::vector<Var<double>> leaves;
        std::vector<Parameter<double>> params(ins.size());
        sym::Bindings b;
        for (std::size_t j = 0; j < ins.size(); ++j) {
            const std::string name = g.name(ins[j]);
            if (op->differentiable(j)) {
                params[j] = Parameter<double>(g.value(ins[j]), name);
                leaves.push_back(h.parameter(params[j], name));
            } else {
                leaves.push_back(h.input(g.value(ins[j]), name));
            }
            b.inputs.push_back(sym::var(name));
        }
        // The op object is g's (ops are immutable); g outlives h.
        const std::shared_ptr<const Op<double>> shared(op, [](const Op<double>*) {});
        const Var<double> y = h.apply(shared, leaves, g.name(id));
        Matrix<double> gv(y.value().shape());
        for (double& v : gv) v = normal(rng);
        const Var<double> G = h.input(gv, "G");
        const Var<double> L = sum(mul(y, G));
        h.backward(L);
        b.output = sym::var(g.name(id));
        b.grad = sym::var("d" + g.name(id));
        const sym::Expr f = op->formula();
        const std::string equation = g.name(id) + " = " + (f ? rendered(sym::bind_placeholders(f, b)) : "(no formula)");

        for (std::size_t j = 0; j < ins.size(); ++j) {
            if (!op->differentiable(j)) continue;
            NodeCheckEntry e;
            e.node = id;
            e.name = g.name(id);
            e.op = op->name();
            e.equation = equation;
            e.input = j;
            e.input_name = g.name(ins[j]);
            const sym::Expr gf = op->grad_formula(j);
            e.gradient = "d" + e.input_name + " = " + (gf ? rendered(sym::bind_placeholders(gf, b)) : "(no formula)");
            const Matrix<double> analytic = params[j].grad();
            Matrix<double>& value = params[j].value();
            const std::size_t cols = value.shape()[1];
            bool first = true;
            for (std::size_t k : sample(value.size(), o.max_entries, rng)) {
                double& v = value.data()[k];
                const double v0 = v;
                double up = 0, down = 0;
                try {
                    v = v0 + o.step;
                    h.forward();
                    up = L.value()(0, 0);
                    v = v0 - o.step;
                    h.forward();
                    down = L.value()(0, 0);
                } catch (...) {
                    v = v0;
                    throw;
                }
                v = v0;
                const double numeric = (up - down) / (2 * o.step);
                const double a = analytic.data()[k];
                const double err = std::fabs(a - numeric);
                const double scale = std::max({std::fabs(a), std::fabs(numeric), floor});
                const double rel = std::isnan(err) ? INFINITY : scale > 0 ? err / scale : 0.0;
                ++e.checked;
                if (first || rel > e.max_rel_err) {
                    first = false;
                    e.max_rel_err = rel;
                    e.worst_row = k / cols;
                    e.worst_col = k % cols;
                    e.analytic = a;
                    e.numeric = numeric;
                }
            }
            e.ok = e.max_rel_err <= o.rtol;
            report.entries.push_back(std::move(e));
        }
    }
    return report;
}

bool NodeCheckReport::ok() const {
    return std::all_of(entries.begin(), entries.end(), [](const NodeCheckEntry& e) { return e.ok; });
}

const NodeCheckEntry* NodeCheckReport::first_failure() const {
    for (const NodeCheckEntry& e : entries) {
        if (!e.ok) return &e;
    }
    return nullptr;
}

std::string NodeCheckReport::str() const {
    std::size_t failed = 0;
    for (const NodeCheckEntry& e : entries) failed += e.ok ? 0 : 1;
    std::string s = "node check, central differences with h = " + fmt("%g", options.step) + " and a random incoming gradient: ";
    s += failed ? "FAILED for " + std::to_string(failed) + " of " + std::to_string(entries.size()) + " node inputs"
                : "ok (" + std::to_string(entries.size()) + " node inputs)";
    s += "\n";
    if (const NodeCheckEntry* f = first_failure()) {
        s += "the first wrong backward: " + f->equation + " (op " + f->op + "): its gradient to " + f->input_name +
             ", " + f->gradient + ", differs from the central differences by " + fmt("%.2g", f->max_rel_err) +
             " (relative) at (" + std::to_string(f->worst_row) + ", " + std::to_string(f->worst_col) + "): backward " +
             fmt("%.6g", f->analytic) + ", numeric " + fmt("%.6g", f->numeric) + "\n";
    }
    for (const NodeCheckEntry& e : entries) {
        s += "  " + e.equation + "  d" + e.input_name + ": max rel err " + fmt("%.2g", e.max_rel_err) + " over " +
             std::to_string(e.checked) + (e.checked == 1 ? " entry" : " entries") + (e.ok ? "  ok" : "  FAILED") + "\n";
    }
    return s;
}

std::ostream& operator<<(std::ostream& os, const NodeCheckReport& r) { return os << r.str(); }

}  // namespace xg

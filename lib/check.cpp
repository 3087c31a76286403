// The gradient checker: backward() against central finite differences.
#include "xgrad/check.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <ostream>

#include "dropout.hpp"
#include "xgrad/ops.hpp"

namespace xg {

namespace {

/// Compare one parameter's analytic gradient with its finite differences.
GradCheckEntry compare(const std::string& name, const Matrix<double>& analytic, const Matrix<double>& numeric,
                       const GradCheckOptions& o) {
    GradCheckEntry e;
    e.name = name;
    e.shape = shape_of(analytic);
    const double floor = o.rtol > 0 ? o.atol / o.rtol : 0;
    bool first = true;
    for (std::size_t k = 0; k < analytic.size(); ++k) {
        const double a = analytic.data()[k], n = numeric.data()[k];
        const double abs_err = std::fabs(a - n);
        const double scale = std::max({std::fabs(a), std::fabs(n), floor});
        // A NaN anywhere is the worst possible error.
        const double rel = std::isnan(abs_err) ? INFINITY : scale > 0 ? abs_err / scale : 0.0;
        e.max_abs_err = std::isnan(abs_err) ? INFINITY : std::max(e.max_abs_err, abs_err);
        if (first || rel > e.max_rel_err) {
            first = false;
            e.max_rel_err = rel;
            e.worst_row = k / e.shape.cols;
            e.worst_col = k % e.shape.cols;
            e.analytic = a;
            e.numeric = n;
        }
    }
    e.ok = e.max_rel_err <= o.rtol;
    return e;
}

/// Central differences of `loss` with respect to each entry of `value`;
/// `commit` hands a changed `value` to the graph (a no-op for a parameter,
/// whose value the graph reads in place; set_value for an input leaf).
template <class Commit>
Matrix<double> finite_differences(Graph<double>& g, Var<double> loss, Matrix<double>& value, double h,
                                  Commit commit) {
    Matrix<double> out(value.shape());
    for (std::size_t k = 0; k < value.size(); ++k) {
        double& v = value.data()[k];
        const double v0 = v;
        try {
            v = v0 + h;
            commit();
            g.forward();
            const double up = loss.value()(0, 0);
            v = v0 - h;
            commit();
            g.forward();
            const double down = loss.value()(0, 0);
            v = v0;
            commit();
            out.data()[k] = (up - down) / (2 * h);
        } catch (...) {
            v = v0;
            commit();
            g.forward();
            throw;
        }
    }
    return out;
}

/// The graph the finite differences replay: a copy of g on the same
/// Parameters (so a perturbed parameter is seen by both) and the same ops,
/// in which each non-differentiable input of an op — detach's, a loss's
/// labels — that gradients could otherwise reach is a constant leaf holding
/// its present value. backward() treats such an input as a constant, so the
/// differences must too: they then measure what the engine differentiates.
/// Every node keeps its name, so errors read as they would on g.
struct Replica {
    Graph<double> g;
    std::vector<Var<double>> vars;  // vars[id]: node id of the original
};

void build_replica(Graph<double>& g, Replica& r) {
    r.g.check_numerics(g.checking_numerics());
    // The same mode, and running averages left alone by the replays.
    r.g.set_mode(g.mode());
    r.g.hold_random_state(true);
    std::vector<Var<double>> frozen(g.size());  // the constant standing for node id, made once
    r.vars.reserve(g.size());
    for (std::uint32_t id = 0; id < g.size(); ++id) {
        const std::string name = g.name(id);
        switch (g.kind(id)) {
            case NodeKind::input: r.vars.push_back(r.g.input(g.value(id), name, g.requires_grad(id))); break;
            case NodeKind::parameter: r.vars.push_back(r.g.parameter(g.parameter_of(id), name)); break;
            case NodeKind::op: {
                const Op<double>* op = g.op(id);
                const std::vector<std::uint32_t>& ins = g.inputs(id);
                std::vector<Var<double>> args;
                args.reserve(ins.size());
                for (std::size_t j = 0; j < ins.size(); ++j) {
                    const std::uint32_t in = ins[j];
                    if (op->differentiable(j) || !g.requires_grad(in)) {
                        args.push_back(r.vars[in]);
                        continue;
                    }
                    if (!frozen[in]) frozen[in] = r.g.input(g.value(in), g.name(in));
                    args.push_back(frozen[in]);
                }
                const double keep = detail::dropout_keep_prob(op);
                if (keep > 0 && g.scratch(id, 1)(0, 2) != 0) {
                    // A dropout node that drew a mask: in the replica, X ⊙ (D / keep_prob) with
                    // g's mask D as a constant, so every replay sees the mask backward() used.
                    const Matrix<double> scaled = dropout_mask(g.var(id)) / keep;
                    r.vars.push_back(mul(args[0], r.g.input(scaled, name + " mask")).named(name));
                    break;
                }
                // The op object is g's (ops are immutable); g outlives the replica.
                const std::shared_ptr<const Op<double>> shared(op, [](const Op<double>*) {});
                r.vars.push_back(r.g.apply(shared, args, name));
                break;
            }
        }
    }
}

std::string fmt(const char* f, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}

}  // namespace

GradCheckReport check_gradients(Graph<double>& g, Var<double> loss, const std::vector<Var<double>>& leaves,
                                const GradCheckOptions& options) {
    if (!loss || &loss.graph() != &g) throw GraphError("check_gradients: the loss node belongs to another graph");
    if (!(options.step > 0)) throw GraphError("check_gradients: the step h must be positive");
    std::vector<std::uint32_t> ids;
    for (const Var<double>& v : leaves) {
        if (!v || &v.graph() != &g) throw GraphError("check_gradients: a leaf to check belongs to another graph");
        if (g.kind(v.id()) == NodeKind::op) {
            throw GraphError("check_gradients: " + v.name() + " is not a leaf; check the leaves it is computed from");
        }
        if (g.kind(v.id()) == NodeKind::input && !g.requires_grad(v.id())) {
            throw GraphError("check_gradients: the input " + v.name() +
                             " carries no gradient; make it with g.input(value, name, true) to check the "
                             "gradient with respect to it");
        }
        if (std::find(ids.begin(), ids.end(), v.id()) == ids.end()) ids.push_back(v.id());
    }
    std::sort(ids.begin(), ids.end());

    // Dropout keeps the masks it drew last, batch_norm its running averages:
    // the loss is then one function of the parameters for every replay.
    struct HoldOnExit {
        Graph<double>& g;
        bool was;
        ~HoldOnExit() { g.hold_random_state(was); }
    } hold_on_exit{g, g.holding_random_state()};
    g.hold_random_state(true);
    g.forward();
    g.backward(loss);  // GraphError for a loss that is not 1 × 1
    std::vector<Matrix<double>> analytic;
    for (std::uint32_t id : ids) {
        if (g.has_grad(id)) {
            analytic.push_back(g.grad(id));
        } else {
            analytic.push_back(xt::zeros<double>(g.value(id).shape()));
        }
    }

    Replica replica;
    build_replica(g, replica);
    Graph<double>& rg = replica.g;
    const Var<double> rloss = replica.vars[loss.id()];

    // A parameter is perturbed in place (the replica reads it), which counts
    // as a write for g's leaf versions; every entry is restored bit for bit
    // before this returns or throws, so g's values from the forward() above
    // still hold, and g accepts its leaves as they are on every way out.
    struct AcceptOnExit {
        Graph<double>& g;
        ~AcceptOnExit() { g.accept_changed_leaves(); }
    } accept_on_exit{g};
    GradCheckReport report;
    report.options = options;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        Matrix<double> numeric;
        if (g.kind(ids[i]) == NodeKind::parameter) {
            Parameter<double> p = g.parameter_of(ids[i]);
            numeric = finite_differences(rg, rloss, p.value(), options.step, [] {});
        } else {
            const Var<double> in = replica.vars[ids[i]];
            Matrix<double> work = g.value(ids[i]);
            numeric = finite_differences(rg, rloss, work, options.step, [&] { rg.set_value(in, work); });
        }
        report.entries.push_back(compare(g.name(ids[i]), analytic[i], numeric, options));
    }
    return report;  // g was not replayed: its values are those of the forward() above
}

GradCheckReport check_gradients(Graph<double>& g, Var<double> loss, const GradCheckOptions& options) {
    std::vector<Var<double>> params;
    for (std::uint32_t id = 0; id < g.size(); ++id) {
        if (g.kind(id) == NodeKind::parameter) params.push_back(g.var(id));
    }
    return check_gradients(g, loss, params, options);
}

bool GradCheckReport::ok() const {
    return std::all_of(entries.begin(), entries.end(), [](const GradCheckEntry& e) { return e.ok; });
}

double GradCheckReport::max_abs_err() const {
    double m = 0;
    for (const GradCheckEntry& e : entries) m = std::max(m, e.max_abs_err);
    return m;
}

double GradCheckReport::max_rel_err() const {
    const GradCheckEntry* w = worst();
    return w ? w->max_rel_err : 0;
}

const GradCheckEntry* GradCheckReport::worst() const {
    const GradCheckEntry* w = nullptr;
    for (const GradCheckEntry& e : entries) {
        if (!w || e.max_rel_err > w->max_rel_err) w = &e;
    }
    return w;
}

std::string GradCheckReport::str() const {
    std::size_t failed = 0;
    for (const GradCheckEntry& e : entries) failed += e.ok ? 0 : 1;
    std::string s = "gradient check, central differences with h = " + fmt("%g", options.step) +
                    ", pass when |analytic - numeric| <= max(" + fmt("%g", options.rtol) +
                    " max(|analytic|, |numeric|), " + fmt("%g", options.atol) + "): ";
    const std::string count = std::to_string(entries.size()) + (entries.size() == 1 ? " parameter" : " parameters");
    s += failed ? "FAILED for " + std::to_string(failed) + " of " + count : "ok (" + count + ")";
    for (const GradCheckEntry& e : entries) {
        s += "\n  " + e.name + " [" + to_string(e.shape) + "]: max abs err " + fmt("%.2g", e.max_abs_err) +
             ", max rel err " + fmt("%.2g", e.max_rel_err) + " at (" + std::to_string(e.worst_row) + ", " +
             std::to_string(e.worst_col) + "): analytic " + fmt("%.6g", e.analytic) + ", numeric " +
             fmt("%.6g", e.numeric) + (e.ok ? "  ok" : "  FAILED");
    }
    return s;
}

std::ostream& operator<<(std::ostream& os, const GradCheckReport& r) { return os << r.str(); }

GradientCheckError::GradientCheckError(GradCheckReport report)
    : Error(report.str()), report_(std::move(report)) {}

GradCheckReport require_gradients_ok(Graph<double>& g, Var<double> loss, const std::vector<Var<double>>& leaves,
                                     const GradCheckOptions& options) {
    GradCheckReport r = check_gradients(g, loss, leaves, options);
    if (!r.ok()) throw GradientCheckError(std::move(r));
    return r;
}

GradCheckReport require_gradients_ok(Graph<double>& g, Var<double> loss, const GradCheckOptions& options) {
    GradCheckReport r = check_gradients(g, loss, options);
    if (!r.ok()) throw GradientCheckError(std::move(r));
    return r;
}

}  // namespace xg

// check_derivation: a person's typed equations against the reverse sweep,
// on several probes of a network, with a verdict and a repair per equation.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>
#include <cstdio>
#include <ostream>
#include <random>
#include <set>

#include "derivation_impl.hpp"

namespace xg {

namespace {

using detail::EvalFailure;
using detail::Mat;
using detail::Snapshot;

/// The probes of the builder overload (see DerivationOptions::probes).
std::vector<DerivationProbe> make_probes(const DerivationOptions& o) {
    std::mt19937_64 rng(o.seed);
    const auto draw = [&](std::size_t lo, std::size_t hi) { return lo + std::size_t(rng() % (hi - lo + 1)); };
    std::vector<DerivationProbe> out;
    std::vector<std::size_t> first;
    for (std::size_t k = 0; k < o.sizes; ++k) first.push_back(draw(2, 5));
    const std::size_t m0 = draw(3, 7);
    for (std::size_t p = 0; p < std::max<std::size_t>(o.probes, 1); ++p) {
        DerivationProbe q;
        q.seed = rng();
        if (p == 0) {
            q.sizes = first;
            q.examples = m0;
        } else if (p == 1) {
            q.sizes.assign(o.sizes, 1);
            q.examples = 1;
        } else if (p == 2) {
            q.sizes = first;
            q.examples = 1;
        } else {
            for (std::size_t k = 0; k < o.sizes; ++k) q.sizes.push_back(draw(1, 6));
            q.examples = draw(1, 6);
        }
        out.push_back(q);
    }
    return out;
}

std::string shape_text(const Mat& a) { return "[" + std::to_string(a.shape()[0]) + "x" + std::to_string(a.shape()[1]) + "]"; }

/// Check the equations on snapshots already taken; `engine` from the first probe.
DerivationReport check_on(const std::vector<Snapshot>& probes, const detail::EngineText& engine,
                          const std::vector<TypedEquation>& equations, const DerivationOptions& o,
                          const std::vector<NodeKind>& kinds) {
    DerivationReport r;
    r.options = o;
    for (const Snapshot& s : probes) r.probes.push_back(s.probe);
    const Snapshot& first = probes.front();
    const sym::Style style = o.style;

    // Sweep order: forward equations by node, then gradients by their line, then the rest as typed.
    std::vector<std::pair<std::size_t, std::size_t>> order;  // (rank, index)
    std::vector<EquationCheck> checks(equations.size());
    std::vector<std::uint32_t> node(equations.size(), 0);
    std::vector<char> known(equations.size(), 0);
    for (std::size_t i = 0; i < equations.size(); ++i) {
        EquationCheck& c = checks[i];
        c.equation = equations[i];
        const std::string& lhs = c.equation.lhs;
        std::size_t rank = 3000000 + i;
        if (first.ids.count(lhs)) {
            c.node = lhs;
            c.gradient = false;
            node[i] = first.ids.at(lhs);
            known[i] = 1;
            rank = node[i];
        } else if (lhs.size() > 1 && lhs[0] == 'd' && first.ids.count(lhs.substr(1))) {
            c.node = lhs.substr(1);
            node[i] = first.ids.at(c.node);
            const auto it = engine.order.find(node[i]);
            if (first.grads.count(lhs)) {
                known[i] = 1;
                rank = 2000000 + (it != engine.order.end() ? it->second : 0);
            } else {
                c.verdict = Verdict::cannot_check;
                c.problem = "the reverse sweep computes no gradient for " + c.node +
                            (kinds[node[i]] == NodeKind::input
                                 ? " (an input: data, not differentiated)"
                                 : " (no path from it to the loss, or the op reading it sends its gradient past it)");
            }
            if (it != engine.order.end()) c.engine_equation = engine.backward.at(node[i]);
        } else {
            c.verdict = Verdict::cannot_check;
            std::string names;
            for (const auto& kv : first.ids) {
                if (kv.first.size() > 1 && kv.first[0] == 't' && std::isdigit(static_cast<unsigned char>(kv.first[1]))) continue;
                names += (names.empty() ? "" : ", ") + kv.first;
            }
            c.problem = "no node is named " + lhs + (lhs.size() > 1 && lhs[0] == 'd' ? " or " + lhs.substr(1) : "") +
                        " (the named nodes: " + names + ")";
        }
        if (known[i] && !c.gradient) {
            const auto fw = engine.forward.find(node[i]);
            if (fw != engine.forward.end()) c.engine_equation = fw->second;
        }
        order.push_back({rank, i});
    }
    std::stable_sort(order.begin(), order.end());

    // Evaluate in sweep order; own[p][lhs]: the person's value on probe p.
    std::vector<std::map<std::string, Mat>> own(probes.size());
    std::map<std::string, std::vector<std::string>> roots_of;  // a wrong lhs → the wrong-on-their-own ones behind it
    for (const auto& oi : order) {
        const std::size_t i = oi.second;
        EquationCheck& c = checks[i];
        const sym::Expr& rhs = c.equation.rhs;
        std::set<std::string> reads;
        detail::names_in(rhs, reads);
        const auto engine_lookup = [&](std::size_t p, const std::string& n) -> const Mat* {
            const Snapshot& s = probes[p];
            auto v = s.values.find(n);
            if (v != s.values.end()) return &v->second;
            auto g = s.grads.find(n);
            if (g != s.grads.end()) return &g->second;
            auto w = own[p].find(n);
            return w != own[p].end() ? &w->second : nullptr;
        };
        const auto own_lookup = [&](std::size_t p, const std::string& n) -> const Mat* {
            const Snapshot& s = probes[p];
            auto v = s.values.find(n);
            if (v != s.values.end()) return &v->second;
            auto w = own[p].find(n);
            if (w != own[p].end()) return &w->second;
            auto g = s.grads.find(n);
            return g != s.grads.end() ? &g->second : nullptr;
        };
        // What the equation must equal on each probe (a builder may, wrongly, not make the node every time).
        std::vector<const Mat*> targets;
        for (std::size_t p = 0; p < probes.size() && known[i]; ++p) {
            const auto& table = c.gradient ? probes[p].grads : probes[p].values;
            const auto it = table.find(c.gradient ? c.equation.lhs : c.node);
            if (it == table.end()) {
                known[i] = 0;
                c.verdict = Verdict::cannot_check;
                c.problem = "the network built for probe " + std::to_string(p) + " has no " +
                            (c.gradient ? "gradient for " : "node ") + c.node;
                break;
            }
            targets.push_back(&it->second);
        }
        // The person's own value on every probe, for the equations that read this one.
        bool own_fails = false;
        std::vector<Mat> own_values;
        for (std::size_t p = 0; p < probes.size(); ++p) {
            try {
                own_values.push_back(
                    detail::evaluate(rhs, [&](const std::string& n) { return own_lookup(p, n); }, probes[p].m, style));
            } catch (const EvalFailure&) {
                own_fails = true;
                break;
            }
        }
        if (!own_fails) {
            for (std::size_t p = 0; p < probes.size(); ++p) own[p][c.equation.lhs] = own_values[p];
        }
        if (!known[i]) {
            roots_of[c.equation.lhs] = {c.equation.lhs};
            continue;
        }

        // The verdict: with the engine's gradients for the names it reads.
        bool failed = false;
        for (std::size_t p = 0; p < probes.size() && !failed; ++p) {
            try {
                const Mat v =
                    detail::evaluate(rhs, [&](const std::string& n) { return engine_lookup(p, n); }, probes[p].m, style);
                const Mat& want = *targets[p];
                if (v.shape() != want.shape()) {
                    c.verdict = Verdict::cannot_check;
                    c.problem = "the right-hand side is " + shape_text(v) + ", " + c.equation.lhs + " is " +
                                shape_text(want);
                    c.probe = p;
                    failed = true;
                    break;
                }
                const detail::Difference d = detail::difference(v, want, o.rtol, o.atol);
                if (d.rel > o.rtol && (c.verdict != Verdict::differs || d.rel > c.max_rel_diff)) {
                    c.verdict = Verdict::differs;
                    c.max_rel_diff = d.rel;
                    c.probe = p;
                    c.row = d.row;
                    c.col = d.col;
                    c.yours = d.a;
                    c.engine = d.b;
                }
            } catch (const EvalFailure& e) {
                c.verdict = Verdict::cannot_check;
                c.problem = e.kind == EvalFailure::Kind::unknown_name
                                ? "it reads " + e.what + ", which is neither a node, nor the gradient of one, nor defined by an earlier equation"
                                : e.what;
                c.probe = p;
                failed = true;
            }
        }
        if (failed) c.max_rel_diff = INFINITY;
        if (c.verdict != Verdict::agrees && !(c.verdict == Verdict::cannot_check && c.problem.rfind("it reads ", 0) == 0)) {
            detail::RepairContext rc;
            rc.probes = &probes;
            rc.targets = targets;
            rc.lookup = engine_lookup;
            const auto f = engine.factors.find(node[i]);
            if (f != engine.factors.end() && c.gradient) rc.factors = f->second;
            rc.options = &o;
            rc.gradient = c.gradient;
            rc.parameter = kinds[node[i]] == NodeKind::parameter;
            rc.lhs = c.equation.lhs;
            const auto fix = detail::find_repair(rhs, rc);
            c.mistake = fix.first;
            c.hint = fix.second;
        }
        // Right given the engine's values, but not with the person's own ones.
        if (c.verdict == Verdict::agrees) {
            bool own_ok = !own_fails;
            for (std::size_t p = 0; p < probes.size() && own_ok; ++p) {
                const Mat& want = *targets[p];
                own_ok = own_values[p].shape() == want.shape() &&
                         detail::difference(own_values[p], want, o.rtol, o.atol).rel <= o.rtol;
            }
            if (!own_ok) {
                // The wrong equations it reads, traced back to those wrong on their own.
                std::set<std::string> roots;
                for (const std::string& n : reads) {
                    const auto it = roots_of.find(n);
                    if (it != roots_of.end()) roots.insert(it->second.begin(), it->second.end());
                }
                c.reads_wrong.assign(roots.begin(), roots.end());
                if (!c.reads_wrong.empty()) c.verdict = Verdict::follows;
            }
        }
        if (c.verdict == Verdict::follows) roots_of[c.equation.lhs] = c.reads_wrong;
        else if (c.verdict != Verdict::agrees) roots_of[c.equation.lhs] = {c.equation.lhs};
    }

    for (const auto& oi : order) r.checks.push_back(std::move(checks[oi.second]));
    r.cause = r.checks.size();
    for (std::size_t k = 0; k < r.checks.size(); ++k) {
        if (r.checks[k].verdict == Verdict::differs || r.checks[k].verdict == Verdict::cannot_check) {
            r.cause = k;
            break;
        }
    }
    return r;
}

void check_loss(Graph<double>* g, Var<double> loss, const char* who) {
    if (!g) throw GraphError(std::string(who) + ": the builder returned no graph");
    if (!loss || &loss.graph() != g) throw GraphError(std::string(who) + ": the loss is not a node of the graph");
    if (g->shape(loss.id()) != Shape{1, 1}) {
        throw GraphError(std::string(who) + ": the loss must be a 1x1 node, " + loss.name() + " is [" +
                         to_string(loss.shape()) + "]");
    }
}

std::vector<NodeKind> kinds_of(const Graph<double>& g) {
    std::vector<NodeKind> k;
    for (std::uint32_t id = 0; id < g.size(); ++id) k.push_back(g.kind(id));
    return k;
}

}  // namespace

DerivationReport check_derivation(const NetworkBuilder& build, const std::vector<TypedEquation>& equations,
                                  const DerivationOptions& options) {
    if (!build) throw GraphError("check_derivation: no network builder given");
    std::vector<Snapshot> snaps;
    detail::EngineText engine;
    std::vector<NodeKind> kinds;
    for (const DerivationProbe& p : make_probes(options)) {
        DerivationNetwork net = build(p);
        check_loss(net.graph.get(), net.loss, "check_derivation");
        snaps.push_back(detail::snapshot(*net.graph, net.loss, options.convention, p));
        // The m the network was built with (a batch norm builds 2 columns when asked for 1).
        snaps.back().probe.examples = std::size_t(snaps.back().m);
        if (snaps.size() == 1) {
            engine = detail::engine_text(*net.graph, net.loss, options.style);
            kinds = kinds_of(*net.graph);
        }
    }
    return check_on(snaps, engine, equations, options, kinds);
}

DerivationReport check_derivation(Graph<double>& g, Var<double> loss, const std::vector<TypedEquation>& equations,
                                  const DerivationOptions& options) {
    check_loss(&g, loss, "check_derivation");
    // The leaves to draw: parameters, and inputs read only by differentiable slots (not labels).
    std::vector<char> label(g.size(), 0);
    for (std::uint32_t id = 0; id < g.size(); ++id) {
        if (g.kind(id) != NodeKind::op) continue;
        const std::vector<std::uint32_t>& ins = g.inputs(id);
        for (std::size_t j = 0; j < ins.size(); ++j) {
            if (!g.op(id)->differentiable(j)) label[ins[j]] = 1;
        }
    }
    std::vector<std::uint32_t> drawn;
    std::vector<Mat> saved;
    for (std::uint32_t id = 0; id <= loss.id(); ++id) {
        if (g.kind(id) == NodeKind::parameter || (g.kind(id) == NodeKind::input && !label[id])) {
            drawn.push_back(id);
            saved.push_back(g.value(id));
        }
    }
    const auto restore = [&] {
        for (std::size_t k = 0; k < drawn.size(); ++k) {
            if (g.kind(drawn[k]) == NodeKind::parameter) {
                Parameter<double> p = g.parameter_of(drawn[k]);
                p.value() = saved[k];
            } else {
                g.set_value(g.var(drawn[k]), saved[k]);
            }
        }
        g.forward();
    };
    std::vector<Snapshot> snaps;
    detail::EngineText engine;
    std::mt19937_64 rng(options.seed);
    std::normal_distribution<double> normal(0.0, 1.0);
    try {
        g.forward();
        for (std::size_t p = 0; p < std::max<std::size_t>(options.probes, 1); ++p) {
            if (p > 0) {
                for (std::size_t k = 0; k < drawn.size(); ++k) {
                    Mat v = saved[k];
                    for (double& x : v) x = normal(rng);
                    if (g.kind(drawn[k]) == NodeKind::parameter) {
                        Parameter<double> q = g.parameter_of(drawn[k]);
                        q.value() = v;
                    } else {
                        g.set_value(g.var(drawn[k]), v);
                    }
                }
                g.forward();
            }
            DerivationProbe probe;
            probe.examples = 0;
            probe.seed = p;
            snaps.push_back(detail::snapshot(g, loss, options.convention, probe));
            snaps.back().probe.examples = std::size_t(snaps.back().m);
        }
        engine = detail::engine_text(g, loss, options.style);
    } catch (...) {
        restore();
        throw;
    }
    restore();
    g.backward(loss);
    return check_on(snaps, engine, equations, options, kinds_of(g));
}

// ---- the report ---------------------------------------------------------------------

}  // namespace xg

// Typed equations evaluated as matrix programs on a graph's values.
#include <algorithm>
#include <cmath>
#include <functional>
#include <set>

#include "derivation_impl.hpp"

namespace xg::detail {

std::string text(const sym::Expr& e, sym::Style style) { return sym::render(e, sym::Names{}, style); }

namespace {

std::string shape_text(const Mat& a) { return "[" + std::to_string(a.shape()[0]) + "x" + std::to_string(a.shape()[1]) + "]"; }

struct Evaluator {
    const Lookup& lookup;
    double m;
    sym::Style style;

    [[noreturn]] void shapes(const std::string& what) const { throw EvalFailure{EvalFailure::Kind::shapes, what}; }

    // a ∘ b elementwise with numpy's 2-D broadcasting (each dimension equal, or 1).
    template <class F>
    Mat broadcast(const sym::Expr& e, const Mat& a, const Mat& b, F f) const {
        const std::size_t ar = a.shape()[0], ac = a.shape()[1], br = b.shape()[0], bc = b.shape()[1];
        if (!(ar == br || ar == 1 || br == 1) || !(ac == bc || ac == 1 || bc == 1)) {
            shapes(text(e, style) + ": cannot broadcast " + text(e->args[0], style) + " " + shape_text(a) + " with " +
                   text(e->args[1], style) + " " + shape_text(b));
        }
        const std::size_t R = std::max(ar, br), C = std::max(ac, bc);
        Mat out({R, C});
        for (std::size_t i = 0; i < R; ++i)
            for (std::size_t j = 0; j < C; ++j) out(i, j) = f(a(ar == 1 ? 0 : i, ac == 1 ? 0 : j), b(br == 1 ? 0 : i, bc == 1 ? 0 : j));
        return out;
    }

    static Mat sum_axis(const Mat& a, int axis) {
        const std::size_t R = a.shape()[0], C = a.shape()[1];
        const std::size_t r = axis == 1 ? R : 1, c = axis == 0 ? C : 1;
        Mat s = xt::zeros<double>({r, c});
        for (std::size_t i = 0; i < R; ++i)
            for (std::size_t j = 0; j < C; ++j) s(r == 1 ? 0 : i, c == 1 ? 0 : j) += a(i, j);
        return s;
    }

    static Mat softmax(const Mat& z) {
        Mat s(z.shape());
        const std::size_t R = z.shape()[0], C = z.shape()[1];
        for (std::size_t j = 0; j < C; ++j) {
            double hi = -INFINITY;
            for (std::size_t i = 0; i < R; ++i) hi = std::max(hi, z(i, j));
            double total = 0;
            for (std::size_t i = 0; i < R; ++i) total += s(i, j) = std::exp(z(i, j) - hi);
            for (std::size_t i = 0; i < R; ++i) s(i, j) /= total;
        }
        return s;
    }

    static double apply(const std::string& f, double x) {
        if (f == "tanh") return std::tanh(x);
        if (f == "σ") return 1 / (1 + std::exp(-x));
        if (f == "relu") return x > 0 ? x : x <= 0 ? 0.0 : x;
        if (f == "step") return x > 0 ? 1.0 : x <= 0 ? 0.0 : x;
        if (f == "exp") return std::exp(x);
        if (f == "log") return std::log(x);
        if (f == "√") return std::sqrt(x);
        if (f == "abs") return std::fabs(x);
        if (f == "sign") return x > 0 ? 1.0 : x < 0 ? -1.0 : x;
        if (f == "softplus") return x > 30 ? x : std::log1p(std::exp(x));
        return NAN;
    }

    Mat go(const sym::Expr& e) const {
        using sym::Kind;
        switch (e->kind) {
            case Kind::variable: {
                const Mat* v = lookup(e->text.unicode);
                if (!v) throw EvalFailure{EvalFailure::Kind::unknown_name, e->text.unicode};
                return *v;
            }
            case Kind::number:
                return Mat({1, 1}, e->number);
            case Kind::symbol:
                if (e->text.unicode == "m") return Mat({1, 1}, m);
                throw EvalFailure{EvalFailure::Kind::unknown_name, e->text.unicode};
            case Kind::function: {
                const std::string& f = e->text.unicode;
                Mat x = go(e->args[0]);
                if (f == "Σ_columns") return sum_axis(x, 1);
                if (f == "Σ_rows") return sum_axis(x, 0);
                if (f == "Σ_all" || f == "Σ") return sum_axis(x, 2);
                if (f == "softmax") return softmax(x);
                if (std::isnan(apply(f, 1.0))) {  // a function the notation does not know
                    throw EvalFailure{EvalFailure::Kind::unknown_name, f};
                }
                for (double& v : x) v = apply(f, v);
                return x;
            }
            case Kind::neg:
                return -go(e->args[0]);
            case Kind::add:
                return broadcast(e, go(e->args[0]), go(e->args[1]), [](double x, double y) { return x + y; });
            case Kind::sub:
                return broadcast(e, go(e->args[0]), go(e->args[1]), [](double x, double y) { return x - y; });
            case Kind::scale:
            case Kind::hadamard:
                return broadcast(e, go(e->args[0]), go(e->args[1]), [](double x, double y) { return x * y; });
            case Kind::div:
                return broadcast(e, go(e->args[0]), go(e->args[1]), [](double x, double y) { return x / y; });
            case Kind::matmul: {
                const Mat a = go(e->args[0]), b = go(e->args[1]);
                const std::size_t R = a.shape()[0], K = a.shape()[1], C = b.shape()[1];
                if (b.shape()[0] != K) {
                    std::string fit;
                    if (a.shape()[1] == b.shape()[1]) fit = " (" + text(sym::transpose(e->args[1]), style) + " would fit)";
                    else if (a.shape()[0] == b.shape()[0]) fit = " (" + text(sym::transpose(e->args[0]), style) + " would fit)";
                    shapes(text(e, style) + ": the inner dimensions differ: " + text(e->args[0], style) + " " +
                           shape_text(a) + ", " + text(e->args[1], style) + " " + shape_text(b) + fit);
                }
                Mat c = xt::zeros<double>({R, C});
                for (std::size_t i = 0; i < R; ++i)
                    for (std::size_t k = 0; k < K; ++k)
                        for (std::size_t j = 0; j < C; ++j) c(i, j) += a(i, k) * b(k, j);
                return c;
            }
            case Kind::pow: {
                Mat x = go(e->args[0]);
                for (double& v : x) v = std::pow(v, e->number);
                return x;
            }
            case Kind::transpose: {
                const Mat x = go(e->args[0]);
                Mat t({x.shape()[1], x.shape()[0]});
                for (std::size_t i = 0; i < x.shape()[0]; ++i)
                    for (std::size_t j = 0; j < x.shape()[1]; ++j) t(j, i) = x(i, j);
                return t;
            }
            case Kind::input:
            case Kind::output:
            case Kind::grad:
                break;
        }
        throw EvalFailure{EvalFailure::Kind::unknown_name, "a placeholder"};
    }
};

}  // namespace

Mat evaluate(const sym::Expr& e, const Lookup& lookup, double m, sym::Style style) {
    return Evaluator{lookup, m, style}.go(e);
}

Difference difference(const Mat& a, const Mat& b, double rtol, double atol) {
    Difference d;
    const double floor = rtol > 0 ? atol / rtol : 0;
    bool first = true;
    const std::size_t cols = a.shape()[1];
    for (std::size_t k = 0; k < a.size(); ++k) {
        const double x = a.data()[k], y = b.data()[k];
        const double err = std::fabs(x - y);
        const double scale = std::max({std::fabs(x), std::fabs(y), floor});
        const double rel = std::isnan(err) ? (std::isnan(x) && std::isnan(y) ? 0.0 : INFINITY) : scale > 0 ? err / scale : 0.0;
        if (first || rel > d.rel) {
            first = false;
            d = Difference{rel, k / cols, k % cols, x, y};
        }
    }
    return d;
}

Snapshot snapshot(Graph<double>& g, Var<double> loss, Convention convention, const DerivationProbe& probe) {
    Snapshot s;
    s.probe = probe;
    g.backward(loss);
    const BackwardPlan& plan = g.backward_plan(loss.id());
    // m: the columns of the first input leaf (the data), else of the loss.
    s.m = double(g.shape(loss.id()).cols);
    for (std::uint32_t id = 0; id <= loss.id(); ++id) {
        if (plan.in_graph[id] && g.kind(id) == NodeKind::input) {
            s.m = double(g.shape(id).cols);
            break;
        }
    }
    // Every node's value (y_hat = softmax(zy) beside a loss on the logits, too).
    for (std::uint32_t id = 0; id < g.size(); ++id) {
        const std::string name = g.name(id);
        s.ids[name] = id;
        s.values[name] = g.value(id);
        if (g.has_grad(id)) {
            Mat d = g.grad(id);
            if (convention == Convention::lecture && g.kind(id) != NodeKind::parameter) d *= s.m;
            s.grads["d" + name] = std::move(d);
        }
    }
    return s;
}

// ---- what the engine's own derivation says, for the hints ----------------------

/// The names a formula reads.
void names_in(const sym::Expr& e, std::set<std::string>& out) {
    if (e->kind == sym::Kind::variable) out.insert(e->text.unicode);
    for (const sym::Expr& a : e->args) names_in(a, out);
}



EngineText engine_text(Graph<double>& g, Var<double> loss, sym::Style style) {
    EngineText t;
    const Explanation x = derive(loss);
    const sym::Names none;
    for (const Equation& q : x.forward) t.forward[q.node] = q.lhs + " = " + sym::render(q.rhs, none, style);
    for (std::size_t k = 0; k < x.backward.size(); ++k) {
        const Equation& q = x.backward[k];
        t.backward[q.node] = q.lhs + " = " + sym::render(q.rhs, none, style);
        t.order[q.node] = k;
        // Factors of the right-hand side that read no gradient: (1 − A1²), step(Z1).
        std::vector<sym::Expr> fs;
        std::function<void(const sym::Expr&)> flat = [&](const sym::Expr& e) {
            if (e->kind == sym::Kind::hadamard || e->kind == sym::Kind::scale) {
                for (const sym::Expr& a : e->args) flat(a);
            } else {
                fs.push_back(e);
            }
        };
        flat(q.rhs);
        if (fs.size() < 2) continue;
        // Where they come from: the one op that reads this node.
        std::string from;
        std::uint32_t consumer = 0, consumers = 0;
        for (std::uint32_t id = q.node + 1; id <= loss.id(); ++id) {
            if (g.kind(id) != NodeKind::op) continue;
            for (std::uint32_t in : g.inputs(id)) {
                if (in == q.node) {
                    consumer = id;
                    ++consumers;
                    break;
                }
            }
        }
        for (const sym::Expr& f : fs) {
            std::set<std::string> names;
            names_in(f, names);
            bool reads_grad = false;
            for (const std::string& n : names) reads_grad = reads_grad || (n.size() > 1 && n[0] == 'd');
            if (reads_grad || f->kind == sym::Kind::number) continue;
            if (consumers == 1) {
                const auto fw = t.forward.find(consumer);
                from = "the derivative of " + g.op(consumer)->name() +
                       (fw != t.forward.end() ? " in " + fw->second : std::string());
            }
            t.factors[q.node].push_back({f, from});
        }
    }
    return t;
}

}  // namespace xg::detail

// Losses: binary cross-entropy (from probabilities or, stably, from logits)
// and mean squared error. Softmax cross-entropy lives with softmax (ops_softmax.cpp).
#include <cmath>
#include <cstdint>

#include "ops_common.hpp"
#include "vmath.hpp"
#include "xgrad/ops.hpp"

namespace xg {
namespace detail {

namespace {

sym::Expr bce_formula(const sym::Expr& a) {
    using namespace sym;
    const Expr log_a = fn(fname("log", "log", "\\log"), a);
    const Expr log_1ma = fn(fname("log", "log", "\\log"), 1.0 - a);
    const Expr sum = fn(fname("Σ", "sum", "\\sum"), in(1) * log_a + (1.0 - in(1)) * log_1ma, true);
    return neg(scale(div(num(1), m()), sum));
}

Shape bce_shape(const ShapeContext& c) {
    c.require_same(0, 1, "labels must have the prediction's shape");
    return Shape{1, 1};
}

}  // namespace

// J = −(1/m) Σ [Y log A + (1 − Y) log(1 − A)];  dA = g (A − Y) / (m A ⊙ (1 − A))
template <class T>
class BceOp final : public Op<T> {
public:
    std::string name() const override { return "binary_cross_entropy"; }
    bool differentiable(std::size_t i) const override { return i == 0; }

    Shape shape(const ShapeContext& c) const override {
        c.require_arity(2);
        return bce_shape(c);
    }

    void forward(const ForwardContext<T>& c) const override {
        const ConstView<T> a = c.in(0), y = c.in(1);
        check_unit_labels(y, [&c](const std::string& what) { c.fail(what); });
        const std::size_t n = a.size();
        for (std::size_t k = 0; k < n; ++k) {
            if (std::isnan(a[k])) {
                c.fail(nan_entry("probability A", a, k) +
                       " (the numeric-debug mode, g.check_numerics(true), names the node that made it)");
            }
            if (!(a[k] > T(0) && a[k] < T(1))) {
                c.fail(entry("probability A", a, k) +
                       " is not inside (0, 1); pass the logits (binary_cross_entropy(sigmoid(Z), Y) or "
                       "binary_cross_entropy_with_logits) for a stable loss");
            }
        }
        T* log_a = c.scratch(0, Shape{2, n}).data();  // log A, then log(1 − A)
        T* log_1ma = log_a + n;
        vlog(a.data, log_a, n);
        for_entries(n, [&](std::size_t k) { log_1ma[k] = -a[k]; });
        vlog1p(log_1ma, log_1ma, n);
        const double sum = parallel_sum<double>(n, grain_arith, [&](std::size_t b, std::size_t e) {
            return sum_in_double(b, e, [&](std::size_t k) {
                return double(y[k]) * double(log_a[k]) + (1.0 - double(y[k])) * double(log_1ma[k]);
            });
        });
        c.out()[0] = T(-sum / double(a.cols));
    }

    void backward(BackwardContext<T>& c) const override {
        const ConstView<T> a = c.in(0), y = c.in(1);
        const T g = c.dout()[0], m = T(a.cols);
        store(c.grad(0), [&](std::size_t k) { return g * (a[k] - y[k]) / (m * a[k] * (T(1) - a[k])); });
    }

    sym::Expr formula() const override { return bce_formula(sym::in(0)); }
    sym::Expr grad_formula(std::size_t) const override {
        using namespace sym;
        return scale(grad(), div(in(0) - in(1), scale(m(), hadamard(in(0), 1.0 - in(0)))));
    }
};

// From logits Z. Inputs: (Z, Y) for the logits form; (A, Y, Z) when fused with
// the sigmoid node A = σ(Z) that the user passed (A is then read, not
// differentiated). A fused node's messages name the two operands the user
// passed, binary_cross_entropy(A, Y): the logits are its own business.
// J = (1/m) Σ [max(Z, 0) − Y Z + log(1 + e^−|Z|)];  dZ = g (A − Y) / m
template <class T>
class BceLogitsOp final : public Op<T> {
public:
    /// The logits form (Z, Y).
    BceLogitsOp() = default;
    /// The form fused with A = σ(Z), on graph `g` with A and Y its nodes `a` and `y`.
    BceLogitsOp(const Graph<T>& g, std::uint32_t a, std::uint32_t y) : fused_(true), graph_(&g), a_(a), y_(y) {}

    std::string name() const override {
        return fused_ ? "binary_cross_entropy" : "binary_cross_entropy_with_logits";
    }
    bool differentiable(std::size_t i) const override { return i == logits(); }

    Shape shape(const ShapeContext& c) const override {
        if (!fused_) {
            c.require_arity(2);
            return bce_shape(c);
        }
        c.require_arity(3);
        if (c.shape(0) != c.shape(1)) {
            throw ShapeError(c.op() + "(" + c.name(0) + ", " + c.name(1) + "): labels must have the prediction's shape: " +
                             c.name(0) + " [" + to_string(c.shape(0)) + "], " + c.name(1) + " [" + to_string(c.shape(1)) +
                             "]");
        }
        return Shape{1, 1};
    }

    void forward(const ForwardContext<T>& c) const override {
        const ConstView<T> z = c.in(logits()), y = c.in(1);
        if (fused_) {
            check_unit_labels(y, [this](const std::string& what) { throw ValueError(call() + ": " + what); });
        } else {
            check_unit_labels(y, [&c](const std::string& what) { c.fail(what); });
        }
        // Σ max(Z, 0) − Y ⊙ Z + log(1 + e^−|Z|), one vector pass per chunk
        // (vmath.hpp; chunks of a fixed size, so the same bits on any number of threads).
        const auto kernel = vmath<T>().bce_logits_sum;
        const double sum = parallel_sum<double>(z.size(), grain_arith, [&](std::size_t b, std::size_t e) {
            return kernel(z.data + b, y.data + b, e - b);
        });
        c.out()[0] = T(sum / double(z.cols));
    }

    void backward(BackwardContext<T>& c) const override {
        const ConstView<T> z = c.in(logits()), y = c.in(1);
        const T g = c.dout()[0], m = T(z.cols);
        const GradSink<T>& dz = c.grad(logits());
        if (fused_) {
            const ConstView<T> a = c.in(0);
            store(dz, [&](std::size_t k) { return (a[k] - y[k]) / m * g; });
        } else {
            T* s = c.scratch(0, z.shape()).data();  // σ(Z)
            vsigmoid(z.data, s, z.size());
            store(dz, [&](std::size_t k) { return (s[k] - y[k]) / m * g; });
        }
    }

    sym::Expr formula() const override { return bce_formula(prob()); }
    sym::Expr grad_formula(std::size_t) const override {
        using namespace sym;
        return scale(grad(), div(prob() - in(1), m()));
    }

private:
    bool fused_ = false;
    const Graph<T>* graph_ = nullptr;  // the fused node's graph, for its messages
    std::uint32_t a_ = 0, y_ = 0;

    std::size_t logits() const { return fused_ ? 2 : 0; }

    /// "J = binary_cross_entropy(A2, Y)": the fused node as the user called it.
    std::string call() const {
        std::string s;
        for (std::uint32_t id = std::uint32_t(graph_->size()); id-- > 0;) {
            if (graph_->op(id) == this) {
                if (!graph_->given_name(id).empty()) s = graph_->given_name(id) + " = ";
                break;
            }
        }
        return s + name() + "(" + graph_->name(a_) + ", " + graph_->name(y_) + ")";
    }
    sym::Expr prob() const {
        return fused_ ? sym::in(0) : sym::fn(fname("σ", "sigmoid", "\\sigma"), sym::in(0));
    }
};

// J = (1/m) Σ (A − Y)²;  dA = 2 g (A − Y) / m,  dY = −2 g (A − Y) / m
template <class T>
class MseOp final : public Op<T> {
public:
    std::string name() const override { return "mean_squared_error"; }

    Shape shape(const ShapeContext& c) const override {
        c.require_arity(2);
        c.require_same(0, 1, "the target must have the prediction's shape");
        return Shape{1, 1};
    }

    void forward(const ForwardContext<T>& c) const override {
        const ConstView<T> a = c.in(0), y = c.in(1);
        const double sum = parallel_sum<double>(a.size(), grain_arith, [&](std::size_t b, std::size_t e) {
            return sum_in_double(b, e, [&](std::size_t k) {
                const double d = double(a[k]) - double(y[k]);
                return d * d;
            });
        });
        c.out()[0] = T(sum / double(a.cols));
    }

    void backward(BackwardContext<T>& c) const override {
        const ConstView<T> a = c.in(0), y = c.in(1);
        const T g2m = T(2) * c.dout()[0] / T(a.cols);
        if (c.needs_grad(0)) store(c.grad(0), [&](std::size_t k) { return g2m * (a[k] - y[k]); });
        if (c.needs_grad(1)) store(c.grad(1), [&](std::size_t k) { return -g2m * (a[k] - y[k]); });
    }

    sym::Expr formula() const override {
        using namespace sym;
        return scale(div(num(1), m()), fn(fname("Σ", "sum", "\\sum"), square(in(0) - in(1)), true));
    }
    sym::Expr grad_formula(std::size_t i) const override {
        using namespace sym;
        const Expr d = scale(grad(), div(scale(num(2), in(0) - in(1)), m()));
        return i == 0 ? d : neg(d);
    }
};

}  // namespace detail

template <class T>
Var<T> mean_squared_error(Var<T> a, Var<T> y) {
    return detail::make_node<detail::MseOp>(std::vector<Var<T>>{a, y});
}

template <class T>
Var<T> binary_cross_entropy(Var<T> a, Var<T> y) {
    Graph<T>& g = a.graph();
    if (detail::is_sigmoid<T>(g.op(a.id()))) {
        // A = σ(Z): evaluate from the logits, send the gradient straight to Z.
        const Var<T> z = g.var(g.inputs(a.id())[0]);
        return g.apply(std::make_shared<const detail::BceLogitsOp<T>>(g, a.id(), y.id()), {a, y, z});
    }
    return detail::make_node<detail::BceOp>(std::vector<Var<T>>{a, y});
}

template <class T>
Var<T> binary_cross_entropy_with_logits(Var<T> z, Var<T> y) {
    return detail::make_node<detail::BceLogitsOp>(std::vector<Var<T>>{z, y});
}

#define XG_LOSS_OPS(T)                                                \
    template Var<T> binary_cross_entropy(Var<T>, Var<T>);             \
    template Var<T> binary_cross_entropy_with_logits(Var<T>, Var<T>); \
    template Var<T> mean_squared_error(Var<T>, Var<T>);
XG_INSTANTIATE_FLOAT_DOUBLE(XG_LOSS_OPS)
#undef XG_LOSS_OPS

}  // namespace xg

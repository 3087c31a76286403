// Elementwise arithmetic: add, sub, mul (Hadamard), div with 2-D
// broadcasting, neg, and the matrix-and-number forms (X + s, s − X, s X,
// X / s, s / X).
#include <cmath>

#include "broadcast.hpp"
#include "ops_common.hpp"
#include "xgrad/ops.hpp"

namespace xg {
namespace detail {

/// Base of the broadcasting binary ops: shape = the broadcast of both inputs;
/// the engine sums each gradient back over the stretched axes.
template <class T>
class BroadcastOp : public Op<T> {
public:
    bool broadcasts() const override { return true; }
    Shape shape(const ShapeContext& c) const override {
        c.require_arity(2);
        return c.broadcast();
    }
};

/// sink = f(g, other) at every output entry, `other` read at its broadcast
/// position (the sink has the output's shape).
template <class T, class F>
void store_with(const GradSink<T>& sink, ConstView<T> g, ConstView<T> other, F f) {
    if (other.shape() == g.shape()) {
        store(sink, [&](std::size_t k) { return f(g[k], other[k]); });
        return;
    }
    const std::size_t C = g.cols;
    const Shape s = other.shape();
    store_2d(sink, [&](std::size_t i, std::size_t j) { return f(g[i * C + j], other[broadcast_index(s, i, j)]); });
}

// C = A + B (broadcast);  dA = g, dB = g
template <class T>
class AddOp final : public BroadcastOp<T> {
public:
    std::string name() const override { return "add"; }
    bool gradient_is_identity(std::size_t) const override { return true; }
    bool forward_in_place(std::size_t) const override { return true; }

    void forward(const ForwardContext<T>& c) const override {
        broadcast_binary(c.in(0), c.in(1), c.out(), [](T x, T y) { return x + y; });
    }

    void backward(BackwardContext<T>& c) const override {
        c.pass_through(0);
        c.pass_through(1);
    }

    sym::Expr formula() const override { return sym::in(0) + sym::in(1); }
    sym::Expr grad_formula(std::size_t) const override { return sym::grad(); }
};

// C = A − B (broadcast);  dA = g,  dB = −g
template <class T>
class SubOp final : public BroadcastOp<T> {
public:
    std::string name() const override { return "sub"; }
    bool gradient_is_identity(std::size_t i) const override { return i == 0; }

    void forward(const ForwardContext<T>& c) const override {
        broadcast_binary(c.in(0), c.in(1), c.out(), [](T x, T y) { return x - y; });
    }

    void backward(BackwardContext<T>& c) const override {
        c.pass_through(0);
        c.pass_through(1, T(-1));
    }

    sym::Expr formula() const override { return sym::in(0) - sym::in(1); }
    sym::Expr grad_formula(std::size_t i) const override { return i == 0 ? sym::grad() : -sym::grad(); }
};

// C = A ⊙ B (broadcast);  dA = g ⊙ B,  dB = g ⊙ A
template <class T>
class MulOp final : public BroadcastOp<T> {
public:
    std::string name() const override { return "mul"; }

    void forward(const ForwardContext<T>& c) const override {
        broadcast_binary(c.in(0), c.in(1), c.out(), [](T x, T y) { return x * y; });
    }

    void backward(BackwardContext<T>& c) const override {
        const ConstView<T> g = c.dout();
        for (std::size_t i = 0; i < 2; ++i) {
            if (c.needs_grad(i)) store_with(c.grad(i), g, c.in(1 - i), [](T gk, T other) { return gk * other; });
        }
    }

    sym::Expr formula() const override { return sym::hadamard(sym::in(0), sym::in(1)); }
    sym::Expr grad_formula(std::size_t i) const override { return sym::hadamard(sym::grad(), sym::in(1 - i)); }
};

/// Throw ValueError naming the first zero entry of a divisor (a NaN divides
/// to NaN, as IEEE arithmetic does).
template <class T>
void check_nonzero(const ForwardContext<T>& c, ConstView<T> d) {
    for (std::size_t k = 0; k < d.size(); ++k) {
        if (d[k] == T(0)) c.fail("division by zero: " + entry("divisor entry ", d, k));
    }
}

// C = A / B (broadcast);  dA = g / B,  dB = −g ⊙ A / B²
template <class T>
class DivOp final : public BroadcastOp<T> {
public:
    std::string name() const override { return "div"; }

    void forward(const ForwardContext<T>& c) const override {
        check_nonzero(c, c.in(1));
        broadcast_binary(c.in(0), c.in(1), c.out(), [](T x, T y) { return x / y; });
    }

    void backward(BackwardContext<T>& c) const override {
        const ConstView<T> a = c.in(0), b = c.in(1), g = c.dout();
        if (c.needs_grad(0)) store_with(c.grad(0), g, b, [](T gk, T bk) { return gk / bk; });
        if (!c.needs_grad(1)) return;
        const Shape out = g.shape(), sa = a.shape(), sb = b.shape();
        store_2d(c.grad(1), [&](std::size_t i, std::size_t j) {
            const T bk = b[broadcast_index(sb, i, j)];
            return -g[i * out.cols + j] * a[broadcast_index(sa, i, j)] / (bk * bk);
        });
    }

    sym::Expr formula() const override { return sym::in(0) / sym::in(1); }
    sym::Expr grad_formula(std::size_t i) const override {
        using namespace sym;
        if (i == 0) return grad() / in(1);
        return neg(hadamard(grad(), in(0)) / square(in(1)));
    }
};

// Y = −X;  dX = −g
template <class T>
class NegOp final : public UnaryOp<T> {
public:
    std::string name() const override { return "neg"; }

    void forward(const ForwardContext<T>& c) const override {
        const ConstView<T> x = c.in(0);
        const MutView<T> y = c.out();
        for_entries(x.size(), [&](std::size_t k) { y[k] = -x[k]; });
    }

    void backward(BackwardContext<T>& c) const override { c.pass_through(0, T(-1)); }

    sym::Expr formula() const override { return -sym::in(0); }
    sym::Expr grad_formula(std::size_t) const override { return -sym::grad(); }
};

// A matrix and a number s (stored as a double, used as T), named for the
// side the number is on:
//   X + s, X − s: dX = g     s − X: dX = −g     s X: dX = s g     X / s: dX = g / s
//   s / X: dX = −s g / X²
template <class T>
class ScalarOp final : public UnaryOp<T> {
public:
    ScalarOp(ScalarKind kind, double s) : kind_(kind), s_(s) {}
    bool gradient_is_identity(std::size_t) const override {
        return kind_ == ScalarKind::x_plus_s || kind_ == ScalarKind::x_minus_s;
    }

    std::string name() const override {
        switch (kind_) {
            case ScalarKind::x_plus_s: return "x_plus_s";
            case ScalarKind::x_minus_s: return "x_minus_s";
            case ScalarKind::s_minus_x: return "s_minus_x";
            case ScalarKind::s_times_x: return "s_times_x";
            case ScalarKind::x_over_s: return "x_over_s";
            case ScalarKind::s_over_x: return "s_over_x";
        }
        return "scalar";
    }

    void forward(const ForwardContext<T>& c) const override {
        const ConstView<T> x = c.in(0);
        const MutView<T> y = c.out();
        const T s = T(s_);
        const std::size_t n = x.size();
        switch (kind_) {
            case ScalarKind::x_plus_s: for_entries(n, [&](std::size_t k) { y[k] = x[k] + s; }); break;
            case ScalarKind::x_minus_s: for_entries(n, [&](std::size_t k) { y[k] = x[k] - s; }); break;
            case ScalarKind::s_minus_x: for_entries(n, [&](std::size_t k) { y[k] = s - x[k]; }); break;
            case ScalarKind::s_times_x: for_entries(n, [&](std::size_t k) { y[k] = s * x[k]; }); break;
            case ScalarKind::x_over_s: for_entries(n, [&](std::size_t k) { y[k] = x[k] / s; }); break;
            case ScalarKind::s_over_x:
                check_nonzero(c, x);
                for_entries(n, [&](std::size_t k) { y[k] = s / x[k]; });
                break;
        }
    }

    void backward(BackwardContext<T>& c) const override {
        const T s = T(s_);
        switch (kind_) {
            case ScalarKind::x_plus_s:
            case ScalarKind::x_minus_s: c.pass_through(0); break;
            case ScalarKind::s_minus_x: c.pass_through(0, T(-1)); break;
            case ScalarKind::s_times_x: c.pass_through(0, s); break;
            case ScalarKind::x_over_s: {
                const ConstView<T> g = c.dout();
                store(c.grad(0), [&](std::size_t k) { return g[k] / s; });
                break;
            }
            case ScalarKind::s_over_x: {
                const ConstView<T> g = c.dout(), x = c.in(0);
                store(c.grad(0), [&](std::size_t k) { return -s * g[k] / (x[k] * x[k]); });
                break;
            }
        }
    }

    sym::Expr formula() const override {
        using namespace sym;
        const Expr x = in(0);
        switch (kind_) {
            case ScalarKind::x_plus_s: return s_ < 0 ? x - num(-s_) : x + num(s_);
            case ScalarKind::x_minus_s: return s_ < 0 ? x + num(-s_) : x - num(s_);
            case ScalarKind::s_minus_x: return num(s_) - x;
            case ScalarKind::s_times_x: return times(s_, x);
            case ScalarKind::x_over_s: return x / num(s_);
            case ScalarKind::s_over_x: return num(s_) / x;
        }
        return x;
    }

    sym::Expr grad_formula(std::size_t) const override {
        using namespace sym;
        switch (kind_) {
            case ScalarKind::x_plus_s:
            case ScalarKind::x_minus_s: return grad();
            case ScalarKind::s_minus_x: return -grad();
            case ScalarKind::s_times_x: return times(s_, grad());
            case ScalarKind::x_over_s: return grad() / num(s_);
            case ScalarKind::s_over_x: {
                const Expr top = s_ == 1 ? grad() : scale(num(s_), grad());
                return neg(top / square(in(0)));
            }
        }
        return grad();
    }

private:
    ScalarKind kind_;
    double s_;

    /// s x, the sign in front: "2 X", "−2 X" rather than "(−2) X".
    static sym::Expr times(double s, sym::Expr x) {
        return s < 0 ? sym::neg(sym::scale(sym::num(-s), std::move(x))) : sym::scale(sym::num(s), std::move(x));
    }
};

template <class T>
Var<T> scalar_op(Var<T> x, ScalarKind kind, double s) {
    auto op = std::make_shared<const ScalarOp<T>>(kind, s);
    if (!std::isfinite(s)) {
        throw ValueError(op->name() + "(" + x.name() + "): the number is not finite: " + std::to_string(s));
    }
    if (kind == ScalarKind::x_over_s && s == 0) throw ValueError(op->name() + "(" + x.name() + "): division by zero");
    return x.graph().apply(op, {x});
}

}  // namespace detail

template <class T>
Var<T> add(Var<T> a, Var<T> b) {
    return detail::make_node<detail::AddOp>(std::vector<Var<T>>{a, b});
}

template <class T>
Var<T> sub(Var<T> a, Var<T> b) {
    return detail::make_node<detail::SubOp>(std::vector<Var<T>>{a, b});
}

template <class T>
Var<T> mul(Var<T> a, Var<T> b) {
    return detail::make_node<detail::MulOp>(std::vector<Var<T>>{a, b});
}

template <class T>
Var<T> div(Var<T> a, Var<T> b) {
    return detail::make_node<detail::DivOp>(std::vector<Var<T>>{a, b});
}

template <class T>
Var<T> neg(Var<T> x) {
    return detail::make_node<detail::NegOp>(std::vector<Var<T>>{x});
}

#define XG_ELEMENTWISE_OPS(T)                                              \
    template Var<T> add(Var<T>, Var<T>);                                   \
    template Var<T> sub(Var<T>, Var<T>);                                   \
    template Var<T> mul(Var<T>, Var<T>);                                   \
    template Var<T> div(Var<T>, Var<T>);                                   \
    template Var<T> neg(Var<T>);                                           \
    template Var<T> detail::scalar_op(Var<T>, detail::ScalarKind, double);
XG_INSTANTIATE_FLOAT_DOUBLE(XG_ELEMENTWISE_OPS)
#undef XG_ELEMENTWISE_OPS

}  // namespace xg

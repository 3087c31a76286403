// Elementwise functions: exp, log, square, pow with a number exponent, sqrt, abs.
// Domain checks refuse numbers outside the domain; a NaN is not such a number
// (every comparison with it is false): it goes through, giving NaN.
#include <cmath>

#include "ops_common.hpp"
#include "vmath.hpp"
#include "xgrad/ops.hpp"

namespace xg {
namespace detail {

namespace {

/// Throw ValueError naming the first entry of x for which `bad` holds (`bad`
/// is false for NaN, which the op carries through).
template <class T, class Bad>
void check_domain(const ForwardContext<T>& c, ConstView<T> x, Bad bad, const char* what) {
    for (std::size_t k = 0; k < x.size(); ++k) {
        if (bad(x[k])) c.fail(entry("entry ", x, k) + " " + what);
    }
}

/// Y = f(X) entry by entry.
template <class T, class F>
void map_entries(const ForwardContext<T>& c, F f) {
    const ConstView<T> x = c.in(0);
    const MutView<T> y = c.out();
    for_entries(x.size(), [&](std::size_t k) { y[k] = f(x[k]); });
}

sym::Expr power(sym::Expr x, double p) { return p == 1 ? x : sym::pow(std::move(x), p); }

}  // namespace

// Y = eˣ;  dX = g ⊙ Y
template <class T>
class ExpOp final : public UnaryOp<T> {
public:
    std::string name() const override { return "exp"; }
    void forward(const ForwardContext<T>& c) const override {
        vexp(c.in(0).data, c.out().data, c.out().size());
    }
    void backward(BackwardContext<T>& c) const override {
        const ConstView<T> y = c.out(), g = c.dout();
        store(c.grad(0), [&](std::size_t k) { return g[k] * y[k]; });
    }
    sym::Expr formula() const override { return sym::fn(fname("exp", "exp", "\\exp"), sym::in(0)); }
    sym::Expr grad_formula(std::size_t) const override { return sym::grad() * sym::out(); }
};

// Y = log X;  dX = g / X  (0 and negative entries refused; NaN gives NaN)
template <class T>
class LogOp final : public UnaryOp<T> {
public:
    std::string name() const override { return "log"; }
    void forward(const ForwardContext<T>& c) const override {
        check_domain(c, c.in(0), [](T x) { return x <= T(0); }, "is not positive");
        vlog(c.in(0).data, c.out().data, c.out().size());
    }
    void backward(BackwardContext<T>& c) const override {
        const ConstView<T> x = c.in(0), g = c.dout();
        store(c.grad(0), [&](std::size_t k) { return g[k] / x[k]; });
    }
    sym::Expr formula() const override { return sym::fn(fname("log", "log", "\\log"), sym::in(0)); }
    sym::Expr grad_formula(std::size_t) const override { return sym::grad() / sym::in(0); }
};

// Y = X²;  dX = 2 g ⊙ X
template <class T>
class SquareOp final : public UnaryOp<T> {
public:
    std::string name() const override { return "square"; }
    void forward(const ForwardContext<T>& c) const override {
        map_entries(c, [](T x) { return x * x; });
    }
    void backward(BackwardContext<T>& c) const override {
        const ConstView<T> x = c.in(0), g = c.dout();
        store(c.grad(0), [&](std::size_t k) { return T(2) * g[k] * x[k]; });
    }
    sym::Expr formula() const override { return sym::square(sym::in(0)); }
    sym::Expr grad_formula(std::size_t) const override {
        return sym::hadamard(sym::scale(sym::num(2), sym::grad()), sym::in(0));
    }
};

// Y = Xᵖ;  dX = p g ⊙ Xᵖ⁻¹
template <class T>
class PowOp final : public UnaryOp<T> {
public:
    explicit PowOp(double p) : p_(p) {}
    std::string name() const override { return "pow"; }
    bool gradient_is_identity(std::size_t) const override { return p_ == 1; }

    void forward(const ForwardContext<T>& c) const override {
        const T p = T(p_);
        if (std::floor(p_) != p_) {
            check_domain(c, c.in(0), [](T x) { return x < T(0); }, "is negative and the exponent is not an integer");
        }
        if (p_ < 0) check_domain(c, c.in(0), [](T x) { return x == T(0); }, "is 0 and the exponent is negative");
        map_entries(c, [p](T x) { return std::pow(x, p); });
    }

    void backward(BackwardContext<T>& c) const override {
        const ConstView<T> x = c.in(0), g = c.dout();
        const T p = T(p_), q = T(p_ - 1);
        store(c.grad(0), [&](std::size_t k) { return p * g[k] * std::pow(x[k], q); });
    }

    sym::Expr formula() const override { return power(sym::in(0), p_); }
    sym::Expr grad_formula(std::size_t) const override {
        using namespace sym;
        if (p_ == 0) return num(0);
        if (p_ == 1) return grad();
        // p g ⊙ Xᵖ⁻¹, the sign of p in front: −dY ⊙ X^−2 for p = −1.
        const double k = std::fabs(p_);
        const Expr d = hadamard(k == 1 ? grad() : scale(num(k), grad()), power(in(0), p_ - 1));
        return p_ < 0 ? neg(d) : d;
    }

private:
    double p_;
};

// Y = √X;  dX = g / (2 Y)
template <class T>
class SqrtOp final : public UnaryOp<T> {
public:
    std::string name() const override { return "sqrt"; }
    void forward(const ForwardContext<T>& c) const override {
        check_domain(c, c.in(0), [](T x) { return x < T(0); }, "is negative");
        map_entries(c, [](T x) { return std::sqrt(x); });
    }
    void backward(BackwardContext<T>& c) const override {
        const ConstView<T> y = c.out(), g = c.dout();
        store(c.grad(0), [&](std::size_t k) { return g[k] / (T(2) * y[k]); });
    }
    sym::Expr formula() const override { return sym::fn(fname("√", "sqrt", "\\operatorname{sqrt}"), sym::in(0)); }
    sym::Expr grad_formula(std::size_t) const override { return sym::grad() / sym::scale(sym::num(2), sym::out()); }
};

// Y = |X|;  dX = g ⊙ sign(X), sign(0) = 0, sign(NaN) = NaN
template <class T>
class AbsOp final : public UnaryOp<T> {
public:
    std::string name() const override { return "abs"; }
    void forward(const ForwardContext<T>& c) const override {
        map_entries(c, [](T x) { return std::fabs(x); });
    }
    void backward(BackwardContext<T>& c) const override {
        const ConstView<T> x = c.in(0), g = c.dout();
        store(c.grad(0), [&](std::size_t k) { return g[k] * sign_of(x[k]); });
    }
    sym::Expr formula() const override { return sym::fn(fname("abs", "abs", "\\operatorname{abs}"), sym::in(0)); }
    sym::Expr grad_formula(std::size_t) const override {
        return sym::grad() * sym::fn(fname("sign", "sign", "\\operatorname{sign}"), sym::in(0));
    }
};

}  // namespace detail

template <class T>
Var<T> exp(Var<T> x) {
    return detail::make_node<detail::ExpOp>(std::vector<Var<T>>{x});
}

template <class T>
Var<T> log(Var<T> x) {
    return detail::make_node<detail::LogOp>(std::vector<Var<T>>{x});
}

template <class T>
Var<T> square(Var<T> x) {
    return detail::make_node<detail::SquareOp>(std::vector<Var<T>>{x});
}

template <class T>
Var<T> pow(Var<T> x, double p) {
    if (!std::isfinite(p)) throw ValueError("pow(" + x.name() + "): the exponent is not finite: " + std::to_string(p));
    return detail::make_node<detail::PowOp>(std::vector<Var<T>>{x}, p);
}

template <class T>
Var<T> sqrt(Var<T> x) {
    return detail::make_node<detail::SqrtOp>(std::vector<Var<T>>{x});
}

template <class T>
Var<T> abs(Var<T> x) {
    return detail::make_node<detail::AbsOp>(std::vector<Var<T>>{x});
}

#define XG_UNARY_OPS(T)                  \
    template Var<T> exp(Var<T>);         \
    template Var<T> log(Var<T>);         \
    template Var<T> square(Var<T>);      \
    template Var<T> pow(Var<T>, double); \
    template Var<T> sqrt(Var<T>);        \
    template Var<T> abs(Var<T>);
XG_INSTANTIATE_FLOAT_DOUBLE(XG_UNARY_OPS)
#undef XG_UNARY_OPS

}  // namespace xg

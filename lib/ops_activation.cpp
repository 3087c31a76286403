// Elementwise activations: sigmoid, tanh, relu, leaky_relu, softplus.
#include <algorithm>
#include <cmath>

#include "ops_common.hpp"
#include "vmath.hpp"
#include "xgrad/ops.hpp"

namespace xg {
namespace detail {

// y = σ(x);  dx = g ⊙ y ⊙ (1 − y)
template <class T>
class SigmoidOp final : public UnaryOp<T> {
public:
    std::string name() const override { return "sigmoid"; }

    void forward(const ForwardContext<T>& c) const override {
        const ConstView<T> x = c.in(0);
        const MutView<T> y = c.out();
        vsigmoid(x.data, y.data, x.size());
    }

    void backward(BackwardContext<T>& c) const override {
        const ConstView<T> y = c.out(), g = c.dout();
        store(c.grad(0), [&](std::size_t k) { return g[k] * y[k] * (T(1) - y[k]); });
    }

    sym::Expr formula() const override { return sym::fn(fname("σ", "sigmoid", "\\sigma"), sym::in(0)); }
    sym::Expr grad_formula(std::size_t) const override {
        return sym::grad() * sym::out() * (1.0 - sym::out());
    }
};

// y = tanh(x);  dx = g ⊙ (1 − y²)
template <class T>
class TanhOp final : public UnaryOp<T> {
public:
    std::string name() const override { return "tanh"; }

    void forward(const ForwardContext<T>& c) const override {
        const ConstView<T> x = c.in(0);
        const MutView<T> y = c.out();
        vtanh(x.data, y.data, x.size());
    }

    void backward(BackwardContext<T>& c) const override {
        const ConstView<T> y = c.out(), g = c.dout();
        store(c.grad(0), [&](std::size_t k) { return g[k] * (T(1) - y[k] * y[k]); });
    }

    sym::Expr formula() const override { return sym::fn(fname("tanh", "tanh", "\\tanh"), sym::in(0)); }
    sym::Expr grad_formula(std::size_t) const override { return sym::grad() * (1.0 - sym::square(sym::out())); }
};

/// step(x) = 1 for x > 0, 0 otherwise: the derivative of relu, as equations print it.
inline sym::Expr step(sym::Expr x) {
    return sym::fn(fname("step", "step", "\\operatorname{step}"), std::move(x));
}

// y = max(x, 0);  dx = g ⊙ step(x)  (NaN gives NaN in both)
template <class T>
class ReluOp final : public UnaryOp<T> {
public:
    std::string name() const override { return "relu"; }

    void forward(const ForwardContext<T>& c) const override {
        const ConstView<T> x = c.in(0);
        const MutView<T> y = c.out();
        for_entries(x.size(), [&](std::size_t k) { y[k] = max0(x[k]); });
    }

    void backward(BackwardContext<T>& c) const override {
        const ConstView<T> x = c.in(0), g = c.dout();
        store(c.grad(0), [&](std::size_t k) { return g[k] * step_of(x[k]); });
    }

    sym::Expr formula() const override { return sym::fn(fname("relu", "relu", "\\operatorname{relu}"), sym::in(0)); }
    sym::Expr grad_formula(std::size_t) const override { return sym::grad() * step(sym::in(0)); }
};

// y = x for x > 0, α x otherwise;  dx = g ⊙ (α + (1 − α) step(x))  (NaN gives NaN in both)
template <class T>
class LeakyReluOp final : public UnaryOp<T> {
public:
    explicit LeakyReluOp(double alpha) : alpha_(alpha) {}
    std::string name() const override { return "leaky_relu"; }

    void forward(const ForwardContext<T>& c) const override {
        const ConstView<T> x = c.in(0);
        const MutView<T> y = c.out();
        const T a = T(alpha_);
        for_entries(x.size(), [&](std::size_t k) { y[k] = x[k] > T(0) ? x[k] : a * x[k]; });
    }

    void backward(BackwardContext<T>& c) const override {
        const ConstView<T> x = c.in(0), g = c.dout();
        const T a = T(alpha_);
        store(c.grad(0), [&](std::size_t k) {
            const T slope = x[k] > T(0) ? T(1) : x[k] <= T(0) ? a : x[k];  // NaN for NaN
            return g[k] * slope;
        });
    }

    sym::Expr formula() const override {
        return sym::fn(fname("leaky_relu", "leaky_relu", "\\operatorname{leaky\\_relu}"), sym::in(0));
    }
    sym::Expr grad_formula(std::size_t) const override {
        using namespace sym;
        return grad() * (num(alpha_) + scale(num(1 - alpha_), step(in(0))));
    }

private:
    double alpha_;
};

// y = log(1 + eˣ) = max(x, 0) + log(1 + e^−|x|);  dx = g ⊙ σ(x)
template <class T>
class SoftplusOp final : public UnaryOp<T> {
public:
    std::string name() const override { return "softplus"; }

    void forward(const ForwardContext<T>& c) const override {
        const ConstView<T> x = c.in(0);
        const MutView<T> y = c.out();
        vsoftplus(x.data, y.data, x.size());
    }

    void backward(BackwardContext<T>& c) const override {
        const ConstView<T> x = c.in(0), g = c.dout();
        T* s = c.scratch(0, x.shape()).data();  // σ(X)
        vsigmoid(x.data, s, x.size());
        store(c.grad(0), [&](std::size_t k) { return g[k] * s[k]; });
    }

    sym::Expr formula() const override {
        return sym::fn(fname("softplus", "softplus", "\\operatorname{softplus}"), sym::in(0));
    }
    sym::Expr grad_formula(std::size_t) const override {
        return sym::grad() * sym::fn(fname("σ", "sigmoid", "\\sigma"), sym::in(0));
    }
};

template <class T>
bool is_sigmoid(const Op<T>* op) {
    return dynamic_cast<const SigmoidOp<T>*>(op) != nullptr;
}

}  // namespace detail

template <class T>
Var<T> sigmoid(Var<T> x) {
    return detail::make_node<detail::SigmoidOp>(std::vector<Var<T>>{x});
}

template <class T>
Var<T> tanh(Var<T> x) {
    return detail::make_node<detail::TanhOp>(std::vector<Var<T>>{x});
}

template <class T>
Var<T> relu(Var<T> x) {
    return detail::make_node<detail::ReluOp>(std::vector<Var<T>>{x});
}

template <class T>
Var<T> leaky_relu(Var<T> x, double alpha) {
    if (!std::isfinite(alpha)) {
        throw ValueError("leaky_relu(" + x.name() + "): alpha is not finite: " + std::to_string(alpha));
    }
    return detail::make_node<detail::LeakyReluOp>(std::vector<Var<T>>{x}, alpha);
}

template <class T>
Var<T> softplus(Var<T> x) {
    return detail::make_node<detail::SoftplusOp>(std::vector<Var<T>>{x});
}

#define XG_ACTIVATION_OPS(T)                        \
    template Var<T> sigmoid(Var<T>);                \
    template Var<T> tanh(Var<T>);                   \
    template Var<T> relu(Var<T>);                   \
    template Var<T> leaky_relu(Var<T>, double);     \
    template Var<T> softplus(Var<T>);               \
    template bool detail::is_sigmoid(const Op<T>*);
XG_INSTANTIATE_FLOAT_DOUBLE(XG_ACTIVATION_OPS)
#undef XG_ACTIVATION_OPS

}  // namespace xg

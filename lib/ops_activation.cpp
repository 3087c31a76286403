// Elementwise activations of the mission: sigmoid and tanh.
#include <cmath>

#include "ops_common.hpp"
#include "xgrad/ops.hpp"

namespace xg {
namespace detail {

/// Base of the unary elementwise ops: shape = input shape.
template <class T>
class UnaryOp : public Op<T> {
public:
    Shape shape(const ShapeContext& c) const override {
        c.require_arity(1);
        return c.shape(0);
    }
};

// y = σ(x);  dx = g ⊙ y ⊙ (1 − y)
template <class T>
class SigmoidOp final : public UnaryOp<T> {
public:
    std::string name() const override { return "sigmoid"; }

    void forward(const ForwardContext<T>& c) const override {
        const ConstView<T> x = c.in(0);
        const MutView<T> y = c.out();
        for (std::size_t k = 0; k < x.size(); ++k) y[k] = stable_sigmoid(x[k]);
    }

    void backward(BackwardContext<T>& c) const override {
        const ConstView<T> y = c.out(), g = c.dout();
        c.grad(0).store([&](std::size_t k) { return g[k] * y[k] * (T(1) - y[k]); });
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
        for (std::size_t k = 0; k < x.size(); ++k) y[k] = std::tanh(x[k]);
    }

    void backward(BackwardContext<T>& c) const override {
        const ConstView<T> y = c.out(), g = c.dout();
        c.grad(0).store([&](std::size_t k) { return g[k] * (T(1) - y[k] * y[k]); });
    }

    sym::Expr formula() const override { return sym::fn(fname("tanh", "tanh", "\\tanh"), sym::in(0)); }
    sym::Expr grad_formula(std::size_t) const override { return sym::grad() * (1.0 - sym::square(sym::out())); }
};

template <class T>
bool is_sigmoid(const Op<T>* op) {
    return dynamic_cast<const SigmoidOp<T>*>(op) != nullptr;
}
template bool is_sigmoid(const Op<float>*);
template bool is_sigmoid(const Op<double>*);

}  // namespace detail

template <class T>
Var<T> sigmoid(Var<T> x) {
    return detail::make_node<detail::SigmoidOp>(std::vector<Var<T>>{x});
}

template <class T>
Var<T> tanh(Var<T> x) {
    return detail::make_node<detail::TanhOp>(std::vector<Var<T>>{x});
}

template Var<float> sigmoid(Var<float>);
template Var<double> sigmoid(Var<double>);
template Var<float> tanh(Var<float>);
template Var<double> tanh(Var<double>);

}  // namespace xg

// Ops that move or copy values without arithmetic: transpose, and detach
// (the identity that stops gradients).
#include <algorithm>

#include "ops_common.hpp"
#include "xgrad/ops.hpp"

namespace xg {
namespace detail {

// Y = Xᵀ;  dX = gᵀ
template <class T>
class TransposeOp final : public Op<T> {
public:
    std::string name() const override { return "transpose"; }

    Shape shape(const ShapeContext& c) const override {
        c.require_arity(1);
        return Shape{c.shape(0).cols, c.shape(0).rows};
    }

    void forward(const ForwardContext<T>& c) const override {
        const ConstView<T> x = c.in(0);
        const MutView<T> y = c.out();
        for (std::size_t i = 0; i < x.rows; ++i) {
            for (std::size_t j = 0; j < x.cols; ++j) y(j, i) = x(i, j);
        }
    }

    void backward(BackwardContext<T>& c) const override {
        const ConstView<T> g = c.dout();
        store_2d(c.grad(0), [&](std::size_t i, std::size_t j) { return g(j, i); });
    }

    sym::Expr formula() const override { return sym::transpose(sym::in(0)); }
    sym::Expr grad_formula(std::size_t) const override { return sym::transpose(sym::grad()); }
};

// Y = X;  no gradient to X (stop_gradient)
template <class T>
class DetachOp final : public UnaryOp<T> {
public:
    std::string name() const override { return "detach"; }
    bool differentiable(std::size_t) const override { return false; }

    void forward(const ForwardContext<T>& c) const override {
        const ConstView<T> x = c.in(0);
        std::copy(x.data, x.data + x.size(), c.out().data);
    }

    void backward(BackwardContext<T>&) const override {}

    sym::Expr formula() const override { return sym::in(0); }
    sym::Expr grad_formula(std::size_t) const override { return sym::num(0); }
};

}  // namespace detail

template <class T>
Var<T> transpose(Var<T> x) {
    return detail::make_node<detail::TransposeOp>(std::vector<Var<T>>{x});
}

template <class T>
Var<T> detach(Var<T> x) {
    return detail::make_node<detail::DetachOp>(std::vector<Var<T>>{x});
}

#define XG_SHAPE_OPS(T)                \
    template Var<T> transpose(Var<T>); \
    template Var<T> detach(Var<T>);
XG_INSTANTIATE_FLOAT_DOUBLE(XG_SHAPE_OPS)
#undef XG_SHAPE_OPS

}  // namespace xg

// add: C = A + B with 2-D broadcasting.
#include "broadcast.hpp"
#include "ops_common.hpp"
#include "xgrad/ops.hpp"

namespace xg {
namespace detail {

// C = A + B (broadcast);  dA = g, dB = g  (the engine sums over stretched axes)
template <class T>
class AddOp final : public Op<T> {
public:
    std::string name() const override { return "add"; }
    bool broadcasts() const override { return true; }
    bool gradient_is_identity(std::size_t) const override { return true; }

    Shape shape(const ShapeContext& c) const override {
        c.require_arity(2);
        return c.broadcast();
    }

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

}  // namespace detail

template <class T>
Var<T> add(Var<T> a, Var<T> b) {
    return detail::make_node<detail::AddOp>(std::vector<Var<T>>{a, b});
}

template Var<float> add(Var<float>, Var<float>);
template Var<double> add(Var<double>, Var<double>);

}  // namespace xg

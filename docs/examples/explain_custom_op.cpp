// A user-defined op explains itself: its formula() and grad_formula() are
// what `explain` prints for it. Shown in docs/explain.md.
#include <cmath>
#include <iostream>

#include <xgrad/xgrad.hpp>

// y = x²;  dx = 2 g ⊙ x
class Square final : public xg::Op<double> {
public:
    std::string name() const override { return "square"; }
    xg::Shape shape(const xg::ShapeContext& c) const override {
        c.require_arity(1);
        return c.shape(0);
    }
    void forward(const xg::ForwardContext<double>& c) const override {
        for (std::size_t k = 0; k < c.in(0).size(); ++k) c.out()[k] = c.in(0)[k] * c.in(0)[k];
    }
    void backward(xg::BackwardContext<double>& c) const override {
        c.grad(0).store([&](std::size_t k) { return 2 * c.dout()[k] * c.in(0)[k]; });
    }
    // The formulas explain prints, over the placeholders in(i), out(), grad().
    xg::sym::Expr formula() const override { return xg::sym::square(xg::sym::in(0)); }
    xg::sym::Expr grad_formula(std::size_t) const override {
        return 2.0 * (xg::sym::grad() * xg::sym::in(0));
    }
};

int main() {
    xg::Graph<double> g;
    auto X = g.input(xg::Matrix<double>{{1.0, 2.0, -1.0}, {0.5, -1.0, 0.0}}, "X");
    auto Y = g.input(xg::Matrix<double>{{1.0, 0.0, 1.0}}, "Y");
    auto W = g.parameter(xg::Matrix<double>{{0.1, -0.2}}, "W");
    auto b = g.parameter(xg::Matrix<double>{{0.0}}, "b");

    auto Z = (matmul(W, X) + b).named("Z");
    auto A = g.apply(std::make_shared<const Square>(), {Z}, "A");
    auto J = binary_cross_entropy_with_logits(A, Y).named("J");
    std::cout << xg::explain(J);
}

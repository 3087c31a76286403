// A user-defined op: swish, y = x σ(x), declared here in user code — the
// library is not changed — and used like a built-in op in a small network.
// Its hand-written backward is verified with the gradient checker before the
// network is trained. Walked through in docs/howto-custom-op.md.
//
//   custom_op            train on points inside/outside a circle, print the loss
#include <cmath>
#include <cstdio>
#include <memory>

#include <xgrad/xgrad.hpp>

// ---- the op ------------------------------------------------------------------

// y = x σ(x);  dx = g ⊙ (y + σ(x) ⊙ (1 − y))
template <class T>
class Swish final : public xg::Op<T> {
public:
    std::string name() const override { return "swish"; }

    // Elementwise: the output has the input's shape.
    xg::Shape shape(const xg::ShapeContext& c) const override {
        c.require_arity(1);
        return c.shape(0);
    }

    void forward(const xg::ForwardContext<T>& c) const override {
        const xg::ConstView<T> x = c.in(0);
        const xg::MutView<T> y = c.out();
        for (std::size_t k = 0; k < x.size(); ++k) y[k] = x[k] * sigma(x[k]);
    }

    void backward(xg::BackwardContext<T>& c) const override {
        const xg::ConstView<T> x = c.in(0), y = c.out(), g = c.dout();
        c.grad(0).store([&](std::size_t k) { return g[k] * (y[k] + sigma(x[k]) * (T(1) - y[k])); });
    }

    // The formulas the equation printer shows: Y = X ⊙ σ(X), dX = dY ⊙ (Y + σ(X) ⊙ (1 − Y)).
    xg::sym::Expr formula() const override {
        using namespace xg::sym;
        return in(0) * fn({"σ", "sigmoid", "\\sigma"}, in(0));
    }
    xg::sym::Expr grad_formula(std::size_t) const override {
        using namespace xg::sym;
        return grad() * (out() + fn({"σ", "sigmoid", "\\sigma"}, in(0)) * (1.0 - out()));
    }

private:
    static T sigma(T x) { return x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x)); }
};

// Used like a built-in op: swish(Z1).
template <class T>
xg::Var<T> swish(xg::Var<T> x) {
    return x.graph().apply(std::make_shared<const Swish<T>>(), {x});
}

// ---- a small network with it ------------------------------------------------------

// 2 features × 225 examples on a grid; label 1 inside the circle of radius 1.2.
void circle_data(xg::Matrix<double>& X, xg::Matrix<double>& Y) {
    const std::size_t side = 15, m = side * side;
    X = xg::Matrix<double>({2, m});
    Y = xg::Matrix<double>({1, m});
    for (std::size_t j = 0; j < m; ++j) {
        X(0, j) = -2.0 + 4.0 * double(j % side) / double(side - 1);
        X(1, j) = -2.0 + 4.0 * double(j / side) / double(side - 1);
        Y(0, j) = X(0, j) * X(0, j) + X(1, j) * X(1, j) < 1.44 ? 1.0 : 0.0;
    }
}

// Small deterministic starting weights.
xg::Matrix<double> init(std::size_t r, std::size_t c, double seed) {
    xg::Matrix<double> w({r, c});
    for (std::size_t k = 0; k < w.size(); ++k) w.data()[k] = 0.5 * std::sin(seed + 2.3 * double(k));
    return w;
}

int main() {
    xg::Matrix<double> x, y;
    circle_data(x, y);

    xg::Graph<double> g;
    auto X = g.input(x, "X");
    auto Y = g.input(y, "Y");
    auto W1 = g.parameter(init(8, 2, 1.0), "W1");
    auto b1 = g.parameter(init(8, 1, 2.0), "b1");
    auto W2 = g.parameter(init(1, 8, 3.0), "W2");
    auto b2 = g.parameter(init(1, 1, 4.0), "b2");

    auto Z1 = (matmul(W1, X) + b1).named("Z1");
    auto A1 = swish(Z1).named("A1");
    auto Z2 = (matmul(W2, A1) + b2).named("Z2");
    auto A2 = sigmoid(Z2).named("A2");
    auto J = binary_cross_entropy(A2, Y).named("J");

    // First verify the hand-written backward against finite differences.
    const xg::GradCheckReport report = xg::check_gradients(g, J);
    if (!report.ok()) {
        std::printf("%s\n", report.str().c_str());
        return 1;
    }
    std::printf("gradient check of the network with swish: ok (%zu parameters)\n", report.entries.size());

    // The equation the op contributes to the reverse sweep.
    const xg::sym::Names names{{"Z1"}, "A1", "dA1"};
    std::printf("dZ1 = %s\n", xg::sym::render(g.op(A1.id())->grad_formula(0), names).c_str());

    // Then train it: plain gradient descent on every parameter.
    const double rate = 0.5;
    for (int step = 0; step <= 3000; ++step) {
        g.forward();
        g.backward(J);
        if (step % 1000 == 0) std::printf("step %4d  J = %.4f\n", step, J.value()(0, 0));
        for (auto& p : g.parameters()) p.value() -= rate * p.grad();
    }
    g.forward();
    std::size_t right = 0;
    for (std::size_t j = 0; j < y.size(); ++j) right += (A2.value()(0, j) > 0.5) == (y(0, j) == 1.0);
    std::printf("training accuracy %.1f%%\n", 100.0 * double(right) / double(y.size()));
}

// A tour of the op set: a softmax classifier's forward pass and loss with
// class-index labels, reductions that keep their dimensions, the
// matrix-and-number forms, detach. Shown in docs/ops.md.
#include <cstdio>

#include <xgrad/xgrad.hpp>

int main() {
    xg::Graph<double> g;
    // 2 features × 4 examples, 3 classes; labels are class indices (1 × m).
    auto X = g.input(xg::Matrix<double>{{1.0, -1.0, 0.5, 2.0}, {0.0, 1.0, -0.5, 1.0}}, "X");
    auto y = g.input(xg::Matrix<double>{{0, 2, 1, 0}}, "y");
    auto W = g.parameter(xg::Matrix<double>{{0.2, -0.1}, {-0.3, 0.4}, {0.1, 0.1}}, "W");
    auto b = g.parameter(xg::Matrix<double>{{0.0}, {0.1}, {-0.1}}, "b");

    // Standardise each feature over the examples: mean and variance over the columns (n × 1).
    auto mu = mean(X, xg::Axis::over_cols);
    auto Xc = (X - mu).named("Xc");
    auto sd = sqrt(mean(square(Xc), xg::Axis::over_cols) + 1e-8);
    auto Xn = (Xc / sd).named("Xn");

    auto Z = (matmul(W, Xn) + b).named("Z");  // 3 × 4 logits
    auto J = softmax_cross_entropy(Z, y).named("J");
    g.backward(J);
    // dZ = (softmax(Z) − onehot(y)) / m: each column sums to 0.
    auto P = softmax(Z);
    std::printf("J = %.6f\n", J.value()(0, 0));
    std::printf("P(:, 0) = [%.4f, %.4f, %.4f]\n", P.value()(0, 0), P.value()(1, 0), P.value()(2, 0));
    std::printf("dZ(:, 0) = [%.4f, %.4f, %.4f]\n", Z.grad()(0, 0), Z.grad()(1, 0), Z.grad()(2, 0));
    std::printf("db = [%.4f, %.4f, %.4f]\n", b.grad()(0, 0), b.grad()(1, 0), b.grad()(2, 0));

    // Numbers mix with matrices on either side, in float and double graphs alike.
    auto L2 = (0.5 * sum(square(W)) / 4.0).named("L2");
    auto J_total = J + L2;
    g.backward(J_total);
    std::printf("J + L2 = %.6f, dW(0, 0) = %.6f\n", J_total.value()(0, 0), W.grad()(0, 0));

    // detach: use a value without differentiating through it.
    auto J_fixed = sum(W * detach(W)) / 2.0;
    g.backward(J_fixed);
    std::printf("d/dW of Σ W ⊙ detach(W) / 2 is W / 2: dW(0, 0) = %.2f\n", W.grad()(0, 0));
}

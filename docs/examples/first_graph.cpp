// The smallest complete xgrad program: build a graph, read a value, run the
// reverse sweep, read gradients. Shown in docs/getting-started.md.
#include <cstdio>

#include <xgrad/xgrad.hpp>

int main() {
    xg::Graph<double> g;
    // Two examples (columns) with three features each; one label per example.
    auto X = g.input(xg::Matrix<double>{{1.0, 2.0}, {0.5, -1.0}, {-1.5, 0.0}}, "X");
    auto Y = g.input(xg::Matrix<double>{{1.0, 0.0}}, "Y");
    auto W = g.parameter(xg::Matrix<double>{{0.1, -0.2, 0.3}}, "W");
    auto b = g.parameter(xg::Matrix<double>{{0.0}}, "b");

    auto Z = (matmul(W, X) + b).named("Z");  // 1 × 2
    auto A = sigmoid(Z).named("A");
    auto J = binary_cross_entropy(A, Y).named("J");
    std::printf("J = %.6f\n", J.value()(0, 0));

    g.backward(J);
    // dZ = (A − Y) / m, dW = dZ · Xᵀ, db = Σ_columns dZ
    std::printf("dZ = [%.6f, %.6f]\n", Z.grad()(0, 0), Z.grad()(0, 1));
    std::printf("dW = [%.6f, %.6f, %.6f]\n", W.grad()(0, 0), W.grad()(0, 1), W.grad()(0, 2));
    std::printf("db = [%.6f]\n", b.grad()(0, 0));
}

// What a mistake meets: a typed exception with a message naming the op, the
// nodes and the shapes, and a graph left as it was; and the numeric-debug
// mode, which stops at the first node whose value or gradient is not finite.
// Shown in docs/reliability.md.
#include <cmath>
#include <cstdio>

#include <xgrad/xgrad.hpp>

int main() {
    xg::Graph<double> g;
    auto X = g.input(xg::Matrix<double>{{1, 2, 3}, {-1, 0, 4}}, "X");
    auto Y = g.input(xg::Matrix<double>{{0, 1, 1}}, "Y");
    auto W1 = g.parameter(xg::Matrix<double>{{400, -300}, {250, 500}}, "W1");
    auto W2 = g.parameter(xg::Matrix<double>{{1, -1}}, "W2");

    // A mistake: the operands of matmul in the wrong order.
    const std::size_t nodes = g.size();
    try {
        matmul(X, W1);
    } catch (const xg::ShapeError& e) {
        std::printf("%s\n", e.what());
    }
    std::printf("nodes before: %zu, after: %zu\n", nodes, g.size());

    // Weights far too large: e^2000 overflows, and inf - inf is NaN.
    auto Z1 = matmul(W1, X).named("Z1");
    auto E = exp(Z1).named("E");
    auto Z2 = matmul(W2, E).named("Z2");
    auto J = binary_cross_entropy_with_logits(Z2, Y).named("J");
    std::printf("J is %s\n", std::isnan(J.value()(0, 0)) ? "NaN" : "a number");  // and nothing says why

    // The numeric-debug mode names the first node that is not finite.
    g.check_numerics(true);
    try {
        g.forward();
    } catch (const xg::ValueError& e) {
        std::printf("%s\n", e.what());
    }
    g.check_numerics(false);
    g.forward();  // a replay that completes (J is NaN again): backward() runs only after one

    // Every exception xgrad raises for bad input is an xg::Error.
    try {
        g.backward(Z1);
    } catch (const xg::Error& e) {
        std::printf("%s\n", e.what());
    }
    return std::isnan(J.value()(0, 0)) ? 0 : 1;
}

// The flagship network written out by hand with the graph API: what
// xg::init_two_layer, xg::two_layer_forward and xg::train_two_layer do for
// examples/two_layer_net. Shown in README.md; prints what two_layer_net prints.
#include <cstdio>

#include <xgrad/xgrad.hpp>
#include <xtensor/xnoalias.hpp>

int main() {
    const xg::Dataset<double> flower = xg::flower();  // X: 2 x 400, Y: 1 x 400 (seed 1)

    // W ~ N(0, 1) * 0.01 (numpy's draws for seed 2), b = 0.
    xg::Rng rng(2);
    xg::Parameter<double> W1(xg::randn<double>(4, 2, rng, 0.01), "W1"), b1(xt::zeros<double>({4, 1}), "b1");
    xg::Parameter<double> W2(xg::randn<double>(1, 4, rng, 0.01), "W2"), b2(xt::zeros<double>({1, 1}), "b2");

    xg::Graph<double> g;
    auto X = g.input(flower.X, "X");
    auto Y = g.input(flower.Y, "Y");
    auto Z1 = (matmul(g.parameter(W1), X) + g.parameter(b1)).named("Z1");
    auto A1 = tanh(Z1).named("A1");
    auto Z2 = (matmul(g.parameter(W2), A1) + g.parameter(b2)).named("Z2");
    auto A2 = sigmoid(Z2).named("A2");
    auto J = binary_cross_entropy(A2, Y).named("J");

    for (int i = 0; i <= 10000; ++i) {
        if (i > 0) g.forward();  // replay with the updated weights
        if (i % 1000 == 0) std::printf("Cost after iteration %d: %f\n", i, J.value()(0, 0));
        if (i == 10000) break;
        g.backward(J);  // dW1, db1, dW2, db2 in one reverse sweep
        for (auto* p : {&W1, &b1, &W2, &b2}) xt::noalias(p->value()) -= 1.2 * p->grad();
    }
    const double right = double(xt::sum(xt::equal(xg::Matrix<double>(A2.value() > 0.5), flower.Y))());
    std::printf("Training accuracy: %.2f%%\n", 100.0 * right / double(flower.size()));
}

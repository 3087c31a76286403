// Mini-batch gradient descent: MiniBatches hands out shuffled batches of
// columns, and the graph takes each one through set_value. Shown in
// docs/data-and-io.md.
#include <cstdio>

#include <xgrad/xgrad.hpp>
#include <xtensor/xnoalias.hpp>

int main() {
    const xg::Dataset<double> flower = xg::flower();
    const auto params = xg::init_two_layer<double>(2, 4, 1, /*seed=*/2);

    // The graph, built once on the first batch.
    xg::MiniBatches<double> batches(flower.X, flower.Y, /*batch_size=*/64, /*seed=*/0);
    xg::Matrix<double> Xb, Yb;
    batches.next(Xb, Yb);
    xg::Graph<double> g;
    auto X = g.input(Xb, "X");
    auto Y = g.input(Yb, "Y");
    auto J = binary_cross_entropy(xg::two_layer_forward(g, X, params).A2, Y);

    for (int epoch = 0; epoch < 300; ++epoch) {
        double cost = 0;
        while (batches.next(Xb, Yb)) {  // 7 batches: 6 of 64 and one of 16
            g.set_value(X, Xb);
            g.set_value(Y, Yb);
            g.forward();
            g.backward(J);
            for (auto p : params.all()) xt::noalias(p.value()) -= 1.2 * p.grad();  // in place
            cost += J.value()(0, 0) * double(Xb.shape()[1]) / double(flower.size());
        }
        if (epoch % 100 == 0) std::printf("epoch %d: mean cost %.6f\n", epoch, cost);
    }
    std::printf("accuracy %.2f%%\n", xg::accuracy(xg::predict(params, flower.X), flower.Y));
}

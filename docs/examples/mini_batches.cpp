// Mini-batch gradient descent: the graph's input leaves come from the
// MiniBatches (no batch consumed), and each epoch's batches go into them
// through set_value. Shown in docs/data-and-io.md. The program checks that
// every epoch trains on each of the 400 examples exactly once.
#include <cstdio>

#include <xgrad/xgrad.hpp>
#include <xtensor/xnoalias.hpp>

#include "docs_helpers.hpp"

int main() {
    const xg::Dataset<double> flower = xg::flower();
    const auto params = xg::init_two_layer<double>(2, 4, 1, /*seed=*/2);
    docs::EpochCoverage coverage(flower.size());

    // The graph, built once on input leaves of a batch's shape.
    xg::MiniBatches<double> batches(flower.X, flower.Y, /*batch_size=*/64, /*seed=*/0);
    xg::Graph<double> g;
    auto [X, Y] = batches.inputs(g);  // leaves "X" and "Y": no batch is used up
    auto J = binary_cross_entropy(xg::two_layer_forward(g, X, params).A2, Y);

    for (int epoch = 0; epoch < 300; ++epoch) {
        double cost = 0;
        for (const xg::Batch<double>& batch : batches.next_epoch()) {  // 7 batches: 6 of 64 and one of 16
            g.set_value(X, batch.X);
            g.set_value(Y, batch.Y);
            g.forward();
            g.backward(J);
            for (auto p : params.all()) xt::noalias(p.value()) -= 1.2 * p.grad();  // in place
            cost += J.value()(0, 0) * double(batch.size()) / double(flower.size());
            coverage.add(batch.columns);  // this page's test: each example once an epoch
        }
        coverage.end_epoch();
        if (epoch % 100 == 0) std::printf("epoch %d: mean cost %.6f\n", epoch, cost);
    }
    std::printf("accuracy %.2f%%\n", xg::accuracy(xg::predict(params, flower.X), flower.Y));
}

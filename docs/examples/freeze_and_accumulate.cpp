// What detach and gradient accumulation do, in numbers: a frozen first layer
// (no gradient reaches it), the stale gradient an unreached parameter keeps,
// and k accumulated mini-batches stepped as their mean.
// Shown in docs/howto-deeper-network.md.
#include <cstdio>

#include <xgrad/xgrad.hpp>

#include "docs_helpers.hpp"

int main() {
    const xg::Dataset<double> data = xg::spirals(/*m=*/120, /*classes=*/3);
    xg::Sequential<double> model({2, 16, 16, 3}, xg::Activation::relu, xg::Activation::identity, /*seed=*/1);
    const xg::Dense<double>& first = model.dense(0);

    // ---- detach: train the layers after the first, keep the first fixed ----
    {
        xg::Graph<double> g;
        auto features = xg::detach(first(g.input(data.X, "X")));  // A1, used as a constant
        auto logits = model.layer(2)(model.layer(1)(features));
        auto J = xg::softmax_cross_entropy(logits, g.input(data.Y, "Y"));
        g.backward(J);
        std::printf("after backward through detach: W1 has a gradient: %s, W2 has one: %s\n",
                    g.has_grad(g.parameter(first.W).id()) ? "yes" : "no",
                    g.has_grad(g.parameter(model.dense(1).W).id()) ? "yes" : "no");

        // Give the optimiser only the parameters it should train.
        auto trained = model.parameters();
        trained.erase(trained.begin(), trained.begin() + 2);  // drop W1, b1
        xg::Adam<double> opt(trained, 0.01);
        const double w1 = first.W.value()(0, 0);
        for (int step = 0; step < 200; ++step) {
            g.forward();
            g.backward(J);
            opt.step();
        }
        std::printf("200 Adam steps: J = %.4f, W1(0, 0) unchanged: %s\n", J.value()(0, 0),
                    first.W.value()(0, 0) == w1 ? "yes" : "no");
    }

    // ---- a parameter the sweep does not reach keeps its old gradient ----
    {
        xg::Graph<double> g;
        auto J = xg::softmax_cross_entropy(model(g.input(data.X, "X")), g.input(data.Y, "Y"));
        g.backward(J);  // every layer gets a gradient, W1's included
        const xg::Matrix<double> dW1 = first.W.grad();
        xg::Graph<double> h;
        auto Jh = xg::softmax_cross_entropy(
            model.layer(2)(model.layer(1)(xg::detach(first(h.input(data.X, "X"))))), h.input(data.Y, "Y"));
        h.backward(Jh);  // W1 not reached: its gradient is still the one from g
        std::printf("W1's gradient after a sweep that does not reach it: %s\n",
                    first.W.grad() == dW1 ? "the previous sweep's, unchanged" : "changed");
    }

    // ---- accumulation: 3 mini-batches of 40, stepped as their mean ----
    // Two networks with the same weights (same seed): one steps on the
    // accumulated batches, the other on one batch of all 120 examples.
    xg::Sequential<double> net({2, 16, 16, 3}, xg::Activation::relu, xg::Activation::identity, /*seed=*/2);
    xg::Sequential<double> twin({2, 16, 16, 3}, xg::Activation::relu, xg::Activation::identity, /*seed=*/2);
    xg::MiniBatches<double> batches(data.X, data.Y, /*batch_size=*/40, /*seed=*/0, /*shuffle=*/false);
    xg::Graph<double> g;
    auto [X, Y] = batches.inputs(g);
    auto J = xg::softmax_cross_entropy(net(X), Y);
    xg::GradientDescent<double> opt(net.parameters(), 0.5);
    docs::EpochCoverage coverage(data.size());

    opt.zero_grad();  // accumulate adds: start from zero
    for (const xg::Batch<double>& batch : batches.next_epoch()) {  // 3 batches of 40, in order
        g.set_value(X, batch.X);
        g.set_value(Y, batch.Y);
        g.forward();
        g.backward(J, xg::GradMode::accumulate);  // W.grad() += this batch's mean gradient
        coverage.add(batch.columns);  // this page's test: each example once
    }
    coverage.end_epoch();
    const double accumulated = net.dense(2).W.grad()(0, 0);
    opt.step(1.0 / 3);  // the step of the mean of the three

    xg::Graph<double> whole;
    auto Jw = xg::softmax_cross_entropy(twin(whole.input(data.X, "X")), whole.input(data.Y, "Y"));
    whole.backward(Jw);
    xg::GradientDescent<double>(twin.parameters(), 0.5).step();
    std::printf("dW3(0, 0): sum of 3 batch means %.6f = 3 x whole-batch mean %.6f\n", accumulated,
                3 * twin.dense(2).W.grad()(0, 0));
    std::printf("after step(1/3): W3(0, 0) = %.12f, one whole-batch step: %.12f\n", net.dense(2).W.value()(0, 0),
                twin.dense(2).W.value()(0, 0));
}

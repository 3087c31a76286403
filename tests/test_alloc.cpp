// A replayed training step allocates nothing once shapes are known.
//
// Allocations are counted as tests/alloc_count.hpp describes.
#include <cblas.h>
#include <doctest/doctest.h>

#include <random>
#include <vector>

#include "../bench/cnn.hpp"
#include "alloc_count.hpp"
#include "helpers.hpp"

using xg::Matrix;
using namespace xgt;

namespace {

/// One training step: forward, backward, then W −= 0.1 · dW for each parameter.
template <class T, std::size_t N>
void sgd_step(xg::Graph<T>& g, xg::Var<T> J, xg::Parameter<T>* const (&params)[N]) {
    g.forward();
    g.backward(J);
    for (xg::Parameter<T>* p : params) {
        T* w = p->value().data();
        const T* d = p->grad().data();
        for (std::size_t k = 0; k < p->value().size(); ++k) w[k] -= T(0.1) * d[k];
    }
}

template <class T>
long allocations_in_100_steps(std::size_t n0, std::size_t n1, std::size_t n2, std::size_t m) {
    std::mt19937_64 rng(11);
    xg::Parameter<T> W1(randn<T>(n1, n0, rng, 0.1), "W1"), b1(randn<T>(n1, 1, rng), "b1");
    xg::Parameter<T> W2(randn<T>(n2, n1, rng, 0.1), "W2"), b2(randn<T>(n2, 1, rng), "b2");
    xg::Graph<T> g;
    auto X = g.input(randn<T>(n0, m, rng), "X");
    auto Y = g.input(labels01<T>(n2, m, rng), "Y");
    auto Z1 = matmul(g.parameter(W1), X) + g.parameter(b1);
    auto Z2 = matmul(g.parameter(W2), tanh(Z1)) + g.parameter(b2);
    auto J = binary_cross_entropy(sigmoid(Z2), Y);
    xg::Parameter<T>* params[] = {&W1, &b1, &W2, &b2};
    auto step = [&] { sgd_step(g, J, params); };
    step();  // first sweep: plan and gradient buffers
    const double before_cost = J.value()(0, 0);
    const long before = allocation_count();
    for (int k = 0; k < 100; ++k) step();
    const long used = allocation_count() - before;
    CHECK(J.value()(0, 0) < before_cost);  // the steps did train
    return used;
}

}  // namespace

TEST_CASE("100 replayed two-layer training steps allocate nothing (float64 and float32)") {
    CHECK(allocations_in_100_steps<double>(2, 4, 1, 400) == 0);
    CHECK(allocations_in_100_steps<float>(2, 4, 1, 400) == 0);
    CHECK(allocations_in_100_steps<double>(5, 7, 3, 33) == 0);
}

TEST_CASE("a step large enough for BLAS allocates nothing either (one BLAS thread)") {
    // Products above the small-matrix path (here 32·64·200 multiply-adds)
    // go to OpenBLAS gemm. With one BLAS thread OpenBLAS works in buffers it
    // made at start-up; its multithreaded gemm allocates a few job buffers
    // per call of its own (docs/performance.md), which is not xgrad's doing.
    openblas_set_num_threads(1);
    CHECK(allocations_in_100_steps<double>(64, 32, 4, 200) == 0);
    CHECK(allocations_in_100_steps<float>(64, 32, 4, 200) == 0);
}

TEST_CASE("the counter sees allocations (it can fail)") {
    const long before = allocation_count();
    Matrix<double> m({10, 10});
    CHECK(allocation_count() - before >= 1);
}

TEST_CASE("new data of the same shape replays without allocating") {
    std::mt19937_64 rng(12);
    xg::Graph<double> g;
    auto X = g.input(randn(3, 50, rng), "X");
    auto W = g.parameter(randn(2, 3, rng), "W");
    auto Y = g.input(labels01(2, 50, rng), "Y");
    auto J = binary_cross_entropy(sigmoid(matmul(W, X)), Y);
    g.backward(J);
    const Matrix<double> X2 = randn(3, 50, rng);
    const long before = allocation_count();
    for (int k = 0; k < 10; ++k) {
        g.set_value(X, X2);
        g.forward();
        g.backward(J);
    }
    CHECK(allocation_count() - before == 0);
}

namespace {

/// Allocations in each of `epochs` epochs of mini-batch training after a
/// first epoch (which sees both batch shapes), of a 2 → 16 relu → 16 relu → 3
/// softmax classifier with Adam on 400 spiral points in batches of 64: six
/// full batches and a last one of 16, so every buffer of the graph changes
/// shape twice per epoch. The last element is the first epoch's count.
template <class T>
std::vector<long> allocations_per_epoch(int epochs, double& first_loss, double& last_loss) {
    const xg::Dataset<T> data = xg::spirals<T>(400, 3, 7);
    xg::Sequential<T> model({2, 16, 16, 3}, xg::Activation::relu, xg::Activation::identity, 3);
    xg::MiniBatches<T> batches(data.X, data.Y, 64, 5);
    xg::Graph<T> g;
    auto [X, Y] = batches.inputs(g);
    auto J = xg::softmax_cross_entropy(model(X), Y);
    xg::Adam<T> opt(model.parameters(), 0.01);
    double loss = 0;
    auto epoch = [&] {
        loss = 0;
        for (const xg::Batch<T>& batch : batches.next_epoch()) {
            g.set_value(X, batch.X);
            g.set_value(Y, batch.Y);
            g.forward();
            g.backward(J);
            opt.step();
            loss += double(J.value()(0, 0)) * double(batch.size()) / 400.0;
        }
    };
    long before = allocation_count();
    epoch();
    const long first = allocation_count() - before;
    first_loss = loss;
    std::vector<long> counts;
    for (int k = 0; k < epochs; ++k) {
        before = allocation_count();
        epoch();
        counts.push_back(allocation_count() - before);
    }
    last_loss = loss;
    counts.push_back(first);
    return counts;
}

}  // namespace

TEST_CASE("an epoch whose last batch is smaller allocates nothing after the first epoch (float64 and float32)") {
    // 400 = 6 · 64 + 16: the graph's values, gradients and scratch matrices,
    // and the batch buffers, take the full batch's shape and the last one's
    // in turn. Each buffer keeps the other shape's allocation aside.
    double first = 0, last = 0;
    const std::vector<long> d = allocations_per_epoch<double>(5, first, last);
    CHECK(d.back() > 0);  // the first epoch allocates (it sees both shapes): the counter works here
    for (std::size_t k = 0; k + 1 < d.size(); ++k) {
        CAPTURE(k);
        CHECK(d[k] == 0);
    }
    CHECK(last < 0.9 * first);  // it did train
    const std::vector<long> f = allocations_per_epoch<float>(3, first, last);
    for (std::size_t k = 0; k + 1 < f.size(); ++k) {
        CAPTURE(k);
        CHECK(f[k] == 0);
    }
    CHECK(last < 0.9 * first);
}

TEST_CASE("100 replayed steps of a conv net allocate nothing: conv2d, relu, max_pool2d, avg_pool2d, dense, softmax (float64 and float32)") {
    // The im2col columns and their gradient are scratch matrices the conv
    // nodes keep between replays; pooling keeps its per-image flags.
    openblas_set_num_threads(1);
    const auto run = [](auto zero) {
        using T = decltype(zero);
        std::mt19937_64 rng(13);
        const std::size_t m = 16;
        xg::Parameter<T> K1(randn<T>(4, 9, rng, 0.3), "K1"), b1(randn<T>(4, 1, rng, 0.1), "b1");
        xg::Parameter<T> K2(randn<T>(6, 36, rng, 0.2), "K2");
        xg::Parameter<T> W(randn<T>(3, 6 * 2 * 2, rng, 0.2), "W");
        xg::Graph<T> g;
        auto X = g.input(randn<T>(1 * 12 * 12, m, rng), "X");
        xg::Matrix<T> y({1, m});
        for (std::size_t j = 0; j < m; ++j) y(0, j) = T(j % 3);
        auto Y = g.input(y, "y");
        // The first convolution by Winograd (its transformed kernels and tiles are scratch too).
        auto A1 = relu(conv2d(X, g.parameter(K1), g.parameter(b1), {{1, 12, 12}, 3, 1, 1, xg::ConvAlgorithm::winograd}));  // 4 x 12 x 12
        auto P1 = max_pool2d(A1, {{4, 12, 12}, 2, 2});                                          // 4 x 6 x 6
        auto A2 = relu(conv2d(P1, g.parameter(K2), {{4, 6, 6}, 3, 2, 1}));                   // 6 x 3 x 3
        auto P2 = avg_pool2d(A2, {{6, 3, 3}, 2, 1});                                             // 6 x 2 x 2
        auto J = softmax_cross_entropy(matmul(g.parameter(W), P2), Y);
        xg::Parameter<T>* params[] = {&K1, &b1, &K2, &W};
        auto step = [&] { sgd_step(g, J, params); };
        step();
        const double first = double(J.value()(0, 0));
        long before = allocation_count();
        for (int k = 0; k < 100; ++k) step();
        long used = allocation_count() - before;
        CHECK(double(J.value()(0, 0)) < first);  // it did train
        // Batches of 16 and 5 in turn (an epoch's last batch): once both
        // shapes have been seen, the im2col buffers keep both allocations.
        const xg::Matrix<T> X16 = X.value(), y16 = Y.value();
        xg::Matrix<T> X5({X16.shape()[0], 5}), y5({1, 5});
        for (std::size_t i = 0; i < X16.shape()[0]; ++i)
            for (std::size_t j = 0; j < 5; ++j) X5(i, j) = X16(i, j);
        for (std::size_t j = 0; j < 5; ++j) y5(0, j) = y16(0, j);
        const auto batch = [&](const xg::Matrix<T>& x, const xg::Matrix<T>& l) {
            g.set_value(X, x);
            g.set_value(Y, l);
            step();
        };
        batch(X5, y5);
        batch(X16, y16);
        before = allocation_count();
        for (int k = 0; k < 10; ++k) {
            batch(X5, y5);
            batch(X16, y16);
        }
        used += allocation_count() - before;
        return used;
    };
    CHECK(run(double(0)) == 0);
    CHECK(run(float(0)) == 0);
}

TEST_CASE("the conv benchmark's graphs replay without allocating: its conv layers and the CNN's Adam step (float32 and float64)") {
    // bench/cnn_xgrad.cpp at the benchmark's sizes (batch 128): each
    // iteration sets the input, replays forward and backward (and steps Adam).
    openblas_set_num_threads(1);
    const auto run = [](auto zero) {
        using T = decltype(zero);
        for (const bench::cnn::ConvShape& s : bench::cnn::conv_shapes) {
            CAPTURE(s.name);
            const bench::cnn::ConvData<T> data(s);
            auto r = bench::cnn::make_xgrad_conv(data);
            const double J = r->step();
            const long before = allocation_count();
            for (int k = 0; k < 3; ++k) CHECK(r->step() == J);  // the same input: the same J
            CHECK(allocation_count() - before == 0);
        }
        const bench::cnn::CnnData<T> data;
        auto r = bench::cnn::make_xgrad_cnn(data);
        const double first = r->step();
        const long before = allocation_count();
        double last = first;
        for (int k = 0; k < 5; ++k) last = r->step();
        CHECK(allocation_count() - before == 0);
        // Adam's first steps overshoot (a few 1e-3 on each of 3136 inputs of
        // a dense unit add up); after 20 steps on the repeated batch the loss
        // is below the first.
        for (int k = 0; k < 14; ++k) last = r->step();
        CHECK(last < first);
    };
    run(float(0));
    run(double(0));
}

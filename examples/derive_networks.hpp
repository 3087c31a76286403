// The networks of examples/derive (also used by tests/test_derivation.cpp):
// each a builder that makes the same named nodes at the sizes of a probe,
// with random data and weights drawn from the probe's seed.
//
//   two_layer   X → tanh → σ, binary cross-entropy (the lecture's network)
//   deep_relu   X → relu → relu → σ, binary cross-entropy (an L-layer net, L = 3)
//   rnn_cell    a_next = tanh(Wax · x + Waa · a_prev + ba), y_hat = softmax(Wya · a_next + by)
//   softmax     Z = W · X + b, A = softmax(Z), softmax cross-entropy
//   batch_norm  Z1 = W1 · X → Z̃1 = batch_norm(Z1, γ1, β1) → relu → σ, binary cross-entropy
#pragma once

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <xgrad/xgrad.hpp>

namespace derive_networks {

using Matrix = xg::Matrix<double>;

/// Random matrices from one seed.
class Draw {
public:
    explicit Draw(std::uint64_t seed) : rng_(seed) {}
    Matrix normal(std::size_t r, std::size_t c) {
        std::normal_distribution<double> n(0.0, 1.0);
        Matrix a({r, c});
        for (double& v : a) v = n(rng_);
        return a;
    }
    /// 0 or 1 in each entry.
    Matrix labels01(std::size_t r, std::size_t c) {
        Matrix a({r, c});
        for (double& v : a) v = double(rng_() % 2);
        return a;
    }
    /// One-hot columns: a random class out of r in each.
    Matrix one_hot(std::size_t r, std::size_t c) {
        Matrix a = xt::zeros<double>({r, c});
        for (std::size_t j = 0; j < c; ++j) a(rng_() % r, j) = 1;
        return a;
    }

private:
    std::mt19937_64 rng_;
};

/// Size k of a probe (2 when the probe carries fewer).
inline std::size_t size(const xg::DerivationProbe& p, std::size_t k) { return k < p.sizes.size() ? p.sizes[k] : 2; }

/// The lecture's two-layer network: n_x = sizes[0], n_h = sizes[1], one sigmoid output.
inline xg::DerivationNetwork two_layer(const xg::DerivationProbe& p) {
    auto g = std::make_unique<xg::Graph<double>>();
    Draw d(p.seed);
    const std::size_t nx = size(p, 0), nh = size(p, 1), m = p.examples;
    auto X = g->input(d.normal(nx, m), "X");
    auto Y = g->input(d.labels01(1, m), "Y");
    auto W1 = g->parameter(d.normal(nh, nx), "W1");
    auto b1 = g->parameter(d.normal(nh, 1), "b1");
    auto W2 = g->parameter(d.normal(1, nh), "W2");
    auto b2 = g->parameter(d.normal(1, 1), "b2");
    auto Z1 = (matmul(W1, X) + b1).named("Z1");
    auto A1 = tanh(Z1).named("A1");
    auto Z2 = (matmul(W2, A1) + b2).named("Z2");
    auto A2 = sigmoid(Z2).named("A2");
    auto J = binary_cross_entropy(A2, Y).named("J");
    return {std::move(g), J};
}

/// An L-layer relu network (L = 3): sizes[0] inputs, relu layers of sizes[1]
/// and sizes[2] units, one sigmoid output.
inline xg::DerivationNetwork deep_relu(const xg::DerivationProbe& p) {
    auto g = std::make_unique<xg::Graph<double>>();
    Draw d(p.seed);
    const std::size_t m = p.examples;
    const std::size_t n[] = {size(p, 0), size(p, 1), size(p, 2), 1};
    auto X = g->input(d.normal(n[0], m), "X");
    auto Y = g->input(d.labels01(1, m), "Y");
    xg::Var<double> A = X;
    for (int l = 1; l <= 3; ++l) {
        const std::string k = std::to_string(l);
        auto W = g->parameter(d.normal(n[l], n[l - 1]), "W" + k);
        auto b = g->parameter(d.normal(n[l], 1), "b" + k);
        auto Z = (matmul(W, A) + b).named("Z" + k);
        A = (l < 3 ? relu(Z) : sigmoid(Z)).named("A" + k);
    }
    auto J = binary_cross_entropy(A, Y).named("J");
    return {std::move(g), J};
}

/// One step of a recurrent network, as in the sequence-models course:
/// a_next = tanh(Wax · x + Waa · a_prev + ba), y_hat = softmax(Wya · a_next + by),
/// softmax cross-entropy. n_x = sizes[0], n_a = sizes[1], n_y = sizes[2] + 1
/// classes; x and a_prev carry gradients (dx, da_prev).
inline xg::DerivationNetwork rnn_cell(const xg::DerivationProbe& p) {
    auto g = std::make_unique<xg::Graph<double>>();
    Draw d(p.seed);
    const std::size_t nx = size(p, 0), na = size(p, 1), ny = size(p, 2) + 1, m = p.examples;
    auto x = g->input(d.normal(nx, m), "x", true);
    auto a_prev = g->input(d.normal(na, m), "a_prev", true);
    auto Y = g->input(d.one_hot(ny, m), "Y");
    auto Wax = g->parameter(d.normal(na, nx), "Wax");
    auto Waa = g->parameter(d.normal(na, na), "Waa");
    auto ba = g->parameter(d.normal(na, 1), "ba");
    auto Wya = g->parameter(d.normal(ny, na), "Wya");
    auto by = g->parameter(d.normal(ny, 1), "by");
    auto z = (matmul(Wax, x) + matmul(Waa, a_prev) + ba).named("z");
    auto a_next = tanh(z).named("a_next");
    auto zy = (matmul(Wya, a_next) + by).named("zy");
    auto J = softmax_cross_entropy(zy, Y).named("J");
    softmax(zy).named("y_hat");  // for the equations: dzy = y_hat − Y
    return {std::move(g), J};
}

/// Softmax regression: Z = W · X + b, A = softmax(Z), softmax cross-entropy
/// over sizes[1] + 1 classes of sizes[0] features.
inline xg::DerivationNetwork softmax_regression(const xg::DerivationProbe& p) {
    auto g = std::make_unique<xg::Graph<double>>();
    Draw d(p.seed);
    const std::size_t nx = size(p, 0), k = size(p, 1) + 1, m = p.examples;
    auto X = g->input(d.normal(nx, m), "X");
    auto Y = g->input(d.one_hot(k, m), "Y");
    auto W = g->parameter(d.normal(k, nx), "W");
    auto b = g->parameter(d.normal(k, 1), "b");
    auto Z = (matmul(W, X) + b).named("Z");
    auto J = softmax_cross_entropy(Z, Y).named("J");
    softmax(Z).named("A");  // for the equations: dZ = A − Y
    return {std::move(g), J};
}

/// The two-layer network with batch normalisation in its hidden layer, in
/// training mode (the batch's statistics): Z1 = W1 · X, Z̃1 = γ1 ⊙ X̂1 + β1
/// with X̂1 = (Z1 − μ1) / σ1 over the examples, A1 = relu(Z̃1), Z2 = W2 · A1 + b2,
/// A2 = σ(Z2), binary cross-entropy. Z1 has no bias: batch_norm subtracts
/// each row's batch mean, so a b1 would cancel out (its gradient is 0) and
/// β1 takes its place, as the course drops b1. The statistics the op keeps
/// inside are also built as named nodes from Z1, for the equations only:
/// μ1, var1 (the variance σ1²), σ1 = √(var1 + ε) and X̂1, named as the op's
/// own equations name them. n_x = sizes[0], n_h = sizes[1]; a batch needs 2
/// columns at least (one column has variance 0, and training refuses it), so
/// a probe of one example is built with 2.
inline xg::DerivationNetwork batch_norm(const xg::DerivationProbe& p) {
    auto g = std::make_unique<xg::Graph<double>>();
    Draw d(p.seed);
    const double epsilon = 1e-5;
    const std::size_t nx = size(p, 0), nh = size(p, 1), m = std::max<std::size_t>(p.examples, 2);
    auto X = g->input(d.normal(nx, m), "X");
    auto Y = g->input(d.labels01(1, m), "Y");
    auto W1 = g->parameter(d.normal(nh, nx), "W1");
    auto gamma = g->parameter(d.normal(nh, 1), "γ1");
    auto beta = g->parameter(d.normal(nh, 1), "β1");
    auto W2 = g->parameter(d.normal(1, nh), "W2");
    auto b2 = g->parameter(d.normal(1, 1), "b2");
    auto Z1 = matmul(W1, X).named("Z1");
    auto N1 = xg::batch_norm(Z1, gamma, beta, epsilon, "1").named("Z̃1");
    auto A1 = relu(N1).named("A1");
    auto Z2 = (matmul(W2, A1) + b2).named("Z2");
    auto A2 = sigmoid(Z2).named("A2");
    auto J = binary_cross_entropy(A2, Y).named("J");
    // For the equations: the batch statistics of Z1, as batch_norm computes them.
    auto mu = mean(Z1, xg::Axis::over_cols).named("μ1");
    auto var = mean(square(Z1 - mu), xg::Axis::over_cols).named("var1");
    auto sigma = sqrt(var + epsilon).named("σ1");
    ((Z1 - mu) / sigma).named("X̂1");
    return {std::move(g), J};
}

/// The networks by name, with what the exercise says about each.
struct Network {
    const char* name;
    const char* what;
    xg::NetworkBuilder build;
};

inline const std::vector<Network>& networks() {
    static const std::vector<Network> all = {
        {"two_layer", "the lecture's two-layer network: tanh hidden layer, sigmoid output, cross-entropy", two_layer},
        {"deep_relu", "an L-layer network (L = 3): two relu layers, sigmoid output, cross-entropy", deep_relu},
        {"rnn_cell", "one step of a recurrent network: tanh cell, softmax output, cross-entropy", rnn_cell},
        {"softmax", "softmax regression: one linear layer, softmax, cross-entropy", softmax_regression},
        {"batch_norm", "a two-layer network with batch normalisation (training mode) before its relu hidden layer, "
                       "sigmoid output, cross-entropy", batch_norm},
    };
    return all;
}

}  // namespace derive_networks

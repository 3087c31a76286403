// The training step under test, four ways: xgrad, hand-written xtensor, and
// the raw-cblas floor, scalar and vectorised (bench/step_floor.cpp). Each variant owns its buffers, starts from the same
// data and initial parameters, and performs one full step per call:
// forward (with the cost), backward, gradient-descent update.
//
//   Z1 = W1·X + b1   A1 = tanh(Z1)   Z2 = W2·A1 + b2   A2 = σ(Z2)
//   J  = −(1/m) Σ [Y log A2 + (1 − Y) log(1 − A2)]
#pragma once

#include <cstddef>
#include <memory>
#include <random>
#include <string>

#include <xgrad/xgrad.hpp>

namespace bench {

struct Size {
    const char* name;
    std::size_t n0, n1, n2, m;
};

inline constexpr Size sizes[] = {
    {"S", 2, 4, 1, 400},
    {"M", 784, 128, 10, 1000},
    {"L", 1024, 1024, 1, 4096},
};

/// Flops of the step's matrix products: W1·X, W2·A1, dZ2·A1ᵀ, W2ᵀ·dZ2, dZ1·Xᵀ.
inline double step_gemm_flops(const Size& s) {
    return 2.0 * (2.0 * s.n1 * s.n0 * s.m + 3.0 * s.n2 * s.n1 * s.m);
}

/// Data and initial parameters shared by every variant (seeded).
template <class T>
struct Problem {
    xg::Matrix<T> X, Y, W1, b1, W2, b2;
    double learning_rate = 0.5;

    explicit Problem(const Size& s, unsigned seed = 1) {
        std::mt19937_64 rng(seed);
        std::normal_distribution<double> n01(0.0, 1.0);
        std::bernoulli_distribution coin(0.5);
        auto fill = [&](std::size_t r, std::size_t c, double scale) {
            xg::Matrix<T> m({r, c});
            for (auto& v : m) v = T(scale * n01(rng));
            return m;
        };
        X = fill(s.n0, s.m, 1.0);
        Y = xg::Matrix<T>({s.n2, s.m});
        for (auto& v : Y) v = coin(rng) ? T(1) : T(0);
        W1 = fill(s.n1, s.n0, 0.01);
        b1 = xt::zeros<T>({s.n1, std::size_t(1)});
        W2 = fill(s.n2, s.n1, 0.01);
        b2 = xt::zeros<T>({s.n2, std::size_t(1)});
    }
};

/// One variant of the step.
template <class T>
class Step {
public:
    virtual ~Step() = default;
    /// One training step; returns the cost J computed by its forward pass.
    virtual double step() = 0;
};

template <class T>
std::unique_ptr<Step<T>> make_xgrad(const Problem<T>& p);
template <class T>
std::unique_ptr<Step<T>> make_hand_xtensor(const Problem<T>& p);
template <class T>
std::unique_ptr<Step<T>> make_floor(const Problem<T>& p);
/// The floor compiled with -march=native -ffast-math (vectorised tanh/exp/log1p).
template <class T>
std::unique_ptr<Step<T>> make_floor_vec(const Problem<T>& p);

}  // namespace bench

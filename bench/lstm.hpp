// The recurrent workload: one training step of an LSTM unrolled over a
// sequence,
//
//   x<t> (256 × 64) for t = 1 … 32 → LSTMCell(256 → 256), from zero states,
//   H = [a<1> … a<32>] (256 × 2048), J = mean_squared_error(H, Y),
//   backpropagation through the 32 steps, a gradient-descent step (α = 0.01),
//
// in float32. Every implementation (xgrad in lstm_xgrad.cpp, LibTorch's
// LSTMCell unrolled the same way in bench_lstm_libtorch.cpp) starts from the
// same data and weights, drawn with xg::Rng: inputs and targets N(0, 1); the
// cell's W = [Wf; Wi; Wc; Wo] (1024 × 512, its first 256 columns for a<t−1>,
// the last 256 for x<t>: xgrad's layout) Xavier-scaled and b = 0 with the
// forget gate's bias 1. LibTorch's LSTMCell keeps its gates in the order
// i, f, g, o and its input and hidden weights apart; the LibTorch side
// reorders the same numbers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include <xgrad/xgrad.hpp>

namespace bench::lstm {

inline constexpr std::size_t hidden = 256, inputs = 256, batch = 64, steps = 32;
inline constexpr double learning_rate = 0.01;

/// The data and the initial weights.
struct Problem {
    std::vector<xg::Matrix<float>> x;  // steps × (inputs × batch)
    xg::Matrix<float> Y;               // hidden × (steps · batch)
    xg::Matrix<float> W, b;            // 4 hidden × (hidden + inputs), 4 hidden × 1

    Problem() {
        xg::Rng rng(1);
        for (std::size_t t = 0; t < steps; ++t) x.push_back(xg::randn<float>(inputs, batch, rng));
        Y = xg::randn<float>(hidden, steps * batch, rng);
        xg::Rng init(2);
        const xg::LSTMCell<float> cell(inputs, hidden, init);
        W = cell.W.value();
        b = cell.b.value();
    }
};

/// One implementation's training step on the problem it was made with.
class Step {
public:
    virtual ~Step() = default;
    /// Forward, loss, backward through the steps, and the update; returns J.
    virtual double step() = 0;
};

/// xgrad: the graph built once (xg::unroll), replayed each step.
std::unique_ptr<Step> make_xgrad(const Problem& p);

}  // namespace bench::lstm

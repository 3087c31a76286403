// The convolution workloads, in the shapes of the Fashion-MNIST CNN
//
//   X (1·28·28 × 128) → conv2d 1→32, 3×3, stride 1, padding 1, + bias, relu
//     → max_pool2d 2×2 stride 2 → conv2d 32→64, 3×3, padding 1, + bias, relu
//     → max_pool2d 2×2 → dense 3136→128 relu → dense 128→10
//     → softmax cross-entropy (mean over the batch), Adam, batches of 128:
//
//   - a conv layer (conv2d + bias, relu, max_pool2d; J = Σ of the pooled
//     output), forward and backward, at each of the CNN's two conv shapes:
//     L1 = 1→32 on 28×28 (the input needs no gradient, as the CNN's X),
//     L2 = 32→64 on 14×14 (the input's gradient too, as the CNN's P1);
//   - the whole CNN's training step: forward, backward, an Adam step.
//
// Every implementation (xgrad here and in cnn_xgrad.cpp, LibTorch in
// bench_libtorch.cpp) starts from the same data and weights, drawn with
// xg::Rng: a conv layer's input N(0, 1), the CNN's pixels uniform in
// [0, 1) as Fashion-MNIST's scaled intensities; kernels and dense weights He-scaled,
// N(0, 1)·√(2 / fan-in); biases N(0, 1)·0.1; labels ⌊10·u⌋. Layouts: an
// image batch is C·H·W × m, one column per image (xgrad's); a kernel matrix
// is Kout × C·k·k, one kernel per row in channel-row-column order, which is
// LibTorch's Kout × C × k × k weight read as a matrix.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include <xgrad/xgrad.hpp>

namespace bench::cnn {

inline constexpr std::size_t batch_size = 128;
inline constexpr std::size_t kernel = 3, padding = 1, window = 2;
inline constexpr std::size_t n_hidden = 128, classes = 10;
inline constexpr double learning_rate = 0.001;

/// One conv layer's shape: C input channels of H × W, Kout kernels.
struct ConvShape {
    const char* name;
    std::size_t C, H, W, Kout;
    bool input_grad;  ///< whether the layer's input needs a gradient (dX)
};
inline constexpr ConvShape conv_shapes[] = {{"L1", 1, 28, 28, 32, false}, {"L2", 32, 14, 14, 64, true}};

/// N(0, 1)·scale entries, row after row.
template <class T>
xg::Matrix<T> normal(std::size_t rows, std::size_t cols, xg::Rng& rng, double scale) {
    xg::Matrix<T> m({rows, cols});
    for (std::size_t k = 0; k < m.size(); ++k) m.data()[k] = T(rng.normal() * scale);
    return m;
}

/// A conv layer's input X (C·H·W × 128), kernels K (Kout × C·9) and bias b (Kout × 1).
template <class T>
struct ConvData {
    ConvShape shape;
    xg::Matrix<T> X, K, b;
    explicit ConvData(const ConvShape& s) : shape(s) {
        xg::Rng rng(11);
        X = normal<T>(s.C * s.H * s.W, batch_size, rng, 1.0);
        K = normal<T>(s.Kout, s.C * kernel * kernel, rng, std::sqrt(2.0 / double(s.C * kernel * kernel)));
        b = normal<T>(s.Kout, 1, rng, 0.1);
    }
    xg::Conv2dSpec conv(xg::ConvAlgorithm algorithm = xg::ConvAlgorithm::automatic) const {
        return {{shape.C, shape.H, shape.W}, kernel, 1, padding, algorithm};
    }
    xg::Pool2dSpec pool() const { return {{shape.Kout, shape.H, shape.W}, window, window}; }
};

/// The CNN's batch (X: 784 × 128, labels Y: 1 × 128) and initial weights.
template <class T>
struct CnnData {
    xg::Matrix<T> X, Y, K1, b1, K2, b2, W3, b3, W4, b4;
    CnnData() {
        xg::Rng rng(12);
        X = xg::Matrix<T>({28 * 28, batch_size});
        for (std::size_t k = 0; k < X.size(); ++k) X.data()[k] = T(rng.uniform());
        Y = xg::Matrix<T>({std::size_t(1), batch_size});
        for (std::size_t j = 0; j < batch_size; ++j) Y(0, j) = T(std::floor(10.0 * rng.uniform()));
        K1 = normal<T>(32, 9, rng, std::sqrt(2.0 / 9));
        b1 = normal<T>(32, 1, rng, 0.1);
        K2 = normal<T>(64, 32 * 9, rng, std::sqrt(2.0 / (32 * 9)));
        b2 = normal<T>(64, 1, rng, 0.1);
        W3 = normal<T>(n_hidden, 64 * 7 * 7, rng, std::sqrt(2.0 / (64 * 7 * 7)));
        b3 = normal<T>(n_hidden, 1, rng, 0.1);
        W4 = normal<T>(classes, n_hidden, rng, std::sqrt(2.0 / n_hidden));
        b4 = normal<T>(classes, 1, rng, 0.1);
    }
};

/// One implementation of a workload, built once.
class Runner {
public:
    virtual ~Runner() = default;
    /// One iteration: set the input, forward, backward (and for the CNN an
    /// Adam step). Returns J (the conv layer's Σ, the CNN's loss before the step).
    virtual double step() = 0;
    /// After a step, numbers that check the gradients: Σ|dK|, Σ|db| and
    /// (L2) Σ|dX| for a conv layer; empty for the CNN.
    virtual std::vector<double> grad_sums() const = 0;
};

/// xgrad: the graph built once on input leaves, replayed by step(); a conv
/// layer computed as `algorithm` says (automatic: Winograd for L2, im2col for L1).
template <class T>
std::unique_ptr<Runner> make_xgrad_conv(const ConvData<T>& data,
                                        xg::ConvAlgorithm algorithm = xg::ConvAlgorithm::automatic);
template <class T>
std::unique_ptr<Runner> make_xgrad_cnn(const CnnData<T>& data);

}  // namespace bench::cnn

// The real-sized workload: an MLP of Fashion-MNIST's shape,
//
//   784 → 256 relu → 128 relu → 10 logits, softmax cross-entropy (mean over
//   the batch), Adam (α = 0.001, β1 = 0.9, β2 = 0.999, ε = 1e-8),
//   mini-batches of 128, a new random order every epoch,
//
// trained on random data of that shape (Fashion-MNIST has 60 000 examples).
// Every implementation (xgrad here, LibTorch in bench_libtorch.cpp, PyTorch
// in bench_pytorch.py) starts from the same data and the same weights:
//
//   example j  = 784 draws of xg::Rng(1).normal(), example after example
//                (numpy: RandomState(1).randn(m, 784), one example per row);
//   label j    = ⌊10 · u⌋ with u the j-th xg::Rng(2).uniform()
//                (numpy: floor(10 · RandomState(2).rand(m)));
//   weights    = xg::Sequential({784, 256, 128, 10}, relu, identity, seed 3, He)
//                (written to .npy by bench/write_reference for PyTorch).
//
// Drawing example after example makes the first k examples the same for any
// m, so the check of the first batches' losses does not depend on m.
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <memory>
#include <vector>

#include <xgrad/xgrad.hpp>

namespace bench::mlp {

inline constexpr std::size_t n_in = 784, n_h1 = 256, n_h2 = 128, classes = 10;
inline constexpr std::size_t batch_size = 128;
inline constexpr std::size_t examples = 60000;  // Fashion-MNIST's training set
inline constexpr double learning_rate = 0.001;
inline constexpr std::uint32_t data_seed = 1, label_seed = 2, weight_seed = 3, shuffle_seed = 4;
/// Batches (in order, unshuffled) whose losses every implementation checks before timing.
inline constexpr std::size_t check_batches = 5;

/// Examples X (784 × m, one per column) and labels Y (1 × m class indices).
template <class T>
struct Data {
    xg::Matrix<T> X, Y;

    explicit Data(std::size_t m) : X({n_in, m}), Y({std::size_t(1), m}) {
        xg::Rng rx(data_seed);
        for (std::size_t j = 0; j < m; ++j)
            for (std::size_t i = 0; i < n_in; ++i) X(i, j) = T(rx.normal());
        xg::Rng ry(label_seed);
        for (std::size_t j = 0; j < m; ++j) Y(0, j) = T(std::floor(10.0 * ry.uniform()));
    }
    std::size_t size() const { return X.shape()[1]; }
};

/// The initial model: W1 (256 × 784), b1, W2 (128 × 256), b2, W3 (10 × 128), b3.
template <class T>
xg::Sequential<T> initial_model() {
    return xg::Sequential<T>({n_in, n_h1, n_h2, classes}, xg::Activation::relu, xg::Activation::identity,
                             weight_seed, xg::init::he());
}

/// One implementation's training loop over the data it was made with.
class Trainer {
public:
    virtual ~Trainer() = default;
    /// One epoch (or its first `max_batches` batches): forward, loss, backward
    /// and an Adam step per batch. Returns each batch's loss.
    virtual std::vector<double> run(std::size_t max_batches = std::numeric_limits<std::size_t>::max()) = 0;
};

/// xgrad: Sequential + softmax_cross_entropy on a graph built once over
/// MiniBatches' input leaves, Adam over model.parameters(). `shuffle` false
/// takes the batches in order (for the check).
template <class T>
std::unique_ptr<Trainer> make_xgrad(const Data<T>& data, bool shuffle);

}  // namespace bench::mlp

// xgrad — the lecture's two-layer network, built as a graph over Parameters:
//
//     Z1 = W1·X + b1    A1 = tanh(Z1)    Z2 = W2·A1 + b2    A2 = σ(Z2)
//     J  = −(1/m) Σ [Y log A2 + (1 − Y) log(1 − A2)]
//
// trained by plain gradient descent (W ← W − α ∂J/∂W for each parameter).
// Everything here is written with the public API (lib/two_layer.cpp), so it
// doubles as the worked example of building and training a model.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "xgrad/graph.hpp"
#include "xgrad/tensor.hpp"

namespace xg {

/// How the weights start: random (N(0, 1) · scale, what training needs), or
/// all zeros (every hidden unit then computes the same function forever).
enum class Init {
    random,  ///< N(0, 1) · scale, drawn with a seeded Rng
    zeros,   ///< every weight and bias 0 (a demonstration of what fails)
};

/// The parameters W1 (n_h × n_x), b1 (n_h × 1), W2 (n_y × n_h), b2 (n_y × 1),
/// named "W1", "b1", "W2", "b2" (the names of their .npy files).
template <class T>
struct TwoLayerParams {
    Parameter<T> W1, b1, W2, b2;

    /// {W1, b1, W2, b2}: what an update step or a checkpoint walks over.
    std::vector<Parameter<T>> all() const { return {W1, b1, W2, b2}; }
    /// Inputs (features), hidden units and outputs.
    std::size_t n_x() const { return W1.shape().cols; }
    std::size_t n_h() const { return W1.shape().rows; }
    std::size_t n_y() const { return W2.shape().rows; }
};

/// New parameters. Init::random: W1 then W2 drawn row by row from
/// N(0, 1) · scale with Rng(seed) — with seed 2 and scale 0.01 the lecture's
/// np.random.seed(2); np.random.randn(n_h, n_x) * 0.01; … — biases zero.
/// Init::zeros: everything zero. ValueError for a size of 0.
template <class T>
TwoLayerParams<T> init_two_layer(std::size_t n_x, std::size_t n_h, std::size_t n_y, std::uint32_t seed = 2,
                                 Init init = Init::random, double scale = 0.01);

/// Parameters W1, b1, W2, b2 read from the checkpoint in DIR (as written by
/// save_parameters(dir, params.all()), or a folder of the old layout). The
/// sizes come from the shapes of W1 and W2 the checkpoint lists; every file is
/// then checked and loaded as load_parameters does. IoError for a missing
/// parameter or a missing, malformed or changed file, ShapeError when the
/// four shapes do not fit together (each message names the file).
template <class T>
TwoLayerParams<T> load_two_layer(const std::string& dir);

/// The nodes of a forward pass: Z1, A1 (n_h × m), Z2, A2 (n_y × m).
template <class T>
struct TwoLayerForward {
    Var<T> Z1, A1, Z2, A2;
};

/// The forward pass appended to graph g for the input node X (n_x × m); its
/// nodes are named Z1, A1, Z2, A2. ShapeError when X does not have n_x rows.
template <class T>
TwoLayerForward<T> two_layer_forward(Graph<T>& g, Var<T> X, const TwoLayerParams<T>& p);

/// A2 = σ(W2 · tanh(W1 · X + b1) + b2) for the columns of X (n_y × m),
/// through a fresh inference graph. ShapeError when X does not have n_x rows.
template <class T>
Matrix<T> two_layer_probabilities(const TwoLayerParams<T>& p, const Matrix<T>& X);

/// Class predictions: 1 where A2 > 0.5, else 0 (n_y × m).
template <class T>
Matrix<T> predict(const TwoLayerParams<T>& p, const Matrix<T>& X);

/// Percentage of entries where `predictions` equals `labels` (same shape,
/// ShapeError otherwise): 100 · (1/m) Σ [ŷ = y] for 1 × m labels.
template <class T>
double accuracy(const Matrix<T>& predictions, const Matrix<T>& labels);

/// True when every hidden unit computes the same function: all rows of W1
/// equal, all entries of b1 equal, all columns of W2 equal. That is what
/// zero initialisation leaves after any amount of training.
template <class T>
bool hidden_units_identical(const TwoLayerParams<T>& p);

namespace detail {
template <class T>
struct non_deduced {
    using type = T;
};
}  // namespace detail

/// Called with (i, J) before update i: J is the cost of the parameters after
/// i updates (i = 0: the initial cost). (T is spelled so that a lambda can be
/// passed where one is expected.)
template <class T>
using IterationCallback = std::function<void(std::size_t iteration, typename detail::non_deduced<T>::type cost)>;

/// The cost after each iteration of a run: costs[i] is J after i updates,
/// costs.size() = iterations + 1 (the last one is the final cost).
template <class T>
struct TrainResult {
    std::vector<T> costs;
    /// costs.back(): J after the last update.
    T final_cost() const { return costs.back(); }
};

/// Train p on (X, Y) by `iterations` steps of plain gradient descent: build
/// the graph once, then per step forward, J, backward(J), and for every
/// parameter W ← W − learning_rate · ∂J/∂W in place (no allocation per step).
/// Calls `on_iteration` before each update. ShapeError when X, Y and p do
/// not fit; ValueError for labels outside [0, 1] or when the cost stops
/// being finite (learning rate too large).
template <class T>
TrainResult<T> train_two_layer(const TwoLayerParams<T>& p, const Matrix<T>& X, const Matrix<T>& Y,
                               std::size_t iterations, double learning_rate,
                               const IterationCallback<T>& on_iteration = {});

}  // namespace xg

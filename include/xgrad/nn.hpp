// xgrad — layers, initialisers and a sequential model of any depth.
//
// A layer owns its Parameters (W: n_out × n_in, b: n_out × 1, the lecture's
// shapes) and appends its nodes to any graph it is applied to:
//
//     Z[l] = W[l] · A[l−1] + b[l]     A[l] = g[l](Z[l])     A[0] = X (n_in × m)
//
// Parameters are named W1, b1, W2, b2, … and nodes Z1, A1, Z2, …, so a
// checkpoint (save_parameters) holds W1.npy, b1.npy, … and `explain` prints
// the L-layer network's equations with the lecture's names.
//
// Because Parameters outlive graphs, one model serves a training graph (built
// once, replayed per mini-batch) and any number of inference graphs.
// docs/howto-deeper-network.md walks through both; docs/reference/nn.md
// lists every member.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "xgrad/graph.hpp"
#include "xgrad/random.hpp"
#include "xgrad/tensor.hpp"

namespace xg {

// ---- initialisers ------------------------------------------------------------

/// How a weight matrix W (n_out × n_in) starts. Random ones draw N(0, 1) · σ
/// with xg::Rng, row by row (so with the same seed, numpy's
/// np.random.randn(n_out, n_in) * σ); biases always start at zero.
struct Initializer {
    enum class Kind {
        zeros,   ///< W = 0 (every unit of a layer then stays identical; for tests and demos)
        normal,  ///< σ = scale (the lecture's randn(…) × 0.01)
        xavier,  ///< Xavier/Glorot: σ = scale · √(2 / (n_in + n_out))
        he,      ///< He: σ = scale · √(2 / n_in) (for relu layers)
    };
    Kind kind = Kind::he;
    double scale = 1.0;

    /// The σ of a W with n_in columns and n_out rows (0 for zeros).
    double stddev(std::size_t n_in, std::size_t n_out) const;
    /// "he", "xavier", "normal(0.01)", "zeros"; with a gain other than 1,
    /// "he(gain 0.707107)", "xavier(gain 2)".
    std::string describe() const;
};

/// The initialisers by name: `xg::init::he()`, `xg::init::normal(0.01)`.
/// ValueError for a scale that is negative or not finite.
namespace init {
Initializer zeros();
/// N(0, σ²) with σ = `scale`; the lecture's `np.random.randn(n_out, n_in) * 0.01`.
Initializer normal(double scale = 0.01);
/// N(0, 2 / (n_in + n_out)) (Glorot and Bengio, 2010), times `gain`.
Initializer xavier(double gain = 1.0);
/// N(0, 2 / n_in) (He et al., 2015), times `gain`.
Initializer he(double gain = 1.0);
}  // namespace init

/// An n_out × n_in weight matrix drawn as `init` says (N(0, 1) · σ, row by
/// row, from `rng`; zeros draw nothing). ValueError for a size of 0, or a
/// scale that is negative or not finite.
template <class T>
Matrix<T> initial_weights(const Initializer& init, std::size_t n_out, std::size_t n_in, Rng& rng);

// ---- activations ---------------------------------------------------------------

/// The function g applied after a layer's affine map (see xgrad/ops.hpp).
enum class Activation {
    identity,    ///< A = Z (the logits of a softmax_cross_entropy output layer)
    relu,        ///< A = max(Z, 0)
    leaky_relu,  ///< A = Z for Z > 0, 0.01 Z otherwise
    tanh,        ///< A = tanh(Z)
    sigmoid,     ///< A = σ(Z) (a binary_cross_entropy output is then fused with it)
    softplus,    ///< A = log(1 + e^Z)
};

/// "identity", "relu", "leaky_relu", "tanh", "sigmoid", "softplus".
std::string to_string(Activation a);

/// g(z) for the node z: the op of the activation (z itself for identity).
template <class T>
Var<T> activate(Var<T> z, Activation a);

// ---- Dense ---------------------------------------------------------------------------

/// A fully connected layer: Z = W · X + b, A = g(Z), with W: n_out × n_in,
/// b: n_out × 1, X: n_in × m → A: n_out × m. Copies share the Parameters.
template <class T>
class Dense {
public:
    /// A layer with W drawn by `init` from `rng` and b = 0. Its parameters are
    /// named "W" + label and "b" + label ("W1", "b1"), its nodes "Z" + label
    /// and "A" + label. ValueError for a size of 0, or a label that would not
    /// make a file name (letters, digits, '_', '-', '.').
    Dense(std::size_t n_in, std::size_t n_out, Activation activation, Rng& rng, const Initializer& initializer = init::he(),
          const std::string& label = "1");
    /// A layer over existing parameters (e.g. loaded from files), which keep
    /// their names; `label` names the nodes. ShapeError unless W is not empty
    /// and b is W.rows × 1; GraphError for an empty handle; ValueError for a
    /// label as above.
    Dense(Parameter<T> W, Parameter<T> b, Activation activation, const std::string& label = "1");

    /// A = g(W · x + b), built on x's graph: Z and A are new nodes (A is Z for
    /// identity); W and b become (or reuse) parameter leaves of that graph.
    /// ShapeError when x does not have n_in rows, naming the layer:
    /// "layer 1 (Dense 2 -> 64, relu): input X is [3x100]; the layer takes 2
    /// rows (features), one column per example".
    Var<T> operator()(Var<T> x) const;

    Parameter<T> W;
    Parameter<T> b;

    std::size_t n_in() const { return W.shape().cols; }
    std::size_t n_out() const { return W.shape().rows; }
    Activation activation() const { return activation_; }
    const std::string& label() const { return label_; }
    /// "Dense 2 -> 64, relu".
    std::string describe() const;

private:
    Activation activation_;
    std::string label_;
};

// ---- Sequential ------------------------------------------------------------------------

/// Layers applied one after the other: the L-layer network. Layer l (from 1)
/// owns W<l>, b<l>. Build it layer by layer
///
///     xg::Sequential<double> model(/*n_in=*/2, /*seed=*/1);
///     model.add(64, xg::Activation::relu).add(3, xg::Activation::identity, xg::init::xavier());
///
/// or from its sizes, {2, 20, 7, 5, 1}: three relu layers and a sigmoid one.
/// Weights are drawn from one Rng(seed), layer after layer, so the same seed
/// and the same layers give the same network.
///
/// Copies share the layers' Parameters (like Parameter itself); each copy
/// keeps its own inference graphs (see predict).
template <class T>
class Sequential {
public:
    /// An empty model for inputs of n_in features. ValueError for n_in = 0.
    explicit Sequential(std::size_t n_in, std::uint32_t seed = 1);
    /// sizes = {n_in, n_1, …, n_L}: L Dense layers, `hidden` after each but
    /// the last, `output` after the last, all drawn by `init`. ValueError for
    /// fewer than two sizes or a size of 0.
    Sequential(const std::vector<std::size_t>& sizes, Activation hidden, Activation output, std::uint32_t seed = 1,
               const Initializer& initializer = init::he());
    Sequential(const Sequential& other);
    Sequential(Sequential&& other) noexcept;
    Sequential& operator=(const Sequential& other);
    Sequential& operator=(Sequential&& other) noexcept;
    ~Sequential();

    /// Append a Dense layer of n_out units (n_in = the last layer's n_out),
    /// labelled with its position ("W3", "b3"). Returns *this. ValueError for
    /// n_out = 0, or when those names are taken (as for add(layer)).
    Sequential& add(std::size_t n_out, Activation activation, const Initializer& initializer = init::he());
    /// Append an existing layer. ShapeError when its n_in is not the last
    /// layer's n_out; ValueError when its parameter names repeat another
    /// layer's (a checkpoint needs distinct names).
    Sequential& add(const Dense<T>& layer);

    /// Apply every layer to x, building the nodes on x's graph; returns the
    /// last layer's output (n_out × m). ShapeError from the first layer when x
    /// does not have n_in rows; ValueError for a model without layers.
    Var<T> operator()(Var<T> x) const;

    /// Forward-only evaluation: the output for the columns of X (n_out × m),
    /// computed by an inference graph over the same Parameters, built the
    /// first time X's shape is seen and replayed afterwards (the last 4
    /// shapes are kept). No gradient is computed, allocated or changed.
    /// Allocates the result; on a shape seen before, nothing else.
    /// ShapeError naming the model when X does not have n_in rows or has no
    /// column; ValueError for a model without layers. Not thread-safe: one
    /// predict at a time per model object.
    Matrix<T> predict(const Matrix<T>& X) const;
    /// The same into `out`, resized only when its shape differs: on a shape
    /// seen before, no allocation at all.
    void predict(const Matrix<T>& X, Matrix<T>& out) const;

    /// Every layer's W and b in order: {W1, b1, W2, b2, …} — what an optimiser
    /// updates and save_parameters/load_parameters walk over.
    std::vector<Parameter<T>> parameters() const;
    /// Number of trainable numbers: Σ_l n_l (n_{l−1} + 1).
    std::size_t parameter_count() const;

    /// Number of layers (L).
    std::size_t size() const { return layers_.size(); }
    /// Layer i, counted from 0: layer(0) holds W1 and b1. std::out_of_range
    /// for i ≥ size().
    const Dense<T>& layer(std::size_t i) const { return layers_.at(i); }
    const std::vector<Dense<T>>& layers() const { return layers_; }
    std::size_t n_in() const { return n_in_; }
    /// The last layer's n_out (n_in for an empty model).
    std::size_t n_out() const;
    /// "2 -> 64 relu -> 64 relu -> 3 identity (4547 parameters)".
    std::string describe() const;

private:
    struct InferenceGraph;
    std::size_t n_in_;
    Rng rng_;
    std::vector<Dense<T>> layers_;
    mutable std::vector<std::unique_ptr<InferenceGraph>> inference_;
    mutable std::uint64_t inference_clock_ = 0;

    InferenceGraph& inference_graph(const Matrix<T>& X) const;
};

extern template class Dense<float>;
extern template class Dense<double>;
extern template class Sequential<float>;
extern template class Sequential<double>;
extern template Matrix<float> initial_weights(const Initializer&, std::size_t, std::size_t, Rng&);
extern template Matrix<double> initial_weights(const Initializer&, std::size_t, std::size_t, Rng&);
extern template Var<float> activate(Var<float>, Activation);
extern template Var<double> activate(Var<double>, Activation);

}  // namespace xg

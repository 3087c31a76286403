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
// Images stay matrices (one column per image, C·H·W values in
// channel-row-column order, see conv2d in xgrad/ops.hpp): Conv2d, MaxPool2d
// and AvgPool2d map such columns to such columns, and a Dense layer after
// them reads the same column as a vector of C·H·W features (flattening is
// the identity on this layout).
//
// Because Parameters outlive graphs, one model serves a training graph (built
// once, replayed per mini-batch) and any number of inference graphs.
// docs/howto-deeper-network.md walks through both; docs/reference/nn.md
// lists every member.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "xgrad/graph.hpp"
#include "xgrad/ops.hpp"
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

// ---- Layer -------------------------------------------------------------------------

/// What every layer of a Sequential is: a map from columns of n_in() numbers
/// (one column per example) to columns of n_out() numbers, appended to a
/// graph by operator(). Dense, Conv2d, MaxPool2d and AvgPool2d derive from
/// it; a user's own layer may too. Layers are immutable once built, except
/// through their Parameters, which copies share.
template <class T>
class Layer {
public:
    virtual ~Layer() = default;

    /// The layer's output for the columns of x, built on x's graph.
    /// ShapeError when x does not have n_in() rows, naming the layer.
    virtual Var<T> operator()(Var<T> x) const = 0;
    /// Its trainable Parameters in order ({W, b} for Dense and Conv2d, none
    /// for pooling): what Sequential::parameters collects.
    virtual std::vector<Parameter<T>> parameters() const = 0;
    /// What it keeps besides them and no optimiser updates, for checkpoints:
    /// BatchNorm's running averages. None by default.
    virtual std::vector<Parameter<T>> state() const { return {}; }
    /// Rows per example of its input and of its output.
    virtual std::size_t n_in() const = 0;
    virtual std::size_t n_out() const = 0;
    /// The image its input and output rows hold (C × H × W), or none for a
    /// layer of plain features (Dense).
    virtual std::optional<ImageShape> input_image() const { return std::nullopt; }
    virtual std::optional<ImageShape> output_image() const { return std::nullopt; }
    /// "Dense 2 -> 64, relu", "Conv2d 1 -> 32, 3x3, padding 1, relu".
    virtual std::string describe() const = 0;
    /// Its step in Sequential::describe: "64 relu", "conv3x3 32x28x28 relu".
    virtual std::string brief() const = 0;

    /// What names its nodes (and, with a "W"/"b" prefix, its parameters).
    const std::string& label() const { return label_; }
    /// Number of trainable numbers in parameters().
    std::size_t parameter_count() const;

protected:
    /// ValueError for a label that would not make a checkpoint file name
    /// (letters, digits, '_', '-', '.'); `kind` ("Dense") names the layer.
    Layer(const char* kind, std::string label);
    /// ShapeError unless x has n_in() rows: "layer 1 (Dense 2 -> 64, relu):
    /// input X is [3x100]; the layer takes 2 rows (…), one column per example".
    void check_input(const Var<T>& x, const std::string& rows_are) const;

private:
    std::string label_;
};

// ---- Dense ---------------------------------------------------------------------------

/// A fully connected layer: Z = W · X + b, A = g(Z), with W: n_out × n_in,
/// b: n_out × 1, X: n_in × m → A: n_out × m. Copies share the Parameters.
template <class T>
class Dense : public Layer<T> {
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
    Var<T> operator()(Var<T> x) const override;

    Parameter<T> W;
    Parameter<T> b;

    std::vector<Parameter<T>> parameters() const override { return {W, b}; }
    std::size_t n_in() const override { return W.shape().cols; }
    std::size_t n_out() const override { return W.shape().rows; }
    Activation activation() const { return activation_; }
    /// "Dense 2 -> 64, relu".
    std::string describe() const override;
    /// "64 relu".
    std::string brief() const override;

private:
    Activation activation_;
};

// ---- image layers --------------------------------------------------------------------------

/// A convolution layer: Z = conv2d(X, W, b, spec), A = g(Z), with W:
/// out_channels × (C·k·k) (one kernel per row) and b: out_channels × 1 (one
/// bias per output channel). X: C·H·W × m → A: out_channels·Ho·Wo × m
/// (conv2d_output gives Ho and Wo). Copies share the Parameters.
template <class T>
class Conv2d : public Layer<T> {
public:
    /// A layer with W drawn by `init` from `rng` as an out_channels × (C·k·k)
    /// matrix (so He's σ is √(2 / (C·k·k)), the kernel's fan-in) and b = 0.
    /// Parameters "W" + label and "b" + label, nodes "Z" + label and "A" +
    /// label. ValueError for out_channels = 0 or a bad label; ShapeError for
    /// an impossible spec (see conv2d_output).
    Conv2d(const Conv2dSpec& spec, std::size_t out_channels, Activation activation, Rng& rng,
           const Initializer& initializer = init::he(), const std::string& label = "1");
    /// A layer over existing parameters, which keep their names. ShapeError
    /// unless W has C·k·k columns and b is W.rows × 1, or for a bad spec;
    /// GraphError for an empty handle; ValueError for a bad label.
    Conv2d(const Conv2dSpec& spec, Parameter<T> W, Parameter<T> b, Activation activation, const std::string& label = "1");

    /// A = g(conv2d(x, W, b, spec)), built on x's graph. ShapeError when x
    /// does not have C·H·W rows, naming the layer and the image.
    Var<T> operator()(Var<T> x) const override;

    Parameter<T> W;
    Parameter<T> b;

    std::vector<Parameter<T>> parameters() const override { return {W, b}; }
    std::size_t n_in() const override;
    std::size_t n_out() const override;
    std::optional<ImageShape> input_image() const override { return spec_.image; }
    std::optional<ImageShape> output_image() const override { return out_; }
    const Conv2dSpec& spec() const { return spec_; }
    Activation activation() const { return activation_; }
    /// "Conv2d 1 -> 32, 3x3, padding 1, relu" (stride shown when not 1).
    std::string describe() const override;
    /// "conv3x3 32x28x28 relu".
    std::string brief() const override;

private:
    Conv2dSpec spec_;
    ImageShape out_;
    Activation activation_;
};

/// A pooling layer: max_pool2d (MaxPool2d) or avg_pool2d (AvgPool2d) of each
/// channel of each image; no parameters. X: C·H·W × m → A: C·Ho·Wo × m, node
/// "A" + label. ShapeError for an impossible spec or windows that do not tile
/// the image (see pool2d_output).
template <class T>
class Pool2d : public Layer<T> {
public:
    enum class Kind { max, average };
    Pool2d(Kind kind, const Pool2dSpec& spec, const std::string& label = "1");

    /// A = maxpool(x) or avgpool(x), built on x's graph. ShapeError when x
    /// does not have C·H·W rows.
    Var<T> operator()(Var<T> x) const override;
    std::vector<Parameter<T>> parameters() const override { return {}; }
    std::size_t n_in() const override;
    std::size_t n_out() const override;
    std::optional<ImageShape> input_image() const override { return spec_.image; }
    std::optional<ImageShape> output_image() const override { return out_; }
    const Pool2dSpec& spec() const { return spec_; }
    Kind kind() const { return kind_; }
    /// "MaxPool2d 2x2" ("…, stride 1" when the stride is not the window).
    std::string describe() const override;
    /// "maxpool2 32x14x14".
    std::string brief() const override;

private:
    Kind kind_;
    Pool2dSpec spec_;
    ImageShape out_;
};

/// Max pooling as a layer: `MaxPool2d<T>(spec, label)`.
template <class T>
class MaxPool2d : public Pool2d<T> {
public:
    explicit MaxPool2d(const Pool2dSpec& spec, const std::string& label = "1")
        : Pool2d<T>(Pool2d<T>::Kind::max, spec, label) {}
};

/// Average pooling as a layer: `AvgPool2d<T>(spec, label)`.
template <class T>
class AvgPool2d : public Pool2d<T> {
public:
    explicit AvgPool2d(const Pool2dSpec& spec, const std::string& label = "1")
        : Pool2d<T>(Pool2d<T>::Kind::average, spec, label) {}
};

// ---- Sequential ------------------------------------------------------------------------

/// Layers applied one after the other: the L-layer network. Layer l (from 1)
/// is labelled l: a Dense or Conv2d layer owns W<l>, b<l>. Build it layer by
/// layer
///
///     xg::Sequential<double> model(/*n_in=*/2, /*seed=*/1);
///     model.add(64, xg::Activation::relu).add(3, xg::Activation::identity, xg::init::xavier());
///
/// or from its sizes, {2, 20, 7, 5, 1}: three relu layers and a sigmoid one;
/// or, for images, from the input image:
///
///     xg::Sequential<float> cnn(xg::ImageShape{1, 28, 28});
///     cnn.add_conv2d(32, 3, xg::Activation::relu, 1, 1).add_max_pool2d(2).add(10, xg::Activation::identity);
///
/// Weights are drawn from one Rng(seed), layer after layer, so the same seed
/// and the same layers give the same network.
///
/// Copies share the layers (and so their Parameters); each copy keeps its
/// own inference graphs (see predict).
template <class T>
class Sequential {
public:
    /// An empty model for inputs of n_in features. ValueError for n_in = 0.
    explicit Sequential(std::size_t n_in, std::uint32_t seed = 1);
    /// An empty model for images (C·H·W rows per column). ValueError for a
    /// zero size or more than 2^32 − 1 values per image.
    explicit Sequential(ImageShape input, std::uint32_t seed = 1);
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

    /// Append a Dense layer of n_out units (n_in = the model's n_out so far;
    /// after image layers, their C·H·W values), labelled with its position
    /// ("W3", "b3"). Returns *this. ValueError for n_out = 0, or when those
    /// names are taken (as for add(layer)).
    Sequential& add(std::size_t n_out, Activation activation, const Initializer& initializer = init::he());
    /// Append a Conv2d layer of `out_channels` k × k kernels over the image
    /// the model gives so far, labelled with its position. ValueError when the
    /// model so far does not give an image (start it with an ImageShape);
    /// ShapeError for an impossible convolution (see conv2d_output).
    Sequential& add_conv2d(std::size_t out_channels, std::size_t kernel, Activation activation, std::size_t stride = 1,
                           std::size_t padding = 0, const Initializer& initializer = init::he());
    /// Append a MaxPool2d / AvgPool2d layer with window × window windows and
    /// `stride` (0: the window, so that windows do not overlap). Errors as
    /// add_conv2d; ShapeError when the windows do not tile the image.
    Sequential& add_max_pool2d(std::size_t window = 2, std::size_t stride = 0);
    Sequential& add_avg_pool2d(std::size_t window = 2, std::size_t stride = 0);
    /// Append a Dropout layer (inverted dropout with `keep_prob`, see
    /// dropout in xgrad/ops.hpp) over the model's output so far, labelled with
    /// its position; it keeps the image shape, if any. ValueError unless
    /// 0 < keep_prob ≤ 1.
    Sequential& add_dropout(double keep_prob);
    /// Append a BatchNorm layer over the model's output so far (γ = 1, β = 0
    /// per row, running averages with `momentum`), then `activation`: the
    /// course's Z̃ = γ ⊙ Ẑ + β, A = g(Z̃) after a Dense layer with identity.
    /// ValueError unless 0 < momentum ≤ 1.
    Sequential& add_batch_norm(Activation activation = Activation::identity, double momentum = 0.1);
    /// Append a LayerNorm layer (γ = 1, β = 0 per row), then `activation`.
    /// ValueError when the model so far gives one row per example.
    Sequential& add_layer_norm(Activation activation = Activation::identity);
    /// Append an existing layer (a copy of it, sharing its Parameters).
    /// ShapeError when its n_in is not the model's n_out, or when it reads an
    /// image of another shape than the model gives; ValueError when one of
    /// its parameter names repeats another layer's (a checkpoint needs
    /// distinct names).
    template <class L, std::enable_if_t<std::is_base_of_v<Layer<T>, L>, int> = 0>
    Sequential& add(const L& layer) {
        return add(std::shared_ptr<const Layer<T>>(std::make_shared<const L>(layer)));
    }
    /// The same for a layer held by pointer (shared, not copied). GraphError
    /// for a null pointer.
    Sequential& add(std::shared_ptr<const Layer<T>> layer);

    /// Apply every layer to x, building the nodes on x's graph; returns the
    /// last layer's output (n_out × m). ShapeError from the first layer when x
    /// does not have n_in rows; ValueError for a model without layers.
    Var<T> operator()(Var<T> x) const;

    /// Forward-only evaluation: the output for the columns of X (n_out × m),
    /// computed in Mode::evaluation (dropout off, batch norm on its running
    /// averages) by an inference graph over the same Parameters, built the
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

    /// Every layer's Parameters in order: {W1, b1, W2, b2, …} — what an
    /// optimiser updates and save_parameters/load_parameters walk over.
    std::vector<Parameter<T>> parameters() const;
    /// Number of trainable numbers (Σ over the layers' Parameters).
    std::size_t parameter_count() const;
    /// What a checkpoint holds: parameters() followed by every layer's
    /// state() (BatchNorm's running averages): pass it to save_parameters and
    /// load_parameters, and a loaded model evaluates as the saved one did.
    std::vector<Parameter<T>> checkpoint_parameters() const;
    /// Number of numbers in the layers' state() (not trained).
    std::size_t state_count() const;

    /// Number of layers (L).
    std::size_t size() const { return layers_.size(); }
    /// Layer i, counted from 0: layer(0) is labelled 1. std::out_of_range
    /// for i ≥ size().
    const Layer<T>& layer(std::size_t i) const { return *layers_.at(i); }
    /// Layer i as a layer of type L (e.g. `layer_as<xg::Conv2d<float>>(0)`).
    /// std::out_of_range for i ≥ size(); ValueError when it is another kind,
    /// naming both.
    template <class L>
    const L& layer_as(std::size_t i) const {
        const L* l = dynamic_cast<const L*>(&layer(i));
        if (l == nullptr) wrong_layer_kind(i);
        return *l;
    }
    /// Layer i as a Dense layer: `model.dense(0).W` is W1 (errors as layer_as).
    const Dense<T>& dense(std::size_t i) const { return layer_as<Dense<T>>(i); }
    const std::vector<std::shared_ptr<const Layer<T>>>& layers() const { return layers_; }
    std::size_t n_in() const { return n_in_; }
    /// The last layer's n_out (n_in for an empty model).
    std::size_t n_out() const;
    /// The input image (for a model built from an ImageShape), else none.
    std::optional<ImageShape> input_image() const { return input_image_; }
    /// The image the model gives so far: the last layer's output image, or the
    /// input image for an empty model; none after a Dense layer.
    std::optional<ImageShape> output_image() const;
    /// "2 -> 64 relu -> 64 relu -> 3 identity (4547 parameters)";
    /// "1x28x28 -> conv3x3 32x28x28 relu -> maxpool2 32x14x14 -> 10 identity (62762 parameters)".
    std::string describe() const;
    /// A table of the layers: position, layer, output shape per example,
    /// parameter count, and the total (Keras's model.summary()); then, when
    /// a layer keeps state, the number of values kept and not trained.
    std::string summary() const;

private:
    struct InferenceGraph;
    std::size_t n_in_;
    std::optional<ImageShape> input_image_;
    Rng rng_;
    std::vector<std::shared_ptr<const Layer<T>>> layers_;
    mutable std::vector<std::unique_ptr<InferenceGraph>> inference_;
    mutable std::uint64_t inference_clock_ = 0;

    InferenceGraph& inference_graph(const Matrix<T>& X) const;
    /// The image the next image layer reads; ValueError naming `who` if none.
    ImageShape image_so_far(const char* who) const;
    [[noreturn]] void wrong_layer_kind(std::size_t i) const;
};

// ---- regularisation and normalisation layers (lib/nn_norm.cpp) ----------------------------

/// Inverted dropout as a layer: A = dropout(X, keep_prob), mask "D" + label,
/// node "A" + label; no parameters. In evaluation mode (Sequential::predict,
/// Graph::set_mode) it is the identity. X: n × m → A: n × m.
template <class T>
class Dropout : public Layer<T> {
public:
    /// For n rows per example (holding `image`, if given). ValueError unless
    /// n ≥ 1 and 0 < keep_prob ≤ 1, or for a bad label.
    Dropout(std::size_t n, double keep_prob, const std::string& label = "1",
            std::optional<ImageShape> image = std::nullopt);
    /// A = dropout(x, keep_prob), built on x's graph. ShapeError when x does
    /// not have n rows.
    Var<T> operator()(Var<T> x) const override;
    std::vector<Parameter<T>> parameters() const override { return {}; }
    std::size_t n_in() const override { return n_; }
    std::size_t n_out() const override { return n_; }
    std::optional<ImageShape> input_image() const override { return image_; }
    std::optional<ImageShape> output_image() const override { return image_; }
    double keep_prob() const { return keep_; }
    /// "Dropout 64, keep_prob 0.8".
    std::string describe() const override;
    /// "dropout 0.8".
    std::string brief() const override;

private:
    std::size_t n_;
    double keep_;
    std::optional<ImageShape> image_;
};

/// Batch normalisation as a layer: Z̃ = batch_norm(X, γ, β, running) (over
/// the columns, see xgrad/ops.hpp), A = g(Z̃). γ = 1 and β = 0 (n × 1) are
/// the trainable "gamma" + label and "beta" + label; the running averages
/// "running_mean" + label, "running_var" + label and "batches" + label are
/// its state() (saved by checkpoints, never trained). Nodes "Z̃" + label and
/// "A" + label; equations name its statistics μ, σ and X̂ + label.
template <class T>
class BatchNorm : public Layer<T> {
public:
    /// For n rows. ValueError unless n ≥ 1, 0 < momentum ≤ 1 and ε > 0 (finite),
    /// or for a bad label.
    BatchNorm(std::size_t n, Activation activation = Activation::identity, double momentum = 0.1,
              double epsilon = 1e-5, const std::string& label = "1");
    /// A = g(batch_norm(x, γ, β, running)), built on x's graph: batch
    /// statistics in training mode, running averages in evaluation.
    Var<T> operator()(Var<T> x) const override;

    Parameter<T> gamma;
    Parameter<T> beta;
    RunningStats<T> running;

    std::vector<Parameter<T>> parameters() const override { return {gamma, beta}; }
    std::vector<Parameter<T>> state() const override { return running.parameters(); }
    std::size_t n_in() const override { return gamma.shape().rows; }
    std::size_t n_out() const override { return gamma.shape().rows; }
    Activation activation() const { return activation_; }
    double epsilon() const { return epsilon_; }
    /// "BatchNorm 64, momentum 0.1, relu".
    std::string describe() const override;
    /// "batchnorm relu".
    std::string brief() const override;

private:
    Activation activation_;
    double epsilon_;
};

/// Layer normalisation as a layer: Z̃ = layer_norm(X, γ, β) (over the rows
/// of each column), A = g(Z̃); γ = 1, β = 0 (n × 1), "gamma" + label and
/// "beta" + label. The same in training and evaluation.
template <class T>
class LayerNorm : public Layer<T> {
public:
    /// For n ≥ 2 rows. ValueError for n < 2, ε not positive and finite, or a bad label.
    LayerNorm(std::size_t n, Activation activation = Activation::identity, double epsilon = 1e-5,
              const std::string& label = "1");
    /// A = g(layer_norm(x, γ, β)), built on x's graph.
    Var<T> operator()(Var<T> x) const override;

    Parameter<T> gamma;
    Parameter<T> beta;

    std::vector<Parameter<T>> parameters() const override { return {gamma, beta}; }
    std::size_t n_in() const override { return gamma.shape().rows; }
    std::size_t n_out() const override { return gamma.shape().rows; }
    Activation activation() const { return activation_; }
    /// "LayerNorm 64, relu".
    std::string describe() const override;
    /// "layernorm relu".
    std::string brief() const override;

private:
    Activation activation_;
    double epsilon_;
};

extern template class Dropout<float>;
extern template class Dropout<double>;
extern template class BatchNorm<float>;
extern template class BatchNorm<double>;
extern template class LayerNorm<float>;
extern template class LayerNorm<double>;
extern template class Layer<float>;
extern template class Layer<double>;
extern template class Dense<float>;
extern template class Dense<double>;
extern template class Conv2d<float>;
extern template class Conv2d<double>;
extern template class Pool2d<float>;
extern template class Pool2d<double>;
extern template class Sequential<float>;
extern template class Sequential<double>;
extern template Matrix<float> initial_weights(const Initializer&, std::size_t, std::size_t, Rng&);
extern template Matrix<double> initial_weights(const Initializer&, std::size_t, std::size_t, Rng&);
extern template Var<float> activate(Var<float>, Activation);
extern template Var<double> activate(Var<double>, Activation);

}  // namespace xg

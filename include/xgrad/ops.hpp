// xgrad — the built-in ops as functions on Vars. Each builds one node, checks
// shapes at once (ShapeError naming the op, the nodes and their shapes) and
// computes its value. Shapes: examples are columns, so X is n × m.
//
// In the formulas below g is the gradient arriving at the op's output Y, and
// "dX =" is the gradient the op sends to its input X. docs/ops.md has the
// same table with the equations each op prints.
//
// NaN goes through every op as IEEE arithmetic takes it: the output entries
// and the gradient entries whose formula reads a NaN are NaN (relu(NaN) and
// its gradient too). Only labels, class indices and the probabilities of
// binary_cross_entropy refuse a NaN, with a ValueError that names the entry.
#pragma once

#include <initializer_list>

#include "xgrad/graph.hpp"

namespace xg {

/// C = A · B (BLAS gemm). A: n × k, B: k × m → C: n × m.
/// dA = g · Bᵀ, dB = Aᵀ · g. ShapeError when the inner dimensions differ.
template <class T>
Var<T> matmul(Var<T> a, Var<T> b);

/// C = A + B with 2-D broadcasting: each dimension equal, or 1 (a bias n × 1
/// is added to every column, a row 1 × m to every row, a 1 × 1 to everything).
/// dA = g, dB = g, summed over the stretched axes with keepdims (db = Σ_columns g).
template <class T>
Var<T> add(Var<T> a, Var<T> b);

/// A + B is add(A, B).
template <class T>
Var<T> operator+(Var<T> a, Var<T> b) { return add(a, b); }

/// y = σ(x) = 1 / (1 + e^−x), elementwise. dx = g ⊙ y ⊙ (1 − y).
template <class T>
Var<T> sigmoid(Var<T> x);

/// y = tanh(x), elementwise. dx = g ⊙ (1 − y²).
template <class T>
Var<T> tanh(Var<T> x);

/// J = −(1/m) Σ [Y log A + (1 − Y) log(1 − A)], summed over every entry of
/// the n × m prediction A and divided by its m columns; a 1 × 1 node.
/// Y has A's shape with labels in [0, 1] (ValueError otherwise, for a NaN
/// too, checked on every forward). When A = sigmoid(Z) the loss is evaluated
/// from the logits Z (finite for |Z| in the thousands) and the gradient goes
/// straight to Z: dZ = g · (A − Y) / m, never dividing by A(1 − A); messages
/// still name the two operands passed, "binary_cross_entropy(A, Y)".
/// Otherwise A must lie in the open interval (0, 1) (ValueError, for a NaN
/// too), and dA = g · (A − Y) / (A (1 − A) m).
template <class T>
Var<T> binary_cross_entropy(Var<T> a, Var<T> y);

/// The same loss written with the logits: J = BCE(σ(Z), Y), dZ = g · (σ(Z) − Y) / m.
template <class T>
Var<T> binary_cross_entropy_with_logits(Var<T> z, Var<T> y);

// ---- elementwise arithmetic (lib/ops_elementwise.cpp) -----------------------
// Binary ops broadcast like add: each dimension equal, or 1. The gradient of a
// broadcast operand is summed back over its stretched axes (keepdims).
// ShapeError "cannot broadcast" otherwise: "sub(A, B): cannot broadcast (each
// dimension must be equal, or 1): A [4x3], B [2x3]".

/// C = A − B (broadcast). dA = g, dB = −g.
template <class T>
Var<T> sub(Var<T> a, Var<T> b);

/// C = A ⊙ B, the elementwise (Hadamard) product, broadcast. dA = g ⊙ B,
/// dB = g ⊙ A. For the matrix product use matmul.
template <class T>
Var<T> mul(Var<T> a, Var<T> b);

/// C = A / B elementwise, broadcast. dA = g / B, dB = −g ⊙ A / B².
/// ValueError when an entry of B is 0 (checked on every forward).
template <class T>
Var<T> div(Var<T> a, Var<T> b);

/// Y = −X. dX = −g.
template <class T>
Var<T> neg(Var<T> x);

/// A − B is sub(A, B).
template <class T>
Var<T> operator-(Var<T> a, Var<T> b) { return sub(a, b); }
/// A * B is elementwise, as in xtensor and numpy; matmul(A, B) is the matrix product.
template <class T>
Var<T> operator*(Var<T> a, Var<T> b) { return mul(a, b); }
/// A / B is div(A, B), elementwise.
template <class T>
Var<T> operator/(Var<T> a, Var<T> b) { return div(a, b); }
/// −X is neg(X).
template <class T>
Var<T> operator-(Var<T> x) { return neg(x); }

namespace detail {
/// The forms of a matrix-and-number op, named for the side the number s is
/// on (see the operators below); each is also the op's name.
enum class ScalarKind {
    x_plus_s,    ///< X + s (and s + X)
    x_minus_s,   ///< X − s
    s_minus_x,   ///< s − X
    s_times_x,   ///< s X (and X s)
    x_over_s,    ///< X / s
    s_over_x,    ///< s / X
};
template <class T>
Var<T> scalar_op(Var<T> x, ScalarKind kind, double s);
}  // namespace detail

// A matrix and a number: `2.0 * A`, `A / m`, `1.0 - A`, `A + 1.0`, `-A`, for
// float and double graphs alike (the number is a double, stored in the op;
// equations print it: "2 A", "A / 400", "1 − A"). The op is named for the
// side the number is on: x_plus_s, x_minus_s, s_minus_x, s_times_x,
// x_over_s, s_over_x (the name messages use: "x_over_s(A): division by zero").
// ValueError at build when s is not finite.
//   X + s, s + X, X − s:  dX = g       s − X:  dX = −g
//   s X, X s:             dX = s g     X / s:  dX = g / s (ValueError at build when s = 0)
//   s / X:                dX = −s g / X²  (ValueError when an entry of X is 0)

template <class T>
Var<T> operator+(Var<T> x, double s) { return detail::scalar_op(x, detail::ScalarKind::x_plus_s, s); }
template <class T>
Var<T> operator+(double s, Var<T> x) { return detail::scalar_op(x, detail::ScalarKind::x_plus_s, s); }
template <class T>
Var<T> operator-(Var<T> x, double s) { return detail::scalar_op(x, detail::ScalarKind::x_minus_s, s); }
template <class T>
Var<T> operator-(double s, Var<T> x) { return detail::scalar_op(x, detail::ScalarKind::s_minus_x, s); }
template <class T>
Var<T> operator*(double s, Var<T> x) { return detail::scalar_op(x, detail::ScalarKind::s_times_x, s); }
template <class T>
Var<T> operator*(Var<T> x, double s) { return detail::scalar_op(x, detail::ScalarKind::s_times_x, s); }
template <class T>
Var<T> operator/(Var<T> x, double s) { return detail::scalar_op(x, detail::ScalarKind::x_over_s, s); }
template <class T>
Var<T> operator/(double s, Var<T> x) { return detail::scalar_op(x, detail::ScalarKind::s_over_x, s); }

// ---- elementwise functions (lib/ops_unary.cpp) ------------------------------

/// Y = eˣ elementwise. dX = g ⊙ Y.
template <class T>
Var<T> exp(Var<T> x);

/// Y = log x (natural) elementwise. dX = g / X.
/// ValueError when an entry is 0 or negative (checked on every forward).
template <class T>
Var<T> log(Var<T> x);

/// Y = X² elementwise. dX = 2 g ⊙ X.
template <class T>
Var<T> square(Var<T> x);

/// Y = Xᵖ elementwise, p a number. dX = p g ⊙ Xᵖ⁻¹.
/// ValueError (on every forward) for a negative entry when p is not an
/// integer, and for a zero entry when p < 0.
template <class T>
Var<T> pow(Var<T> x, double p);

/// Y = √X elementwise. dX = g / (2 Y).
/// ValueError when an entry is negative (checked on every forward); at 0 the
/// value is 0 and the gradient infinite.
template <class T>
Var<T> sqrt(Var<T> x);

/// Y = |X| elementwise. dX = g ⊙ sign(X), with sign(0) = 0 (a subgradient).
template <class T>
Var<T> abs(Var<T> x);

// ---- activations (lib/ops_activation.cpp) -----------------------------------

/// Y = max(X, 0) elementwise. dX = g ⊙ step(X), step(x) = 1 for x > 0 and 0
/// for x ≤ 0 (so the gradient at exactly 0 is 0).
template <class T>
Var<T> relu(Var<T> x);

/// Y = X for X > 0, α X otherwise. dX = g ⊙ (α + (1 − α) step(X)).
/// ValueError at build when α is not finite.
template <class T>
Var<T> leaky_relu(Var<T> x, double alpha = 0.01);

/// Y = log(1 + eˣ) elementwise, evaluated without overflow. dX = g ⊙ σ(X).
template <class T>
Var<T> softplus(Var<T> x);

// ---- softmax (lib/ops_softmax.cpp) ------------------------------------------

/// Softmax over each column (each example): Y(i, j) = e^X(i, j) / Σₖ e^X(k, j),
/// evaluated stably (the column maximum is subtracted first), so every column
/// of Y is a probability distribution. X: K × m (K classes) → Y: K × m.
/// dX = Y ⊙ (g − Σ_rows (g ⊙ Y)), the sum taken over each column (1 × m,
/// broadcast back down the rows).
template <class T>
Var<T> softmax(Var<T> x);

/// Softmax cross-entropy from the logits Z (K classes × m examples), a 1 × 1 node:
///   J = −(1/m) Σ Y ⊙ log softmax(Z)      dZ = g (softmax(Z) − Y) / m
/// The labels are either
///   - one-hot (or probabilities): Y of Z's shape, entries in [0, 1], each
///     column summing to 1 (within 1e-9 in double, 1e-3 in float); or
///   - class indices: y of shape 1 × m, each an integer in {0, …, K − 1},
///     standing for the one-hot Y with Y(y_j, j) = 1.
/// A label of Z's shape is read as one-hot, so with K = 1 use one-hot labels.
/// Evaluated as J = (1/m) Σ_j [logsumexp(Z(:, j)) − Σ_i Y(i, j) Z(i, j)]:
/// finite for logits of any finite size (±1e6 included). The labels get no
/// gradient. ShapeError for any other label shape; ValueError naming the
/// first bad label (checked on every forward); GraphError when Z is itself the
/// output of softmax (pass the logits: the loss applies the softmax).
template <class T>
Var<T> softmax_cross_entropy(Var<T> z, Var<T> labels);

// ---- losses (lib/ops_loss.cpp) ----------------------------------------------

/// J = (1/m) Σ (A − Y)², summed over every entry of the n × m prediction A and
/// divided by its m columns (the number of examples), as the cross-entropies
/// are; a 1 × 1 node. dA = 2 g (A − Y) / m, dY = −2 g (A − Y) / m.
/// ShapeError unless Y has A's shape.
template <class T>
Var<T> mean_squared_error(Var<T> a, Var<T> y);

// ---- reductions (lib/ops_reduce.cpp) ----------------------------------------

/// Which axis a reduction runs over, named for what is summed: over_rows sums
/// over the rows (down each column, numpy axis 0) and leaves one row, 1 × m;
/// over_cols sums over the columns (along each row, numpy axis 1) and leaves
/// one column, n × 1 — as equations print them, Σ_rows and Σ_columns.
/// xgrad values are always 2-D, so a reduced axis is kept with size 1
/// (numpy's keepdims=True, the only form there is): the result broadcasts
/// straight back against its input (X − mean(X, Axis::over_cols)).
enum class Axis {
    all,        ///< over every entry: n × m → 1 × 1
    over_rows,  ///< over the rows, axis 0 (down each column): n × m → 1 × m
    over_cols,  ///< over the columns, axis 1 (along each row): n × m → n × 1
    /// The former name of over_rows (the same value).
    rows [[deprecated("Axis::rows is Axis::over_rows: it sums over the rows, giving 1 x m")]] = over_rows,
    /// The former name of over_cols (the same value).
    cols [[deprecated("Axis::cols is Axis::over_cols: it sums over the columns, giving n x 1")]] = over_cols,
};

/// Y = Σ X over `axis` (see Axis for the result shapes; Σ_columns dZ is the
/// n × 1 db of a layer). dX = g broadcast back to X's shape.
template <class T>
Var<T> sum(Var<T> x, Axis axis = Axis::all);

/// Y = mean of X over `axis`: Σ X / N with N = n m (all), n (over_rows), m (over_cols).
/// dX = g / N broadcast back to X's shape.
template <class T>
Var<T> mean(Var<T> x, Axis axis = Axis::all);

// ---- structure (lib/ops_shape.cpp) ------------------------------------------

/// Y = Xᵀ: n × m → m × n. dX = gᵀ.
template <class T>
Var<T> transpose(Var<T> x);

/// Y = X, but no gradient flows back to X (stop_gradient): the node's value is
/// used as a constant by everything after it. The op's differentiable(0) is
/// false, so if no other path needs them, nothing before it is differentiated.
template <class T>
Var<T> detach(Var<T> x);

// ---- images: convolution and pooling (lib/ops_conv.cpp, lib/ops_pool.cpp) --
// An image batch is a matrix with one column per image: its C·H·W values in
// channel-row-column order down the column (entry (c·H + h)·W + w), so X is
// C·H·W × m. The image shape is an attribute of the op, checked against the
// row count; flattening an image batch for a dense layer is the identity.
// Kernels, windows, strides and padding are square (the same along rows and
// columns). Every geometry mistake is a ShapeError at build that names the
// op, the nodes, the image shape and the arithmetic:
// "conv2d(X, K): X has 785 rows, but C·H·W = 1·28·28 = 784: X [785x5], K [4x9]".

/// The shape of one image: C channels of H rows and W columns.
struct ImageShape {
    std::size_t channels = 1;
    std::size_t height = 1;
    std::size_t width = 1;
};

/// How conv2d computes its products. Both give the same function to
/// rounding (within a few units in the last place of the largest output);
/// the formulas explain prints are the same.
enum class ConvAlgorithm {
    /// Winograd for 3 × 3 kernels of stride 1 with at least 16 input and
    /// 16 output channels, where it is the faster one; im2col otherwise.
    automatic,
    /// im2col and one gemm over the whole batch (any kernel and stride).
    im2col,
    /// Winograd's F(2×2, 3×3): 2 × 2 output tiles from 4 × 4 input patches,
    /// 16 gemms of Kout × C × (tiles·m), 2.25 × fewer multiply-adds than
    /// im2col; the backward pass is its exact adjoint. Only for a 3 × 3
    /// kernel and stride 1 (a ShapeError otherwise). A pass whose output or
    /// incoming gradient is not entirely finite is recomputed by im2col, so
    /// that NaN and ±Inf land where the formulas put them.
    winograd,
};

/// A convolution's attributes: the input image shape, the kernel size k
/// (k × k), the stride and the zero padding added on every side
/// (0 ≤ padding < kernel), and how to compute it. The output image is
/// Kout × Ho × Wo with Ho = ⌊(H + 2·padding − k) / stride⌋ + 1 (and Wo
/// alike): as in PyTorch, rows and columns a stride does not reach at the
/// bottom and right are not read.
struct Conv2dSpec {
    ImageShape image;
    std::size_t kernel = 3;
    std::size_t stride = 1;
    std::size_t padding = 0;
    ConvAlgorithm algorithm = ConvAlgorithm::automatic;
};

/// A pooling's attributes: the input image shape, the window size (window ×
/// window) and the stride. The windows must tile the image: (H − window) and
/// (W − window) multiples of the stride (a ShapeError otherwise, nothing is
/// dropped silently). Output: C × Ho × Wo, Ho = (H − window) / stride + 1.
struct Pool2dSpec {
    ImageShape image;
    std::size_t window = 2;
    std::size_t stride = 2;
};

/// The output image shape of a convolution with `out_channels` kernels, or of
/// a pooling (out_channels = C). ShapeError when the spec is impossible
/// (a zero size or stride, a kernel larger than the padded image, padding ≥
/// kernel, windows that do not tile the image).
ImageShape conv2d_output(const Conv2dSpec& spec, std::size_t out_channels);
/// The output image shape of a pooling; see conv2d_output.
ImageShape pool2d_output(const Pool2dSpec& spec);

/// 2-D convolution (cross-correlation, as in PyTorch) of an image batch.
/// X: C·H·W × m; K: Kout × C·k·k, one kernel per row, its entries in
/// channel-row-column order; Y: Kout·Ho·Wo × m in the same layout.
///   Y = img(K · im2col(X))          forward: one gemm over the whole batch
///   dK = img⁻¹(dY) · im2col(X)ᵀ     dX = col2im(Kᵀ · img⁻¹(dY))  (the transposed convolution)
/// im2col(X) is C·k·k × Ho·Wo·m (column (p, j) holds the patch under output
/// pixel p of image j); img reads a Kout × Ho·Wo·m matrix as the image batch
/// Kout·Ho·Wo × m (the same memory); col2im adds each column back onto the
/// pixels its patch came from (a band of output rows at a time, so no
/// C·k·k × Ho·Wo·m buffer for dX). The im2col buffer is kept by the node
/// between replays. With spec.algorithm (ConvAlgorithm) Winograd's
/// F(2×2, 3×3) computes the same function with 2.25 × fewer multiply-adds
/// for 3 × 3 kernels of stride 1; `automatic` picks it where it is faster.
/// ShapeError for a bad spec, X with other than C·H·W rows, K with
/// other than C·k·k columns, Winograd asked for another kernel or stride.
template <class T>
Var<T> conv2d(Var<T> x, Var<T> k, Conv2dSpec spec);

/// Convolution plus a bias per output channel, b: Kout × 1, added to every
/// pixel of channel k of every image (one node: Y starts as b and the gemm
/// adds K · im2col(X) onto it; the adjoint gemm gives dK and db together):
///   Y = img(K · im2col(X) + b)      db = Σ_columns img⁻¹(dY)
/// and dK, dX as for conv2d(x, k, spec). ShapeError unless b is Kout × 1.
template <class T>
Var<T> conv2d(Var<T> x, Var<T> k, Var<T> b, Conv2dSpec spec);

/// Max pooling over each window of each channel of each image.
/// X: C·H·W × m → Y: C·Ho·Wo × m.   Y = maxpool(X)   dX = unpool_max(dY):
/// each gradient entry goes to the arg-max of its window in X, the first
/// maximum in row-major window order when several entries tie (a NaN counts
/// as the maximum: a window holding one gives NaN, and its first NaN takes
/// the gradient); overlapping windows add up. ShapeError for a bad spec or
/// windows that do not tile the image.
template <class T>
Var<T> max_pool2d(Var<T> x, Pool2dSpec spec);

/// Average pooling: Y = avgpool(X), the mean of each window.
/// dX = unpool_avg(dY): each gradient entry spread evenly over its window
/// (dY / window²); overlapping windows add up. Errors as max_pool2d.
template <class T>
Var<T> avg_pool2d(Var<T> x, Pool2dSpec spec);

// ---- regularisation and normalisation (lib/ops_dropout.cpp, lib/ops_norm.cpp,
// lib/ops_penalty.cpp) -------------------------------------------------------
// The ops of the course after the two-layer network: inverted dropout, the L2
// penalty, batch normalisation over the examples and layer normalisation over
// the features. Dropout and batch_norm behave differently in training and in
// evaluation (Graph::set_mode); docs/regularisation.md walks through all four.

/// Inverted dropout, as the course writes it:
///   training:    D = (U < keep_prob), U uniform in [0, 1) drawn per entry
///                from the graph's generator (Graph::seed, Graph::rng), row by row;
///                Y = D ⊙ X / keep_prob        dX = D ⊙ dY / keep_prob
///   evaluation:  Y = X                        dX = dY   (no mask is drawn)
/// Each training build and forward() draws a new mask (the same seed gives
/// the same masks), except while the graph holds its random state
/// (Graph::hold_random_state), when the mask drawn last is kept. Equations
/// print the mask as `mask` ("D1") and the probability as keep_prob.
/// ValueError at build unless 0 < keep_prob ≤ 1.
template <class T>
Var<T> dropout(Var<T> x, double keep_prob, const std::string& mask = "D");

/// The mask D (entries 0 or 1, the input's shape) that the dropout node drew
/// for its last training build or forward(). GraphError for a node that is
/// not a dropout node, or whose last forward ran in evaluation mode (no mask).
template <class T>
Matrix<T> dropout_mask(Var<T> node);

/// What a batch_norm keeps for evaluation: the running averages of the batch
/// mean and (biased) variance of each row, updated on each training build and
/// forward() (not while the graph holds its random state):
///   the first batch:  mean = μ,   variance = σ²
///   after that:       mean ← (1 − momentum) mean + momentum μ   (variance alike)
/// They are Parameters (copies share them) so that save_parameters and
/// load_parameters carry them; no optimiser should update them.
template <class T>
struct RunningStats {
    /// No storage (batch_norm with it refuses evaluation mode).
    RunningStats() = default;
    /// For n rows: mean 0, variance 1, `batches` 0 (no statistics yet); the
    /// Parameters are named "running_mean" + suffix, "running_var" + suffix and
    /// "batches" + suffix. ValueError unless n ≥ 1 and 0 < momentum ≤ 1.
    explicit RunningStats(std::size_t n, double momentum = 0.1, const std::string& suffix = "");

    Parameter<T> mean;      ///< n × 1
    Parameter<T> variance;  ///< n × 1, biased (the mean of (x − μ)² over the batch)
    Parameter<T> batches;   ///< 1 × 1: how many batches the averages hold (0: none yet)
    double momentum = 0.1;

    /// {mean, variance, batches}: what a checkpoint saves.
    std::vector<Parameter<T>> parameters() const { return {mean, variance, batches}; }
};

/// Batch normalisation over the examples (the columns) of X: n × m, with a
/// learnable scale γ and shift β per row (n × 1 each):
///   μ = (1/m) Σ_columns X,  σ = √((1/m) Σ_columns (X − μ)² + ε),  X̂ = (X − μ) / σ
///   Y = γ ⊙ X̂ + β
///   dX = (1/m) γ / σ ⊙ (m dY − Σ_columns dY − X̂ ⊙ Σ_columns (dY ⊙ X̂))
///   dγ = Σ_columns (dY ⊙ X̂)      dβ = Σ_columns dY
/// In training μ and σ are the batch's; a batch of one column has variance 0
/// (Y would be β whatever X is), so training refuses it with a ValueError.
/// Without running averages (this form) evaluation mode is refused
/// (ValueError): use the form with RunningStats. ShapeError unless γ and β
/// are n × 1; ValueError for ε not positive and finite. `label` is appended
/// to μ, σ and X̂ in equations.
template <class T>
Var<T> batch_norm(Var<T> x, Var<T> gamma, Var<T> beta, double epsilon = 1e-5, const std::string& label = "");

/// The same, keeping running averages in `running` (which must have X's n
/// rows, a ShapeError otherwise): a training build or forward() updates them,
/// and evaluation mode normalises with them,
///   Y = γ ⊙ (X − mean) / √(variance + ε) + β     dX = γ / √(variance + ε) ⊙ dY,
/// any number of columns. ValueError in evaluation before any training batch
/// was averaged (batches = 0), and for a RunningStats without storage.
template <class T>
Var<T> batch_norm(Var<T> x, Var<T> gamma, Var<T> beta, RunningStats<T> running, double epsilon = 1e-5,
                  const std::string& label = "");

/// Layer normalisation over the features (the rows) of each example (column)
/// of X: n × m, with γ and β per row (n × 1 each); the same in training and
/// in evaluation:
///   μ = (1/n) Σ_rows X,  σ = √((1/n) Σ_rows (X − μ)² + ε)  (1 × m each),  X̂ = (X − μ) / σ
///   Y = γ ⊙ X̂ + β
///   dX = (1/n) (n γ ⊙ dY − Σ_rows (γ ⊙ dY) − X̂ ⊙ Σ_rows (γ ⊙ dY ⊙ X̂)) / σ
///   dγ = Σ_columns (dY ⊙ X̂)      dβ = Σ_columns dY
/// ShapeError for X of one row (its variance is 0) or γ, β not n × 1;
/// ValueError for ε not positive and finite.
template <class T>
Var<T> layer_norm(Var<T> x, Var<T> gamma, Var<T> beta, double epsilon = 1e-5, const std::string& label = "");

/// The L2 penalty of the course, a 1 × 1 node to add to the cost:
///   J_L2 = (λ / 2m) Σ_l ‖W_l‖²  (every entry of every W_l squared)
///   dW_l = (λ / m) W_l          (so dW = … + (λ/m) W, as explain prints)
/// m is the number of columns (examples) of x, read on every forward, so
/// the penalty follows the batch; x gets no gradient. ValueError for no
/// weights, or λ negative or not finite; GraphError for a node of another
/// graph.
template <class T>
Var<T> l2_penalty(Var<T> x, const std::vector<Var<T>>& weights, double lambda);

/// The same over Parameters, each of which must have a leaf in x's graph:
/// GraphError naming the parameter otherwise (nothing is added to the graph).
template <class T>
Var<T> l2_penalty(Var<T> x, const std::vector<Parameter<T>>& weights, double lambda);
// ---- sequences: slices, joins, embeddings (lib/ops_sequence.cpp) ------------
// A sequence is a list of nodes, one per time step, x⟨t⟩ of n_x × m (examples
// are columns). Ranges are numpy's: 0-based, `end` excluded, so rows(X, 1, 3)
// is X[1:3, :], rows 1 and 2. Every mistake is a ShapeError at build naming
// the op, the nodes and their shapes: an empty or reversed range, one past
// the node's edge, nodes to join whose other dimension differs.

/// Y = X[begin:end, :], rows begin … end − 1 of X: n × m → (end − begin) × m.
/// dX = pad_rows[begin:end](dY): dY in those rows, zeros in the others (added
/// onto X's gradient when X has other consumers). ShapeError unless
/// begin < end ≤ n.
template <class T>
Var<T> rows(Var<T> x, std::size_t begin, std::size_t end);

/// Y = X[:, begin:end], columns begin … end − 1 of X: n × m → n × (end − begin)
/// (a slice of the examples, or one time step of a sequence laid side by side).
/// dX = pad_columns[begin:end](dY). ShapeError unless begin < end ≤ m.
template <class T>
Var<T> columns(Var<T> x, std::size_t begin, std::size_t end);

/// Y = [A; B; …]: the parts stacked top to bottom, each with the same number of
/// columns (r_A + r_B + … rows). The adjoint splits the gradient:
/// dA = dY[rows of A], dB = dY[rows of B], …. ShapeError when the columns
/// differ; GraphError for an empty list. Call it with a std::vector of
/// nodes, a braced list — xg::concat_rows({a, b, c}), qualified, since
/// argument-dependent lookup does not look into a braced list — or as
/// concat_rows(a, b).
template <class T>
Var<T> concat_rows(const std::vector<Var<T>>& parts);

/// The same for a braced list: xg::concat_rows({a, b, c}).
template <class T>
Var<T> concat_rows(std::initializer_list<Var<T>> parts);

/// concat_rows({a, b}).
template <class T>
Var<T> concat_rows(Var<T> a, Var<T> b);

/// Y = [A B …]: the parts side by side, left to right, each with the same
/// number of rows (m_A + m_B + … columns): the T steps of a sequence as one
/// matrix for a single dense layer. dA = dY[:, columns of A], ….
/// ShapeError when the rows differ; GraphError for an empty list.
template <class T>
Var<T> concat_columns(const std::vector<Var<T>>& parts);

/// The same for a braced list: xg::concat_columns({a, b, c}).
template <class T>
Var<T> concat_columns(std::initializer_list<Var<T>> parts);

/// concat_columns({a, b}).
template <class T>
Var<T> concat_columns(Var<T> a, Var<T> b);

/// The embedding lookup Y = E · onehot(ids) = E[:, ids]: E is d × V (one
/// column per token of a vocabulary of V), ids a 1 × m row of token indices
/// (integers 0 … V − 1, as class indices are given), Y is d × m, column j the
/// column ids_j of E. dE = dY · onehot(ids)ᵀ, computed as a scatter-add of
/// dY's columns onto E's (a repeated id adds up) in O(d·m); when the sweep
/// overwrites E's gradient it clears only the columns the last sweep wrote
/// (Parameter::grad_columns), or all d × V entries once after any other
/// write to that gradient. The ids get no
/// gradient. ShapeError unless ids is one row; ValueError naming the position
/// and the value of an id that is not an integer in [0, V), or NaN (checked on
/// every forward, so set_value(ids, …) with a bad id fails at the next forward()).
template <class T>
Var<T> embedding(Var<T> e, Var<T> ids);

}  // namespace xg

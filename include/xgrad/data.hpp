// xgrad — data: classic 2-D toy sets (seeded), a user's X/Y from files with
// every check a training run needs, train/test splits, one-hot labels, and a
// mini-batch iterator.
//
// Conventions: examples are columns. X is n_x × m; labels Y are one row of
// class indices, 1 × m (for two classes, the 0/1 labels binary
// cross-entropy takes); one_hot turns them into K × m.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "xgrad/error.hpp"
#include "xgrad/random.hpp"
#include "xgrad/tensor.hpp"

namespace xg {

/// Examples X (n_x × m, one per column) with their labels Y (1 × m class
/// indices 0 … classes−1).
template <class T>
struct Dataset {
    Matrix<T> X;              ///< n_x × m, one example per column
    Matrix<T> Y;              ///< 1 × m class indices
    std::size_t classes = 2;  ///< the number of classes K

    /// m, the number of examples.
    std::size_t size() const { return X.shape()[1]; }
    /// n_x, the number of features.
    std::size_t features() const { return X.shape()[0]; }
};

// ---- generators (same seed, same data, on every platform) -------------------

/// The planar "flower": m points in 2-D, the first m/2 of class 0, the rest
/// of class 1. For class j: angles t = linspace(3.12 j, 3.12 (j+1)) + N(0, noise²),
/// radius r = 4 sin(4t) + N(0, noise²), point (r sin t, r cos t). With the
/// defaults it is exactly the lecture's data set (numpy, np.random.seed(1)),
/// on which logistic regression reaches about 47% and a 4-unit tanh layer 90%.
template <class T = double>
Dataset<T> flower(std::size_t m = 400, std::uint32_t seed = 1, double noise = 0.2);

/// Two interleaving half circles (the shapes of scikit-learn's make_moons):
/// class 0 on (cos s, sin s), class 1 on (1 − cos s, 0.5 − sin s), s ∈ [0, π],
/// plus N(0, noise²) on each coordinate.
template <class T = double>
Dataset<T> moons(std::size_t m = 400, std::uint32_t seed = 1, double noise = 0.2);

/// Two concentric circles: class 0 of radius 1, class 1 of radius `factor`,
/// plus N(0, noise²) on each coordinate.
template <class T = double>
Dataset<T> circles(std::size_t m = 400, std::uint32_t seed = 1, double noise = 0.1, double factor = 0.5);

/// `classes` interleaved spiral arms: for class j, radius r = linspace(0, 1),
/// angle t = linspace(4j, 4(j+1)) + N(0, noise²), point (r sin t, r cos t).
template <class T = double>
Dataset<T> spirals(std::size_t m = 300, std::size_t classes = 3, std::uint32_t seed = 1, double noise = 0.2);

/// `classes` Gaussian blobs of standard deviation `spread` around centres
/// spaced evenly on a circle of radius 3.
template <class T = double>
Dataset<T> blobs(std::size_t m = 300, std::size_t classes = 3, std::uint32_t seed = 1, double spread = 0.6);

// ---- labels and splits -----------------------------------------------------------

/// K × m one-hot matrix of 1 × m class indices: out(k, j) = 1 if labels(0, j) = k.
/// ShapeError unless labels is one row; ValueError for an index that is not
/// an integer in [0, classes).
template <class T>
Matrix<T> one_hot(const Matrix<T>& labels, std::size_t classes);

/// 1 × m index of the largest entry of each column of a K × m matrix
/// (scores or probabilities; a one-hot matrix gives back its labels).
template <class T>
Matrix<T> argmax_classes(const Matrix<T>& scores);

/// Split the examples at random: round(m · test_fraction) go to the second
/// (test) set, the rest to the first, each set in the order of
/// Rng(seed).permutation(m). ValueError unless both sets get examples.
template <class T>
std::pair<Dataset<T>, Dataset<T>> train_test_split(const Dataset<T>& data, double test_fraction,
                                                   std::uint32_t seed = 0);

// ---- a user's data ------------------------------------------------------------------

/// Load X (n_x × m) and its labels Y (1 × m) from .npy or CSV files (by
/// extension, see load_matrix) and check them: IoError for a missing or
/// malformed file, ShapeError when X has no examples, Y is not one row, or
/// the counts of examples differ; ValueError for a non-finite value in X or
/// a label that is not an integer in [0, classes). Messages name the file.
template <class T>
Dataset<T> load_dataset(const std::string& x_path, const std::string& y_path, std::size_t classes = 2);

// ---- mini-batches ---------------------------------------------------------------------

/// Walks over the columns of X and Y in batches of `batch_size`, in a new
/// random order each epoch (Rng(seed).permutation(m), then the next
/// permutation of the same generator; or in order when `shuffle` is false).
/// The last batch of an epoch holds the m mod batch_size examples left over.
///
///     xg::MiniBatches<double> batches(X, Y, 64, seed);
///     for (int epoch = 0; epoch < 10; ++epoch)
///         while (batches.next(Xb, Yb)) { ... }
///
/// Holds references to X and Y: they must outlive the iterator.
template <class T>
class MiniBatches {
public:
    /// ShapeError when X and Y have different numbers of columns or none;
    /// ValueError for a batch size of 0.
    MiniBatches(const Matrix<T>& X, const Matrix<T>& Y, std::size_t batch_size, std::uint32_t seed = 0,
                bool shuffle = true);
    MiniBatches(Matrix<T>&&, const Matrix<T>&, std::size_t, std::uint32_t = 0, bool = true) = delete;
    MiniBatches(const Matrix<T>&, Matrix<T>&&, std::size_t, std::uint32_t = 0, bool = true) = delete;
    MiniBatches(Matrix<T>&&, Matrix<T>&&, std::size_t, std::uint32_t = 0, bool = true) = delete;

    /// Copy the next batch's columns into Xb (n_x × b) and Yb (n_y × b),
    /// resizing them only when b changes, and return true; at the end of an
    /// epoch return false without copying, and start the next epoch.
    bool next(Matrix<T>& Xb, Matrix<T>& Yb);

    /// m, the number of examples.
    std::size_t examples() const { return m_; }
    /// The batch size (the last batch of an epoch may be smaller).
    std::size_t batch_size() const { return batch_; }
    /// Batches per epoch: ⌈m / batch_size⌉.
    std::size_t batches() const { return (m_ + batch_ - 1) / batch_; }
    /// Epochs completed so far.
    std::size_t epoch() const { return epoch_; }
    /// The order of the examples in the current epoch.
    const std::vector<std::size_t>& order() const { return order_; }

private:
    const Matrix<T>& X_;
    const Matrix<T>& Y_;
    std::size_t m_, batch_;
    bool shuffle_;
    Rng rng_;
    std::vector<std::size_t> order_;
    std::size_t pos_ = 0, epoch_ = 0;

    void start_epoch();
};

extern template class MiniBatches<float>;
extern template class MiniBatches<double>;

}  // namespace xg

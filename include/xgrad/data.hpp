// xgrad — data: classic 2-D toy sets (seeded), Fashion-MNIST (Debian's
// dataset-fashion-mnist), a user's X/Y from files with every check a
// training run needs, train/test splits, one-hot labels, and mini-batches
// (an epoch at a time, each example once).
//
// Conventions: examples are columns. X is n_x × m; labels Y are one row of
// class indices, 1 × m (for two classes, the 0/1 labels binary
// cross-entropy takes); one_hot turns them into K × m.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "xgrad/error.hpp"
#include "xgrad/graph.hpp"
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

/// X[:, begin:end]: columns begin … end − 1 of a plain matrix (examples
/// begin … end − 1), copied. ShapeError for an empty or reversed range, or
/// one past X's columns, naming the range and X's shape. (On a node of a
/// graph, columns(x, begin, end) of xgrad/ops.hpp is the op.)
template <class T>
Matrix<T> columns_of(const Matrix<T>& X, std::size_t begin, std::size_t end);

/// Examples begin … end − 1 of a data set: those columns of X and of Y.
/// ShapeError as columns_of.
template <class T>
Dataset<T> examples(const Dataset<T>& data, std::size_t begin, std::size_t end);

/// The examples in a random order, that of Rng(seed).permutation(m)
/// (numpy's np.random.permutation), the columns of X and Y alike.
template <class T>
Dataset<T> shuffled(const Dataset<T>& data, std::uint32_t seed = 0);

// ---- a user's data ------------------------------------------------------------------

/// Load X (n_x × m) and its labels Y (1 × m) from .npy or CSV files (by
/// extension, see load_matrix) and check them: IoError for a missing or
/// malformed file, ShapeError when X has no examples, Y is not one row, or
/// the counts of examples differ; ValueError for a non-finite value in X or
/// a label that is not an integer in [0, classes). Messages name the file.
template <class T>
Dataset<T> load_dataset(const std::string& x_path, const std::string& y_path, std::size_t classes = 2);

// ---- Fashion-MNIST ----------------------------------------------------------------------

/// Which part of Fashion-MNIST: the 60 000 training images or the 10 000 test images.
enum class FashionMnistSplit {
    train,  ///< train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz
    test,   ///< t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz
};

/// The folder where Debian's package dataset-fashion-mnist installs the
/// files: "/usr/share/datasets/fashion-mnist".
std::string fashion_mnist_dir();

/// The ten class names, by label: "T-shirt/top", "Trouser", "Pullover",
/// "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot".
const std::vector<std::string>& fashion_mnist_classes();

/// Load a split of Fashion-MNIST (Zalando's 28 × 28 grey images of clothes,
/// in ten classes) from the IDX files in `dir`: X is 784 × m, one image per
/// column, its pixels row by row, scaled from 0 … 255 to [0, 1]; Y is the
/// 1 × m row of class indices 0 … 9; classes = 10. Only the first
/// min(max_examples, all) examples are read and converted. Each file is
/// looked for as NAME.gz, then as NAME (gunzipped). Throws IoError naming
/// the file when one is missing (saying that the Debian package
/// dataset-fashion-mnist provides them) or malformed (see load_idx), when
/// the images are not n × 28 × 28 unsigned bytes or the labels not n
/// unsigned bytes, when the two files hold different numbers of examples
/// (naming both), and for a label of 10 or more (naming its position and
/// value); ValueError when max_examples is 0.
template <class T>
Dataset<T> load_fashion_mnist(FashionMnistSplit split,
                              std::size_t max_examples = std::numeric_limits<std::size_t>::max(),
                              const std::string& dir = fashion_mnist_dir());

// ---- mini-batches ---------------------------------------------------------------------

/// One mini-batch: b examples of a data set, their columns of X and of Y.
template <class T>
struct Batch {
    Matrix<T> X;                       ///< n_x × b
    Matrix<T> Y;                       ///< n_y × b
    std::vector<std::size_t> columns;  ///< the data set's column of each of the b examples, in batch order

    /// b, the number of examples.
    std::size_t size() const { return columns.size(); }
};

/// One epoch of a batch source (MiniBatches, mpi::ShardedMiniBatches) as a
/// single-pass range of `const Batch<T>&`: iterating it yields each batch
/// of the epoch once, in order, and passing the last one ends the epoch
/// (the source starts the next). What `next_epoch()` returns; the batch a
/// loop sees lives in the source and is overwritten by the next one.
template <class Source>
class EpochRange {
public:
    using batch_type = typename Source::batch_type;

    /// An input iterator over the epoch's batches.
    class iterator {
    public:
        using iterator_category = std::input_iterator_tag;
        using value_type = batch_type;
        using difference_type = std::ptrdiff_t;
        using pointer = const batch_type*;
        using reference = const batch_type&;

        iterator() = default;
        reference operator*() const { return EpochRange::current(s_); }
        pointer operator->() const { return &EpochRange::current(s_); }
        /// The next batch; past the last one, the end (and the epoch is over).
        iterator& operator++() {
            if (!EpochRange::advance(s_)) s_ = nullptr;
            return *this;
        }
        friend bool operator==(const iterator& a, const iterator& b) { return a.s_ == b.s_; }
        friend bool operator!=(const iterator& a, const iterator& b) { return a.s_ != b.s_; }

    private:
        friend class EpochRange;
        explicit iterator(Source* s) : s_(s) {}
        Source* s_ = nullptr;
    };

    /// Takes the epoch's first batch.
    iterator begin() { return iterator(advance(s_) ? s_ : nullptr); }
    iterator end() { return iterator(); }

private:
    friend Source;
    explicit EpochRange(Source& s) : s_(&s) {}
    static bool advance(Source* s) { return s->advance(); }
    static const batch_type& current(Source* s) { return s->current(); }
    Source* s_;
};

/// Walks over the columns of X and Y in batches of `batch_size`, in a new
/// random order each epoch (Rng(seed).permutation(m), then the next
/// permutation of the same generator; or in order when `shuffle` is false).
/// The last batch of an epoch holds the m mod batch_size examples left over.
///
/// Train with it in one way, which visits every example once per epoch:
/// make the graph's input leaves with inputs(g) (no batch is consumed), then
/// loop over next_epoch() and set_value each batch into them:
///
///     xg::MiniBatches<double> batches(X, Y, 64, seed);
///     xg::Graph<double> g;
///     auto [Xv, Yv] = batches.inputs(g);
///     auto J = ...;  // the model and the loss on Xv, Yv
///     for (int epoch = 0; epoch < 10; ++epoch)
///         for (const xg::Batch<double>& batch : batches.next_epoch()) {
///             g.set_value(Xv, batch.X);
///             g.set_value(Yv, batch.Y);
///             ...
///         }
///
/// Copies X and Y at construction, one example per row (m × n_x and m × n_y:
/// the layout in which each example is one contiguous run, so a batch of
/// examples in random order reads b runs instead of one cache line per
/// number). It holds as much memory as X and Y and never reads them again:
/// later changes to X and Y are not seen, and they may be temporaries.
template <class T>
class MiniBatches {
public:
    using batch_type = Batch<T>;

    /// ShapeError when X and Y have different numbers of columns or none;
    /// ValueError for a batch size of 0.
    MiniBatches(const Matrix<T>& X, const Matrix<T>& Y, std::size_t batch_size, std::uint32_t seed = 0,
                bool shuffle = true);

    /// The graph's input leaves for these batches, named `x_name` and
    /// `y_name`, made without consuming a batch. They hold the first
    /// min(batch_size, m) examples as stored, a full batch's shape; only the
    /// shape matters, since each step's set_value replaces the values.
    std::pair<Var<T>, Var<T>> inputs(Graph<T>& g, const std::string& x_name = "X",
                                     const std::string& y_name = "Y") const;

    /// The next epoch's batches, each exactly once:
    /// `for (const xg::Batch<T>& batch : batches.next_epoch())`. The range
    /// starts the epoch when iterated and ends it after its last batch.
    /// ValueError when the current epoch is partly given out (by next(), or
    /// a loop over a range left early): finish it with next() first.
    EpochRange<MiniBatches> next_epoch();

    /// Copy the next batch's columns into Xb (n_x × b) and Yb (n_y × b) and
    /// return true; at the end of an epoch return false without copying, and
    /// start the next epoch. Xb and Yb keep their buffers while b stays the
    /// same; when b changes, each swaps its buffer with a spare the
    /// MiniBatches keeps (one for X, one for Y), so that alternating between
    /// the full batch size and the last one allocates only the first time
    /// each size is seen (Xb.data() then moves, as with a resize).
    /// The step under next_epoch(), for loops that are not an epoch at a
    /// time. Never call it to get a batch to build a graph on: that batch is
    /// consumed, and the epoch's loop would skip it (inputs() makes the leaves).
    bool next(Matrix<T>& Xb, Matrix<T>& Yb);

    /// m, the number of examples.
    std::size_t examples() const { return m_; }
    /// The batch size (the last batch of an epoch may be smaller).
    std::size_t batch_size() const { return batch_; }
    /// Batches per epoch: ⌈m / batch_size⌉.
    std::size_t batches() const { return (m_ + batch_ - 1) / batch_; }
    /// Epochs completed so far.
    std::size_t epoch() const { return epoch_; }
    /// Examples given out so far in the current epoch (0 at its start).
    std::size_t position() const { return pos_; }
    /// The order of the examples in the current epoch.
    const std::vector<std::size_t>& order() const { return order_; }

private:
    friend class EpochRange<MiniBatches>;
    Matrix<T> X_rows_, Y_rows_;  // Xᵀ and Yᵀ: example j is row j
    std::size_t m_, batch_;
    bool shuffle_;
    Rng rng_;
    std::vector<std::size_t> order_;
    std::size_t pos_ = 0, epoch_ = 0;
    Batch<T> current_;  // the batch next_epoch()'s loop sees
    // The allocations of the other batch size (a full batch's, or the last
    // one's), swapped back in when that size comes round again: by the
    // batches of next_epoch() and the matrices given to next() alike.
    Matrix<T> spare_X_, spare_Y_;

    void start_epoch();
    const std::size_t* take(std::size_t& b);  // the next batch's b columns, or nullptr: the epoch ends
    bool advance();
    const Batch<T>& current() const { return current_; }
};

extern template Dataset<float> load_fashion_mnist(FashionMnistSplit, std::size_t, const std::string&);
extern template Dataset<double> load_fashion_mnist(FashionMnistSplit, std::size_t, const std::string&);
extern template class MiniBatches<float>;
extern template class MiniBatches<double>;

}  // namespace xg

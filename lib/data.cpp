// Toy data sets, label helpers, splits, checked loading of X/Y, mini-batches.
#include "xgrad/data.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "columns.hpp"
#include "messages.hpp"
#include "xgrad/io.hpp"
#include "instantiate.hpp"

namespace xg {

namespace {

constexpr double pi = 3.14159265358979323846;

/// numpy's linspace: start + k · step, the last point exactly `stop`
/// (or, without the endpoint, n points of step (stop − start) / n).
std::vector<double> linspace(double start, double stop, std::size_t n, bool endpoint = true) {
    std::vector<double> v(n);
    if (n == 0) return v;
    const std::size_t div = endpoint ? n - 1 : n;
    const double step = div > 0 ? (stop - start) / double(div) : 0.0;
    for (std::size_t k = 0; k < n; ++k) v[k] = double(k) * step + start;
    if (endpoint && n > 1) v[n - 1] = stop;
    return v;
}

/// Sizes of `classes` groups that share m as evenly as possible (earlier groups get the remainder).
std::vector<std::size_t> split_sizes(std::size_t m, std::size_t classes, const char* what) {
    if (classes == 0 || m < classes) {
        throw ValueError(std::string(what) + ": need at least one example per class (m = " + std::to_string(m) +
                         ", classes = " + std::to_string(classes) + ")");
    }
    std::vector<std::size_t> n(classes, m / classes);
    for (std::size_t j = 0; j < m % classes; ++j) ++n[j];
    return n;
}

/// A data set whose points come one by one as (x, y, class).
template <class T>
struct Builder {
    Dataset<T> d;
    std::size_t k = 0;
    Builder(std::size_t m, std::size_t classes) {
        d.X = Matrix<T>({2, m});
        d.Y = Matrix<T>({1, m});
        d.classes = classes;
    }
    void add(double x, double y, std::size_t label) {
        d.X(0, k) = T(x);
        d.X(1, k) = T(y);
        d.Y(0, k) = T(label);
        ++k;
    }
};

std::vector<double> normals(Rng& rng, std::size_t n, double scale) {
    std::vector<double> v(n);
    for (double& x : v) x = rng.normal() * scale;
    return v;
}

/// Throw ValueError unless every entry of the 1 × m `labels` is an integer in [0, classes).
template <class T>
void check_labels(const Matrix<T>& labels, std::size_t classes, const std::string& where) {
    for (std::size_t j = 0; j < labels.shape()[1]; ++j) {
        const T v = labels(0, j);
        if (!(v >= T(0) && v < T(classes) && v == std::floor(v))) {
            const std::string allowed = classes == 2 ? "{0, 1}" : "the integers 0 ... " + std::to_string(classes - 1);
            throw ValueError(where + detail::entry_text("label Y", 0, j, v) + " is not in " + allowed);
        }
    }
}

/// The examples order[from], …, order[from + n − 1] of d.
template <class T>
Dataset<T> take_columns(const Dataset<T>& d, const std::vector<std::size_t>& order, std::size_t from, std::size_t n) {
    Dataset<T> out;
    out.classes = d.classes;
    detail::gather_columns(d.X, order.data() + from, n, out.X);
    detail::gather_columns(d.Y, order.data() + from, n, out.Y);
    return out;
}

}  // namespace

// ---- generators -----------------------------------------------------------------

// The lecture's load_planar_dataset(), draw for draw.
template <class T>
Dataset<T> flower(std::size_t m, std::uint32_t seed, double noise) {
    const std::vector<std::size_t> n = split_sizes(m, 2, "flower");
    Rng rng(seed);
    Builder<T> b(m, 2);
    const double a = 4;  // length of a petal
    for (std::size_t j = 0; j < 2; ++j) {
        std::vector<double> t = linspace(3.12 * double(j), 3.12 * double(j + 1), n[j]);
        const std::vector<double> dt = normals(rng, n[j], noise);
        for (std::size_t k = 0; k < n[j]; ++k) t[k] += dt[k];
        const std::vector<double> dr = normals(rng, n[j], noise);
        for (std::size_t k = 0; k < n[j]; ++k) {
            const double r = a * std::sin(4 * t[k]) + dr[k];
            b.add(r * std::sin(t[k]), r * std::cos(t[k]), j);
        }
    }
    return b.d;
}

template <class T>
Dataset<T> moons(std::size_t m, std::uint32_t seed, double noise) {
    const std::vector<std::size_t> n = split_sizes(m, 2, "moons");
    Rng rng(seed);
    Builder<T> b(m, 2);
    for (std::size_t j = 0; j < 2; ++j) {
        for (double s : linspace(0, pi, n[j])) {
            const double x = j == 0 ? std::cos(s) : 1 - std::cos(s);
            const double y = j == 0 ? std::sin(s) : 0.5 - std::sin(s);
            const double dx = rng.normal() * noise, dy = rng.normal() * noise;
            b.add(x + dx, y + dy, j);
        }
    }
    return b.d;
}

template <class T>
Dataset<T> circles(std::size_t m, std::uint32_t seed, double noise, double factor) {
    const std::vector<std::size_t> n = split_sizes(m, 2, "circles");
    Rng rng(seed);
    Builder<T> b(m, 2);
    for (std::size_t j = 0; j < 2; ++j) {
        const double radius = j == 0 ? 1.0 : factor;
        for (double s : linspace(0, 2 * pi, n[j], false)) {
            const double dx = rng.normal() * noise, dy = rng.normal() * noise;
            b.add(radius * std::cos(s) + dx, radius * std::sin(s) + dy, j);
        }
    }
    return b.d;
}

template <class T>
Dataset<T> spirals(std::size_t m, std::size_t classes, std::uint32_t seed, double noise) {
    const std::vector<std::size_t> n = split_sizes(m, classes, "spirals");
    Rng rng(seed);
    Builder<T> b(m, classes);
    for (std::size_t j = 0; j < classes; ++j) {
        const std::vector<double> r = linspace(0, 1, n[j]);
        std::vector<double> t = linspace(4.0 * double(j), 4.0 * double(j + 1), n[j]);
        for (std::size_t k = 0; k < n[j]; ++k) t[k] += rng.normal() * noise;
        for (std::size_t k = 0; k < n[j]; ++k) b.add(r[k] * std::sin(t[k]), r[k] * std::cos(t[k]), j);
    }
    return b.d;
}

template <class T>
Dataset<T> blobs(std::size_t m, std::size_t classes, std::uint32_t seed, double spread) {
    const std::vector<std::size_t> n = split_sizes(m, classes, "blobs");
    Rng rng(seed);
    Builder<T> b(m, classes);
    for (std::size_t j = 0; j < classes; ++j) {
        const double angle = 2 * pi * double(j) / double(classes);
        const double cx = 3 * std::cos(angle), cy = 3 * std::sin(angle);
        for (std::size_t k = 0; k < n[j]; ++k) {
            const double dx = rng.normal() * spread, dy = rng.normal() * spread;
            b.add(cx + dx, cy + dy, j);
        }
    }
    return b.d;
}

// ---- labels and splits ---------------------------------------------------------------

template <class T>
Matrix<T> one_hot(const Matrix<T>& labels, std::size_t classes) {
    if (labels.shape()[0] != 1) {
        throw ShapeError("one_hot: labels must be one row (1 x m) of class indices, got " +
                         to_string(shape_of(labels)));
    }
    checked_size(Shape{classes, labels.shape()[1]}, sizeof(T), "one_hot(labels, " + std::to_string(classes) + ")");
    check_labels(labels, classes, "one_hot: ");
    Matrix<T> out = xt::zeros<T>({classes, labels.shape()[1]});
    for (std::size_t j = 0; j < labels.shape()[1]; ++j) out(std::size_t(labels(0, j)), j) = T(1);
    return out;
}

template <class T>
Matrix<T> argmax_classes(const Matrix<T>& scores) {
    const std::size_t K = scores.shape()[0], m = scores.shape()[1];
    if (K == 0) throw ShapeError("argmax_classes: the scores have no rows");
    Matrix<T> out({std::size_t(1), m});
    for (std::size_t j = 0; j < m; ++j) {
        std::size_t best = 0;
        for (std::size_t k = 1; k < K; ++k) {
            if (scores(k, j) > scores(best, j)) best = k;
        }
        out(0, j) = T(best);
    }
    return out;
}

template <class T>
std::pair<Dataset<T>, Dataset<T>> train_test_split(const Dataset<T>& data, double test_fraction, std::uint32_t seed) {
    const std::size_t m = data.size();
    const double want = std::round(double(m) * test_fraction);
    if (!(want >= 1 && want <= double(m) - 1)) {
        std::ostringstream s;
        s << "train_test_split: a test fraction of " << test_fraction << " of " << m
          << " examples leaves one of the two sets empty";
        throw ValueError(s.str());
    }
    const std::size_t n_test = std::size_t(want);
    Rng rng(seed);
    const std::vector<std::size_t> order = rng.permutation(m);
    return {take_columns(data, order, n_test, m - n_test), take_columns(data, order, 0, n_test)};
}

// ---- a user's data ------------------------------------------------------------------------

template <class T>
Dataset<T> load_dataset(const std::string& x_path, const std::string& y_path, std::size_t classes) {
    Dataset<T> d;
    d.X = load_matrix<T>(x_path);
    d.Y = load_matrix<T>(y_path);
    d.classes = classes;
    const Shape xs = shape_of(d.X), ys = shape_of(d.Y);
    if (xs.size() == 0) throw ShapeError(x_path + ": X holds no examples (" + to_string(xs) + ")");
    if (ys.rows != 1) {
        throw ShapeError(y_path + ": the labels are " + to_string(ys) +
                         "; they must be one row, 1 x m, with one label per column (example) of X" +
                         (ys.cols == 1 && ys.rows == xs.cols ? " (transpose it)" : ""));
    }
    if (ys.cols != xs.cols) {
        throw ShapeError(y_path + ": " + std::to_string(ys.cols) + " labels (" + to_string(ys) + ") for the " +
                         std::to_string(xs.cols) + " examples of " + x_path + " (" + to_string(xs) +
                         "); X must be n_x x m, one example per column");
    }
    const std::string bad = detail::non_finite_text("X", d.X.data(), d.X.size(), xs.cols);
    if (!bad.empty()) throw ValueError(x_path + ": " + bad);
    check_labels(d.Y, classes, y_path + ": ");
    return d;
}

// ---- mini-batches ---------------------------------------------------------------------------

template <class T>
MiniBatches<T>::MiniBatches(const Matrix<T>& X, const Matrix<T>& Y, std::size_t batch_size, std::uint32_t seed,
                            bool shuffle)
    : m_(X.shape()[1]), batch_(batch_size), shuffle_(shuffle), rng_(seed) {
    if (Y.shape()[1] != m_ || m_ == 0) {
        throw ShapeError("MiniBatches: X and Y need the same, non-zero number of columns (examples): X [" +
                         to_string(shape_of(X)) + "], Y [" + to_string(shape_of(Y)) + "]");
    }
    if (batch_ == 0) throw ValueError("MiniBatches: the batch size must be at least 1");
    detail::transpose_into(X, X_rows_);
    detail::transpose_into(Y, Y_rows_);
    start_epoch();
}

template <class T>
void MiniBatches<T>::start_epoch() {
    if (shuffle_) {
        rng_.permutation(m_, order_);  // into the same vector: no allocation after the first epoch
    } else if (order_.empty()) {
        order_.resize(m_);
        for (std::size_t k = 0; k < m_; ++k) order_[k] = k;
    }
    pos_ = 0;
}

template <class T>
std::pair<Var<T>, Var<T>> MiniBatches<T>::inputs(Graph<T>& g, const std::string& x_name,
                                                 const std::string& y_name) const {
    // The first min(batch_size, m) stored columns: a full batch's shape, and nothing consumed.
    const std::size_t b = std::min(batch_, m_);
    std::vector<std::size_t> first(b);
    for (std::size_t j = 0; j < b; ++j) first[j] = j;
    Matrix<T> Xb, Yb, unused;
    detail::gather_rows_transposed(X_rows_, first.data(), b, Xb, unused);
    detail::gather_rows_transposed(Y_rows_, first.data(), b, Yb, unused);
    Var<T> x = g.input(Xb, x_name);
    return {x, g.input(Yb, y_name)};
}

template <class T>
EpochRange<MiniBatches<T>> MiniBatches<T>::next_epoch() {
    if (pos_ != 0) {
        throw ValueError("MiniBatches::next_epoch: epoch " + std::to_string(epoch_) + " is partly given out (" +
                         std::to_string(pos_) + " of " + std::to_string(m_) +
                         " examples, by next() or by a loop over next_epoch() left early); finish it with "
                         "next() until it returns false, so that no example is skipped");
    }
    return EpochRange<MiniBatches<T>>(*this);
}

template <class T>
const std::size_t* MiniBatches<T>::take(std::size_t& b) {
    if (pos_ >= m_) {
        ++epoch_;
        start_epoch();
        return nullptr;
    }
    b = std::min(batch_, m_ - pos_);
    const std::size_t* cols = order_.data() + pos_;
    pos_ += b;
    return cols;
}

template <class T>
bool MiniBatches<T>::next(Matrix<T>& Xb, Matrix<T>& Yb) {
    std::size_t b = 0;
    const std::size_t* cols = take(b);
    if (!cols) return false;
    detail::gather_rows_transposed(X_rows_, cols, b, Xb, spare_X_);
    detail::gather_rows_transposed(Y_rows_, cols, b, Yb, spare_Y_);
    return true;
}

template <class T>
bool MiniBatches<T>::advance() {
    std::size_t b = 0;
    const std::size_t* cols = take(b);
    if (!cols) return false;
    detail::gather_rows_transposed(X_rows_, cols, b, current_.X, spare_X_);
    detail::gather_rows_transposed(Y_rows_, cols, b, current_.Y, spare_Y_);
    current_.columns.assign(cols, cols + b);
    return true;
}

#define XG_DATA_INSTANTIATIONS(T)                                                                          \
    template Dataset<T> flower(std::size_t, std::uint32_t, double);                                        \
    template Dataset<T> moons(std::size_t, std::uint32_t, double);                                         \
    template Dataset<T> circles(std::size_t, std::uint32_t, double, double);                               \
    template Dataset<T> spirals(std::size_t, std::size_t, std::uint32_t, double);                          \
    template Dataset<T> blobs(std::size_t, std::size_t, std::uint32_t, double);                            \
    template Matrix<T> one_hot(const Matrix<T>&, std::size_t);                                             \
    template Matrix<T> argmax_classes(const Matrix<T>&);                                                   \
    template std::pair<Dataset<T>, Dataset<T>> train_test_split(const Dataset<T>&, double, std::uint32_t); \
    template Dataset<T> load_dataset(const std::string&, const std::string&, std::size_t);                 \
    template class MiniBatches<T>;

XG_INSTANTIATE_FLOAT_DOUBLE(XG_DATA_INSTANTIATIONS)
#undef XG_DATA_INSTANTIATIONS

}  // namespace xg

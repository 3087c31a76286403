// Softmax over each column, and softmax cross-entropy from the logits with
// one-hot or class-index labels. Both use one kernel, so the probabilities
// the loss differentiates with are bit for bit those softmax() returns.
#include <algorithm>
#include <cmath>
#include <sstream>
#include <type_traits>

#include "ops_common.hpp"
#include "vmath.hpp"
#include "xgrad/ops.hpp"

namespace xg {
namespace detail {

namespace {

/// S = softmax of each column of Z, stably: S(i, j) = e^(Z(i, j) − max_j) / Σ_k e^(Z(k, j) − max_j).
/// A NaN in a column makes that whole column NaN (through the column's sum,
/// whatever the maximum makes of it).
/// `mx` and `sum` (length m) receive each column's max and Σ e^(Z − max) ≥ 1.
/// Row by row, so every pass reads contiguous memory; ranges of columns in
/// parallel on the thread pool when large (each column's sums keep their order).
template <class T>
void softmax_columns(ConstView<T> z, MutView<T> s, T* mx, T* sum) {
    const std::size_t R = z.rows, C = z.cols;
    parallel_for(C, lines_per_chunk(R, grain_math), [&](std::size_t jb, std::size_t je) {
        std::copy(z.data + jb, z.data + je, mx + jb);
        for (std::size_t i = 1; i < R; ++i) {
            const T* row = z.data + i * C;
            for (std::size_t j = jb; j < je; ++j) mx[j] = std::max(mx[j], row[j]);
        }
        std::fill(sum + jb, sum + je, T(0));
        for (std::size_t i = 0; i < R; ++i) {
            const T* row = z.data + i * C;
            T* out = s.data + i * C;
            for (std::size_t j = jb; j < je; ++j) out[j] = row[j] - mx[j];
            vmath<T>().exp(out + jb, out + jb, je - jb);
            for (std::size_t j = jb; j < je; ++j) sum[j] += out[j];
        }
        for (std::size_t i = 0; i < R; ++i) {
            T* out = s.data + i * C;
            for (std::size_t j = jb; j < je; ++j) out[j] /= sum[j];
        }
    });
}

sym::Expr softmax_of(sym::Expr x) {
    return sym::fn(fname("softmax", "softmax", "\\operatorname{softmax}"), std::move(x));
}

}  // namespace

// Y = softmax(X) over each column;  dX = Y ⊙ (g − Σ_rows (g ⊙ Y))
template <class T>
class SoftmaxOp final : public UnaryOp<T> {
public:
    std::string name() const override { return "softmax"; }

    void forward(const ForwardContext<T>& c) const override {
        const ConstView<T> x = c.in(0);
        Matrix<T>& buf = c.scratch(0, Shape{2, x.cols});
        softmax_columns(x, c.out(), buf.data(), buf.data() + x.cols);
    }

    void backward(BackwardContext<T>& c) const override {
        const ConstView<T> y = c.out(), g = c.dout();
        const std::size_t R = y.rows, C = y.cols;
        T* dot = c.scratch(0, Shape{2, C}).data();  // Σ_i g(i, j) y(i, j), per column
        parallel_for(C, lines_per_chunk(R, grain_arith), [&](std::size_t jb, std::size_t je) {
            std::fill(dot + jb, dot + je, T(0));
            for (std::size_t i = 0; i < R; ++i) {
                for (std::size_t j = jb; j < je; ++j) dot[j] += g(i, j) * y(i, j);
            }
        });
        store_2d(c.grad(0), [&](std::size_t i, std::size_t j) { return y(i, j) * (g(i, j) - dot[j]); });
    }

    sym::Expr formula() const override { return softmax_of(sym::in(0)); }
    sym::Expr grad_formula(std::size_t) const override {
        using namespace sym;
        return hadamard(out(), grad() - sum_of(hadamard(grad(), out()), Axis::over_rows));
    }
};

template <class T>
bool is_softmax(const Op<T>* op) {
    return dynamic_cast<const SoftmaxOp<T>*>(op) != nullptr;
}

// J = −(1/m) Σ Y ⊙ log softmax(Z) = (1/m) Σ_j [logsumexp(Z(:, j)) − Σ_i Y(i, j) Z(i, j)];
// dZ = g (softmax(Z) − Y) / m.  Labels: one-hot Y (K × m) or class indices y (1 × m).
template <class T>
class SoftmaxCrossEntropyOp final : public Op<T> {
public:
    explicit SoftmaxCrossEntropyOp(bool indices) : indices_(indices) {}

    std::string name() const override { return "softmax_cross_entropy"; }
    bool differentiable(std::size_t i) const override { return i == 0; }

    Shape shape(const ShapeContext& c) const override {
        c.require_arity(2);
        const Shape z = c.shape(0), y = c.shape(1);
        if (indices_ ? y != Shape{1, z.cols} : y != z) {
            c.fail("labels must be one-hot of the logits' shape (K x m) or class indices (1 x m)");
        }
        return Shape{1, 1};
    }

    void forward(const ForwardContext<T>& c) const override {
        const ConstView<T> z = c.in(0), y = c.in(1);
        const std::size_t K = z.rows, C = z.cols;
        if (indices_) {
            check_indices(c, y, K);
        } else {
            check_one_hot(c, y);
        }
        // Scratch 1 first: asking for a higher index can grow the node's list of
        // scratch matrices and move them, which would leave a reference to 0 dangling.
        Matrix<T>& buf = c.scratch(1, Shape{2, C});
        Matrix<T>& s = c.scratch(0, z.shape());
        T* mx = buf.data();
        T* lse = buf.data() + C;  // Σ e^(Z − max), then its log
        softmax_columns(z, view(s), mx, lse);
        vlog(lse, lse, C);
        // −log softmax(Z)(i, j) = (max_j − Z(i, j)) + log Σ e^(Z − max): no overflow, no log 0.
        double total = 0;
        if (indices_) {
            for (std::size_t j = 0; j < C; ++j) {
                const std::size_t k = static_cast<std::size_t>(y[j]);
                total += double(mx[j] - z(k, j)) + double(lse[j]);
            }
        } else {
            for (std::size_t i = 0; i < K; ++i) {
                for (std::size_t j = 0; j < C; ++j) {
                    const T yij = y(i, j);
                    if (yij != T(0)) total += double(yij) * (double(mx[j] - z(i, j)) + double(lse[j]));
                }
            }
        }
        c.out()[0] = T(total / double(C));
    }

    void backward(BackwardContext<T>& c) const override {
        const ConstView<T> y = c.in(1);
        const Matrix<T>& s = c.scratch(0, c.in(0).shape());
        const T g = c.dout()[0], m = T(y.cols);
        const GradSink<T>& dz = c.grad(0);
        if (indices_) {
            const std::size_t C = s.shape()[1];
            store_2d(dz, [&](std::size_t i, std::size_t j) {
                const T yij = y[j] == T(i) ? T(1) : T(0);
                return (s.data()[i * C + j] - yij) / m * g;
            });
        } else {
            store(dz, [&](std::size_t k) { return (s.data()[k] - y[k]) / m * g; });
        }
    }

    sym::Expr formula() const override {
        using namespace sym;
        const Expr log_s = fn(fname("log", "log", "\\log"), softmax_of(in(0)));
        return neg(scale(div(num(1), m()), sum_of(hadamard(labels(), log_s))));
    }
    sym::Expr grad_formula(std::size_t) const override {
        using namespace sym;
        return scale(grad(), div(softmax_of(in(0)) - labels(), m()));
    }

private:
    bool indices_;

    /// The one-hot labels as equations write them: Y, or onehot(y) for indices.
    sym::Expr labels() const {
        return indices_ ? sym::fn(fname("onehot", "onehot", "\\operatorname{onehot}"), sym::in(1)) : sym::in(1);
    }

    static void check_indices(const ForwardContext<T>& c, ConstView<T> y, std::size_t K) {
        for (std::size_t j = 0; j < y.size(); ++j) {
            const T v = y[j];
            if (std::isnan(v)) c.fail(nan_entry("class index y", y, j));
            if (!(v >= T(0) && v < T(K) && std::floor(v) == v)) {
                c.fail(entry("class index y", y, j) + " is not one of 0, 1, ..., " + std::to_string(K - 1) +
                       " (the logits have " + std::to_string(K) + " rows, one per class)");
            }
        }
    }

    static void check_one_hot(const ForwardContext<T>& c, ConstView<T> y) {
        check_unit_labels(y, [&c](const std::string& what) { c.fail(what); });
        const double tol = std::is_same<T, float>::value ? 1e-3 : 1e-9;
        for (std::size_t j = 0; j < y.cols; ++j) {
            double s = 0;
            for (std::size_t i = 0; i < y.rows; ++i) s += y(i, j);
            if (std::fabs(s - 1.0) > tol) {
                std::ostringstream msg;
                msg << "label column " << j << " sums to " << s
                    << ", not 1 (labels of the logits' shape must be one-hot, or probabilities)";
                c.fail(msg.str());
            }
        }
    }
};

}  // namespace detail

template <class T>
Var<T> softmax(Var<T> x) {
    return detail::make_node<detail::SoftmaxOp>(std::vector<Var<T>>{x});
}

template <class T>
Var<T> softmax_cross_entropy(Var<T> z, Var<T> labels) {
    Graph<T>& g = z.graph();
    if (detail::is_softmax<T>(g.op(z.id()))) {
        throw GraphError("softmax_cross_entropy(" + z.name() + ", " + labels.name() + "): " + z.name() +
                         " is already the output of softmax; pass the logits (the input of that softmax), "
                         "the loss applies the softmax itself");
    }
    // Labels of the logits' shape are one-hot; otherwise class indices (1 × m).
    const bool indices = labels && labels.shape() != z.shape();
    return detail::make_node<detail::SoftmaxCrossEntropyOp>(std::vector<Var<T>>{z, labels}, indices);
}

#define XG_SOFTMAX_OPS(T)                                  \
    template Var<T> softmax(Var<T>);                       \
    template Var<T> softmax_cross_entropy(Var<T>, Var<T>); \
    template bool detail::is_softmax(const Op<T>*);
XG_INSTANTIATE_FLOAT_DOUBLE(XG_SOFTMAX_OPS)
#undef XG_SOFTMAX_OPS

}  // namespace xg

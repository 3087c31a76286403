// Reductions: sum and mean over every entry, over the rows or over the columns.
// Results stay 2-D (the reduced axis has size 1), so they broadcast back.
#include "broadcast.hpp"
#include "ops_common.hpp"
#include "xgrad/ops.hpp"

namespace xg {
namespace detail {

// Y = Σ X over an axis (mean: divided by N, the number of entries summed);
// dX = g broadcast back to X's shape (mean: g / N)
template <class T>
class ReduceOp final : public Op<T> {
public:
    ReduceOp(Axis axis, bool mean) : axis_(axis), mean_(mean) {}

    std::string name() const override { return mean_ ? "mean" : "sum"; }

    Shape shape(const ShapeContext& c) const override {
        c.require_arity(1);
        const Shape s = c.shape(0);
        switch (axis_) {
            case Axis::over_rows: return Shape{1, s.cols};
            case Axis::over_cols: return Shape{s.rows, 1};
            case Axis::all: break;
        }
        return Shape{1, 1};
    }

    void forward(const ForwardContext<T>& c) const override {
        const ConstView<T> x = c.in(0);
        const MutView<T> y = c.out();
        const std::size_t R = x.rows, C = x.cols;
        const double n = mean_ ? double(count(x.shape())) : 1.0;
        switch (axis_) {
            case Axis::all: {
                const double acc = parallel_sum<double>(x.size(), grain_arith, [&](std::size_t b, std::size_t e) {
                    return sum_in_double(b, e, [&](std::size_t k) { return double(x[k]); });
                });
                y[0] = T(acc / n);
                break;
            }
            case Axis::over_rows: {  // down each column, row by row (contiguous)
                // Columns in parallel: each column's sum keeps its order.
                parallel_for(C, lines_per_chunk(R, grain_arith), [&](std::size_t jb, std::size_t je) {
                    std::copy(x.data + jb, x.data + je, y.data + jb);
                    for (std::size_t i = 1; i < R; ++i) {
                        const T* row = x.data + i * C;
                        for (std::size_t j = jb; j < je; ++j) y[j] += row[j];
                    }
                    if (mean_) {
                        for (std::size_t j = jb; j < je; ++j) y[j] = T(y[j] / n);
                    }
                });
                break;
            }
            case Axis::over_cols: {  // along each row
                parallel_for(R, lines_per_chunk(C, grain_arith), [&](std::size_t ib, std::size_t ie) {
                    for (std::size_t i = ib; i < ie; ++i) {
                        const T* row = x.data + i * C;
                        y[i] = T(sum_in_double(0, C, [row](std::size_t j) { return double(row[j]); }) / n);
                    }
                });
                break;
            }
        }
    }

    void backward(BackwardContext<T>& c) const override {
        const ConstView<T> g = c.dout();
        const Shape gs = g.shape();
        const T n = mean_ ? T(count(c.in(0).shape())) : T(1);
        store_2d(c.grad(0), [&](std::size_t i, std::size_t j) { return g[broadcast_index(gs, i, j)] / n; });
    }

    sym::Expr formula() const override {
        using namespace sym;
        const Expr s = sum_of(in(0), axis_);
        return mean_ ? scale(div(num(1), count_symbol()), s) : s;
    }

    sym::Expr grad_formula(std::size_t) const override {
        return mean_ ? sym::div(sym::grad(), count_symbol()) : sym::grad();
    }
    // A sum that keeps the shape (Σ_columns of a column) passes g on unchanged.
    bool gradient_is_identity(std::size_t) const override { return !mean_; }

private:
    Axis axis_;
    bool mean_;

    /// How many entries each output entry sums.
    std::size_t count(Shape x) const {
        return axis_ == Axis::over_rows ? x.rows : axis_ == Axis::over_cols ? x.cols : x.size();
    }
    /// The same count as equations write it: n (over the rows), m (over the columns), n m (all).
    sym::Expr count_symbol() const {
        if (axis_ == Axis::over_rows) return sym::symbol("n");
        if (axis_ == Axis::over_cols) return sym::m();
        return sym::scale(sym::symbol("n"), sym::m());
    }
};

}  // namespace detail

template <class T>
Var<T> sum(Var<T> x, Axis axis) {
    return detail::make_node<detail::ReduceOp>(std::vector<Var<T>>{x}, axis, false);
}

template <class T>
Var<T> mean(Var<T> x, Axis axis) {
    return detail::make_node<detail::ReduceOp>(std::vector<Var<T>>{x}, axis, true);
}

#define XG_REDUCE_OPS(T)                \
    template Var<T> sum(Var<T>, Axis);  \
    template Var<T> mean(Var<T>, Axis);
XG_INSTANTIATE_FLOAT_DOUBLE(XG_REDUCE_OPS)
#undef XG_REDUCE_OPS

}  // namespace xg

// The ops sequence models are built from: slices of rows or columns, joining
// nodes along the rows or the columns, and the embedding lookup. Each moves
// blocks of a raw buffer; none does arithmetic on the values it moves.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "ops_common.hpp"

namespace xg {
namespace detail {

namespace {

std::string range_text(std::size_t begin, std::size_t end) {
    return "[" + std::to_string(begin) + ", " + std::to_string(end) + ")";
}

/// "b:e", the numpy slice the equations print.
std::string slice_text(std::size_t begin, std::size_t end) { return std::to_string(begin) + ":" + std::to_string(end); }

/// dst[0 … n) = src[0 … n), or += when accumulating.
template <class T>
void put(T* dst, const T* src, std::size_t n, bool accumulate) {
    if (accumulate) {
        for (std::size_t k = 0; k < n; ++k) dst[k] += src[k];
    } else {
        std::memcpy(dst, src, n * sizeof(T));
    }
}

}  // namespace

// rows:    Y = X[b:e, :];  dX = pad_rows[b:e](dY) (dY in rows b … e−1, zeros elsewhere)
// columns: Y = X[:, b:e];  dX = pad_columns[b:e](dY)
template <class T>
class SliceOp final : public Op<T> {
public:
    SliceOp(bool columns, std::size_t begin, std::size_t end) : columns_(columns), begin_(begin), end_(end) {}

    std::string name() const override { return columns_ ? "columns" : "rows"; }
    bool backward_reads_output() const override { return false; }

    Shape shape(const ShapeContext& c) const override {
        c.require_arity(1);
        const Shape x = c.shape(0);
        const char* what = columns_ ? "columns" : "rows";
        const std::size_t have = columns_ ? x.cols : x.rows;
        if (begin_ > end_) {
            c.fail("the range " + range_text(begin_, end_) + " is reversed (begin " + std::to_string(begin_) +
                   " > end " + std::to_string(end_) + ")");
        }
        if (begin_ == end_) c.fail("the range " + range_text(begin_, end_) + " is empty (it must hold at least one of the " + what + ")");
        if (end_ > have) {
            c.fail("the range " + range_text(begin_, end_) + " reaches past the " + std::to_string(have) + " " + what +
                   " of " + c.name(0));
        }
        return columns_ ? Shape{x.rows, end_ - begin_} : Shape{end_ - begin_, x.cols};
    }

    void forward(const ForwardContext<T>& c) const override {
        const ConstView<T> x = c.in(0);
        const MutView<T> y = c.out();
        if (!columns_) {
            std::memcpy(y.data, x.data + begin_ * x.cols, y.size() * sizeof(T));
            return;
        }
        for (std::size_t r = 0; r < x.rows; ++r) std::memcpy(y.data + r * y.cols, x.data + r * x.cols + begin_, y.cols * sizeof(T));
    }

    void backward(BackwardContext<T>& c) const override {
        const GradSink<T>& s = c.grad(0);
        const ConstView<T> g = c.dout();
        const MutView<T> d = s.view;
        if (!s.accumulate) {
            // Zeros outside the block (the block itself is overwritten below).
            if (!columns_) {
                std::fill(d.data, d.data + begin_ * d.cols, T(0));
                std::fill(d.data + end_ * d.cols, d.data + d.size(), T(0));
            } else {
                for (std::size_t r = 0; r < d.rows; ++r) {
                    T* row = d.data + r * d.cols;
                    std::fill(row, row + begin_, T(0));
                    std::fill(row + end_, row + d.cols, T(0));
                }
            }
        }
        if (!columns_) {
            put(d.data + begin_ * d.cols, g.data, g.size(), s.accumulate);
            return;
        }
        for (std::size_t r = 0; r < d.rows; ++r) put(d.data + r * d.cols + begin_, g.data + r * g.cols, g.cols, s.accumulate);
    }

    sym::Expr formula() const override {
        const std::string b = slice_text(begin_, end_);
        const std::string py = columns_ ? "{}[:, " + b + "]" : "{}[" + b + ", :]";
        const std::string tex = columns_ ? "{}_{:,\\," + b + "}" : "{}_{" + b + ",\\,:}";
        return sym::fn(sym::Spelling{py, py, tex}, sym::in(0));
    }

    sym::Expr grad_formula(std::size_t) const override {
        const std::string b = slice_text(begin_, end_);
        const std::string f = std::string(columns_ ? "pad_columns" : "pad_rows") + "[" + b + "]";
        const std::string tex = std::string("\\operatorname{") + (columns_ ? "pad\\_columns" : "pad\\_rows") + "}_{" + b + "}";
        return sym::fn(sym::Spelling{f, f, tex}, sym::grad());
    }

private:
    bool columns_;
    std::size_t begin_, end_;
};

// concat_rows:    Y = [A; B; …] (A on top of B);   dA = dY[rows of A], dB = dY[rows of B], …
// concat_columns: Y = [A B …] (A left of B);       dA = dY[:, columns of A], …
template <class T>
class ConcatOp final : public Op<T> {
public:
    ConcatOp(bool columns, std::size_t parts) : columns_(columns), parts_(parts) {}

    std::string name() const override { return columns_ ? "concat_columns" : "concat_rows"; }
    bool backward_reads_output() const override { return false; }

    Shape shape(const ShapeContext& c) const override {
        c.require_arity(parts_);
        const char* other = columns_ ? "rows" : "columns";
        std::size_t total = 0;
        for (std::size_t i = 0; i < c.arity(); ++i) {
            const Shape s = c.shape(i), first = c.shape(0);
            if ((columns_ ? s.rows : s.cols) != (columns_ ? first.rows : first.cols)) {
                c.fail(std::string("the nodes must have the same number of ") + other + " (" + c.name(0) + " has " +
                       std::to_string(columns_ ? first.rows : first.cols) + ", " + c.name(i) + " has " +
                       std::to_string(columns_ ? s.rows : s.cols) + ")");
            }
            const std::size_t add = columns_ ? s.cols : s.rows;
            if (total > std::numeric_limits<std::size_t>::max() - add) c.fail("the joined size is too large");
            total += add;
        }
        return columns_ ? Shape{c.shape(0).rows, total} : Shape{total, c.shape(0).cols};
    }

    void forward(const ForwardContext<T>& c) const override {
        const MutView<T> y = c.out();
        std::size_t offset = 0;
        for (std::size_t i = 0; i < c.arity(); ++i) {
            const ConstView<T> x = c.in(i);
            if (!columns_) {
                std::memcpy(y.data + offset * y.cols, x.data, x.size() * sizeof(T));
                offset += x.rows;
                continue;
            }
            for (std::size_t r = 0; r < x.rows; ++r) std::memcpy(y.data + r * y.cols + offset, x.data + r * x.cols, x.cols * sizeof(T));
            offset += x.cols;
        }
    }

    void backward(BackwardContext<T>& c) const override {
        const ConstView<T> g = c.dout();
        std::size_t offset = 0;
        for (std::size_t i = 0; i < c.arity(); ++i) {
            const Shape s = c.in(i).shape();
            if (c.needs_grad(i)) {
                const GradSink<T>& sink = c.grad(i);
                if (!columns_) {
                    put(sink.view.data, g.data + offset * g.cols, s.size(), sink.accumulate);
                } else {
                    for (std::size_t r = 0; r < s.rows; ++r) {
                        put(sink.view.data + r * s.cols, g.data + r * g.cols + offset, s.cols, sink.accumulate);
                    }
                }
            }
            offset += columns_ ? s.cols : s.rows;
        }
    }

    sym::Expr formula() const override {
        std::vector<sym::Expr> args;
        for (std::size_t i = 0; i < parts_; ++i) args.push_back(sym::in(i));
        return columns_ ? sym::fn(fname("concat_columns", "concat_columns", "\\operatorname{concat\\_columns}"), args)
                        : sym::fn(fname("concat_rows", "concat_rows", "\\operatorname{concat\\_rows}"), args);
    }

    // Along the rows, only the blocks of the parts that take a gradient are read.
    std::pair<std::size_t, std::size_t> dout_rows_read(Shape out, const std::vector<Shape>& inputs,
                                                       const std::vector<char>& needs) const override {
        if (columns_) return {0, out.rows};
        std::size_t offset = 0, first = out.rows, end = 0;
        for (std::size_t i = 0; i < inputs.size(); ++i) {
            if (needs[i]) {
                first = std::min(first, offset);
                end = std::max(end, offset + inputs[i].rows);
            }
            offset += inputs[i].rows;
        }
        return first < end ? std::make_pair(first, end) : std::make_pair(std::size_t(0), std::size_t(0));
    }

    // The block of dY that came from input i: the arguments are dY and every
    // input (the block's place follows from the sizes of the inputs before i).
    sym::Expr grad_formula(std::size_t i) const override {
        std::vector<sym::Expr> args{sym::grad()};
        for (std::size_t k = 0; k < parts_; ++k) args.push_back(sym::in(k));
        const std::string k = "{" + std::to_string(i + 1) + "}";
        const std::string py = columns_ ? "{0}[:, columns of " + k + "]" : "{0}[rows of " + k + "]";
        const std::string tex = columns_ ? "{0}_{:,\\,\\text{columns of }" + k + "}" : "{0}_{\\text{rows of }" + k + "}";
        return sym::fn(sym::Spelling{py, py, tex}, std::move(args));
    }

private:
    bool columns_;
    std::size_t parts_;
};

// Y = E[:, ids] = E · onehot(ids) (column j of Y is column ids_j of E);
// dE = scatter_columns(dY, ids) = dY · onehot(ids)ᵀ: dY's columns added onto E's (a repeated id adds up)
template <class T>
class EmbeddingOp final : public Op<T> {
public:
    std::string name() const override { return "embedding"; }
    bool differentiable(std::size_t i) const override { return i == 0; }
    bool backward_reads_output() const override { return false; }

    Shape shape(const ShapeContext& c) const override {
        c.require_arity(2);
        const Shape e = c.shape(0), ids = c.shape(1);
        if (ids.rows != 1) c.fail("the token ids " + c.name(1) + " must be one row of indices (1 x m)");
        return Shape{e.rows, ids.cols};
    }

    void forward(const ForwardContext<T>& c) const override {
        const ConstView<T> e = c.in(0), ids = c.in(1);
        const MutView<T> y = c.out();
        const std::size_t V = e.cols, m = ids.cols;
        for (std::size_t j = 0; j < m; ++j) {
            const T v = ids[j];
            if (std::isnan(v)) c.fail("token id ids(0, " + std::to_string(j) + ") is NaN");
            if (!(v >= T(0) && v < T(V) && v == std::floor(v))) {
                c.fail(entry("token id ids", ids, j) + " is not one of 0, 1, ..., " + std::to_string(V - 1) + " (E has " +
                       std::to_string(V) + " columns, one per token)");
            }
        }
        for (std::size_t r = 0; r < e.rows; ++r) {
            const T* src = e.data + r * V;
            T* dst = y.data + r * m;
            for (std::size_t j = 0; j < m; ++j) dst[j] = src[std::size_t(ids[j])];
        }
    }

    // Overwriting E's gradient clears only the columns the last sweep wrote
    // when the parameter knows them (GradColumns), so a step costs O(d·m)
    // however large V is; otherwise (an op node's gradient, or after outside
    // write access) the whole d × V buffer once.
    bool keeps_grad_columns() const override { return true; }

    void backward(BackwardContext<T>& c) const override {
        if (!c.needs_grad(0)) return;
        const GradSink<T>& s = c.grad(0);
        const ConstView<T> ids = c.in(1), g = c.dout();
        const MutView<T> d = s.view;
        const std::size_t V = d.cols, m = ids.cols;
        GradColumns* known = s.columns;
        const bool clear_listed = !s.accumulate && known && known->known;
        if (!s.accumulate && !clear_listed) std::fill(d.data, d.data + d.size(), T(0));
        const std::vector<std::size_t>* listed = clear_listed ? &known->columns : nullptr;
        for (std::size_t r = 0; r < d.rows; ++r) {
            T* dst = d.data + r * V;
            const T* src = g.data + r * m;
            if (listed) {  // row by row: the row's lines are still in cache for the scatter
                for (const std::size_t col : *listed) dst[col] = T(0);
            }
            for (std::size_t j = 0; j < m; ++j) dst[std::size_t(ids[j])] += src[j];
        }
        if (!s.accumulate && known) known->set_all_zero();
        if (known && known->known) {
            // Past V entries the list costs more than clearing everything.
            if (known->columns.size() + m > V) {
                known->forget();
            } else {
                for (std::size_t j = 0; j < m; ++j) known->columns.push_back(std::size_t(ids[j]));
            }
        }
    }

    // E[:, ids]; the gradient's third argument, E, is not printed: it gives
    // the width V of the scatter's result.
    sym::Expr formula() const override {
        return sym::fn(sym::Spelling{"{0}[:, {1}]", "{0}[:, {1}]", "{0}_{:,\\,{1}}"}, std::vector<sym::Expr>{sym::in(0), sym::in(1)});
    }
    sym::Expr grad_formula(std::size_t) const override {
        return sym::fn(fname("scatter_columns({0}, {1})", "scatter_columns({0}, {1})", "\\operatorname{scatter\\_columns}({0}, {1})"),
                       std::vector<sym::Expr>{sym::grad(), sym::in(1), sym::in(0)});
    }
};

template <template <class> class OpT, class T, class... A>
Var<T> make_joined(const char* name, const std::vector<Var<T>>& parts, A&&... args) {
    if (parts.empty()) throw GraphError(std::string(name) + ": no nodes to join (pass at least one)");
    return make_node<OpT>(parts, std::forward<A>(args)...);
}

}  // namespace detail

template <class T>
Var<T> rows(Var<T> x, std::size_t begin, std::size_t end) {
    return detail::make_node<detail::SliceOp>(std::vector<Var<T>>{x}, false, begin, end);
}

template <class T>
Var<T> columns(Var<T> x, std::size_t begin, std::size_t end) {
    return detail::make_node<detail::SliceOp>(std::vector<Var<T>>{x}, true, begin, end);
}

template <class T>
Var<T> concat_rows(const std::vector<Var<T>>& parts) {
    return detail::make_joined<detail::ConcatOp>("concat_rows", parts, false, parts.size());
}

template <class T>
Var<T> concat_rows(std::initializer_list<Var<T>> parts) {
    return concat_rows(std::vector<Var<T>>(parts));
}

template <class T>
Var<T> concat_rows(Var<T> a, Var<T> b) {
    return concat_rows(std::vector<Var<T>>{a, b});
}

template <class T>
Var<T> concat_columns(const std::vector<Var<T>>& parts) {
    return detail::make_joined<detail::ConcatOp>("concat_columns", parts, true, parts.size());
}

template <class T>
Var<T> concat_columns(std::initializer_list<Var<T>> parts) {
    return concat_columns(std::vector<Var<T>>(parts));
}

template <class T>
Var<T> concat_columns(Var<T> a, Var<T> b) {
    return concat_columns(std::vector<Var<T>>{a, b});
}

template <class T>
Var<T> embedding(Var<T> e, Var<T> ids) {
    return detail::make_node<detail::EmbeddingOp>(std::vector<Var<T>>{e, ids});
}

#define XG_SEQUENCE_OPS(T)                                        \
    template Var<T> rows(Var<T>, std::size_t, std::size_t);       \
    template Var<T> columns(Var<T>, std::size_t, std::size_t);    \
    template Var<T> concat_rows(const std::vector<Var<T>>&);      \
    template Var<T> concat_rows(std::initializer_list<Var<T>>);   \
    template Var<T> concat_rows(Var<T>, Var<T>);                  \
    template Var<T> concat_columns(const std::vector<Var<T>>&);   \
    template Var<T> concat_columns(std::initializer_list<Var<T>>); \
    template Var<T> concat_columns(Var<T>, Var<T>);               \
    template Var<T> embedding(Var<T>, Var<T>);
XG_INSTANTIATE_FLOAT_DOUBLE(XG_SEQUENCE_OPS)
#undef XG_SEQUENCE_OPS

}  // namespace xg

// Helpers shared by the built-in ops. Internal to the library.
#pragma once

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "instantiate.hpp"
#include "messages.hpp"
#include "parallel.hpp"
#include "vmath.hpp"
#include "xgrad/graph.hpp"
#include "xgrad/op.hpp"
#include "xgrad/ops.hpp"

namespace xg::detail {

/// Build a node of op type OpT (constructed from `args`) on the graph of the
/// first input.
template <template <class> class OpT, class T, class... A>
Var<T> make_node(std::vector<Var<T>> inputs, A&&... args) {
    Graph<T>& g = inputs.front().graph();
    return g.apply(std::make_shared<const OpT<T>>(std::forward<A>(args)...), inputs);
}

/// Base of the unary elementwise ops: shape = input shape.
template <class T>
class UnaryOp : public Op<T> {
public:
    Shape shape(const ShapeContext& c) const override {
        c.require_arity(1);
        return c.shape(0);
    }
};

// The kinks of relu, leaky_relu, abs and softplus, written so that a NaN
// stays NaN (a comparison with NaN is false, so `x > 0 ? 1 : 0` would make it
// 0). Backward kernels multiply the incoming gradient by these factors, so a
// NaN gradient stays NaN as well (NaN · 0 is NaN), as the printed formula
// dX = g ⊙ step(X) computes it in IEEE arithmetic.

/// step(x) = 1 for x > 0, 0 for x ≤ 0, NaN for NaN. (Two plain selects:
/// `g * step_of(x)` in a loop vectorises.)
template <class T>
inline T step_of(T x) {
    const T s = x > T(0) ? T(1) : T(0);
    return x != x ? x : s;
}

/// sign(x) = 1, −1 or 0 (for ±0), NaN for NaN.
template <class T>
inline T sign_of(T x) {
    return x > T(0) ? T(1) : x < T(0) ? T(-1) : x == T(0) ? T(0) : x;
}

/// max(x, 0) (+0 for −0), NaN for NaN (std::max's answer for NaN depends on the argument order).
template <class T>
inline T max0(T x) {
    return x > T(0) ? x : x <= T(0) ? T(0) : x;
}

/// True when `op` is the built-in sigmoid (cross-entropy then fuses with it).
template <class T>
bool is_sigmoid(const Op<T>* op);

/// True when `op` is the built-in softmax.
template <class T>
bool is_softmax(const Op<T>* op);

/// Spelling of a function name in the three styles.
inline sym::Spelling fname(const char* unicode, const char* ascii, const char* latex) {
    return sym::Spelling{unicode, ascii, latex};
}

/// How equations spell Σ over an axis: "Σ", "Σ_rows" (1 × m), "Σ_columns" (n × 1).
inline sym::Spelling sum_spelling(Axis axis) {
    switch (axis) {
        case Axis::over_rows: return fname("Σ_rows", "sum_rows", "\\sum_{\\text{rows}}");
        case Axis::over_cols: return fname("Σ_columns", "sum_columns", "\\sum_{\\text{columns}}");
        case Axis::all: break;
    }
    return fname("Σ", "sum", "\\sum");
}

/// Σ over an axis applied to x, written as a prefix: "Σ_columns dZ".
inline sym::Expr sum_of(sym::Expr x, Axis axis = Axis::all) { return sym::fn(sum_spelling(axis), std::move(x), true); }

/// "what(r, c) = v" for entry k of the matrix `m`, v to full precision: how
/// value errors name an entry (detail::entry_text; a NaN entry is named by
/// `nan_entry`).
template <class T>
std::string entry(const std::string& what, ConstView<T> m, std::size_t k) {
    return entry_text(what, k / m.cols, k % m.cols, m[k]);
}

/// "what(r, c) is NaN": how value errors name a NaN they refuse.
template <class T>
std::string nan_entry(const std::string& what, ConstView<T> m, std::size_t k) {
    return what + "(" + std::to_string(k / m.cols) + ", " + std::to_string(k % m.cols) + ") is NaN";
}

/// Call fail(what) (which throws) unless every label lies in [0, 1]; a NaN
/// is named as such. The labels of the cross-entropies.
template <class T, class Fail>
void check_unit_labels(ConstView<T> y, Fail fail) {
    // One vector pass (vmath.hpp); the entry is looked for only when some
    // label is bad.
    if (vmath<T>().all_in_unit(y.data, y.size())) return;
    for (std::size_t k = 0; k < y.size(); ++k) {
        if (std::isnan(y[k])) fail(nan_entry("label Y", y, k));
        if (!(y[k] >= T(0) && y[k] <= T(1))) fail(entry("label Y", y, k) + " is outside [0, 1]");
    }
}

/// Σ f(k) over b ≤ k < e in double, in eight interleaved partial sums (entry
/// k to sum (k − b) mod 8) added pairwise, then the tail in order: a fixed
/// order whose additions do not wait on each other (one running sum is a
/// chain of e − b dependent additions).
template <class F>
double sum_in_double(std::size_t b, std::size_t e, F&& f) {
    double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    std::size_t k = b;
    for (; k + 8 <= e; k += 8) {
        for (std::size_t j = 0; j < 8; ++j) s[j] += f(k + j);
    }
    double r = ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]));
    for (; k < e; ++k) r += f(k);
    return r;
}

/// f(k) for every k < n, in chunks on the thread pool when n is large
/// (lib/parallel.hpp); f(k) writes entry k only.
template <class F>
void for_entries(std::size_t n, F&& f, std::size_t grain = grain_arith) {
    parallel_for(n, grain, [&f](std::size_t b, std::size_t e) {
        for (std::size_t k = b; k < e; ++k) f(k);
    });
}

/// sink[k] = f(k), or += when the sink accumulates: GradSink::store, in
/// chunks on the thread pool when large.
template <class T, class F>
void store(const GradSink<T>& s, F&& f, std::size_t grain = grain_arith) {
    T* d = s.view.data;
    if (s.accumulate) {
        parallel_for(s.view.size(), grain, [&](std::size_t b, std::size_t e) {
            for (std::size_t k = b; k < e; ++k) d[k] += f(k);
        });
    } else {
        parallel_for(s.view.size(), grain, [&](std::size_t b, std::size_t e) {
            for (std::size_t k = b; k < e; ++k) d[k] = f(k);
        });
    }
}

/// sink(i, j) = f(i, j), or += when the sink accumulates: for backward
/// formulas that need the row and column of each entry. In chunks of rows on
/// the thread pool when large.
template <class T, class F>
void store_2d(const GradSink<T>& s, F&& f) {
    const MutView<T> d = s.view;
    parallel_for(d.rows, lines_per_chunk(d.cols, grain_arith), [&](std::size_t ib, std::size_t ie) {
        for (std::size_t i = ib; i < ie; ++i) {
            T* row = d.data + i * d.cols;
            if (s.accumulate) {
                for (std::size_t j = 0; j < d.cols; ++j) row[j] += f(i, j);
            } else {
                for (std::size_t j = 0; j < d.cols; ++j) row[j] = f(i, j);
            }
        }
    });
}

}  // namespace xg::detail

// Broadcasting on 2-D matrices, and its adjoint. Internal to the library.
//
// Forward: numpy rules restricted to 2-D — each dimension equal, or 1 (a 1
// stretches). Backward: the adjoint of a broadcast is a sum over the
// stretched axes with keepdims. The engine applies it in one place
// (Graph::backward), never inside individual ops.
#pragma once

#include <algorithm>
#include <cstddef>

#include "parallel.hpp"
#include "vmath.hpp"
#include "xgrad/tensor.hpp"

namespace xg::detail {

/// dst (+)= s · Σ over the axes along which dst was broadcast to src's shape.
/// dst is r × c with r ∈ {1, R}, c ∈ {1, C}; src is R × C. Large sums run in
/// chunks on the thread pool (lib/parallel.hpp): each sum over a row (the
/// vector kernel's fixed order, vmath.hpp) or a column stays in one chunk,
/// and the sum over everything adds its chunks' sums in chunk order, so the
/// bits do not depend on the thread count.
template <class T>
void unbroadcast_into(ConstView<T> src, MutView<T> dst, bool accumulate, T s) {
    const std::size_t R = src.rows, C = src.cols;
    T* d = dst.data;
    const T* a = src.data;
    if (dst.rows == R && dst.cols == C) {
        parallel_for(R * C, grain_arith, [=](std::size_t b, std::size_t e) {
            if (accumulate) {
                if (s == T(1)) {
                    for (std::size_t k = b; k < e; ++k) d[k] += a[k];
                } else {
                    for (std::size_t k = b; k < e; ++k) d[k] += s * a[k];
                }
            } else if (s == T(1)) {
                std::copy(a + b, a + e, d + b);
            } else {
                for (std::size_t k = b; k < e; ++k) d[k] = s * a[k];
            }
        });
        return;
    }
    if (dst.cols == 1 && dst.rows == R) {  // n × 1 bias: Σ over columns, rows in parallel
        const auto sum = vmath<T>().sum;  // sixteen partial sums (vmath.hpp)
        parallel_for(R, lines_per_chunk(C, grain_arith), [=](std::size_t ib, std::size_t ie) {
            for (std::size_t i = ib; i < ie; ++i) {
                const T acc = sum(a + i * C, C);
                d[i] = accumulate ? d[i] + s * acc : s * acc;
            }
        });
        return;
    }
    if (dst.rows == 1 && dst.cols == C) {  // 1 × m row: Σ over rows, columns in parallel
        parallel_for(C, lines_per_chunk(R, grain_arith), [=](std::size_t jb, std::size_t je) {
            if (!accumulate) std::fill(d + jb, d + je, T(0));
            for (std::size_t i = 0; i < R; ++i) {
                const T* row = a + i * C;
                for (std::size_t j = jb; j < je; ++j) d[j] += s * row[j];
            }
        });
        return;
    }
    // 1 × 1: Σ over everything.
    const auto sum = vmath<T>().sum;
    const T acc = parallel_sum<T>(R * C, grain_arith, [=](std::size_t b, std::size_t e) { return sum(a + b, e - b); });
    d[0] = accumulate ? d[0] + s * acc : s * acc;
}

/// out(i, j) = f(a(i', j'), b(i'', j'')) with a and b broadcast to out's shape.
/// Fast paths for the cases a network meets: equal shapes, a column vector
/// (bias), a row vector, a scalar. Large outputs are written in chunks on the
/// thread pool. `out` may be the buffer of an operand of its own shape.
template <class T, class F>
void broadcast_binary(ConstView<T> a, ConstView<T> b, MutView<T> out, F f) {
    const std::size_t R = out.rows, C = out.cols;
    T* o = out.data;
    if (a.rows == R && a.cols == C && b.rows == R && b.cols == C) {
        parallel_for(R * C, grain_arith, [=](std::size_t kb, std::size_t ke) {
            for (std::size_t k = kb; k < ke; ++k) o[k] = f(a.data[k], b.data[k]);
        });
        return;
    }
    const std::size_t rows_per_chunk = lines_per_chunk(C, grain_arith);
    if (a.rows == R && a.cols == C && b.cols == 1 && b.rows == R) {
        parallel_for(R, rows_per_chunk, [=](std::size_t ib, std::size_t ie) {
            for (std::size_t i = ib; i < ie; ++i) {
                const T bi = b.data[i];
                const T* ar = a.data + i * C;
                T* orow = o + i * C;
                for (std::size_t j = 0; j < C; ++j) orow[j] = f(ar[j], bi);
            }
        });
        return;
    }
    if (b.rows == R && b.cols == C && a.cols == 1 && a.rows == R) {
        parallel_for(R, rows_per_chunk, [=](std::size_t ib, std::size_t ie) {
            for (std::size_t i = ib; i < ie; ++i) {
                const T ai = a.data[i];
                const T* br = b.data + i * C;
                T* orow = o + i * C;
                for (std::size_t j = 0; j < C; ++j) orow[j] = f(ai, br[j]);
            }
        });
        return;
    }
    // General case: index with stride 0 along stretched axes.
    const std::size_t ars = a.rows == 1 ? 0 : a.cols, acs = a.cols == 1 ? 0 : 1;
    const std::size_t brs = b.rows == 1 ? 0 : b.cols, bcs = b.cols == 1 ? 0 : 1;
    parallel_for(R, rows_per_chunk, [=](std::size_t ib, std::size_t ie) {
        for (std::size_t i = ib; i < ie; ++i) {
            for (std::size_t j = 0; j < C; ++j) {
                o[i * C + j] = f(a.data[i * ars + j * acs], b.data[i * brs + j * bcs]);
            }
        }
    });
}

/// The broadcast position of out(i, j) in an operand of shape `s` (for
/// backward formulas that need the operand's value at each output entry).
inline std::size_t broadcast_index(Shape s, std::size_t i, std::size_t j) {
    return (s.rows == 1 ? 0 : i) * s.cols + (s.cols == 1 ? 0 : j);
}

}  // namespace xg::detail

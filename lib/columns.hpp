// Gathering columns, out = A(:, cols): the copy loop behind the train/test
// split and the sharded mini-batches; its example-major twin behind
// MiniBatches (which keeps its data one example per row); and the input
// leaves a mini-batch source makes from its first columns.
#pragma once

#include <algorithm>
#include <cstddef>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "reshape_keeping.hpp"
#include "xgrad/graph.hpp"
#include "xgrad/tensor.hpp"

namespace xg::detail {

/// out = [A(:, cols[0]) … A(:, cols[n−1])], n_rows(A) × n. out takes its
/// shape through reshape_keeping with `spare`: a loop over batches of one
/// size reuses out, and batches alternating between two sizes (the full
/// ones and the smaller last one) swap two buffers without allocating.
template <class T>
void gather_columns(const Matrix<T>& A, const std::size_t* cols, std::size_t n, Matrix<T>& out, Matrix<T>& spare) {
    const std::size_t rows = A.shape()[0];
    reshape_keeping(out, spare, Shape{rows, n});
    for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t j = 0; j < n; ++j) out(r, j) = A(r, cols[j]);
    }
}

/// The same into a matrix of its own (out is resized when its shape differs).
template <class T>
void gather_columns(const Matrix<T>& A, const std::size_t* cols, std::size_t n, Matrix<T>& out) {
    Matrix<T> unused;  // out is a fresh result or keeps its shape: no spare is made
    gather_columns(A, cols, n, out, unused);
}

/// out = [E(rows[0], :)ᵀ … E(rows[n−1], :)ᵀ], n_x × n: the examples `rows` of
/// an example-major E (m × n_x, one example per row) as the columns of out.
/// The same numbers as gather_columns on Eᵀ, but each example is read as one
/// contiguous run (gathering columns of an n_x × m matrix touches one cache
/// line per entry). Tiles of 16 examples × 64 entries keep the writes, 16
/// adjacent entries of a row of out, within a few lines. `out` takes its
/// shape through reshape_keeping with `spare`, as in gather_columns.
template <class T>
void gather_rows_transposed(const Matrix<T>& E, const std::size_t* rows, std::size_t n, Matrix<T>& out,
                            Matrix<T>& spare) {
    const std::size_t len = E.shape()[1];
    reshape_keeping(out, spare, Shape{len, n});
    constexpr std::size_t tile_rows = 16, tile_len = 64;
    const T* e = E.data();
    T* o = out.data();
    for (std::size_t j0 = 0; j0 < n; j0 += tile_rows) {
        const std::size_t j1 = std::min(n, j0 + tile_rows);
        for (std::size_t r0 = 0; r0 < len; r0 += tile_len) {
            const std::size_t r1 = std::min(len, r0 + tile_len);
            for (std::size_t j = j0; j < j1; ++j) {
                const T* src = e + rows[j] * len;
                for (std::size_t r = r0; r < r1; ++r) o[r * n + j] = src[r];
            }
        }
    }
}

/// out = Aᵀ (A is r × c, out becomes c × r): every row of A, in order,
/// through gather_rows_transposed's tiles.
template <class T>
void transpose_into(const Matrix<T>& A, Matrix<T>& out) {
    std::vector<std::size_t> all(A.shape()[0]);
    std::iota(all.begin(), all.end(), std::size_t(0));
    Matrix<T> unused;  // out takes A's transposed shape: no spare is kept
    gather_rows_transposed(A, all.data(), all.size(), out, unused);
}

/// Input leaves named x_name and y_name holding the first b columns of X and
/// Y: the shape of a full batch, with the values of the first examples.
template <class T>
std::pair<Var<T>, Var<T>> first_columns_as_inputs(Graph<T>& g, const Matrix<T>& X, const Matrix<T>& Y, std::size_t b,
                                                  const std::string& x_name, const std::string& y_name) {
    std::vector<std::size_t> first(b);
    for (std::size_t j = 0; j < b; ++j) first[j] = j;
    Matrix<T> Xb, Yb;
    gather_columns(X, first.data(), b, Xb);
    gather_columns(Y, first.data(), b, Yb);
    Var<T> x = g.input(Xb, x_name);
    return {x, g.input(Yb, y_name)};
}

}  // namespace xg::detail

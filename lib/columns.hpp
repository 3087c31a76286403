// Gathering columns, out = A(:, cols): the one copy loop behind the
// train/test split and every kind of mini-batch, and the input leaves a
// mini-batch source makes from its first columns.
#pragma once

#include <cstddef>
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

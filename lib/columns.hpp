// Gathering columns, out = A(:, cols): the one copy loop behind the
// train/test split and every kind of mini-batch.
#pragma once

#include <cstddef>

#include "xgrad/tensor.hpp"

namespace xg::detail {

/// out = [A(:, cols[0]) … A(:, cols[n−1])], n_rows(A) × n; out is resized
/// only when its shape differs, so a loop over equal-sized batches reuses it.
template <class T>
void gather_columns(const Matrix<T>& A, const std::size_t* cols, std::size_t n, Matrix<T>& out) {
    const std::size_t rows = A.shape()[0];
    ensure_shape(out, Shape{rows, n});
    for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t j = 0; j < n; ++j) out(r, j) = A(r, cols[j]);
    }
}

}  // namespace xg::detail

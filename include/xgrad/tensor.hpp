// xgrad — the one header that includes xtensor. Every value in xgrad is a 2-D
// row-major matrix; examples are columns (X is n_x × m), a bias is n × 1, a
// scalar is 1 × 1.
#pragma once

#include <cstddef>
#include <string>

#include <xtensor/xtensor.hpp>

namespace xg {

/// The value type of every node: a row-major 2-D xtensor.
template <class T>
using Matrix = xt::xtensor<T, 2>;

/// Rows × columns of a matrix.
struct Shape {
    std::size_t rows = 0;
    std::size_t cols = 0;

    /// rows · cols.
    std::size_t size() const { return rows * cols; }
    friend bool operator==(Shape a, Shape b) { return a.rows == b.rows && a.cols == b.cols; }
    friend bool operator!=(Shape a, Shape b) { return !(a == b); }
};

/// "4x400": the form shapes take in error messages.
std::string to_string(Shape s);

/// rows · cols of `s`, checked first: the count of entries, and the bytes
/// they take at `element_size` bytes each, must be representable (at most
/// PTRDIFF_MAX bytes). Throws ShapeError "what: a [r x c] matrix of e-byte
/// values needs more than … bytes" otherwise, so that an absurd size is an
/// error before anything is allocated rather than a wrapped-around count.
/// Every place that makes a matrix of a computed or user-given shape checks it.
std::size_t checked_size(Shape s, std::size_t element_size, const std::string& what);

/// Shape of an xtensor matrix.
template <class T>
Shape shape_of(const Matrix<T>& m) {
    return Shape{m.shape()[0], m.shape()[1]};
}

/// A read-only window on a contiguous row-major matrix (what ops read).
template <class T>
struct ConstView {
    const T* data = nullptr;
    std::size_t rows = 0;
    std::size_t cols = 0;

    std::size_t size() const { return rows * cols; }
    Shape shape() const { return Shape{rows, cols}; }
    const T& operator()(std::size_t r, std::size_t c) const { return data[r * cols + c]; }
    const T& operator[](std::size_t k) const { return data[k]; }
};

/// A writable window on a contiguous row-major matrix (what ops write).
template <class T>
struct MutView {
    T* data = nullptr;
    std::size_t rows = 0;
    std::size_t cols = 0;

    std::size_t size() const { return rows * cols; }
    Shape shape() const { return Shape{rows, cols}; }
    T& operator()(std::size_t r, std::size_t c) const { return data[r * cols + c]; }
    T& operator[](std::size_t k) const { return data[k]; }
    operator ConstView<T>() const { return ConstView<T>{data, rows, cols}; }
};

/// A read-only view of `m` (no copy; valid while `m` keeps its buffer).
template <class T>
ConstView<T> view(const Matrix<T>& m) {
    return ConstView<T>{m.data(), m.shape()[0], m.shape()[1]};
}

/// A writable view of `m`.
template <class T>
MutView<T> view(Matrix<T>& m) {
    return MutView<T>{m.data(), m.shape()[0], m.shape()[1]};
}

/// Resize `m` to `s` only when its shape differs (keeps the buffer otherwise).
template <class T>
void ensure_shape(Matrix<T>& m, Shape s) {
    if (m.shape()[0] != s.rows || m.shape()[1] != s.cols) {
        m.resize({s.rows, s.cols});
    }
}

}  // namespace xg

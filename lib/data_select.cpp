// Selecting examples of plain matrices and data sets: a range of columns,
// and a random order.
#include <string>
#include <vector>

#include "columns.hpp"
#include "instantiate.hpp"
#include "xgrad/data.hpp"

namespace xg {

namespace {

/// ShapeError unless begin < end ≤ the columns of a matrix of shape s.
void check_range(const char* who, Shape s, std::size_t begin, std::size_t end) {
    const std::string range = "[" + std::to_string(begin) + ", " + std::to_string(end) + ")";
    std::string what;
    if (begin > end) what = "the range " + range + " is reversed (begin " + std::to_string(begin) + " > end " + std::to_string(end) + ")";
    else if (begin == end) what = "the range " + range + " is empty (it must hold at least one column)";
    else if (end > s.cols) what = "the range " + range + " reaches past the " + std::to_string(s.cols) + " columns";
    if (!what.empty()) throw ShapeError(std::string(who) + ": " + what + " of X [" + to_string(s) + "]");
}

std::vector<std::size_t> iota(std::size_t begin, std::size_t end) {
    std::vector<std::size_t> c;
    for (std::size_t j = begin; j < end; ++j) c.push_back(j);
    return c;
}

}  // namespace

// out = X[:, begin:end]
template <class T>
Matrix<T> columns_of(const Matrix<T>& X, std::size_t begin, std::size_t end) {
    check_range("columns_of", shape_of(X), begin, end);
    const std::vector<std::size_t> cols = iota(begin, end);
    Matrix<T> out;
    detail::gather_columns(X, cols.data(), cols.size(), out);
    return out;
}

template <class T>
Dataset<T> examples(const Dataset<T>& data, std::size_t begin, std::size_t end) {
    check_range("examples", shape_of(data.X), begin, end);
    const std::vector<std::size_t> cols = iota(begin, end);
    Dataset<T> out;
    out.classes = data.classes;
    detail::gather_columns(data.X, cols.data(), cols.size(), out.X);
    detail::gather_columns(data.Y, cols.data(), cols.size(), out.Y);
    return out;
}

template <class T>
Dataset<T> shuffled(const Dataset<T>& data, std::uint32_t seed) {
    Rng rng(seed);
    const std::vector<std::size_t> order = rng.permutation(data.size());
    Dataset<T> out;
    out.classes = data.classes;
    detail::gather_columns(data.X, order.data(), order.size(), out.X);
    detail::gather_columns(data.Y, order.data(), order.size(), out.Y);
    return out;
}

#define XG_DATA_SELECT_INSTANTIATIONS(T)                                              \
    template Matrix<T> columns_of(const Matrix<T>&, std::size_t, std::size_t);        \
    template Dataset<T> examples(const Dataset<T>&, std::size_t, std::size_t);        \
    template Dataset<T> shuffled(const Dataset<T>&, std::uint32_t);
XG_INSTANTIATE_FLOAT_DOUBLE(XG_DATA_SELECT_INSTANTIATIONS)
#undef XG_DATA_SELECT_INSTANTIATIONS

}  // namespace xg

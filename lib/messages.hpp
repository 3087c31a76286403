// Pieces of error messages shared by the data and file code.
#pragma once

#include <cmath>
#include <cstddef>
#include <sstream>
#include <string>

namespace xg {
namespace detail {

/// "what(r, c) = v", with v to full precision: the entry an error is about.
template <class T>
std::string entry_text(const std::string& what, std::size_t r, std::size_t c, T v) {
    std::ostringstream s;
    s.precision(17);
    s << what << "(" << r << ", " << c << ") = " << v;
    return s.str();
}

/// The index of the first NaN or ±Inf among p[0 .. n), or n when all are finite.
template <class T>
std::size_t first_non_finite(const T* p, std::size_t n) {
    for (std::size_t k = 0; k < n; ++k) {
        if (!std::isfinite(p[k])) return k;
    }
    return n;
}

/// "what(r, c) = v is not finite" for the first NaN or ±Inf among the n
/// entries at p (a row-major matrix of `cols` columns), or "" when all are
/// finite: how readers refuse non-finite data.
template <class T>
std::string non_finite_text(const std::string& what, const T* p, std::size_t n, std::size_t cols) {
    const std::size_t k = first_non_finite(p, n);
    return k == n ? std::string() : entry_text(what, k / cols, k % cols, p[k]) + " is not finite";
}

}  // namespace detail
}  // namespace xg

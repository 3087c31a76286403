// Pieces of error messages shared by the data and file code.
#pragma once

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

}  // namespace detail
}  // namespace xg

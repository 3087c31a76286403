// Shapes and the shape-error messages every op shares.
#include <cstdint>
#include <string>

#include "xgrad/op.hpp"

namespace xg {

std::string to_string(Shape s) { return std::to_string(s.rows) + "x" + std::to_string(s.cols); }

std::size_t checked_size(Shape s, std::size_t element_size, const std::string& what) {
    const std::size_t limit = std::size_t(PTRDIFF_MAX) / (element_size ? element_size : 1);
    if (s.rows != 0 && s.cols > limit / s.rows) {
        throw ShapeError(what + ": a [" + to_string(s) + "] matrix of " + std::to_string(element_size) +
                         "-byte values would need more than " + std::to_string(PTRDIFF_MAX) +
                         " bytes, more than any machine can address");
    }
    return s.rows * s.cols;
}

void ShapeContext::fail(const std::string& what) const {
    std::string head = op_ + "(";
    std::string tail;
    for (std::size_t i = 0; i < shapes_.size(); ++i) {
        if (i) {
            head += ", ";
            tail += ", ";
        }
        head += names_[i];
        tail += names_[i] + " [" + to_string(shapes_[i]) + "]";
    }
    throw ShapeError(head + "): " + what + ": " + tail);
}

void ShapeContext::require_arity(std::size_t n) const {
    if (shapes_.size() != n) {
        fail("expects " + std::to_string(n) + " input" + (n == 1 ? "" : "s") + ", got " +
             std::to_string(shapes_.size()));
    }
}

void ShapeContext::require_same(std::size_t i, std::size_t j, const std::string& what) const {
    if (shape(i) != shape(j)) fail(what);
}

Shape ShapeContext::broadcast() const {
    Shape out{1, 1};
    for (const Shape& s : shapes_) {
        const auto join = [&](std::size_t& o, std::size_t d) {
            if (o == d || d == 1) return;
            if (o == 1) {
                o = d;
                return;
            }
            fail("cannot broadcast (each dimension must be equal, or 1)");
        };
        join(out.rows, s.rows);
        join(out.cols, s.cols);
    }
    return out;
}

}  // namespace xg

// Hyper-parameters in error messages, shared by the layers (nn.cpp) and the
// optimisers (optim.cpp): how a number prints, and the usual check.
#pragma once

#include <cmath>
#include <cstdio>
#include <string>

#include "xgrad/error.hpp"

namespace xg {
namespace detail {

/// A hyper-parameter as it prints in messages and descriptions: "0.01", "1e-08".
inline std::string number_text(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

/// ValueError "who: the what must be finite and not negative, got v" unless 0 ≤ v < ∞.
inline void require_finite_non_negative(const std::string& who, const char* what, double v) {
    if (!std::isfinite(v) || v < 0) {
        throw ValueError(who + ": the " + what + " must be finite and not negative, got " + number_text(v));
    }
}

}  // namespace detail
}  // namespace xg

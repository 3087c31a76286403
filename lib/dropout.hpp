// What the gradient checker needs to know about dropout nodes. Internal to the library.
#pragma once

#include "xgrad/op.hpp"

namespace xg::detail {

/// The keep probability of a dropout op, or 0 when `op` is not dropout.
template <class T>
double dropout_keep_prob(const Op<T>* op);

}  // namespace xg::detail

// Helpers shared by the built-in ops. Internal to the library.
#pragma once

#include <cmath>
#include <memory>
#include <vector>

#include "xgrad/graph.hpp"
#include "xgrad/op.hpp"

namespace xg::detail {

/// Build a node of op type OpT (constructed from `args`) on the graph of the
/// first input.
template <template <class> class OpT, class T, class... A>
Var<T> make_node(std::vector<Var<T>> inputs, A&&... args) {
    Graph<T>& g = inputs.front().graph();
    return g.apply(std::make_shared<const OpT<T>>(std::forward<A>(args)...), inputs);
}

/// σ(x), evaluated without overflow for any finite x.
template <class T>
inline T stable_sigmoid(T x) {
    if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
    const T e = std::exp(x);
    return e / (T(1) + e);
}

/// True when `op` is the built-in sigmoid (cross-entropy then fuses with it).
template <class T>
bool is_sigmoid(const Op<T>* op);

/// Spelling of a function name in the three styles.
inline sym::Spelling fname(const char* unicode, const char* ascii, const char* latex) {
    return sym::Spelling{unicode, ascii, latex};
}

}  // namespace xg::detail

// xgrad — the built-in ops as functions on Vars. Each builds one node, checks
// shapes at once (ShapeError naming the op, the nodes and their shapes) and
// computes its value. Shapes: examples are columns, so X is n × m.
#pragma once

#include "xgrad/graph.hpp"

namespace xg {

/// C = A · B (BLAS gemm). A: n × k, B: k × m → C: n × m.
/// dA = g · Bᵀ, dB = Aᵀ · g. ShapeError when the inner dimensions differ.
template <class T>
Var<T> matmul(Var<T> a, Var<T> b);

/// C = A + B with 2-D broadcasting: each dimension equal, or 1 (a bias n × 1
/// is added to every column, a row 1 × m to every row, a 1 × 1 to everything).
/// dA = g, dB = g, summed over the stretched axes with keepdims (db = Σ_columns g).
template <class T>
Var<T> add(Var<T> a, Var<T> b);

template <class T>
Var<T> operator+(Var<T> a, Var<T> b) { return add(a, b); }

/// y = σ(x) = 1 / (1 + e^−x), elementwise. dx = g ⊙ y ⊙ (1 − y).
template <class T>
Var<T> sigmoid(Var<T> x);

/// y = tanh(x), elementwise. dx = g ⊙ (1 − y²).
template <class T>
Var<T> tanh(Var<T> x);

/// J = −(1/m) Σ [Y log A + (1 − Y) log(1 − A)], summed over every entry of
/// the n × m prediction A and divided by its m columns; a 1 × 1 node.
/// Y has A's shape with labels in [0, 1] (ValueError otherwise, checked on
/// every forward). When A = sigmoid(Z) the loss is evaluated from the logits
/// Z (finite for |Z| in the thousands) and the gradient goes straight to Z:
/// dZ = g · (A − Y) / m, never dividing by A(1 − A). Otherwise A must lie in
/// the open interval (0, 1) (ValueError), and dA = g · (A − Y) / (A (1 − A) m).
template <class T>
Var<T> binary_cross_entropy(Var<T> a, Var<T> y);

/// The same loss written with the logits: J = BCE(σ(Z), Y), dZ = g · (σ(Z) − Y) / m.
template <class T>
Var<T> binary_cross_entropy_with_logits(Var<T> z, Var<T> y);

}  // namespace xg

// xgrad — show the derivation. `explain(J)` prints the forward graph of a loss
// as equations and the reverse sweep as the equations the engine executes,
// each composed from the formulas the ops carry next to their backward code
// (Op::formula, Op::grad_formula) — nothing is a template for one network.
// For the two-layer network of the lecture (docs/explain.md):
//
//   forward:                      backward:
//     Z1 = W1 · X + b1              dZ2 = (A2 − Y) / m
//     A1 = tanh(Z1)                 dW2 = dZ2 · A1ᵀ
//     Z2 = W2 · A1 + b2             db2 = Σ_columns dZ2
//     A2 = σ(Z2)                    dA1 = W2ᵀ · dZ2
//     J  = −(1 / m) Σ(…)            dZ1 = dA1 ⊙ (1 − A1²)
//                                   dW1 = dZ1 · Xᵀ
//                                   db1 = Σ_columns dZ1
//
// The rules:
// - Backward mirrors Graph::backward: a node gets a gradient when it requires
//   one and lies on a path to the loss through differentiable inputs; its
//   gradient is the sum of its consumers' contributions, in the order the
//   sweep adds them; where an op broadcasts an input, the contribution is
//   summed over the stretched axes (Σ_columns, Σ_rows, Σ_all, keepdims).
//   The loss's gradient is 1, written into the formulas (1 ⊙ x → x); the
//   seed's own line dJ = 1 shows with all_nodes (or when J is a parameter).
// - Folding (unless all_nodes): an unnamed op node whose gradient is one
//   identity contribution of its own shape (t = W1 · X under Z1 = t + b1)
//   gets no line; its gradient is its consumer's (dW1 = dZ1 · Xᵀ).
// - Inlining (unless all_nodes): an unnamed op node read once, whose gradient
//   has no line of its own, is written into the formula that reads it
//   (Z1 = W1 · X + b1), up to 8 ops deep. Every other op node on the loss's
//   graph gets a line; leaves (inputs, parameters) get none.
// - Order: forward lines in creation order. Backward lines in the order the
//   sweep finishes them (a folded node's visit counts as its consumer's);
//   within one visit, leaves first (in creation order), then intermediate
//   nodes (in sweep order); a line never comes before a line it reads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "xgrad/formula.hpp"
#include "xgrad/graph.hpp"

namespace xg {

/// How `explain` prints.
struct ExplainOptions {
    sym::Style style = sym::Style::unicode;  ///< unicode (W2ᵀ · dZ2), ascii (W2.T @ dZ2), latex
    bool shapes = false;     ///< list the leaves and end each line with its shape: [4×1]
    bool all_nodes = false;  ///< one line per node: no folding, no inlining, and dJ = 1
    /// Fold the steps of an unrolled sequence (nodes named name<1>, name<2>, …)
    /// into one line per equation with the time index t (see fold_steps);
    /// never with all_nodes.
    bool fold_steps = true;
};

/// One line: `lhs = rhs`, defining the value (forward) or the gradient
/// (backward) of `node`. `rhs` is over sym::var(name) and sym::m().
struct Equation {
    std::uint32_t node = 0;
    std::string lhs;  ///< "Z1", "dW1"
    sym::Expr rhs;
    Shape shape;      ///< of the value, which is also that of the gradient
    /// For a line folded over time steps, the steps it stands for: "t = 1 … 4"
    /// (empty otherwise).
    std::string steps;
};

/// A leaf of the loss's graph (no equation: its value is given).
struct Leaf {
    std::uint32_t node = 0;
    std::string name;
    NodeKind kind = NodeKind::input;
    Shape shape;
};

/// The derivation of a loss: its leaves, the forward equations and the
/// backward equations, in the order described at the top of this header.
struct Explanation {
    std::vector<Leaf> leaves;
    std::vector<Equation> forward;
    std::vector<Equation> backward;
};

/// The equations of the graph of `loss` (a 1 × 1 node) and of its reverse
/// sweep. Throws GraphError for a non-scalar loss, as backward() does.
template <class T>
Explanation derive(Var<T> loss, bool all_nodes = false);

/// `derivation` as text, one equation a line under "forward:" and
/// "backward:" (LaTeX: two aligned environments). With `shapes`, a
/// "leaves:" section first and each line's shape at its end.
std::string render(const Explanation& derivation, sym::Style style = sym::Style::unicode, bool shapes = false);

/// The steps of an unrolled sequence folded, as backpropagation through time
/// is written by hand. Nodes named "name<k>" (k = 0, 1, 2, …, as unroll
/// names a<1> … a<T>, and initial_state a<0>) are step k of "name<t>". The
/// equations of one name whose right-hand sides differ only in the steps
/// they read — the same text once each name<j> is written name<t+δ> with
/// δ = j − k — become one line "dz<t> = da<t> ⊙ (1 − a<t>²)", with `steps`
/// "t = 1 … 4", at the place of the first of them; a step whose equation
/// differs (the last one, which no later step reads) keeps its own line. In
/// a line of a name without a step (a parameter's gradient), the terms of a
/// sum that differ only in their steps become one term Σ_t: dWaa =
/// Σ_t dz<t> · a<t-1>ᵀ. Equations of other nodes are unchanged.
Explanation fold_steps(const Explanation& derivation);

/// render(derive(loss, o.all_nodes), o.style, o.shapes), the steps folded
/// (fold_steps) when o.fold_steps and not o.all_nodes.
template <class T>
std::string explain(Var<T> loss, const ExplainOptions& o = {});

/// What `to_dot` draws.
struct DotOptions {
    bool gradients = true;  ///< draw the gradient flow: one dashed red edge per contribution, labelled with it
    bool shapes = true;     ///< print each node's shape
};

/// The graph of `loss` in Graphviz DOT: every node (name, op, shape; leaves
/// as ellipses, parameters shaded), a black edge from each input to its
/// consumer, and the gradient flow — a red dashed edge against each forward
/// edge a gradient travels, labelled with that contribution (every node
/// drawn, so the contributions are those of all_nodes). Render with
/// `dot -Tsvg graph.dot -o graph.svg`. Throws GraphError for a non-scalar loss.
template <class T>
std::string to_dot(Var<T> loss, const DotOptions& o = {});

}  // namespace xg

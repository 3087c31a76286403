// xgrad — recurrent cells (RNN, LSTM, GRU), unrolling them over a sequence,
// and gradient clipping by global norm.
//
// A sequence is a list of nodes x⟨1⟩ … x⟨T⟩, each n_x × m (one column per
// example, as everywhere in xgrad). A cell maps one step's input and the
// previous hidden state to the next state; unrolling applies it T times in
// one graph, so backpropagation through time is the ordinary reverse sweep
// (each weight's gradient is the sum of its T contributions). The cells are
// composed from the ops of xgrad/ops.hpp — matmul, concat_rows, rows,
// sigmoid, tanh, ⊙ — and have no backward of their own.
//
// Sequences of different lengths: build (or cache) one graph per length and
// replay it on the batches of that length; the graphs share the cells'
// Parameters (docs/reference/recurrent.md). Truncated backpropagation through time:
// the state enters each segment as an input leaf (`initial_state`), and after
// a step the last state's value is copied into it with Graph::set_value, so no
// gradient flows into the previous segment; detach(state) does the same
// inside one graph.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "xgrad/graph.hpp"
#include "xgrad/nn.hpp"
#include "xgrad/ops.hpp"
#include "xgrad/random.hpp"

namespace xg {

// ---- RNNCell -------------------------------------------------------------------

/// The basic recurrent cell, in the course's notation:
///
///     a⟨t⟩ = tanh(Waa · a⟨t−1⟩ + Wax · x⟨t⟩ + ba)
///
/// Waa: n_a × n_a, Wax: n_a × n_x, ba: n_a × 1; x⟨t⟩: n_x × m, a⟨t⟩: n_a × m.
/// Parameters are named "Waa", "Wax", "ba" followed by the label. Copies
/// share the Parameters.
template <class T>
class RNNCell {
public:
    /// A cell with Waa and Wax drawn by `initializer` from `rng` (Waa first)
    /// and ba = 0. ValueError for a size of 0 or a label that would not make
    /// file names.
    RNNCell(std::size_t n_x, std::size_t n_a, Rng& rng, const Initializer& initializer = init::xavier(),
            const std::string& label = "");
    /// A cell over existing parameters (e.g. loaded from files), which keep
    /// their names; `label` names the nodes of step(). ShapeError unless Waa
    /// is n_a × n_a, Wax n_a × n_x and ba n_a × 1 (sizes at least 1);
    /// GraphError for an empty handle.
    RNNCell(Parameter<T> Waa, Parameter<T> Wax, Parameter<T> ba, const std::string& label = "");

    /// a_next = tanh(Waa · a_prev + Wax · x + ba), built on x's graph (node
    /// names "a" + label + "<t>" are up to the caller). ShapeError naming the
    /// cell, the nodes and their shapes when x does not have n_x rows or
    /// a_prev is not n_a × m (m the columns of x); nothing is built then.
    Var<T> operator()(Var<T> x, Var<T> a_prev) const;
    /// The same as step t of a sequence (t ≥ 1): the pre-activation is named
    /// "z" + label + "<t>" and the state "a" + label + "<t>", the names
    /// `explain` folds into one equation per line with the time index t.
    /// t = 0 names nothing (operator()).
    Var<T> step(Var<T> x, Var<T> a_prev, std::size_t t) const;

    Parameter<T> Waa;
    Parameter<T> Wax;
    Parameter<T> ba;

    /// {Waa, Wax, ba}.
    std::vector<Parameter<T>> parameters() const { return {Waa, Wax, ba}; }
    std::size_t n_x() const { return Wax.shape().cols; }
    std::size_t n_a() const { return Waa.shape().rows; }
    /// "RNNCell 3 -> 5" (n_x -> n_a).
    std::string describe() const;
    /// The label its parameter and node names end with.
    const std::string& label() const { return label_; }

private:
    std::string label_;
};

// ---- LSTMCell ------------------------------------------------------------------

/// The state an LSTM carries: the hidden state a and the memory cell c, both n_a × m.
template <class T>
struct LSTMState {
    Var<T> a;
    Var<T> c;
};

/// The long short-term memory cell, in the course's notation, with
/// concat = [a⟨t−1⟩; x⟨t⟩] ((n_a + n_x) × m):
///
///     Γf = σ(Wf · concat + bf)      Γi = σ(Wi · concat + bi)
///     c̃  = tanh(Wc · concat + bc)   Γo = σ(Wo · concat + bo)
///     c⟨t⟩ = Γf ⊙ c⟨t−1⟩ + Γi ⊙ c̃     a⟨t⟩ = Γo ⊙ tanh(c⟨t⟩)
///
/// Weight layout: the four gates' weights stacked in one W = [Wf; Wi; Wc; Wo]
/// (4 n_a × (n_a + n_x); in each block the first n_a columns multiply
/// a⟨t−1⟩, the last n_x multiply x⟨t⟩) and b = [bf; bi; bc; bo] (4 n_a × 1),
/// so a step is one matmul whose rows are then cut into the gates (rows()).
/// Parameters "W" and "b" followed by the label. Copies share the Parameters.
template <class T>
class LSTMCell {
public:
    /// W drawn by `initializer` as one 4 n_a × (n_a + n_x) matrix, b = 0 except
    /// the forget gate's bf = forget_bias (1 by default, so that the cell
    /// starts by keeping its memory). ValueError for a size of 0 or a bad label.
    LSTMCell(std::size_t n_x, std::size_t n_a, Rng& rng, const Initializer& initializer = init::xavier(),
             const std::string& label = "", double forget_bias = 1.0);
    /// A cell over existing parameters, which keep their names. ShapeError
    /// unless W is 4 n_a × (n_a + n_x) and b 4 n_a × 1 (n_a, n_x ≥ 1);
    /// GraphError for an empty handle.
    LSTMCell(Parameter<T> W, Parameter<T> b, const std::string& label = "");

    /// One step: the next {a, c} from x (n_x × m) and the previous state.
    /// ShapeError naming the cell, the nodes and their shapes when x does not
    /// have n_x rows or a state is not n_a × m; nothing is built then.
    LSTMState<T> operator()(Var<T> x, LSTMState<T> prev) const;
    /// The same as step t (t ≥ 1), its nodes named with the label and "<t>":
    /// concat, z (= W · concat + b), the gates' pre-activations zf, zi, zc,
    /// zo, the gates f, i, cc (c̃), o, the cell c, tanh_c (tanh(c)) and the
    /// state a. t = 0 names nothing (operator()).
    LSTMState<T> step(Var<T> x, LSTMState<T> prev, std::size_t t) const;

    Parameter<T> W;
    Parameter<T> b;

    /// {W, b}.
    std::vector<Parameter<T>> parameters() const { return {W, b}; }
    std::size_t n_x() const { return W.shape().cols - n_a(); }
    std::size_t n_a() const { return W.shape().rows / 4; }
    /// "LSTMCell 3 -> 5".
    std::string describe() const;
    /// The label its parameter and node names end with.
    const std::string& label() const { return label_; }

private:
    std::string label_;
};

// ---- GRUCell -------------------------------------------------------------------

/// The gated recurrent unit (Cho et al., 2014), with concat = [h⟨t−1⟩; x⟨t⟩]:
///
///     Γu = σ(Wu · concat + bu)      Γr = σ(Wr · concat + br)
///     h̃  = tanh(Wh · [Γr ⊙ h⟨t−1⟩; x⟨t⟩] + bh)
///     h⟨t⟩ = (1 − Γu) ⊙ h⟨t−1⟩ + Γu ⊙ h̃
///
/// Weight layout: W = [Wu; Wr] (2 n_h × (n_h + n_x)), b = [bu; br]
/// (2 n_h × 1), Wh (n_h × (n_h + n_x)), bh (n_h × 1); in each the first n_h
/// columns multiply the state, the last n_x the input. Parameters "W", "b",
/// "Wh", "bh" followed by the label.
template <class T>
class GRUCell {
public:
    /// W and Wh drawn by `initializer` (W first), biases 0. ValueError for a
    /// size of 0 or a bad label.
    GRUCell(std::size_t n_x, std::size_t n_h, Rng& rng, const Initializer& initializer = init::xavier(),
            const std::string& label = "");
    /// A cell over existing parameters, which keep their names. ShapeError
    /// unless Wh is n_h × (n_h + n_x), W 2 n_h × (n_h + n_x), b 2 n_h × 1 and
    /// bh n_h × 1 (n_h, n_x ≥ 1); GraphError for an empty handle.
    GRUCell(Parameter<T> W, Parameter<T> b, Parameter<T> Wh, Parameter<T> bh, const std::string& label = "");

    /// h_next from x (n_x × m) and h_prev (n_h × m). ShapeError as RNNCell's.
    Var<T> operator()(Var<T> x, Var<T> h_prev) const;
    /// The same as step t (t ≥ 1), its nodes named with the label and "<t>":
    /// concat, zg (the gates' pre-activation), g (both gates), u, r, rh
    /// (Γr ⊙ h⟨t−1⟩), concat_r, zh, hh (h̃), uc (1 − Γu) and the state h.
    /// t = 0 names nothing (operator()).
    Var<T> step(Var<T> x, Var<T> h_prev, std::size_t t) const;

    Parameter<T> W;
    Parameter<T> b;
    Parameter<T> Wh;
    Parameter<T> bh;

    /// {W, b, Wh, bh}.
    std::vector<Parameter<T>> parameters() const { return {W, b, Wh, bh}; }
    std::size_t n_x() const { return Wh.shape().cols - n_h(); }
    std::size_t n_h() const { return Wh.shape().rows; }
    /// "GRUCell 3 -> 5".
    std::string describe() const;
    /// The label its parameter and node names end with.
    const std::string& label() const { return label_; }

private:
    std::string label_;
};

// ---- unrolling -----------------------------------------------------------------

/// A state of zeros, n_a × m, as an input leaf named `name` of `g`: the
/// initial state of a sequence, or the carried state of truncated
/// backpropagation through time (replace its value with Graph::set_value).
/// Named "a<0>" by default, so that `explain` reads it as step 0 of a⟨t⟩.
/// ValueError for a size of 0.
template <class T>
Var<T> initial_state(Graph<T>& g, std::size_t n_a, std::size_t m, const std::string& name = "a<0>");

/// The states a⟨1⟩ … a⟨T⟩ of `cell` run over xs = x⟨1⟩ … x⟨T⟩ from a0, all in
/// one graph: step t is cell.step(x⟨t⟩, a⟨t−1⟩, t), so its nodes are named
/// "z<t>", "a<t>" (with the cell's label: "a1<t>"), and `explain` prints the
/// T steps as one set of equations with the time index. ValueError for a
/// sequence of length 0; ShapeError (from the cell) for a step or a state of
/// the wrong shape, before any node of that step is built.
template <class T>
std::vector<Var<T>> unroll(const RNNCell<T>& cell, const std::vector<Var<T>>& xs, Var<T> a0);
/// The same for an LSTM: the states {a⟨t⟩, c⟨t⟩}, named "a<t>" and "c<t>".
template <class T>
std::vector<LSTMState<T>> unroll(const LSTMCell<T>& cell, const std::vector<Var<T>>& xs, LSTMState<T> s0);
/// The same for a GRU: h⟨1⟩ … h⟨T⟩, named "h<t>".
template <class T>
std::vector<Var<T>> unroll(const GRUCell<T>& cell, const std::vector<Var<T>>& xs, Var<T> h0);

// ---- gradient clipping ---------------------------------------------------------

/// Clip by global norm: N = √(Σ over every parameter's gradient of its squared
/// entries); when N > max_norm, every gradient is multiplied by
/// max_norm / (N + 1e-6), as PyTorch's clip_grad_norm_ does, so the
/// direction is kept and the norm becomes (just under) max_norm. Returns N,
/// the norm before clipping (NaN or ∞ passes through unclipped, so a
/// diverging run shows). ValueError when max_norm is not positive and finite.
template <class T>
double clip_grad_norm(const std::vector<Parameter<T>>& parameters, double max_norm);

extern template class RNNCell<float>;
extern template class RNNCell<double>;
extern template class LSTMCell<float>;
extern template class LSTMCell<double>;
extern template class GRUCell<float>;
extern template class GRUCell<double>;

}  // namespace xg

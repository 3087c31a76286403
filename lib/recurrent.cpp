// Recurrent cells composed from the public ops (no backward of their own),
// unrolling over a sequence, and clipping gradients by their global norm.
#include "xgrad/recurrent.hpp"

#include <cmath>

#include "instantiate.hpp"
#include "hyper_params.hpp"
#include "io_internal.hpp"

namespace xg {

namespace {

/// ValueError unless the sizes are positive and the parameter names the
/// label makes are file names.
void check_cell(const std::string& kind, std::size_t n_x, std::size_t n_a, const std::string& label) {
    if (n_x == 0 || n_a == 0) {
        throw ValueError(kind + ": sizes must be at least 1 (n_x = " + std::to_string(n_x) + ", state " +
                         std::to_string(n_a) + ")");
    }
    const std::string problem = detail::parameter_name_problem("W" + label);
    if (!problem.empty()) {
        throw ValueError(kind + ": the label '" + label + "' would not make parameter file names (W" + label + ": " +
                         problem + ")");
    }
}

/// Before a step is built: x must have n_x rows and each state be n × m
/// (m = x's columns), all on x's graph. ShapeError / GraphError naming the
/// cell, the nodes and their shapes.
template <class T>
void check_step(const std::string& cell, Var<T> x, std::size_t n_x, std::size_t n, const std::vector<Var<T>>& states,
                const char* state_name) {
    Graph<T>& g = x.graph();
    const Shape xs = x.shape();
    if (xs.rows != n_x) {
        throw ShapeError(cell + ": input " + x.name() + " is [" + to_string(xs) + "]; the cell takes " +
                         std::to_string(n_x) + " rows (n_x), one column per example");
    }
    for (const Var<T>& s : states) {
        if (!s) throw GraphError(cell + ": the " + state_name + " state is an empty Var (no graph)");
        if (&s.graph() != &g) {
            throw GraphError(cell + ": the state " + s.name() + " belongs to another graph than the input " + x.name());
        }
        if (s.shape() != Shape{n, xs.cols}) {
            throw ShapeError(cell + ": the " + state_name + " state " + s.name() + " is [" + to_string(s.shape()) +
                             "], but must be " + std::to_string(n) + "x" + std::to_string(xs.cols) +
                             " (the state size by the columns of the input " + x.name() + " [" + to_string(xs) + "])");
        }
    }
}

std::string sizes(const char* kind, std::size_t n_x, std::size_t n) {
    return std::string(kind) + " " + std::to_string(n_x) + " -> " + std::to_string(n);
}

std::string step_name(const char* what, const std::string& label, std::size_t t) {
    return what + label + "<" + std::to_string(t) + ">";
}

/// Names the nodes of step t of a cell (nothing for t = 0).
struct Namer {
    const std::string& label;
    std::size_t t;
    template <class T>
    Var<T> operator()(Var<T> v, const char* what) const {
        return t == 0 ? v : v.named(step_name(what, label, t));
    }
};

/// GraphError for an empty handle; ShapeError unless each parameter has the
/// shape the cell needs (`want`, in order), naming them all.
template <class T>
void check_parameters(const std::string& kind, const std::vector<Parameter<T>>& ps, const std::vector<Shape>& want,
                      bool sizes_ok) {
    std::string have;
    bool ok = sizes_ok;
    for (std::size_t k = 0; k < ps.size(); ++k) {
        if (!ps[k]) throw GraphError(kind + ": empty Parameter handle (no storage)");
        have += (k ? ", " : "") + ps[k].name() + " [" + to_string(ps[k].shape()) + "]";
        ok = ok && ps[k].shape() == want[k];
    }
    if (!ok) {
        std::string need;
        for (std::size_t k = 0; k < want.size(); ++k) need += (k ? ", " : "") + to_string(want[k]);
        throw ShapeError(kind + ": the parameters do not fit one cell: " + have + "; a cell of these sizes needs " + need);
    }
}

template <class Cell>
void check_length(const Cell& cell, std::size_t T) {
    if (T == 0) throw ValueError("unroll(" + cell.describe() + "): a sequence of length 0 (give at least one step)");
}

}  // namespace

// ---- RNNCell -------------------------------------------------------------------

template <class T>
RNNCell<T>::RNNCell(std::size_t n_x, std::size_t n_a, Rng& rng, const Initializer& initializer, const std::string& label)
    : label_(label) {
    check_cell("RNNCell", n_x, n_a, label);
    Waa = Parameter<T>(initial_weights<T>(initializer, n_a, n_a, rng), "Waa" + label);
    Wax = Parameter<T>(initial_weights<T>(initializer, n_a, n_x, rng), "Wax" + label);
    ba = Parameter<T>(xt::zeros<T>({n_a, std::size_t(1)}), "ba" + label);
}

template <class T>
RNNCell<T>::RNNCell(Parameter<T> Waa_, Parameter<T> Wax_, Parameter<T> ba_, const std::string& label)
    : Waa(std::move(Waa_)), Wax(std::move(Wax_)), ba(std::move(ba_)), label_(label) {
    const std::size_t n = Waa ? Waa.shape().rows : 0, n_x = Wax ? Wax.shape().cols : 0;
    check_parameters<T>("RNNCell", {Waa, Wax, ba}, {{n, n}, {n, n_x}, {n, 1}}, n > 0 && n_x > 0);
}

template <class T>
std::string RNNCell<T>::describe() const {
    return sizes("RNNCell", n_x(), n_a());
}

// a⟨t⟩ = tanh(Waa · a⟨t−1⟩ + Wax · x⟨t⟩ + ba)
template <class T>
Var<T> RNNCell<T>::operator()(Var<T> x, Var<T> a_prev) const {
    return step(x, a_prev, 0);
}

template <class T>
Var<T> RNNCell<T>::step(Var<T> x, Var<T> a_prev, std::size_t t) const {
    check_step<T>(describe(), x, n_x(), n_a(), {a_prev}, "previous");
    Graph<T>& g = x.graph();
    const Namer name{label_, t};
    // The parameter leaves first, in a fixed order (not the compiler's order of evaluating operands).
    const Var<T> waa = g.parameter(Waa), wax = g.parameter(Wax), bias = g.parameter(ba);
    const Var<T> za = matmul(waa, a_prev), zx = matmul(wax, x);
    const Var<T> z = name(za + zx + bias, "z");
    return name(tanh(z), "a");
}

// ---- LSTMCell ------------------------------------------------------------------

template <class T>
LSTMCell<T>::LSTMCell(std::size_t n_x, std::size_t n_a, Rng& rng, const Initializer& initializer,
                      const std::string& label, double forget_bias)
    : label_(label) {
    check_cell("LSTMCell", n_x, n_a, label);
    if (!std::isfinite(forget_bias)) throw ValueError("LSTMCell: the forget bias is not finite");
    W = Parameter<T>(initial_weights<T>(initializer, 4 * n_a, n_a + n_x, rng), "W" + label);
    Matrix<T> b0 = xt::zeros<T>({4 * n_a, std::size_t(1)});
    for (std::size_t i = 0; i < n_a; ++i) b0(i, 0) = T(forget_bias);
    b = Parameter<T>(std::move(b0), "b" + label);
}

template <class T>
LSTMCell<T>::LSTMCell(Parameter<T> W_, Parameter<T> b_, const std::string& label)
    : W(std::move(W_)), b(std::move(b_)), label_(label) {
    const Shape w = W ? W.shape() : Shape{};
    const std::size_t n = w.rows / 4;
    check_parameters<T>("LSTMCell", {W, b}, {{4 * n, w.cols}, {4 * n, 1}}, n > 0 && w.cols > n && w.rows % 4 == 0);
}

template <class T>
std::string LSTMCell<T>::describe() const {
    return sizes("LSTMCell", n_x(), n_a());
}

// Γ = W · [a⟨t−1⟩; x⟨t⟩] + b cut into Γf, Γi, c̃, Γo;
// c⟨t⟩ = Γf ⊙ c⟨t−1⟩ + Γi ⊙ c̃;  a⟨t⟩ = Γo ⊙ tanh(c⟨t⟩)
template <class T>
LSTMState<T> LSTMCell<T>::operator()(Var<T> x, LSTMState<T> prev) const {
    return step(x, prev, 0);
}

template <class T>
LSTMState<T> LSTMCell<T>::step(Var<T> x, LSTMState<T> prev, std::size_t t) const {
    const std::size_t n = n_a();
    check_step<T>(describe(), x, n_x(), n, {prev.a, prev.c}, "previous");
    Graph<T>& g = x.graph();
    const Namer name{label_, t};
    const Var<T> w = g.parameter(W), bias = g.parameter(b);  // in this order, whatever the compiler
    const Var<T> z = name(matmul(w, name(concat_rows(prev.a, x), "concat")) + bias, "z");
    const Var<T> f = name(sigmoid(name(rows(z, 0, n), "zf")), "f");
    const Var<T> i = name(sigmoid(name(rows(z, n, 2 * n), "zi")), "i");
    const Var<T> cc = name(tanh(name(rows(z, 2 * n, 3 * n), "zc")), "cc");
    const Var<T> o = name(sigmoid(name(rows(z, 3 * n, 4 * n), "zo")), "o");
    const Var<T> kept = f * prev.c, added = i * cc;  // one statement each: the node order is fixed
    const Var<T> c = name(kept + added, "c");
    return LSTMState<T>{name(o * name(tanh(c), "tanh_c"), "a"), c};
}

// ---- GRUCell -------------------------------------------------------------------

template <class T>
GRUCell<T>::GRUCell(std::size_t n_x, std::size_t n_h, Rng& rng, const Initializer& initializer, const std::string& label)
    : label_(label) {
    check_cell("GRUCell", n_x, n_h, label);
    W = Parameter<T>(initial_weights<T>(initializer, 2 * n_h, n_h + n_x, rng), "W" + label);
    b = Parameter<T>(xt::zeros<T>({2 * n_h, std::size_t(1)}), "b" + label);
    Wh = Parameter<T>(initial_weights<T>(initializer, n_h, n_h + n_x, rng), "Wh" + label);
    bh = Parameter<T>(xt::zeros<T>({n_h, std::size_t(1)}), "bh" + label);
}

template <class T>
GRUCell<T>::GRUCell(Parameter<T> W_, Parameter<T> b_, Parameter<T> Wh_, Parameter<T> bh_, const std::string& label)
    : W(std::move(W_)), b(std::move(b_)), Wh(std::move(Wh_)), bh(std::move(bh_)), label_(label) {
    const Shape h = Wh ? Wh.shape() : Shape{};
    check_parameters<T>("GRUCell", {W, b, Wh, bh}, {{2 * h.rows, h.cols}, {2 * h.rows, 1}, h, {h.rows, 1}},
                        h.rows > 0 && h.cols > h.rows);
}

template <class T>
std::string GRUCell<T>::describe() const {
    return sizes("GRUCell", n_x(), n_h());
}

// [Γu; Γr] = σ(W · [h⟨t−1⟩; x⟨t⟩] + b);  h̃ = tanh(Wh · [Γr ⊙ h⟨t−1⟩; x⟨t⟩] + bh);
// h⟨t⟩ = (1 − Γu) ⊙ h⟨t−1⟩ + Γu ⊙ h̃
template <class T>
Var<T> GRUCell<T>::operator()(Var<T> x, Var<T> h_prev) const {
    return step(x, h_prev, 0);
}

template <class T>
Var<T> GRUCell<T>::step(Var<T> x, Var<T> h_prev, std::size_t t) const {
    const std::size_t n = n_h();
    check_step<T>(describe(), x, n_x(), n, {h_prev}, "previous");
    Graph<T>& g = x.graph();
    const Namer name{label_, t};
    const Var<T> w = g.parameter(W), bias = g.parameter(b), wh = g.parameter(Wh), bias_h = g.parameter(bh);  // in this order
    const Var<T> zg = name(matmul(w, name(concat_rows(h_prev, x), "concat")) + bias, "zg");
    const Var<T> gates = name(sigmoid(zg), "g");
    const Var<T> u = name(rows(gates, 0, n), "u");
    const Var<T> r = name(rows(gates, n, 2 * n), "r");
    const Var<T> rh = name(r * h_prev, "rh");
    const Var<T> zh = name(matmul(wh, name(concat_rows(rh, x), "concat_r")) + bias_h, "zh");
    const Var<T> h_tilde = name(tanh(zh), "hh");
    const Var<T> kept = name(1.0 - u, "uc") * h_prev, added = u * h_tilde;  // one statement each: the node order is fixed
    return name(kept + added, "h");
}

// ---- unrolling -----------------------------------------------------------------

template <class T>
Var<T> initial_state(Graph<T>& g, std::size_t n_a, std::size_t m, const std::string& name) {
    if (n_a == 0 || m == 0) {
        throw ValueError("initial_state(" + name + "): sizes must be at least 1 (" + std::to_string(n_a) + "x" +
                         std::to_string(m) + ")");
    }
    return g.input(xt::zeros<T>({n_a, m}), name);
}

template <class T>
std::vector<Var<T>> unroll(const RNNCell<T>& cell, const std::vector<Var<T>>& xs, Var<T> a0) {
    check_length(cell, xs.size());
    std::vector<Var<T>> a;
    Var<T> s = a0;
    for (std::size_t t = 0; t < xs.size(); ++t) {
        s = cell.step(xs[t], s, t + 1);
        a.push_back(s);
    }
    return a;
}

template <class T>
std::vector<LSTMState<T>> unroll(const LSTMCell<T>& cell, const std::vector<Var<T>>& xs, LSTMState<T> s0) {
    check_length(cell, xs.size());
    std::vector<LSTMState<T>> out;
    LSTMState<T> s = s0;
    for (std::size_t t = 0; t < xs.size(); ++t) {
        s = cell.step(xs[t], s, t + 1);
        out.push_back(s);
    }
    return out;
}

template <class T>
std::vector<Var<T>> unroll(const GRUCell<T>& cell, const std::vector<Var<T>>& xs, Var<T> h0) {
    check_length(cell, xs.size());
    std::vector<Var<T>> h;
    Var<T> s = h0;
    for (std::size_t t = 0; t < xs.size(); ++t) {
        s = cell.step(xs[t], s, t + 1);
        h.push_back(s);
    }
    return h;
}

// ---- gradient clipping ---------------------------------------------------------

// N = √(Σ ‖dθ‖²);  dθ ← dθ · max_norm / (N + 1e-6) when N > max_norm
template <class T>
double clip_grad_norm(const std::vector<Parameter<T>>& parameters, double max_norm) {
    if (!(max_norm > 0) || !std::isfinite(max_norm)) {
        throw ValueError("clip_grad_norm: max_norm must be positive and finite, not " + detail::number_text(max_norm));
    }
    double sum = 0;
    for (const Parameter<T>& p : parameters) {
        for (const T v : p.grad()) sum += double(v) * double(v);
    }
    const double norm = std::sqrt(sum);
    if (norm > max_norm && std::isfinite(norm)) {
        const T scale = T(max_norm / (norm + 1e-6));
        for (Parameter<T> p : parameters) p.scale_grad(scale);
    }
    return norm;
}

#define XG_RECURRENT_INSTANTIATIONS(T)                                                                   \
    template class RNNCell<T>;                                                                           \
    template class LSTMCell<T>;                                                                          \
    template class GRUCell<T>;                                                                           \
    template Var<T> initial_state(Graph<T>&, std::size_t, std::size_t, const std::string&);              \
    template std::vector<Var<T>> unroll(const RNNCell<T>&, const std::vector<Var<T>>&, Var<T>);          \
    template std::vector<LSTMState<T>> unroll(const LSTMCell<T>&, const std::vector<Var<T>>&, LSTMState<T>); \
    template std::vector<Var<T>> unroll(const GRUCell<T>&, const std::vector<Var<T>>&, Var<T>);          \
    template double clip_grad_norm(const std::vector<Parameter<T>>&, double);
XG_INSTANTIATE_FLOAT_DOUBLE(XG_RECURRENT_INSTANTIATIONS)
#undef XG_RECURRENT_INSTANTIATIONS

}  // namespace xg

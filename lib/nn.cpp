// Layers, initialisers and the sequential model, written with the public API.
#include "xgrad/nn.hpp"

#include <algorithm>
#include <cmath>

#include "hyper_params.hpp"
#include "io_internal.hpp"
#include "xgrad/ops.hpp"
#include "instantiate.hpp"

namespace xg {

// ---- initialisers ------------------------------------------------------------

namespace {

using detail::number_text;

void check_scale(const char* who, double scale) {
    detail::require_finite_non_negative(std::string("init::") + who, "scale", scale);
}

Initializer make_init(Initializer::Kind kind, double scale, const char* who) {
    check_scale(who, scale);
    return Initializer{kind, scale};
}

}  // namespace

double Initializer::stddev(std::size_t n_in, std::size_t n_out) const {
    switch (kind) {
        case Kind::zeros: return 0;
        case Kind::normal: return scale;
        case Kind::xavier: return scale * std::sqrt(2.0 / double(n_in + n_out));
        case Kind::he: return scale * std::sqrt(2.0 / double(n_in));
    }
    return 0;
}

std::string Initializer::describe() const {
    switch (kind) {
        case Kind::zeros: return "zeros";
        case Kind::normal: return "normal(" + number_text(scale) + ")";
        case Kind::xavier: return scale == 1 ? "xavier" : "xavier(gain " + number_text(scale) + ")";
        case Kind::he: return scale == 1 ? "he" : "he(gain " + number_text(scale) + ")";
    }
    return "?";
}

namespace init {
Initializer zeros() { return Initializer{Initializer::Kind::zeros, 0.0}; }
Initializer normal(double scale) { return make_init(Initializer::Kind::normal, scale, "normal"); }
Initializer xavier(double gain) { return make_init(Initializer::Kind::xavier, gain, "xavier"); }
Initializer he(double gain) { return make_init(Initializer::Kind::he, gain, "he"); }
}  // namespace init

template <class T>
Matrix<T> initial_weights(const Initializer& init, std::size_t n_out, std::size_t n_in, Rng& rng) {
    if (n_out == 0 || n_in == 0) {
        throw ValueError("initial_weights: sizes must be at least 1 (n_out = " + std::to_string(n_out) +
                         ", n_in = " + std::to_string(n_in) + ")");
    }
    check_scale(init.describe().c_str(), init.scale);
    checked_size(Shape{n_out, n_in}, sizeof(T), "initial_weights");
    if (init.kind == Initializer::Kind::zeros) return xt::zeros<T>({n_out, n_in});
    return randn<T>(n_out, n_in, rng, init.stddev(n_in, n_out));
}

// ---- activations ---------------------------------------------------------------

std::string to_string(Activation a) {
    switch (a) {
        case Activation::identity: return "identity";
        case Activation::relu: return "relu";
        case Activation::leaky_relu: return "leaky_relu";
        case Activation::tanh: return "tanh";
        case Activation::sigmoid: return "sigmoid";
        case Activation::softplus: return "softplus";
    }
    return "?";
}

template <class T>
Var<T> activate(Var<T> z, Activation a) {
    switch (a) {
        case Activation::identity: return z;
        case Activation::relu: return relu(z);
        case Activation::leaky_relu: return leaky_relu(z);
        case Activation::tanh: return tanh(z);
        case Activation::sigmoid: return sigmoid(z);
        case Activation::softplus: return softplus(z);
    }
    throw ValueError("activate: unknown activation " + std::to_string(int(a)));
}

// ---- Layer ---------------------------------------------------------------------------

template <class T>
Layer<T>::Layer(const char* kind, std::string label) : label_(std::move(label)) {
    // The parameter names W<label> and b<label> must make checkpoint file names.
    const std::string problem = detail::parameter_name_problem("W" + label_);
    if (!problem.empty()) {
        throw ValueError(std::string(kind) + ": the label '" + label_ + "' would not make parameter file names (W" +
                         label_ + ": " + problem + ")");
    }
}

template <class T>
std::size_t Layer<T>::parameter_count() const {
    std::size_t n = 0;
    for (const Parameter<T>& p : parameters()) n += p.value().size();
    return n;
}

template <class T>
void Layer<T>::check_input(const Var<T>& x, const std::string& rows_are) const {
    if (x.shape().rows == n_in()) return;
    throw ShapeError("layer " + label_ + " (" + describe() + "): input " + x.name() + " is [" + to_string(x.shape()) +
                     "]; the layer takes " + std::to_string(n_in()) + " rows (" + rows_are +
                     "), one column per example");
}

// ---- Dense ---------------------------------------------------------------------------

template <class T>
Dense<T>::Dense(std::size_t n_in, std::size_t n_out, Activation activation, Rng& rng, const Initializer& initializer,
                const std::string& label)
    : Layer<T>("Dense", label), activation_(activation) {
    if (n_in == 0 || n_out == 0) {
        throw ValueError("Dense " + label + ": sizes must be at least 1 (n_in = " + std::to_string(n_in) +
                         ", n_out = " + std::to_string(n_out) + ")");
    }
    W = Parameter<T>(initial_weights<T>(initializer, n_out, n_in, rng), "W" + label);
    b = Parameter<T>(xt::zeros<T>({n_out, std::size_t(1)}), "b" + label);
}

template <class T>
Dense<T>::Dense(Parameter<T> W_, Parameter<T> b_, Activation activation, const std::string& label)
    : Layer<T>("Dense", label), W(std::move(W_)), b(std::move(b_)), activation_(activation) {
    if (!W || !b) throw GraphError("Dense " + label + ": empty Parameter handle (no storage)");
    const Shape w = W.shape(), s = b.shape();
    if (w.size() == 0 || s != Shape{w.rows, 1}) {
        throw ShapeError("Dense " + label + ": " + W.name() + " is [" + to_string(w) + "] and " + b.name() + " is [" +
                         to_string(s) + "]; a layer needs a non-empty W (n_out x n_in) and b of n_out x 1");
    }
}

template <class T>
std::string Dense<T>::describe() const {
    return "Dense " + std::to_string(n_in()) + " -> " + std::to_string(n_out()) + ", " + to_string(activation_);
}

template <class T>
std::string Dense<T>::brief() const {
    return std::to_string(n_out()) + " " + to_string(activation_);
}

template <class T>
Var<T> Dense<T>::operator()(Var<T> x) const {
    Graph<T>& g = x.graph();
    this->check_input(x, "features");
    const Var<T> w = g.parameter(W);  // W before b: the node order does not depend on the compiler
    const Var<T> bias = g.parameter(b);
    const Var<T> Z = (matmul(w, x) + bias).named("Z" + this->label());
    if (activation_ == Activation::identity) return Z;
    return activate(Z, activation_).named("A" + this->label());
}

#define XG_NN_INSTANTIATIONS(T)                                                             \
    template class Layer<T>;                                                                \
    template class Dense<T>;                                                                \
    template Matrix<T> initial_weights(const Initializer&, std::size_t, std::size_t, Rng&); \
    template Var<T> activate(Var<T>, Activation);
XG_INSTANTIATE_FLOAT_DOUBLE(XG_NN_INSTANTIATIONS)
#undef XG_NN_INSTANTIATIONS

}  // namespace xg

// The regularisation and normalisation layers — Dropout, BatchNorm, LayerNorm —
// written with the public API (dropout, batch_norm, layer_norm of xgrad/ops.hpp).
#include <cmath>
#include <string>

#include "hyper_params.hpp"
#include "instantiate.hpp"
#include "xgrad/nn.hpp"
#include "xgrad/ops.hpp"

namespace xg {

namespace {

using detail::number_text;

template <class T>
Matrix<T> column(std::size_t n, T v) {
    Matrix<T> m({n, std::size_t(1)});
    m.fill(v);
    return m;
}

void check_rows(const char* kind, const std::string& label, std::size_t n, std::size_t least) {
    if (n < least) {
        throw ValueError(std::string(kind) + " " + label + ": the number of rows must be at least " +
                         std::to_string(least) + ", got " + std::to_string(n));
    }
}

void check_epsilon(const char* kind, const std::string& label, double eps) {
    if (!(std::isfinite(eps) && eps > 0)) {
        throw ValueError(std::string(kind) + " " + label + ": epsilon must be positive and finite, got " +
                         number_text(eps));
    }
}

}  // namespace

// ---- Dropout ---------------------------------------------------------------------------

template <class T>
Dropout<T>::Dropout(std::size_t n, double keep_prob, const std::string& label, std::optional<ImageShape> image)
    : Layer<T>("Dropout", label), n_(n), keep_(keep_prob), image_(image) {
    check_rows("Dropout", label, n, 1);
    if (!(keep_prob > 0 && keep_prob <= 1)) {
        throw ValueError("Dropout " + label + ": keep_prob must lie in (0, 1], got " + number_text(keep_prob));
    }
}

template <class T>
Var<T> Dropout<T>::operator()(Var<T> x) const {
    this->check_input(x, "features");
    return dropout(x, keep_, "D" + this->label()).named("A" + this->label());
}

template <class T>
std::string Dropout<T>::describe() const {
    return "Dropout " + std::to_string(n_) + ", keep_prob " + number_text(keep_);
}

template <class T>
std::string Dropout<T>::brief() const {
    return "dropout " + number_text(keep_);
}

// ---- BatchNorm -------------------------------------------------------------------------

template <class T>
BatchNorm<T>::BatchNorm(std::size_t n, Activation activation, double momentum, double epsilon, const std::string& label)
    : Layer<T>("BatchNorm", label), activation_(activation), epsilon_(epsilon) {
    check_rows("BatchNorm", label, n, 1);
    check_epsilon("BatchNorm", label, epsilon);
    if (!(momentum > 0 && momentum <= 1)) {
        throw ValueError("BatchNorm " + label + ": the momentum must lie in (0, 1], got " + number_text(momentum));
    }
    gamma = Parameter<T>(column<T>(n, T(1)), "gamma" + label);
    beta = Parameter<T>(column<T>(n, T(0)), "beta" + label);
    running = RunningStats<T>(n, momentum, label);
}

template <class T>
Var<T> BatchNorm<T>::operator()(Var<T> x) const {
    Graph<T>& g = x.graph();
    this->check_input(x, "features");
    const Var<T> scale = g.parameter(gamma);  // γ before β: the node order does not depend on the compiler
    const Var<T> shift = g.parameter(beta);
    const Var<T> Z = batch_norm(x, scale, shift, running, epsilon_, this->label()).named("Z̃" + this->label());
    if (activation_ == Activation::identity) return Z;
    return activate(Z, activation_).named("A" + this->label());
}

template <class T>
std::string BatchNorm<T>::describe() const {
    return "BatchNorm " + std::to_string(n_in()) + ", momentum " + number_text(running.momentum) + ", " +
           to_string(activation_);
}

template <class T>
std::string BatchNorm<T>::brief() const {
    return "batchnorm " + to_string(activation_);
}

// ---- LayerNorm -------------------------------------------------------------------------

template <class T>
LayerNorm<T>::LayerNorm(std::size_t n, Activation activation, double epsilon, const std::string& label)
    : Layer<T>("LayerNorm", label), activation_(activation), epsilon_(epsilon) {
    check_rows("LayerNorm", label, n, 2);
    check_epsilon("LayerNorm", label, epsilon);
    gamma = Parameter<T>(column<T>(n, T(1)), "gamma" + label);
    beta = Parameter<T>(column<T>(n, T(0)), "beta" + label);
}

template <class T>
Var<T> LayerNorm<T>::operator()(Var<T> x) const {
    Graph<T>& g = x.graph();
    this->check_input(x, "features");
    const Var<T> scale = g.parameter(gamma);  // γ before β: the node order does not depend on the compiler
    const Var<T> shift = g.parameter(beta);
    const Var<T> Z = layer_norm(x, scale, shift, epsilon_, this->label()).named("Z̃" + this->label());
    if (activation_ == Activation::identity) return Z;
    return activate(Z, activation_).named("A" + this->label());
}

template <class T>
std::string LayerNorm<T>::describe() const {
    return "LayerNorm " + std::to_string(n_in()) + ", " + to_string(activation_);
}

template <class T>
std::string LayerNorm<T>::brief() const {
    return "layernorm " + to_string(activation_);
}

#define XG_NN_NORM_INSTANTIATIONS(T) \
    template class Dropout<T>;       \
    template class BatchNorm<T>;     \
    template class LayerNorm<T>;
XG_INSTANTIATE_FLOAT_DOUBLE(XG_NN_NORM_INSTANTIATIONS)
#undef XG_NN_NORM_INSTANTIATIONS

}  // namespace xg

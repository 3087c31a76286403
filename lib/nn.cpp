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

// ---- Dense ---------------------------------------------------------------------------

namespace {

/// The parameter names W<label> and b<label> must make checkpoint file names.
void check_label(const std::string& label) {
    const std::string problem = detail::parameter_name_problem("W" + label);
    if (!problem.empty()) {
        throw ValueError("Dense: the label '" + label + "' would not make parameter file names (W" + label + ": " +
                         problem + ")");
    }
}

}  // namespace

template <class T>
Dense<T>::Dense(std::size_t n_in, std::size_t n_out, Activation activation, Rng& rng, const Initializer& initializer,
                const std::string& label)
    : activation_(activation), label_(label) {
    check_label(label);
    if (n_in == 0 || n_out == 0) {
        throw ValueError("Dense " + label + ": sizes must be at least 1 (n_in = " + std::to_string(n_in) +
                         ", n_out = " + std::to_string(n_out) + ")");
    }
    W = Parameter<T>(initial_weights<T>(initializer, n_out, n_in, rng), "W" + label);
    b = Parameter<T>(xt::zeros<T>({n_out, std::size_t(1)}), "b" + label);
}

template <class T>
Dense<T>::Dense(Parameter<T> W_, Parameter<T> b_, Activation activation, const std::string& label)
    : W(std::move(W_)), b(std::move(b_)), activation_(activation), label_(label) {
    check_label(label);
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
Var<T> Dense<T>::operator()(Var<T> x) const {
    Graph<T>& g = x.graph();
    if (x.shape().rows != n_in()) {
        throw ShapeError("layer " + label_ + " (" + describe() + "): input " + x.name() + " is [" +
                         to_string(x.shape()) + "]; the layer takes " + std::to_string(n_in()) +
                         " rows (features), one column per example");
    }
    const Var<T> Z = (matmul(g.parameter(W), x) + g.parameter(b)).named("Z" + label_);
    if (activation_ == Activation::identity) return Z;
    return activate(Z, activation_).named("A" + label_);
}

// ---- Sequential ------------------------------------------------------------------------

/// A forward-only graph for inputs of one shape: X → every layer → out.
template <class T>
struct Sequential<T>::InferenceGraph {
    Graph<T> g;
    Var<T> X, out;
    std::uint64_t last_used = 0;
};

namespace {
constexpr std::size_t kInferenceShapes = 4;
}

template <class T>
Sequential<T>::Sequential(std::size_t n_in, std::uint32_t seed) : n_in_(n_in), rng_(seed) {
    if (n_in == 0) throw ValueError("Sequential: the number of input features must be at least 1");
}

template <class T>
Sequential<T>::Sequential(const std::vector<std::size_t>& sizes, Activation hidden, Activation output,
                          std::uint32_t seed, const Initializer& initializer)
    : n_in_(sizes.empty() ? 0 : sizes[0]), rng_(seed) {
    if (sizes.size() < 2) {
        throw ValueError("Sequential: the sizes {n_in, n_1, ..., n_L} need at least two entries, got " +
                         std::to_string(sizes.size()));
    }
    if (n_in_ == 0) throw ValueError("Sequential: the number of input features must be at least 1");
    for (std::size_t l = 1; l < sizes.size(); ++l) add(sizes[l], l + 1 == sizes.size() ? output : hidden, initializer);
}

template <class T>
Sequential<T>::Sequential(const Sequential& o) : n_in_(o.n_in_), rng_(o.rng_), layers_(o.layers_) {}

template <class T>
Sequential<T>::Sequential(Sequential&& o) noexcept = default;

template <class T>
Sequential<T>& Sequential<T>::operator=(const Sequential& o) {
    if (this != &o) {
        n_in_ = o.n_in_;
        rng_ = o.rng_;
        layers_ = o.layers_;
        inference_.clear();
    }
    return *this;
}

template <class T>
Sequential<T>& Sequential<T>::operator=(Sequential&& o) noexcept = default;

template <class T>
Sequential<T>::~Sequential() = default;

template <class T>
Sequential<T>& Sequential<T>::add(std::size_t n_out, Activation activation, const Initializer& initializer) {
    return add(Dense<T>(this->n_out(), n_out, activation, rng_, initializer, std::to_string(layers_.size() + 1)));
}

template <class T>
Sequential<T>& Sequential<T>::add(const Dense<T>& layer) {
    if (layer.n_in() != n_out()) {
        throw ShapeError("Sequential::add: layer " + layer.label() + " (" + layer.describe() + ") takes " +
                         std::to_string(layer.n_in()) + " inputs, but the model so far gives " +
                         std::to_string(n_out()) + " (" + describe() + ")");
    }
    for (const Dense<T>& d : layers_) {
        for (const std::string& name : {d.W.name(), d.b.name()}) {
            if (name == layer.W.name() || name == layer.b.name()) {
                throw ValueError("Sequential::add: layer " + layer.label() + " has a parameter named '" + name +
                                 "', as layer " + d.label() + " has; each parameter needs its own name");
            }
        }
    }
    layers_.push_back(layer);
    inference_.clear();
    return *this;
}

template <class T>
std::size_t Sequential<T>::n_out() const {
    return layers_.empty() ? n_in_ : layers_.back().n_out();
}

template <class T>
Var<T> Sequential<T>::operator()(Var<T> x) const {
    if (layers_.empty()) throw ValueError("Sequential: the model has no layers");
    for (const Dense<T>& layer : layers_) x = layer(x);
    return x;
}

template <class T>
std::vector<Parameter<T>> Sequential<T>::parameters() const {
    std::vector<Parameter<T>> out;
    out.reserve(2 * layers_.size());
    for (const Dense<T>& d : layers_) {
        out.push_back(d.W);
        out.push_back(d.b);
    }
    return out;
}

template <class T>
std::size_t Sequential<T>::parameter_count() const {
    std::size_t n = 0;
    for (const Dense<T>& d : layers_) n += d.W.value().size() + d.b.value().size();
    return n;
}

template <class T>
std::string Sequential<T>::describe() const {
    std::string s = std::to_string(n_in_);
    for (const Dense<T>& d : layers_) s += " -> " + std::to_string(d.n_out()) + " " + to_string(d.activation());
    return s + " (" + std::to_string(parameter_count()) + " parameters)";
}

template <class T>
typename Sequential<T>::InferenceGraph& Sequential<T>::inference_graph(const Matrix<T>& X) const {
    if (layers_.empty()) throw ValueError("Sequential::predict: the model has no layers");
    const Shape s = shape_of(X);
    if (s.rows != n_in_ || s.cols == 0) {
        throw ShapeError("Sequential::predict: X is [" + to_string(s) + "]; the model (" + describe() + ") takes " +
                         std::to_string(n_in_) + " rows (features) and at least one column (example)");
    }
    ++inference_clock_;
    for (auto& ig : inference_) {
        if (shape_of(ig->X.value()) != s) continue;
        ig->last_used = inference_clock_;
        ig->g.set_value(ig->X, X);  // same shape: copied into the buffer
        ig->g.forward();
        return *ig;
    }
    auto ig = std::make_unique<InferenceGraph>();
    ig->X = ig->g.input(X, "X");
    ig->out = (*this)(ig->X);  // built, so computed
    ig->last_used = inference_clock_;
    if (inference_.size() < kInferenceShapes) {
        inference_.push_back(std::move(ig));
        return *inference_.back();
    }
    auto oldest = std::min_element(inference_.begin(), inference_.end(),
                                   [](const auto& a, const auto& b) { return a->last_used < b->last_used; });
    *oldest = std::move(ig);
    return **oldest;
}

template <class T>
Matrix<T> Sequential<T>::predict(const Matrix<T>& X) const {
    return inference_graph(X).out.value();
}

template <class T>
void Sequential<T>::predict(const Matrix<T>& X, Matrix<T>& out) const {
    const Matrix<T>& y = inference_graph(X).out.value();
    ensure_shape(out, shape_of(y));
    std::copy(y.begin(), y.end(), out.begin());
}

#define XG_NN_INSTANTIATIONS(T)                                                             \
    template class Dense<T>;                                                                \
    template class Sequential<T>;                                                           \
    template Matrix<T> initial_weights(const Initializer&, std::size_t, std::size_t, Rng&); \
    template Var<T> activate(Var<T>, Activation);
XG_INSTANTIATE_FLOAT_DOUBLE(XG_NN_INSTANTIATIONS)
#undef XG_NN_INSTANTIATIONS

}  // namespace xg

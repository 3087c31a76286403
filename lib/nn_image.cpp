// The image layers — Conv2d, MaxPool2d, AvgPool2d — written with the public
// API (conv2d, max_pool2d, avg_pool2d of xgrad/ops.hpp).
#include <string>

#include "image.hpp"
#include "instantiate.hpp"
#include "xgrad/nn.hpp"
#include "xgrad/ops.hpp"

namespace xg {

namespace {

using detail::image_text;

std::string image_rows(const ImageShape& s) {
    return "an image C·H·W = " + std::to_string(s.channels) + "·" + std::to_string(s.height) + "·" +
           std::to_string(s.width);
}

std::size_t rows_of(const ImageShape& s) { return s.channels * s.height * s.width; }

/// f(), its ShapeError prefixed with the layer: "MaxPool2d 2: pool2d: …".
template <class F>
ImageShape output_of(const char* kind, const std::string& label, F&& f) {
    try {
        return f();
    } catch (const ShapeError& e) {
        throw ShapeError(std::string(kind) + " " + label + ": " + e.what());
    }
}

}  // namespace

// ---- Conv2d ------------------------------------------------------------------------------

template <class T>
Conv2d<T>::Conv2d(const Conv2dSpec& spec, std::size_t out_channels, Activation activation, Rng& rng,
                  const Initializer& initializer, const std::string& label)
    : Layer<T>("Conv2d", label), spec_(spec), activation_(activation) {
    if (out_channels == 0) throw ValueError("Conv2d " + label + ": out_channels must be at least 1");
    out_ = output_of("Conv2d", label, [&] { return conv2d_output(spec, out_channels); });
    const std::size_t fan_in = spec.image.channels * spec.kernel * spec.kernel;
    W = Parameter<T>(initial_weights<T>(initializer, out_channels, fan_in, rng), "W" + label);
    b = Parameter<T>(xt::zeros<T>({out_channels, std::size_t(1)}), "b" + label);
}

template <class T>
Conv2d<T>::Conv2d(const Conv2dSpec& spec, Parameter<T> W_, Parameter<T> b_, Activation activation,
                  const std::string& label)
    : Layer<T>("Conv2d", label), W(std::move(W_)), b(std::move(b_)), spec_(spec), activation_(activation) {
    if (!W || !b) throw GraphError("Conv2d " + label + ": empty Parameter handle (no storage)");
    const Shape w = W.shape(), s = b.shape();
    const std::size_t fan_in = spec.image.channels * spec.kernel * spec.kernel;
    if (w.rows == 0 || w.cols != fan_in || s != Shape{w.rows, 1}) {
        throw ShapeError("Conv2d " + label + ": " + W.name() + " is [" + to_string(w) + "] and " + b.name() +
                         " is [" + to_string(s) + "]; a " + std::to_string(spec.kernel) + "x" +
                         std::to_string(spec.kernel) + " convolution of " + std::to_string(spec.image.channels) +
                         " channels needs W of out_channels x " + std::to_string(fan_in) +
                         " (C·k·k) and b of out_channels x 1");
    }
    out_ = output_of("Conv2d", label, [&] { return conv2d_output(spec, w.rows); });
}

template <class T>
std::size_t Conv2d<T>::n_in() const {
    return rows_of(spec_.image);
}

template <class T>
std::size_t Conv2d<T>::n_out() const {
    return rows_of(out_);
}

template <class T>
std::string Conv2d<T>::describe() const {
    std::string s = "Conv2d " + std::to_string(spec_.image.channels) + " -> " + std::to_string(out_.channels) + ", " +
                    std::to_string(spec_.kernel) + "x" + std::to_string(spec_.kernel);
    if (spec_.stride != 1) s += ", stride " + std::to_string(spec_.stride);
    if (spec_.padding != 0) s += ", padding " + std::to_string(spec_.padding);
    return s + ", " + to_string(activation_);
}

template <class T>
std::string Conv2d<T>::brief() const {
    return "conv" + std::to_string(spec_.kernel) + "x" + std::to_string(spec_.kernel) + " " + image_text(out_) + " " +
           to_string(activation_);
}

// Z = conv2d(X, W, b), A = g(Z).
template <class T>
Var<T> Conv2d<T>::operator()(Var<T> x) const {
    Graph<T>& g = x.graph();
    this->check_input(x, image_rows(spec_.image));
    const Var<T> w = g.parameter(W);  // W before b: the node order does not depend on the compiler
    const Var<T> bias = g.parameter(b);
    const Var<T> Z = conv2d(x, w, bias, spec_).named("Z" + this->label());
    if (activation_ == Activation::identity) return Z;
    return activate(Z, activation_).named("A" + this->label());
}

// ---- pooling -----------------------------------------------------------------------------

template <class T>
Pool2d<T>::Pool2d(Kind kind, const Pool2dSpec& spec, const std::string& label)
    : Layer<T>(kind == Kind::max ? "MaxPool2d" : "AvgPool2d", label), kind_(kind), spec_(spec),
      out_(output_of(kind == Kind::max ? "MaxPool2d" : "AvgPool2d", label, [&] { return pool2d_output(spec); })) {}

template <class T>
std::size_t Pool2d<T>::n_in() const {
    return rows_of(spec_.image);
}

template <class T>
std::size_t Pool2d<T>::n_out() const {
    return rows_of(out_);
}

template <class T>
std::string Pool2d<T>::describe() const {
    std::string s = std::string(kind_ == Kind::max ? "MaxPool2d " : "AvgPool2d ") + std::to_string(spec_.window) +
                    "x" + std::to_string(spec_.window);
    if (spec_.stride != spec_.window) s += ", stride " + std::to_string(spec_.stride);
    return s;
}

template <class T>
std::string Pool2d<T>::brief() const {
    return std::string(kind_ == Kind::max ? "maxpool" : "avgpool") + std::to_string(spec_.window) + " " +
           image_text(out_);
}

// A = maxpool(X) or avgpool(X).
template <class T>
Var<T> Pool2d<T>::operator()(Var<T> x) const {
    this->check_input(x, image_rows(spec_.image));
    const Var<T> A = kind_ == Kind::max ? max_pool2d(x, spec_) : avg_pool2d(x, spec_);
    return A.named("A" + this->label());
}

#define XG_NN_IMAGE_INSTANTIATIONS(T) \
    template class Conv2d<T>;         \
    template class Pool2d<T>;
XG_INSTANTIATE_FLOAT_DOUBLE(XG_NN_IMAGE_INSTANTIATIONS)
#undef XG_NN_IMAGE_INSTANTIATIONS

}  // namespace xg

// The sequential model: layers applied one after the other, its inference
// graphs, its description and summary. Written with the public API.
#include <algorithm>
#include <cstdio>
#include <limits>

#include "image.hpp"
#include "instantiate.hpp"
#include "xgrad/nn.hpp"

namespace xg {

/// A forward-only graph for inputs of one shape: X → every layer → out.
template <class T>
struct Sequential<T>::InferenceGraph {
    Graph<T> g;
    Var<T> X, out;
    std::uint64_t last_used = 0;
};

namespace {

using detail::image_text;

constexpr std::size_t kInferenceShapes = 4;

std::size_t image_rows(const ImageShape& s, const char* who) {
    if (s.channels == 0 || s.height == 0 || s.width == 0) {
        throw ValueError(std::string(who) + ": the input image " + image_text(s) + " has a size of 0");
    }
    const std::size_t most = std::numeric_limits<std::uint32_t>::max();
    if (s.channels > most || s.height > most || s.width > most || s.channels * s.height > most ||
        s.channels * s.height * s.width > most) {
        throw ValueError(std::string(who) + ": the input image " + image_text(s) + " has more than 2^32 - 1 values");
    }
    return s.channels * s.height * s.width;
}

}  // namespace

template <class T>
Sequential<T>::Sequential(std::size_t n_in, std::uint32_t seed) : n_in_(n_in), rng_(seed) {
    if (n_in == 0) throw ValueError("Sequential: the number of input features must be at least 1");
}

template <class T>
Sequential<T>::Sequential(ImageShape input, std::uint32_t seed)
    : n_in_(image_rows(input, "Sequential")), input_image_(input), rng_(seed) {}

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
Sequential<T>::Sequential(const Sequential& o)
    : n_in_(o.n_in_), input_image_(o.input_image_), rng_(o.rng_), layers_(o.layers_) {}

template <class T>
Sequential<T>::Sequential(Sequential&& o) noexcept = default;

template <class T>
Sequential<T>& Sequential<T>::operator=(const Sequential& o) {
    if (this != &o) {
        n_in_ = o.n_in_;
        input_image_ = o.input_image_;
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

// ---- building ------------------------------------------------------------------------

template <class T>
Sequential<T>& Sequential<T>::add(std::size_t n_out, Activation activation, const Initializer& initializer) {
    return add(Dense<T>(this->n_out(), n_out, activation, rng_, initializer, std::to_string(layers_.size() + 1)));
}

template <class T>
std::optional<ImageShape> Sequential<T>::output_image() const {
    return layers_.empty() ? input_image_ : layers_.back()->output_image();
}

template <class T>
ImageShape Sequential<T>::image_so_far(const char* who) const {
    const std::optional<ImageShape> image = output_image();
    if (!image) {
        throw ValueError(std::string("Sequential::") + who + ": the model so far (" + describe() + ") gives " +
                         std::to_string(n_out()) +
                         " features per example, not an image; an image layer needs a model built from an "
                         "ImageShape, after the input or another image layer");
    }
    return *image;
}

template <class T>
Sequential<T>& Sequential<T>::add_conv2d(std::size_t out_channels, std::size_t kernel, Activation activation,
                                         std::size_t stride, std::size_t padding, const Initializer& initializer) {
    const Conv2dSpec spec{image_so_far("add_conv2d"), kernel, stride, padding};
    return add(Conv2d<T>(spec, out_channels, activation, rng_, initializer, std::to_string(layers_.size() + 1)));
}

template <class T>
Sequential<T>& Sequential<T>::add_max_pool2d(std::size_t window, std::size_t stride) {
    const Pool2dSpec spec{image_so_far("add_max_pool2d"), window, stride == 0 ? window : stride};
    return add(MaxPool2d<T>(spec, std::to_string(layers_.size() + 1)));
}

template <class T>
Sequential<T>& Sequential<T>::add_avg_pool2d(std::size_t window, std::size_t stride) {
    const Pool2dSpec spec{image_so_far("add_avg_pool2d"), window, stride == 0 ? window : stride};
    return add(AvgPool2d<T>(spec, std::to_string(layers_.size() + 1)));
}

template <class T>
Sequential<T>& Sequential<T>::add_dropout(double keep_prob) {
    return add(Dropout<T>(n_out(), keep_prob, std::to_string(layers_.size() + 1), output_image()));
}

template <class T>
Sequential<T>& Sequential<T>::add_batch_norm(Activation activation, double momentum) {
    return add(BatchNorm<T>(n_out(), activation, momentum, 1e-5, std::to_string(layers_.size() + 1)));
}

template <class T>
Sequential<T>& Sequential<T>::add_layer_norm(Activation activation) {
    return add(LayerNorm<T>(n_out(), activation, 1e-5, std::to_string(layers_.size() + 1)));
}

template <class T>
Sequential<T>& Sequential<T>::add(std::shared_ptr<const Layer<T>> layer) {
    if (!layer) throw GraphError("Sequential::add: a null layer pointer");
    const auto why = [&] { return " (" + describe() + ")"; };
    if (layer->n_in() != n_out()) {
        throw ShapeError("Sequential::add: layer " + layer->label() + " (" + layer->describe() + ") takes " +
                         std::to_string(layer->n_in()) + " inputs, but the model so far gives " +
                         std::to_string(n_out()) + why());
    }
    const std::optional<ImageShape> reads = layer->input_image(), gives = output_image();
    if (reads && gives &&
        (reads->channels != gives->channels || reads->height != gives->height || reads->width != gives->width)) {
        throw ShapeError("Sequential::add: layer " + layer->label() + " (" + layer->describe() + ") reads images of " +
                         image_text(*reads) + ", but the model so far gives images of " + image_text(*gives) + why());
    }
    const auto saved = [](const Layer<T>& l) {
        std::vector<Parameter<T>> all = l.parameters();
        for (Parameter<T>& p : l.state()) all.push_back(std::move(p));
        return all;
    };
    for (const auto& other : layers_) {
        for (const Parameter<T>& mine : saved(*layer)) {
            for (const Parameter<T>& theirs : saved(*other)) {
                if (mine.name() == theirs.name()) {
                    throw ValueError("Sequential::add: layer " + layer->label() + " has a parameter named '" +
                                     mine.name() + "', as layer " + other->label() +
                                     " has; each parameter needs its own name");
                }
            }
        }
    }
    layers_.push_back(std::move(layer));
    inference_.clear();
    return *this;
}

template <class T>
void Sequential<T>::wrong_layer_kind(std::size_t i) const {
    throw ValueError("Sequential: layer " + layers_.at(i)->label() + " (index " + std::to_string(i) + ") is " +
                     layers_[i]->describe() + ", not a layer of the kind asked for");
}

// ---- using ---------------------------------------------------------------------------

template <class T>
std::size_t Sequential<T>::n_out() const {
    return layers_.empty() ? n_in_ : layers_.back()->n_out();
}

template <class T>
Var<T> Sequential<T>::operator()(Var<T> x) const {
    if (layers_.empty()) throw ValueError("Sequential: the model has no layers");
    for (const auto& layer : layers_) x = (*layer)(x);
    return x;
}

template <class T>
std::vector<Parameter<T>> Sequential<T>::parameters() const {
    std::vector<Parameter<T>> out;
    for (const auto& layer : layers_)
        for (Parameter<T>& p : layer->parameters()) out.push_back(std::move(p));
    return out;
}

template <class T>
std::size_t Sequential<T>::parameter_count() const {
    std::size_t n = 0;
    for (const auto& layer : layers_) n += layer->parameter_count();
    return n;
}

template <class T>
std::vector<Parameter<T>> Sequential<T>::checkpoint_parameters() const {
    std::vector<Parameter<T>> out = parameters();
    for (const auto& layer : layers_)
        for (Parameter<T>& p : layer->state()) out.push_back(std::move(p));
    return out;
}

template <class T>
std::size_t Sequential<T>::state_count() const {
    std::size_t n = 0;
    for (const auto& layer : layers_)
        for (const Parameter<T>& p : layer->state()) n += p.value().size();
    return n;
}

template <class T>
std::string Sequential<T>::describe() const {
    std::string s = input_image_ ? image_text(*input_image_) : std::to_string(n_in_);
    for (const auto& layer : layers_) s += " -> " + layer->brief();
    return s + " (" + std::to_string(parameter_count()) + " parameters)";
}

// One row per layer:
//   layer  kind                                 output        parameters
//       1  Conv2d 1 -> 32, 3x3, padding 1, relu   32x28x28             320
template <class T>
std::string Sequential<T>::summary() const {
    std::vector<std::string> kinds, outputs;
    std::size_t kind_width = 5, output_width = 6;  // "layer", "output"
    for (const auto& layer : layers_) {
        kinds.push_back(layer->describe());
        const std::optional<ImageShape> image = layer->output_image();
        outputs.push_back(image ? image_text(*image) : std::to_string(layer->n_out()));
        kind_width = std::max(kind_width, kinds.back().size());
        output_width = std::max(output_width, outputs.back().size());
    }
    const char* const kept_text = "running averages (not trained)";
    const std::size_t kept = state_count();
    if (kept) kind_width = std::max(kind_width, std::string(kept_text).size());
    const std::string input = input_image_ ? image_text(*input_image_) : std::to_string(n_in_);
    output_width = std::max(output_width, input.size());
    std::string out;
    char line[512];
    const auto row = [&](const std::string& l, const std::string& kind, const std::string& output,
                         const std::string& count) {
        std::snprintf(line, sizeof line, "%5s  %-*s  %-*s  %10s", l.c_str(), int(kind_width), kind.c_str(),
                      int(output_width), output.c_str(), count.c_str());
        std::string text = line;
        text.erase(text.find_last_not_of(' ') + 1);
        out += text + "\n";
    };
    row("", "layer", "output", "parameters");
    row("", "input", input, "");
    for (std::size_t i = 0; i < layers_.size(); ++i)
        row(std::to_string(i + 1), kinds[i], outputs[i], std::to_string(layers_[i]->parameter_count()));
    row("", "total", "", std::to_string(parameter_count()));
    if (kept) row("", kept_text, "", std::to_string(kept));
    return out;
}

// ---- inference graphs ----------------------------------------------------------------
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
    ig->g.set_mode(Mode::evaluation);
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

#define XG_SEQUENTIAL_INSTANTIATIONS(T) template class Sequential<T>;
XG_INSTANTIATE_FLOAT_DOUBLE(XG_SEQUENTIAL_INSTANTIATIONS)
#undef XG_SEQUENTIAL_INSTANTIATIONS

}  // namespace xg

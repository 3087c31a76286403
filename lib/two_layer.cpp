// The two-layer network as an xgrad graph, and its gradient-descent loop.
// Written with the public API only: this is how a user builds the same model.
#include "xgrad/two_layer.hpp"

#include <cmath>
#include <sstream>

#include "xgrad/io.hpp"
#include "xgrad/ops.hpp"
#include "xgrad/random.hpp"

namespace xg {

template <class T>
TwoLayerParams<T> init_two_layer(std::size_t n_x, std::size_t n_h, std::size_t n_y, std::uint32_t seed, Init init,
                                 double scale) {
    if (n_x == 0 || n_h == 0 || n_y == 0) {
        throw ValueError("init_two_layer: sizes must be at least 1 (n_x = " + std::to_string(n_x) +
                         ", n_h = " + std::to_string(n_h) + ", n_y = " + std::to_string(n_y) + ")");
    }
    Rng rng(seed);
    const bool random = init == Init::random;
    Matrix<T> W1 = random ? randn<T>(n_h, n_x, rng, scale) : Matrix<T>(xt::zeros<T>({n_h, n_x}));
    Matrix<T> W2 = random ? randn<T>(n_y, n_h, rng, scale) : Matrix<T>(xt::zeros<T>({n_y, n_h}));
    return TwoLayerParams<T>{Parameter<T>(std::move(W1), "W1"), Parameter<T>(xt::zeros<T>({n_h, std::size_t(1)}), "b1"),
                             Parameter<T>(std::move(W2), "W2"),
                             Parameter<T>(xt::zeros<T>({n_y, std::size_t(1)}), "b2")};
}

template <class T>
TwoLayerParams<T> load_two_layer(const std::string& dir) {
    // The sizes come from the shapes of W1 and W2 the checkpoint lists.
    const CheckpointInfo c = checkpoint_info(dir);
    const auto file = [&](const char* name) -> const CheckpointFile& {
        if (const CheckpointFile* f = c.find(name)) return *f;
        throw IoError((c.manifest.empty() ? dir : c.manifest) + ": the checkpoint has no parameter named '" + name +
                      "'" + (c.manifest.empty() ? std::string(" (no ") + name + ".npy)" : std::string()));
    };
    const CheckpointFile &W1 = file("W1"), &W2 = file("W2");
    if (W2.shape.cols != W1.shape.rows) {
        throw ShapeError(W2.path + ": W2 is " + to_string(W2.shape) + " but W1 (" + W1.path + ") is " +
                         to_string(W1.shape) + "; W2 needs one column per row of W1 (hidden unit)");
    }
    // Start from zeros of the sizes W1 and W2 give; load_parameters checks
    // every file, b1 and b2 against these sizes, and assigns nothing unless all four fit.
    TwoLayerParams<T> p = init_two_layer<T>(W1.shape.cols, W1.shape.rows, W2.shape.rows, 0, Init::zeros);
    load_parameters(dir, p.all());
    return p;
}

template <class T>
TwoLayerForward<T> two_layer_forward(Graph<T>& g, Var<T> X, const TwoLayerParams<T>& p) {
    TwoLayerForward<T> f;
    auto W1 = g.parameter(p.W1), b1 = g.parameter(p.b1), W2 = g.parameter(p.W2), b2 = g.parameter(p.b2);
    f.Z1 = (matmul(W1, X) + b1).named("Z1");
    f.A1 = tanh(f.Z1).named("A1");
    f.Z2 = (matmul(W2, f.A1) + b2).named("Z2");
    f.A2 = sigmoid(f.Z2).named("A2");
    return f;
}

template <class T>
Matrix<T> two_layer_probabilities(const TwoLayerParams<T>& p, const Matrix<T>& X) {
    Graph<T> g;  // an inference graph; the parameters outlive it
    return two_layer_forward(g, g.input(X, "X"), p).A2.value();
}

template <class T>
Matrix<T> predict(const TwoLayerParams<T>& p, const Matrix<T>& X) {
    Matrix<T> A2 = two_layer_probabilities(p, X);
    for (T& a : A2) a = a > T(0.5) ? T(1) : T(0);
    return A2;
}

template <class T>
double accuracy(const Matrix<T>& predictions, const Matrix<T>& labels) {
    if (shape_of(predictions) != shape_of(labels) || predictions.size() == 0) {
        throw ShapeError("accuracy: predictions [" + to_string(shape_of(predictions)) + "] and labels [" +
                         to_string(shape_of(labels)) + "] need the same, non-empty shape");
    }
    std::size_t right = 0;
    for (std::size_t k = 0; k < predictions.size(); ++k) right += predictions.data()[k] == labels.data()[k];
    return 100.0 * double(right) / double(predictions.size());
}

template <class T>
bool hidden_units_identical(const TwoLayerParams<T>& p) {
    const Matrix<T>&W1 = p.W1.value(), &b1 = p.b1.value(), &W2 = p.W2.value();
    for (std::size_t h = 1; h < p.n_h(); ++h) {
        if (b1(h, 0) != b1(0, 0)) return false;
        for (std::size_t i = 0; i < p.n_x(); ++i) {
            if (W1(h, i) != W1(0, i)) return false;
        }
        for (std::size_t o = 0; o < p.n_y(); ++o) {
            if (W2(o, h) != W2(o, 0)) return false;
        }
    }
    return true;
}

template <class T>
TrainResult<T> train_two_layer(const TwoLayerParams<T>& p, const Matrix<T>& X, const Matrix<T>& Y,
                               std::size_t iterations, double learning_rate, const IterationCallback<T>& on_iteration) {
    // Build once: every node's value is computed now, and each step replays it.
    Graph<T> g;
    auto Xv = g.input(X, "X");
    auto Yv = g.input(Y, "Y");
    const TwoLayerForward<T> f = two_layer_forward(g, Xv, p);
    auto J = binary_cross_entropy(f.A2, Yv).named("J");

    std::vector<Parameter<T>> params = p.all();
    const T lr = T(learning_rate);
    TrainResult<T> result;
    result.costs.reserve(iterations + 1);
    for (std::size_t i = 0;; ++i) {
        if (i > 0) g.forward();
        const T cost = J.value()(0, 0);
        if (!std::isfinite(cost)) {
            std::ostringstream s;
            s << "train_two_layer: the cost is " << cost << " after " << i << " iterations; lower the learning rate ("
              << learning_rate << ")";
            throw ValueError(s.str());
        }
        result.costs.push_back(cost);
        if (i == iterations) break;
        if (on_iteration) on_iteration(i, cost);
        g.backward(J);
        for (Parameter<T>& q : params) {  // W ← W − α dW, in place
            T* w = q.value().data();
            const T* dw = q.grad().data();
            for (std::size_t k = 0, n = q.value().size(); k < n; ++k) w[k] -= lr * dw[k];
        }
    }
    return result;
}

#define XG_TWO_LAYER_INSTANTIATE(T)                                                                                    \
    template TwoLayerParams<T> init_two_layer(std::size_t, std::size_t, std::size_t, std::uint32_t, Init, double);     \
    template TwoLayerParams<T> load_two_layer(const std::string&);                                                     \
    template TwoLayerForward<T> two_layer_forward(Graph<T>&, Var<T>, const TwoLayerParams<T>&);                        \
    template Matrix<T> two_layer_probabilities(const TwoLayerParams<T>&, const Matrix<T>&);                            \
    template Matrix<T> predict(const TwoLayerParams<T>&, const Matrix<T>&);                                            \
    template double accuracy(const Matrix<T>&, const Matrix<T>&);                                                      \
    template bool hidden_units_identical(const TwoLayerParams<T>&);                                                    \
    template TrainResult<T> train_two_layer(const TwoLayerParams<T>&, const Matrix<T>&, const Matrix<T>&, std::size_t, \
                                            double, const IterationCallback<T>&);

XG_TWO_LAYER_INSTANTIATE(float)
XG_TWO_LAYER_INSTANTIATE(double)

}  // namespace xg

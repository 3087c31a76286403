// The convolution workloads of bench/cnn.hpp in xgrad: each graph is built
// once on input leaves; an iteration sets the input, replays forward and
// backward (and steps Adam for the CNN).
#include <cmath>
#include <utility>

#include "cnn.hpp"

namespace bench::cnn {
namespace {

/// Σ|m|.
template <class T>
double total(const xg::Matrix<T>& m) {
    double s = 0;
    for (std::size_t k = 0; k < m.size(); ++k) s += std::fabs(double(m.data()[k]));
    return s;
}

/// J = Σ maxpool(relu(conv2d(X, K, b))).
template <class T>
class XgradConv final : public Runner {
public:
    XgradConv(const ConvData<T>& d, xg::ConvAlgorithm algorithm) : d_(d), K_(d.K, "K"), b_(d.b, "b") {
        X_ = g_.input(d.X, "X", d.shape.input_grad);
        auto A = relu(conv2d(X_, g_.parameter(K_), g_.parameter(b_), d.conv(algorithm))).named("A");
        auto P = max_pool2d(A, d.pool()).named("P");
        J_ = sum(P).named("J");
    }

    double step() override {
        g_.set_value(X_, d_.X);
        g_.forward();
        g_.backward(J_);
        return double(J_.value()(0, 0));
    }

    std::vector<double> grad_sums() const override {
        std::vector<double> s{total(K_.grad()), total(b_.grad())};
        if (d_.shape.input_grad) s.push_back(total(X_.grad()));
        return s;
    }

private:
    const ConvData<T>& d_;
    xg::Graph<T> g_;
    xg::Parameter<T> K_, b_;
    xg::Var<T> X_, J_;
};

/// The CNN: two conv blocks, two dense layers, softmax cross-entropy, Adam.
template <class T>
class XgradCnn final : public Runner {
public:
    explicit XgradCnn(const CnnData<T>& d)
        : d_(d), K1_(d.K1, "K1"), b1_(d.b1, "b1"), K2_(d.K2, "K2"), b2_(d.b2, "b2"), W3_(d.W3, "W3"),
          b3_(d.b3, "b3"), W4_(d.W4, "W4"), b4_(d.b4, "b4"),
          opt_({K1_, b1_, K2_, b2_, W3_, b3_, W4_, b4_}, learning_rate) {
        X_ = g_.input(d.X, "X");
        Y_ = g_.input(d.Y, "y");
        auto A1 = relu(conv2d(X_, g_.parameter(K1_), g_.parameter(b1_), {{1, 28, 28}, kernel, 1, padding}));
        auto P1 = max_pool2d(A1, {{32, 28, 28}, window, window});
        auto A2 = relu(conv2d(P1, g_.parameter(K2_), g_.parameter(b2_), {{32, 14, 14}, kernel, 1, padding}));
        auto P2 = max_pool2d(A2, {{64, 14, 14}, window, window});
        auto H = relu(matmul(g_.parameter(W3_), P2) + g_.parameter(b3_));
        auto Z = matmul(g_.parameter(W4_), H) + g_.parameter(b4_);
        J_ = softmax_cross_entropy(Z, Y_).named("J");
    }

    double step() override {
        g_.set_value(X_, d_.X);
        g_.set_value(Y_, d_.Y);
        g_.forward();
        g_.backward(J_);
        opt_.step();
        return double(J_.value()(0, 0));
    }

    std::vector<double> grad_sums() const override { return {}; }

private:
    const CnnData<T>& d_;
    xg::Graph<T> g_;
    xg::Parameter<T> K1_, b1_, K2_, b2_, W3_, b3_, W4_, b4_;
    xg::Adam<T> opt_;
    xg::Var<T> X_, Y_, J_;
};

}  // namespace

template <class T>
std::unique_ptr<Runner> make_xgrad_conv(const ConvData<T>& data, xg::ConvAlgorithm algorithm) {
    return std::make_unique<XgradConv<T>>(data, algorithm);
}

template <class T>
std::unique_ptr<Runner> make_xgrad_cnn(const CnnData<T>& data) {
    return std::make_unique<XgradCnn<T>>(data);
}

template std::unique_ptr<Runner> make_xgrad_conv(const ConvData<float>&, xg::ConvAlgorithm);
template std::unique_ptr<Runner> make_xgrad_conv(const ConvData<double>&, xg::ConvAlgorithm);
template std::unique_ptr<Runner> make_xgrad_cnn(const CnnData<float>&);
template std::unique_ptr<Runner> make_xgrad_cnn(const CnnData<double>&);

}  // namespace bench::cnn

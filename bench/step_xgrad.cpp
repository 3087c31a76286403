// The step in xgrad: the graph is built once; a step replays it.
#include "two_layer_step.hpp"

namespace bench {
namespace {

template <class T>
class XgradStep final : public Step<T> {
public:
    explicit XgradStep(const Problem<T>& p)
        : W1_(p.W1, "W1"), b1_(p.b1, "b1"), W2_(p.W2, "W2"), b2_(p.b2, "b2"), lr_(T(p.learning_rate)) {
        auto X = g_.input(p.X, "X");
        auto Y = g_.input(p.Y, "Y");
        auto Z1 = (matmul(g_.parameter(W1_), X) + g_.parameter(b1_)).named("Z1");
        auto A1 = tanh(Z1).named("A1");
        auto Z2 = (matmul(g_.parameter(W2_), A1) + g_.parameter(b2_)).named("Z2");
        auto A2 = sigmoid(Z2).named("A2");
        J_ = binary_cross_entropy(A2, Y).named("J");
        first_ = true;
    }

    double step() override {
        if (!first_) g_.forward();  // the build already computed the first forward
        first_ = false;
        const double cost = J_.value()(0, 0);
        g_.backward(J_);
        for (xg::Parameter<T>* p : {&W1_, &b1_, &W2_, &b2_}) {
            T* w = p->value().data();
            const T* d = p->grad().data();
            const std::size_t n = p->value().size();
            for (std::size_t k = 0; k < n; ++k) w[k] -= lr_ * d[k];
        }
        return cost;
    }

private:
    xg::Graph<T> g_;
    xg::Parameter<T> W1_, b1_, W2_, b2_;
    xg::Var<T> J_;
    T lr_;
    bool first_;
};

}  // namespace

template <class T>
std::unique_ptr<Step<T>> make_xgrad(const Problem<T>& p) {
    return std::make_unique<XgradStep<T>>(p);
}

template std::unique_ptr<Step<float>> make_xgrad(const Problem<float>&);
template std::unique_ptr<Step<double>> make_xgrad(const Problem<double>&);

}  // namespace bench

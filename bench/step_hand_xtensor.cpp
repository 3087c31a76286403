// The step written by hand with xtensor / xtensor-blas, as a careful user
// would: preallocated results, xt::noalias, transposes passed to gemm as flags.
#include <xtensor-blas/xblas.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xnoalias.hpp>

#include "two_layer_step.hpp"

namespace bench {
namespace {

template <class T>
class HandXtensorStep final : public Step<T> {
public:
    explicit HandXtensorStep(const Problem<T>& p)
        : X(p.X), Y(p.Y), W1(p.W1), b1(p.b1), W2(p.W2), b2(p.b2), lr(T(p.learning_rate)) {
        const std::size_t n1 = W1.shape()[0], n2 = W2.shape()[0], m = X.shape()[1];
        Z1.resize({n1, m});
        A1.resize({n1, m});
        Z2.resize({n2, m});
        A2.resize({n2, m});
        dZ2.resize({n2, m});
        dA1.resize({n1, m});
        dZ1.resize({n1, m});
        dW1.resize(W1.shape());
        dW2.resize(W2.shape());
        db1.resize(b1.shape());
        db2.resize(b2.shape());
    }

    double step() override {
        const T m = T(X.shape()[1]);
        // forward
        xt::blas::gemm(W1, X, Z1);
        xt::noalias(A1) = xt::tanh(Z1 + b1);
        xt::blas::gemm(W2, A1, Z2);
        xt::noalias(A2) = T(1) / (T(1) + xt::exp(-(Z2 + b2)));
        const double cost = -double(xt::sum(Y * xt::log(A2) + (T(1) - Y) * xt::log(T(1) - A2))()) / double(m);
        // backward: the six equations (with the 1/m folded into dZ2)
        xt::noalias(dZ2) = (A2 - Y) / m;
        xt::blas::gemm(dZ2, A1, dW2, false, true);
        xt::noalias(db2) = xt::sum(dZ2, {1}, xt::keep_dims);
        xt::blas::gemm(W2, dZ2, dA1, true, false);
        xt::noalias(dZ1) = dA1 * (T(1) - A1 * A1);
        xt::blas::gemm(dZ1, X, dW1, false, true);
        xt::noalias(db1) = xt::sum(dZ1, {1}, xt::keep_dims);
        // update
        xt::noalias(W1) -= lr * dW1;
        xt::noalias(b1) -= lr * db1;
        xt::noalias(W2) -= lr * dW2;
        xt::noalias(b2) -= lr * db2;
        return cost;
    }

private:
    xg::Matrix<T> X, Y, W1, b1, W2, b2;
    xg::Matrix<T> Z1, A1, Z2, A2, dZ2, dA1, dZ1, dW1, dW2, db1, db2;
    T lr;
};

}  // namespace

template <class T>
std::unique_ptr<Step<T>> make_hand_xtensor(const Problem<T>& p) {
    return std::make_unique<HandXtensorStep<T>>(p);
}

template std::unique_ptr<Step<float>> make_hand_xtensor(const Problem<float>&);
template std::unique_ptr<Step<double>> make_hand_xtensor(const Problem<double>&);

}  // namespace bench

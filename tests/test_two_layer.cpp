// The two-layer network's autodiff gradients against the six hand-derived
// backprop equations.
//
// Convention: J = −(1/m) Σ [Y log A2 + (1 − Y) log(1 − A2)], so the gradient
// xgrad holds for Z2 is ∂J/∂Z2 = (A2 − Y) / m. The lecture writes
// dZ2 = A2 − Y and folds the 1/m into dW and db; this test checks both:
//   dZ2_lecture = A2 − Y                      (= m · xgrad's dZ2)
//   dW2 = (1/m) dZ2_lecture A1ᵀ               db2 = (1/m) Σ_cols dZ2_lecture
//   dZ1_lecture = W2ᵀ dZ2_lecture ⊙ (1 − A1²) (= m · xgrad's dZ1)
//   dW1 = (1/m) dZ1_lecture Xᵀ                db1 = (1/m) Σ_cols dZ1_lecture
#include <doctest/doctest.h>

#include <random>

#include "helpers.hpp"

using xg::Matrix;
using namespace xgt;

namespace {

struct Net {
    xg::Graph<double> g;
    xg::Parameter<double> W1, b1, W2, b2;
    xg::Var<double> X, Y, Z1, A1, Z2, A2, J;

    Net(std::size_t n0, std::size_t n1, std::size_t n2, std::size_t m, std::mt19937_64& rng)
        : W1(randn(n1, n0, rng), "W1"), b1(randn(n1, 1, rng), "b1"), W2(randn(n2, n1, rng), "W2"),
          b2(randn(n2, 1, rng), "b2") {
        X = g.input(randn(n0, m, rng), "X");
        Y = g.input(labels01(n2, m, rng), "Y");
        auto w1 = g.parameter(W1), bb1 = g.parameter(b1), w2 = g.parameter(W2), bb2 = g.parameter(b2);
        Z1 = (matmul(w1, X) + bb1).named("Z1");
        A1 = tanh(Z1).named("A1");
        Z2 = (matmul(w2, A1) + bb2).named("Z2");
        A2 = sigmoid(Z2).named("A2");
        J = binary_cross_entropy(A2, Y).named("J");
    }
};

}  // namespace

TEST_CASE("two-layer graph: autodiff equals the six hand-derived equations on 60 random shapes") {
    std::mt19937_64 rng(20261127);
    std::uniform_int_distribution<int> small(1, 6), cols(1, 40);
    int cases = 0;
    for (int trial = 0; trial < 60; ++trial) {
        // Every fourth trial forces some dimensions to 1.
        const std::size_t n0 = trial % 4 == 0 ? 1 : small(rng), n1 = trial % 4 == 1 ? 1 : small(rng),
                          n2 = trial % 4 == 2 ? 1 : small(rng), m = trial % 4 == 3 ? 1 : cols(rng);
        CAPTURE(n0);
        CAPTURE(n1);
        CAPTURE(n2);
        CAPTURE(m);
        Net net(n0, n1, n2, m, rng);
        net.g.backward(net.J);

        const Matrix<double>& X = net.X.value();
        const Matrix<double>& Y = net.Y.value();
        const Matrix<double>& A1 = net.A1.value();
        const Matrix<double>& A2 = net.A2.value();
        const Matrix<double>& W2 = net.W2.value();
        const double md = double(m);

        // The lecture's equations, literally.
        const Matrix<double> dZ2 = A2 - Y;
        const Matrix<double> dW2 = ref_matmul(dZ2, ref_transpose(A1)) / md;
        const Matrix<double> db2 = ref_sum_cols(dZ2) / md;
        const Matrix<double> dZ1 = ref_matmul(ref_transpose(W2), dZ2) * (1.0 - A1 * A1);
        const Matrix<double> dW1 = ref_matmul(dZ1, ref_transpose(X)) / md;
        const Matrix<double> db1 = ref_sum_cols(dZ1) / md;

        // xgrad's intermediate gradients carry the 1/m: ∂J/∂Z = dZ_lecture / m.
        CHECK(rel_err(net.Z2.grad(), Matrix<double>(dZ2 / md)) <= 1e-12);
        CHECK(rel_err(net.Z1.grad(), Matrix<double>(dZ1 / md)) <= 1e-12);
        CHECK(rel_err(net.W2.grad(), dW2) <= 1e-12);
        CHECK(rel_err(net.b2.grad(), db2) <= 1e-12);
        CHECK(rel_err(net.W1.grad(), dW1) <= 1e-12);
        CHECK(rel_err(net.b1.grad(), db1) <= 1e-12);

        // Gradient shapes equal value shapes (db is n × 1).
        CHECK(xg::shape_of(net.b1.grad()) == xg::Shape{n1, 1});
        CHECK(xg::shape_of(net.b2.grad()) == xg::Shape{n2, 1});
        CHECK(xg::shape_of(net.W1.grad()) == xg::Shape{n1, n0});
        CHECK(xg::shape_of(net.A1.grad()) == xg::Shape{n1, m});
        ++cases;
    }
    CHECK(cases == 60);
}

TEST_CASE("two-layer graph: the loss is the cross-entropy formula, and replay follows parameter updates") {
    std::mt19937_64 rng(7);
    Net net(3, 5, 1, 17, rng);
    auto bce = [&] {
        const Matrix<double>& A2 = net.A2.value();
        const Matrix<double>& Y = net.Y.value();
        double s = 0;
        for (std::size_t j = 0; j < 17; ++j) s += Y(0, j) * std::log(A2(0, j)) + (1 - Y(0, j)) * std::log(1 - A2(0, j));
        return -s / 17;
    };
    CHECK(net.J.value()(0, 0) == doctest::Approx(bce()).epsilon(1e-13));
    const double before = net.J.value()(0, 0);
    // One gradient-descent step by hand, then replay.
    for (int it = 0; it < 50; ++it) {
        net.g.backward(net.J);
        for (auto* p : {&net.W1, &net.b1, &net.W2, &net.b2}) p->value() -= 0.5 * p->grad();
        net.g.forward();
    }
    CHECK(net.J.value()(0, 0) == doctest::Approx(bce()).epsilon(1e-13));
    CHECK(net.J.value()(0, 0) < before);
}

TEST_CASE("two-layer graph in float32 gives the float64 gradients within float32 precision") {
    std::mt19937_64 rng(99);
    for (int trial = 0; trial < 10; ++trial) {
        const std::size_t n0 = 1 + trial % 3, n1 = 2 + trial % 4, n2 = 1 + trial % 2, m = 5 + 7 * trial;
        Net net(n0, n1, n2, m, rng);
        net.g.backward(net.J);

        xg::Graph<float> g;
        auto cast = [](const Matrix<double>& a) { return Matrix<float>(xt::cast<float>(a)); };
        auto W1 = g.parameter(cast(net.W1.value()), "W1"), b1 = g.parameter(cast(net.b1.value()), "b1");
        auto W2 = g.parameter(cast(net.W2.value()), "W2"), b2 = g.parameter(cast(net.b2.value()), "b2");
        auto X = g.input(cast(net.X.value()), "X"), Y = g.input(cast(net.Y.value()), "Y");
        auto Z2 = matmul(W2, tanh(matmul(W1, X) + b1)) + b2;
        auto J = binary_cross_entropy(sigmoid(Z2), Y);
        g.backward(J);
        CHECK(J.value()(0, 0) == doctest::Approx(net.J.value()(0, 0)).epsilon(1e-5));
        CHECK(rel_err(W1.grad(), net.W1.grad()) <= 1e-4);
        CHECK(rel_err(b1.grad(), net.b1.grad()) <= 1e-4);
        CHECK(rel_err(W2.grad(), net.W2.grad()) <= 1e-4);
        CHECK(rel_err(b2.grad(), net.b2.grad()) <= 1e-4);
    }
}

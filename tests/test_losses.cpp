// Losses: softmax cross-entropy from logits (one-hot and class-index labels)
// and mean squared error. Hand-computed values, the exact gradient
// (softmax(Z) − Y)/m, finite differences, stability, errors.
#include <doctest/doctest.h>

#include <random>

#include "helpers.hpp"

using xg::Matrix;
using namespace xgt;

namespace {

/// K × m one-hot matrix of class indices given as a 1 × m matrix.
Matrix<double> one_hot(const Matrix<double>& idx, std::size_t K) {
    Matrix<double> y = xt::zeros<double>({K, idx.shape()[1]});
    for (std::size_t j = 0; j < idx.shape()[1]; ++j) y(std::size_t(idx(0, j)), j) = 1;
    return y;
}

Matrix<double> random_classes(std::size_t K, std::size_t m, std::mt19937_64& rng) {
    std::uniform_int_distribution<std::size_t> d(0, K - 1);
    Matrix<double> y({1, m});
    for (auto& v : y) v = double(d(rng));
    return y;
}

/// J = loss(parameter a, input y) built in float64 and in float32: the values
/// and the gradients with respect to a agree to float32 precision.
template <class Loss>
void check_float32_agrees(Loss loss, const Matrix<double>& a, const Matrix<double>& y) {
    xg::Graph<double> gd;
    xg::Graph<float> gf;
    auto Ad = gd.parameter(a);
    auto Af = gf.parameter(to_float(a));
    auto Jd = loss(Ad, gd.input(y));
    auto Jf = loss(Af, gf.input(to_float(y)));
    CHECK(Jf.value()(0, 0) == doctest::Approx(Jd.value()(0, 0)).epsilon(1e-6));
    gd.backward(Jd);
    gf.backward(Jf);
    CHECK(rel_err(Af.grad(), Ad.grad()) <= 1e-6);
}

}  // namespace

TEST_CASE("softmax cross-entropy: hand-computed values for one-hot and class-index labels") {
    xg::Graph<double> g;
    auto Z = g.parameter(Matrix<double>{{1, 0}, {2, 0}, {3, 0}}, "Z");
    auto idx = g.input(Matrix<double>{{2, 0}}, "y");
    auto Y = g.input(Matrix<double>{{0, 1}, {0, 0}, {1, 0}}, "Y");
    // −log softmax: column 0, class 2: −log(e³ / (e + e² + e³)); column 1: log 3.
    const double expect = (0.40760596444438013 + std::log(3.0)) / 2;
    CHECK(softmax_cross_entropy(Z, idx).value()(0, 0) == doctest::Approx(expect).epsilon(1e-15));
    CHECK(softmax_cross_entropy(Z, Y).value()(0, 0) == doctest::Approx(expect).epsilon(1e-15));
    // Soft labels: a probability distribution per column.
    auto P = g.input(Matrix<double>{{0.5, 0.2}, {0.5, 0.3}, {0, 0.5}}, "P");
    const double soft = (0.5 * 2.4076059644443801 + 0.5 * 1.4076059644443801 + std::log(3.0)) / 2;
    CHECK(softmax_cross_entropy(Z, P).value()(0, 0) == doctest::Approx(soft).epsilon(1e-15));
}

TEST_CASE("softmax cross-entropy: the gradient is exactly (softmax(Z) − Y) / m") {
    std::mt19937_64 rng(41);
    const std::size_t K = 5, m = 9;
    const Matrix<double> idx = random_classes(K, m, rng);
    for (bool indices : {true, false}) {
        CAPTURE(indices);
        xg::Graph<double> g;
        auto Z = g.parameter(randn(K, m, rng, 3.0), "Z");
        auto labels = g.input(indices ? idx : one_hot(idx, K), "Y");
        auto J = softmax_cross_entropy(Z, labels);
        auto S = softmax(Z);  // the same kernel as the loss
        g.backward(J);
        const Matrix<double> Y = one_hot(idx, K);
        for (std::size_t k = 0; k < K * m; ++k) {
            CHECK(Z.grad().data()[k] == (S.value().data()[k] - Y.data()[k]) / double(m));
        }
        CHECK_FALSE(g.has_grad(labels.id()));
        // The value: −(1/m) Σ Y ⊙ log softmax(Z), by plain loops.
        double s = 0;
        for (std::size_t k = 0; k < K * m; ++k) s += Y.data()[k] * std::log(S.value().data()[k]);
        CHECK(J.value()(0, 0) == doctest::Approx(-s / double(m)).epsilon(1e-14));
    }
}

TEST_CASE("softmax cross-entropy: finite differences for one-hot, index and soft labels") {
    std::mt19937_64 rng(42);
    for (auto [K, m] : {std::pair{4, 7}, {2, 1}, {10, 3}, {1, 4}}) {
        CAPTURE(K);
        CAPTURE(m);
        const Matrix<double> idx = random_classes(K, m, rng);
        xg::Graph<double> g;
        auto Z = g.parameter(randn(K, m, rng, 2.0), "Z");
        auto W = g.parameter(randn(K, K, rng), "W");
        auto logits = matmul(W, Z) + Z;
        // Soft labels: softmax of random numbers, every column summing to 1.
        xg::Graph<double> aux;
        const Matrix<double> soft = softmax(aux.input(randn(K, m, rng))).value();
        auto J = 3.0 * softmax_cross_entropy(logits, g.input(one_hot(idx, K), "Y")) +
                 softmax_cross_entropy(logits, g.input(soft, "P"));
        if (K > 1) J = J + 0.5 * softmax_cross_entropy(logits, g.input(idx, "y"));
        check_grads(g, J);
    }
}

TEST_CASE("softmax cross-entropy stays finite and exact for logits of ±1000 and ±1e6") {
    for (double big : {1000.0, 1e6}) {
        CAPTURE(big);
        const Matrix<double> z = {{big, -big, big}, {-big, big, big}};
        const Matrix<double> idx = {{0, 0, 1}};  // right, wrong, a tie
        const Matrix<double> expect_grad = {{0, -1.0 / 3, 1.0 / 6}, {0, 1.0 / 3, -1.0 / 6}};
        // Losses 0, 2 big and log 2, over 3 examples.
        const double expect = (2 * big + std::log(2.0)) / 3;
        xg::Graph<double> g;
        auto Z = g.parameter(z, "Z");
        auto J = softmax_cross_entropy(Z, g.input(idx, "y"));
        CHECK(J.value()(0, 0) == doctest::Approx(expect).epsilon(1e-15));
        g.backward(J);
        CHECK(Z.grad() == expect_grad);

        xg::Graph<float> gf;
        auto Zf = gf.parameter(to_float(z), "Z");
        auto Jf = softmax_cross_entropy(Zf, gf.input(to_float(one_hot(idx, 2)), "Y"));
        CHECK(std::isfinite(Jf.value()(0, 0)));
        CHECK(Jf.value()(0, 0) == doctest::Approx(expect).epsilon(1e-6));
        gf.backward(Jf);
        CHECK(Zf.grad() == to_float(expect_grad));
    }
}

TEST_CASE("softmax cross-entropy: float32 agrees with float64") {
    std::mt19937_64 rng(43);
    const Matrix<double> z = randn(6, 20, rng, 2.0), idx = random_classes(6, 20, rng);
    check_float32_agrees([](auto z, auto y) { return softmax_cross_entropy(z, y); }, z, idx);
    check_float32_agrees([](auto z, auto y) { return softmax_cross_entropy(z, y); }, z, one_hot(idx, 6));
}

TEST_CASE("softmax cross-entropy errors: labels, shapes, a softmax passed as logits") {
    xg::Graph<double> g;
    auto Z = g.parameter(Matrix<double>{{1, 2, 3, 4}, {0, 0, 0, 0}, {1, 1, 1, 1}}, "Z");
    const auto bad_index = [&](Matrix<double> y) {
        return message_of<xg::ValueError>([&] { softmax_cross_entropy(Z, g.input(y, "y")); });
    };
    CHECK(bad_index({{0, 1, 3, 2}}) ==
          "softmax_cross_entropy(Z, y): class index y(0, 2) = 3 is not one of 0, 1, ..., 2 (the logits have 3 "
          "rows, one per class)");
    CHECK(contains(bad_index({{0, -1, 2, 2}}), "class index y(0, 1) = -1 is not one of"));
    CHECK(contains(bad_index({{0, 1, 1.5, 2}}), "class index y(0, 2) = 1.5 is not one of"));
    CHECK(bad_index({{std::nan(""), 1, 1, 2}}) == "softmax_cross_entropy(Z, y): class index y(0, 0) is NaN");

    const auto bad_one_hot = [&](Matrix<double> y) {
        return message_of<xg::ValueError>([&] { softmax_cross_entropy(Z, g.input(y, "Y")); });
    };
    CHECK(bad_one_hot({{1, 0, 0, 1}, {0, 1, 0, 0}, {0, 0, 2, 0}}) ==
          "softmax_cross_entropy(Z, Y): label Y(2, 2) = 2 is outside [0, 1]");
    CHECK(bad_one_hot({{1, 0, 0, 1}, {0, 1, 0, 0}, {0, 1, 0, 0}}) ==
          "softmax_cross_entropy(Z, Y): label column 1 sums to 2, not 1 (labels of the logits' shape must "
          "be one-hot, or probabilities)");
    CHECK(contains(bad_one_hot({{1, 0, 0, 1}, {0, 1, 0, 0}, {0, 0, 0, 0}}), "label column 2 sums to 0,"));

    // Shapes: neither one-hot (K × m) nor indices (1 × m).
    std::string msg = message_of<xg::ShapeError>([&] { softmax_cross_entropy(Z, g.input(Matrix<double>{{0, 1, 2}})); });
    CHECK(contains(msg, "labels must be one-hot of the logits' shape (K x m) or class indices (1 x m)"));
    CHECK(contains(msg, "Z [3x4]"));
    msg = message_of<xg::ShapeError>([&] { softmax_cross_entropy(Z, g.input(Matrix<double>({2, 4}, 0.5), "Y2")); });
    CHECK(contains(msg, "Y2 [2x4]"));

    // Probabilities instead of logits.
    auto A = softmax(Z).named("A");
    msg = message_of<xg::GraphError>([&] { softmax_cross_entropy(A, g.input(Matrix<double>{{0, 1, 2, 0}}, "y")); });
    CHECK(contains(msg, "softmax_cross_entropy(A, y): A is already the output of softmax; pass the logits"));

    // Labels given on replay are checked again, and naming the loss node.
    auto y = g.input(Matrix<double>{{0, 1, 2, 0}}, "y");
    softmax_cross_entropy(Z, y).named("J");
    g.set_value(y, Matrix<double>{{0, 1, 7, 0}});
    CHECK(contains(message_of<xg::ValueError>([&] { g.forward(); }),
                   "J = softmax_cross_entropy(Z, y): class index y(0, 2) = 7"));
    // New shapes on replay: more examples are fine, labels of the wrong length are not.
    g.set_value(y, Matrix<double>{{0, 1, 2}});
    CHECK(contains(message_of<xg::ShapeError>([&] { g.forward(); }), "or class indices (1 x m)"));
}

TEST_CASE("mean squared error: (1/m) Σ (A − Y)², hand-computed value and gradients") {
    xg::Graph<double> g;
    auto A = g.parameter(Matrix<double>{{1, 2}, {3, 4}}, "A");
    auto Y = g.parameter(Matrix<double>{{0, 2}, {1, 1}}, "Y");
    auto J = mean_squared_error(A, Y);
    CHECK(J.value() == Matrix<double>{{7}});  // (1 + 0 + 4 + 9) / 2 examples
    g.backward(J);
    CHECK(A.grad() == Matrix<double>{{1, 0}, {2, 3}});  // 2 (A − Y) / m
    CHECK(Y.grad() == Matrix<double>{{-1, 0}, {-2, -3}});

    std::mt19937_64 rng(44);
    xg::Graph<double> g2;
    auto W = g2.parameter(randn(2, 3, rng), "W");
    auto X = g2.input(randn(3, 10, rng), "X");
    auto T = g2.parameter(randn(2, 10, rng), "T");
    check_grads(g2, mean_squared_error(tanh(matmul(W, X)), T));

    auto B = g2.input(randn(2, 9, rng), "B");
    const std::string msg = message_of<xg::ShapeError>([&] { mean_squared_error(W, B); });
    CHECK(msg == "mean_squared_error(W, B): the target must have the prediction's shape: W [2x3], B [2x9]");
}

TEST_CASE("mean squared error: float32 agrees with float64") {
    std::mt19937_64 rng(45);
    const Matrix<double> a = randn(3, 50, rng), y = randn(3, 50, rng);
    check_float32_agrees([](auto a, auto y) { return mean_squared_error(a, y); }, a, y);
}

TEST_CASE("binary_cross_entropy on sigmoid(Z): messages name the two operands passed, not the logits") {
    // The fused node reads (A, Y, Z); the call was binary_cross_entropy(A, Y).
    xg::Graph<double> g;
    auto Z = g.parameter(Matrix<double>{{0.5, -1.0, 2.0}}, "Z");
    auto A = sigmoid(Z).named("A");
    auto Y4 = g.input(Matrix<double>{{0, 1, 1, 0}}, "Y4");
    CHECK(message_of<xg::ShapeError>([&] { binary_cross_entropy(A, Y4); }) ==
          "binary_cross_entropy(A, Y4): labels must have the prediction's shape: A [1x3], Y4 [1x4]");
    auto Yb = g.input(Matrix<double>{{0, 2, 1}}, "Yb");
    CHECK(message_of<xg::ValueError>([&] { binary_cross_entropy(A, Yb); }) ==
          "binary_cross_entropy(A, Yb): label Y(0, 1) = 2 is outside [0, 1]");
    auto Yn = g.input(Matrix<double>{{0, 1, NAN}}, "Yn");
    CHECK(message_of<xg::ValueError>([&] { binary_cross_entropy(A, Yn); }) ==
          "binary_cross_entropy(A, Yn): label Y(0, 2) is NaN");
    // On replay, with the loss node's name; and after a shape change.
    auto Y = g.input(Matrix<double>{{0, 1, 1}}, "Y");
    auto J = binary_cross_entropy(A, Y).named("J");
    CHECK(g.op(J.id())->name() == "binary_cross_entropy");
    CHECK(g.inputs(J.id()).size() == 3);  // the fusion is there
    g.set_value(Y, Matrix<double>{{0, 1, 3}});
    CHECK(message_of<xg::ValueError>([&] { g.forward(); }) == "J = binary_cross_entropy(A, Y): label Y(0, 2) = 3 is outside [0, 1]");
    g.set_value(Y, Matrix<double>{{0, 1}});
    CHECK(message_of<xg::ShapeError>([&] { g.forward(); }) ==
          "binary_cross_entropy(A, Y): labels must have the prediction's shape: A [1x3], Y [1x2]");
    g.set_value(Y, Matrix<double>{{0, 1, 1}});
    g.forward();
    CHECK(J.value()(0, 0) > 0);
}

// Activations: relu, leaky_relu, softplus, softmax over each column. Values
// against hand-computed numbers, gradients against finite differences,
// stability at large logits, float32 against float64.
#include <doctest/doctest.h>

#include <random>

#include "helpers.hpp"

using xg::Matrix;
using namespace xgt;

namespace {

/// Random values at least `gap` away from 0 (a kink), both signs.
Matrix<double> away_from_zero(std::size_t r, std::size_t c, std::mt19937_64& rng, double gap = 0.05) {
    Matrix<double> m = randn(r, c, rng);
    for (auto& v : m) v = v >= 0 ? v + gap : v - gap;
    return m;
}

}  // namespace

TEST_CASE("relu and leaky_relu: values, the gradient at and around the kink") {
    xg::Graph<double> g;
    auto X = g.parameter(Matrix<double>{{-2.0, -0.0, 0.0, 0.5, 3.0}}, "X");
    CHECK(relu(X).value() == Matrix<double>{{0, 0, 0, 0.5, 3}});
    CHECK(leaky_relu(X, 0.1).value() == Matrix<double>{{-0.2, 0, 0, 0.5, 3}});
    CHECK(leaky_relu(X).value()(0, 0) == -0.02);  // α = 0.01 by default
    g.backward(sum(relu(X)));
    CHECK(X.grad() == Matrix<double>{{0, 0, 0, 1, 1}});  // 0 at exactly 0
    g.backward(sum(leaky_relu(X, 0.1)));
    CHECK(X.grad() == Matrix<double>{{0.1, 0.1, 0.1, 1, 1}});
    // A negative α and an α above 1 are allowed (the formula holds for any α).
    g.backward(sum(leaky_relu(X, -0.5)));
    CHECK(X.grad() == Matrix<double>{{-0.5, -0.5, -0.5, 1, 1}});
    CHECK(contains(message_of<xg::ValueError>([&] { leaky_relu(X, INFINITY); }), "alpha is not finite"));

    std::mt19937_64 rng(21);
    xg::Graph<double> g2;
    auto Z = g2.parameter(away_from_zero(4, 6, rng), "Z");
    check_grads(g2, weighted_sum(relu(Z) + leaky_relu(Z, 0.2) + leaky_relu(Z, 1.5), rng));
}

TEST_CASE("softplus: log(1 + e^x) without overflow, gradient σ(x)") {
    xg::Graph<double> g;
    auto X = g.parameter(Matrix<double>{{0.0, 1.0, -1.0, 1000.0, -1000.0, 40.0}}, "X");
    auto Y = softplus(X);
    CHECK(Y.value()(0, 0) == doctest::Approx(std::log(2.0)).epsilon(1e-15));
    CHECK(Y.value()(0, 1) == doctest::Approx(1.3132616875182228).epsilon(1e-15));
    CHECK(Y.value()(0, 2) == doctest::Approx(0.31326168751822286).epsilon(1e-15));
    CHECK(Y.value()(0, 3) == 1000.0);
    CHECK(Y.value()(0, 4) == 0.0);
    CHECK(Y.value()(0, 5) == doctest::Approx(40.0).epsilon(1e-15));
    g.backward(sum(Y));
    const Matrix<double>& d = X.grad();
    CHECK(d(0, 0) == 0.5);
    CHECK(d(0, 1) == doctest::Approx(1 / (1 + std::exp(-1.0))).epsilon(1e-15));
    CHECK(d(0, 3) == 1.0);
    CHECK(d(0, 4) == doctest::Approx(0.0));

    std::mt19937_64 rng(22);
    xg::Graph<double> g2;
    auto Z = g2.parameter(randn(3, 5, rng, 3.0), "Z");
    check_grads(g2, weighted_sum(softplus(Z), rng));
}

TEST_CASE("softmax over each column: hand-computed values, columns sum to 1") {
    xg::Graph<double> g;
    auto Z = g.parameter(Matrix<double>{{1, 0}, {2, 0}, {3, 0}}, "Z");
    auto S = softmax(Z);
    REQUIRE(S.shape() == xg::Shape{3, 2});
    CHECK(S.value()(0, 0) == doctest::Approx(0.09003057317038046).epsilon(1e-15));
    CHECK(S.value()(1, 0) == doctest::Approx(0.24472847105479767).epsilon(1e-15));
    CHECK(S.value()(2, 0) == doctest::Approx(0.6652409557748219).epsilon(1e-15));
    for (std::size_t i = 0; i < 3; ++i) CHECK(S.value()(i, 1) == doctest::Approx(1.0 / 3).epsilon(1e-15));

    std::mt19937_64 rng(23);
    xg::Graph<double> g2;
    auto X = g2.parameter(randn(5, 7, rng, 4.0), "X");
    auto P = softmax(X);
    for (std::size_t j = 0; j < 7; ++j) {
        double s = 0;
        for (std::size_t i = 0; i < 5; ++i) {
            CHECK(P.value()(i, j) > 0);
            s += P.value()(i, j);
        }
        CHECK(s == doctest::Approx(1.0).epsilon(1e-15));
    }
    // Shifting a column by a constant leaves it unchanged (a row broadcast to every row).
    auto shifted = softmax(X + g2.input(randn(1, 7, rng, 100.0), "c"));
    CHECK(rel_err(shifted.value(), P.value()) <= 1e-13);
    // A single row: every entry is 1.
    auto one = softmax(g2.parameter(randn(1, 4, rng), "r"));
    CHECK(one.value() == Matrix<double>(xt::ones<double>({1, 4})));
}

TEST_CASE("softmax is stable for logits of ±1000 and ±1e6, in float64 and float32") {
    const Matrix<double> z = {{1000, -1e6, 1e6}, {1000, 1e6, 1e6}, {-1000, -1e6, -1e6}};
    const Matrix<double> expect = {{0.5, 0, 0.5}, {0.5, 1, 0.5}, {0, 0, 0}};
    xg::Graph<double> g;
    CHECK(softmax(g.input(z)).value() == expect);
    xg::Graph<float> gf;
    CHECK(softmax(gf.input(to_float(z))).value() == to_float(expect));
}

TEST_CASE("softmax gradient: finite differences, and Y ⊙ (g − Σ_rows g ⊙ Y) by hand") {
    std::mt19937_64 rng(24);
    for (auto [k, m] : {std::pair{4, 6}, {1, 3}, {2, 1}, {7, 2}}) {
        CAPTURE(k);
        CAPTURE(m);
        xg::Graph<double> g;
        auto Z = g.parameter(randn(k, m, rng, 2.0), "Z");
        auto S = softmax(Z);
        auto J = weighted_sum(S, rng);
        check_grads(g, J);
        // The formula, written out with plain loops.
        g.backward(J);
        const Matrix<double>& y = S.value();
        const Matrix<double>& gy = S.grad();
        for (int j = 0; j < m; ++j) {
            double dot = 0;
            for (int i = 0; i < k; ++i) dot += gy(i, j) * y(i, j);
            for (int i = 0; i < k; ++i) CHECK(Z.grad()(i, j) == doctest::Approx(y(i, j) * (gy(i, j) - dot)).epsilon(1e-14));
        }
    }
}

TEST_CASE("float32 agrees with float64: relu, leaky_relu, softplus, softmax") {
    std::mt19937_64 rng(25);
    const Matrix<double> z = away_from_zero(5, 8, rng), w = randn(5, 8, rng);
    auto build = [](auto& g, const auto& z, const auto& w) {
        auto Z = g.parameter(z, "Z");
        auto J = sum((relu(Z) + leaky_relu(Z, 0.1) + softplus(Z) + softmax(2.0 * Z)) * g.input(w, "W"));
        g.backward(J);
        return std::pair{J, Z};
    };
    xg::Graph<double> gd;
    xg::Graph<float> gf;
    auto [Jd, Zd] = build(gd, z, w);
    auto [Jf, Zf] = build(gf, to_float(z), to_float(w));
    CHECK(Jf.value()(0, 0) == doctest::Approx(Jd.value()(0, 0)).epsilon(1e-5));
    CHECK(rel_err(Zf.grad(), Zd.grad()) <= 1e-5);
}

TEST_CASE("NaN goes through relu, leaky_relu, abs, softplus and sigmoid, in the value and the gradient") {
    // IEEE arithmetic: max(NaN, 0), step(NaN), sign(NaN) are NaN, and so is g ⊙ step(x)
    // where g is NaN, even for x ≤ 0.
    const double nan = std::nan("");
    xg::Graph<double> g;
    auto X = g.parameter(Matrix<double>{{nan, -2.0, 0.0, 3.0}}, "X");
    for (int op = 0; op < 5; ++op) {
        CAPTURE(op);
        auto Y = op == 0 ? relu(X) : op == 1 ? leaky_relu(X, 0.1) : op == 2 ? abs(X) : op == 3 ? softplus(X) : sigmoid(X);
        CHECK(std::isnan(Y.value()(0, 0)));
        for (std::size_t j = 1; j < 4; ++j) CHECK(std::isfinite(Y.value()(0, j)));
        g.backward(sum(Y));
        CHECK(std::isnan(X.grad()(0, 0)));
        for (std::size_t j = 1; j < 4; ++j) CHECK(std::isfinite(X.grad()(0, j)));
    }
    CHECK(relu(X).value()(0, 1) == 0.0);
    // A NaN in the incoming gradient: relu's gradient at x = −2 is NaN · 0 = NaN.
    auto W = g.input(Matrix<double>{{1.0, nan, 1.0, 1.0}}, "W");
    g.backward(sum(relu(X) * W));
    CHECK(std::isnan(X.grad()(0, 1)));
    CHECK(X.grad()(0, 2) == 0.0);
    CHECK(X.grad()(0, 3) == 1.0);
}

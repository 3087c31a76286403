// Numerical extremes: logits of ±1000 and ±1e6 through sigmoid + binary
// cross-entropy and softmax + cross-entropy give finite costs and the exact
// gradients; tanh, sigmoid, softplus and softmax saturate without NaN; in
// float32 and float64. Expected numbers are computed independently here, in
// long double, from the stable formulas.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "helpers.hpp"

using xg::Matrix;
using namespace xgt;

namespace {

using LD = long double;

/// log(1 + e^z) without overflow.
LD softplus_ld(LD z) { return std::max(z, LD(0)) + std::log1p(std::exp(-std::fabs(z))); }

LD sigmoid_ld(LD z) { return z >= 0 ? 1 / (1 + std::exp(-z)) : std::exp(z) / (1 + std::exp(z)); }

template <class T>
Matrix<T> row(const std::vector<double>& v) {
    Matrix<T> m({1, v.size()});
    for (std::size_t k = 0; k < v.size(); ++k) m(0, k) = T(v[k]);
    return m;
}

template <class T>
bool all_finite(const Matrix<T>& m) {
    for (T v : m) {
        if (!std::isfinite(v)) return false;
    }
    return true;
}

/// |a − b| ≤ tol · max(1, |b|).
bool near(LD a, LD b, LD tol) { return std::fabs(a - b) <= tol * std::max(LD(1), std::fabs(b)); }

template <class T>
LD tolerance() {
    return std::is_same<T, float>::value ? 1e-6L : 1e-14L;
}

// Logits from −1e6 to 1e6, each with label 0 and 1 (right and badly wrong predictions).
const std::vector<double> logits = {-1e6, -1e6, -1000, -1000, -40, -40, 0, 0, 40, 40, 1000, 1000, 1e6, 1e6};
const std::vector<double> labels = {0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1};

/// J = (1/m) Σ [softplus(z) − y z] and dJ/dz = (σ(z) − y) / m, in long double.
LD bce_cost(const std::vector<double>& z, const std::vector<double>& y) {
    LD s = 0;
    for (std::size_t k = 0; k < z.size(); ++k) s += softplus_ld(z[k]) - LD(y[k]) * z[k];
    return s / LD(z.size());
}

}  // namespace

TEST_CASE_TEMPLATE("binary cross-entropy on σ(Z) and from the logits: finite costs, exact gradients at ±1000 and ±1e6",
                   T, float, double) {
    for (int form = 0; form < 2; ++form) {
        CAPTURE(form);
        xg::Graph<T> g;
        g.check_numerics(true);  // any NaN or Inf in a value or gradient would throw
        auto Z = g.parameter(row<T>(logits), "Z");
        auto Y = g.input(row<T>(labels), "Y");
        auto A = sigmoid(Z).named("A");
        auto J = (form == 0 ? binary_cross_entropy(A, Y) : binary_cross_entropy_with_logits(Z, Y)).named("J");
        g.backward(J);
        const LD expect = bce_cost(logits, labels);  // ≈ (2e6 + 2000 + 40 + …) / 14
        CHECK(std::isfinite(J.value()(0, 0)));
        CHECK(near(J.value()(0, 0), expect, tolerance<T>()));
        const Matrix<T>& dZ = Z.grad();
        const LD m = LD(logits.size());
        for (std::size_t k = 0; k < logits.size(); ++k) {
            CAPTURE(logits[k]);
            CAPTURE(labels[k]);
            CHECK(near(dZ(0, k), (sigmoid_ld(logits[k]) - labels[k]) / m, tolerance<T>()));
        }
        // σ saturates to exactly 0 and 1; the gradient of a right prediction is exactly 0.
        CHECK(A.value()(0, 0) == T(0));
        CHECK(A.value()(0, 13) == T(1));
        CHECK(dZ(0, 0) == T(0));
        CHECK(dZ(0, 13) == T(0));
        CHECK(dZ(0, 1) == T(-1) / T(m));
    }
}

TEST_CASE("binary cross-entropy at ±1000 agrees with finite differences (the loss is linear out there)") {
    xg::Graph<double> g;
    auto Z = g.parameter(row<double>({-1000, -1000, 1000, 1000, -1e6, 1e6}), "Z");
    auto Y = g.input(row<double>({0, 1, 0, 1, 1, 0}), "Y");
    auto J = binary_cross_entropy(sigmoid(Z), Y);
    xg::GradCheckOptions o;
    o.step = 1e-3;  // a step far from the rounding of 1e6 still sees a straight line
    check_grads(g, J, o);
}

TEST_CASE_TEMPLATE("softmax cross-entropy: finite costs, exact gradients for logits of ±1000 and ±1e6", T, float,
                   double) {
    // Columns: a clear winner at 1000, the same at 1e6, a tie of huge values, all
    // equal and negative, and a right answer against a wrong one of the same size.
    const Matrix<double> z = {{1000, 1e6, 1e6, -1e6, -1e6, 0},
                              {0, -1e6, 1e6, -1e6, 1e6, 1000},
                              {-1000, 0, -1e6, -1e6, -1000, -1000}};
    const std::vector<std::size_t> cls = {0, 2, 1, 2, 0, 1};
    const std::size_t K = 3, m = 6;
    // J = (1/m) Σ_j [logsumexp(z(:, j)) − z(y_j, j)], dZ = (softmax(Z) − onehot) / m, in long double.
    LD expect = 0;
    Matrix<double> dz({K, m});
    for (std::size_t j = 0; j < m; ++j) {
        LD mx = -INFINITY;
        for (std::size_t i = 0; i < K; ++i) mx = std::max(mx, LD(z(i, j)));
        LD s = 0;
        for (std::size_t i = 0; i < K; ++i) s += std::exp(LD(z(i, j)) - mx);
        expect += mx + std::log(s) - z(cls[j], j);
        for (std::size_t i = 0; i < K; ++i) {
            dz(i, j) = double((std::exp(LD(z(i, j)) - mx) / s - (i == cls[j] ? 1 : 0)) / m);
        }
    }
    expect /= m;
    Matrix<T> onehot = xt::zeros<T>({K, m});
    Matrix<T> idx({1, m});
    for (std::size_t j = 0; j < m; ++j) {
        onehot(cls[j], j) = T(1);
        idx(0, j) = T(cls[j]);
    }
    for (int form = 0; form < 2; ++form) {
        CAPTURE(form);
        xg::Graph<T> g;
        g.check_numerics(true);
        auto Z = g.parameter(Matrix<T>(xt::cast<T>(z)), "Z");
        auto L = g.input(form == 0 ? onehot : idx, "L");
        auto J = softmax_cross_entropy(Z, L);
        g.backward(J);
        CHECK(std::isfinite(J.value()(0, 0)));
        CHECK(near(J.value()(0, 0), expect, tolerance<T>()));
        for (std::size_t i = 0; i < K; ++i) {
            for (std::size_t j = 0; j < m; ++j) {
                CAPTURE(i);
                CAPTURE(j);
                CHECK(near(Z.grad()(i, j), dz(i, j), tolerance<T>()));
            }
        }
    }
}

TEST_CASE_TEMPLATE("softmax of ±1e6: columns of probabilities, finite gradients", T, float, double) {
    xg::Graph<T> g;
    g.check_numerics(true);
    auto X = g.parameter(Matrix<T>{{T(1e6), T(-1e6), T(1000)}, {T(-1e6), T(-1e6), T(-1000)}, {T(0), T(-1e6), T(0)}},
                         "X");
    auto S = softmax(X);
    std::mt19937_64 rng(1);
    auto J = weighted_sum(S, rng);
    g.backward(J);
    const Matrix<T>& s = S.value();
    CHECK(s(0, 0) == T(1));
    CHECK(s(1, 0) == T(0));
    for (std::size_t j = 0; j < 3; ++j) {
        CHECK(std::fabs(double(s(0, j) + s(1, j) + s(2, j)) - 1.0) <= 1e-6);
    }
    CHECK(std::fabs(double(s(0, 1)) - 1.0 / 3) <= 1e-6);  // a tie of −1e6: uniform
    CHECK(all_finite(X.grad()));
}

TEST_CASE_TEMPLATE("tanh, sigmoid and softplus saturate without NaN, in value and gradient", T, float, double) {
    const T big = std::numeric_limits<T>::max();
    const std::vector<double> xs = {-double(big), -1e6, -1000, -50, 50, 1000, 1e6, double(big)};
    for (int op = 0; op < 3; ++op) {
        CAPTURE(op);
        xg::Graph<T> g;
        g.check_numerics(true);
        auto X = g.parameter(row<T>(xs), "X");
        auto Yv = op == 0 ? tanh(X) : op == 1 ? sigmoid(X) : softplus(X);
        auto J = sum(Yv);
        g.backward(J);
        const Matrix<T>& y = Yv.value();
        const Matrix<T>& d = X.grad();
        CHECK(all_finite(y));
        CHECK(all_finite(d));
        const std::size_t n = xs.size();
        if (op == 0) {  // tanh → ±1 exactly, dtanh = 1 − y² → 0 exactly
            CHECK(y(0, 0) == T(-1));
            CHECK(y(0, n - 1) == T(1));
            CHECK(d(0, 0) == T(0));
            CHECK(d(0, n - 1) == T(0));
        } else if (op == 1) {  // σ → 0 and 1 exactly, dσ = y (1 − y) → 0 exactly
            CHECK(y(0, 0) == T(0));
            CHECK(y(0, n - 1) == T(1));
            CHECK(d(0, 0) == T(0));
            CHECK(d(0, n - 1) == T(0));
        } else {  // softplus → 0 and x, dsoftplus = σ → 0 and 1
            CHECK(y(0, 0) == T(0));
            CHECK(y(0, n - 2) == T(1e6));
            CHECK(y(0, n - 1) == big);
            CHECK(d(0, 0) == T(0));
            CHECK(d(0, n - 1) == T(1));
        }
        // Monotone, and never outside the range of the function.
        for (std::size_t k = 1; k < n; ++k) CHECK(y(0, k - 1) <= y(0, k));
    }
}

TEST_CASE_TEMPLATE("binary cross-entropy on probabilities near 0 and 1 stays finite", T, float, double) {
    const double eps = std::is_same<T, float>::value ? 1e-7 : 1e-15;
    xg::Graph<T> g;
    g.check_numerics(true);
    auto A = g.parameter(row<T>({eps, 1 - eps, 0.5}), "A");
    auto Y = g.input(row<T>({1, 0, 1}), "Y");
    auto J = binary_cross_entropy(A, Y);
    g.backward(J);
    const LD a0 = LD(T(eps)), a1 = LD(T(1 - eps));
    const LD expect = -(std::log(a0) + std::log1p(-a1) + std::log(LD(0.5))) / 3;
    CHECK(near(J.value()(0, 0), expect, std::is_same<T, float>::value ? 1e-5L : 1e-12L));
    CHECK(all_finite(A.grad()));
}

TEST_CASE("numeric-debug mode on more ops: the first non-finite value or gradient, by name") {
    const auto msg = [](auto&& f) { return message_of<xg::ValueError>(f); };
    xg::Graph<double> g;
    g.check_numerics(true);
    auto X = g.input(Matrix<double>{{1, 800}}, "X");
    auto E = g.input(Matrix<double>{{1e308, 1}}, "E");
    auto W = g.parameter(Matrix<double>{{1e200, 1}}, "W");
    // Overflow in exp, square, matmul, mul, a scalar product and a sum.
    CHECK(msg([&] { exp(X); }) == "numeric check: exp(X) [1x2] computed a non-finite value at (0, 1) = inf");
    CHECK(msg([&] { square(E); }) == "numeric check: square(E) [1x2] computed a non-finite value at (0, 0) = inf");
    CHECK(msg([&] { matmul(W, transpose(W)); }).find("matmul(W, t") != std::string::npos);
    CHECK(msg([&] { mul(W, W); }) == "numeric check: mul(W, W) [1x2] computed a non-finite value at (0, 0) = inf");
    CHECK(msg([&] { 1e200 * W; }) == "numeric check: s_times_x(W) [1x2] computed a non-finite value at (0, 0) = inf");
    CHECK(msg([&] { sum(E + E); }) == "numeric check: add(E, E) [1x2] computed a non-finite value at (0, 0) = inf");
    // NaN from inf − inf, and from 0 · inf.
    // A leaf holding inf is reported as such; an op node holding inf is read on.
    CHECK(msg([&] { relu(g.input(Matrix<double>{{INFINITY, 1}}, "L")); }) ==
          "numeric check: input L [1x2] holds a non-finite value at (0, 0) = inf");
    g.check_numerics(false);
    auto I = exp(X).named("I");  // (e, inf)
    g.check_numerics(true);
    CHECK(msg([&] { sub(I, I); }).find("numeric check: sub(I, I) [1x2] computed a non-finite value at (0, 1) = ") == 0);
    CHECK(msg([&] { binary_cross_entropy_with_logits(I, g.input(Matrix<double>{{1, 0}}, "Y")); })
              .find("binary_cross_entropy_with_logits(I, Y) [1x1] computed a non-finite value") != std::string::npos);

    // Gradients: a finite value whose gradient overflows (pow, div, log near 0, mean of a huge weight).
    auto P = g.parameter(Matrix<double>{{1e-200, 1}}, "P");
    auto J1 = sum(sqrt(pow(P, 2.0)));
    CHECK(msg([&] { g.backward(J1); }).find("gave a non-finite gradient for") != std::string::npos);
    auto Q = g.parameter(Matrix<double>{{1e-170, 1}}, "Q");
    auto J2 = sum(1.0 / Q).named("J2");
    CHECK(msg([&] { g.backward(J2); }).find("the backward of s_over_x(Q) gave a non-finite gradient for Q [1x2] at (0, 0) = -inf") != std::string::npos);
    auto R = g.parameter(Matrix<double>{{1e-320, 1}}, "R");
    auto J3 = sum(log(R));
    CHECK(msg([&] { g.backward(J3); }) ==
          "numeric check: the backward of log(R) gave a non-finite gradient for R [1x2] at (0, 0) = inf");

    // With the mode off the same graph runs, and the non-finite numbers are there to see.
    g.check_numerics(false);
    CHECK_NOTHROW(g.backward(J3));
    CHECK(std::isinf(R.grad()(0, 0)));
    // Failed builds added nothing: X, E, W, Wᵀ, L, I, Y, and the 4 + 3 + 3 nodes of J1, J2, J3.
    CHECK(g.size() == 17);
}

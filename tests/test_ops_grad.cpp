// Every op's gradient against central finite differences in float64.
#include <doctest/doctest.h>

#include <random>

#include "helpers.hpp"

using xg::Matrix;
using namespace xgt;

namespace {

/// Check d loss / d p against finite differences for every parameter p.
void check_all(xg::Graph<double>& g, xg::Var<double> loss, double tol = 1e-6) {
    g.backward(loss);
    for (auto& p : g.parameters()) {
        CAPTURE(p.name());
        const Matrix<double> fd = fd_grad(g, loss, p);
        CHECK(grad_rel_err(p.grad(), fd) <= tol);
    }
}

}  // namespace

TEST_CASE("matmul: both operand gradients match finite differences") {
    std::mt19937_64 rng(1);
    for (auto [n, k, m] : {std::tuple{3, 4, 5}, {1, 1, 1}, {1, 6, 2}, {4, 1, 3}, {2, 3, 1}}) {
        xg::Graph<double> g;
        auto A = g.parameter(randn(n, k, rng), "A");
        auto B = g.parameter(randn(k, m, rng), "B");
        auto C = matmul(A, B);
        CHECK(rel_err(C.value(), ref_matmul(A.value(), B.value())) <= 1e-14);
        check_all(g, weighted_sum(C, rng));
    }
}

TEST_CASE("matmul: the BLAS path (large products) and the small-product path agree with the reference") {
    std::mt19937_64 rng(11);
    // 40·30·50 = 60 000 multiply-adds: above the small-product limit, so gemm.
    for (auto [n, k, m] : {std::tuple{40, 50, 30}, {64, 16, 16}, {16, 16, 64}}) {
        xg::Graph<double> g;
        auto A = g.parameter(randn(n, k, rng), "A");
        auto B = g.parameter(randn(k, m, rng), "B");
        auto C = matmul(A, B);
        CHECK(rel_err(C.value(), ref_matmul(A.value(), B.value())) <= 1e-13);
        auto J = weighted_sum(C, rng);
        g.backward(J);
        // dA = R · Bᵀ, dB = Aᵀ · R for the weighted sum's weights R = dC.
        CHECK(rel_err(A.grad(), ref_matmul(C.grad(), ref_transpose(B.value()))) <= 1e-13);
        CHECK(rel_err(B.grad(), ref_matmul(ref_transpose(A.value()), C.grad())) <= 1e-13);
    }
    // Accumulation (beta = 1) on the BLAS path: a square matrix times itself.
    xg::Graph<double> g;
    auto A = g.parameter(randn(30, 30, rng), "A");
    check_all(g, weighted_sum(matmul(A, A), rng));
}

TEST_CASE("add: every 2-D broadcasting case, gradients summed back with keepdims") {
    std::mt19937_64 rng(2);
    struct Case {
        xg::Shape a, b, out;
    };
    const Case cases[] = {
        {{4, 5}, {4, 5}, {4, 5}},  // same shape
        {{4, 5}, {4, 1}, {4, 5}},  // bias column on the right
        {{4, 1}, {4, 5}, {4, 5}},  // bias column on the left
        {{4, 5}, {1, 5}, {4, 5}},  // row
        {{1, 5}, {4, 5}, {4, 5}},  // row on the left
        {{4, 5}, {1, 1}, {4, 5}},  // scalar
        {{1, 1}, {4, 5}, {4, 5}},  // scalar on the left
        {{4, 1}, {1, 5}, {4, 5}},  // column + row: both stretch
        {{1, 5}, {4, 1}, {4, 5}},
        {{1, 1}, {1, 1}, {1, 1}},
    };
    for (const Case& c : cases) {
        CAPTURE(xg::to_string(c.a));
        CAPTURE(xg::to_string(c.b));
        xg::Graph<double> g;
        auto A = g.parameter(randn(c.a.rows, c.a.cols, rng), "A");
        auto B = g.parameter(randn(c.b.rows, c.b.cols, rng), "B");
        auto C = A + B;
        REQUIRE(C.shape() == c.out);
        for (std::size_t i = 0; i < c.out.rows; ++i)
            for (std::size_t j = 0; j < c.out.cols; ++j) {
                const double a = A.value()(c.a.rows == 1 ? 0 : i, c.a.cols == 1 ? 0 : j);
                const double b = B.value()(c.b.rows == 1 ? 0 : i, c.b.cols == 1 ? 0 : j);
                CHECK(C.value()(i, j) == a + b);
            }
        check_all(g, weighted_sum(C, rng));
        CHECK(xg::shape_of(A.grad()) == c.a);
        CHECK(xg::shape_of(B.grad()) == c.b);
    }
}

TEST_CASE("sigmoid and tanh: values and gradients") {
    std::mt19937_64 rng(3);
    xg::Graph<double> g;
    auto X = g.parameter(randn(3, 7, rng, 2.0), "X");
    auto S = sigmoid(X);
    auto T = tanh(X);
    for (std::size_t k = 0; k < 21; ++k) {
        const double x = X.value().data()[k];
        CHECK(S.value().data()[k] == doctest::Approx(1 / (1 + std::exp(-x))).epsilon(1e-15));
        CHECK(T.value().data()[k] == doctest::Approx(std::tanh(x)).epsilon(1e-15));
    }
    check_all(g, weighted_sum(S + T, rng));
}

TEST_CASE("binary cross-entropy: probability path, fused sigmoid path and logits path") {
    std::mt19937_64 rng(4);
    SUBCASE("probabilities (not from a sigmoid node)") {
        xg::Graph<double> g;
        auto A = g.parameter(uniform(2, 9, rng, 0.05, 0.95), "A");
        auto Y = g.input(labels01(2, 9, rng), "Y");
        auto J = binary_cross_entropy(A, Y);
        double s = 0;
        for (std::size_t k = 0; k < 18; ++k) {
            const double a = A.value().data()[k], y = Y.value().data()[k];
            s += y * std::log(a) + (1 - y) * std::log(1 - a);
        }
        CHECK(J.value()(0, 0) == doctest::Approx(-s / 9).epsilon(1e-14));
        CHECK(g.op(J.id())->name() == "binary_cross_entropy");
        check_all(g, J);
    }
    SUBCASE("fused with sigmoid: gradient to Z is exactly (A - Y)/m") {
        xg::Graph<double> g;
        auto Z = g.parameter(randn(1, 12, rng, 3.0), "Z");
        auto Y = g.input(uniform(1, 12, rng, 0, 1), "Y");  // soft labels in [0, 1]
        auto A = sigmoid(Z);
        auto J = binary_cross_entropy(A, Y);
        check_all(g, J);
        for (std::size_t k = 0; k < 12; ++k) {
            CHECK(Z.grad().data()[k] == (A.value().data()[k] - Y.value().data()[k]) / 12.0);
        }
        CHECK_FALSE(g.has_grad(A.id()));  // the gradient skips A: it goes straight to the logits
    }
    SUBCASE("logits form") {
        xg::Graph<double> g;
        auto Z = g.parameter(randn(3, 4, rng, 3.0), "Z");
        auto Y = g.input(labels01(3, 4, rng), "Y");
        auto J = binary_cross_entropy_with_logits(Z, Y);
        xg::Graph<double> g2;
        auto J2 = binary_cross_entropy(sigmoid(g2.parameter(Z.value())), g2.input(Y.value()));
        CHECK(J.value()(0, 0) == doctest::Approx(J2.value()(0, 0)).epsilon(1e-14));
        check_all(g, J);
    }
}

TEST_CASE("cross-entropy from logits stays finite at |Z| = 1000 in float64 and float32") {
    xg::Graph<double> g;
    Matrix<double> z = {{1000.0, -1000.0, 1000.0, -1000.0}};
    Matrix<double> y = {{1.0, 0.0, 0.0, 1.0}};
    auto Z = g.parameter(z, "Z");
    auto J = binary_cross_entropy(sigmoid(Z), g.input(y, "Y"));
    // Two confident right answers (loss 0) and two confident wrong ones (loss 1000 each).
    CHECK(J.value()(0, 0) == doctest::Approx(2000.0 / 4));
    g.backward(J);
    const Matrix<double> expect = {{0.0, 0.0, 0.25, -0.25}};
    CHECK(rel_err(Z.grad(), expect) == 0.0);

    xg::Graph<float> gf;
    auto Zf = gf.parameter(Matrix<float>(xt::cast<float>(z)));
    auto Jf = binary_cross_entropy(sigmoid(Zf), gf.input(Matrix<float>(xt::cast<float>(y))));
    CHECK(std::isfinite(Jf.value()(0, 0)));
    CHECK(Jf.value()(0, 0) == doctest::Approx(500.0f));
    gf.backward(Jf);
    CHECK(rel_err(Zf.grad(), expect) == 0.0);
}

TEST_CASE("a node used by several consumers sums their gradients") {
    std::mt19937_64 rng(5);
    xg::Graph<double> g;
    auto X = g.parameter(randn(3, 4, rng), "X");
    auto W = g.parameter(randn(3, 3, rng), "W");
    auto Y = tanh(X) + matmul(W, X) + X;  // X feeds three ops
    check_all(g, weighted_sum(Y + X, rng));
    // The same node twice in one op.
    xg::Graph<double> g2;
    auto A = g2.parameter(randn(4, 4, rng), "A");
    check_all(g2, weighted_sum(matmul(A, A) + (A + A), rng));
}

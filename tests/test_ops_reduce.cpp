// Reductions (sum and mean over all, rows, columns; results keep both
// dimensions), transpose and detach: hand-computed values and gradients, and
// what the op table's rows (tests/op_table.hpp) do not state.
#include <doctest/doctest.h>

#include <random>

#include "helpers.hpp"

using xg::Axis;
using xg::Matrix;
using xg::Shape;
using namespace xgt;

TEST_CASE("sum and mean: hand-computed values and the kept dimensions") {
    xg::Graph<double> g;
    auto X = g.parameter(Matrix<double>{{1, 2, 3}, {4, 5, 6}}, "X");
    CHECK(sum(X).value() == Matrix<double>{{21}});
    CHECK(sum(X, Axis::all).value() == Matrix<double>{{21}});
    CHECK(sum(X, Axis::over_rows).value() == Matrix<double>{{5, 7, 9}});  // 1 × m
    CHECK(sum(X, Axis::over_cols).value() == Matrix<double>{{6}, {15}});  // n × 1
    CHECK(mean(X).value() == Matrix<double>{{3.5}});
    CHECK(mean(X, Axis::over_rows).value() == Matrix<double>{{2.5, 3.5, 4.5}});
    CHECK(mean(X, Axis::over_cols).value() == Matrix<double>{{2}, {5}});

    // Gradients: g broadcast back (and divided by the count for mean).
    g.backward(sum(sum(X, Axis::over_rows) * g.input(Matrix<double>{{1, 2, 3}})));
    CHECK(X.grad() == Matrix<double>{{1, 2, 3}, {1, 2, 3}});
    g.backward(sum(sum(X, Axis::over_cols) * g.input(Matrix<double>{{1}, {-1}})));
    CHECK(X.grad() == Matrix<double>{{1, 1, 1}, {-1, -1, -1}});
    g.backward(mean(X));
    CHECK(X.grad() == Matrix<double>(xt::ones<double>({2, 3}) / 6.0));
    g.backward(sum(mean(X, Axis::over_rows) * g.input(Matrix<double>{{2, 4, 6}})));
    CHECK(X.grad() == Matrix<double>{{1, 2, 3}, {1, 2, 3}});
    g.backward(sum(mean(X, Axis::over_cols) * g.input(Matrix<double>{{3}, {6}})));
    CHECK(X.grad() == Matrix<double>{{1, 1, 1}, {2, 2, 2}});
}

TEST_CASE("reductions keep dimensions, so they broadcast back against their input") {
    std::mt19937_64 rng(32);
    xg::Graph<double> g;
    auto X = g.parameter(randn(3, 8, rng), "X");
    // Centre each row (feature) over the examples: X − mean over the columns (n × 1).
    auto C = X - mean(X, Axis::over_cols);
    for (std::size_t i = 0; i < 3; ++i) {
        double s = 0;
        for (std::size_t j = 0; j < 8; ++j) s += C.value()(i, j);
        CHECK(std::fabs(s) <= 1e-14);
    }
    // Normalise each column to sum 1 after exp: the softmax, written with ops.
    auto E = exp(X);
    auto P = E / sum(E, Axis::over_rows);
    CHECK(rel_err(P.value(), softmax(X).value()) <= 1e-14);
    check_grads(g, weighted_sum(C, rng) + weighted_sum(P, rng));
    // Σ_columns is the n × 1 sum of a bias gradient (to round-off: the op sums
    // in eight interleaved partial sums, the reference in one).
    CHECK(rel_err(sum(X, Axis::over_cols).value(), ref_sum_cols(X.value())) <= 1e-15);
}

TEST_CASE("float32 sums agree with float64") {
    std::mt19937_64 rng(33);
    const Matrix<double> x = randn(50, 300, rng);
    xg::Graph<double> gd;
    xg::Graph<float> gf;
    auto Xd = gd.input(x);
    auto Xf = gf.input(to_float(x));
    for (Axis axis : {Axis::all, Axis::over_rows, Axis::over_cols}) {
        CAPTURE(int(axis));
        const Matrix<double> sd = sum(Xd, axis).value();
        const Matrix<float> sf = sum(Xf, axis).value();
        CHECK(rel_err(sf, sd) <= 1e-5);
        CHECK(rel_err(mean(Xf, axis).value(), mean(Xd, axis).value()) <= 1e-5);
    }
}

TEST_CASE("transpose: values, shape, gradient") {
    std::mt19937_64 rng(34);
    for (Shape s : {Shape{3, 5}, Shape{1, 4}, Shape{4, 1}, Shape{1, 1}}) {
        CAPTURE(xg::to_string(s));
        xg::Graph<double> g;
        auto X = g.parameter(randn(s.rows, s.cols, rng), "X");
        auto T = transpose(X);
        CHECK(T.shape() == Shape{s.cols, s.rows});
        CHECK(T.value() == ref_transpose(X.value()));
        check_grads(g, weighted_sum(T, rng));
        // Xᵀ · X is symmetric; its gradient flows through both factors.
        check_grads(g, weighted_sum(matmul(transpose(X), X), rng));
    }
}

TEST_CASE("detach: the value passes, the gradient does not") {
    std::mt19937_64 rng(35);
    xg::Graph<double> g;
    auto W = g.parameter(randn(3, 3, rng), "W");
    auto D = detach(W);
    CHECK(D.value() == W.value());
    CHECK(g.op(D.id())->differentiable(0) == false);
    CHECK_FALSE(g.requires_grad(D.id()));
    // J = Σ W ⊙ detach(W): dW = detach(W) only, not 2 W.
    auto J = sum(W * D);
    g.backward(J);
    CHECK(W.grad() == W.value());
    CHECK_FALSE(g.has_grad(D.id()));
    // Only a path through detach: W gets no gradient from the sweep.
    xg::Graph<double> g2;
    auto V = g2.parameter(randn(2, 2, rng), "V");
    auto D2 = detach(V);
    auto J2 = sum(square(D2));
    CHECK_FALSE(g2.requires_grad(J2.id()));
    // The value follows V on replay.
    g2.parameter_of(V.id()).value()(0, 0) = 10.0;
    g2.forward();
    CHECK(D2.value()(0, 0) == 10.0);
    CHECK(J2.value()(0, 0) == doctest::Approx(100.0 + V.value()(0, 1) * V.value()(0, 1) +
                                              V.value()(1, 0) * V.value()(1, 0) + V.value()(1, 1) * V.value()(1, 1)));
}

TEST_CASE("Axis::rows and Axis::cols, the former names, are Axis::over_rows and Axis::over_cols") {
    // Deprecated aliases with the same values, so code written with them still compiles (with a warning).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    static_assert(Axis::rows == Axis::over_rows && Axis::cols == Axis::over_cols, "the same values");
    xg::Graph<double> g;
    auto X = g.input(Matrix<double>{{1, 2, 3}, {4, 5, 6}}, "X");
    CHECK(sum(X, Axis::rows).value() == Matrix<double>{{5, 7, 9}});  // 1 × m
    CHECK(mean(X, Axis::cols).value() == Matrix<double>{{2}, {5}});  // n × 1
#pragma GCC diagnostic pop
}

// Every op's gradient against central finite differences in float64: every
// row of the op table (tests/op_table.hpp) on several shapes (1 x 1, single
// rows and columns among them), its value against the row's plain-loop
// reference, float32 against float64, and every spelling of the op alike;
// then the cases no row states (the BLAS path of matmul, the fused
// cross-entropy's exact gradient, several consumers of one node).
#include <doctest/doctest.h>

#include <cstdio>
#include <random>

#include "helpers.hpp"
#include "op_table.hpp"

using xg::Matrix;
using namespace xgt;
namespace ot = xgt::op_table;

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

/// Shapes every row is checked at: 1 x 1, single rows and columns, and larger.
const ot::Dims dims_list[] = {{1, 1, 1}, {1, 4, 2}, {3, 1, 2}, {3, 4, 1}, {2, 5, 3}};

/// A row built in type T on leaves holding `values` (differentiable inputs as
/// parameters, the others as inputs), with form `f`.
template <class T>
struct Built {
    xg::Graph<T> g;
    std::vector<xg::Var<T>> leaves;
    xg::Var<T> out;

    Built(const ot::Row& r, const ot::Values& values, std::size_t f = 0) {
        for (std::size_t i = 0; i < r.arity(); ++i) {
            const Matrix<T> v = xt::cast<T>(values[i]);
            leaves.push_back(r.differentiable[i] ? g.parameter(v, r.inputs[i]) : g.input(v, r.inputs[i]));
        }
        out = r.build(leaves, r.attr, f);
    }
};

/// max |a − b| / max(1, |b|).
template <class A>
double err_vs(const A& a, const Matrix<double>& b) {
    double e = 0;
    for (std::size_t k = 0; k < b.size(); ++k) {
        e = std::max(e, std::fabs(double(a.data()[k]) - b.data()[k]) / std::max(1.0, std::fabs(b.data()[k])));
    }
    return e;
}

}  // namespace

TEST_CASE("every row of the op table: value, gradients, float32 and every spelling") {
    std::mt19937_64 rng(1);
    xg::GradCheckOptions strict;
    strict.rtol = 1e-6;
    std::size_t checked = 0;
    double worst = 0, worst32 = 0;
    for (const ot::Row& r : ot::rows()) {
        CAPTURE(r.name);
        for (const ot::Dims& d : dims_list) {
            CAPTURE(d.n);
            CAPTURE(d.m);
            CAPTURE(d.k);
            const ot::Values v = ot::sample(r, d, rng);
            Built<double> b(r, v);
            REQUIRE(b.g.op(b.out.id()) != nullptr);
            CHECK(b.g.op(b.out.id())->name() == r.op);
            // The value, against the plain loops.
            const Matrix<double> expect = r.reference(v, r.attr);
            REQUIRE(xg::shape_of(b.out.value()) == xg::shape_of(expect));
            if (r.scalar) CHECK(b.out.shape() == xg::Shape{1, 1});
            if (r.exact) {
                CHECK(b.out.value() == expect);
            } else {
                CHECK(err_vs(b.out.value(), expect) <= 1e-13);
            }
            // Every other spelling builds the same op with the same value, bit for bit.
            for (std::size_t f = 1; f < r.forms.size(); ++f) {
                Built<double> o(r, v, f);
                CHECK(o.g.op(o.out.id())->name() == r.op);
                CHECK(o.out.value() == b.out.value());
            }
            // Gradients: central differences in float64; labels and detached inputs get none.
            const Matrix<double> w = randn(b.out.shape().rows, b.out.shape().cols, rng);
            const auto J = b.g.apply(std::make_shared<const WeightedSum<double>>(w), {b.out});
            const bool any = b.g.requires_grad(J.id());
            if (any) {
                const xg::GradCheckReport rep = check_grads(b.g, J, strict);
                worst = std::max(worst, rep.max_rel_err());
                b.g.backward(J);
            }
            for (std::size_t i = 0; i < r.arity(); ++i) {
                CAPTURE(i);
                CHECK(b.g.has_grad(b.leaves[i].id()) == r.differentiable[i]);
                if (r.differentiable[i]) CHECK(xg::shape_of(b.leaves[i].grad()) == b.leaves[i].shape());
            }
            // float32 against float64: values and gradients within 1e-4 of max(1, |float64|).
            Built<float> f32(r, v);
            CHECK(err_vs(f32.out.value(), b.out.value()) <= 1e-4);
            const auto J32 = f32.g.apply(std::make_shared<const WeightedSum<float>>(xt::cast<float>(w)), {f32.out});
            if (any) {
                f32.g.backward(J32);
                for (std::size_t i = 0; i < r.arity(); ++i) {
                    if (!r.differentiable[i]) continue;
                    double scale = 1;
                    for (double x : b.leaves[i].grad()) scale = std::max(scale, std::fabs(x));
                    double e = 0;
                    for (std::size_t k = 0; k < b.leaves[i].grad().size(); ++k) {
                        e = std::max(e, std::fabs(double(f32.leaves[i].grad().data()[k]) - b.leaves[i].grad().data()[k]) / scale);
                    }
                    CHECK(e <= 1e-4);
                    worst32 = std::max(worst32, e);
                }
            }
            ++checked;
        }
    }
    std::printf("op table: %zu rows, %zu checks, worst gradient-check error %.2g, worst float32 gradient error %.2g\n",
                ot::rows().size(), checked, worst, worst32);
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

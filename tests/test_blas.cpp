// matmul's BLAS path goes through xt::blas::gemm (xtensor-blas). Its argument
// order — (A, B, result, transpose_A, transpose_B, alpha, beta) — has changed
// between xtensor-blas versions; these cases pin it, with every transpose
// combination and alpha, beta ≠ 1 against plain loops.
#include <doctest/doctest.h>

#include <random>

#include "blas.hpp"
#include "helpers.hpp"

using xg::Matrix;
using namespace xgt;

TEST_CASE("blas_gemm: C = alpha op(A) op(B) + beta C for every transpose combination") {
    std::mt19937_64 rng(3);
    const std::size_t M = 5, N = 7, K = 3;
    for (bool ta : {false, true}) {
        for (bool tb : {false, true}) {
            CAPTURE(ta);
            CAPTURE(tb);
            const Matrix<double> A = ta ? randn(K, M, rng) : randn(M, K, rng);
            const Matrix<double> B = tb ? randn(N, K, rng) : randn(K, N, rng);
            const Matrix<double> C0 = randn(M, N, rng);
            const Matrix<double> opA = ta ? ref_transpose(A) : A, opB = tb ? ref_transpose(B) : B;
            const Matrix<double> AB = ref_matmul(opA, opB);
            Matrix<double> C = C0;
            xg::detail::blas_gemm(ta, tb, M, N, K, 2.0, A.data(), B.data(), 0.5, C.data());
            CHECK(rel_err(C, Matrix<double>(2.0 * AB + 0.5 * C0)) <= 1e-14);
            Matrix<double> D = C0;
            xg::detail::blas_gemm(ta, tb, M, N, K, 1.0, A.data(), B.data(), 0.0, D.data());
            CHECK(rel_err(D, AB) <= 1e-14);
        }
    }
}

TEST_CASE("blas_gemm in float, and with rows or columns of length 1") {
    std::mt19937_64 rng(4);
    for (auto [M, N, K] : {std::tuple<std::size_t, std::size_t, std::size_t>{1, 6, 4}, {6, 1, 4}, {3, 5, 1}, {1, 1, 1}}) {
        const Matrix<float> A = randn<float>(M, K, rng), B = randn<float>(K, N, rng);
        Matrix<float> C({M, N});
        xg::detail::blas_gemm(false, false, M, N, K, 1.0f, A.data(), B.data(), 0.0f, C.data());
        const Matrix<double> ref = ref_matmul(xt::cast<double>(A), xt::cast<double>(B));
        CHECK(rel_err(xt::cast<double>(C), ref) <= 1e-6);
    }
}

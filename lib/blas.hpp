// General matrix products through xtensor-blas (xt::blas::gemm, which calls
// the BLAS the library links: OpenBLAS's cblas_?gemm), on non-owning
// adaptors of node buffers, so a product allocates nothing. Internal to the
// library; tests/test_blas.cpp pins the argument order of xt::blas::gemm.
#pragma once

#include <array>
#include <cstddef>

#include <xtensor/xadapt.hpp>
#include <xtensor-blas/xblas.hpp>

namespace xg::detail {

/// A row-major rows × cols window on `data` (no copy, no ownership).
template <class P>
auto adapt_matrix(P* data, std::size_t rows, std::size_t cols) {
    const std::array<std::size_t, 2> shape{rows, cols};
    return xt::adapt(data, rows * cols, xt::no_ownership(), shape);
}

/// C = alpha · op(A) · op(B) + beta · C, row-major, contiguous: C is M × N,
/// op(A) is M × K (A stored K × M when ta), op(B) is K × N (B stored N × K when tb).
template <class T>
void blas_gemm(bool ta, bool tb, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A, const T* B, T beta,
               T* C) {
    const auto a = adapt_matrix(A, ta ? K : M, ta ? M : K);
    const auto b = adapt_matrix(B, tb ? N : K, tb ? K : N);
    auto c = adapt_matrix(C, M, N);
    // xtensor-blas 0.20: gemm(A, B, result, transpose_A, transpose_B, alpha, beta).
    xt::blas::gemm(a, b, c, ta, tb, alpha, beta);
}

/// The same on windows of larger row-major matrices: lda, ldb and ldc are
/// the distances between consecutive rows of the stored A, B and C.
template <class T>
void blas_gemm_ld(bool ta, bool tb, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A, std::size_t lda,
                  const T* B, std::size_t ldb, T beta, T* C, std::size_t ldc) {
    using I = xt::blas_index_t;
    const auto op = [](bool t) { return t ? cxxblas::Transpose::Trans : cxxblas::Transpose::NoTrans; };
    cxxblas::gemm<I>(cxxblas::StorageOrder::RowMajor, op(ta), op(tb), I(M), I(N), I(K), alpha, A, I(lda), B, I(ldb),
                     beta, C, I(ldc));
}

}  // namespace xg::detail

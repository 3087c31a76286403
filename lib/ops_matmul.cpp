// matmul: C = A · B through BLAS gemm via xtensor-blas (small products in plain loops), both operand gradients.
#include <algorithm>

#include "blas.hpp"
#include "ops_common.hpp"
#include "vmath.hpp"
#include "xgrad/ops.hpp"

namespace xg {
namespace detail {

/// C (+)= op(A) · op(B) for small products, in xgrad's own vector kernels
/// (vmath.hpp) with a fixed summation order: no BLAS call overhead, and
/// results that depend neither on the BLAS kernel nor on the SIMD
/// instruction set a CPU selects. op(X) is X or Xᵀ; C is M × N; the sum runs
/// over K. Row-major, leading dimensions as for cblas.
template <class T>
void small_gemm(bool ta, bool tb, std::size_t M, std::size_t N, std::size_t K, const T* A, std::size_t lda,
                const T* B, std::size_t ldb, bool accumulate, T* C, std::size_t ldc) {
    const VmathTable<T>& kernels = vmath<T>();
    if (!tb) {
        // C[i, :] (+)= Σ_p op(A)[i, p] · B[p, :]  — along rows of B and C, in
        // the vector kernel (vmath.hpp), summed in the order of p.
        for (std::size_t i = 0; i < M; ++i) {
            const T* a = ta ? A + i : A + i * lda;
            kernels.row_product(C + i * ldc, a, ta ? lda : 1, B, ldb, K, N, accumulate);
        }
        return;
    }
    if (!accumulate) {
        for (std::size_t i = 0; i < M; ++i) std::fill(C + i * ldc, C + i * ldc + N, T(0));
    }
    // C[i, j] += Σ_p op(A)[i, p] · B[j, p]  — a dot product along rows of B;
    // along rows of A too without ta: the vector kernel (vmath.hpp), whose
    // summation order is the same on every instruction set.
    const auto dot = kernels.dot;
    for (std::size_t i = 0; i < M; ++i) {
        for (std::size_t j = 0; j < N; ++j) {
            const T* b = B + j * ldb;
            T acc = T(0);
            if (ta) {
                for (std::size_t p = 0; p < K; ++p) acc += A[p * lda + i] * b[p];
            } else {
                acc = dot(A + i * lda, b, K);
            }
            C[i * ldc + j] += acc;
        }
    }
}

/// Products of at most this many multiply-adds use small_gemm.
constexpr std::size_t small_gemm_limit = 16384;

/// C = op(A) · op(B) (beta = 0), or C += op(A) · op(B) when accumulating.
template <class T>
void product(bool ta, bool tb, std::size_t M, std::size_t N, std::size_t K, const T* A, std::size_t lda, const T* B,
             std::size_t ldb, bool accumulate, T* C, std::size_t ldc) {
    if (M * N * K <= small_gemm_limit) {
        small_gemm(ta, tb, M, N, K, A, lda, B, ldb, accumulate, C, ldc);
    } else if (lda == (ta ? M : K) && ldb == (tb ? K : N) && ldc == N) {  // whole node buffers
        blas_gemm(ta, tb, M, N, K, T(1), A, B, accumulate ? T(1) : T(0), C);
    } else {  // windows of them (some rows of dB)
        blas_gemm_ld(ta, tb, M, N, K, T(1), A, lda, B, ldb, accumulate ? T(1) : T(0), C, ldc);
    }
}

// C = A · B;  dA = g · Bᵀ;  dB = Aᵀ · g   (transposes are flags, never materialised);
// rows [r0, r1) of dB alone are rows [r0, r1) of Aᵀ, columns [r0, r1) of A, times g
template <class T>
class MatmulOp final : public Op<T> {
public:
    std::string name() const override { return "matmul"; }
    bool backward_reads_output() const override { return false; }
    bool writes_grad_rows(std::size_t i) const override { return i == 1; }

    Shape shape(const ShapeContext& c) const override {
        c.require_arity(2);
        if (c.shape(0).cols != c.shape(1).rows) c.fail("inner dimensions differ");
        return Shape{c.shape(0).rows, c.shape(1).cols};
    }

    void forward(const ForwardContext<T>& c) const override {
        const ConstView<T> a = c.in(0), b = c.in(1);
        const MutView<T> o = c.out();
        product(false, false, a.rows, b.cols, a.cols, a.data, a.cols, b.data, b.cols, false, o.data, o.cols);
    }

    void backward(BackwardContext<T>& c) const override {
        const ConstView<T> a = c.in(0), b = c.in(1), g = c.dout();
        const std::size_t M = a.rows, K = a.cols, N = b.cols;
        if (c.needs_grad(0)) {
            const GradSink<T>& s = c.grad(0);
            product(false, true, M, K, N, g.data, N, b.data, N, s.accumulate, s.view.data, K);
        }
        if (c.needs_grad(1)) {
            const GradSink<T>& s = c.grad(1);
            const std::size_t r0 = s.first_row(), r1 = s.end_row();
            if (r0 < r1) product(true, false, r1 - r0, N, M, a.data + r0, K, g.data, N, s.accumulate, s.view.data + r0 * N, N);
        }
    }

    sym::Expr formula() const override { return sym::dot(sym::in(0), sym::in(1)); }

    sym::Expr grad_formula(std::size_t i) const override {
        return i == 0 ? sym::dot(sym::grad(), sym::transpose(sym::in(1)))
                      : sym::dot(sym::transpose(sym::in(0)), sym::grad());
    }
};

}  // namespace detail

template <class T>
Var<T> matmul(Var<T> a, Var<T> b) {
    return detail::make_node<detail::MatmulOp>(std::vector<Var<T>>{a, b});
}

#define XG_MATMUL_OPS(T) template Var<T> matmul(Var<T>, Var<T>);
XG_INSTANTIATE_FLOAT_DOUBLE(XG_MATMUL_OPS)
#undef XG_MATMUL_OPS

}  // namespace xg

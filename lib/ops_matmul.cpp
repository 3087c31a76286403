// matmul: C = A · B through BLAS gemm, both operand gradients.
#include <cblas.h>

#include "ops_common.hpp"
#include "xgrad/ops.hpp"

namespace xg {
namespace detail {

inline void gemm(bool ta, bool tb, std::size_t M, std::size_t N, std::size_t K, double alpha, const double* A,
                 std::size_t lda, const double* B, std::size_t ldb, double beta, double* C, std::size_t ldc) {
    cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, int(M), int(N), int(K),
                alpha, A, int(lda), B, int(ldb), beta, C, int(ldc));
}

inline void gemm(bool ta, bool tb, std::size_t M, std::size_t N, std::size_t K, float alpha, const float* A,
                 std::size_t lda, const float* B, std::size_t ldb, float beta, float* C, std::size_t ldc) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, int(M), int(N), int(K),
                alpha, A, int(lda), B, int(ldb), beta, C, int(ldc));
}

// C = A · B;  dA = g · Bᵀ;  dB = Aᵀ · g   (transposes are BLAS flags, never materialised)
template <class T>
class MatmulOp final : public Op<T> {
public:
    std::string name() const override { return "matmul"; }

    Shape shape(const ShapeContext& c) const override {
        c.require_arity(2);
        if (c.shape(0).cols != c.shape(1).rows) c.fail("inner dimensions differ");
        return Shape{c.shape(0).rows, c.shape(1).cols};
    }

    void forward(const ForwardContext<T>& c) const override {
        const ConstView<T> a = c.in(0), b = c.in(1);
        const MutView<T> o = c.out();
        gemm(false, false, a.rows, b.cols, a.cols, T(1), a.data, a.cols, b.data, b.cols, T(0), o.data, o.cols);
    }

    void backward(BackwardContext<T>& c) const override {
        const ConstView<T> a = c.in(0), b = c.in(1), g = c.dout();
        const std::size_t M = a.rows, K = a.cols, N = b.cols;
        if (c.needs_grad(0)) {
            const GradSink<T>& s = c.grad(0);
            gemm(false, true, M, K, N, T(1), g.data, N, b.data, N, s.accumulate ? T(1) : T(0), s.view.data, K);
        }
        if (c.needs_grad(1)) {
            const GradSink<T>& s = c.grad(1);
            gemm(true, false, K, N, M, T(1), a.data, K, g.data, N, s.accumulate ? T(1) : T(0), s.view.data, N);
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

template Var<float> matmul(Var<float>, Var<float>);
template Var<double> matmul(Var<double>, Var<double>);

}  // namespace xg

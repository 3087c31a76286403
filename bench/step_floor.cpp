// The practical floor: raw cblas calls into preallocated buffers and fused
// elementwise loops — bias add + tanh in one pass; bias + σ + cost + dZ2 + db2
// in one pass; (W2ᵀ·dZ2) ⊙ (1 − A1²) + db1 in one pass; updates in place.
//
// Compiled twice (bench/meson.build):
//   make_floor      with the build's flags: scalar calls of tanh, exp, log1p;
//   make_floor_vec  with -march=native -ffast-math and BENCH_FLOOR_VEC defined:
//                   GCC vectorises the elementwise loops, calling glibc's
//                   libmvec for tanh, exp and log1p (and reassociates the
//                   sums) — the floor of this machine for the same step.
// -ffast-math is given to the compilation of this file only, never to the
// link, so the program does not get crtfastmath's flush-to-zero mode.
#include <cblas.h>

#include <cmath>
#include <vector>

#include "two_layer_step.hpp"

#ifdef BENCH_FLOOR_VEC
#ifndef __FAST_MATH__
#error "the vectorised floor is compiled with -ffast-math (bench/meson.build)"
#endif
#define BENCH_MAKE_FLOOR make_floor_vec
#else
#define BENCH_MAKE_FLOOR make_floor
#endif

namespace bench {
namespace {

inline void gemm(bool ta, bool tb, int M, int N, int K, const double* A, int lda, const double* B, int ldb,
                 double* C, int ldc) {
    cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, 1.0, A,
                lda, B, ldb, 0.0, C, ldc);
}
inline void gemm(bool ta, bool tb, int M, int N, int K, const float* A, int lda, const float* B, int ldb, float* C,
                 int ldc) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, 1.0f, A,
                lda, B, ldb, 0.0f, C, ldc);
}

template <class T>
class FloorStep final : public Step<T> {
public:
    explicit FloorStep(const Problem<T>& p)
        : n0(int(p.X.shape()[0])), n1(int(p.W1.shape()[0])), n2(int(p.W2.shape()[0])), m(int(p.X.shape()[1])),
          lr(T(p.learning_rate)) {
        auto copy = [](const xg::Matrix<T>& a) { return std::vector<T>(a.begin(), a.end()); };
        X = copy(p.X);
        Y = copy(p.Y);
        W1 = copy(p.W1);
        b1 = copy(p.b1);
        W2 = copy(p.W2);
        b2 = copy(p.b2);
        A1.resize(std::size_t(n1) * m);
        Z2.resize(std::size_t(n2) * m);
        dZ1.resize(std::size_t(n1) * m);
        dW1.resize(W1.size());
        dW2.resize(W2.size());
        db1.resize(b1.size());
        db2.resize(b2.size());
    }

    double step() override {
        const T inv_m = T(1) / T(m);
        // Z1 = W1·X into A1, then A1 = tanh(Z1 + b1) in place.
        gemm(false, false, n1, m, n0, W1.data(), n0, X.data(), m, A1.data(), m);
        for (int i = 0; i < n1; ++i) {
            T* a = A1.data() + std::size_t(i) * m;
            const T b = b1[i];
            for (int j = 0; j < m; ++j) a[j] = std::tanh(a[j] + b);
        }
        // Z2 = W2·A1; then z = Z2 + b2, A2 = σ(z), cost from the logits,
        // dZ2 = (A2 − Y)/m (kept in Z2's buffer), db2 = Σ_columns dZ2.
        gemm(false, false, n2, m, n1, W2.data(), n1, A1.data(), m, Z2.data(), m);
        double cost = 0;
        for (int i = 0; i < n2; ++i) {
            T* z = Z2.data() + std::size_t(i) * m;
            const T* y = Y.data() + std::size_t(i) * m;
            const T b = b2[i];
            T db = 0;
            for (int j = 0; j < m; ++j) {
                const T zz = z[j] + b;
                const T e = std::exp(-std::fabs(zz));
                const T a = zz >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
                cost += double(std::max(zz, T(0)) - y[j] * zz + std::log1p(e));
                const T d = (a - y[j]) * inv_m;
                z[j] = d;
                db += d;
            }
            db2[i] = db;
        }
        cost /= m;
        // dW2 = dZ2·A1ᵀ;  dZ1 = (W2ᵀ·dZ2) ⊙ (1 − A1²);  db1 = Σ_columns dZ1;  dW1 = dZ1·Xᵀ
        gemm(false, true, n2, n1, m, Z2.data(), m, A1.data(), m, dW2.data(), n1);
        gemm(true, false, n1, m, n2, W2.data(), n1, Z2.data(), m, dZ1.data(), m);
        for (int i = 0; i < n1; ++i) {
            T* d = dZ1.data() + std::size_t(i) * m;
            const T* a = A1.data() + std::size_t(i) * m;
            T db = 0;
            for (int j = 0; j < m; ++j) {
                d[j] *= T(1) - a[j] * a[j];
                db += d[j];
            }
            db1[i] = db;
        }
        gemm(false, true, n1, n0, m, dZ1.data(), m, X.data(), m, dW1.data(), n0);
        // update
        for (std::size_t k = 0; k < W1.size(); ++k) W1[k] -= lr * dW1[k];
        for (std::size_t k = 0; k < b1.size(); ++k) b1[k] -= lr * db1[k];
        for (std::size_t k = 0; k < W2.size(); ++k) W2[k] -= lr * dW2[k];
        for (std::size_t k = 0; k < b2.size(); ++k) b2[k] -= lr * db2[k];
        return cost;
    }

private:
    int n0, n1, n2, m;
    T lr;
    std::vector<T> X, Y, W1, b1, W2, b2, A1, Z2, dZ1, dW1, dW2, db1, db2;
};

}  // namespace

template <class T>
std::unique_ptr<Step<T>> BENCH_MAKE_FLOOR(const Problem<T>& p) {
    return std::make_unique<FloorStep<T>>(p);
}

template std::unique_ptr<Step<float>> BENCH_MAKE_FLOOR(const Problem<float>&);
template std::unique_ptr<Step<double>> BENCH_MAKE_FLOOR(const Problem<double>&);

}  // namespace bench

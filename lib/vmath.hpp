// Vectorised elementwise math (exp, log, log1p, tanh, sigmoid, softplus),
// Adam's update, a sum, a dot product, a row of a small matrix product, a
// range check and the logistic loss's sum, for float and double. Internal to the library.
//
// The kernels (vmath_kernels.cpp) are compiled once per instruction set, each
// translation unit with its own flags; the best set the CPU supports is picked
// once, at the first call. Every kernel uses only correctly rounded IEEE
// operations (+, −, ×, ÷, compare, select, bit moves; no fused multiply-add),
// in the same order on every instruction set, so the results are bit for bit
// the same whichever kernel runs. x and y may be the same buffer.
#pragma once

#include <cstddef>

#include "parallel.hpp"

namespace xg::detail {

/// The numbers of one Adam step (lib/optim.cpp): the gradient's scale, the
/// decay rates β and their complements 1 − β, the step size α, the bias
/// corrections 1 / (1 − βᵗ), and ε.
template <class T>
struct AdamCoefficients {
    T grad_scale, b1, c1, b2, c2, alpha, inv1, inv2, eps;
};

/// One type's kernels: y[k] = f(x[k]) for k < n; and Adam's update.
template <class T>
struct VmathTable {
    void (*exp)(const T* x, T* y, std::size_t n);
    void (*log)(const T* x, T* y, std::size_t n);      // log 0 = −∞, log of x < 0 = NaN
    void (*log1p)(const T* x, T* y, std::size_t n);    // log(1 + x)
    void (*tanh)(const T* x, T* y, std::size_t n);
    void (*sigmoid)(const T* x, T* y, std::size_t n);  // 1 / (1 + e^−x), stably for both signs
    void (*softplus)(const T* x, T* y, std::size_t n); // max(x, 0) + log(1 + e^−|x|)
    // d = grad_scale g;  v ← b1 v + c1 d;  s ← b2 s + (c2 d) d;  w ← w − α (v inv1) / (√(s inv2) + ε),
    // each operation rounded in this order (the bits of the plain scalar loop).
    void (*adam)(T* w, const T* g, T* v, T* s, std::size_t n, const AdamCoefficients<T>& c);
    // Σ x[p] over p < n: sixteen partial sums (p mod 16, over the whole
    // blocks of 16) added pairwise (s[j] += s[j + h] for h = 8, 4, 2, 1), then
    // the n mod 16 last entries in order — the same bits on every set.
    T (*sum)(const T* x, std::size_t n);
    // Σ a[p] b[p] over p < n, the products summed in the order of sum.
    T (*dot)(const T* a, const T* b, std::size_t n);
    // One row of a small matrix product: c[j] = c0[j] + Σ_p a[p·sa] b[p·ldb + j]
    // for j < n, summed in the order of p from c0 = c (accumulate) or 0 — the
    // plain loop's bits.
    void (*row_product)(T* c, const T* a, std::size_t sa, const T* b, std::size_t ldb, std::size_t k, std::size_t n,
                        bool accumulate);
    // Whether 0 ≤ x[k] ≤ 1 for every k < n (false at a NaN).
    bool (*all_in_unit)(const T* x, std::size_t n);
    // Σ max(z[k], 0) − y[k] z[k] + log(1 + e^−|z[k]|) over k < n, in double:
    // the logistic loss's sum. log(1 + e^−|z|) is rounded to T (log1p's and
    // exp's bits); the rest is computed in double, in eight partial sums
    // (k mod 8, over the whole groups of 8) added as
    // ((s0 + s4) + (s2 + s6)) + ((s1 + s5) + (s3 + s7)), then the n mod 8 last
    // terms in order — the same bits on every set.
    double (*bce_logits_sum)(const T* z, const T* y, std::size_t n);
};

/// The kernels compiled for one instruction set.
struct VmathKernels {
    const char* isa;  // "sse2", "avx2", "avx512f"
    VmathTable<float> f;
    VmathTable<double> d;
};

/// Every compiled kernel set whose instruction set this CPU supports, best
/// last; `count` receives their number (at least 1). For tests.
const VmathKernels* const* vmath_supported(std::size_t& count);

/// The kernel set in use: the best of vmath_supported(), chosen once.
const VmathKernels& vmath_active();

/// The active kernels for T (float or double).
template <class T>
const VmathTable<T>& vmath();

template <>
inline const VmathTable<float>& vmath<float>() {
    return vmath_active().f;
}
template <>
inline const VmathTable<double>& vmath<double>() {
    return vmath_active().d;
}

// y = f(x) entry by entry, through the active kernels, in chunks on the
// thread pool when large (lib/parallel.hpp; the same bits either way).
#define XG_VMATH_CALL(fn)                                                                       \
    template <class T>                                                                          \
    void v##fn(const T* x, T* y, std::size_t n) {                                               \
        const auto kernel = vmath<T>().fn;                                                      \
        parallel_for(n, grain_math, [=](std::size_t b, std::size_t e) { kernel(x + b, y + b, e - b); }); \
    }
XG_VMATH_CALL(exp)
XG_VMATH_CALL(log)
XG_VMATH_CALL(log1p)
XG_VMATH_CALL(tanh)
XG_VMATH_CALL(sigmoid)
XG_VMATH_CALL(softplus)
#undef XG_VMATH_CALL

/// Adam's update of n entries through the active kernel, in chunks on the
/// thread pool when large (each entry is updated on its own: the same bits).
template <class T>
void vadam(T* w, const T* g, T* v, T* s, std::size_t n, const AdamCoefficients<T>& c) {
    const auto kernel = vmath<T>().adam;
    parallel_for(n, grain_math, [=, &c](std::size_t b, std::size_t e) { kernel(w + b, g + b, v + b, s + b, e - b, c); });
}

}  // namespace xg::detail

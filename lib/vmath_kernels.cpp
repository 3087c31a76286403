// The kernels of vmath.hpp for one instruction set. This file is compiled once
// per set (lib/meson.build): XG_VMATH_ISA names the xsimd architecture (sse2,
// avx2, avx512f), the matching -m flag selects it, and -ffp-contract=off keeps
// the compiler from fusing a multiply and an add. Each function is a range
// reduction and a polynomial or rational approximation (fdlibm, musl, Cephes)
// written with +, −, ×, ÷, compares, selects and integer bit moves on
// xsimd batches only, so every lane computes the same correctly rounded
// operations in the same order on every set: equal bits on SSE2, AVX2 and
// AVX-512. (xsimd's own exp, log and tanh call its fma, fused on the FMA
// sets, and so differ in the last bit between sse2 and fma3<avx2>.)
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <xsimd/xsimd.hpp>

#include "vmath.hpp"

#ifndef XG_VMATH_ISA
#error "XG_VMATH_ISA must name an xsimd architecture (lib/meson.build sets it)"
#endif

namespace xg::detail {

namespace {

using Arch = xsimd::XG_VMATH_ISA;
template <class T>
using B = xsimd::batch<T, Arch>;
using BD = B<double>;
using BF = B<float>;
using BU64 = B<std::uint64_t>;
using BU32 = B<std::uint32_t>;

// ---- bits ------------------------------------------------------------------

inline BU64 bits(BD x) { return xsimd::bitwise_cast<BU64>(x); }
inline BU32 bits(BF x) { return xsimd::bitwise_cast<BU32>(x); }
inline BD from_bits(BU64 u) { return xsimd::bitwise_cast<BD>(u); }
inline BF from_bits(BU32 u) { return xsimd::bitwise_cast<BF>(u); }

/// The sign bit of T and the unsigned integer of T's width.
template <class T>
struct Sign;
template <>
struct Sign<double> {
    using U = std::uint64_t;
    static constexpr U mask = 0x8000000000000000ull;
};
template <>
struct Sign<float> {
    using U = std::uint32_t;
    static constexpr U mask = 0x80000000u;
};

/// |x| (clears the sign bit; NaN stays NaN).
template <class T>
B<T> abs_of(B<T> x) {
    return from_bits(bits(x) & B<typename Sign<T>::U>(~Sign<T>::mask));
}

/// |a| with the sign of x (a ≥ 0 or NaN).
template <class T>
B<T> with_sign_of(B<T> a, B<T> x) {
    return from_bits(bits(a) | (bits(x) & B<typename Sign<T>::U>(Sign<T>::mask)));
}

/// −|x| (sets the sign bit; xsimd's unary minus subtracts from 0 on some sets).
template <class T>
B<T> neg_abs(B<T> x) {
    return from_bits(bits(x) | B<typename Sign<T>::U>(Sign<T>::mask));
}

/// y where x is a number, x itself where x is NaN: NaN in, the same NaN out,
/// whatever the set does with NaN operands. (Only ==, <, >, <=, >= compare:
/// xsimd's != is unordered on SSE2 and ordered on AVX.)
template <class T>
B<T> keep_nan(B<T> x, B<T> y) {
    return xsimd::select(x == x, y, x);
}

template <class T>
B<T> inf() {
    return B<T>(std::numeric_limits<T>::infinity());
}

// ---- exp ---------------------------------------------------------------------

/// 2ⁿ for integer-valued n in [−1022, 1023]: n + 1.5·2⁵² holds n in its low
/// bits; those bits, biased, become the exponent field.
inline BD pow2(BD n) {
    const BD magic(0x1.8p52);
    const BU64 k = bits(n + magic) - bits(magic);
    return from_bits((k + BU64(1023)) << 52);
}

/// 2ⁿ for integer-valued n in [−126, 127].
inline BF pow2(BF n) {
    const BF magic(0x1.8p23f);
    const BU32 k = bits(n + magic) - bits(magic);
    return from_bits((k + BU32(127)) << 23);
}

/// eˣ = 2ᵏ e^r, k = round(x / ln 2), r = x − k ln 2 (ln 2 in two parts, fdlibm);
/// e^r = 1 + r + r c / (2 − c), c = r − r² P(r²) (fdlibm's e_exp.c).
/// e^r and k of eˣ = 2ᵏ e^r for x within exp's range (below).
inline BD exp_reduced(BD xc, BD& kd) {
    const BD magic(0x1.8p52);
    kd = (xc * BD(1.44269504088896338700e+00) + magic) - magic;
    const BD r = (xc - kd * BD(6.93147180369123816490e-01)) - kd * BD(1.90821492927058770002e-10);
    const BD t = r * r;
    const BD c = r - t * (BD(1.66666666666666019037e-01) +
                          t * (BD(-2.77777777770155933842e-03) +
                               t * (BD(6.61375632143793436117e-05) +
                                    t * (BD(-1.65339022054652515390e-06) + t * BD(4.13813679705723846039e-08)))));
    return BD(1) - ((r * c) / (c - BD(2)) - r);
}

inline BD exp_kernel(BD x) {
    const BD hi(709.782712893384), lo(-745.1332191019412);
    BD xc = xsimd::select(x > hi, hi, x);  // NaN passes both
    xc = xsimd::select(xc < lo, lo, xc);
    BD kd;
    const BD p = exp_reduced(xc, kd);
    // 2ᵏ in two factors where it leaves the normal range: the product with p
    // stays exact and the last factor rounds once (subnormal results).
    const auto small = kd < BD(-1000), large = kd > BD(1000);
    const BD n = xsimd::select(small, kd + BD(64), xsimd::select(large, kd - BD(1), kd));
    const BD s = xsimd::select(small, BD(0x1p-64), xsimd::select(large, BD(2), BD(1)));
    BD y = p * pow2(n) * s;
    y = xsimd::select(x > hi, inf<double>(), y);
    return keep_nan(x, xsimd::select(x < lo, BD(0), y));
}

/// eˣ in float: the same reduction; e^r = 1 + r + r² P(r) (Cephes expf).
inline BF exp_reduced(BF xc, BF& kd) {
    const BF magic(0x1.8p23f);
    kd = (xc * BF(1.44269504088896341f) + magic) - magic;
    const BF r = (xc - kd * BF(0.693359375f)) - kd * BF(-2.12194440e-4f);
    const BF poly = ((((BF(1.9875691500E-4f) * r + BF(1.3981999507E-3f)) * r + BF(8.3334519073E-3f)) * r +
                      BF(4.1665795894E-2f)) * r + BF(1.6666665459E-1f)) * r + BF(5.0000001201E-1f);
    return poly * (r * r) + r + BF(1);
}

inline BF exp_kernel(BF x) {
    const BF hi(88.72283935546875f), lo(-103.97208f);
    BF xc = xsimd::select(x > hi, hi, x);
    xc = xsimd::select(xc < lo, lo, xc);
    BF kd;
    const BF p = exp_reduced(xc, kd);
    const auto small = kd < BF(-120), large = kd > BF(120);
    const BF n = xsimd::select(small, kd + BF(32), xsimd::select(large, kd - BF(1), kd));
    const BF s = xsimd::select(small, BF(0x1p-32f), xsimd::select(large, BF(2), BF(1)));
    BF y = p * pow2(n) * s;
    y = xsimd::select(x > hi, inf<float>(), y);
    return keep_nan(x, xsimd::select(x < lo, BF(0), y));
}

/// |x| from which tanh x rounds to ±1: 2 / (e^{2|x|} + 1) is below a quarter
/// of the spacing of the numbers just below 1 (2⁻²⁶ in float, 2⁻⁵⁵ in double).
template <class T>
constexpr T tanh_flat = sizeof(T) == 4 ? T(10) : T(20);

/// eˣ for 0 ≤ x ≤ 2 tanh_flat<T> (below), where 2ᵏ is a normal number and
/// exp_kernel's range handling changes nothing: exp_kernel's bits, fewer
/// operations.
template <class T>
B<T> exp_moderate(B<T> x) {
    B<T> kd;
    const B<T> p = exp_reduced(x, kd);
    return p * pow2(kd);
}

// ---- log ---------------------------------------------------------------------

/// log x for x > 0, log 0 = −∞, log ∞ = ∞, log of x < 0 or NaN = NaN.
template <class T>
B<T> log_special(B<T> x, B<T> y) {
    y = xsimd::select(x == B<T>(0), B<T>(-std::numeric_limits<T>::infinity()), y);
    y = xsimd::select(x < B<T>(0), B<T>(std::numeric_limits<T>::quiet_NaN()), y);
    y = xsimd::select(x == inf<T>(), x, y);
    return keep_nan(x, y);
}

/// log x = k ln 2 + log(1 + f), x = 2ᵏ (1 + f), √2/2 ≤ 1 + f < √2;
/// log(1 + f) = f − f²/2 + s (f²/2 + R(s²)), s = f / (2 + f) (musl's log.c).
inline BD log_kernel(BD x) {
    const auto tiny = x < BD(0x1p-1022);  // subnormal: scale into the normal range first
    const BD xs = xsimd::select(tiny, x * BD(0x1p54), x);
    const BU64 ix = bits(xs) + BU64(0x3ff0000000000000ull - 0x3fe6a09e00000000ull);
    const BD kd = (from_bits((ix >> 52) | bits(BD(0x1p52))) - BD(0x1p52 + 1023)) - xsimd::select(tiny, BD(54), BD(0));
    const BD f = from_bits((ix & BU64(0x000fffffffffffffull)) + BU64(0x3fe6a09e00000000ull)) - BD(1);
    const BD hfsq = BD(0.5) * f * f;
    const BD s = f / (BD(2) + f);
    const BD z = s * s, w = z * z;
    const BD t1 = w * (BD(3.999999999940941908e-01) + w * (BD(2.222219843214978396e-01) + w * BD(1.531383769920937332e-01)));
    const BD t2 = z * (BD(6.666666666666735130e-01) +
                       w * (BD(2.857142874366239149e-01) + w * (BD(1.818357216161805012e-01) + w * BD(1.479819860511658591e-01))));
    const BD R = t2 + t1;
    const BD y = s * (hfsq + R) + kd * BD(1.90821492927058770002e-10) - hfsq + f + kd * BD(6.93147180369123816490e-01);
    return log_special(x, y);
}

/// log x in float (musl's logf.c).
inline BF log_kernel(BF x) {
    const auto tiny = x < BF(0x1p-126f);
    const BF xs = xsimd::select(tiny, x * BF(0x1p25f), x);
    const BU32 ix = bits(xs) + BU32(0x3f800000u - 0x3f3504f3u);
    const BF kd = (from_bits((ix >> 23) | bits(BF(0x1p23f))) - BF(0x1p23f + 127)) - xsimd::select(tiny, BF(25), BF(0));
    const BF f = from_bits((ix & BU32(0x007fffffu)) + BU32(0x3f3504f3u)) - BF(1);
    const BF hfsq = BF(0.5f) * f * f;
    const BF s = f / (BF(2) + f);
    const BF z = s * s, w = z * z;
    const BF t1 = w * (BF(0xccce13.0p-25f) + w * BF(0xf89e26.0p-26f));
    const BF t2 = z * (BF(0xaaaaaa.0p-24f) + w * BF(0x91e9ee.0p-25f));
    const BF R = t2 + t1;
    const BF y = s * (hfsq + R) + kd * BF(9.0580006145e-06f) - hfsq + f + kd * BF(6.9313812256e-01f);
    return log_special(x, y);
}

/// log(1 + u) = log w − ((w − 1) − u) / w, w = 1 + u rounded: the quotient
/// puts back what rounding w lost. log1p(±0) = ±0, log1p(−1) = −∞.
template <class T>
B<T> log1p_kernel(B<T> u) {
    const B<T> one(1);
    const B<T> w = one + u;
    B<T> y = log_kernel(w) - ((w - one) - u) / w;
    y = xsimd::select(u == B<T>(0), u, y);
    y = xsimd::select(u == inf<T>(), u, y);
    return keep_nan(u, xsimd::select(u == B<T>(-1), B<T>(-std::numeric_limits<T>::infinity()), y));
}

// ---- tanh, sigmoid, softplus -------------------------------------------------

/// tanh x for |x| < 0.625: x + x s P(s) / Q(s), s = x² (Cephes tanh.c).
inline BD tanh_small(BD x) {
    const BD s = x * x;
    const BD p = (BD(-9.64399179425052238628E-1) * s + BD(-9.92877231001918586564E1)) * s + BD(-1.61468768441708447952E3);
    const BD q = ((s + BD(1.12811678491632931402E2)) * s + BD(2.23548839060100448583E3)) * s + BD(4.84406305325125486048E3);
    return x + x * (s * (p / q));
}

/// tanh x for |x| < 0.625 in float: x + x s P(s) (Cephes tanhf.c).
inline BF tanh_small(BF x) {
    const BF s = x * x;
    const BF p = (((BF(-5.70498872745E-3f) * s + BF(2.06390887954E-2f)) * s + BF(-5.37397155531E-2f)) * s +
                  BF(1.33314422036E-1f)) * s + BF(-3.33332819422E-1f);
    return x + x * (s * p);
}

/// tanh x = ±(1 − 2 / (e^{2|x|} + 1)) from |x| = 0.625 on; tanh(±0) = ±0.
/// From |x| = tanh_flat on (|x| = ∞ too) the result rounds to ±1, so |x| is
/// clamped there and e^{2|x|} needs no range handling: the same bits as the
/// unclamped formula, fewer operations.
template <class T>
[[gnu::always_inline]] inline B<T> tanh_kernel(B<T> x) {  // into apply's loop, its constants outside it
    const B<T> a = abs_of<T>(x), one(1), flat(tanh_flat<T>);
    const B<T> ac = xsimd::select(a < flat, a, flat);  // NaN gives flat; keep_nan restores it
    const B<T> big = with_sign_of<T>(one - B<T>(2) / (exp_moderate<T>(ac + ac) + one), x);
    const B<T> y = xsimd::select(a < B<T>(0.625), tanh_small(x), big);
    return keep_nan(x, xsimd::select(x == B<T>(0), x, y));
}

/// σ(x) = 1 / (1 + e^−x) for x ≥ 0, e^x / (1 + e^x) otherwise: e = e^−|x| ≤ 1
/// never overflows. NaN gives NaN.
template <class T>
B<T> sigmoid_kernel(B<T> x) {
    const B<T> one(1);
    const B<T> e = exp_kernel(neg_abs<T>(x));
    return keep_nan(x, xsimd::select(x >= B<T>(0), one / (one + e), e / (one + e)));
}

/// softplus(x) = max(x, 0) + log(1 + e^−|x|) (max(NaN, 0) = NaN, max(−0, 0) = +0).
template <class T>
B<T> softplus_kernel(B<T> x) {
    const B<T> zero(0);
    const B<T> m = xsimd::select(x > zero, x, xsimd::select(x <= zero, zero, x));
    return keep_nan(x, m + log1p_kernel<T>(exp_kernel(neg_abs<T>(x))));
}

// ---- loops -------------------------------------------------------------------

/// y[k] = f(x[k]) for k < n: whole batches, then the tail through a batch
/// padded with zeros on the stack. No allocation.
template <class T, B<T> (*F)(B<T>)>
void apply(const T* x, T* y, std::size_t n) {
    constexpr std::size_t W = B<T>::size;
    std::size_t k = 0;
    for (; k + W <= n; k += W) F(B<T>::load_unaligned(x + k)).store_unaligned(y + k);
    if (k == n) return;
    T buf[W];
    const std::size_t rest = n - k;
    for (std::size_t i = 0; i < W; ++i) buf[i] = i < rest ? x[k + i] : T(0);
    F(B<T>::load_unaligned(buf)).store_unaligned(buf);
    for (std::size_t i = 0; i < rest; ++i) y[k + i] = buf[i];
}

// d = grad_scale g;  v ← b1 v + c1 d;  s ← b2 s + (c2 d) d;  w ← w − α (v inv1) / (√(s inv2) + ε)
// Whole batches, then the tail one entry at a time with the same operations
// (√ is correctly rounded in both), so every entry has the scalar loop's bits.
template <class T>
void adam(T* w, const T* g, T* v, T* s, std::size_t n, const AdamCoefficients<T>& c) {
    constexpr std::size_t W = B<T>::size;
    const B<T> scale(c.grad_scale), b1(c.b1), c1(c.c1), b2(c.b2), c2(c.c2), alpha(c.alpha), inv1(c.inv1),
        inv2(c.inv2), eps(c.eps);
    std::size_t k = 0;
    for (; k + W <= n; k += W) {
        const B<T> d = scale * B<T>::load_unaligned(g + k);
        const B<T> vk = b1 * B<T>::load_unaligned(v + k) + c1 * d;
        const B<T> sk = b2 * B<T>::load_unaligned(s + k) + (c2 * d) * d;
        vk.store_unaligned(v + k);
        sk.store_unaligned(s + k);
        (B<T>::load_unaligned(w + k) - alpha * (vk * inv1) / (xsimd::sqrt(sk * inv2) + eps)).store_unaligned(w + k);
    }
    for (; k < n; ++k) {
        const T d = c.grad_scale * g[k];
        v[k] = c.b1 * v[k] + c.c1 * d;
        s[k] = c.b2 * s[k] + (c.c2 * d) * d;
        w[k] = w[k] - c.alpha * (v[k] * c.inv1) / (std::sqrt(s[k] * c.inv2) + c.eps);
    }
}

// Σ a[p] b[p] with the same roundings on every set: entry p goes to partial
// sum p mod 16 over the whole blocks of 16, the partial sums are added
// pairwise (s[j] += s[j + h] for h = 8, 4, 2, 1), then the tail entries one
// by one in order.
// Σ x[p] in the order of dot (below): sixteen partial sums, added pairwise,
// then the tail.
template <class T>
T sum(const T* x, std::size_t n) {
    constexpr std::size_t L = 16, W = B<T>::size, R = L / W;
    std::size_t p = 0;
    T r = T(0);
    if (n >= L) {
        B<T> acc[R];
        for (std::size_t q = 0; q < R; ++q) acc[q] = B<T>(T(0));
        for (; p + L <= n; p += L) {
            for (std::size_t q = 0; q < R; ++q) acc[q] = acc[q] + B<T>::load_unaligned(x + p + q * W);
        }
        alignas(64) T part[L];
        for (std::size_t q = 0; q < R; ++q) acc[q].store_unaligned(part + q * W);
        for (std::size_t h = L / 2; h > 0; h /= 2) {
            for (std::size_t j = 0; j < h; ++j) part[j] = part[j] + part[j + h];
        }
        r = part[0];
    }
    for (; p < n; ++p) r = r + x[p];
    return r;
}

template <class T>
T dot(const T* a, const T* b, std::size_t n) {
    constexpr std::size_t L = 16, W = B<T>::size, R = L / W;
    static_assert(L % W == 0, "a block holds whole batches");
    std::size_t p = 0;
    T r = T(0);
    if (n >= L) {
        B<T> acc[R];
        for (std::size_t q = 0; q < R; ++q) acc[q] = B<T>(T(0));
        for (; p + L <= n; p += L) {
            for (std::size_t q = 0; q < R; ++q) {
                acc[q] = acc[q] + B<T>::load_unaligned(a + p + q * W) * B<T>::load_unaligned(b + p + q * W);
            }
        }
        alignas(64) T part[L];
        for (std::size_t q = 0; q < R; ++q) acc[q].store_unaligned(part + q * W);
        for (std::size_t h = L / 2; h > 0; h /= 2) {
            for (std::size_t j = 0; j < h; ++j) part[j] = part[j] + part[j + h];
        }
        r = part[0];
    }
    for (; p < n; ++p) r = r + a[p] * b[p];
    return r;
}

// c[j] = c0[j] + Σ_p a[p·sa] B[p·ldb + j] for j < n, the sum in the order of
// p, c0 = c or 0: each entry the plain loop's bits.
template <class T>
void row_product(T* c, const T* a, std::size_t sa, const T* b, std::size_t ldb, std::size_t k, std::size_t n,
                 bool accumulate) {
    constexpr std::size_t W = B<T>::size;
    std::size_t j = 0;
    for (; j + 2 * W <= n; j += 2 * W) {
        B<T> x0 = accumulate ? B<T>::load_unaligned(c + j) : B<T>(T(0));
        B<T> x1 = accumulate ? B<T>::load_unaligned(c + j + W) : B<T>(T(0));
        for (std::size_t p = 0; p < k; ++p) {
            const B<T> ap(a[p * sa]);
            x0 = x0 + ap * B<T>::load_unaligned(b + p * ldb + j);
            x1 = x1 + ap * B<T>::load_unaligned(b + p * ldb + j + W);
        }
        x0.store_unaligned(c + j);
        x1.store_unaligned(c + j + W);
    }
    for (; j < n; ++j) {
        T x = accumulate ? c[j] : T(0);
        for (std::size_t p = 0; p < k; ++p) x = x + a[p * sa] * b[p * ldb + j];
        c[j] = x;
    }
}

// Σ max(z, 0) − y z + log(1 + e^−|z|) in double, the order of vmath.hpp:
// the last term's float or double is log1p_kernel(exp_kernel(−|z|)) (as
// vlog1p after vexp gives it), the rest is computed in double. Blocks of L
// entries (whole T batches and whole groups of 8) go through the vectors:
// lane l of acc[q] is partial sum q·WD + l. The entries after them, scalar.
template <class T>
double bce_logits_sum(const T* z, const T* y, std::size_t n) {
    constexpr std::size_t W = B<T>::size, WD = BD::size, L = W > 8 ? W : 8, R = 8 / WD;
    static_assert(L % 8 == 0 && 8 % WD == 0, "a block holds whole groups of 8 and whole batches");
    const auto soft = [](B<T> v) { return log1p_kernel<T>(exp_kernel(neg_abs<T>(v))); };
    const auto max0 = [](double v) { return v > 0 ? v : v <= 0 ? 0.0 : v; };
    alignas(64) T t[L];
    alignas(64) double zd[L], yd[L], td[L];
    BD acc[R];
    for (std::size_t q = 0; q < R; ++q) acc[q] = BD(0.0);
    std::size_t k = 0;
    for (; k + L <= n; k += L) {
        for (std::size_t q = 0; q < L; q += W) soft(B<T>::load_unaligned(z + k + q)).store_aligned(t + q);
        for (std::size_t i = 0; i < L; ++i) {
            zd[i] = double(z[k + i]);
            yd[i] = double(y[k + i]);
            td[i] = double(t[i]);
        }
        for (std::size_t g = 0; g < L; g += 8) {
            for (std::size_t q = 0; q < R; ++q) {
                const BD zq = BD::load_aligned(zd + g + q * WD), yq = BD::load_aligned(yd + g + q * WD);
                const BD m = xsimd::select(zq > BD(0.0), zq, xsimd::select(zq <= BD(0.0), BD(0.0), zq));
                acc[q] = acc[q] + ((m - yq * zq) + BD::load_aligned(td + g + q * WD));
            }
        }
    }
    alignas(64) double part[8];
    for (std::size_t q = 0; q < R; ++q) acc[q].store_aligned(part + q * WD);
    // The rest: log(1 + e^−|z|) through batches padded with zeros, then the
    // remaining groups of 8 into the partial sums and the tail in order.
    const std::size_t rest = n - k;
    if (rest > 0) {
        for (std::size_t i = 0; i < L; ++i) zd[i] = i < rest ? double(z[k + i]) : 0.0;
        T zt[L];
        for (std::size_t i = 0; i < L; ++i) zt[i] = i < rest ? z[k + i] : T(0);
        for (std::size_t q = 0; q < L; q += W) soft(B<T>::load_unaligned(zt + q)).store_aligned(t + q);
    }
    const auto term = [&](std::size_t i) { return (max0(zd[i]) - double(y[k + i]) * zd[i]) + double(t[i]); };
    std::size_t i = 0;
    for (; i + 8 <= rest; i += 8) {
        for (std::size_t j = 0; j < 8; ++j) part[j] = part[j] + term(i + j);
    }
    double r = ((part[0] + part[4]) + (part[2] + part[6])) + ((part[1] + part[5]) + (part[3] + part[7]));
    for (; i < rest; ++i) r = r + term(i);
    return r;
}

// Whether 0 ≤ x[k] ≤ 1 for every k < n (a NaN is not).
template <class T>
bool all_in_unit(const T* x, std::size_t n) {
    constexpr std::size_t W = B<T>::size;
    const B<T> zero(T(0)), one(T(1));
    xsimd::batch_bool<T, Arch> ok(true);
    std::size_t k = 0;
    for (; k + W <= n; k += W) {
        const B<T> v = B<T>::load_unaligned(x + k);
        ok = ok & (v >= zero) & (v <= one);
    }
    bool all = xsimd::all(ok);
    for (; k < n; ++k) all = all && x[k] >= T(0) && x[k] <= T(1);
    return all;
}

template <class T>
constexpr VmathTable<T> table() {
    return VmathTable<T>{apply<T, exp_kernel>,     apply<T, log_kernel>,        apply<T, log1p_kernel<T>>,
                         apply<T, tanh_kernel<T>>, apply<T, sigmoid_kernel<T>>, apply<T, softplus_kernel<T>>,
                         adam<T>, sum<T>, dot<T>, row_product<T>, all_in_unit<T>, bce_logits_sum<T>};
}

#define XG_VMATH_STR2(a) #a
#define XG_VMATH_STR(a) XG_VMATH_STR2(a)

constexpr VmathKernels kernels{XG_VMATH_STR(XG_VMATH_ISA), table<float>(), table<double>()};

}  // namespace

#define XG_VMATH_CAT2(a, b) a##b
#define XG_VMATH_CAT(a, b) XG_VMATH_CAT2(a, b)

/// This instruction set's kernels (vmath.cpp lists the sets).
const VmathKernels* XG_VMATH_CAT(vmath_kernels_, XG_VMATH_ISA)() { return &kernels; }

}  // namespace xg::detail

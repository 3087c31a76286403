// The SIMD elementwise math kernels (lib/vmath.hpp): accuracy in ulps against
// the C++ library over dense, extreme and random inputs for float and double,
// the special values (±0, ±∞, NaN, subnormals, overflow and underflow of exp),
// tails of every length, equal bits from every instruction set compiled
// that this CPU runs, Adam's update against its scalar recurrence, and the sum,
// the dot product and the logistic loss's sum against their stated summation
// order.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "vmath.hpp"

using xg::detail::VmathKernels;
using xg::detail::VmathTable;

namespace {

template <class T>
using Fn = void (*)(const T*, T*, std::size_t);

/// The bits of x as a signed integer ordered like the numbers (−0 and +0 both 0).
template <class T>
std::int64_t ordered(T x) {
    using I = std::conditional_t<std::is_same<T, float>::value, std::int32_t, std::int64_t>;
    I i;
    std::memcpy(&i, &x, sizeof i);
    return i < 0 ? std::int64_t(std::numeric_limits<I>::min() - i) : std::int64_t(i);
}

/// Distance in ulps between a result and its reference; 0 for two NaNs, huge
/// for a NaN against a number.
template <class T>
double ulps(T got, T want) {
    if (std::isnan(got) || std::isnan(want)) return std::isnan(got) && std::isnan(want) ? 0 : 1e30;
    return double(std::fabs((long double)(ordered(got)) - (long double)(ordered(want))));
}

template <class T>
bool same_bits(T a, T b) {
    return std::memcmp(&a, &b, sizeof a) == 0;
}

/// Reference values: the C++ library in T for exp, log, log1p and tanh; the
/// stable formulas in long double, rounded to T, for sigmoid and softplus.
template <class T>
T ref_sigmoid(T x) {
    const long double v = x;
    if (v >= 0) return T(1.0L / (1.0L + std::exp(-v)));
    const long double e = std::exp(v);  // also NaN
    return T(e / (1.0L + e));
}

template <class T>
T ref_softplus(T x) {
    const long double v = x;
    const long double m = v > 0 ? v : v <= 0 ? 0.0L : v;
    return T(m + std::log1p(std::exp(-std::fabs(v))));
}

/// The inputs every function is measured on: special values, dense steps
/// over [lo, hi], random numbers in it, and bit patterns spread over every
/// float (a stride through all 2³² for float, random 64-bit words for double).
template <class T>
std::vector<T> sweep(T lo, T hi) {
    using L = std::numeric_limits<T>;
    std::vector<T> v = {T(0), -T(0), L::denorm_min(), -L::denorm_min(), L::min(), -L::min(), L::max(), -L::max(),
                        L::infinity(), -L::infinity(), L::quiet_NaN(), T(1), T(-1), T(0.625), T(-0.625),
                        T(709.78), T(709.79), T(-745.13), T(-745.14), T(88.72), T(88.73), T(-103.97), T(-103.98)};
    const std::size_t dense = 200001;
    for (std::size_t k = 0; k < dense; ++k) v.push_back(lo + (hi - lo) * T(k) / T(dense - 1));
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> u{double(lo), double(hi)};
    for (int k = 0; k < 200000; ++k) v.push_back(T(u(rng)));
    if (std::is_same<T, float>::value) {
        for (std::uint64_t b = 0; b < (std::uint64_t(1) << 32); b += 4099) {
            const std::uint32_t w = std::uint32_t(b);
            T x;
            std::memcpy(&x, &w, sizeof x);
            v.push_back(x);
        }
    } else {
        for (int k = 0; k < 1000000; ++k) {
            const std::uint64_t w = rng();
            T x;
            std::memcpy(&x, &w, sizeof x);
            v.push_back(x);
        }
    }
    // A length that is no multiple of any vector width: the tail is exercised too.
    if (v.size() % 16 == 0) v.push_back(T(0.5));
    return v;
}

/// The kernels of one type, by function.
template <class T>
const VmathTable<T>& of(const VmathKernels& k);
template <>
const VmathTable<float>& of<float>(const VmathKernels& k) {
    return k.f;
}
template <>
const VmathTable<double>& of<double>(const VmathKernels& k) {
    return k.d;
}

template <class T>
struct Case {
    const char* name;
    Fn<T> VmathTable<T>::*fn;
    T (*ref)(T);
    T lo, hi;         // the dense range
    double max_ulps;  // asserted bound
};

template <class T>
std::vector<Case<T>> cases();

// Bounds just above the largest errors measured on these sweeps (docs/performance.md).
template <>
std::vector<Case<float>> cases<float>() {
    return {{"exp", &VmathTable<float>::exp, [](float x) { return std::exp(x); }, -110.f, 95.f, 1},
            {"log", &VmathTable<float>::log, [](float x) { return std::log(x); }, 0.f, 10.f, 1},
            {"log1p", &VmathTable<float>::log1p, [](float x) { return std::log1p(x); }, -1.f, 4.f, 1},
            {"tanh", &VmathTable<float>::tanh, [](float x) { return std::tanh(x); }, -12.f, 12.f, 2},
            {"sigmoid", &VmathTable<float>::sigmoid, ref_sigmoid<float>, -110.f, 40.f, 2},
            {"softplus", &VmathTable<float>::softplus, ref_softplus<float>, -110.f, 40.f, 2}};
}

template <>
std::vector<Case<double>> cases<double>() {
    return {{"exp", &VmathTable<double>::exp, [](double x) { return std::exp(x); }, -750., 712., 1},
            {"log", &VmathTable<double>::log, [](double x) { return std::log(x); }, 0., 10., 1},
            {"log1p", &VmathTable<double>::log1p, [](double x) { return std::log1p(x); }, -1., 4., 1},
            {"tanh", &VmathTable<double>::tanh, [](double x) { return std::tanh(x); }, -22., 22., 2},
            {"sigmoid", &VmathTable<double>::sigmoid, ref_sigmoid<double>, -750., 40., 2},
            {"softplus", &VmathTable<double>::softplus, ref_softplus<double>, -750., 40., 2}};
}

const char* type_name(float) { return "float"; }
const char* type_name(double) { return "double"; }

template <class T>
void check_accuracy() {
    const VmathKernels& k = xg::detail::vmath_active();
    for (const Case<T>& c : cases<T>()) {
        const std::vector<T> x = sweep<T>(c.lo, c.hi);
        std::vector<T> y(x.size());
        (of<T>(k).*c.fn)(x.data(), y.data(), x.size());
        double worst = 0;
        T worst_x = 0, worst_y = 0, worst_ref = 0;
        for (std::size_t i = 0; i < x.size(); ++i) {
            const T want = c.ref(x[i]);
            const double e = ulps(y[i], want);
            if (e > worst) {
                worst = e;
                worst_x = x[i];
                worst_y = y[i];
                worst_ref = want;
            }
        }
        const std::string name = std::string(type_name(T())) + " " + c.name + " (" + k.isa + ")";
        MESSAGE(name << ": max " << worst << " ulp at x = " << worst_x << " (" << worst_y << ", not " << worst_ref << ")");
        CAPTURE(name);
        CAPTURE(worst_x);
        CHECK(worst <= c.max_ulps);
    }
}

/// Each function on every compiled set this CPU runs gives the same bits as
/// on the baseline set, over the whole sweep; and a call on the first n
/// entries, for every n up to 40, writes those entries exactly and no more.
template <class T>
void check_same_bits_and_tails() {
    std::size_t count = 0;
    const VmathKernels* const* sets = xg::detail::vmath_supported(count);
    REQUIRE(count >= 1);
    for (const Case<T>& c : cases<T>()) {
        const std::string name = c.name;
        CAPTURE(name);
        const std::vector<T> x = sweep<T>(c.lo, c.hi);
        std::vector<T> base(x.size());
        (of<T>(*sets[0]).*c.fn)(x.data(), base.data(), x.size());
        for (std::size_t s = 1; s < count; ++s) {
            const std::string isa = sets[s]->isa;
            CAPTURE(isa);
            std::vector<T> y(x.size());
            (of<T>(*sets[s]).*c.fn)(x.data(), y.data(), x.size());
            std::size_t differ = 0;
            for (std::size_t i = 0; i < x.size(); ++i) differ += !same_bits(y[i], base[i]);
            CHECK(differ == 0);
        }
        for (std::size_t s = 0; s < count; ++s) {
            const std::string isa = sets[s]->isa;
            CAPTURE(isa);
            for (std::size_t n = 0; n <= 40; ++n) {
                std::vector<T> y(n + 8, T(-7));
                (of<T>(*sets[s]).*c.fn)(x.data() + 1000, y.data(), n);  // the dense part of the sweep
                bool ok = true;
                for (std::size_t i = 0; i < n; ++i) ok = ok && same_bits(y[i], base[1000 + i]);
                for (std::size_t i = n; i < n + 8; ++i) ok = ok && y[i] == T(-7);
                CAPTURE(n);
                CHECK(ok);
            }
        }
    }
}

}  // namespace

TEST_CASE("vmath: the instruction sets compiled and the one in use") {
    std::size_t count = 0;
    const VmathKernels* const* sets = xg::detail::vmath_supported(count);
    REQUIRE(count >= 1);
    std::string names;
    for (std::size_t s = 0; s < count; ++s) names += std::string(" ") + sets[s]->isa;
    MESSAGE("supported:" << names << "; in use: " << std::string(xg::detail::vmath_active().isa));
    CHECK(&xg::detail::vmath_active() == sets[count - 1]);
#if defined(__x86_64__)
    CHECK(std::string(sets[0]->isa) == "sse2");
    if (__builtin_cpu_supports("avx2")) CHECK(std::string(sets[1]->isa) == "avx2");
    if (__builtin_cpu_supports("avx512f")) CHECK(std::string(sets[count - 1]->isa) == "avx512f");
#endif
}

TEST_CASE("vmath: max ulp error against the C++ library, float") { check_accuracy<float>(); }

TEST_CASE("vmath: max ulp error against the C++ library, double") { check_accuracy<double>(); }

TEST_CASE("vmath: every instruction set gives the same bits; tails of every length, float") {
    check_same_bits_and_tails<float>();
}

TEST_CASE("vmath: every instruction set gives the same bits; tails of every length, double") {
    check_same_bits_and_tails<double>();
}

TEST_CASE_TEMPLATE("vmath: special values", T, float, double) {
    using L = std::numeric_limits<T>;
    const T inf = L::infinity(), nan = L::quiet_NaN();
    const VmathTable<T>& k = of<T>(xg::detail::vmath_active());
    auto f = [](Fn<T> fn, T x) {
        T y;
        fn(&x, &y, 1);
        return y;
    };
    CHECK(f(k.exp, inf) == inf);
    CHECK(f(k.exp, -inf) == T(0));
    CHECK(f(k.exp, T(0)) == T(1));
    CHECK(f(k.exp, T(1000)) == inf);
    CHECK(f(k.exp, T(-1000)) == T(0));
    CHECK(f(k.exp, L::max_exponent * T(0.69)) < inf);  // just below overflow
    CHECK(f(k.exp, (L::min_exponent - L::digits + 2) * T(0.6931)) > T(0));  // a subnormal
    CHECK(f(k.log, T(0)) == -inf);
    CHECK(f(k.log, -T(0)) == -inf);
    CHECK(std::isnan(f(k.log, T(-1))));
    CHECK(std::isnan(f(k.log, -inf)));
    CHECK(f(k.log, inf) == inf);
    CHECK(f(k.log, T(1)) == T(0));
    CHECK(f(k.log, L::denorm_min()) == std::log(L::denorm_min()));
    CHECK(f(k.log1p, T(-1)) == -inf);
    CHECK(f(k.log1p, inf) == inf);
    CHECK(std::signbit(f(k.log1p, -T(0))));
    CHECK(f(k.tanh, inf) == T(1));
    CHECK(f(k.tanh, -inf) == T(-1));
    CHECK(std::signbit(f(k.tanh, -T(0))));
    CHECK(!std::signbit(f(k.tanh, T(0))));
    CHECK(f(k.sigmoid, inf) == T(1));
    CHECK(f(k.sigmoid, -inf) == T(0));
    CHECK(f(k.sigmoid, T(0)) == T(0.5));
    CHECK(f(k.sigmoid, T(-800)) == T(0));
    CHECK(f(k.softplus, inf) == inf);
    CHECK(f(k.softplus, -inf) == T(0));
    CHECK(f(k.softplus, T(1000)) == T(1000));  // no overflow
    CHECK(f(k.softplus, L::max()) == L::max());
    for (Fn<T> fn : {k.exp, k.log, k.log1p, k.tanh, k.sigmoid, k.softplus}) CHECK(std::isnan(f(fn, nan)));
}

TEST_CASE_TEMPLATE("vmath: Adam's update has the scalar recurrence's bits on every instruction set, tails included",
                   T, float, double) {
    // The recurrence as lib/optim.cpp states it, one entry at a time.
    using xg::detail::AdamCoefficients;
    const AdamCoefficients<T> c{T(0.5), T(0.9), T(1 - 0.9), T(0.999), T(1 - 0.999), T(0.001),
                                T(1 / (1 - std::pow(0.9, 3.0))), T(1 / (1 - std::pow(0.999, 3.0))), T(1e-8)};
    const std::size_t n = 1037;  // whole batches of every width and a tail
    std::mt19937 rng(11);
    std::normal_distribution<double> normal;
    std::vector<T> w0(n), g(n), v0(n), s0(n);
    for (std::size_t k = 0; k < n; ++k) {
        w0[k] = T(normal(rng));
        g[k] = T(normal(rng) * (k % 7 == 0 ? 1e-6 : 1.0));
        v0[k] = T(0.1 * normal(rng));
        s0[k] = T(0.01 * std::fabs(normal(rng)));
    }
    std::vector<T> w = w0, v = v0, s = s0;
    for (std::size_t k = 0; k < n; ++k) {
        const T d = c.grad_scale * g[k];
        v[k] = c.b1 * v[k] + c.c1 * d;
        s[k] = c.b2 * s[k] + c.c2 * d * d;
        w[k] -= c.alpha * (v[k] * c.inv1) / (std::sqrt(s[k] * c.inv2) + c.eps);
    }
    std::size_t count = 0;
    const VmathKernels* const* sets = xg::detail::vmath_supported(count);
    for (std::size_t set = 0; set < count; ++set) {
        const std::string isa = sets[set]->isa;
        CAPTURE(isa);
        for (std::size_t len : {std::size_t(0), std::size_t(1), std::size_t(3), std::size_t(8), std::size_t(17),
                                std::size_t(40), n}) {
            CAPTURE(len);
            std::vector<T> wk = w0, vk = v0, sk = s0;
            of<T>(*sets[set]).adam(wk.data(), g.data(), vk.data(), sk.data(), len, c);
            std::size_t differ = 0;
            for (std::size_t k = 0; k < n; ++k) {
                const bool done = k < len;
                differ += !same_bits(wk[k], done ? w[k] : w0[k]) + !same_bits(vk[k], done ? v[k] : v0[k]) +
                          !same_bits(sk[k], done ? s[k] : s0[k]);
            }
            CHECK(differ == 0);
        }
    }
    // The values moved: the update is not the identity.
    CHECK(w[5] != w0[5]);
    CHECK(v[5] != v0[5]);
}

TEST_CASE_TEMPLATE("vmath: the sum and the dot product have their stated summation order's bits on every instruction set", T, float,
                   double) {
    // The order vmath.hpp states: partial sum p mod 16 over whole blocks of
    // 16, the sixteen added pairwise, then the tail in order.
    const auto reference = [](const T* a, const T* b, std::size_t n) {
        std::size_t p = 0;
        T r = T(0);
        if (n >= 16) {
            T part[16] = {};
            for (; p + 16 <= n; p += 16) {
                for (std::size_t j = 0; j < 16; ++j) part[j] = part[j] + a[p + j] * b[p + j];
            }
            for (std::size_t h = 8; h > 0; h /= 2) {
                for (std::size_t j = 0; j < h; ++j) part[j] = part[j] + part[j + h];
            }
            r = part[0];
        }
        for (; p < n; ++p) r = r + a[p] * b[p];
        return r;
    };
    const std::size_t n = 1037;
    std::mt19937 rng(12);
    std::normal_distribution<double> normal;
    std::vector<T> a(n), b(n), ones(n, T(1));
    for (std::size_t k = 0; k < n; ++k) {
        a[k] = T(normal(rng) * (k % 5 == 0 ? 1e4 : 1.0));
        b[k] = T(normal(rng));
    }
    std::size_t count = 0;
    const VmathKernels* const* sets = xg::detail::vmath_supported(count);
    for (std::size_t set = 0; set < count; ++set) {
        const std::string isa = sets[set]->isa;
        CAPTURE(isa);
        for (std::size_t len : {std::size_t(0), std::size_t(1), std::size_t(15), std::size_t(16), std::size_t(17),
                                std::size_t(400), n}) {
            CAPTURE(len);
            const T got = of<T>(*sets[set]).dot(a.data(), b.data(), len);
            CHECK(same_bits(got, reference(a.data(), b.data(), len)));
            // sum is dot's order with every b[p] = 1 (x · 1 is x exactly).
            CHECK(same_bits(of<T>(*sets[set]).sum(a.data(), len), reference(a.data(), ones.data(), len)));
            // And it is the dot product: within rounding of the sum in long double.
            long double exact = 0, magnitude = 0;
            for (std::size_t k = 0; k < len; ++k) {
                exact += (long double)a[k] * b[k];
                magnitude += std::fabs((long double)a[k] * b[k]);
            }
            CHECK(std::fabs((long double)got - exact) <= 4 * len * std::numeric_limits<T>::epsilon() * magnitude);
        }
    }
    // The partial sums change the rounding: the sequential sum differs somewhere.
    T sequential = T(0);
    for (std::size_t k = 0; k < n; ++k) sequential = sequential + a[k] * b[k];
    CHECK(!same_bits(sequential, reference(a.data(), b.data(), n)));
}

TEST_CASE_TEMPLATE("vmath: a row of a small product has the plain loop's bits on every instruction set", T, float,
                   double) {
    // c[j] = c0[j] + Σ_p a[p·sa] b[p·ldb + j], summed in the order of p.
    const std::size_t k = 5, ldb = 41, sa = 3;
    std::mt19937 rng(13);
    std::normal_distribution<double> normal;
    std::vector<T> a(k * sa), b(k * ldb), c0(ldb);
    for (T& x : a) x = T(normal(rng));
    for (T& x : b) x = T(normal(rng));
    for (T& x : c0) x = T(normal(rng));
    std::size_t count = 0;
    const VmathKernels* const* sets = xg::detail::vmath_supported(count);
    for (std::size_t set = 0; set < count; ++set) {
        const std::string isa = sets[set]->isa;
        CAPTURE(isa);
        for (bool accumulate : {false, true}) {
            for (std::size_t n : {std::size_t(0), std::size_t(1), std::size_t(7), std::size_t(16), std::size_t(33),
                                  ldb}) {
                CAPTURE(accumulate);
                CAPTURE(n);
                std::vector<T> c = c0;
                of<T>(*sets[set]).row_product(c.data(), a.data(), sa, b.data(), ldb, k, n, accumulate);
                std::size_t differ = 0;
                for (std::size_t j = 0; j < ldb; ++j) {
                    T want = c0[j];
                    if (j < n) {
                        want = accumulate ? c0[j] : T(0);
                        for (std::size_t p = 0; p < k; ++p) want = want + a[p * sa] * b[p * ldb + j];
                    }
                    differ += !same_bits(c[j], want);
                }
                CHECK(differ == 0);
            }
        }
    }
}

TEST_CASE_TEMPLATE("vmath: the range check of labels, tails and NaN included", T, float, double) {
    std::size_t count = 0;
    const VmathKernels* const* sets = xg::detail::vmath_supported(count);
    for (std::size_t set = 0; set < count; ++set) {
        const std::string isa = sets[set]->isa;
        CAPTURE(isa);
        const auto check = of<T>(*sets[set]).all_in_unit;
        for (std::size_t n : {std::size_t(1), std::size_t(5), std::size_t(16), std::size_t(37)}) {
            CAPTURE(n);
            std::vector<T> y(n);
            for (std::size_t k = 0; k < n; ++k) y[k] = T(k % 3) / T(2);  // 0, 0.5, 1
            CHECK(check(y.data(), n));
            for (std::size_t bad = 0; bad < n; ++bad) {  // one bad entry at every position
                for (T v : {T(-1e-30), T(1) + std::numeric_limits<T>::epsilon(), std::numeric_limits<T>::quiet_NaN(),
                            -std::numeric_limits<T>::infinity()}) {
                    std::vector<T> z = y;
                    z[bad] = v;
                    CHECK_FALSE(check(z.data(), n));
                }
            }
        }
        CHECK(check(nullptr, 0));
    }
}

TEST_CASE_TEMPLATE("vmath: the logistic loss's sum has its stated order's bits on every instruction set", T, float,
                   double) {
    // The reference: log(1 + e^−|z|) from the set's own exp and log1p
    // kernels (rounded to T), the rest in double, eight partial sums
    // (k mod 8) added ((s0 + s4) + (s2 + s6)) + ((s1 + s5) + (s3 + s7)), the
    // tail in order.
    const auto reference = [](const VmathTable<T>& v, const T* z, const T* y, std::size_t n) {
        std::vector<T> t(n);
        for (std::size_t k = 0; k < n; ++k) t[k] = -std::fabs(z[k]);
        v.exp(t.data(), t.data(), n);
        v.log1p(t.data(), t.data(), n);
        const auto term = [&](std::size_t k) {
            const double zk = z[k], m = zk > 0 ? zk : zk <= 0 ? 0.0 : zk;
            return (m - double(y[k]) * zk) + double(t[k]);
        };
        double s[8] = {};
        std::size_t k = 0;
        for (; k + 8 <= n; k += 8) {
            for (std::size_t j = 0; j < 8; ++j) s[j] = s[j] + term(k + j);
        }
        double r = ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]));
        for (; k < n; ++k) r = r + term(k);
        return r;
    };
    const std::size_t n = 1037;
    std::mt19937 rng(14);
    std::normal_distribution<double> normal;
    std::uniform_real_distribution<double> uniform;
    std::vector<T> z(n), y(n);
    for (std::size_t k = 0; k < n; ++k) {
        z[k] = T(normal(rng) * (k % 7 == 0 ? 30.0 : 2.0));
        y[k] = k % 4 == 0 ? T(k % 8 == 0) : T(uniform(rng));  // labels 0 and 1, and soft ones
    }
    z[3] = T(0);
    z[4] = -T(0);
    std::size_t count = 0;
    const VmathKernels* const* sets = xg::detail::vmath_supported(count);
    for (std::size_t set = 0; set < count; ++set) {
        const std::string isa = sets[set]->isa;
        CAPTURE(isa);
        const VmathTable<T>& v = of<T>(*sets[set]);
        for (std::size_t len : {std::size_t(0), std::size_t(1), std::size_t(7), std::size_t(8), std::size_t(9),
                                std::size_t(15), std::size_t(16), std::size_t(17), std::size_t(24), std::size_t(31),
                                std::size_t(33), std::size_t(400), n}) {
            CAPTURE(len);
            const double got = v.bce_logits_sum(z.data(), y.data(), len);
            CHECK(same_bits(got, reference(v, z.data(), y.data(), len)));
            // And it is the loss: within rounding of the sum in long double of std::'s terms.
            long double exact = 0, magnitude = 0;
            for (std::size_t k = 0; k < len; ++k) {
                const long double zk = z[k];
                const long double term = std::max(zk, 0.0L) - (long double)y[k] * zk + std::log1p(std::exp(-std::fabs(zk)));
                exact += term;
                magnitude += std::fabs(term);
            }
            CHECK(std::fabs((long double)got - exact) <= 4 * (len + 1) * std::numeric_limits<T>::epsilon() * magnitude);
        }
        // NaN and infinities reach the sum.
        std::vector<T> w = z;
        w[21] = std::numeric_limits<T>::quiet_NaN();
        CHECK(std::isnan(v.bce_logits_sum(w.data(), y.data(), n)));
        w[21] = z[21];
        w[24] = std::numeric_limits<T>::infinity();  // y = 1 there: ∞ − 1·∞ is NaN, as the scalar formula gives
        CHECK(std::isnan(v.bce_logits_sum(w.data(), y.data(), n)));
        CHECK(same_bits(v.bce_logits_sum(w.data(), y.data(), n), reference(v, w.data(), y.data(), n)));
        w[24] = z[24];
        w[1030] = -std::numeric_limits<T>::infinity();  // after the vector blocks; 0 < y < 1 there: the term is +∞
        CHECK(same_bits(v.bce_logits_sum(w.data(), y.data(), n), reference(v, w.data(), y.data(), n)));
        CHECK(std::isinf(v.bce_logits_sum(w.data(), y.data(), n)));
    }
}

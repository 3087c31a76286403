// Rng: numpy's legacy RandomState draws on top of MT19937.
#include "xgrad/random.hpp"
#include "instantiate.hpp"

#include <cmath>
#include <numeric>
#include <utility>

namespace xg {

// 53 bits from two 32-bit outputs: (a·2²⁶ + b) / 2⁵³ with a = u >> 5, b = u >> 6.
double Rng::uniform() {
    const std::uint32_t a = next_u32() >> 5, b = next_u32() >> 6;
    return (a * 67108864.0 + b) / 9007199254740992.0;
}

// Marsaglia's polar method; each accepted pair yields two normals, the second
// kept for the next call (numpy's legacy_gauss).
double Rng::normal() {
    if (has_gauss_) {
        has_gauss_ = false;
        return gauss_;
    }
    double x1, x2, r2;
    do {
        x1 = 2.0 * uniform() - 1.0;
        x2 = 2.0 * uniform() - 1.0;
        r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1.0 || r2 == 0.0);
    const double f = std::sqrt(-2.0 * std::log(r2) / r2);
    gauss_ = f * x1;
    has_gauss_ = true;
    return f * x2;
}

std::uint64_t Rng::interval(std::uint64_t max) {
    if (max == 0) return 0;
    std::uint64_t mask = max;
    for (unsigned s = 1; s <= 32; s *= 2) mask |= mask >> s;  // smallest 2^k − 1 ≥ max
    std::uint64_t v;
    if (max <= 0xffffffffULL) {
        do v = next_u32() & mask;
        while (v > max);
    } else {
        do {
            const std::uint64_t hi = next_u32();  // high word first, as numpy's next_uint64
            v = ((hi << 32) | next_u32()) & mask;
        } while (v > max);
    }
    return v;
}

// Fisher–Yates from the back, as numpy's shuffle of a 1-D array.
std::vector<std::size_t> Rng::permutation(std::size_t n) {
    std::vector<std::size_t> p;
    permutation(n, p);
    return p;
}

// numpy's shuffle of 0 … n−1: for i = n−1 … 1, swap p[i] with p[interval(i)].
void Rng::permutation(std::size_t n, std::vector<std::size_t>& p) {
    p.resize(n);
    std::iota(p.begin(), p.end(), std::size_t(0));
    for (std::size_t i = n; i-- > 1;) std::swap(p[i], p[interval(i)]);
}

template <class T>
Matrix<T> randn(std::size_t rows, std::size_t cols, Rng& rng, double scale) {
    checked_size(Shape{rows, cols}, sizeof(T), "randn");
    Matrix<T> m({rows, cols});
    for (auto& v : m) v = T(rng.normal() * scale);
    return m;
}

#define XG_RANDOM_INSTANTIATIONS(T) template Matrix<T> randn(std::size_t, std::size_t, Rng&, double);
XG_INSTANTIATE_FLOAT_DOUBLE(XG_RANDOM_INSTANTIATIONS)
#undef XG_RANDOM_INSTANTIATIONS

}  // namespace xg

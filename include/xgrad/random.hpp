// xgrad — a seeded random generator whose draws are numpy's.
//
// Rng is MT19937 (32-bit) seeded like np.random.seed(seed), and its draws
// follow numpy's legacy RandomState exactly: uniform() is np.random.rand(),
// normal() is np.random.randn() (the polar method, second value kept for the
// next call), permutation(n) is np.random.permutation(n). So a program that
// seeds with the same number draws the same data and weights as the
// lecture's numpy code, and a run is reproducible on every platform (the
// distributions of <random> are implementation-defined; these are not).
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "xgrad/tensor.hpp"

namespace xg {

class Rng {
public:
    /// MT19937 seeded like np.random.seed(seed).
    explicit Rng(std::uint32_t seed = 0) : mt_(seed) {}

    /// The next raw 32-bit output of MT19937.
    std::uint32_t next_u32() { return static_cast<std::uint32_t>(mt_()); }
    /// Uniform in [0, 1) with 53 random bits (np.random.rand()).
    double uniform();
    /// Standard normal N(0, 1) (np.random.randn()).
    double normal();
    /// Uniform integer in [0, max], by masked rejection (numpy's random_interval).
    std::uint64_t interval(std::uint64_t max);
    /// A random ordering of 0 … n−1 (np.random.permutation(n)).
    std::vector<std::size_t> permutation(std::size_t n);
    /// The same ordering, from the same draws, into `out` (resized to n, so
    /// no allocation once it has room): for a loop that shuffles each epoch.
    void permutation(std::size_t n, std::vector<std::size_t>& out);

private:
    std::mt19937 mt_;
    bool has_gauss_ = false;
    double gauss_ = 0;
};

/// A rows × cols matrix of N(0, 1) · scale draws, filled row by row
/// (np.random.randn(rows, cols) * scale).
template <class T>
Matrix<T> randn(std::size_t rows, std::size_t cols, Rng& rng, double scale = 1.0);

extern template Matrix<float> randn(std::size_t, std::size_t, Rng&, double);
extern template Matrix<double> randn(std::size_t, std::size_t, Rng&, double);

}  // namespace xg

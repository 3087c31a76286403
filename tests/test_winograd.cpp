// The tile transforms of Winograd's F(2×2, 3×3) (lib/winograd.hpp): every
// compiled set the CPU runs (the baseline and AVX2) gives the baseline's
// bits, for batch widths that fill no vector, part of one and several; the
// output transform reports an output that is not finite. conv2d's values
// and gradients by Winograd are checked in test_ops_image.cpp.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "winograd.hpp"

namespace {

template <class T>
std::vector<T> random_values(std::size_t n, std::mt19937_64& rng) {
    std::normal_distribution<double> d;
    std::vector<T> v(n);
    for (T& x : v) x = T(d(rng));
    return v;
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

}  // namespace

TEST_CASE_TEMPLATE("every compiled set of Winograd's tile transforms gives the baseline's bits", T, float, double) {
    using xg::detail::WinogradTileKernels;
    const std::vector<const WinogradTileKernels<T>*> sets = xg::detail::winograd_tile_sets<T>();
    REQUIRE(!sets.empty());
    CHECK(std::string(sets.front()->isa) == "baseline");
    std::mt19937_64 rng(5);
    for (std::size_t m : {1, 3, 7, 16, 33, 128}) {
        CAPTURE(m);
        const std::size_t plane = 16 * m + 5;
        const std::vector<T> rows = random_values<T>(16 * m, rng), planes = random_values<T>(16 * plane, rng);
        const std::vector<T> start = random_values<T>(16 * m, rng);
        struct Result {
            std::vector<T> in, in_adj, out, out_adj;
            std::uint64_t nonfinite;
        };
        const auto run = [&](const WinogradTileKernels<T>& k) {
            Result r{std::vector<T>(16 * plane), start, std::vector<T>(4 * m), std::vector<T>(16 * plane), 0};
            const T* d[16];
            T* dd[16];
            for (std::size_t i = 0; i < 16; ++i) {
                d[i] = rows.data() + i * m;
                dd[i] = r.in_adj.data() + i * m;
            }
            k.input(d, r.in.data(), plane, m);
            k.input_adjoint(dd, planes.data(), plane, m);
            T* out[4];
            for (std::size_t i = 0; i < 4; ++i) out[i] = r.out.data() + i * m;
            r.nonfinite = k.output(planes.data(), plane, out, T(0.25), m);
            k.output_adjoint(d, r.out_adj.data(), plane, m);
            return r;
        };
        const Result base = run(*sets.front());
        CHECK(base.nonfinite == 0);
        // Spot values: the first image's transforms, written out.
        const auto at = [&](std::size_t i) { return rows[i * m]; };
        CHECK(base.in[0] == (at(0) - at(8)) - (at(2) - at(10)));
        CHECK(base.out[0] ==
              (planes[0] + planes[4 * plane] + planes[8 * plane]) + (planes[plane] + planes[5 * plane] + planes[9 * plane]) +
                  (planes[2 * plane] + planes[6 * plane] + planes[10 * plane]) + T(0.25));
        for (std::size_t s = 1; s < sets.size(); ++s) {
            CAPTURE(sets[s]->isa);
            const Result other = run(*sets[s]);
            CHECK(same_bits(other.in, base.in));
            CHECK(same_bits(other.in_adj, base.in_adj));
            CHECK(same_bits(other.out, base.out));
            CHECK(same_bits(other.out_adj, base.out_adj));
            CHECK(other.nonfinite == 0);
        }
    }
}

TEST_CASE_TEMPLATE("Winograd's output transform reports NaN and infinite outputs, in every compiled set", T, float, double) {
    for (const auto* k : xg::detail::winograd_tile_sets<T>()) {
        CAPTURE(k->isa);
        for (const T bad : {std::numeric_limits<T>::quiet_NaN(), std::numeric_limits<T>::infinity(),
                            std::numeric_limits<T>::max()}) {
            CAPTURE(bad);
            const std::size_t m = 9, plane = 16 * m;
            std::vector<T> planes(16 * plane, T(1)), y(4 * m);
            T* out[4] = {y.data(), y.data() + m, y.data() + 2 * m, y.data() + 3 * m};
            CHECK(k->output(planes.data(), plane, out, T(0), m) == 0);
            // One entry of one position: max overflows once added to itself twice over.
            planes[5 * plane + 6] = bad;
            planes[6 * plane + 6] = bad;
            CHECK(k->output(planes.data(), plane, out, T(0), m) != 0);
        }
    }
}

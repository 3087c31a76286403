// Winograd's minimal filtering F(2×2, 3×3) for 3×3 convolutions of stride 1
// (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks",
// 2016), on xgrad's image layout (C·H·W × m, a row of m images per pixel).
// Internal to the library; ops_conv.cpp runs it.
//
// The output is cut into tiles of 2 × 2 pixels, each read from a 4 × 4 patch
// d of the (zero-padded) input. For a kernel g (3 × 3):
//
//   Y_tile = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
//
//   Bᵀ = [1  0 −1  0]    G = [ 1    0    0 ]    Aᵀ = [1  1  1  0]
//        [0  1  1  0]        [ 1/2  1/2  1/2]         [0  1 −1 −1]
//        [0 −1  1  0]        [ 1/2 −1/2  1/2]
//        [0  1  0 −1]        [ 0    0    1 ]
//
// Summed over input channels, each of the 16 positions ξν of the 4 × 4
// transformed tiles is one matrix product: M[ξν] = U[ξν] · V[ξν], with
// U[ξν] (Kout × C) the transformed kernels and V[ξν] (C × tiles·m) the
// transformed patches. That is 16 · Kout · C multiply-adds per tile of 4
// outputs, against im2col's 9 · Kout · C per output: 2.25 × fewer.
//
// The backward pass is the exact adjoint of these steps (each is linear):
//   dM[ξν] = (A dY_tile Aᵀ)[ξν];  dU[ξν] = Σ_tiles dM[ξν] · V[ξν]ᵀ;
//   dK = Gᵀ dU G;  dV[ξν] = U[ξν]ᵀ · dM[ξν];  dX_patch += B dV Bᵀ,
// so gradients are those of the function computed, to rounding. NaN and
// ±Inf spread further than in the formulas (a NaN pixel reaches dK through
// the unused half tiles of an odd-sized output; Inf − Inf in a transform is
// NaN): the output transform reports an output that is not finite, and
// conv2d then recomputes the pass by im2col.
//
// Tiles are taken a chunk at a time (a run of tiles for all m images, which
// is a contiguous run of V's and M's columns), so that V and M need not hold
// the whole batch. Within a chunk, conv2d either cuts the work into tasks of
// one tile and some images, each running its transforms (the *_part
// functions) and its gemms on one thread of the pool, or, where such gemms
// would be too thin, runs each transform over the chunk on the pool (in
// pieces of whole (channel, tile) pairs, or whole channels where patches
// overlap) and the chunk's gemms on OpenBLAS's threads. Chunk and task
// boundaries depend on the sizes only, so every split gives the same bits.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "image.hpp"
#include "parallel.hpp"

namespace xg::detail {

/// 1 when x is NaN or ±Inf (every exponent bit set), else 0. Branch-free
/// and integer, so a loop OR-ing it vectorises (a floating-point sum would
/// not, without -ffast-math).
inline std::uint32_t nonfinite_bit(float x) {
    std::uint32_t u;
    std::memcpy(&u, &x, sizeof u);
    return (u & 0x7f800000u) == 0x7f800000u;
}
inline std::uint64_t nonfinite_bit(double x) {
    std::uint64_t u;
    std::memcpy(&u, &x, sizeof u);
    return (u & 0x7ff0000000000000u) == 0x7ff0000000000000u;
}

/// Whether the n entries at p are all finite (on the thread pool).
template <class T>
bool all_finite(const T* p, std::size_t n) {
    return parallel_sum<std::size_t>(n, grain_arith, [p](std::size_t b, std::size_t e) {
               decltype(nonfinite_bit(T(0))) bad = 0;
               for (std::size_t i = b; i < e; ++i) bad |= nonfinite_bit(p[i]);
               return std::size_t(bad);
           }) == 0;
}

/// Whether F(2×2, 3×3) computes this convolution: a 3 × 3 kernel, stride 1.
inline bool winograd_fits(const ImageGeometry& g) { return g.k == 3 && g.stride == 1; }

/// The 2 × 2 output tiles of a convolution: rows × cols of them (the last
/// row or column half outside the image when Ho or Wo is odd).
struct WinogradTiles {
    std::size_t rows = 0, cols = 0, count = 0;
    /// Tiles per chunk: about 2^23 entries of V and M together (32 MB in
    /// float32), in chunks of even sizes. Where the chunk's gemms run whole
    /// on OpenBLAS's threads, each chunk costs 16 gemm calls per product and
    /// hand-overs between the pool and those threads, and on this machine
    /// that cost outweighed keeping a chunk in cache (the figures are in
    /// docs/performance.md, "Convolution").
    std::size_t per_chunk = 1;
};

inline WinogradTiles winograd_tiles(const ImageGeometry& g, std::size_t kout, std::size_t m) {
    WinogradTiles t;
    t.rows = (g.Ho + 1) / 2;
    t.cols = (g.Wo + 1) / 2;
    t.count = t.rows * t.cols;
    const std::size_t per_tile = 16 * (g.C + kout) * std::max<std::size_t>(m, 1), target = std::size_t(1) << 23;
    t.per_chunk = std::max<std::size_t>(1, std::min(t.count, target / per_tile));
    // Chunks of even sizes (49 tiles in chunks of 42 would leave 7 alone).
    const std::size_t chunks = (t.count + t.per_chunk - 1) / t.per_chunk;
    t.per_chunk = (t.count + chunks - 1) / chunks;
    return t;
}

/// The distance between two of the 16 planes of V, M, dV or dM holding
/// rows × cols entries each: one cache line more, so that the 16 streams a
/// transform reads or writes do not fall on the same cache sets (planes
/// whose size is a multiple of 4 KB would, and the loads would wait on the
/// stores of other planes: "4K aliasing").
template <class T>
constexpr std::size_t winograd_plane(std::size_t rows, std::size_t cols) {
    return rows * cols + 64 / sizeof(T);
}

/// U (16 × Kout × C, position-major) = G g Gᵀ for each kernel g of K
/// (Kout × C·9, one kernel per row in channel-row-column order).
template <class T>
void winograd_kernels(const T* K, std::size_t kout, std::size_t C, T* U) {
    const std::size_t plane = kout * C;
    const T h = T(0.5);
    for (std::size_t q = 0; q < plane; ++q) {
        const T* g = K + q * 9;
        T a[4][3];  // G g
        for (std::size_t j = 0; j < 3; ++j) {
            a[0][j] = g[j];
            a[1][j] = h * (g[j] + g[3 + j] + g[6 + j]);
            a[2][j] = h * (g[j] - g[3 + j] + g[6 + j]);
            a[3][j] = g[6 + j];
        }
        for (std::size_t i = 0; i < 4; ++i) {
            T* u = U + i * 4 * plane + q;
            u[0] = a[i][0];
            u[plane] = h * (a[i][0] + a[i][1] + a[i][2]);
            u[2 * plane] = h * (a[i][0] - a[i][1] + a[i][2]);
            u[3 * plane] = a[i][2];
        }
    }
}

/// dK (Kout × C·9) = Gᵀ dU G (or += when `accumulate`): the adjoint of
/// winograd_kernels.
template <class T>
void winograd_kernels_adjoint(const T* dU, std::size_t kout, std::size_t C, bool accumulate, T* dK) {
    const std::size_t plane = kout * C;
    const T h = T(0.5);
    for (std::size_t q = 0; q < plane; ++q) {
        T d[4][4];
        for (std::size_t p = 0; p < 16; ++p) d[p / 4][p % 4] = dU[p * plane + q];
        T s[3][4];  // Gᵀ dU
        for (std::size_t j = 0; j < 4; ++j) {
            s[0][j] = d[0][j] + h * (d[1][j] + d[2][j]);
            s[1][j] = h * (d[1][j] - d[2][j]);
            s[2][j] = h * (d[1][j] + d[2][j]) + d[3][j];
        }
        T* k = dK + q * 9;
        for (std::size_t i = 0; i < 3; ++i) {
            const T r[3] = {s[i][0] + h * (s[i][1] + s[i][2]), h * (s[i][1] - s[i][2]), h * (s[i][1] + s[i][2]) + s[i][3]};
            for (std::size_t j = 0; j < 3; ++j) k[i * 3 + j] = accumulate ? k[i * 3 + j] + r[j] : r[j];
        }
    }
}

// ---- the transforms of one tile, for all m images
//
// Each is written once (an always-inline body) and compiled twice on x86-64:
// for the baseline (SSE2) and for AVX2, picked at run time when the CPU has
// it (the library is built without arch flags). The transforms only add,
// subtract and halve, and neither copy uses fused multiply-adds, so both give
// the same bits.

#define XG_WINOGRAD_INLINE __attribute__((always_inline)) inline

/// Column q of the 4 × 4 positions in the 16 planes at p (plane apart), for
/// image j: the entries of positions q, 4 + q, 8 + q and 12 + q.
template <class T>
XG_WINOGRAD_INLINE void plane_column(const T* p, std::size_t plane, std::size_t q, std::size_t j, T (&c)[4]) {
    for (std::size_t a = 0; a < 4; ++a) c[a] = p[(4 * a + q) * plane + j];
}

/// o's 16 planes (plane apart) = Bᵀ d B for the 16 rows of m values at d.
template <class T>
XG_WINOGRAD_INLINE void input_tile_body(const T* const* d, T* o, std::size_t plane, std::size_t m) {
#pragma GCC ivdep
    for (std::size_t j = 0; j < m; ++j) {
        // Bᵀ d: rows r0 = d0 − d2, r1 = d1 + d2, r2 = d2 − d1, r3 = d1 − d3.
        T r[4][4];
        for (std::size_t q = 0; q < 4; ++q) {
            r[0][q] = d[q][j] - d[8 + q][j];
            r[1][q] = d[4 + q][j] + d[8 + q][j];
            r[2][q] = d[8 + q][j] - d[4 + q][j];
            r[3][q] = d[4 + q][j] - d[12 + q][j];
        }
        // (Bᵀ d) B: the same on each row's columns.
        for (std::size_t a = 0; a < 4; ++a) {
            T* oa = o + a * 4 * plane + j;
            oa[0] = r[a][0] - r[a][2];
            oa[plane] = r[a][1] + r[a][2];
            oa[2 * plane] = r[a][2] - r[a][1];
            oa[3 * plane] = r[a][1] - r[a][3];
        }
    }
}

/// The 16 rows at d += B v Bᵀ for v's 16 planes.
template <class T>
XG_WINOGRAD_INLINE void input_adjoint_tile_body(T* const* d, const T* v, std::size_t plane, std::size_t m) {
#pragma GCC ivdep
    for (std::size_t j = 0; j < m; ++j) {
        // B dV: q0 = v0, q1 = v1 − v2 + v3, q2 = v1 + v2 − v0, q3 = −v3 (rows).
        T q[4][4];
        for (std::size_t b = 0; b < 4; ++b) {
            T c[4];
            plane_column(v, plane, b, j, c);
            q[0][b] = c[0];
            q[1][b] = c[1] - c[2] + c[3];
            q[2][b] = c[1] + c[2] - c[0];
            q[3][b] = -c[3];
        }
        // (B dV) Bᵀ: the same on each row's columns, added onto the patch.
        for (std::size_t a = 0; a < 4; ++a) {
            d[a * 4 + 0][j] += q[a][0];
            d[a * 4 + 1][j] += q[a][1] - q[a][2] + q[a][3];
            d[a * 4 + 2][j] += q[a][1] + q[a][2] - q[a][0];
            d[a * 4 + 3][j] -= q[a][3];
        }
    }
}

/// The 4 rows at out = Aᵀ M A + bias for M's 16 planes at mm; nonzero when
/// some output is not finite.
template <class T>
XG_WINOGRAD_INLINE std::uint64_t output_tile_body(const T* mm, std::size_t plane, T* const* out, T bias,
                                                  std::size_t m) {
    decltype(nonfinite_bit(T(0))) nonfinite = 0;
#pragma GCC ivdep
    for (std::size_t j = 0; j < m; ++j) {
        // Aᵀ M: s0 = M0 + M1 + M2, s1 = M1 − M2 − M3 (rows of 4).
        T s[2][4];
        for (std::size_t q = 0; q < 4; ++q) {
            T c[4];
            plane_column(mm, plane, q, j, c);
            s[0][q] = c[0] + c[1] + c[2];
            s[1][q] = c[1] - c[2] - c[3];
        }
        for (std::size_t a = 0; a < 2; ++a) {
            const T y0 = s[a][0] + s[a][1] + s[a][2] + bias, y1 = s[a][1] - s[a][2] - s[a][3] + bias;
            out[a * 2][j] = y0;
            out[a * 2 + 1][j] = y1;
            nonfinite |= nonfinite_bit(y0) | nonfinite_bit(y1);
        }
    }
    return nonfinite;
}

/// o's 16 planes = A dY Aᵀ for the 4 rows of m values at in.
template <class T>
XG_WINOGRAD_INLINE void output_adjoint_tile_body(const T* const* in, T* o, std::size_t plane, std::size_t m) {
#pragma GCC ivdep
    for (std::size_t j = 0; j < m; ++j) {
        // A dY: s0 = y0, s1 = y0 + y1, s2 = y0 − y1, s3 = −y1 (rows of 2).
        const T y00 = in[0][j], y01 = in[1][j], y10 = in[2][j], y11 = in[3][j];
        const T s[4][2] = {{y00, y01}, {y00 + y10, y01 + y11}, {y00 - y10, y01 - y11}, {-y10, -y11}};
        for (std::size_t a = 0; a < 4; ++a) {
            T* oa = o + a * 4 * plane + j;
            oa[0] = s[a][0];
            oa[plane] = s[a][0] + s[a][1];
            oa[2 * plane] = s[a][0] - s[a][1];
            oa[3 * plane] = -s[a][1];
        }
    }
}

/// One compiled set of the four tile transforms.
template <class T>
struct WinogradTileKernels {
    const char* isa;
    void (*input)(const T* const* d, T* o, std::size_t plane, std::size_t m);
    void (*input_adjoint)(T* const* d, const T* v, std::size_t plane, std::size_t m);
    std::uint64_t (*output)(const T* mm, std::size_t plane, T* const* out, T bias, std::size_t m);
    void (*output_adjoint)(const T* const* in, T* o, std::size_t plane, std::size_t m);
};

// XG_WINOGRAD_SET(name, attribute) defines the set `name` compiled with `attribute`.
#define XG_WINOGRAD_SET(NAME, ATTR)                                                                          \
    template <class T>                                                                                       \
    ATTR void NAME##_input(const T* const* d, T* o, std::size_t plane, std::size_t m) {                      \
        input_tile_body(d, o, plane, m);                                                                     \
    }                                                                                                        \
    template <class T>                                                                                       \
    ATTR void NAME##_input_adjoint(T* const* d, const T* v, std::size_t plane, std::size_t m) {              \
        input_adjoint_tile_body(d, v, plane, m);                                                             \
    }                                                                                                        \
    template <class T>                                                                                       \
    ATTR std::uint64_t NAME##_output(const T* mm, std::size_t plane, T* const* out, T bias, std::size_t m) { \
        return output_tile_body(mm, plane, out, bias, m);                                                    \
    }                                                                                                        \
    template <class T>                                                                                       \
    ATTR void NAME##_output_adjoint(const T* const* in, T* o, std::size_t plane, std::size_t m) {            \
        output_adjoint_tile_body(in, o, plane, m);                                                           \
    }                                                                                                        \
    template <class T>                                                                                       \
    constexpr WinogradTileKernels<T> NAME##_tile_kernels{#NAME, NAME##_input<T>, NAME##_input_adjoint<T>,    \
                                                         NAME##_output<T>, NAME##_output_adjoint<T>};

XG_WINOGRAD_SET(baseline, )
#if defined(__x86_64__) && defined(__GNUC__)
XG_WINOGRAD_SET(avx2, __attribute__((target("avx2"))))
#endif
#undef XG_WINOGRAD_SET
#undef XG_WINOGRAD_INLINE

/// The compiled sets this CPU runs, best last.
template <class T>
std::vector<const WinogradTileKernels<T>*> winograd_tile_sets() {
    std::vector<const WinogradTileKernels<T>*> sets{&baseline_tile_kernels<T>};
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) sets.push_back(&avx2_tile_kernels<T>);
#endif
    return sets;
}

/// The best set this CPU runs (asked once).
template <class T>
const WinogradTileKernels<T>& winograd_tile_kernels() {
    static const WinogradTileKernels<T>& best = *winograd_tile_sets<T>().back();
    return best;
}

// ---- where a tile's rows are

/// The 16 rows of the input patch of tile t in channel c, each from image
/// j0 on: rows of `x` (C·H·W × m), or `outside` for pixels in the padding.
template <class P>
void patch_rows(const ImageGeometry& g, const WinogradTiles& tl, P* x, std::size_t m, std::size_t c, std::size_t t,
                std::size_t j0, P* outside, P* (&d)[16]) {
    const std::size_t ti = t / tl.cols, tj = t % tl.cols;
    for (std::size_t a = 0; a < 4; ++a) {
        const std::size_t ih = 2 * ti + a;  // padded coordinates
        const bool row_in = ih >= g.pad && ih - g.pad < g.H;
        for (std::size_t b = 0; b < 4; ++b) {
            const std::size_t iw = 2 * tj + b;
            d[a * 4 + b] = row_in && iw >= g.pad && iw - g.pad < g.W
                               ? x + (c * g.hw + (ih - g.pad) * g.W + (iw - g.pad)) * m + j0
                               : outside;
        }
    }
}

/// The 4 rows of the outputs of tile t in output channel k, each from image
/// j0 on: rows of `y` (Kout·Ho·Wo × m), or `outside` past the image.
template <class P>
void tile_rows(const ImageGeometry& g, const WinogradTiles& tl, P* y, std::size_t m, std::size_t k, std::size_t t,
               std::size_t j0, P* outside, P* (&out)[4]) {
    const std::size_t ti = t / tl.cols, tj = t % tl.cols;
    for (std::size_t a = 0; a < 2; ++a)
        for (std::size_t b = 0; b < 2; ++b) {
            const std::size_t oh = 2 * ti + a, ow = 2 * tj + b;
            out[a * 2 + b] = oh < g.Ho && ow < g.Wo ? y + ((k * g.Ho + oh) * g.Wo + ow) * m + j0 : outside;
        }
}

/// The transformed tiles of one chunk of tiles [t0, t0 + n) for all m
/// images: 16 planes (winograd_plane apart) of `rows` (C or Kout) rows of
/// n·m columns; tile t, image j is column (t − t0)·m + j (− j0 for a
/// task's planes, task_layout).
struct ChunkLayout {
    std::size_t t0 = 0, ncols = 0, plane = 0, m = 0, j0 = 0;
    std::size_t column(std::size_t t, std::size_t j) const { return (t - t0) * m + j - j0; }
};

template <class T>
ChunkLayout chunk_layout(std::size_t rows, std::size_t m, std::size_t t0, std::size_t t1) {
    const std::size_t ncols = (t1 - t0) * m;
    return ChunkLayout{t0, ncols, winograd_plane<T>(rows, ncols), m, 0};
}

/// A task's own planes: tile t, images [j0, j0 + width) at column 0, rows of
/// `width` entries (a slot of 16 · winograd_plane(rows, width) values that
/// the task's thread reuses for its next task, so they stay in its cache).
template <class T>
ChunkLayout task_layout(std::size_t rows, std::size_t m, std::size_t width, std::size_t t, std::size_t j0) {
    return ChunkLayout{t, width, winograd_plane<T>(rows, width), m, j0};
}

// ---- the transforms of one tile for some of the images: a task's share

/// V's columns of tile t, images [j0, j1) = Bᵀ d B, every channel.
template <class T>
void winograd_input_part(const ImageGeometry& g, const WinogradTiles& tl, const T* x, const ChunkLayout& v,
                         std::size_t t, std::size_t j0, std::size_t j1, const T* zeros, T* V) {
    const WinogradTileKernels<T>& kern = winograd_tile_kernels<T>();
    for (std::size_t c = 0; c < g.C; ++c) {
        const T* d[16];
        patch_rows(g, tl, x, v.m, c, t, j0, zeros, d);
        kern.input(d, V + c * v.ncols + v.column(t, j0), v.plane, j1 - j0);
    }
}

/// dX += B dV Bᵀ for tile t, images [j0, j1), every channel (dV: the
/// task's planes). Tiles whose patches overlap must not run at the same
/// time (winograd_tile_color).
template <class T>
void winograd_input_adjoint_part(const ImageGeometry& g, const WinogradTiles& tl, const T* dV, const ChunkLayout& v,
                                 std::size_t t, std::size_t j0, std::size_t j1, T* dx);

/// Tiles of one color (0–3: the parities of the tile's row and column)
/// have disjoint input patches: a patch spans 4 rows and columns at a
/// stride of 2, so it overlaps only its neighbours.
inline std::size_t winograd_tile_color(const WinogradTiles& tl, std::size_t t) {
    return (t / tl.cols) % 2 * 2 + (t % tl.cols) % 2;
}

/// Images per call of a tile transform that writes outputs outside the
/// image: those go to a block of this many values on the caller's stack
/// (never read), so no two threads share a scratch row.
constexpr std::size_t winograd_block = 64;

/// dX += B dV Bᵀ for tile t in channel c, images [j0, j1) (dV: the planes
/// of layout v); what falls on the padding goes to `outside`
/// (winograd_block values, never read).
template <class T>
void input_adjoint_tile(const ImageGeometry& g, const WinogradTiles& tl, const WinogradTileKernels<T>& kern,
                        const T* dV, const ChunkLayout& v, std::size_t c, std::size_t t, std::size_t j0,
                        std::size_t j1, T* outside, T* dx) {
    for (std::size_t j = j0; j < j1; j += winograd_block) {
        T* d[16];
        patch_rows(g, tl, dx, v.m, c, t, j, outside, d);
        kern.input_adjoint(d, dV + c * v.ncols + v.column(t, j), v.plane, std::min(winograd_block, j1 - j));
    }
}

/// Y's outputs of tile t in output channel k, images [j0, j1) = Aᵀ M A + bias
/// (M: the chunk's planes at mm); nonzero when some are not finite.
template <class T>
std::uint64_t output_tile(const ImageGeometry& g, const WinogradTiles& tl, const WinogradTileKernels<T>& kern,
                          const T* M, const ChunkLayout& mm, std::size_t k, std::size_t t, std::size_t j0,
                          std::size_t j1, T bias, T* y) {
    std::uint64_t nonfinite = 0;
    T outside[winograd_block];
    for (std::size_t j = j0; j < j1; j += winograd_block) {
        T* out[4];
        tile_rows(g, tl, y, mm.m, k, t, j, outside, out);
        nonfinite |= kern.output(M + k * mm.ncols + mm.column(t, j), mm.plane, out, bias,
                                 std::min(winograd_block, j1 - j));
    }
    return nonfinite;
}

/// Y's outputs of tile t, images [j0, j1) = Aᵀ M A (+ b), every output
/// channel. False when some are not finite.
template <class T>
bool winograd_output_part(const ImageGeometry& g, const WinogradTiles& tl, std::size_t kout, const T* M,
                          const ChunkLayout& mm, std::size_t t, std::size_t j0, std::size_t j1, const T* b, T* y) {
    const WinogradTileKernels<T>& kern = winograd_tile_kernels<T>();
    std::uint64_t nonfinite = 0;
    for (std::size_t k = 0; k < kout; ++k) nonfinite |= output_tile(g, tl, kern, M, mm, k, t, j0, j1, b ? b[k] : T(0), y);
    return nonfinite == 0;
}

/// dM's columns of tile t, images [j0, j1) = A dY Aᵀ, every output channel
/// (outputs past the image read `zeros`).
template <class T>
void winograd_output_adjoint_part(const ImageGeometry& g, const WinogradTiles& tl, std::size_t kout, const T* dy,
                                  const ChunkLayout& mm, std::size_t t, std::size_t j0, std::size_t j1,
                                  const T* zeros, T* dM) {
    const WinogradTileKernels<T>& kern = winograd_tile_kernels<T>();
    for (std::size_t k = 0; k < kout; ++k) {
        const T* in[4];
        tile_rows(g, tl, dy, mm.m, k, t, j0, zeros, in);
        kern.output_adjoint(in, dM + k * mm.ncols + mm.column(t, j0), mm.plane, j1 - j0);
    }
}

template <class T>
void winograd_input_adjoint_part(const ImageGeometry& g, const WinogradTiles& tl, const T* dV, const ChunkLayout& v,
                                 std::size_t t, std::size_t j0, std::size_t j1, T* dx) {
    const WinogradTileKernels<T>& kern = winograd_tile_kernels<T>();
    T outside[winograd_block];
    for (std::size_t c = 0; c < g.C; ++c) input_adjoint_tile(g, tl, kern, dV, v, c, t, j0, j1, outside, dx);
}

// ---- the transforms of a chunk of tiles, on the thread pool

/// V (16 planes of C × n·m, n = t1 − t0, winograd_plane apart) = Bᵀ d B for
/// the input patch d of each tile in [t0, t1), each channel and image;
/// `zeros` holds m zeros (the padding).
template <class T>
void winograd_input(const ImageGeometry& g, const WinogradTiles& tl, const T* x, std::size_t m, std::size_t t0,
                    std::size_t t1, const T* zeros, T* V) {
    const std::size_t n = t1 - t0;
    const ChunkLayout v = chunk_layout<T>(g.C, m, t0, t1);
    const WinogradTileKernels<T>& kern = winograd_tile_kernels<T>();
    parallel_for(g.C * n, lines_per_chunk(16 * m, grain_arith), [&](std::size_t b, std::size_t e) {
        for (std::size_t w = b; w < e; ++w) {
            const std::size_t c = w / n, t = t0 + w % n;
            const T* d[16];
            patch_rows(g, tl, x, m, c, t, 0, zeros, d);
            kern.input(d, V + c * v.ncols + v.column(t, 0), v.plane, m);
        }
    });
}

/// dX (C·H·W × m) += B dV Bᵀ for each tile in [t0, t1): the adjoint of
/// winograd_input (what falls on the padding is dropped). Patches of
/// neighbouring tiles overlap, so the pool takes whole channels.
template <class T>
void winograd_input_adjoint(const ImageGeometry& g, const WinogradTiles& tl, const T* dV, std::size_t m,
                            std::size_t t0, std::size_t t1, T* dx) {
    const ChunkLayout v = chunk_layout<T>(g.C, m, t0, t1);
    const WinogradTileKernels<T>& kern = winograd_tile_kernels<T>();
    parallel_for(g.C, lines_per_chunk(16 * v.ncols, grain_arith), [&](std::size_t cb, std::size_t ce) {
        T outside[winograd_block];
        for (std::size_t c = cb; c < ce; ++c)
            for (std::size_t t = t0; t < t1; ++t) input_adjoint_tile(g, tl, kern, dV, v, c, t, 0, m, outside, dx);
    });
}

/// Y's tiles in [t0, t1) (Y is Kout·Ho·Wo × m) = Aᵀ M A, plus b[k] on
/// output channel k when b is given. False when some output is not finite.
template <class T>
bool winograd_output(const ImageGeometry& g, const WinogradTiles& tl, std::size_t kout, const T* M, std::size_t m,
                     std::size_t t0, std::size_t t1, const T* b, T* y) {
    const std::size_t n = t1 - t0;
    const ChunkLayout mm = chunk_layout<T>(kout, m, t0, t1);
    const WinogradTileKernels<T>& kern = winograd_tile_kernels<T>();
    std::atomic<bool> bad{false};
    parallel_for(kout * n, lines_per_chunk(16 * m, grain_arith), [&](std::size_t wb, std::size_t we) {
        std::uint64_t nonfinite = 0;
        for (std::size_t w = wb; w < we; ++w) {
            const std::size_t k = w / n;
            nonfinite |= output_tile(g, tl, kern, M, mm, k, t0 + w % n, 0, m, b ? b[k] : T(0), y);
        }
        if (nonfinite) bad.store(true, std::memory_order_relaxed);
    });
    return !bad.load();
}

/// dM (16 planes of Kout × n·m, winograd_plane apart) = A dY_tile Aᵀ for
/// each tile in [t0, t1): the adjoint of winograd_output (outputs outside
/// the image read `zeros`).
template <class T>
void winograd_output_adjoint(const ImageGeometry& g, const WinogradTiles& tl, std::size_t kout, const T* dy,
                             std::size_t m, std::size_t t0, std::size_t t1, const T* zeros, T* dM) {
    const std::size_t n = t1 - t0;
    const ChunkLayout mm = chunk_layout<T>(kout, m, t0, t1);
    const WinogradTileKernels<T>& kern = winograd_tile_kernels<T>();
    parallel_for(kout * n, lines_per_chunk(16 * m, grain_arith), [&](std::size_t wb, std::size_t we) {
        for (std::size_t w = wb; w < we; ++w) {
            const std::size_t k = w / n, t = t0 + w % n;
            const T* in[4];
            tile_rows(g, tl, dy, m, k, t, 0, zeros, in);
            kern.output_adjoint(in, dM + k * mm.ncols + mm.column(t, 0), mm.plane, m);
        }
    });
}

}  // namespace xg::detail

// The geometry of image ops (conv2d, max_pool2d, avg_pool2d) on xgrad's
// layout — one column per image, C·H·W values in channel-row-column order —
// and the loops that move patches between images and im2col columns.
// Internal to the library.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>

#include "parallel.hpp"
#include "xgrad/ops.hpp"

namespace xg::detail {

/// "32x14x14": an image shape C × H × W as layers print it.
inline std::string image_text(const ImageShape& s) {
    return std::to_string(s.channels) + "x" + std::to_string(s.height) + "x" + std::to_string(s.width);
}

/// a · b, or false when it overflows a size_t.
inline bool mul_fits(std::size_t a, std::size_t b, std::size_t& out) {
    if (a != 0 && b > std::size_t(-1) / a) return false;
    out = a * b;
    return true;
}

/// Every size of one image op, checked: the input image C × H × W, a square
/// k × k kernel (or window) moved by `stride` over the image padded by `pad`
/// zeros on each side, the output image Ho × Wo. `kernels` is Kout (a
/// convolution) or C (a pooling).
struct ImageGeometry {
    std::size_t C = 0, H = 0, W = 0, k = 0, stride = 0, pad = 0;
    std::size_t Ho = 0, Wo = 0;
    std::size_t chw = 0;  ///< C·H·W: the input's rows
    std::size_t hw = 0;   ///< H·W
    std::size_t P = 0;    ///< Ho·Wo: output pixels per channel
    std::size_t ckk = 0;  ///< C·k·k: a patch, im2col's rows, K's columns

    /// "" when the sizes make an op, else what is wrong (for a ShapeError).
    /// `pooling` asks for windows that tile the image exactly.
    std::string check(bool pooling) const {
        const std::string img = "the image C·H·W = " + std::to_string(C) + "·" + std::to_string(H) + "·" + std::to_string(W);
        const char* kname = pooling ? "window" : "kernel";
        if (C == 0 || H == 0 || W == 0) return img + " has no entries (C, H and W must each be at least 1)";
        if (k == 0) return std::string("the ") + kname + " size is 0 (it must be at least 1)";
        if (stride == 0) return "the stride is 0 (it must be at least 1)";
        std::size_t t = 0;
        const std::size_t quarter = std::size_t(-1) / 4;
        if (H > quarter || W > quarter || k > quarter || !mul_fits(C, H, t) || !mul_fits(t, W, t) || !mul_fits(C, k, t) || !mul_fits(t, k, t)) {
            return img + " with a " + std::to_string(k) + "x" + std::to_string(k) + " " + kname + " is too large";
        }
        if (pooling && k > 4096) {
            // The adjoint of max pooling numbers a window's entries in T: exact below 2^24.
            return "the window " + std::to_string(k) + "x" + std::to_string(k) + " is larger than 4096x4096";
        }
        if (!pooling && pad >= k) {
            return "padding " + std::to_string(pad) + " is not smaller than the kernel " + std::to_string(k) +
                   " (outputs would read nothing but padding)";
        }
        const std::size_t ph = H + 2 * pad, pw = W + 2 * pad;
        if (k > ph || k > pw) {
            const std::string ks = std::to_string(k) + "x" + std::to_string(k);
            if (pooling) return "the window " + ks + " is larger than the image " + std::to_string(H) + "x" + std::to_string(W);
            return "the kernel " + ks + " is larger than the padded image " + std::to_string(ph) + "x" +
                   std::to_string(pw) + " (H + 2·padding = " + std::to_string(H) + " + 2·" + std::to_string(pad) +
                   " = " + std::to_string(ph) + ", W + 2·padding = " + std::to_string(W) + " + 2·" +
                   std::to_string(pad) + " = " + std::to_string(pw) + ")";
        }
        if (pooling) {
            for (const auto& [name, size] : {std::pair<const char*, std::size_t>{"H", H}, {"W", W}}) {
                if ((size - k) % stride != 0) {
                    return std::string("a window of ") + std::to_string(k) + " with stride " + std::to_string(stride) +
                           " does not tile the image " + std::to_string(H) + "x" + std::to_string(W) + ": " + name +
                           " − window = " + std::to_string(size) + " − " + std::to_string(k) + " = " +
                           std::to_string(size - k) + " is not a multiple of the stride " + std::to_string(stride);
                }
            }
        }
        return "";
    }

    /// "X has 785 rows, but C·H·W = 1·28·28 = 784", or "" when they agree.
    std::string check_rows(const std::string& x, std::size_t rows) const {
        if (rows == chw) return "";
        return x + " has " + std::to_string(rows) + " rows, but C·H·W = " + std::to_string(C) + "·" +
               std::to_string(H) + "·" + std::to_string(W) + " = " + std::to_string(chw);
    }
};

/// The geometry of sizes C, H, W, k, stride, pad; derived sizes are filled
/// only when check() is "" (call it first).
inline ImageGeometry make_geometry(ImageShape im, std::size_t k, std::size_t stride, std::size_t pad, bool pooling,
                                   std::string& error) {
    ImageGeometry g;
    g.C = im.channels;
    g.H = im.height;
    g.W = im.width;
    g.k = k;
    g.stride = stride;
    g.pad = pad;
    error = g.check(pooling);
    if (!error.empty()) return g;
    g.Ho = (g.H + 2 * pad - k) / stride + 1;
    g.Wo = (g.W + 2 * pad - k) / stride + 1;
    g.hw = g.H * g.W;
    g.chw = g.C * g.hw;
    g.P = g.Ho * g.Wo;
    g.ckk = g.C * k * k;
    return g;
}

/// cols (C·k·k × P·m) = im2col(X) for X (C·H·W × m): row r = (c, ki, kj),
/// column p·m + j holds X(c, oh·s + ki − pad, ow·s + kj − pad; image j), or 0
/// in the padding. Each entry block is a contiguous copy of m values. On the
/// thread pool in chunks of whole rows of cols (a pure copy: any split gives
/// the same bits).
template <class T>
void im2col(const ImageGeometry& g, const T* x, std::size_t m, T* cols) {
    const std::size_t row_len = g.P * m;
    parallel_for(g.ckk, lines_per_chunk(row_len, grain_arith), [&](std::size_t rb, std::size_t re) {
        for (std::size_t r = rb; r < re; ++r) {
            const std::size_t c = r / (g.k * g.k), ki = r / g.k % g.k, kj = r % g.k;
            T* dst = cols + r * row_len;
            for (std::size_t oh = 0; oh < g.Ho; ++oh) {
                const std::size_t ih = oh * g.stride + ki;  // in padded coordinates
                const bool row_in = ih >= g.pad && ih - g.pad < g.H;
                if (!row_in) {
                    std::fill(dst, dst + g.Wo * m, T(0));
                    dst += g.Wo * m;
                    continue;
                }
                const T* src = x + (c * g.hw + (ih - g.pad) * g.W) * m;
                if (g.stride == 1 && kj >= g.pad && g.Wo + kj - g.pad <= g.W) {
                    // The whole output row reads one contiguous run of the input row.
                    std::memcpy(dst, src + (kj - g.pad) * m, g.Wo * m * sizeof(T));
                    dst += g.Wo * m;
                    continue;
                }
                for (std::size_t ow = 0; ow < g.Wo; ++ow, dst += m) {
                    const std::size_t iw = ow * g.stride + kj;
                    if (iw >= g.pad && iw - g.pad < g.W) {
                        std::memcpy(dst, src + (iw - g.pad) * m, m * sizeof(T));
                    } else {
                        std::fill(dst, dst + m, T(0));
                    }
                }
            }
        }
    });
}

/// dX (C·H·W × m) += col2im(dcols) for the band of output rows [oh0, oh1):
/// the adjoint of im2col, each column entry added back onto the pixel it was
/// copied from (padding entries dropped). dcols holds the band's columns
/// only: C·k·k rows of (oh1 − oh0)·Wo·m. On the thread pool in chunks of
/// whole channels (the rows of one channel add onto that channel's pixels
/// only, in the same order for any split).
template <class T>
void col2im_add(const ImageGeometry& g, const T* dcols, std::size_t m, std::size_t oh0, std::size_t oh1, T* dx) {
    const std::size_t row_len = (oh1 - oh0) * g.Wo * m;
    parallel_for(g.C, lines_per_chunk(g.k * g.k * row_len, grain_arith), [&](std::size_t cb, std::size_t ce) {
        for (std::size_t c = cb; c < ce; ++c)
            for (std::size_t ki = 0; ki < g.k; ++ki)
                for (std::size_t kj = 0; kj < g.k; ++kj) {
                    const T* src = dcols + ((c * g.k + ki) * g.k + kj) * row_len;
                    for (std::size_t oh = oh0; oh < oh1; ++oh, src += g.Wo * m) {
                        const std::size_t ih = oh * g.stride + ki;
                        if (ih < g.pad || ih - g.pad >= g.H) continue;
                        T* drow = dx + (c * g.hw + (ih - g.pad) * g.W) * m;
                        const T* s = src;
                        for (std::size_t ow = 0; ow < g.Wo; ++ow, s += m) {
                            const std::size_t iw = ow * g.stride + kj;
                            if (iw < g.pad || iw - g.pad >= g.W) continue;
                            T* d = drow + (iw - g.pad) * m;
                            for (std::size_t j = 0; j < m; ++j) d[j] += s[j];
                        }
                    }
                }
    });
}

/// Output rows per band of the adjoint dX = col2im(Kᵀ · dY), computed a band
/// at a time so that the band's C·k·k columns stay in cache between the gemm
/// and col2im: about 2^18 entries (at least one row). It depends on the
/// sizes only, so the sums' order does too.
inline std::size_t col2im_band_rows(const ImageGeometry& g, std::size_t m) {
    const std::size_t per_row = g.ckk * g.Wo * m, target = std::size_t(1) << 18;
    return per_row >= target ? 1 : std::min(g.Ho, target / per_row);
}

}  // namespace xg::detail

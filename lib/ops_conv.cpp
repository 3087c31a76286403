// conv2d: Y = img(K · im2col(X) [+ b]) by im2col and one gemm over the whole batch;
// dK = img⁻¹(dY) · im2col(X)ᵀ, db = Σ_columns img⁻¹(dY) (one gemm for both),
// dX = col2im(Kᵀ · img⁻¹(dY)) a band of output rows at a time; or, for
// 3×3 kernels of stride 1, by Winograd's F(2×2, 3×3) (winograd.hpp).
#include <algorithm>
#include <atomic>

#include <xgrad/threads.hpp>

#include "blas.hpp"
#include "broadcast.hpp"
#include "image.hpp"
#include "ops_common.hpp"
#include "winograd.hpp"

namespace xg {

namespace {

/// "" when spec.algorithm can compute a convolution of this geometry, else why not.
std::string algorithm_error(const Conv2dSpec& spec, const detail::ImageGeometry& g) {
    if (spec.algorithm != ConvAlgorithm::winograd || detail::winograd_fits(g)) return "";
    return "Winograd's F(2x2, 3x3) needs a 3x3 kernel of stride 1, not a " + std::to_string(g.k) + "x" +
           std::to_string(g.k) + " kernel of stride " + std::to_string(g.stride) +
           " (ConvAlgorithm::automatic or im2col computes any)";
}

}  // namespace

ImageShape conv2d_output(const Conv2dSpec& spec, std::size_t out_channels) {
    std::string error;
    const detail::ImageGeometry g = detail::make_geometry(spec.image, spec.kernel, spec.stride, spec.padding, false, error);
    if (error.empty()) error = algorithm_error(spec, g);
    if (!error.empty()) throw ShapeError("conv2d: " + error);
    if (out_channels == 0) throw ShapeError("conv2d: 0 output channels (there must be at least 1 kernel)");
    return ImageShape{out_channels, g.Ho, g.Wo};
}

namespace detail {

namespace {

/// How the equations spell the layout maps and im2col.
sym::Expr img(sym::Expr x) { return sym::fn(fname("img", "img", "\\operatorname{img}"), std::move(x)); }
sym::Expr img_inv(sym::Expr x) {
    return sym::fn(fname("img⁻¹", "img_inv", "\\operatorname{img}^{-1}"), std::move(x));
}
sym::Expr im2col_of(sym::Expr x) { return sym::fn(fname("im2col", "im2col", "\\operatorname{im2col}"), std::move(x)); }
sym::Expr col2im_of(sym::Expr x) { return sym::fn(fname("col2im", "col2im", "\\operatorname{col2im}"), std::move(x)); }

}  // namespace

// Y = img(K · im2col(X) + b);  dK = img⁻¹(dY) · im2col(X)ᵀ;  db = Σ_columns img⁻¹(dY);
// dX = col2im(Kᵀ · img⁻¹(dY)). Inputs X, K and, when `bias`, b.
template <class T>
class Conv2dOp final : public Op<T> {
public:
    Conv2dOp(Conv2dSpec spec, bool bias) : spec_(spec), bias_(bias) {
        std::string error;
        g_ = make_geometry(spec.image, spec.kernel, spec.stride, spec.padding, false, error);
        error_ = error.empty() ? algorithm_error(spec, g_) : error;
    }

    std::string name() const override { return "conv2d"; }

    Shape shape(const ShapeContext& c) const override {
        c.require_arity(bias_ ? 3 : 2);
        if (!error_.empty()) c.fail(error_);
        const Shape x = c.shape(0), k = c.shape(1);
        const std::string rows = g_.check_rows(c.name(0), x.rows);
        if (!rows.empty()) c.fail(rows);
        if (k.cols != g_.ckk) {
            c.fail(c.name(1) + " has " + std::to_string(k.cols) + " columns, but C·k·k = " + std::to_string(g_.C) +
                   "·" + std::to_string(g_.k) + "·" + std::to_string(g_.k) + " = " + std::to_string(g_.ckk) +
                   " (one kernel per row, channel-row-column order)");
        }
        if (k.rows == 0) c.fail(c.name(1) + " has no rows (there must be at least 1 kernel)");
        if (bias_ && c.shape(2) != Shape{k.rows, 1}) {
            c.fail("the bias " + c.name(2) + " must be Kout x 1 = " + std::to_string(k.rows) + "x1, one entry per kernel");
        }
        std::size_t out = 0;
        if (!mul_fits(k.rows, g_.P, out)) c.fail("the output Kout·Ho·Wo is too large");
        return Shape{out, x.cols};
    }

    // With a bias, Y starts as b in every column and the gemm adds K · cols
    // onto it (β = 1: the pass that would zero Y writes b instead); im2col
    // gets a last row of ones, so that the adjoint gemm
    // dY · [cols; 1]ᵀ = [dK db] gives db = Σ_columns dY in the same pass.
    std::size_t patch_rows() const { return g_.ckk + (bias_ ? 1 : 0); }

    void forward(const ForwardContext<T>& c) const override {
        const ConstView<T> x = c.in(0), k = c.in(1);
        const MutView<T> y = c.out();
        const std::size_t m = x.cols, kout = k.rows, n = g_.P * m, rows = patch_rows();
        if (y.size() == 0) return;
        if (winograd(kout)) {
            // A result that is not finite is recomputed by im2col, so that
            // NaN and ±Inf land where the formulas put them (through
            // Winograd's transforms they reach entries that do not depend on
            // them); the backward pass of this forward then takes im2col too.
            const bool finite = forward_winograd(c);
            c.scratch(10, Shape{1, 1})(0, 0) = finite ? T(0) : T(1);
            if (finite) return;
        }
        im2col_columns(c, x, m);
        Matrix<T>& cols = c.scratch(0, Shape{rows, n});
        if (bias_) {
            const ConstView<T> b = c.in(2);
            parallel_for(kout, lines_per_chunk(n, grain_arith), [&](std::size_t rb, std::size_t re) {
                for (std::size_t r = rb; r < re; ++r) std::fill(y.data + r * n, y.data + (r + 1) * n, b[r]);
            });
        }
        // Y's buffer read as Kout × (Ho·Wo·m) is exactly K · cols (+ b): no
        // reshaping. cols's first C·k·k rows are im2col(X).
        blas_gemm(false, false, kout, n, g_.ckk, T(1), k.data, cols.data(), bias_ ? T(1) : T(0), y.data);
    }

    void backward(BackwardContext<T>& c) const override {
        const ConstView<T> x = c.in(0), k = c.in(1), dy = c.dout();
        const std::size_t m = x.cols, kout = k.rows, n = g_.P * m, rows = patch_rows();
        const bool dk = c.needs_grad(1), db = bias_ && c.needs_grad(2);
        if (n == 0) {
            // No output: every gradient is 0.
            for (std::size_t i = 0; i < (bias_ ? 3u : 2u); ++i) {
                if (!c.needs_grad(i)) continue;
                const GradSink<T>& s = c.grad(i);
                if (!s.accumulate) std::fill(s.view.data, s.view.data + s.view.size(), T(0));
            }
            return;
        }
        if (winograd(kout)) {
            if (c.scratch(10, Shape{1, 1})(0, 0) == T(0)) {
                // A non-finite dY takes im2col, as a non-finite forward did.
                if (all_finite(dy.data, kout * n)) return backward_winograd(c);
                im2col_columns(c, x, m);
            }
        }
        if (dk || db) {
            if (!bias_) {
                const GradSink<T>& s = c.grad(1);
                const Matrix<T>& cols = c.scratch(0, Shape{rows, n});
                blas_gemm(false, true, kout, g_.ckk, n, T(1), dy.data, cols.data(), s.accumulate ? T(1) : T(0),
                          s.view.data);
            } else {
                // [dK db] = dY · [cols; 1]ᵀ, then split into the two sinks.
                const Matrix<T>& cols = c.scratch(0, Shape{rows, n});
                Matrix<T>& dkb = c.scratch(3, Shape{kout, rows});
                blas_gemm(false, true, kout, rows, n, T(1), dy.data, cols.data(), T(0), dkb.data());
                for (std::size_t r = 0; r < kout; ++r) {
                    const T* src = dkb.data() + r * rows;
                    if (dk) {
                        const GradSink<T>& s = c.grad(1);
                        T* d = s.view.data + r * g_.ckk;
                        for (std::size_t q = 0; q < g_.ckk; ++q) d[q] = s.accumulate ? d[q] + src[q] : src[q];
                    }
                    if (db) {
                        const GradSink<T>& s = c.grad(2);
                        s.view[r] = s.accumulate ? s.view[r] + src[g_.ckk] : src[g_.ckk];
                    }
                }
            }
        }
        if (c.needs_grad(0)) {
            const GradSink<T>& s = c.grad(0);
            if (!s.accumulate) std::fill(s.view.data, s.view.data + s.view.size(), T(0));
            // dX = col2im(Kᵀ · dY), a band of output rows at a time: dY's band
            // is a window of its rows (leading dimension n).
            const std::size_t band = col2im_band_rows(g_, m), wm = g_.Wo * m;
            Matrix<T>& dcols = c.scratch(1, Shape{g_.ckk, band * wm});
            for (std::size_t oh0 = 0; oh0 < g_.Ho; oh0 += band) {
                const std::size_t oh1 = std::min(g_.Ho, oh0 + band), len = (oh1 - oh0) * wm;
                blas_gemm_ld(true, false, g_.ckk, len, kout, T(1), k.data, g_.ckk, dy.data + oh0 * wm, n, T(0),
                             dcols.data(), len);
                col2im_add(g_, dcols.data(), m, oh0, oh1, s.view.data);
            }
        }
    }

    sym::Expr formula() const override {
        sym::Expr z = sym::dot(sym::in(1), im2col_of(sym::in(0)));
        return img(bias_ ? sym::add(std::move(z), sym::in(2)) : std::move(z));
    }

    sym::Expr grad_formula(std::size_t i) const override {
        if (i == 0) return col2im_of(sym::dot(sym::transpose(sym::in(1)), img_inv(sym::grad())));
        if (i == 1) return sym::dot(img_inv(sym::grad()), sym::transpose(im2col_of(sym::in(0))));
        return sum_of(img_inv(sym::grad()), Axis::over_cols);
    }

    const Conv2dSpec& spec() const { return spec_; }

private:
    /// Whether this convolution runs Winograd's F(2×2, 3×3): asked for, or
    /// `automatic` on a 3×3 stride-1 kernel with C ≥ 16 and Kout ≥ 16 (on
    /// fewer channels the 16 products are too thin to beat im2col's one:
    /// docs/performance.md, "Convolution").
    bool winograd(std::size_t kout) const {
        switch (spec_.algorithm) {
            case ConvAlgorithm::winograd: return true;
            case ConvAlgorithm::im2col: return false;
            case ConvAlgorithm::automatic: break;
        }
        return winograd_fits(g_) && g_.C >= 16 && kout >= 16;
    }

    /// Scratch 0 = [im2col(X); 1] (the row of ones with a bias only).
    template <class Context>
    void im2col_columns(const Context& c, const ConstView<T>& x, std::size_t m) const {
        const std::size_t n = g_.P * m, rows = patch_rows();
        Matrix<T>& cols = c.scratch(0, Shape{rows, n});
        im2col(g_, x.data, m, cols.data());
        if (bias_) std::fill(cols.data() + g_.ckk * n, cols.data() + rows * n, T(1));
    }

    // Scratch of the Winograd path: 4 U, 5 V (a chunk, or with tasks a slot
    // per lane), 6 M or dM (the same), 7 a row of m zeros (the padding),
    // 8 dU, 9 dV (the same), 10 whether the last forward pass fell back to
    // im2col (1) or not (0), 11 the tasks' shares of dU.
    struct WinogradBuffers {
        WinogradTiles tiles;
        std::size_t task_images;
        std::size_t lanes;  // with tasks: the slots of V, M and dV, one per lane (for_tasks)
        Matrix<T>* v;
        Matrix<T>* mm;
        const T* zeros;
    };

    /// Images per task when a chunk is cut into tasks of one tile and some
    /// images, each running its own transforms and gemms on one thread: as
    /// many as keep a task's products within 2^18 multiply-adds, which
    /// OpenBLAS computes on the calling thread (so tasks on the two cores
    /// never hand work to OpenBLAS's threads), and all m when they fit. 0
    /// when that would be fewer than 32 images (thin products): the chunk's
    /// gemms then run whole, on OpenBLAS's threads.
    static std::size_t task_images(std::size_t kout, std::size_t C, std::size_t m) {
        const std::size_t fit = (std::size_t(1) << 18) / (kout * C);
        if (fit >= m) return m;
        return fit >= 32 ? fit : 0;
    }

    template <class Context>
    WinogradBuffers winograd_buffers(const Context& c, std::size_t kout, std::size_t m) const {
        WinogradBuffers w{winograd_tiles(g_, kout, m), task_images(kout, g_.C, m), 0, nullptr, nullptr, nullptr};
        if (w.task_images) {
            // A task's V and M live in its lane's slot (task_layout), reused
            // task after task: they stay in the core's cache instead of
            // streaming a chunk's planes through memory.
            w.lanes = std::min(xg::threads(), w.tiles.per_chunk * task_groups(m, w.task_images));
            w.v = &c.scratch(5, Shape{16 * w.lanes, winograd_plane<T>(g_.C, w.task_images)});
            w.mm = &c.scratch(6, Shape{16 * w.lanes, winograd_plane<T>(kout, w.task_images)});
        } else {
            const std::size_t cols = w.tiles.per_chunk * m;
            w.v = &c.scratch(5, Shape{16, winograd_plane<T>(g_.C, cols)});
            w.mm = &c.scratch(6, Shape{16, winograd_plane<T>(kout, cols)});
        }
        Matrix<T>& pad = c.scratch(7, Shape{1, m});
        std::fill(pad.data(), pad.data() + m, T(0));
        w.zeros = pad.data();
        return w;
    }

    /// Tasks per tile: the groups of `per_task` images among m.
    static std::size_t task_groups(std::size_t m, std::size_t per_task) { return (m + per_task - 1) / per_task; }

    /// f(lane, i, t, j0, j1) for each task i of the chunk of tiles [t0, t1):
    /// tile t, images [j0, j1); only the tiles of one color (0–3,
    /// winograd_tile_color) unless `color` is 4. `lanes` loops run on the
    /// pool, each taking the next task until none is left, so a lane (and its
    /// slot of scratch) serves one task at a time. Which lane runs a task
    /// changes nothing in the task's result.
    template <class F>
    void for_tasks(const WinogradTiles& tl, std::size_t t0, std::size_t t1, std::size_t m, std::size_t per_task,
                   std::size_t lanes, std::size_t color, F&& f) const {
        const std::size_t groups = task_groups(m, per_task), count = (t1 - t0) * groups;
        std::atomic<std::size_t> next{0};
        parallel_for(lanes, 1, [&](std::size_t b, std::size_t e) {
            for (std::size_t lane = b; lane < e; ++lane) {
                for (std::size_t i = next.fetch_add(1, std::memory_order_relaxed); i < count;
                     i = next.fetch_add(1, std::memory_order_relaxed)) {
                    const std::size_t t = t0 + i / groups, j0 = (i % groups) * per_task;
                    if (color < 4 && winograd_tile_color(tl, t) != color) continue;
                    f(lane, i, t, j0, std::min(m, j0 + per_task));
                }
            }
        });
    }

    // Y = Aᵀ [U ⊙ V] A (+ b) chunk by chunk: U = G K Gᵀ, V = Bᵀ X B, the 16
    // positions' products as 16 gemms (winograd.hpp). False when some
    // output is not finite.
    bool forward_winograd(const ForwardContext<T>& c) const {
        const ConstView<T> x = c.in(0), k = c.in(1);
        const MutView<T> y = c.out();
        const std::size_t m = x.cols, kout = k.rows, C = g_.C;
        Matrix<T>& u = c.scratch(4, Shape{16 * kout, C});
        winograd_kernels(k.data, kout, C, u.data());
        const WinogradBuffers w = winograd_buffers(c, kout, m);
        const T* b = bias_ ? c.in(2).data : nullptr;
        T *const V = w.v->data(), *const M = w.mm->data();
        bool finite = true;
        for (std::size_t t0 = 0; t0 < w.tiles.count; t0 += w.tiles.per_chunk) {
            const std::size_t t1 = std::min(w.tiles.count, t0 + w.tiles.per_chunk);
            const ChunkLayout vl = chunk_layout<T>(C, m, t0, t1), ml = chunk_layout<T>(kout, m, t0, t1);
            if (w.task_images) {
                std::atomic<bool> bad{false};
                for_tasks(w.tiles, t0, t1, m, w.task_images, w.lanes, 4,
                          [&](std::size_t lane, std::size_t, std::size_t t, std::size_t j0, std::size_t j1) {
                    const ChunkLayout tv = task_layout<T>(C, m, w.task_images, t, j0);
                    const ChunkLayout tm = task_layout<T>(kout, m, w.task_images, t, j0);
                    T *const Vs = V + lane * 16 * tv.plane, *const Ms = M + lane * 16 * tm.plane;
                    winograd_input_part(g_, w.tiles, x.data, tv, t, j0, j1, w.zeros, Vs);
                    for (std::size_t p = 0; p < 16; ++p) {
                        blas_gemm_ld(false, false, kout, j1 - j0, C, T(1), u.data() + p * kout * C, C,
                                     Vs + p * tv.plane, tv.ncols, T(0), Ms + p * tm.plane, tm.ncols);
                    }
                    if (!winograd_output_part(g_, w.tiles, kout, Ms, tm, t, j0, j1, b, y.data)) {
                        bad.store(true, std::memory_order_relaxed);
                    }
                });
                finite &= !bad.load();
                continue;
            }
            winograd_input(g_, w.tiles, x.data, m, t0, t1, w.zeros, V);
            for (std::size_t p = 0; p < 16; ++p) {
                blas_gemm(false, false, kout, vl.ncols, C, T(1), u.data() + p * kout * C, V + p * vl.plane, T(0),
                          M + p * ml.plane);
            }
            finite &= winograd_output(g_, w.tiles, kout, M, m, t0, t1, b, y.data);
        }
        return finite;
    }

    // The adjoint of forward_winograd, chunk by chunk: dM = A dY Aᵀ;
    // dU = Σ dM · Vᵀ (V recomputed from X), dK = Gᵀ dU G; dV = Uᵀ · dM,
    // dX += B dV Bᵀ; db = Σ_columns img⁻¹(dY). With tasks, each task adds
    // its tiles' share of dU into its own buffer, and the shares are summed
    // in task order (the same bits for any thread count).
    void backward_winograd(BackwardContext<T>& c) const {
        const ConstView<T> x = c.in(0), k = c.in(1), dy = c.dout();
        const std::size_t m = x.cols, kout = k.rows, C = g_.C, n = g_.P * m, kc = kout * C;
        const bool dx = c.needs_grad(0), dk = c.needs_grad(1), db = bias_ && c.needs_grad(2);
        if (dx || dk) {
            const Matrix<T>& u = c.scratch(4, Shape{16 * kout, C});
            const WinogradBuffers w = winograd_buffers(c, kout, m);
            T *const V = w.v->data(), *const dM = w.mm->data();
            T* du = dk ? c.scratch(8, Shape{16 * kout, C}).data() : nullptr;
            // dV has V's layout: a chunk's planes, or with tasks a slot per lane.
            T* dv = dx ? c.scratch(9, shape_of(*w.v)).data() : nullptr;
            const std::size_t groups = w.task_images ? task_groups(m, w.task_images) : 0;
            const std::size_t tasks = w.tiles.per_chunk * groups;
            T* shares = dk && tasks ? c.scratch(11, Shape{tasks, 16 * kc}).data() : nullptr;
            if (dx && !c.grad(0).accumulate) {
                const MutView<T>& s = c.grad(0).view;
                std::fill(s.data, s.data + s.size(), T(0));
            }
            for (std::size_t t0 = 0; t0 < w.tiles.count; t0 += w.tiles.per_chunk) {
                const std::size_t t1 = std::min(w.tiles.count, t0 + w.tiles.per_chunk);
                const ChunkLayout vl = chunk_layout<T>(C, m, t0, t1), ml = chunk_layout<T>(kout, m, t0, t1);
                const bool first = t0 == 0;
                if (w.task_images) {
                    const auto task = [&](std::size_t lane, std::size_t i, std::size_t t, std::size_t j0,
                                          std::size_t j1) {
                        const ChunkLayout tv = task_layout<T>(C, m, w.task_images, t, j0);
                        const ChunkLayout tm = task_layout<T>(kout, m, w.task_images, t, j0);
                        T *const Vs = V + lane * 16 * tv.plane, *const dMs = dM + lane * 16 * tm.plane;
                        T* const dVs = dx ? dv + lane * 16 * tv.plane : nullptr;
                        winograd_output_adjoint_part(g_, w.tiles, kout, dy.data, tm, t, j0, j1, w.zeros, dMs);
                        if (dk) winograd_input_part(g_, w.tiles, x.data, tv, t, j0, j1, w.zeros, Vs);
                        for (std::size_t p = 0; p < 16; ++p) {
                            const T* dmp = dMs + p * tm.plane;
                            if (dk) {
                                blas_gemm_ld(false, true, kout, C, j1 - j0, T(1), dmp, tm.ncols, Vs + p * tv.plane,
                                             tv.ncols, T(0), shares + i * 16 * kc + p * kc, C);
                            }
                            if (dx) {
                                blas_gemm_ld(true, false, C, j1 - j0, kout, T(1), u.data() + p * kc, C, dmp, tm.ncols,
                                             T(0), dVs + p * tv.plane, tv.ncols);
                            }
                        }
                        if (dx) winograd_input_adjoint_part(g_, w.tiles, dVs, tv, t, j0, j1, c.grad(0).view.data);
                    };
                    // With dX, the tiles go in four rounds of one color each:
                    // the tasks that add into dX at the same time have
                    // disjoint patches.
                    if (dx) {
                        for (std::size_t color = 0; color < 4; ++color) {
                            for_tasks(w.tiles, t0, t1, m, w.task_images, w.lanes, color, task);
                        }
                    } else {
                        for_tasks(w.tiles, t0, t1, m, w.task_images, w.lanes, 4, task);
                    }
                    if (dk) {
                        // dU (+)= the tasks' shares, in task order.
                        const std::size_t count = (t1 - t0) * groups;
                        parallel_for(16 * kc, grain_arith, [&](std::size_t eb, std::size_t ee) {
                            if (first) std::fill(du + eb, du + ee, T(0));
                            for (std::size_t i = 0; i < count; ++i) {
                                const T* share = shares + i * 16 * kc;
                                for (std::size_t e = eb; e < ee; ++e) du[e] += share[e];
                            }
                        });
                    }
                } else {
                    winograd_output_adjoint(g_, w.tiles, kout, dy.data, m, t0, t1, w.zeros, dM);
                    if (dk) winograd_input(g_, w.tiles, x.data, m, t0, t1, w.zeros, V);
                    for (std::size_t p = 0; p < 16; ++p) {
                        const T* dmp = dM + p * ml.plane;
                        if (dk) {
                            blas_gemm(false, true, kout, C, ml.ncols, T(1), dmp, V + p * vl.plane, first ? T(0) : T(1),
                                      du + p * kc);
                        }
                        if (dx) blas_gemm(true, false, C, ml.ncols, kout, T(1), u.data() + p * kc, dmp, T(0), dv + p * vl.plane);
                    }
                }
                if (dx && !w.task_images) winograd_input_adjoint(g_, w.tiles, dv, m, t0, t1, c.grad(0).view.data);
            }
            if (dk) winograd_kernels_adjoint(du, kout, C, c.grad(1).accumulate, c.grad(1).view.data);
        }
        if (db) {
            // Σ_columns of dY read as Kout × Ho·Wo·m: the sum of a bias's
            // gradient (vmath's sixteen partial sums, rows on the pool).
            const GradSink<T>& s = c.grad(2);
            unbroadcast_into(ConstView<T>{dy.data, kout, n}, s.view, s.accumulate, T(1));
        }
    }

    Conv2dSpec spec_;
    bool bias_;
    ImageGeometry g_;
    std::string error_;
};

}  // namespace detail

template <class T>
Var<T> conv2d(Var<T> x, Var<T> k, Conv2dSpec spec) {
    return detail::make_node<detail::Conv2dOp>(std::vector<Var<T>>{x, k}, spec, false);
}

template <class T>
Var<T> conv2d(Var<T> x, Var<T> k, Var<T> b, Conv2dSpec spec) {
    return detail::make_node<detail::Conv2dOp>(std::vector<Var<T>>{x, k, b}, spec, true);
}

#define XG_CONV_OPS(T)                                         \
    template Var<T> conv2d(Var<T>, Var<T>, Conv2dSpec);         \
    template Var<T> conv2d(Var<T>, Var<T>, Var<T>, Conv2dSpec);
XG_INSTANTIATE_FLOAT_DOUBLE(XG_CONV_OPS)
#undef XG_CONV_OPS

}  // namespace xg

// max_pool2d and avg_pool2d over square windows that tile each channel of each image.
//   max: Y = maxpool(X), dX = unpool_max(dY) (to the first arg-max of each window)
//   avg: Y = avgpool(X), dX = unpool_avg(dY) (dY / window², spread over each window)
#include <algorithm>
#include <cmath>
#include <utility>

#include "image.hpp"
#include "ops_common.hpp"

namespace xg {

ImageShape pool2d_output(const Pool2dSpec& spec) {
    std::string error;
    const detail::ImageGeometry g = detail::make_geometry(spec.image, spec.window, spec.stride, 0, true, error);
    if (!error.empty()) throw ShapeError("pool2d: " + error);
    return ImageShape{g.C, g.Ho, g.Wo};
}

namespace detail {

/// Max pooling's adjoint, one window row t at a time, in two passes over
/// rows of m values (every load unconditional and no arithmetic under a
/// select, so the compiler vectorises both):
/// idx = t where x equals the window's maximum y (or both are NaN) and no
/// earlier row did (idx = none) — the arg-max of each image's window …
template <class T>
void pool_argmax_row(const T* __restrict__ x, const T* __restrict__ y, T* __restrict__ idx, T t, T none, std::size_t m) {
    for (std::size_t j = 0; j < m; ++j) {
        const T a = x[j], b = y[j], i = idx[j];
        idx[j] = (((a == b) | ((a != a) & (b != b))) & (i == none)) ? t : i;
    }
}

/// … then d += g where idx = t (0 elsewhere, so a NaN in g reaches only its arg-max).
template <class T>
void pool_route_row(const T* __restrict__ idx, const T* __restrict__ g, T* __restrict__ d, T t, std::size_t m) {
    for (std::size_t j = 0; j < m; ++j) {
        const T gj = g[j], i = idx[j];
        d[j] += i == t ? gj : T(0);
    }
}

/// Windows that do not overlap, in one pass per window row t: d = g where x
/// is the window's maximum y (or both are NaN) and no earlier row was
/// (found = 0), else 0; found records the rows taken.
template <class T>
void pool_route_first_row(const T* __restrict__ x, const T* __restrict__ y, const T* __restrict__ g,
                          T* __restrict__ found, T* __restrict__ d, std::size_t m) {
    for (std::size_t j = 0; j < m; ++j) {
        const T a = x[j], b = y[j], f = found[j], gj = g[j];
        const T now = (((a == b) | ((a != a) & (b != b))) & (f == T(0))) ? T(1) : f;
        found[j] = now;
        d[j] = now != f ? gj : T(0);
    }
}

/// The pooling ops: one class, `max` picks the kind.
template <class T>
class Pool2dOp final : public Op<T> {
public:
    Pool2dOp(Pool2dSpec spec, bool max) : max_(max) {
        std::string error;
        g_ = make_geometry(spec.image, spec.window, spec.stride, 0, true, error);
        error_ = error;
    }

    std::string name() const override { return max_ ? "max_pool2d" : "avg_pool2d"; }

    Shape shape(const ShapeContext& c) const override {
        c.require_arity(1);
        if (!error_.empty()) c.fail(error_);
        const std::string rows = g_.check_rows(c.name(0), c.shape(0).rows);
        if (!rows.empty()) c.fail(rows);
        return Shape{g_.C * g_.P, c.shape(0).cols};
    }

    // For each output pixel of channels [cb, ce): the rows of X its window
    // covers, in row-major window order.
    template <class F>
    void each_window(std::size_t cb, std::size_t ce, F&& f) const {
        for (std::size_t ch = cb; ch < ce; ++ch)
            for (std::size_t oh = 0; oh < g_.Ho; ++oh)
                for (std::size_t ow = 0; ow < g_.Wo; ++ow) {
                    const std::size_t out_row = (ch * g_.Ho + oh) * g_.Wo + ow;
                    const std::size_t first = ch * g_.hw + oh * g_.stride * g_.W + ow * g_.stride;
                    f(ch, out_row, first);
                }
    }

    /// f(cb, ce) over chunks of whole channels on the thread pool: windows of
    /// different channels never share a row of X, so any split gives the same bits.
    template <class F>
    void by_channels(std::size_t m, F&& f) const {
        parallel_for(g_.C, lines_per_chunk(g_.hw * m, grain_arith), std::forward<F>(f));
    }

    /// Row t (0 … k² − 1, row-major) of the window whose top-left row is `first`.
    std::size_t window_row(std::size_t first, std::size_t t) const { return first + (t / g_.k) * g_.W + t % g_.k; }

    void forward(const ForwardContext<T>& c) const override {
        const ConstView<T> x = c.in(0);
        const MutView<T> y = c.out();
        const std::size_t m = x.cols, kk = g_.k * g_.k;
        const T scale = T(1) / T(kk);
        by_channels(m, [&](std::size_t cb, std::size_t ce) {
            each_window(cb, ce, [&](std::size_t, std::size_t out_row, std::size_t first) {
                T* yr = y.data + out_row * m;
                std::copy(x.data + first * m, x.data + first * m + m, yr);
                for (std::size_t t = 1; t < kk; ++t) {
                    const T* xr = x.data + window_row(first, t) * m;
                    if (max_) {
                        // A larger entry, or the first NaN, takes the place: ties keep the first maximum.
                        // (Bitwise on the comparisons: a select the compiler vectorises.)
                        for (std::size_t j = 0; j < m; ++j) {
                            const T a = xr[j], b = yr[j];
                            yr[j] = ((a > b) | ((a != a) & (b == b))) ? a : b;
                        }
                    } else {
                        for (std::size_t j = 0; j < m; ++j) yr[j] += xr[j];
                    }
                }
                if (!max_) {
                    for (std::size_t j = 0; j < m; ++j) yr[j] *= scale;
                }
            });
        });
    }

    void backward(BackwardContext<T>& c) const override {
        const ConstView<T> x = c.in(0), y = c.out(), dy = c.dout();
        const GradSink<T>& s = c.grad(0);
        const std::size_t m = x.cols, kk = g_.k * g_.k;
        if (m == 0) return;
        // Windows that tile the image without overlap (stride = window) write
        // every entry of dX once: no zero fill first.
        const bool tiles = g_.stride == g_.k;
        const bool add = s.accumulate || !tiles;
        if (!s.accumulate && !tiles) std::fill(s.view.data, s.view.data + s.view.size(), T(0));
        const T scale = T(1) / T(kk);
        // For max: per channel and image, the window row of its arg-max (kk:
        // not found yet), or for windows that tile, whether it was found.
        // Window offsets are exact in T: windows are at most 4096 x 4096 (image.hpp), below 2^24 entries.
        T* idx_all = max_ ? c.scratch(0, Shape{g_.C, m}).data() : nullptr;
        const T none = T(kk);
        by_channels(m, [&](std::size_t cb, std::size_t ce) {
            each_window(cb, ce, [&](std::size_t ch, std::size_t out_row, std::size_t first) {
                const T* g = dy.data + out_row * m;
                if (max_) {
                    T* idx = idx_all + ch * m;
                    const T* yr = y.data + out_row * m;
                    // The first entry equal to the window's maximum (or its first NaN) is its arg-max.
                    if (!add) {
                        std::fill(idx, idx + m, T(0));
                        for (std::size_t t = 0; t < kk; ++t) {
                            const std::size_t row = window_row(first, t) * m;
                            pool_route_first_row(x.data + row, yr, g, idx, s.view.data + row, m);
                        }
                        return;
                    }
                    std::fill(idx, idx + m, none);
                    for (std::size_t t = 0; t < kk; ++t) {
                        pool_argmax_row(x.data + window_row(first, t) * m, yr, idx, T(t), none, m);
                    }
                    for (std::size_t t = 0; t < kk; ++t) {
                        pool_route_row(idx, g, s.view.data + window_row(first, t) * m, T(t), m);
                    }
                } else {
                    for (std::size_t t = 0; t < kk; ++t) {
                        T* d = s.view.data + window_row(first, t) * m;
                        if (add) {
                            for (std::size_t j = 0; j < m; ++j) d[j] += g[j] * scale;
                        } else {
                            for (std::size_t j = 0; j < m; ++j) d[j] = g[j] * scale;
                        }
                    }
                }
            });
        });
    }

    sym::Expr formula() const override {
        return max_ ? sym::fn(fname("maxpool", "maxpool", "\\operatorname{maxpool}"), sym::in(0))
                    : sym::fn(fname("avgpool", "avgpool", "\\operatorname{avgpool}"), sym::in(0));
    }

    sym::Expr grad_formula(std::size_t) const override {
        return max_ ? sym::fn(fname("unpool_max", "unpool_max", "\\operatorname{unpool}_{\\max}"), sym::grad())
                    : sym::fn(fname("unpool_avg", "unpool_avg", "\\operatorname{unpool}_{\\text{avg}}"), sym::grad());
    }

private:
    bool max_;
    ImageGeometry g_;
    std::string error_;
};

}  // namespace detail

template <class T>
Var<T> max_pool2d(Var<T> x, Pool2dSpec spec) {
    return detail::make_node<detail::Pool2dOp>(std::vector<Var<T>>{x}, spec, true);
}

template <class T>
Var<T> avg_pool2d(Var<T> x, Pool2dSpec spec) {
    return detail::make_node<detail::Pool2dOp>(std::vector<Var<T>>{x}, spec, false);
}

#define XG_POOL_OPS(T)                                 \
    template Var<T> max_pool2d(Var<T>, Pool2dSpec);     \
    template Var<T> avg_pool2d(Var<T>, Pool2dSpec);
XG_INSTANTIATE_FLOAT_DOUBLE(XG_POOL_OPS)
#undef XG_POOL_OPS

}  // namespace xg

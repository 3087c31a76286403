// conv2d: Y = img(K · im2col(X) [+ b]) by im2col and one gemm over the whole batch;
// dK = img⁻¹(dY) · im2col(X)ᵀ, db = Σ_columns img⁻¹(dY) (one gemm for both),
// dX = col2im(Kᵀ · img⁻¹(dY)) a band of output rows at a time.
#include <algorithm>

#include "blas.hpp"
#include "image.hpp"
#include "ops_common.hpp"

namespace xg {

ImageShape conv2d_output(const Conv2dSpec& spec, std::size_t out_channels) {
    std::string error;
    const detail::ImageGeometry g = detail::make_geometry(spec.image, spec.kernel, spec.stride, spec.padding, false, error);
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
        error_ = error;
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
        Matrix<T>& cols = c.scratch(0, Shape{rows, n});
        im2col(g_, x.data, m, cols.data());
        if (bias_) {
            std::fill(cols.data() + g_.ckk * n, cols.data() + rows * n, T(1));
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
        if (dk || db) {
            if (n == 0) {
                for (std::size_t i = 1; i < (bias_ ? 3u : 2u); ++i) {
                    if (!c.needs_grad(i)) continue;
                    const GradSink<T>& s = c.grad(i);
                    if (!s.accumulate) std::fill(s.view.data, s.view.data + s.view.size(), T(0));
                }
            } else if (!bias_) {
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
            if (n == 0) return;
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

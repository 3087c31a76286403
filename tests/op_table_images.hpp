// The op table's rows for the image ops (conv2d, max_pool2d, avg_pool2d) and
// their plain-loop references: a direct seven-loop convolution, pooling by
// direct loops over each window, and the maps their formulas print (im2col,
// col2im, img, img⁻¹, unpool_max, unpool_avg) for evaluating the formulas.
// Included by tests/op_table.hpp in the middle of it (it uses the table's
// types and helpers); not a header of its own.
#pragma once

namespace xgt::op_table {

namespace ref {

/// Sizes of one conv/pool spec (H, W padded by p, output Ho × Wo).
struct Geo {
    std::size_t C, H, W, k, s, p, Ho, Wo;
};
inline Geo geo(xg::ImageShape im, std::size_t k, std::size_t s, std::size_t p) {
    return Geo{im.channels, im.height, im.width, k, s, p, (im.height + 2 * p - k) / s + 1, (im.width + 2 * p - k) / s + 1};
}
inline Geo geo(const xg::Conv2dSpec& c) { return geo(c.image, c.kernel, c.stride, c.padding); }
inline Geo geo(const xg::Pool2dSpec& c) { return geo(c.image, c.window, c.stride, 0); }

/// X(c, h, w; image j) in padded coordinates (h, w may lie in the padding: 0).
inline double pixel(const Matrix<double>& x, const Geo& g, std::size_t c, std::size_t hp, std::size_t wp, std::size_t j) {
    if (hp < g.p || wp < g.p || hp - g.p >= g.H || wp - g.p >= g.W) return 0;
    return x((c * g.H + (hp - g.p)) * g.W + (wp - g.p), j);
}

/// The convolution in seven loops: Y(o, oh, ow; j) = b(o) + Σ_c Σ_ki Σ_kj K(o, (c, ki, kj)) X(c, oh·s + ki − p, ow·s + kj − p; j).
inline Matrix<double> conv2d(const Matrix<double>& x, const Matrix<double>& k, const Matrix<double>* b, const xg::Conv2dSpec& spec) {
    const Geo g = geo(spec);
    const std::size_t m = x.shape()[1], kout = k.shape()[0];
    Matrix<double> y({kout * g.Ho * g.Wo, m});
    for (std::size_t j = 0; j < m; ++j)
        for (std::size_t o = 0; o < kout; ++o)
            for (std::size_t oh = 0; oh < g.Ho; ++oh)
                for (std::size_t ow = 0; ow < g.Wo; ++ow) {
                    double acc = 0;
                    for (std::size_t c = 0; c < g.C; ++c)
                        for (std::size_t ki = 0; ki < g.k; ++ki)
                            for (std::size_t kj = 0; kj < g.k; ++kj) {
                                acc += k(o, (c * g.k + ki) * g.k + kj) * pixel(x, g, c, oh * g.s + ki, ow * g.s + kj, j);
                            }
                    y((o * g.Ho + oh) * g.Wo + ow, j) = acc + (b ? (*b)(o, 0) : 0.0);
                }
    return y;
}

/// im2col: C·k·k × Ho·Wo·m, column (oh·Wo + ow)·m + j.
inline Matrix<double> im2col(const Matrix<double>& x, const Geo& g) {
    const std::size_t m = x.shape()[1];
    Matrix<double> cols({g.C * g.k * g.k, g.Ho * g.Wo * m});
    for (std::size_t c = 0; c < g.C; ++c)
        for (std::size_t ki = 0; ki < g.k; ++ki)
            for (std::size_t kj = 0; kj < g.k; ++kj)
                for (std::size_t oh = 0; oh < g.Ho; ++oh)
                    for (std::size_t ow = 0; ow < g.Wo; ++ow)
                        for (std::size_t j = 0; j < m; ++j) {
                            cols((c * g.k + ki) * g.k + kj, (oh * g.Wo + ow) * m + j) = pixel(x, g, c, oh * g.s + ki, ow * g.s + kj, j);
                        }
    return cols;
}

/// col2im, the adjoint of im2col: each column entry added onto its pixel.
inline Matrix<double> col2im(const Matrix<double>& cols, const Geo& g) {
    const std::size_t m = cols.shape()[1] / (g.Ho * g.Wo);
    Matrix<double> x = xt::zeros<double>({g.C * g.H * g.W, m});
    for (std::size_t c = 0; c < g.C; ++c)
        for (std::size_t ki = 0; ki < g.k; ++ki)
            for (std::size_t kj = 0; kj < g.k; ++kj)
                for (std::size_t oh = 0; oh < g.Ho; ++oh)
                    for (std::size_t ow = 0; ow < g.Wo; ++ow) {
                        const std::size_t hp = oh * g.s + ki, wp = ow * g.s + kj;
                        if (hp < g.p || wp < g.p || hp - g.p >= g.H || wp - g.p >= g.W) continue;
                        for (std::size_t j = 0; j < m; ++j) {
                            x((c * g.H + hp - g.p) * g.W + wp - g.p, j) += cols((c * g.k + ki) * g.k + kj, (oh * g.Wo + ow) * m + j);
                        }
                    }
    return x;
}

/// img: Kout × P·m read as Kout·P × m (row o, column p·m + j → row o·P + p, column j); img⁻¹ the other way.
inline Matrix<double> img(const Matrix<double>& z, std::size_t P) {
    const std::size_t m = z.shape()[1] / P;
    Matrix<double> y({z.shape()[0] * P, m});
    std::copy(z.begin(), z.end(), y.begin());
    return y;
}
inline Matrix<double> img_inv(const Matrix<double>& y, std::size_t P) {
    Matrix<double> z({y.shape()[0] / P, P * y.shape()[1]});
    std::copy(y.begin(), y.end(), z.begin());
    return z;
}

/// Pooling by direct loops: the mean, or the maximum (a NaN wins, the first
/// maximum in row-major window order is the arg-max) of each window.
inline Matrix<double> pool(const Matrix<double>& x, const xg::Pool2dSpec& spec, bool max) {
    const Geo g = geo(spec);
    const std::size_t m = x.shape()[1];
    Matrix<double> y({g.C * g.Ho * g.Wo, m});
    for (std::size_t j = 0; j < m; ++j)
        for (std::size_t c = 0; c < g.C; ++c)
            for (std::size_t oh = 0; oh < g.Ho; ++oh)
                for (std::size_t ow = 0; ow < g.Wo; ++ow) {
                    double acc = max ? -std::numeric_limits<double>::infinity() : 0.0;
                    for (std::size_t a = 0; a < g.k; ++a)
                        for (std::size_t bb = 0; bb < g.k; ++bb) {
                            const double v = x((c * g.H + oh * g.s + a) * g.W + ow * g.s + bb, j);
                            if (!max) {
                                acc += v;
                            } else if (std::isnan(v) && !std::isnan(acc)) {
                                acc = v;
                            } else if (v > acc) {
                                acc = v;
                            }
                        }
                    y((c * g.Ho + oh) * g.Wo + ow, j) = max ? acc : acc / double(g.k * g.k);
                }
    return y;
}

/// The pooling adjoints: each dY entry to the arg-max of its window in X (max),
/// or dY / k² to each entry of its window (avg); overlapping windows add up.
inline Matrix<double> unpool(const Matrix<double>& dy, const Matrix<double>& x, const xg::Pool2dSpec& spec, bool max) {
    const Geo g = geo(spec);
    const std::size_t m = dy.shape()[1];
    Matrix<double> dx = xt::zeros<double>({g.C * g.H * g.W, m});
    for (std::size_t j = 0; j < m; ++j)
        for (std::size_t c = 0; c < g.C; ++c)
            for (std::size_t oh = 0; oh < g.Ho; ++oh)
                for (std::size_t ow = 0; ow < g.Wo; ++ow) {
                    const double d = dy((c * g.Ho + oh) * g.Wo + ow, j);
                    std::size_t best = 0;
                    double top = -std::numeric_limits<double>::infinity();
                    bool first = true;
                    for (std::size_t a = 0; a < g.k; ++a)
                        for (std::size_t bb = 0; bb < g.k; ++bb) {
                            const std::size_t row = (c * g.H + oh * g.s + a) * g.W + ow * g.s + bb;
                            if (!max) {
                                dx(row, j) += d / double(g.k * g.k);
                                continue;
                            }
                            const double v = x(row, j);
                            if (first || (std::isnan(v) && !std::isnan(top)) || v > top) {
                                top = v;
                                best = row;
                            }
                            first = false;
                        }
                    if (max) dx(best, j) += d;
                }
    return dx;
}

}  // namespace ref

namespace detail {

inline std::string size_text(std::size_t v) { return std::to_string(v); }

/// The rows of conv2d (every C, Kout ∈ {1, 2}, kernel 1–3, stride 1–2
/// up to the kernel, padding 0–1 below the kernel, on images of 4 × 5 to 5 × 7 that the
/// stride covers; and with a bias), of
/// max_pool2d and avg_pool2d (windows and strides that tile), with their
/// error cases: the image shape against X's rows, K's columns, the bias,
/// a kernel larger than the padded image, stride 0, zero channels, padding
/// as large as the kernel, windows that do not tile the image.
inline void add_image_rows(std::vector<Row>& t) {
    using xg::Conv2dSpec;
    using xg::Pool2dSpec;
    const auto conv_attr = [](Conv2dSpec s) {
        Attr a;
        a.conv = s;
        return a;
    };
    const auto pool_attr = [](Pool2dSpec s) {
        Attr a;
        a.pool = s;
        return a;
    };
    const Form conv = form("conv2d(Var,Var,Conv2dSpec)", [](const auto& v, const Attr& a) { return conv2d(v[0], v[1], a.conv); });
    const Form conv_b = form("conv2d(Var,Var,Var,Conv2dSpec)",
                             [](const auto& v, const Attr& a) { return conv2d(v[0], v[1], v[2], a.conv); });
    const auto make_conv = [&](std::size_t C, std::size_t kout, std::size_t k, std::size_t s, std::size_t p, bool bias) {
        // Images whose every pixel some output reads (a NaN anywhere must show):
        // 4 x 5 for stride 1; for stride 2, (H + 2p − k) and (W + 2p − k) even.
        const std::size_t H = s == 1 ? 4 : k % 2 ? 5 : 4, W = s == 1 ? 5 : k % 2 ? 7 : 6;
        const Conv2dSpec spec{{C, H, W}, k, s, p};
        Row r;
        r.name = std::string(bias ? "conv2d with bias" : "conv2d") + " (C=" + size_text(C) + " Kout=" + size_text(kout) +
                 " k=" + size_text(k) + " s=" + size_text(s) + " p=" + size_text(p) + ")";
        r.op = "conv2d";
        r.forms = {bias ? conv_b : conv};
        r.inputs = bias ? std::vector<std::string>{"X", "K", "b"} : std::vector<std::string>{"X", "K"};
        r.differentiable = std::vector<bool>(r.inputs.size(), true);
        r.domains = std::vector<Domain>(r.inputs.size(), any());
        r.shapes = [C, H, W, kout, k, bias](const Dims& d) {
            std::vector<Shape> s{{C * H * W, d.m}, {kout, C * k * k}};
            if (bias) s.push_back({kout, 1});
            return s;
        };
        r.reference = [bias](const Values& in, const Attr& a) {
            return ref::conv2d(in[0], in[1], bias ? &in[2] : nullptr, a.conv);
        };
        r.attr = conv_attr(spec);
        r.formula = bias ? "img(K · im2col(X) + b)" : "img(K · im2col(X))";
        r.grads = {"col2im(Kᵀ · img⁻¹(dY))", "img⁻¹(dY) · im2col(X)ᵀ"};
        if (bias) r.grads.push_back("Σ_columns img⁻¹(dY)");
        r.teach = [](Functions& f, const Values&, const Attr& a) {
            const ref::Geo g = ref::geo(a.conv);
            const std::size_t P = g.Ho * g.Wo;
            f["im2col"] = [g](const Matrix<double>& x) { return ref::im2col(x, g); };
            f["col2im"] = [g](const Matrix<double>& c) { return ref::col2im(c, g); };
            f["img"] = [P](const Matrix<double>& z) { return ref::img(z, P); };
            f["img⁻¹"] = [P](const Matrix<double>& y) { return ref::img_inv(y, P); };
        };
        return r;
    };
    bool first = true;
    for (std::size_t C : {1, 2})
        for (std::size_t kout : {1, 2})
            for (std::size_t k : {1, 2, 3})
                for (std::size_t s : {1, 2})
                    for (std::size_t p : {0, 1}) {
                        // A stride beyond the kernel skips pixels, where a NaN shows nowhere:
                        // tests/test_ops_image.cpp checks k = 1, s = 2.
                        if (p >= k || s > k) continue;
                        Row r = make_conv(C, kout, k, s, p, false);
                        if (first) {
                            const auto spec = [](xg::ImageShape im, std::size_t k, std::size_t s, std::size_t p) {
                                Attr a;
                                a.conv = Conv2dSpec{im, k, s, p};
                                return a;
                            };
                            r.errors = {
                                {"X's rows are not C*H*W", {{"X", some(21, 2)}, {"K", some(2, 9)}}, Raises::shape_error,
                                 "conv2d(X, K)", {"X has 21 rows, but C·H·W = 1·4·5 = 20", "X [21x2]", "K [2x9]"}, false,
                                 spec({1, 4, 5}, 3, 1, 1)},
                                {"K's columns are not C*k*k", {{"X", some(40, 2)}, {"K", some(2, 9)}}, Raises::shape_error,
                                 "conv2d(X, K)", {"K has 9 columns, but C·k·k = 2·3·3 = 18", "X [40x2]", "K [2x9]"},
                                 false, spec({2, 4, 5}, 3, 1, 1)},
                                {"a kernel larger than the padded image", {{"X", some(4, 2)}, {"K", some(2, 25)}},
                                 Raises::shape_error, "conv2d(X, K)",
                                 {"the kernel 5x5 is larger than the padded image 4x4",
                                  "H + 2·padding = 2 + 2·1 = 4"},
                                 false, spec({1, 2, 2}, 5, 1, 1)},
                                {"stride 0", {{"X", some(20, 2)}, {"K", some(2, 9)}}, Raises::shape_error, "conv2d(X, K)",
                                 {"the stride is 0 (it must be at least 1)"}, false, spec({1, 4, 5}, 3, 0, 1)},
                                {"zero channels", {{"X", some(20, 2)}, {"K", some(2, 9)}}, Raises::shape_error,
                                 "conv2d(X, K)", {"the image C·H·W = 0·4·5 has no entries"}, false, spec({0, 4, 5}, 3, 1, 1)},
                                {"a kernel of size 0", {{"X", some(20, 2)}, {"K", some(2, 1)}}, Raises::shape_error,
                                 "conv2d(X, K)", {"the kernel size is 0"}, false, spec({1, 4, 5}, 0, 1, 0)},
                                {"padding as large as the kernel", {{"X", some(20, 2)}, {"K", some(2, 4)}},
                                 Raises::shape_error, "conv2d(X, K)", {"padding 2 is not smaller than the kernel 2"}, false,
                                 spec({1, 4, 5}, 2, 1, 2)},
                            };
                            first = false;
                        }
                        t.push_back(r);
                    }
    {
        Row r = make_conv(2, 2, 3, 1, 1, true);
        r.errors = {
            {"a bias that is not Kout x 1", {{"X", some(40, 2)}, {"K", some(2, 18)}, {"b", some(1, 2)}},
             Raises::shape_error, "conv2d(X, K, b)", {"the bias b must be Kout x 1 = 2x1", "b [1x2]"}},
            {"a bias of another kernel count", {{"X", some(40, 2)}, {"K", some(2, 18)}, {"b", some(3, 1)}},
             Raises::shape_error, "conv2d(X, K, b)", {"the bias b must be Kout x 1 = 2x1", "b [3x1]"}},
        };
        t.push_back(r);
    }
    t.push_back(make_conv(1, 2, 2, 2, 0, true));
    t.push_back(make_conv(2, 1, 3, 2, 1, true));
    // Winograd's F(2×2, 3×3): padding 0, 1 and 2 on the 4 × 5 image give
    // 2 × 3, 4 × 5 and 6 × 7 outputs (half tiles where odd); the same formulas.
    for (std::size_t p : {0, 1, 2}) {
        Row r = make_conv(2, 2, 3, 1, p, p == 1);
        r.attr.conv.algorithm = xg::ConvAlgorithm::winograd;
        r.name.insert(r.name.size() - 1, " Winograd");
        if (p == 0) {
            Attr a;
            a.conv = Conv2dSpec{{1, 4, 5}, 2, 1, 0, xg::ConvAlgorithm::winograd};
            r.errors = {{"Winograd on a 2x2 kernel", {{"X", some(20, 2)}, {"K", some(2, 4)}}, Raises::shape_error,
                         "conv2d(X, K)", {"Winograd's F(2x2, 3x3) needs a 3x3 kernel of stride 1, not a 2x2 kernel of stride 1"},
                         false, a}};
        }
        t.push_back(r);
    }

    // ---- pooling
    struct Pool {
        std::size_t C, H, W, window, stride;
    };
    const Pool pools[] = {{1, 4, 6, 2, 2}, {2, 4, 5, 3, 1}, {2, 3, 4, 2, 1}, {1, 5, 7, 3, 2}};
    for (bool max : {true, false}) {
        const std::string op = max ? "max_pool2d" : "avg_pool2d";
        const Form f = max ? form("max_pool2d(Var,Pool2dSpec)", [](const auto& v, const Attr& a) { return max_pool2d(v[0], a.pool); })
                           : form("avg_pool2d(Var,Pool2dSpec)", [](const auto& v, const Attr& a) { return avg_pool2d(v[0], a.pool); });
        bool first_pool = true;
        for (const Pool& p : pools) {
            const Pool2dSpec spec{{p.C, p.H, p.W}, p.window, p.stride};
            Row r;
            r.name = op + " (C=" + size_text(p.C) + " " + size_text(p.H) + "x" + size_text(p.W) + " window=" +
                     size_text(p.window) + " s=" + size_text(p.stride) + ")";
            r.op = op;
            r.forms = {f};
            r.inputs = {"X"};
            r.differentiable = {true};
            r.domains = {any()};
            const std::size_t rows = p.C * p.H * p.W;
            r.shapes = [rows](const Dims& d) { return std::vector<Shape>{{rows, d.m}}; };
            r.reference = [max](const Values& in, const Attr& a) { return ref::pool(in[0], a.pool, max); };
            r.attr = pool_attr(spec);
            r.exact = max;
            r.formula = max ? "maxpool(X)" : "avgpool(X)";
            r.grads = {max ? "unpool_max(dY)" : "unpool_avg(dY)"};
            r.teach = [max](Functions& fs, const Values& in, const Attr& a) {
                const Pool2dSpec s = a.pool;
                const Matrix<double> x = in.at(0);
                fs[max ? "maxpool" : "avgpool"] = [s, max](const Matrix<double>& v) { return ref::pool(v, s, max); };
                fs[max ? "unpool_max" : "unpool_avg"] = [s, x, max](const Matrix<double>& dy) { return ref::unpool(dy, x, s, max); };
            };
            if (first_pool) {
                const auto spec_of = [](xg::ImageShape im, std::size_t w, std::size_t s) {
                    Attr a;
                    a.pool = Pool2dSpec{im, w, s};
                    return a;
                };
                const std::string call = op + "(X)";
                r.errors = {
                    {"windows that do not tile the image", {{"X", some(25, 2)}}, Raises::shape_error, call,
                     {"a window of 2 with stride 2 does not tile the image 5x5",
                      "H − window = 5 − 2 = 3 is not a multiple of the stride 2", "X [25x2]"},
                     false, spec_of({1, 5, 5}, 2, 2)},
                    {"X's rows are not C*H*W", {{"X", some(24, 2)}}, Raises::shape_error, call,
                     {"X has 24 rows, but C·H·W = 2·4·4 = 32", "X [24x2]"}, false, spec_of({2, 4, 4}, 2, 2)},
                    {"a window larger than the image", {{"X", some(9, 2)}}, Raises::shape_error, call,
                     {"the window 4x4 is larger than the image 3x3"}, false, spec_of({1, 3, 3}, 4, 1)},
                    {"stride 0", {{"X", some(16, 2)}}, Raises::shape_error, call, {"the stride is 0"}, false,
                     spec_of({1, 4, 4}, 2, 0)},
                    {"zero channels", {{"X", some(16, 2)}}, Raises::shape_error, call,
                     {"the image C·H·W = 0·4·4 has no entries"}, false, spec_of({0, 4, 4}, 2, 2)},
                };
                first_pool = false;
            }
            t.push_back(r);
        }
    }
}

}  // namespace detail

}  // namespace xgt::op_table

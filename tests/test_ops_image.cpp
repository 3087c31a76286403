// The image ops beyond their rows in the op table: conv2d against a direct
// seven-loop convolution on several shapes (large batches on the BLAS path,
// non-square images, strides that skip pixels), gradients of every small
// kernel/stride/padding/channel combination against finite differences,
// pooling against direct loops, the arg-max rule on ties and NaN, and the
// error messages with their arithmetic.
#include <doctest/doctest.h>

#include <limits>
#include <random>

#include "helpers.hpp"
#include "op_table.hpp"

using xg::Matrix;
using namespace xgt;
namespace ref = xgt::op_table::ref;

namespace {

/// A conv net's geometry in the test: C × H × W images, Kout kernels of k × k.
struct ConvCase {
    std::size_t C, H, W, kout, k, s, p, m;
};

}  // namespace

TEST_CASE("conv2d equals the direct seven-loop convolution, with and without bias, float64 and float32") {
    std::mt19937_64 rng(31);
    const ConvCase cases[] = {
        {1, 28, 28, 4, 3, 1, 1, 16},  // the Fashion-MNIST first layer: BLAS-sized
        {3, 9, 7, 5, 3, 2, 1, 6},     // non-square, stride 2
        {2, 6, 5, 3, 2, 1, 0, 1},     // one image
        {2, 5, 8, 2, 1, 2, 0, 3},     // a stride beyond the kernel: every other pixel
        {1, 7, 7, 2, 3, 2, 0, 4},     // (7 − 3) / 2: exact
        {1, 8, 8, 2, 3, 2, 0, 4},     // (8 − 3) / 2 floors: the last row and column are not read
        {4, 4, 4, 8, 4, 1, 2, 5},     // padding 2 on a 4 x 4 kernel: a 5 x 5 output
        {16, 14, 14, 8, 5, 1, 2, 3},  // the usual second layer
    };
    for (const ConvCase& c : cases) {
        CAPTURE(c.C);
        CAPTURE(c.H);
        CAPTURE(c.W);
        CAPTURE(c.k);
        CAPTURE(c.s);
        CAPTURE(c.p);
        const xg::Conv2dSpec spec{{c.C, c.H, c.W}, c.k, c.s, c.p};
        const Matrix<double> x = randn(c.C * c.H * c.W, c.m, rng), k = randn(c.kout, c.C * c.k * c.k, rng),
                             b = randn(c.kout, 1, rng);
        const Matrix<double> want = ref::conv2d(x, k, nullptr, spec), want_b = ref::conv2d(x, k, &b, spec);
        const xg::ImageShape out = xg::conv2d_output(spec, c.kout);
        CHECK(out.channels == c.kout);
        CHECK(out.height == (c.H + 2 * c.p - c.k) / c.s + 1);
        CHECK(out.width == (c.W + 2 * c.p - c.k) / c.s + 1);
        CHECK(want.shape()[0] == out.channels * out.height * out.width);
        xg::Graph<double> g;
        auto X = g.input(x, "X");
        auto K = g.parameter(k, "K");
        auto B = g.parameter(b, "b");
        auto Y = conv2d(X, K, spec);
        auto Yb = conv2d(X, K, B, spec);
        REQUIRE(xg::shape_of(Y.value()) == xg::shape_of(want));
        CHECK(rel_err(Y.value(), want) <= 1e-12);
        CHECK(rel_err(Yb.value(), want_b) <= 1e-12);
        xg::Graph<float> gf;
        auto Yf = conv2d(gf.input(to_float(x)), gf.parameter(to_float(k)), gf.parameter(to_float(b)), spec);
        CHECK(rel_err(Yf.value(), want_b) <= 1e-5);
    }
}

TEST_CASE("conv2d gradients: every C, Kout in {1, 2}, kernel 1-3, stride 1-2, padding 0-1, against finite differences") {
    std::mt19937_64 rng(32);
    std::size_t checked = 0;
    for (std::size_t C : {1, 2})
        for (std::size_t kout : {1, 2})
            for (std::size_t k : {1, 2, 3})
                for (std::size_t s : {1, 2})
                    for (std::size_t p : {0, 1})
                        for (bool bias : {false, true}) {
                            if (p >= k) continue;
                            CAPTURE(C);
                            CAPTURE(kout);
                            CAPTURE(k);
                            CAPTURE(s);
                            CAPTURE(p);
                            CAPTURE(bias);
                            // 5 x 6: with stride 2 some rows or columns are not read (their gradient is 0).
                            const xg::Conv2dSpec spec{{C, 5, 6}, k, s, p};
                            xg::Graph<double> g;
                            auto X = g.parameter(randn(C * 30, 3, rng), "X");
                            auto K = g.parameter(randn(kout, C * k * k, rng), "K");
                            auto Y = bias ? conv2d(X, K, g.parameter(randn(kout, 1, rng), "b"), spec) : conv2d(X, K, spec);
                            auto J = weighted_sum(Y, rng);
                            xg::GradCheckOptions o;
                            o.rtol = 1e-6;
                            check_grads(g, J, o);
                            // dX is col2im(Kᵀ · img⁻¹(dY)): against the plain loops of the formula.
                            g.backward(J);
                            const ref::Geo geo = ref::geo(spec);
                            const Matrix<double> dz = ref::img_inv(Y.grad(), geo.Ho * geo.Wo);
                            CHECK(rel_err(X.grad(), ref::col2im(ref_matmul(ref_transpose(K.value()), dz), geo)) <= 1e-12);
                            CHECK(rel_err(K.grad(), ref_matmul(dz, ref_transpose(ref::im2col(X.value(), geo)))) <= 1e-12);
                            ++checked;
                        }
    CHECK(checked == 80);
}

TEST_CASE("conv2d's adjoints on batches whose dX is computed in several bands of output rows, with the bias in the gemm") {
    // dX = col2im(Kᵀ · dY) runs a band of output rows at a time (about 2^18
    // im2col entries: here 27·16·200 = 86 400 per output row, so bands of 3
    // rows, the last one shorter; with stride 2, 27·8·200 per row, bands of
    // 6); dK and db come from one gemm over [im2col(X); 1].
    std::mt19937_64 rng(36);
    for (std::size_t s : {1, 2}) {
        CAPTURE(s);
        const xg::Conv2dSpec spec{{3, 16, 16}, 3, s, 1};
        xg::Graph<double> g;
        auto X = g.parameter(randn(3 * 256, 200, rng), "X");
        auto K = g.parameter(randn(5, 27, rng), "K");
        auto b = g.parameter(randn(5, 1, rng), "b");
        auto Y = conv2d(X, K, b, spec);
        auto J = weighted_sum(Y, rng);
        g.backward(J);
        const ref::Geo geo = ref::geo(spec);
        const Matrix<double> dz = ref::img_inv(Y.grad(), geo.Ho * geo.Wo);
        CHECK(rel_err(Y.value(), ref::conv2d(X.value(), K.value(), &b.value(), spec)) <= 1e-12);
        CHECK(rel_err(X.grad(), ref::col2im(ref_matmul(ref_transpose(K.value()), dz), geo)) <= 1e-12);
        CHECK(rel_err(K.grad(), ref_matmul(dz, ref_transpose(ref::im2col(X.value(), geo)))) <= 1e-12);
        Matrix<double> db({5, 1});
        for (std::size_t r = 0; r < 5; ++r) {
            double acc = 0;
            for (std::size_t q = 0; q < dz.shape()[1]; ++q) acc += dz(r, q);
            db(r, 0) = acc;
        }
        CHECK(rel_err(b.grad(), db) <= 1e-12);
    }
}

TEST_CASE("conv2d by Winograd's F(2x2, 3x3) equals the direct convolution, and its gradients im2col's, over several chunks of tiles") {
    // Odd output sizes (half tiles at the bottom and right), padding 0-2, a
    // 1 x 1 image read through padding 2, the automatic choice's sizes;
    // 64 → 64 channels on 100 images, whose tasks take a tile and 64 or 36
    // images; 64 → 64 on 18 x 18, 81 tiles in two chunks of tasks; and
    // 256 → 256 channels, whose products are too large for tasks (whole
    // chunks on OpenBLAS's threads), 25 tiles in two chunks. X and K feed
    // two convolutions each, so dX and dK accumulate.
    std::mt19937_64 rng(37);
    struct W {
        std::size_t C, H, W, kout, p, m;
    };
    const W cases[] = {{1, 4, 5, 2, 0, 3},        {3, 9, 7, 5, 1, 6},      {2, 1, 1, 3, 2, 2},
                       {2, 2, 3, 3, 1, 1},        {16, 14, 14, 16, 1, 5},  {64, 12, 11, 64, 1, 64},
                       {64, 5, 6, 64, 1, 100},    {64, 18, 18, 64, 1, 64}, {256, 10, 10, 256, 1, 64}};
    for (const W& c : cases) {
        CAPTURE(c.C);
        CAPTURE(c.H);
        CAPTURE(c.W);
        CAPTURE(c.kout);
        CAPTURE(c.p);
        CAPTURE(c.m);
        const Matrix<double> x = randn(c.C * c.H * c.W, c.m, rng), k = randn(c.kout, c.C * 9, rng),
                             k2 = randn(c.kout, c.C * 9, rng), b = randn(c.kout, 1, rng);
        const xg::ImageShape out = xg::conv2d_output({{c.C, c.H, c.W}, 3, 1, c.p}, c.kout);
        const std::size_t rows = out.channels * out.height * out.width;
        const Matrix<double> r1 = randn(rows, c.m, rng), r2 = randn(rows, c.m, rng);
        struct Run {
            Matrix<double> y, dx, dk, dk2, db;
        };
        const auto run = [&](xg::ConvAlgorithm a) {
            const xg::Conv2dSpec spec{{c.C, c.H, c.W}, 3, 1, c.p, a};
            xg::Graph<double> g;
            auto X = g.parameter(x, "X");
            auto K = g.parameter(k, "K");
            auto K2 = g.parameter(k2, "K2");
            auto B = g.parameter(b, "b");
            auto Y = conv2d(X, K, B, spec);
            auto J = sum(Y * g.input(r1, "R1")) + sum(conv2d(X, K2, spec) * g.input(r2, "R2")) +
                     sum(conv2d(X, K, spec) * g.input(r1, "R1b"));
            g.backward(J);
            // A replay: the scratch buffers hold the last step's numbers.
            g.forward();
            g.backward(J);
            return Run{Y.value(), X.grad(), K.grad(), K2.grad(), B.grad()};
        };
        const Run w = run(xg::ConvAlgorithm::winograd), i = run(xg::ConvAlgorithm::im2col);
        if (c.C * c.kout * rows * c.m < 2000000) {
            CHECK(rel_err(w.y, ref::conv2d(x, k, &b, {{c.C, c.H, c.W}, 3, 1, c.p})) <= 1e-12);
        }
        CHECK(rel_err(w.y, i.y) <= 1e-12);
        CHECK(rel_err(w.dx, i.dx) <= 1e-12);
        CHECK(rel_err(w.dk, i.dk) <= 1e-12);
        CHECK(rel_err(w.dk2, i.dk2) <= 1e-12);
        CHECK(rel_err(w.db, i.db) <= 1e-12);
        // float32: within a few units in the last place of the largest entry.
        const xg::Conv2dSpec spec{{c.C, c.H, c.W}, 3, 1, c.p, xg::ConvAlgorithm::winograd};
        xg::Graph<float> gf;
        auto Yf = conv2d(gf.input(to_float(x)), gf.parameter(to_float(k)), gf.parameter(to_float(b)), spec);
        CHECK(rel_err(Yf.value(), i.y) <= 1e-5);
    }
}

TEST_CASE("conv2d by Winograd: gradients against finite differences for padding 0-2, with and without bias") {
    std::mt19937_64 rng(38);
    for (std::size_t p : {0, 1, 2})
        for (bool bias : {false, true}) {
            CAPTURE(p);
            CAPTURE(bias);
            const xg::Conv2dSpec spec{{2, 5, 4}, 3, 1, p, xg::ConvAlgorithm::winograd};
            xg::Graph<double> g;
            auto X = g.parameter(randn(40, 3, rng), "X");
            auto K = g.parameter(randn(3, 18, rng), "K");
            auto Y = bias ? conv2d(X, K, g.parameter(randn(3, 1, rng), "b"), spec) : conv2d(X, K, spec);
            auto J = weighted_sum(Y, rng);
            xg::GradCheckOptions o;
            o.rtol = 1e-6;
            check_grads(g, J, o);
        }
}

TEST_CASE("conv2d: pixels a stride does not reach get a zero gradient; replays with new data and a new batch size") {
    std::mt19937_64 rng(33);
    // 1 x 4 x 4, kernel 1, stride 2: only pixels (0, 0), (0, 2), (2, 0), (2, 2) are read.
    const xg::Conv2dSpec spec{{1, 4, 4}, 1, 2, 0};
    xg::Graph<double> g;
    auto X = g.parameter(randn(16, 2, rng), "X");
    auto K = g.parameter(Matrix<double>{{3.0}}, "K");
    auto J = sum(conv2d(X, K, spec));
    g.backward(J);
    for (std::size_t r = 0; r < 16; ++r) {
        const bool read = (r / 4) % 2 == 0 && (r % 4) % 2 == 0;
        CHECK(X.grad()(r, 0) == (read ? 3.0 : 0.0));
    }
    // New data of another batch size: the same graph replays and still equals the loops.
    const xg::Conv2dSpec spec2{{2, 5, 5}, 3, 1, 1};
    xg::Graph<double> h;
    auto X2 = h.input(randn(50, 4, rng), "X");
    auto K2 = h.parameter(randn(3, 18, rng), "K");
    auto Y2 = conv2d(X2, K2, spec2);
    for (std::size_t m : {7, 1, 4}) {
        h.set_value(X2, randn(50, m, rng));
        h.forward();
        CHECK(rel_err(Y2.value(), ref::conv2d(X2.value(), K2.value(), nullptr, spec2)) <= 1e-12);
    }
}

TEST_CASE("max_pool2d and avg_pool2d equal direct loops; gradients against finite differences") {
    std::mt19937_64 rng(34);
    struct P {
        std::size_t C, H, W, w, s, m;
    };
    for (const P& p : {P{1, 28, 28, 2, 2, 8}, P{3, 6, 8, 2, 2, 5}, P{2, 7, 5, 3, 2, 3}, P{2, 5, 6, 2, 1, 2},
                       P{1, 4, 4, 4, 1, 3}, P{4, 9, 9, 3, 3, 2}}) {
        CAPTURE(p.C);
        CAPTURE(p.H);
        CAPTURE(p.W);
        CAPTURE(p.w);
        CAPTURE(p.s);
        const xg::Pool2dSpec spec{{p.C, p.H, p.W}, p.w, p.s};
        const xg::ImageShape out = xg::pool2d_output(spec);
        CHECK(out.channels == p.C);
        CHECK(out.height == (p.H - p.w) / p.s + 1);
        CHECK(out.width == (p.W - p.w) / p.s + 1);
        for (bool max : {true, false}) {
            CAPTURE(max);
            xg::Graph<double> g;
            auto X = g.parameter(randn(p.C * p.H * p.W, p.m, rng), "X");
            auto Y = max ? max_pool2d(X, spec) : avg_pool2d(X, spec);
            const Matrix<double> want = ref::pool(X.value(), spec, max);
            REQUIRE(xg::shape_of(Y.value()) == xg::shape_of(want));
            CHECK(rel_err(Y.value(), want) <= 1e-15);
            CHECK(want.shape()[0] == out.channels * out.height * out.width);
            auto J = weighted_sum(Y, rng);
            if (p.H * p.W * p.C * p.m <= 600) check_grads(g, J);
            g.backward(J);
            CHECK(rel_err(X.grad(), ref::unpool(Y.grad(), X.value(), spec, max)) <= 1e-15);
        }
    }
}

TEST_CASE("max_pool2d: on ties the first maximum in row-major window order takes the gradient; NaN wins its window") {
    // One 2 x 4 image, two 2 x 2 windows: [1 3 | 5 5]
    //                                      [3 2 | 5 4]
    const double nan = std::numeric_limits<double>::quiet_NaN();
    xg::Graph<double> g;
    auto X = g.parameter(Matrix<double>{{1}, {3}, {5}, {5}, {3}, {2}, {5}, {4}}, "X");
    auto Y = max_pool2d(X, {{1, 2, 4}, 2, 2});
    CHECK(Y.value() == Matrix<double>{{3}, {5}});
    g.backward(sum(Y));
    // Window 1: the 3 at (0, 1) comes before the 3 at (1, 0); window 2: the 5 at (0, 2).
    CHECK(X.grad() == Matrix<double>{{0}, {1}, {1}, {0}, {0}, {0}, {0}, {0}});
    // Overlapping windows (stride 1) add up at a shared maximum: the 9 is the
    // maximum of all four 2 x 2 windows of this 3 x 3 image.
    xg::Graph<double> h;
    auto V = h.parameter(Matrix<double>{{0}, {1}, {0}, {1}, {9}, {1}, {0}, {1}, {0}}, "V");
    auto M = max_pool2d(V, {{1, 3, 3}, 2, 1});
    CHECK(M.value() == Matrix<double>{{9}, {9}, {9}, {9}});
    h.backward(sum(M));
    CHECK(V.grad() == Matrix<double>{{0}, {0}, {0}, {0}, {4}, {0}, {0}, {0}, {0}});
    // A NaN is the maximum of its window and takes the gradient (its first NaN).
    xg::Graph<double> k;
    auto N = k.parameter(Matrix<double>{{1}, {nan}, {7}, {nan}}, "N");
    auto Q = max_pool2d(N, {{1, 2, 2}, 2, 2});
    CHECK(std::isnan(Q.value()(0, 0)));
    k.backward(sum(Q));
    CHECK(N.grad() == Matrix<double>{{0}, {1}, {0}, {0}});
}

TEST_CASE("image ops: errors name the op, the nodes, the image shape and the arithmetic, and add no node") {
    xg::Graph<double> g;
    auto X = g.input(Matrix<double>(xt::zeros<double>({785, 5})), "X");
    auto K = g.parameter(Matrix<double>(xt::zeros<double>({4, 9})), "K");
    const std::size_t before = g.size();
    const std::string m1 = message_of<xg::ShapeError>([&] { conv2d(X, K, {{1, 28, 28}, 3, 1, 1}); });
    CHECK(m1 == "conv2d(X, K): X has 785 rows, but C·H·W = 1·28·28 = 784: X [785x5], K [4x9]");
    const std::string m2 = message_of<xg::ShapeError>([&] { max_pool2d(X, {{1, 28, 28}, 2, 2}); });
    CHECK(contains(m2, "max_pool2d(X): X has 785 rows, but C·H·W = 1·28·28 = 784"));
    const std::string m3 = message_of<xg::ShapeError>([&] { avg_pool2d(X, {{5, 157, 1}, 1, 0}); });
    CHECK(contains(m3, "avg_pool2d(X): the stride is 0 (it must be at least 1)"));
    CHECK(g.size() == before);
    CHECK_THROWS_WITH_AS(xg::conv2d_output({{1, 3, 3}, 5, 1, 0}, 2),
                         "conv2d: the kernel 5x5 is larger than the padded image 3x3 (H + 2·padding = 3 + 2·0 = 3, W + "
                         "2·padding = 3 + 2·0 = 3)",
                         xg::ShapeError);
    CHECK_THROWS_AS(xg::conv2d_output({{1, 3, 3}, 3, 1, 0}, 0), xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::pool2d_output({{1, 28, 28}, 3, 2}),
                         "pool2d: a window of 3 with stride 2 does not tile the image 28x28: H − window = 28 − 3 = 25 "
                         "is not a multiple of the stride 2",
                         xg::ShapeError);
    // Winograd computes 3 x 3 kernels of stride 1 only.
    CHECK_THROWS_WITH_AS(xg::conv2d_output({{1, 9, 9}, 3, 2, 1, xg::ConvAlgorithm::winograd}, 2),
                         "conv2d: Winograd's F(2x2, 3x3) needs a 3x3 kernel of stride 1, not a 3x3 kernel of stride 2 "
                         "(ConvAlgorithm::automatic or im2col computes any)",
                         xg::ShapeError);
    auto X5 = g.input(Matrix<double>(xt::zeros<double>({25, 2})), "X5");
    auto K5 = g.parameter(Matrix<double>(xt::zeros<double>({2, 25})), "K5");
    const std::size_t with_x5 = g.size();
    const std::string m4 =
        message_of<xg::ShapeError>([&] { conv2d(X5, K5, {{1, 5, 5}, 5, 1, 0, xg::ConvAlgorithm::winograd}); });
    CHECK(m4 == "conv2d(X5, K5): Winograd's F(2x2, 3x3) needs a 3x3 kernel of stride 1, not a 5x5 kernel of stride 1 "
                "(ConvAlgorithm::automatic or im2col computes any): X5 [25x2], K5 [2x25]");
    CHECK(g.size() == with_x5);
    CHECK(conv2d(X5, K5, {{1, 5, 5}, 5, 1, 0, xg::ConvAlgorithm::im2col}).value().shape()[0] == 2);
    // Sizes whose product overflows are refused, not wrapped.
    const std::size_t huge = std::size_t(1) << 40;
    CHECK_THROWS_AS(conv2d(X, K, {{huge, huge, 1}, 1, 1, 0}), xg::ShapeError);
    CHECK(g.size() == with_x5 + 1);
}

// Convolution and pooling on the one-column-per-image layout: a small conv
// net on four 1 × 6 × 6 images, its shapes, the equations explain prints for
// it, the gradient checker's verdict, and the same convolution by Winograd's
// algorithm. Shown in docs/ops.md.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include <xgrad/xgrad.hpp>

int main() {
    xg::Rng rng(3);
    xg::Graph<double> g;
    // Four 6 × 6 grey images, one per column: 1·6·6 = 36 rows.
    auto X = g.input(xg::randn<double>(36, 4, rng), "X");
    auto y = g.input(xg::Matrix<double>{{0, 1, 1, 0}}, "y");
    auto K = g.parameter(xg::Matrix<double>(0.3 * xg::randn<double>(3, 1 * 3 * 3, rng)), "K");  // 3 kernels of 3 × 3
    auto b = g.parameter(xg::Matrix<double>{{0.1}, {0.0}, {-0.1}}, "b");                    // one bias per kernel
    auto W = g.parameter(xg::Matrix<double>(0.3 * xg::randn<double>(2, 3 * 3 * 3, rng)), "W");

    const xg::Conv2dSpec conv{{1, 6, 6}, 3, 1, 1};  // image C, H, W; kernel 3, stride 1, padding 1
    auto Z = conv2d(X, K, b, conv).named("Z");      // 3·6·6 × 4
    auto A = relu(Z).named("A");
    auto P = max_pool2d(A, {{3, 6, 6}, 2, 2}).named("P");  // 3·3·3 × 4: windows 2 × 2, stride 2
    auto J = softmax_cross_entropy(matmul(W, P), y).named("J");  // flattening P is the identity

    const xg::ImageShape out = xg::conv2d_output(conv, 3);
    const xg::ImageShape pooled = xg::pool2d_output({{3, 6, 6}, 2, 2});
    std::printf("Z: %zu x %zu (images of %zu x %zu x %zu), P: %zu x %zu (%zu x %zu x %zu)\n", Z.shape().rows,
                Z.shape().cols, out.channels, out.height, out.width, P.shape().rows, P.shape().cols, pooled.channels,
                pooled.height, pooled.width);
    std::printf("%s", xg::explain(J).c_str());
    const xg::GradCheckReport report = xg::check_gradients(g, J);
    std::printf("gradient check: %s\n", report.ok() ? "ok" : "FAILED");

    // The same convolution by Winograd's F(2×2, 3×3), 2.25 × fewer
    // multiply-adds than im2col's gemm: the same values to rounding.
    xg::Conv2dSpec fast = conv;
    fast.algorithm = xg::ConvAlgorithm::winograd;
    auto Zw = conv2d(X, K, b, fast);
    double diff = 0;
    for (std::size_t i = 0; i < Z.value().size(); ++i)
        diff = std::max(diff, std::abs(Zw.value().data()[i] - Z.value().data()[i]));
    std::printf("Winograd's Z differs from im2col's by %s\n", diff < 1e-14 ? "less than 1e-14" : "1e-14 or more");

    // A mistake is a ShapeError that names the image shape and the arithmetic.
    try {
        conv2d(X, K, {{1, 28, 28}, 3, 1, 1});
    } catch (const xg::ShapeError& e) {
        std::printf("%s\n", e.what());
    }
    return report.ok() ? 0 : 1;
}

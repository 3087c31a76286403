// What a node costs: the heap bytes per node of a long chain of small
// (1 × 1) nodes, counted at the malloc level by bench/heap_meter.cpp, once
// built, after the first backward() and after a replayed step; and what a
// second shape of the input adds (the buffers each node keeps for it). Shown in
// docs/concepts.md. Under AddressSanitizer, which owns malloc, the meter
// counts nothing: the program then says so and exits with status 77
// ("skipped"), and the docs check leaves its output alone.
#include <cmath>
#include <cstdio>
#include <memory>

#include <xgrad/xgrad.hpp>

#include "heap_meter.hpp"

namespace {

/// x rounded to the nearest multiple of `unit`.
double rounded(double x, double unit) { return std::round(x / unit) * unit; }

}  // namespace

int main() {
    if (bench::heap::live_bytes() == 0) {
        std::fprintf(stderr, "node_memory: the heap meter is off in this build (AddressSanitizer): not measured\n");
        return 77;
    }
    // A chain of n small nodes, y = tanh(tanh(… tanh(w) …)), each value 1 × 1.
    const std::size_t n = 100000;
    const std::size_t before = bench::heap::live_bytes();
    auto g = std::make_unique<xg::Graph<double>>();
    const xg::Parameter<double> w(xg::Matrix<double>{{0.5}}, "w");
    xg::Var<double> y = g->parameter(w);
    for (std::size_t k = 0; k < n; ++k) y = tanh(y);
    const double built = double(bench::heap::live_bytes() - before) / double(n + 1);
    g->backward(y);  // the gradient buffers and the plan of the sweep
    const double swept = double(bench::heap::live_bytes() - before) / double(n + 1);
    g->forward();
    g->backward(y);  // a replayed step
    const double replayed = double(bench::heap::live_bytes() - before) / double(n + 1);
    g.reset();

    // The same chain on an input that takes a second shape, 1 × 2 after
    // 1 × 1, as the smaller last batch of an epoch does: then each node keeps
    // the buffers of both shapes, and alternating between them allocates nothing.
    const std::size_t start = bench::heap::live_bytes();
    auto h = std::make_unique<xg::Graph<double>>();
    const xg::Var<double> x = h->input(xg::Matrix<double>{{0.5}}, "x", /*requires_grad=*/true);
    xg::Var<double> z = x;
    for (std::size_t k = 0; k < n; ++k) z = tanh(z);
    const xg::Var<double> J = sum(z);
    h->backward(J);
    const double one_shape = double(bench::heap::live_bytes() - start) / double(n + 2);
    h->set_value(x, xg::Matrix<double>{{0.5, 0.25}});
    h->forward();
    h->backward(J);
    const double two_shapes = double(bench::heap::live_bytes() - start) / double(n + 2);
    for (const xg::Matrix<double>& next : {xg::Matrix<double>{{0.5}}, xg::Matrix<double>{{0.5, 0.25}}}) {
        h->set_value(x, next);
        h->forward();
        h->backward(J);
    }
    const double alternated = double(bench::heap::live_bytes() - start) / double(n + 2);

    std::printf("a chain of %zu nodes of 1 x 1, heap bytes per node:\n", n + 1);
    std::printf("  built:                        about %.0f (%.1f KB)\n", rounded(built, 100), rounded(built, 100) / 1000);
    std::printf("  the first backward() adds:    about %.0f\n", rounded(swept - built, 10));
    std::printf("  a replayed step adds:         %.0f\n", replayed - swept);
    std::printf("the same chain on an input of 1 x 1, then 1 x 2:\n");
    std::printf("  a step of the second shape adds:  about %.0f\n", rounded(two_shapes - one_shape, 10));
    std::printf("  alternating the two adds:         %.0f\n", alternated - two_shapes);
}

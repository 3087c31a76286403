// The recurrent workload of bench/lstm.hpp in xgrad: one training step of an
// LSTM (hidden 256, batch 64, T = 32, float32) unrolled in one graph, per
// iteration; the counter allocs_per_step is the heap allocations of a
// replayed step (0: the graph reuses every buffer). bench_lstm_libtorch times
// LibTorch's LSTMCell unrolled the same way, beside this one, for the ratio.
//
// embedding_backward/V/clear_all times one reverse sweep of
// J = Σ E[:, ids] ⊙ R (E of 256 × V, 2048 ids: the tokens of a 64 × 32 batch)
// when E's gradient must be cleared whole before the scatter (write access to
// E.grad() since the last sweep); embedding_backward/V/clear_written the
// same sweep replayed, clearing only the columns the last one wrote. The
// second should not grow with V.
//
//   build/bench/bench_lstm [google-benchmark flags]
#include <benchmark/benchmark.h>

#include <cstdio>
#include <random>
#include <utility>

#include "xgrad/xgrad.hpp"

#include "heap_meter.hpp"
#include "lstm.hpp"

namespace {

void lstm_xgrad(benchmark::State& st) {
    static const bench::lstm::Problem problem;
    auto step = bench::lstm::make_xgrad(problem);
    double loss = step->step();  // the first step sizes every buffer
    const std::size_t before = bench::heap::allocations();
    loss = step->step();
    const std::size_t allocs = bench::heap::allocations() - before;
    for (auto _ : st) benchmark::DoNotOptimize(loss = step->step());
    st.counters["allocs_per_step"] = double(allocs);
    st.counters["loss"] = loss;
}
BENCHMARK(lstm_xgrad)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(0.5);

void embedding_backward(benchmark::State& st) {
    const std::size_t d = 256, m = 2048, V = std::size_t(st.range(0));
    const bool clear_all = st.range(1) != 0;
    std::mt19937_64 rng(7);
    std::normal_distribution<float> normal;
    xg::Matrix<float> E0({d, V}), R0({d, m}), ids0({std::size_t(1), m});
    for (float& v : E0) v = normal(rng);
    for (float& v : R0) v = normal(rng);
    for (float& v : ids0) v = float(rng() % V);
    xg::Parameter<float> E(E0, "E");
    xg::Graph<float> g;
    auto J = xg::sum(xg::embedding(g.parameter(E), g.input(ids0, "ids")) * g.input(R0, "R"));
    g.backward(J);
    for (auto _ : st) {
        if (clear_all) E.grad();  // write access: the columns written last are forgotten
        g.backward(J);
        benchmark::DoNotOptimize(std::as_const(E).grad().data());
    }
    st.counters["known_columns"] = E.grad_columns().known ? 1 : 0;
}
BENCHMARK(embedding_backward)
    ->ArgNames({"V", "clear_all"})
    ->ArgsProduct({{1000, 100000}, {1, 0}})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime()
    ->MinTime(0.3);

}  // namespace

BENCHMARK_MAIN();

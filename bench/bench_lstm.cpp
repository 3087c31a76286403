// The recurrent workload of bench/lstm.hpp in xgrad: one training step of an
// LSTM (hidden 256, batch 64, T = 32, float32) unrolled in one graph, per
// iteration; the counter allocs_per_step is the heap allocations of a
// replayed step (0: the graph reuses every buffer). bench_lstm_libtorch times
// LibTorch's LSTMCell unrolled the same way, beside this one, for the ratio.
//
//   build/bench/bench_lstm [google-benchmark flags]
#include <benchmark/benchmark.h>

#include <cstdio>

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

}  // namespace

BENCHMARK_MAIN();

// The real-sized workload of bench/mlp.hpp in xgrad: one epoch of the
// 784 → 256 → 128 → 10 MLP (mini-batches of 128, Adam) per iteration, in
// float64 and float32. Before timing it prints the losses of the first
// batches (taken in order), which bench_libtorch and bench_pytorch.py check
// their own against.
//
//   build/bench/bench_mlp [--examples=N] [google-benchmark flags]
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "mlp.hpp"

namespace {

template <class T>
const char* type_name() { return sizeof(T) == 8 ? "float64" : "float32"; }

template <class T>
void register_type(std::size_t m) {
    const bench::mlp::Data<T> check(bench::mlp::check_batches * bench::mlp::batch_size);
    const std::vector<double> losses = bench::mlp::make_xgrad(check, false)->run(bench::mlp::check_batches);
    std::fprintf(stderr, "mlp %s xgrad losses of the first %zu batches:", type_name<T>(), losses.size());
    for (double l : losses) std::fprintf(stderr, " %.10f", l);
    std::fprintf(stderr, "\n");
    const std::string name = std::string("mlp/") + type_name<T>() + "/xgrad";
    const double last = losses.back();
    benchmark::RegisterBenchmark(name.c_str(), [m, last](benchmark::State& st) {
        static const bench::mlp::Data<T> data(m);  // drawn once, shared by the repetitions
        auto trainer = bench::mlp::make_xgrad(data, true);
        for (auto _ : st) benchmark::DoNotOptimize(trainer->run());
        st.counters["loss_check"] = last;
        st.counters["examples"] = double(m);
    })->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(0.1);
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t m = bench::mlp::examples;
    std::vector<char*> args;
    for (int i = 0; i < argc; ++i) {
        if (!std::strncmp(argv[i], "--examples=", 11)) m = std::strtoul(argv[i] + 11, nullptr, 10);
        else args.push_back(argv[i]);
    }
    if (m < bench::mlp::batch_size) {
        std::fprintf(stderr, "--examples must be at least one batch (%zu)\n", bench::mlp::batch_size);
        return 2;
    }
    int n = int(args.size());
    benchmark::Initialize(&n, args.data());
    register_type<double>(m);
    register_type<float>(m);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}

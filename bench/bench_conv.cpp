// The convolution workloads of bench/cnn.hpp in xgrad, float32 and float64:
//
//   conv/L1|L2/TYPE/xgrad   one iteration of a conv layer (conv2d + bias,
//                           relu, max_pool2d, J = Σ): set the input, forward,
//                           backward — batch 128 (ConvAlgorithm::automatic:
//                           Winograd for L2, im2col for L1)
//   conv/L1|L2/TYPE/xgrad_im2col, conv/L1|L2/TYPE/xgrad_winograd
//                           the same layer with the algorithm forced
//   cnn/TYPE/xgrad          one training step of the Fashion-MNIST CNN
//                           (forward, backward, Adam) — batch 128
//
// Each benchmark reports the heap allocations per iteration once warm
// (allocs_per_step; bench/heap_meter.cpp counts every malloc of the process,
// OpenBLAS's own included). bench_libtorch times the same workloads in
// LibTorch beside xgrad's and checks that the two agree.
//
//   build/bench/bench_conv [google-benchmark flags]
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <utility>

#include "cnn.hpp"
#include "heap_meter.hpp"

namespace {

template <class T>
const char* type_name() { return sizeof(T) == 8 ? "float64" : "float32"; }

/// Heap allocations per iteration of `r` after two warm-up iterations.
double allocations_per_step(bench::cnn::Runner& r) {
    r.step();
    r.step();
    const std::size_t before = bench::heap::allocations();
    for (int k = 0; k < 10; ++k) r.step();
    return double(bench::heap::allocations() - before) / 10.0;
}

template <class T>
void register_type() {
    using xg::ConvAlgorithm;
    const std::pair<const char*, ConvAlgorithm> algorithms[] = {
        {"xgrad", ConvAlgorithm::automatic}, {"xgrad_im2col", ConvAlgorithm::im2col}, {"xgrad_winograd", ConvAlgorithm::winograd}};
    for (const bench::cnn::ConvShape& s : bench::cnn::conv_shapes) {
        for (const auto& [variant, algorithm] : algorithms) {
            const std::string name = std::string("conv/") + s.name + "/" + type_name<T>() + "/" + variant;
            const ConvAlgorithm a = algorithm;
            benchmark::RegisterBenchmark(name.c_str(), [s, a](benchmark::State& st) {
                const bench::cnn::ConvData<T> data(s);
                auto r = bench::cnn::make_xgrad_conv(data, a);
                st.counters["allocs_per_step"] = allocations_per_step(*r);
                for (auto _ : st) benchmark::DoNotOptimize(r->step());
            })->Unit(benchmark::kMicrosecond)->UseRealTime()->MinTime(0.2);
        }
    }
    const std::string name = std::string("cnn/") + type_name<T>() + "/xgrad";
    benchmark::RegisterBenchmark(name.c_str(), [](benchmark::State& st) {
        const bench::cnn::CnnData<T> data;
        auto r = bench::cnn::make_xgrad_cnn(data);
        st.counters["allocs_per_step"] = allocations_per_step(*r);
        for (auto _ : st) benchmark::DoNotOptimize(r->step());
    })->Unit(benchmark::kMicrosecond)->UseRealTime()->MinTime(0.2);
}

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    register_type<float>();
    register_type<double>();
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}

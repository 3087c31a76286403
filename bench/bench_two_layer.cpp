// One training step of the two-layer network (forward replay with the cost,
// backward, gradient-descent update) at three sizes, in float64 and float32:
// xgrad against the same step written by hand with xtensor, and against the
// raw-cblas floor, scalar and vectorised (-march=native -ffast-math, see
// bench/step_floor.cpp), all in the same run. Also the gemm rate of this machine, to
// state each step's GEMM bound.
//
//   build/bench/bench_two_layer [--sizes S,M,L] [google-benchmark flags]
//   bench/report build/bench-result.json    (table of medians and ratios)
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "heap_meter.hpp"
#include "two_layer_step.hpp"

namespace {

using bench::Size;

template <class T>
const char* type_name();
template <>
const char* type_name<float>() { return "float32"; }
template <>
const char* type_name<double>() { return "float64"; }

struct Variant {
    const char* name;
    template <class T>
    static std::unique_ptr<bench::Step<T>> make(const char* name, const bench::Problem<T>& p) {
        if (!std::strcmp(name, "xgrad")) return bench::make_xgrad(p);
        if (!std::strcmp(name, "hand_xtensor")) return bench::make_hand_xtensor(p);
        if (!std::strcmp(name, "floor_vec")) return bench::make_floor_vec(p);
        return bench::make_floor(p);
    }
};
const char* const variants[] = {"xgrad", "hand_xtensor", "floor", "floor_vec"};
constexpr int check_steps = 5;

/// Cost after `check_steps` steps, peak heap bytes of building the variant and
/// running one step, and heap allocations per step once warm.
template <class T>
struct Facts {
    double cost = 0;
    double peak_bytes = 0;
    double allocs_per_step = 0;
};

template <class T>
Facts<T> measure(const char* variant, const Size& s) {
    Facts<T> f;
    const bench::Problem<T> p(s);
    {
        bench::heap::reset_peak();
        const std::size_t base = bench::heap::live_bytes();
        auto step = Variant::make<T>(variant, p);
        step->step();
        f.peak_bytes = double(bench::heap::peak_bytes() - base);
    }
    auto step = Variant::make<T>(variant, p);
    for (int k = 0; k < check_steps; ++k) f.cost = step->step();
    const std::size_t before = bench::heap::allocations();
    for (int k = 0; k < 10; ++k) step->step();
    f.allocs_per_step = double(bench::heap::allocations() - before) / 10.0;
    return f;
}

template <class T>
bool register_size(const Size& s) {
    bool agree = true;
    double ref = 0;
    for (const char* v : variants) {
        const Facts<T> f = measure<T>(v, s);
        if (v == variants[0]) ref = f.cost;
        // Relative tolerance on the cost after 5 steps. It passes the
        // differences of summation order between the variants and those of
        // floor_vec's -ffast-math (libmvec's tanh/exp/log1p within a few ulp,
        // reassociated sums): the costs printed below agree to all 10 decimals
        // in float64; in float32 floor_vec's is within 1e-7 relative of
        // xgrad's and hand_xtensor's within 2e-6 at L. A wrong step differs in
        // the first digits.
        const double tol = sizeof(T) == 8 ? 1e-9 : 1e-4;
        const bool ok = std::fabs(f.cost - ref) <= tol * std::max(1.0, std::fabs(ref));
        agree = agree && ok;
        std::fprintf(stderr, "%s %-7s %-12s cost after %d steps %.10f%s  peak heap %.1f MB  allocations/step %.1f\n",
                     s.name, type_name<T>(), v, check_steps, f.cost, ok ? "" : "  <-- DIFFERS", f.peak_bytes / 1e6,
                     f.allocs_per_step);
        const std::string name = std::string("step/") + s.name + "/" + type_name<T>() + "/" + v;
        auto* b = benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& st) {
            const bench::Problem<T> p(s);
            auto step = Variant::make<T>(v, p);
            double cost = 0;
            for (auto _ : st) {
                cost = step->step();
                benchmark::DoNotOptimize(cost);
            }
            st.counters["cost_after_5"] = f.cost;
            st.counters["peak_MB"] = f.peak_bytes / 1e6;
            st.counters["allocs_per_step"] = f.allocs_per_step;
            st.counters["gemm_GFLOP"] = bench::step_gemm_flops(s) / 1e9;
        });
        b->Unit(benchmark::kMicrosecond)->UseRealTime();
        if (s.m * s.n1 >= 1000000) b->MinTime(1.0); else b->MinTime(0.2);
    }
    return agree;
}

/// The gemm rate of this machine in this run: C = A·B for n × n matrices.
template <class T>
void register_gemm(std::size_t n) {
    const std::string name = std::string("gemm_rate/") + type_name<T>() + "/" + std::to_string(n);
    benchmark::RegisterBenchmark(name.c_str(), [n](benchmark::State& st) {
        std::vector<T> a(n * n, T(0.5)), b(n * n, T(0.25)), c(n * n);
        for (auto _ : st) {
            if constexpr (sizeof(T) == 8) {
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(n), int(n), int(n), 1.0, a.data(),
                            int(n), b.data(), int(n), 0.0, c.data(), int(n));
            } else {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(n), int(n), int(n), 1.0f, a.data(),
                            int(n), b.data(), int(n), 0.0f, c.data(), int(n));
            }
            benchmark::DoNotOptimize(c.data());
        }
        st.counters["GFLOPS"] = benchmark::Counter(2.0 * double(n) * n * n * double(st.iterations()) / 1e9,
                                                   benchmark::Counter::kIsRate);
    })->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);
}

}  // namespace

int main(int argc, char** argv) {
    std::string sizes = "S,M,L";
    std::vector<char*> args;
    for (int i = 0; i < argc; ++i) {
        if (!std::strncmp(argv[i], "--sizes=", 8)) {
            sizes = argv[i] + 8;
        } else {
            args.push_back(argv[i]);
        }
    }
    int n = int(args.size());
    benchmark::Initialize(&n, args.data());
    bool agree = true;
    for (const Size& s : bench::sizes) {
        if (sizes.find(s.name) == std::string::npos) continue;
        agree = register_size<double>(s) && agree;
        agree = register_size<float>(s) && agree;
    }
    register_gemm<double>(1024);
    register_gemm<float>(1024);
    if (!agree) {
        std::fprintf(stderr, "variants disagree on the cost: not timing a wrong step\n");
        return 1;
    }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}

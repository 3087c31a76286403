// Strong scaling of the data-parallel training step (Google Benchmark under
// mpirun): the two-layer network of bench/two_layer_step.hpp at
// n = (784, 128, 10) on m examples (8000 by default), timed in one job:
//
//   mpi_step/one_rank/blas_threads:1   rank 0 trains on all m columns with one
//                                      BLAS thread; the other ranks sleep
//   mpi_step/one_rank/blas_threads:2   the same with two BLAS threads (the
//                                      other way to use two cores)
//   mpi_step/data_parallel/ranks:N     every rank trains on its m/N columns,
//                                      one BLAS thread each, and
//                                      DataParallel::allreduce_gradients
//                                      sums the gradients
//
// A data-parallel step is forward + backward (compute), MPI_Barrier (wait:
// the time a rank waits for the slower one), the allreduce (communication),
// and the gradient-descent update (compute). Each part is timed on rank 0 and
// reported as a counter in ms per step; the step time is rank 0's whole step
// (the allreduce ends together on every rank). Speed-ups are ratios of rows
// of the same run. Before timing, the one-rank and the data-parallel step run
// five steps from the same weights; the program refuses to time steps whose
// costs differ by more than 1e-12.
//
//   scripts/mpirun -np 2 build/bench/bench_mpi [--examples=8000] [google-benchmark flags]
// bench/mpi-scaling runs it and prints the table of docs/distributed.md.
#include <benchmark/benchmark.h>
#include <cblas.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <xgrad/mpi.hpp>

#include "two_layer_step.hpp"

namespace {

constexpr std::size_t iterations = 20;  // steps per repetition (every rank runs the same number)

/// One replica of the M network on `X`, `Y`, with the step's parts timed.
struct Replica {
    xg::Parameter<double> W1, b1, W2, b2;
    xg::Graph<double> g;
    xg::Var<double> J;
    std::unique_ptr<xg::GradientDescent<double>> opt;

    Replica(const bench::Problem<double>& p, const xg::Matrix<double>& X, const xg::Matrix<double>& Y)
        : W1(p.W1, "W1"), b1(p.b1, "b1"), W2(p.W2, "W2"), b2(p.b2, "b2") {
        auto Z1 = xg::matmul(g.parameter(W1), g.input(X, "X")) + g.parameter(b1);
        auto Z2 = xg::matmul(g.parameter(W2), xg::tanh(Z1)) + g.parameter(b2);
        J = xg::binary_cross_entropy(xg::sigmoid(Z2), g.input(Y, "Y"));
        opt = std::make_unique<xg::GradientDescent<double>>(params(), p.learning_rate);
    }
    std::vector<xg::Parameter<double>> params() const { return {W1, b1, W2, b2}; }
    /// Forward and backward; returns this replica's cost.
    double compute() {
        g.forward();
        g.backward(J);
        return J.value()(0, 0);
    }
};

/// This rank's replica on its shard of the columns (the same seeded data
/// and weights on every rank), with the DataParallel over its parameters.
struct ShardReplica {
    const xg::Matrix<double> X, Y;
    Replica r;
    xg::mpi::DataParallel<double> dp;

    ShardReplica(const xg::mpi::Context& ctx, const bench::Problem<double>& p)
        : X(xg::mpi::shard_columns(p.X, ctx.rank(), ctx.size())),
          Y(xg::mpi::shard_columns(p.Y, ctx.rank(), ctx.size())),
          r(p, X, Y),
          dp(ctx, r.params()) {}
    std::size_t columns() const { return X.shape()[1]; }
};

/// A barrier the waiting ranks sleep in (MPI_Ibarrier polled every 0.2 ms),
/// so that an idle rank leaves its core to rank 0's BLAS threads.
void sleeping_barrier(const xg::mpi::Context& ctx) {
    MPI_Request req;
    MPI_Ibarrier(ctx.comm(), &req);
    int done = 0;
    while (MPI_Test(&req, &done, MPI_STATUS_IGNORE), !done) usleep(200);
}

struct Setup {
    const xg::mpi::Context* ctx = nullptr;
    bench::Size size{"M", 784, 128, 10, 8000};
};
Setup setup;

/// Rank 0 alone on all m columns with `threads` BLAS threads.
void one_rank(benchmark::State& st, int threads) {
    const xg::mpi::Context& ctx = *setup.ctx;
    sleeping_barrier(ctx);
    if (ctx.root()) {
        const bench::Problem<double> p(setup.size);
        Replica r(p, p.X, p.Y);
        openblas_set_num_threads(threads);
        for (auto _ : st) {
            const double t0 = MPI_Wtime();
            benchmark::DoNotOptimize(r.compute());
            r.opt->step();
            st.SetIterationTime(MPI_Wtime() - t0);
        }
        openblas_set_num_threads(1);
        st.counters["per_rank"] = double(setup.size.m);
        st.counters["GFLOPS"] = benchmark::Counter(bench::step_gemm_flops(setup.size) * double(st.iterations()) / 1e9,
                                                   benchmark::Counter::kIsRate);
    } else {
        for (auto _ : st) st.SetIterationTime(0);
    }
    sleeping_barrier(ctx);
}

/// Every rank on its shard, gradients summed by one allreduce per step.
void data_parallel(benchmark::State& st) {
    const xg::mpi::Context& ctx = *setup.ctx;
    const bench::Problem<double> p(setup.size);
    ShardReplica sr(ctx, p);
    Replica& r = sr.r;
    xg::mpi::DataParallel<double>& dp = sr.dp;
    const std::size_t m_r = sr.columns();
    dp.broadcast_parameters();
    openblas_set_num_threads(1);
    double compute = 0, wait = 0, comm = 0;
    ctx.barrier();
    for (auto _ : st) {
        const double t0 = MPI_Wtime();
        const double local = r.compute();
        const double t1 = MPI_Wtime();
        ctx.barrier();
        const double t2 = MPI_Wtime();
        benchmark::DoNotOptimize(dp.allreduce_gradients(m_r, local));
        const double t3 = MPI_Wtime();
        r.opt->step();
        const double t4 = MPI_Wtime();
        st.SetIterationTime(t4 - t0);
        compute += (t1 - t0) + (t4 - t3);
        wait += t2 - t1;
        comm += t3 - t2;
    }
    const double n = double(st.iterations());
    st.counters["per_rank"] = double(m_r);
    st.counters["compute_ms"] = 1e3 * compute / n;
    st.counters["wait_ms"] = 1e3 * wait / n;
    st.counters["allreduce_ms"] = 1e3 * comm / n;
    st.counters["bytes"] = double(dp.bytes_per_step());
    st.counters["GFLOPS"] = benchmark::Counter(bench::step_gemm_flops(setup.size) * n / 1e9,
                                               benchmark::Counter::kIsRate);
}

/// The costs of five steps, one-rank and data-parallel, from the same
/// weights: the data-parallel step must be the full-batch step.
bool costs_agree(const xg::mpi::Context& ctx) {
    const bench::Problem<double> p(setup.size);
    double alone = 0;
    if (ctx.root()) {
        Replica r(p, p.X, p.Y);
        for (int s = 0; s < 5; ++s) {
            alone = r.compute();
            r.opt->step();
        }
    }
    ShardReplica sr(ctx, p);
    double together = 0;
    for (int s = 0; s < 5; ++s) {
        together = sr.dp.allreduce_gradients(sr.columns(), sr.r.compute());
        sr.r.opt->step();
    }
    int ok = std::fabs(alone - together) <= 1e-12;
    MPI_Bcast(&ok, 1, MPI_INT, 0, ctx.comm());
    if (ctx.root()) {
        std::printf("cost after 5 steps: one rank %.12f, %d ranks %.12f\n", alone, ctx.size(), together);
        std::fflush(stdout);
    }
    return ok != 0;
}

/// Reports nothing: the ranks other than 0.
class Silent : public benchmark::BenchmarkReporter {
public:
    bool ReportContext(const Context&) override { return true; }
    void ReportRuns(const std::vector<Run>&) override {}
};

}  // namespace

int main(int argc, char** argv) {
    return xg::mpi::run(argc, argv, [&](xg::mpi::Context& ctx) {
        // Every rank takes the same flags (so all register and repeat the
        // same benchmarks); only rank 0 reports and writes --benchmark_out.
        std::vector<char*> args;
        for (int i = 0; i < argc; ++i) {
            if (!std::strncmp(argv[i], "--examples=", 11)) {
                setup.size.m = std::strtoull(argv[i] + 11, nullptr, 10);
            } else if (!std::strncmp(argv[i], "--benchmark_enable_random_interleaving", 38)) {
                // Its order is drawn per process: the ranks would run different benchmarks.
                throw xg::ValueError("bench_mpi: --benchmark_enable_random_interleaving would order the "
                                     "benchmarks differently on each rank");
            } else if (ctx.root() || std::strncmp(argv[i], "--benchmark_out", 15)) {
                args.push_back(argv[i]);
            }
        }
        if (setup.size.m < std::size_t(ctx.size())) {
            throw xg::ValueError("bench_mpi: --examples must be at least the number of ranks");
        }
        int n = int(args.size());
        benchmark::Initialize(&n, args.data());
        setup.ctx = &ctx;
        if (!costs_agree(ctx)) {
            if (ctx.root()) std::fprintf(stderr, "bench_mpi: the data-parallel step is not the full-batch step\n");
            return 1;
        }
        std::vector<benchmark::internal::Benchmark*> all;
        for (int threads : {1, 2}) {
            all.push_back(
                benchmark::RegisterBenchmark(("mpi_step/one_rank/blas_threads:" + std::to_string(threads)).c_str(),
                                             [threads](benchmark::State& st) { one_rank(st, threads); }));
        }
        all.push_back(benchmark::RegisterBenchmark(
            ("mpi_step/data_parallel/ranks:" + std::to_string(ctx.size())).c_str(), data_parallel));
        // A fixed number of steps: every rank runs the same count (Google
        // Benchmark would otherwise pick one per rank from its own timings).
        for (auto* b : all) b->Iterations(iterations)->UseManualTime()->Unit(benchmark::kMillisecond);
        Silent silent;
        if (ctx.root()) {
            benchmark::RunSpecifiedBenchmarks();
        } else {
            benchmark::RunSpecifiedBenchmarks(&silent);
        }
        benchmark::Shutdown();
        return 0;
    });
}

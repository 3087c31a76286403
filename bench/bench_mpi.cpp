// Strong scaling of the data-parallel training step: the two-layer network
// of bench/two_layer_step.hpp at n = (784, 128, 10) on m examples (8000 by
// default), the m columns split over the ranks of the job. Each step is
//   forward + backward on this rank's columns   (compute)
//   MPI_Barrier                                  (wait: load imbalance)
//   DataParallel::allreduce_gradients            (allreduce: communication)
//   gradient-descent update                      (compute)
// and each part is timed on every rank; the program prints rank 0's medians
// over the timed steps (after warm-up) and the largest over the ranks.
//
//   mpirun -np 2 bench_mpi [--steps 20] [--warmup 3] [--examples 8000]
// bench/mpi-scaling runs 1 and 2 ranks and prints the table of
// docs/distributed.md. Run the ranks with OPENBLAS_NUM_THREADS=1 when
// there are as many ranks as cores.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <xgrad/mpi.hpp>

#include "two_layer_step.hpp"

namespace {

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int time_steps(xg::mpi::Context& ctx, std::size_t steps, std::size_t warmup, std::size_t m) {
    const bench::Size size{"M", 784, 128, 10, m};
    const bench::Problem<double> p(size);  // the same data and weights on every rank (seeded)
    const xg::Matrix<double> X = xg::mpi::shard_columns(p.X, ctx.rank(), ctx.size());
    const xg::Matrix<double> Y = xg::mpi::shard_columns(p.Y, ctx.rank(), ctx.size());
    const std::size_t m_r = X.shape()[1];

    xg::Parameter<double> W1(p.W1, "W1"), b1(p.b1, "b1"), W2(p.W2, "W2"), b2(p.b2, "b2");
    xg::mpi::DataParallel<double> dp(ctx, {W1, b1, W2, b2});
    dp.broadcast_parameters();
    xg::Graph<double> g;
    auto Z1 = xg::matmul(g.parameter(W1), g.input(X, "X")) + g.parameter(b1);
    auto Z2 = xg::matmul(g.parameter(W2), xg::tanh(Z1)) + g.parameter(b2);
    auto J = xg::binary_cross_entropy(xg::sigmoid(Z2), g.input(Y, "Y"));
    xg::GradientDescent<double> opt(dp.parameters(), p.learning_rate);

    std::vector<double> total, compute, wait, comm;
    std::vector<double> costs;
    for (std::size_t s = 0; s < warmup + steps; ++s) {
        const double t0 = MPI_Wtime();
        g.forward();
        g.backward(J);
        const double t1 = MPI_Wtime();
        ctx.barrier();
        const double t2 = MPI_Wtime();
        costs.push_back(dp.allreduce_gradients(m_r, J.value()(0, 0)));
        const double t3 = MPI_Wtime();
        opt.step();
        const double t4 = MPI_Wtime();
        if (s < warmup) continue;
        total.push_back(t4 - t0);
        compute.push_back((t1 - t0) + (t4 - t3));
        wait.push_back(t2 - t1);
        comm.push_back(t3 - t2);
    }
    const double mine[4] = {median(total), median(compute), median(wait), median(comm)};
    double worst[4] = {0, 0, 0, 0};
    MPI_Reduce(mine, worst, 4, MPI_DOUBLE, MPI_MAX, 0, ctx.comm());
    if (ctx.root()) {
        const char* threads = std::getenv("OPENBLAS_NUM_THREADS");
        std::printf(
            "ranks %d  blas_threads %s  m %zu  per_rank %zu  step_ms %.3f  compute_ms %.3f  wait_ms %.3f  "
            "allreduce_ms %.3f  max_allreduce_ms %.3f  bytes %zu  gflops %.1f  cost_first %.12f  cost_last %.12f\n",
            ctx.size(), threads ? threads : "default", m, m_r, 1e3 * mine[0], 1e3 * mine[1], 1e3 * mine[2],
            1e3 * mine[3], 1e3 * worst[3], dp.bytes_per_step(), bench::step_gemm_flops(size) / mine[0] * 1e-9,
            costs.front(), costs.back());
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    return xg::mpi::run(argc, argv, [&](xg::mpi::Context& ctx) {
        std::size_t steps = 20, warmup = 3, m = 8000;
        for (int i = 1; i + 1 < argc; i += 2) {
            const std::string a = argv[i];
            const std::size_t v = std::strtoull(argv[i + 1], nullptr, 10);
            if (a == "--steps") steps = v;
            else if (a == "--warmup") warmup = v;
            else if (a == "--examples") m = v;
            else throw xg::ValueError("bench_mpi: unknown option " + a + " (--steps, --warmup, --examples)");
        }
        if (steps == 0 || m == 0) throw xg::ValueError("bench_mpi: --steps and --examples must be at least 1");
        return time_steps(ctx, steps, warmup, m);
    });
}

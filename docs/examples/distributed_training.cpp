// The lecture's flower network trained data-parallel on MPI: every rank
// holds 1/N of the examples, and one allreduce per step gives every rank the
// full-batch gradient. Shown in docs/distributed.md; run it with
//   mpirun -np 2 docs/distributed_training          (from the build directory)
#include <cstdio>

#include <xgrad/mpi.hpp>
#include <xgrad/xgrad.hpp>

int main(int argc, char** argv) {
    // run() initialises MPI and, if a rank throws, prints "rank r: what" and
    // ends the whole job (no rank is left waiting in a collective).
    return xg::mpi::run(argc, argv, [](xg::mpi::Context& ctx) {
        // The same seeded data on every rank; each keeps its shard of columns.
        const xg::Dataset<double> flower = xg::flower<double>(400, /*seed=*/1);
        const xg::Matrix<double> X = xg::mpi::shard_columns(flower.X, ctx.rank(), ctx.size());
        const xg::Matrix<double> Y = xg::mpi::shard_columns(flower.Y, ctx.rank(), ctx.size());
        const std::size_t m_r = X.shape()[1];  // this rank's examples

        // The model and its graph, exactly as on one process.
        const auto params = xg::init_two_layer<double>(2, 4, 1, /*seed=*/2);
        xg::Graph<double> g;
        auto J = xg::binary_cross_entropy(xg::two_layer_forward(g, g.input(X, "X"), params).A2, g.input(Y, "Y"));
        xg::GradientDescent<double> opt(params.all(), /*learning_rate=*/1.2);

        // The data-parallel part: start from rank 0's weights, then sum the
        // ranks' gradients, weighted by m_r / m, before every step.
        xg::mpi::DataParallel<double> dp(ctx, params.all());
        dp.broadcast_parameters();
        for (std::size_t i = 0; i <= 3000; ++i) {
            g.forward();
            g.backward(J);
            const double cost = dp.allreduce_gradients(m_r, J.value()(0, 0));  // the full-batch J
            if (ctx.root() && i % 1000 == 0) std::printf("Cost after iteration %zu: %f\n", i, cost);
            opt.step();
        }

        const bool same = dp.parameters_identical();  // collective: every rank takes part
        if (ctx.root()) {
            std::printf("%d ranks of %zu to %zu examples; %zu bytes per allreduce\n", ctx.size(),
                        xg::mpi::shard_range(400, ctx.size() - 1, ctx.size()).size(), m_r, dp.bytes_per_step());
            std::printf("parameters bit-identical on every rank: %s\n", same ? "yes" : "no");
        }
        return same ? 0 : 1;
    });
}

// A data-parallel job in which one rank fails: the last rank is given a shard
// of the wrong shape (3 rows where the model takes 2), so building its graph
// throws a ShapeError while the other ranks wait in the gradient allreduce.
// xg::mpi::run must end the whole job with the message instead of leaving
// them waiting (tests/mpi-failing-rank-check runs it under mpirun).
#include <xgrad/mpi.hpp>
#include <xgrad/xgrad.hpp>

int main(int argc, char** argv) {
    return xg::mpi::run(argc, argv, [](xg::mpi::Context& ctx) {
        const xg::Dataset<double> d = xg::flower<double>(400, 1);
        xg::Matrix<double> X = xg::mpi::shard_columns(d.X, ctx.rank(), ctx.size());
        const xg::Matrix<double> Y = xg::mpi::shard_columns(d.Y, ctx.rank(), ctx.size());
        if (ctx.rank() == ctx.size() - 1) X = xt::zeros<double>({std::size_t(3), X.shape()[1]});  // the bad shard

        const auto p = xg::init_two_layer<double>(2, 4, 1, 2);
        xg::mpi::DataParallel<double> dp(ctx, p.all());
        dp.broadcast_parameters();
        xg::Graph<double> g;
        auto J = xg::binary_cross_entropy(xg::two_layer_forward(g, g.input(X, "X"), p).A2, g.input(Y, "Y"));
        g.backward(J);
        dp.allreduce_gradients(X.shape()[1], J.value()(0, 0));  // the healthy ranks wait here
        return 0;
    });
}

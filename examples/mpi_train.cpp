// Data-parallel training on MPI: the flower network of examples/two_layer_net
// and the softmax classifier of examples/deep_classifier, trained by N
// processes that each hold 1/N of the examples. Every rank generates the
// same data (seeded), keeps its shard of the columns, replays the same
// graph, and one MPI_Allreduce per step turns the ranks' gradients into the
// full-batch gradient. The printed costs are those of the one-process run.
//
//   mpirun -np 2 mpi_train                     # the flower network, as two_layer_net prints it
//   mpirun -np 4 --oversubscribe mpi_train --model deep
//   mpirun --hostfile hosts -np 8 mpi_train --model deep --examples 100000 --time
//
// --model deep reproduces deep_classifier's mini-batches: the same batches
// of the whole data set (MiniBatches' permutations), each rank taking the
// columns of each batch that lie in its shard (xg::mpi::ShardedMiniBatches).
// A batch size of at least the number of examples trains on the full batch.
// docs/distributed.md explains the weighting, running and scaling.
#include <cmath>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <xgrad/mpi.hpp>
#include <xgrad/xgrad.hpp>

namespace {

struct Options {
    std::string model = "flower";
    std::string data;  // flower: "flower"; deep: "spirals" or "blobs"
    std::size_t examples = 0, classes = 3;
    std::vector<std::size_t> hidden;
    std::string optimizer = "adam";
    double learning_rate = 0;
    std::size_t iterations = 10000, epochs = 300, batch_size = 64, print_every = 0;
    std::uint32_t seed = 1;
    bool time = false;
};

/// Percentage of the m examples (over all ranks) that this rank's
/// `local_accuracy` (in %) of its m_r examples adds up to.
double global_accuracy(const xg::mpi::Context& ctx, double local_accuracy, std::size_t m_r, std::size_t m) {
    const double right = std::round(local_accuracy * double(m_r) / 100.0);
    return 100.0 * ctx.sum(right) / double(m);
}

void print_shards(const xg::mpi::Context& ctx, std::size_t m, std::size_t bytes) {
    const std::size_t lo = xg::mpi::shard_range(m, ctx.size() - 1, ctx.size()).size();
    const std::size_t hi = xg::mpi::shard_range(m, 0, ctx.size()).size();
    std::printf("Data-parallel on %d rank%s: %zu to %zu examples each; one allreduce of %zu bytes per step\n",
                ctx.size(), ctx.size() == 1 ? "" : "s", lo, hi, bytes);
}

void print_time(const xg::mpi::Context& ctx, double seconds, const xg::mpi::DataParallel<double>& dp) {
    // The slowest rank's time is the job's; its allreduce time includes waiting.
    const double comm = dp.communication_seconds();
    double worst[2] = {0, 0}, mine[2] = {seconds, comm};
    MPI_Reduce(mine, worst, 2, MPI_DOUBLE, MPI_MAX, 0, ctx.comm());
    if (ctx.root()) {
        std::printf("%.3f s for %zu steps (%.3f ms per step), of which in MPI_Allreduce up to %.3f s (%.1f%%)\n",
                    worst[0], dp.steps(), 1e3 * worst[0] / double(dp.steps()), worst[1],
                    100.0 * worst[1] / worst[0]);
    }
}

// ---- the flower network (examples/two_layer_net) ------------------------------------

int train_flower(const xg::mpi::Context& ctx, const Options& o) {
    const xg::Dataset<double> all = xg::flower<double>(o.examples, o.seed);
    const std::size_t m = all.size();
    const xg::Matrix<double> X = xg::mpi::shard_columns(all.X, ctx.rank(), ctx.size());
    const xg::Matrix<double> Y = xg::mpi::shard_columns(all.Y, ctx.rank(), ctx.size());
    const std::size_t m_r = X.shape()[1];

    const std::size_t n_h = o.hidden.empty() ? 4 : o.hidden.front();
    const xg::TwoLayerParams<double> p = xg::init_two_layer<double>(2, n_h, 1, o.seed + 1);
    xg::mpi::DataParallel<double> dp(ctx, p.all());
    dp.broadcast_parameters();  // the same start on every rank, whatever each drew

    xg::Graph<double> g;
    auto Xv = g.input(X, "X");
    auto Yv = g.input(Y, "Y");
    auto J = xg::binary_cross_entropy(xg::two_layer_forward(g, Xv, p).A2, Yv).named("J");
    xg::GradientDescent<double> opt(p.all(), o.learning_rate);

    if (ctx.root()) {
        std::size_t ones = 0;
        for (double y : all.Y) ones += y == 1.0;
        std::printf("Data: the flower (generated, seed %u)\n", o.seed);
        std::printf("Training set: %zu examples of 2 features (class 0: %zu, class 1: %zu)\n", m, m - ones, ones);
        std::printf("Network: 2 inputs -> %zu tanh units -> 1 sigmoid output; learning rate %g, %zu iterations\n", n_h,
                    o.learning_rate, o.iterations);
        print_shards(ctx, m, dp.bytes_per_step());
    }
    const double start = MPI_Wtime();
    double cost = 0;
    for (std::size_t i = 0; i < o.iterations; ++i) {
        g.forward();  // (the first replay sees the broadcast weights)
        g.backward(J);
        cost = dp.allreduce_gradients(m_r, J.value()(0, 0));  // Σ_r (m_r/m) J_r, and the same for the gradients
        if (!std::isfinite(cost)) throw xg::ValueError("the cost is not finite; lower the learning rate");
        if (ctx.root() && o.print_every && i % o.print_every == 0) {
            std::printf("Cost after iteration %zu: %f\n", i, cost);
        }
        opt.step();
    }
    const double seconds = MPI_Wtime() - start;
    g.forward();
    cost = ctx.weighted_mean(J.value()(0, 0), double(m_r));
    const double accuracy = global_accuracy(ctx, xg::accuracy(xg::predict(p, X), Y), m_r, m);
    if (ctx.root()) {
        if (o.print_every && o.iterations % o.print_every == 0 && o.iterations > 0) {
            std::printf("Cost after iteration %zu: %f\n", o.iterations, cost);
        }
        std::printf("Training accuracy: %.2f%%\n", accuracy);
    }
    if (o.time && o.iterations > 0) print_time(ctx, seconds, dp);
    return 0;
}

// ---- the deep classifier (examples/deep_classifier) ---------------------------------

std::unique_ptr<xg::Optimizer<double>> make_optimizer(const Options& o, const xg::Sequential<double>& model) {
    if (o.optimizer == "gd") return std::make_unique<xg::GradientDescent<double>>(model.parameters(), o.learning_rate);
    if (o.optimizer == "momentum") return std::make_unique<xg::Momentum<double>>(model.parameters(), o.learning_rate, 0.9);
    return std::make_unique<xg::Adam<double>>(model.parameters(), o.learning_rate);
}

/// The mean loss over this rank's examples, through a graph of its own.
double shard_loss(const xg::Sequential<double>& model, const xg::Matrix<double>& X, const xg::Matrix<double>& Y) {
    xg::Graph<double> g;
    return xg::softmax_cross_entropy(model(g.input(X, "X")), g.input(Y, "Y")).value()(0, 0);
}

int train_deep(const xg::mpi::Context& ctx, const Options& o) {
    const xg::Dataset<double> all = o.data == "blobs" ? xg::blobs(o.examples, o.classes, o.seed)
                                                      : xg::spirals(o.examples, o.classes, o.seed);
    const std::size_t m = all.size();
    const xg::mpi::ColumnRange shard = xg::mpi::shard_range(m, ctx.rank(), ctx.size());
    const xg::Matrix<double> X = xg::mpi::shard_columns(all.X, ctx.rank(), ctx.size());
    const xg::Matrix<double> Y = xg::mpi::shard_columns(all.Y, ctx.rank(), ctx.size());

    // The model of deep_classifier: relu layers (He), then the logits (Xavier).
    xg::Sequential<double> model(all.features(), /*seed=*/o.seed);
    for (std::size_t h : o.hidden) model.add(h, xg::Activation::relu, xg::init::he());
    model.add(all.classes, xg::Activation::identity, xg::init::xavier());
    xg::mpi::DataParallel<double> dp(ctx, model.parameters());
    dp.broadcast_parameters();

    // The graph, on input leaves of a batch's shape (no batch used up).
    xg::mpi::ShardedMiniBatches<double> batches(X, Y, shard, m, o.batch_size, o.seed);
    xg::Graph<double> g;
    auto [Xv, Yv] = batches.inputs(g);
    auto J = xg::softmax_cross_entropy(model(Xv), Yv).named("J");
    auto opt = make_optimizer(o, model);
    auto accuracy = [&] {
        return global_accuracy(ctx, xg::accuracy(xg::argmax_classes(model.predict(X)), Y), X.shape()[1], m);
    };

    // With the broadcast weights: the mean loss over all m examples.
    const double loss0 = ctx.weighted_mean(shard_loss(model, X, Y), double(X.shape()[1]));
    const double accuracy0 = accuracy();
    if (ctx.root()) {
        std::printf("%s on %zu %s examples (%zu classes)\n", model.describe().c_str(), m, o.data.c_str(), all.classes);
        std::printf("%s, mini-batches of %zu (%zu per epoch)\n", opt->describe().c_str(), o.batch_size,
                    batches.batches());
        print_shards(ctx, m, dp.bytes_per_step());
        std::printf("epoch %4d  loss %.4f  accuracy %6.2f%%\n", 0, loss0, accuracy0);
    }

    const double start = MPI_Wtime();
    for (std::size_t epoch = 1; epoch <= o.epochs; ++epoch) {
        double loss = 0;       // the mean over the epoch's examples
        std::size_t seen = 0;  // this rank's examples in the epoch: each of its shard, once
        for (const xg::Batch<double>& batch : batches.next_epoch()) {
            // This rank's part of the batch; it may be empty (then it only
            // takes part in the allreduce).
            const std::size_t b = batch.size();
            double local = 0;
            if (b > 0) {
                g.set_value(Xv, batch.X);
                g.set_value(Yv, batch.Y);
                g.forward();
                g.backward(J);
                local = J.value()(0, 0);
            }
            const double batch_loss = dp.allreduce_gradients(b, local);
            opt->step();
            loss += batch_loss * double(batches.batch_columns()) / double(m);
            seen += b;
        }
        if (seen != shard.size()) {
            throw std::logic_error("epoch " + std::to_string(epoch) + " trained on " + std::to_string(seen) +
                                   " of this rank's " + std::to_string(shard.size()) + " examples");
        }
        if (o.print_every && (epoch % o.print_every == 0 || epoch == o.epochs)) {
            const double acc = accuracy();
            if (ctx.root()) std::printf("epoch %4zu  loss %.4f  accuracy %6.2f%%\n", epoch, loss, acc);
        }
    }
    const double seconds = MPI_Wtime() - start;
    const double final_accuracy = accuracy();
    if (ctx.root()) std::printf("training accuracy %.2f%%\n", final_accuracy);
    if (o.time && dp.steps() > 0) print_time(ctx, seconds, dp);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    return xg::mpi::run(argc, argv, [&](xg::mpi::Context& ctx) {
        Options o;
        CLI::App app{
            "Data-parallel training on MPI: run under mpirun -np N; each rank holds 1/N of the examples.\n"
            "--model flower: the two-layer network of two_layer_net; --model deep: deep_classifier's.",
            "mpi_train"};
        app.get_formatter()->column_width(30);
        app.add_option("--model", o.model, "flower or deep")
            ->check(CLI::IsMember({"flower", "deep"}))
            ->capture_default_str();
        app.add_option("--data", o.data, "deep: spirals or blobs (default spirals)")
            ->check(CLI::IsMember({"spirals", "blobs"}));
        app.add_option("--examples", o.examples, "Number of generated examples (flower 400, deep 300)")
            ->check(CLI::Range(1, 100000000));
        app.add_option("--classes", o.classes, "deep: number of classes")
            ->check(CLI::Range(2, 100))
            ->capture_default_str();
        app.add_option("--hidden", o.hidden, "Hidden layer sizes (flower: 4, deep: 64,64)")
            ->delimiter(',')
            ->type_name("N,N,...")
            ->check(CLI::Range(1, 100000));
        app.add_option("--optimizer", o.optimizer, "deep: adam, momentum (beta 0.9) or gd")
            ->check(CLI::IsMember({"adam", "momentum", "gd"}))
            ->capture_default_str();
        app.add_option("--learning-rate", o.learning_rate, "Learning rate alpha (flower 1.2, deep 0.01)")
            ->check(CLI::PositiveNumber);
        app.add_option("--iterations", o.iterations, "flower: gradient-descent steps")->capture_default_str();
        app.add_option("--epochs", o.epochs, "deep: passes over the training set")->capture_default_str();
        app.add_option("--batch-size", o.batch_size, "deep: examples per mini-batch, over all ranks")
            ->check(CLI::Range(1, 100000000))
            ->capture_default_str();
        app.add_option("--seed", o.seed, "Seed of the data and the weights")->capture_default_str();
        app.add_option("--print-every", o.print_every, "Print the cost every N iterations (flower 1000) or epochs (deep 50)");
        app.add_flag("--time", o.time, "Print the training time and the time spent in MPI_Allreduce");
        try {
            app.parse(argc, argv);
        } catch (const CLI::ParseError& e) {
            return ctx.root() ? app.exit(e) : e.get_exit_code();
        }
        const bool flower = o.model == "flower";
        if (o.examples == 0) o.examples = flower ? 400 : 300;
        if (o.learning_rate == 0) o.learning_rate = flower ? 1.2 : 0.01;
        if (o.print_every == 0 && app.count("--print-every") == 0) o.print_every = flower ? 1000 : 50;
        if (o.hidden.empty() && !flower) o.hidden = {64, 64};
        if (o.data.empty()) o.data = flower ? "flower" : "spirals";
        return flower ? train_flower(ctx, o) : train_deep(ctx, o);
    });
}

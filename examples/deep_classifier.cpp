// A deeper network: a multi-layer softmax classifier on a several-class toy
// set (interleaved spirals by default), trained with Adam on mini-batches.
//
//     Z[l] = W[l] · A[l−1] + b[l],  A[l] = relu(Z[l])  for the hidden layers,
//     Z[L] = W[L] · A[L−1] + b[L]   (the logits, one row per class),
//     J    = −(1/m) Σ log softmax(Z[L])[y]   (softmax cross-entropy, class-index labels)
//
//   deep_classifier                               # 2 -> 64 -> 64 -> 3 on 3 spirals, Adam, batches of 64
//   deep_classifier --hidden 32,32,32 --classes 5 --examples 500
//   deep_classifier --optimizer momentum --learning-rate 0.1
//   deep_classifier --data blobs --target 99      # exit 1 unless the training accuracy reaches 99%
//   deep_classifier --save model                  # a checkpoint: model/xgrad-manifest.txt, model/xgrad-gen-1/W1.npy, ...
//
// The layers, the optimiser and the mini-batches are library pieces
// (xgrad/nn.hpp, xgrad/optim.hpp, xgrad/data.hpp); docs/howto-deeper-network.md
// explains each step of this program.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <xgrad/xgrad.hpp>

namespace {

struct Options {
    std::string data = "spirals";
    std::size_t classes = 3;
    std::size_t examples = 300;
    std::vector<std::size_t> hidden = {64, 64};
    std::string optimizer = "adam";
    double learning_rate = 0.01;
    double decay = 0;
    std::size_t epochs = 300;
    std::size_t batch_size = 64;
    double test_fraction = 0;
    std::uint32_t seed = 1;
    std::size_t print_every = 50;
    double target = 0;
    std::string save;
    bool time = false;
};

std::unique_ptr<xg::Optimizer<double>> make_optimizer(const Options& o, const xg::Sequential<double>& model,
                                                      std::size_t batches_per_epoch) {
    // With --decay, α = α0 / (1 + decay · epoch).
    const xg::Schedule lr = o.decay > 0 ? xg::inverse_time_decay(o.learning_rate, o.decay, batches_per_epoch)
                                        : xg::Schedule(o.learning_rate);
    if (o.optimizer == "gd") return std::make_unique<xg::GradientDescent<double>>(model.parameters(), lr);
    if (o.optimizer == "momentum") return std::make_unique<xg::Momentum<double>>(model.parameters(), lr, 0.9);
    return std::make_unique<xg::Adam<double>>(model.parameters(), lr);
}

double mean_loss(const xg::Sequential<double>& model, const xg::Dataset<double>& data) {
    // The mean loss over a whole data set, through a graph of its own.
    xg::Graph<double> g;
    return xg::softmax_cross_entropy(model(g.input(data.X, "X")), g.input(data.Y, "Y")).value()(0, 0);
}

double accuracy(const xg::Sequential<double>& model, const xg::Dataset<double>& data) {
    // Forward only, through the model's inference graph: no gradient is touched.
    return xg::accuracy(xg::argmax_classes(model.predict(data.X)), data.Y);
}

int run(const Options& o) {
    const auto start = std::chrono::steady_clock::now();
    const xg::Dataset<double> all = o.data == "blobs" ? xg::blobs(o.examples, o.classes, o.seed)
                                                      : xg::spirals(o.examples, o.classes, o.seed);
    xg::Dataset<double> train = all, test;
    if (o.test_fraction > 0) std::tie(train, test) = xg::train_test_split(all, o.test_fraction, o.seed);

    // 2 -> 64 relu -> 64 relu -> K: He initialisation for the relu layers,
    // Xavier for the logits.
    xg::Sequential<double> model(train.features(), /*seed=*/o.seed);
    for (std::size_t h : o.hidden) model.add(h, xg::Activation::relu, xg::init::he());
    model.add(all.classes, xg::Activation::identity, xg::init::xavier());

    // The training graph, built once on input leaves of a batch's shape
    // (inputs() uses up no batch); each mini-batch replaces their values.
    xg::MiniBatches<double> batches(train.X, train.Y, o.batch_size, o.seed);
    xg::Graph<double> g;
    auto [X, Y] = batches.inputs(g);
    auto J = xg::softmax_cross_entropy(model(X), Y).named("J");

    auto opt = make_optimizer(o, model, batches.batches());
    std::printf("%s on %zu %s examples (%zu classes)\n", model.describe().c_str(), train.size(), o.data.c_str(),
                all.classes);
    std::printf("%s, mini-batches of %zu (%zu per epoch)\n", opt->describe().c_str(), o.batch_size,
                batches.batches());
    std::printf("epoch %4d  loss %.4f  accuracy %6.2f%%\n", 0, mean_loss(model, train), accuracy(model, train));

    for (std::size_t epoch = 1; epoch <= o.epochs; ++epoch) {
        double loss = 0;       // the mean over the epoch's examples
        std::size_t seen = 0;  // and how many there were: every one, once
        for (const xg::Batch<double>& batch : batches.next_epoch()) {
            g.set_value(X, batch.X);
            g.set_value(Y, batch.Y);
            g.forward();
            g.backward(J);
            opt->step();
            loss += J.value()(0, 0) * double(batch.size()) / double(train.size());
            seen += batch.size();
        }
        if (seen != train.size()) {
            std::fprintf(stderr, "deep_classifier: epoch %zu trained on %zu of %zu examples\n", epoch, seen,
                         train.size());
            return 1;
        }
        if (o.print_every && (epoch % o.print_every == 0 || epoch == o.epochs)) {
            std::printf("epoch %4zu  loss %.4f  accuracy %6.2f%%\n", epoch, loss, accuracy(model, train));
        }
    }

    const double train_accuracy = accuracy(model, train);
    std::printf("training accuracy %.2f%%\n", train_accuracy);
    if (test.size() > 0) std::printf("test accuracy %.2f%% (%zu held-out examples)\n", accuracy(model, test), test.size());
    if (!o.save.empty()) {
        xg::save_parameters(o.save, model.parameters());
        std::printf("saved %zu parameters to %s/\n", model.parameters().size(), o.save.c_str());
    }
    if (o.time) {
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::printf("%.2f s, %zu steps\n", secs, opt->steps());
    }
    if (train_accuracy < o.target) {
        std::fprintf(stderr, "deep_classifier: training accuracy %.2f%% is below the target %.2f%%\n", train_accuracy,
                     o.target);
        return 1;
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    CLI::App app{"Train a multi-layer softmax classifier (relu hidden layers) with mini-batches on a toy set.",
                 "deep_classifier"};
    app.get_formatter()->column_width(30);
    app.add_option("--data", o.data, "Generated data set")
        ->check(CLI::IsMember({"spirals", "blobs"}))
        ->capture_default_str();
    app.add_option("--classes", o.classes, "Number of classes K")->check(CLI::Range(2, 100))->capture_default_str();
    app.add_option("--examples", o.examples, "Number of examples")->check(CLI::Range(10, 10000000))->capture_default_str();
    app.add_option("--hidden", o.hidden, "Hidden layer sizes")
        ->delimiter(',')
        ->type_name("N,N,...")
        ->check(CLI::Range(1, 100000))
        ->capture_default_str();
    app.add_option("--optimizer", o.optimizer, "adam, momentum (beta 0.9) or gd")
        ->check(CLI::IsMember({"adam", "momentum", "gd"}))
        ->capture_default_str();
    app.add_option("--learning-rate", o.learning_rate, "Learning rate alpha (alpha0 with --decay)")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--decay", o.decay, "Learning-rate decay: alpha = alpha0 / (1 + decay * epoch)")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--epochs", o.epochs, "Passes over the training set")->capture_default_str();
    app.add_option("--batch-size", o.batch_size, "Examples per mini-batch")
        ->check(CLI::Range(1, 10000000))
        ->capture_default_str();
    app.add_option("--test-fraction", o.test_fraction, "Hold out this fraction of the examples as a test set")
        ->check(CLI::Range(0.0, 0.9));
    app.add_option("--seed", o.seed, "Seed of the data, the weights and the batch order")->capture_default_str();
    app.add_option("--print-every", o.print_every, "Print loss and accuracy every N epochs (0: never)")
        ->capture_default_str();
    app.add_option("--target", o.target, "Exit with status 1 if the final training accuracy (%) is below this")
        ->check(CLI::Range(0.0, 100.0));
    app.add_option("--save", o.save, "Save W1, b1, W2, ... as a checkpoint in DIR (DIR/xgrad-gen-N/W1.npy ...) after training")->type_name("DIR");
    app.add_flag("--time", o.time, "Print the run time");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    try {
        return run(o);
    } catch (const xg::Error& e) {
        std::fflush(stdout);
        std::fprintf(stderr, "deep_classifier: error: %s\n", e.what());
        return 1;
    }
}

// The flagship example: the two-layer network of the lecture (one tanh hidden
// layer, a sigmoid output, binary cross-entropy, plain gradient descent),
// built as an xgrad graph and trained on the planar "flower" data — or on a
// toy set, or on your own X/Y files (.npy or CSV).
//
//   two_layer_net                         # the lecture's run: 4 hidden units, α = 1.2, 10 000 iterations
//   two_layer_net --hidden-sizes 1,2,3,4,5,20,50
//   two_layer_net --init zeros            # why the weights must start random
//   two_layer_net --save model --plot flower.png
//   two_layer_net --load model --iterations 0
//   two_layer_net --data X.npy --labels Y.npy --test-fraction 0.2
//
// The model and its training loop are library pieces written with the public
// API (include/xgrad/two_layer.hpp, lib/two_layer.cpp); this file is the
// command line around them.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <xgrad/xgrad.hpp>

#include "gnuplot_plot.hpp"

namespace {

struct Options {
    std::string dataset = "flower";
    std::size_t examples = 400;
    std::string data, labels, test_data, test_labels;
    double test_fraction = 0;
    std::size_t hidden = 4;
    double learning_rate = 1.2;
    std::size_t iterations = 10000;
    bool iterations_given = false, hidden_given = false;
    std::uint32_t seed = 1;
    std::size_t print_every = 1000;
    std::string save, load, plot;
    std::string init = "random";
    std::vector<std::size_t> hidden_sizes;
};

/// One updating line "iteration 3400/10000  cost 0.233864  52000 it/s" on a
/// terminal; nothing at all when stdout is a pipe or a file.
class Progress {
public:
    Progress() : on_(::isatty(STDOUT_FILENO) == 1) {}

    void start() { start_ = last_ = Clock::now(); }
    void update(const std::string& label, std::size_t i, std::size_t n, double cost) {
        if (!on_) return;
        const Clock::time_point now = Clock::now();
        if (now - last_ < std::chrono::milliseconds(100)) return;
        last_ = now;
        const double secs = std::chrono::duration<double>(now - start_).count();
        std::printf("\r%siteration %zu/%zu  cost %.6f  %.0f it/s\033[K", label.c_str(), i, n, cost,
                    secs > 0 ? double(i) / secs : 0.0);
        std::fflush(stdout);
        shown_ = true;
    }
    /// Erase the line (before printing anything else).
    void clear() {
        if (!shown_) return;
        std::printf("\r\033[K");
        shown_ = false;
    }

private:
    using Clock = std::chrono::steady_clock;
    bool on_;
    bool shown_ = false;
    Clock::time_point start_, last_;
};

xg::Dataset<double> generate(const Options& o) {
    if (o.dataset == "flower") return xg::flower(o.examples, o.seed);
    if (o.dataset == "moons") return xg::moons(o.examples, o.seed);
    if (o.dataset == "circles") return xg::circles(o.examples, o.seed);
    if (o.dataset == "spirals") return xg::spirals(o.examples, 2, o.seed);
    return xg::blobs(o.examples, 2, o.seed);
}

std::string describe(const xg::Dataset<double>& d) {
    std::size_t ones = 0;
    for (double y : d.Y) ones += y == 1.0;
    return std::to_string(d.size()) + " examples of " + std::to_string(d.features()) +
           " features (class 0: " + std::to_string(d.size() - ones) + ", class 1: " + std::to_string(ones) + ")";
}

/// Train a fresh network of n_h hidden units; prints the cost every
/// `print_every` iterations (0: never) and shows progress on a terminal.
xg::TrainResult<double> train(const xg::TwoLayerParams<double>& p, const xg::Dataset<double>& d, const Options& o,
                              std::size_t iterations, std::size_t print_every, const std::string& label) {
    Progress progress;
    progress.start();
    auto on_iteration = [&](std::size_t i, double cost) {
        if (print_every && i % print_every == 0) {
            progress.clear();
            std::printf("Cost after iteration %zu: %f\n", i, cost);
        }
        progress.update(label, i, iterations, cost);
    };
    xg::TrainResult<double> r = xg::train_two_layer(p, d.X, d.Y, iterations, o.learning_rate, on_iteration);
    progress.clear();
    if (print_every && iterations % print_every == 0 && iterations > 0) {
        std::printf("Cost after iteration %zu: %f\n", iterations, r.final_cost());
    }
    return r;
}

/// The lecture's tuning experiment: one network per hidden size, a table of accuracies.
void hidden_size_table(const xg::Dataset<double>& train_set, const std::optional<xg::Dataset<double>>& test_set,
                       const Options& o) {
    const std::size_t iterations = o.iterations_given ? o.iterations : 5000;
    std::printf("One network per hidden size, %zu iterations each, learning rate %g:\n\n", iterations, o.learning_rate);
    std::printf("hidden units | training accuracy%s\n", test_set ? " | test accuracy" : "");
    std::printf("-------------+------------------%s\n", test_set ? "+--------------" : "");
    for (std::size_t n_h : o.hidden_sizes) {
        const auto p = xg::init_two_layer<double>(train_set.features(), n_h, 1, o.seed + 1);
        train(p, train_set, o, iterations, 0, "hidden " + std::to_string(n_h) + ": ");
        std::printf("%12zu | %16.2f%%", n_h, xg::accuracy(xg::predict(p, train_set.X), train_set.Y));
        if (test_set) std::printf(" | %12.2f%%", xg::accuracy(xg::predict(p, test_set->X), test_set->Y));
        std::printf("\n");
        std::fflush(stdout);
    }
}

int run(Options& o) {
    // ---- the data
    xg::Dataset<double> train_set;
    std::optional<xg::Dataset<double>> test_set;
    std::string source;
    if (!o.data.empty()) {
        train_set = xg::load_dataset<double>(o.data, o.labels);
        source = o.data + " / " + o.labels;
    } else {
        train_set = generate(o);
        source = "the " + o.dataset + " (generated, seed " + std::to_string(o.seed) + ")";
    }
    if (!o.test_data.empty()) {
        test_set = xg::load_dataset<double>(o.test_data, o.test_labels);
        if (test_set->features() != train_set.features()) {
            throw xg::ShapeError(o.test_data + ": test examples have " + std::to_string(test_set->features()) +
                                 " features, training examples " + std::to_string(train_set.features()));
        }
    } else if (o.test_fraction > 0) {
        auto split = xg::train_test_split(train_set, o.test_fraction, o.seed);
        train_set = std::move(split.first);
        test_set = std::move(split.second);
    }
    std::printf("Data: %s\n", source.c_str());
    std::printf("Training set: %s\n", describe(train_set).c_str());
    if (test_set) std::printf("Test set: %s\n", describe(*test_set).c_str());

    if (!o.hidden_sizes.empty()) {
        std::printf("\n");
        hidden_size_table(train_set, test_set, o);
        return 0;
    }

    // ---- the parameters
    xg::TwoLayerParams<double> p;
    if (!o.load.empty()) {
        p = xg::load_two_layer<double>(o.load);
        if (p.n_x() != train_set.features() || p.n_y() != 1) {
            throw xg::ShapeError(o.load + ": the saved network takes " + std::to_string(p.n_x()) +
                                 " features and gives " + std::to_string(p.n_y()) + " output(s) (W1 is " +
                                 xg::to_string(p.W1.shape()) + ", W2 " + xg::to_string(p.W2.shape()) +
                                 "), but the data has " + std::to_string(train_set.features()) + " features (X is " +
                                 xg::to_string(xg::shape_of(train_set.X)) + ") and one label per example");
        }
        if (o.hidden_given && o.hidden != p.n_h()) {
            throw xg::ShapeError(o.load + ": the saved network has " + std::to_string(p.n_h()) +
                                 " hidden units, --hidden asks for " + std::to_string(o.hidden));
        }
    } else {
        const xg::Init init = o.init == "zeros" ? xg::Init::zeros : xg::Init::random;
        p = xg::init_two_layer<double>(train_set.features(), o.hidden, 1, o.seed + 1, init);
    }
    std::printf("Network: %zu inputs -> %zu tanh units -> 1 sigmoid output; learning rate %g, %zu iterations%s\n",
                p.n_x(), p.n_h(), o.learning_rate, o.iterations,
                o.load.empty() ? (o.init == "zeros" ? ", all weights starting at zero" : "")
                               : (", starting from " + o.load).c_str());

    // ---- training
    const xg::TrainResult<double> result = train(p, train_set, o, o.iterations, o.print_every, "");

    if (o.init == "zeros" && o.load.empty()) {
        const bool same = xg::hidden_units_identical(p);
        std::printf("Rows of W1 all equal after training: %s\n", same ? "yes" : "no");
        if (same) {
            std::printf(
                "  Every hidden unit started equal, got equal gradients and stayed equal: the %zu units\n"
                "  compute one function. Random initialisation breaks this symmetry.\n",
                p.n_h());
        }
        std::printf("W1 = [");
        for (std::size_t h = 0; h < p.n_h(); ++h) {
            std::printf("%s[", h ? ", " : "");
            for (std::size_t i = 0; i < p.n_x(); ++i) std::printf("%s%g", i ? ", " : "", p.W1.value()(h, i));
            std::printf("]");
        }
        std::printf("]\n");
    }
    std::printf("Training accuracy: %.2f%%\n", xg::accuracy(xg::predict(p, train_set.X), train_set.Y));
    if (test_set) std::printf("Test accuracy: %.2f%%\n", xg::accuracy(xg::predict(p, test_set->X), test_set->Y));

    // ---- results on disk
    if (!o.save.empty()) {
        xg::save_parameters(o.save, p.all());
        std::printf("Saved W1, b1, W2, b2 to %s (%s)\n", o.save.c_str(), xg::checkpoint_info(o.save).manifest.c_str());
    }
    if (!o.plot.empty()) {
        char title[160];
        std::snprintf(title, sizeof title, "Two-layer network, %zu hidden units: training accuracy %.2f%%", p.n_h(),
                      xg::accuracy(xg::predict(p, train_set.X), train_set.Y));
        const std::string err = plot::draw(o.plot, train_set, p, result.costs, title);
        if (err.empty()) {
            std::printf("Drew %s\n", o.plot.c_str());
        } else {
            std::fflush(stdout);
            std::fprintf(stderr, "two_layer_net: no picture: %s\n", err.c_str());
        }
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    CLI::App app{
        "Train the two-layer network Z1 = W1 X + b1, A1 = tanh(Z1), Z2 = W2 A1 + b2, A2 = sigmoid(Z2)\n"
        "with binary cross-entropy and plain gradient descent, on the planar \"flower\" data by default.",
        "two_layer_net"};
    app.get_formatter()->column_width(34);
    app.add_option("--dataset", o.dataset, "Generated data set (two classes)")
        ->check(CLI::IsMember({"flower", "moons", "circles", "spirals", "blobs"}))
        ->capture_default_str();
    app.add_option("--examples", o.examples, "Number of generated examples")
        ->check(CLI::Range(2, 10000000))
        ->capture_default_str();
    auto* data = app.add_option("--data", o.data, "Your examples X, n_x x m (one per column): .npy or .csv")
                     ->check(CLI::ExistingFile);
    auto* labels = app.add_option("--labels", o.labels, "Their labels Y, 1 x m, each 0 or 1: .npy or .csv")
                       ->check(CLI::ExistingFile);
    data->needs(labels);
    labels->needs(data);
    auto* tdata =
        app.add_option("--test-data", o.test_data, "Test examples (same format as --data)")->check(CLI::ExistingFile);
    auto* tlabels = app.add_option("--test-labels", o.test_labels, "Test labels (same format as --labels)")
                        ->check(CLI::ExistingFile);
    tdata->needs(tlabels);
    tlabels->needs(tdata);
    app.add_option("--test-fraction", o.test_fraction, "Hold out this fraction of the data as a test set")
        ->check(CLI::Range(0.0, 0.9))
        ->excludes(tdata);
    auto* hidden =
        app.add_option("--hidden", o.hidden, "Hidden units n_h")->check(CLI::Range(1, 100000))->capture_default_str();
    app.add_option("--learning-rate", o.learning_rate, "Learning rate alpha")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    auto* iterations = app.add_option("--iterations", o.iterations, "Gradient-descent steps")->capture_default_str();
    app.add_option("--seed", o.seed,
                   "Generated data use this seed, the weights seed + 1 (1: the lecture's data and weights)")
        ->capture_default_str();
    app.add_option("--print-every", o.print_every, "Print the cost every N iterations (0: never)")
        ->capture_default_str();
    app.add_option("--save", o.save, "Save W1, b1, W2, b2 as a checkpoint in DIR (DIR/xgrad-gen-N/W1.npy ...) after training")->type_name("DIR");
    auto* load = app.add_option("--load", o.load, "Start from the checkpoint in DIR (with --iterations 0: just evaluate)")
                     ->type_name("DIR")
                     ->check(CLI::ExistingDirectory);
    app.add_option("--plot", o.plot, "Draw the decision boundary and the cost curve (.png or .svg; needs gnuplot)")
        ->type_name("FILE")
        ->check([](const std::string& f) {
            return plot::terminal_for(f).empty() ? std::string("the picture's name must end in .png or .svg")
                                                 : std::string();
        });
    auto* init = app.add_option("--init", o.init, "Initial weights: random (N(0,1) * 0.01) or zeros")
                     ->check(CLI::IsMember({"random", "zeros"}))
                     ->capture_default_str();
    init->excludes(load);
    app.add_option("--hidden-sizes", o.hidden_sizes,
                   "Train one network per size (5000 iterations each unless --iterations) and print a table")
        ->delimiter(',')
        ->type_name("N,N,...")
        ->check(CLI::Range(1, 100000))
        ->excludes(hidden)
        ->excludes(load);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    o.iterations_given = iterations->count() > 0;
    o.hidden_given = hidden->count() > 0;

    try {
        return run(o);
    } catch (const xg::Error& e) {
        std::fflush(stdout);
        std::fprintf(stderr, "two_layer_net: error: %s\n", e.what());
        return 1;
    }
}

// Fashion-MNIST: a classifier of Zalando's 28 × 28 grey images of clothes
// (ten classes), trained with Adam on mini-batches and measured on the
// 10 000 test images.
//
//     X (784 × m, pixels in [0, 1], one image per column: 1x28x28)
//     --model mlp:  784 -> 512 relu -> 256 relu -> 10 logits
//     --model cnn:  1x28x28 -> conv3x3 32 relu -> maxpool 2 -> conv3x3 64 relu -> maxpool 2
//                   -> 128 relu -> 10 logits
//     J = −(1/m) Σ log softmax(Z[L])[y]   (softmax cross-entropy)
//
//   fashion_mnist                                  # the MLP, 30 epochs (float32): about 90% on the test set
//   fashion_mnist --model cnn                      # the CNN: about 92%
//   fashion_mnist --subset 2000 --epochs 2         # a quick run on the first 2000 training images
//   fashion_mnist --save model                     # a checkpoint: model/xgrad-manifest.txt, model/xgrad-gen-1/W1.npy, ...
//   fashion_mnist --load model --epochs 0          # evaluate a saved model
//   fashion_mnist --plot fashion.png               # curves and misclassified images (gnuplot)
//
// The data comes from Debian's package dataset-fashion-mnist (scripts/setup
// installs it). docs/fashion-mnist.md explains the program step by step.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <xgrad/threads.hpp>
#include <xgrad/xgrad.hpp>

#include "fashion_mnist_plot.hpp"

namespace {

// float32: the same accuracy as float64 here (to 0.1%), in half the time.
using Real = float;
using Clock = std::chrono::steady_clock;

struct Options {
    std::string model = "mlp";
    std::vector<std::size_t> hidden;  // empty: the model's own
    std::size_t epochs = 0;           // the model's own unless given
    std::size_t batch_size = 128;
    double learning_rate = 0.001;
    double decay = 1;                 // the model's own unless given
    std::uint32_t seed = 1;
    std::size_t threads = 0;
    std::string save, load, plot;
    std::size_t subset = 0;
    std::size_t validation = 0;
    std::string data = xg::fashion_mnist_dir();
    bool expect_loss_drop = false;
    double target = 0;
};

// ---- the models: one builder per --model name --------------------------------------

// The relu layers of --hidden, or `otherwise`, then the logits: He
// initialisation for the relu layers, Xavier for the logits
// (softmax_cross_entropy applies the softmax).
void add_dense_layers(xg::Sequential<Real>& model, const Options& o, std::vector<std::size_t> otherwise,
                      std::size_t classes) {
    for (std::size_t h : o.hidden.empty() ? otherwise : o.hidden) model.add(h, xg::Activation::relu, xg::init::he());
    model.add(classes, xg::Activation::identity, xg::init::xavier());
}

// 784 -> 512 relu -> 256 relu -> 10 logits.
xg::Sequential<Real> build_mlp(const Options& o, std::size_t n_in, std::size_t classes) {
    xg::Sequential<Real> model(n_in, o.seed);
    add_dense_layers(model, o, {512, 256}, classes);
    return model;
}

// 1x28x28 -> conv3x3 32 relu -> maxpool 2 -> conv3x3 64 relu -> maxpool 2
// -> 128 relu -> 10 logits; zero padding 1 keeps each convolution's image
// size, He initialisation by each kernel's fan-in C·3·3.
xg::Sequential<Real> build_cnn(const Options& o, std::size_t n_in, std::size_t classes) {
    xg::Sequential<Real> model(xg::ImageShape{1, 28, 28}, o.seed);
    if (n_in != model.n_in()) throw xg::ShapeError("the cnn reads images of 1x28x28, not " + std::to_string(n_in) + " pixels");
    model.add_conv2d(32, 3, xg::Activation::relu, /*stride=*/1, /*padding=*/1).add_max_pool2d(2);
    model.add_conv2d(64, 3, xg::Activation::relu, /*stride=*/1, /*padding=*/1).add_max_pool2d(2);
    add_dense_layers(model, o, {128}, classes);
    return model;
}

// A --model: its builder and its training recipe (chosen on a validation
// split, see docs/fashion-mnist.md), which --epochs and --decay override.
struct ModelChoice {
    const char* name;
    xg::Sequential<Real> (*build)(const Options& o, std::size_t n_in, std::size_t classes);
    std::size_t epochs;
    double decay;
};

// The values --model accepts.
const std::vector<ModelChoice> model_choices = {
    {"mlp", build_mlp, 30, 0.9},
    {"cnn", build_cnn, 12, 0.8},
};

const ModelChoice& model_choice(const std::string& name) {
    for (const ModelChoice& m : model_choices)
        if (name == m.name) return m;
    throw xg::ValueError("no model named '" + name + "'");
}

// ---- measuring -----------------------------------------------------------------------

// A model's verdicts on a data set: confusion(t, p) counts the images of true
// class t predicted as p; predicted holds each image's predicted class.
struct Evaluation {
    std::vector<std::vector<std::size_t>> confusion;
    std::vector<std::size_t> predicted;
    double loss = 0;  // the mean softmax cross-entropy

    double accuracy() const {
        std::size_t right = 0, all = 0;
        for (std::size_t t = 0; t < confusion.size(); ++t)
            for (std::size_t p = 0; p < confusion.size(); ++p) (t == p ? right : all) += confusion[t][p];
        return 100.0 * double(right) / double(right + all);
    }
};

// Forward only (Sequential::predict), 1000 images at a time (a convolution
// keeps its im2col buffer, 9·C·H·W numbers per image): the logits Z,
// predicted class argmax_k Z(k, j), loss log Σ_k e^Z(k, j) − Z(y_j, j).
Evaluation evaluate(const xg::Sequential<Real>& model, const xg::Dataset<Real>& data) {
    Evaluation e;
    e.confusion.assign(data.classes, std::vector<std::size_t>(data.classes, 0));
    e.predicted.resize(data.size());
    const std::size_t chunk = 1000, rows = data.features();
    xg::Matrix<Real> part, Z;
    for (std::size_t first = 0; first < data.size(); first += chunk) {
        const std::size_t n = std::min(chunk, data.size() - first);
        if (part.shape()[1] != n) part.resize({rows, n});
        for (std::size_t i = 0; i < rows; ++i)
            std::copy_n(&data.X(i, first), n, &part(i, 0));
        model.predict(part, Z);
        for (std::size_t j = 0; j < n; ++j) {
            std::size_t best = 0;
            double top = Z(0, j);
            for (std::size_t k = 1; k < data.classes; ++k)
                if (Z(k, j) > top) top = Z(k, j), best = k;
            double sum = 0;
            for (std::size_t k = 0; k < data.classes; ++k) sum += std::exp(double(Z(k, j)) - top);
            const std::size_t y = std::size_t(data.Y(0, first + j));
            e.loss += (top + std::log(sum) - double(Z(y, j))) / double(data.size());
            e.predicted[first + j] = best;
            ++e.confusion[y][best];
        }
    }
    return e;
}

std::string duration(double seconds) {
    char buf[32];
    const long s = std::lround(seconds);
    if (seconds < 60) std::snprintf(buf, sizeof buf, "%.1f s", seconds);
    else std::snprintf(buf, sizeof buf, "%ldm %02lds", s / 60, s % 60);
    return buf;
}

// The line of the epoch in progress: on a terminal, redrawn in place (\r) at
// most ten times a second; otherwise nothing until the epoch's own line.
class Progress {
public:
    explicit Progress(bool terminal) : terminal_(terminal) {}

    void start(std::size_t epoch, std::size_t epochs, std::size_t batches) {
        epoch_ = epoch, epochs_ = epochs, batches_ = batches;
        start_ = last_ = Clock::now();
    }

    // After each batch: batches done, examples done and the epoch's running mean loss.
    void update(std::size_t done, std::size_t examples, double loss) {
        if (!terminal_) return;
        const auto now = Clock::now();
        if (done < batches_ && now - last_ < std::chrono::milliseconds(100)) return;
        last_ = now;
        const double secs = std::chrono::duration<double>(now - start_).count();
        const double eta = secs / double(done) * double(batches_ - done);
        std::printf("\repoch %2zu/%zu  batch %zu/%zu  %.0f examples/s  ETA %s  loss %.4f\033[K", epoch_, epochs_, done,
                    batches_, double(examples) / std::max(secs, 1e-9), duration(eta).c_str(), loss);
        std::fflush(stdout);
    }

    // The epoch's line, replacing the progress line on a terminal.
    void finish(const std::string& line) {
        std::printf("%s%s\n", terminal_ ? "\r\033[K" : "", line.c_str());
        std::fflush(stdout);
    }

private:
    bool terminal_;
    std::size_t epoch_ = 0, epochs_ = 0, batches_ = 0;
    Clock::time_point start_, last_;
};

void print_confusion(const Evaluation& e) {
    const std::vector<std::string>& names = xg::fashion_mnist_classes();
    std::printf("confusion matrix (rows: true class, columns: predicted class)\n%16s", "");
    for (std::size_t p = 0; p < names.size(); ++p) std::printf("%6zu", p);
    std::printf("\n");
    for (std::size_t t = 0; t < names.size(); ++t) {
        std::printf("%zu %-14s", t, names[t].c_str());
        for (std::size_t p = 0; p < names.size(); ++p) std::printf("%6zu", e.confusion[t][p]);
        std::printf("\n");
    }
}

// ---- the program --------------------------------------------------------------------

// Examples first … last − 1 of a data set.
xg::Dataset<Real> columns(const xg::Dataset<Real>& d, std::size_t first, std::size_t last) {
    xg::Dataset<Real> out{xg::Matrix<Real>({d.features(), last - first}), xg::Matrix<Real>({1, last - first}),
                          d.classes};
    for (std::size_t i = 0; i < d.features(); ++i) std::copy(&d.X(i, first), &d.X(i, 0) + last, &out.X(i, 0));
    std::copy(&d.Y(0, first), &d.Y(0, 0) + last, &out.Y(0, 0));
    return out;
}

int run(const Options& o) {
    if (o.threads > 0) xg::set_threads(o.threads);
    const std::size_t all = std::numeric_limits<std::size_t>::max();
    // With --subset alone, only the first N images are read.
    const std::size_t wanted = o.subset > 0 && o.validation == 0 ? o.subset : all;
    xg::Dataset<Real> train = xg::load_fashion_mnist<Real>(xg::FashionMnistSplit::train, wanted, o.data), test;
    if (o.validation > 0) {
        // Choosing a recipe: measure on the last N training images, never on the test set.
        if (o.validation >= train.size())
            throw xg::ValueError("--validation " + std::to_string(o.validation) +
                                 " leaves no training image of " + std::to_string(train.size()));
        test = columns(train, train.size() - o.validation, train.size());
        train = columns(train, 0, train.size() - o.validation);
    } else {
        test = xg::load_fashion_mnist<Real>(xg::FashionMnistSplit::test, all, o.data);
    }
    if (o.subset > 0 && o.subset < train.size()) train = columns(train, 0, o.subset);
    const char* measured = o.validation > 0 ? "validation" : "test";

    xg::Sequential<Real> model = model_choice(o.model).build(o, train.features(), train.classes);
    if (!o.load.empty()) xg::load_parameters(o.load, model.parameters());

    // The training graph, built once on input leaves of a batch's shape; each
    // mini-batch replaces their values. Adam, α = α0 · decay^epoch.
    xg::MiniBatches<Real> batches(train.X, train.Y, o.batch_size, o.seed);
    xg::Graph<Real> g;
    auto [X, Y] = batches.inputs(g);
    auto J = xg::softmax_cross_entropy(model(X), Y).named("J");
    xg::Adam<Real> adam(model.parameters(), xg::exponential_decay(o.learning_rate, o.decay, batches.batches()));

    std::printf("model %s (%s, %zu threads):\n%s", o.model.c_str(), sizeof(Real) == 4 ? "float32" : "float64",
                xg::threads(), model.summary().c_str());
    std::printf("data: %zu training and %zu %s images of %zu pixels (%s)%s\n", train.size(), test.size(), measured,
                train.features(), o.data.c_str(), o.load.empty() ? "" : (", weights from " + o.load).c_str());
    std::printf("%s, mini-batches of %zu (%zu per epoch), %zu epochs\n", adam.describe().c_str(), o.batch_size,
                batches.batches(), o.epochs);

    Evaluation e = evaluate(model, test);
    std::vector<double> losses = {evaluate(model, train).loss}, accuracies = {e.accuracy()};
    std::printf("epoch %2d/%zu  loss %.4f (start)  %s accuracy %.2f%%\n", 0, o.epochs, losses[0], measured,
                accuracies[0]);

    Progress progress(::isatty(STDOUT_FILENO));
    double training_seconds = 0;
    for (std::size_t epoch = 1; epoch <= o.epochs; ++epoch) {
        const auto start = Clock::now();
        progress.start(epoch, o.epochs, batches.batches());
        double loss = 0;  // the mean over the epoch's examples so far
        std::size_t seen = 0, done = 0;
        for (const xg::Batch<Real>& batch : batches.next_epoch()) {
            g.set_value(X, batch.X);
            g.set_value(Y, batch.Y);
            g.forward();
            g.backward(J);
            adam.step();
            seen += batch.size();
            loss += (J.value()(0, 0) - loss) * double(batch.size()) / double(seen);
            progress.update(++done, seen, loss);
        }
        e = evaluate(model, test);
        const double secs = std::chrono::duration<double>(Clock::now() - start).count();
        training_seconds += secs;
        losses.push_back(loss);
        accuracies.push_back(e.accuracy());
        char line[160];
        std::snprintf(line, sizeof line, "epoch %2zu/%zu  loss %.4f  %s accuracy %.2f%%  %s", epoch, o.epochs, loss,
                      measured, e.accuracy(), duration(secs).c_str());
        progress.finish(line);
    }

    std::printf("%s accuracy %.2f%% (%zu %s images)\n", measured, e.accuracy(), test.size(), measured);
    if (o.epochs > 0)
        std::printf("training time %s (%s per epoch)\n", duration(training_seconds).c_str(),
                    duration(training_seconds / double(o.epochs)).c_str());
    print_confusion(e);

    if (!o.save.empty()) {
        xg::save_parameters(o.save, model.parameters());
        std::printf("saved the weights and biases (%zu matrices) to %s/\n", model.parameters().size(), o.save.c_str());
    }
    if (!o.plot.empty()) {
        const std::string err = fashion_plot::draw(o.plot, losses, accuracies, test, e.predicted, measured);
        if (err.empty()) std::printf("drew %s\n", o.plot.c_str());
        else std::fflush(stdout), std::fprintf(stderr, "fashion_mnist: no picture: %s\n", err.c_str());
    }

    if (o.expect_loss_drop) {
        for (std::size_t i = 1; i < losses.size(); ++i) {
            if (!(losses[i] < losses[i - 1])) {
                std::fprintf(stderr, "fashion_mnist: the loss did not fall in epoch %zu: %.4f, then %.4f\n", i,
                             losses[i - 1], losses[i]);
                return 1;
            }
        }
    }
    if (e.accuracy() < o.target) {
        std::fprintf(stderr, "fashion_mnist: %s accuracy %.2f%% is below the target %.2f%%\n", measured,
                     e.accuracy(), o.target);
        return 1;
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    CLI::App app{"Train a classifier of Fashion-MNIST's clothes with Adam on mini-batches; report its test accuracy.",
                 "fashion_mnist"};
    app.get_formatter()->column_width(30);
    std::vector<std::string> names;
    for (const ModelChoice& m : model_choices) names.push_back(m.name);
    app.add_option("--model", o.model, "The network: mlp (784 -> 512 relu -> 256 relu -> 10) or cnn (two conv3x3 + maxpool, 128 relu, 10)")
        ->check(CLI::IsMember(names))
        ->capture_default_str();
    app.add_option("--hidden", o.hidden, "The relu layers before the logits (mlp: 512,256; cnn: 128)")
        ->delimiter(',')
        ->type_name("N,N,...")
        ->check(CLI::Range(1, 100000));
    app.add_option("--epochs", o.epochs, "Passes over the training set (0: evaluate only; mlp: 30, cnn: 12)");
    app.add_option("--batch-size", o.batch_size, "Examples per mini-batch")
        ->check(CLI::Range(1, 1000000))
        ->capture_default_str();
    app.add_option("--learning-rate", o.learning_rate, "Adam's learning rate alpha0 at epoch 0")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--decay", o.decay, "The learning rate is alpha0 * decay^epoch (1: constant; mlp: 0.9, cnn: 0.8)")
        ->check(CLI::Range(0.01, 1.0));
    app.add_option("--seed", o.seed, "Seed of the weights and the batch order")->capture_default_str();
    app.add_option("--threads", o.threads, "Threads of xgrad's loops (0: the default, see xg::threads)")
        ->capture_default_str();
    app.add_option("--save", o.save, "Save the weights as a checkpoint in DIR after training")->type_name("DIR");
    app.add_option("--load", o.load, "Start from the weights saved in DIR (with --epochs 0: evaluate them)")
        ->type_name("DIR");
    app.add_option("--validation", o.validation,
                   "Hold out the last N training images and measure on them instead of the test set")
        ->type_name("N");
    app.add_option("--subset", o.subset, "Train on the first N training images only (0: all 60000)")
        ->type_name("N");
    app.add_option("--data", o.data, "The folder of the four IDX files")->type_name("DIR")->capture_default_str();
    app.add_option("--plot", o.plot, "Draw the curves and misclassified test images (.png or .svg; needs gnuplot)")
        ->type_name("FILE")
        ->check([](const std::string& f) {
            return fashion_plot::terminal_for(f).empty() ? std::string("the picture's name must end in .png or .svg")
                                                        : std::string();
        });
    app.add_flag("--expect-loss-drop", o.expect_loss_drop,
                 "Exit with status 1 unless the training loss falls in every epoch");
    app.add_option("--target", o.target, "Exit with status 1 if the final test accuracy (%) is below this")
        ->check(CLI::Range(0.0, 100.0));
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    const ModelChoice& recipe = model_choice(o.model);
    if (app.count("--epochs") == 0) o.epochs = recipe.epochs;
    if (app.count("--decay") == 0) o.decay = recipe.decay;
    try {
        return run(o);
    } catch (const xg::Error& e) {
        std::fflush(stdout);
        std::fprintf(stderr, "fashion_mnist: error: %s\n", e.what());
        return 1;
    }
}

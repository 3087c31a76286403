// Regularisation and normalisation on a toy set small enough to overfit: a
// deep relu network on noisy "moons", trained by gradient descent four ways
//
//     plain         J = cross-entropy
//     L2            J = cross-entropy + (λ / 2m) Σ ‖W‖²     (dW = … + (λ/m) W)
//     dropout       A = D ⊙ A / keep_prob after each hidden layer
//     batch norm    Z̃ = γ ⊙ (Z − μ) / σ + β before each relu, at a learning rate
//                   plain training cannot use (shown by a fifth, plain run at that rate)
//
// and a table of the training and test accuracy and the final cost of each.
//
//   regularisation                     # the table
//   regularisation --plot four.png     # and the four decision boundaries side by side (gnuplot)
//   regularisation --lambda 2 --keep-prob 0.8 --rate 0.1 --fast-rate 1 --iterations 5000 --noise 0.3 --train 200
//
// docs/regularisation.md walks through the program; its table is this
// program's output.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <xgrad/xgrad.hpp>

#include "regularisation_plot.hpp"

namespace {

/// One way of training the network.
struct Recipe {
    std::string name;
    double learning_rate = 0.1;
    double lambda = 0;       // L2 penalty (0: none)
    double keep_prob = 1;    // dropout after each hidden layer (1: none)
    bool batch_norm = false; // batch norm before each hidden relu
};

/// The network for a recipe: 2 -> 40 -> 40 -> 40 -> 1, relu then sigmoid.
xg::Sequential<double> network(const Recipe& r) {
    xg::Sequential<double> model(2, /*seed=*/3);
    for (int l = 0; l < 3; ++l) {
        if (r.batch_norm) {
            model.add(40, xg::Activation::identity).add_batch_norm(xg::Activation::relu);
        } else {
            model.add(40, xg::Activation::relu);
        }
        if (r.keep_prob < 1) model.add_dropout(r.keep_prob);
    }
    return model.add(1, xg::Activation::sigmoid, xg::init::xavier());
}

/// The weights W of the model's Dense layers (the L2 penalty's; not the biases, γ or β).
std::vector<xg::Parameter<double>> weights(const xg::Sequential<double>& model) {
    std::vector<xg::Parameter<double>> w;
    for (const auto& layer : model.layers()) {
        if (const auto* dense = dynamic_cast<const xg::Dense<double>*>(layer.get())) w.push_back(dense->W);
    }
    return w;
}

struct Result {
    Recipe recipe;
    xg::Sequential<double> model;
    double train_accuracy, test_accuracy, cost;
};

double accuracy(const xg::Sequential<double>& model, const xg::Dataset<double>& data) {
    // predict() evaluates: no dropout, batch norm on its running averages.
    const xg::Matrix<double> a = model.predict(data.X);
    std::size_t right = 0;
    for (std::size_t j = 0; j < data.size(); ++j) right += (a(0, j) > 0.5) == (data.Y(0, j) == 1);
    return 100.0 * double(right) / double(data.size());
}

Result train(const Recipe& r, const xg::Dataset<double>& train_set, const xg::Dataset<double>& test_set,
             std::size_t iterations) {
    xg::Sequential<double> model = network(r);
    xg::Graph<double> g;  // training mode: dropout draws masks, batch norm uses the batch's statistics
    g.seed(1);
    const xg::Var<double> X = g.input(train_set.X, "X"), Y = g.input(train_set.Y, "Y");
    xg::Var<double> J = xg::binary_cross_entropy(model(X), Y);
    if (r.lambda > 0) J = J + xg::l2_penalty(X, weights(model), r.lambda);
    xg::GradientDescent<double> opt(model.parameters(), r.learning_rate);
    for (std::size_t i = 0; i < iterations; ++i) {
        g.forward();
        g.backward(J);
        opt.step();
    }
    g.forward();
    const double cost = J.value()(0, 0);
    return Result{r, model, accuracy(model, train_set), accuracy(model, test_set), cost};
}

}  // namespace

int main(int argc, char** argv) {
    std::string plot_file;
    std::size_t iterations = 2500, train_size = 100;
    double rate = 0.3, fast = 3.0, noise = 0.4, lambda = 1.0, keep = 0.7;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--plot") == 0 && i + 1 < argc) {
            plot_file = argv[++i];
        } else if (std::strcmp(argv[i], "--iterations") == 0 && i + 1 < argc) {
            iterations = std::stoul(argv[++i]);
        } else if (std::strcmp(argv[i], "--rate") == 0 && i + 1 < argc) {
            rate = std::stod(argv[++i]);
        } else if (std::strcmp(argv[i], "--lambda") == 0 && i + 1 < argc) {
            lambda = std::stod(argv[++i]);
        } else if (std::strcmp(argv[i], "--keep-prob") == 0 && i + 1 < argc) {
            keep = std::stod(argv[++i]);
        } else if (std::strcmp(argv[i], "--fast-rate") == 0 && i + 1 < argc) {
            fast = std::stod(argv[++i]);
        } else if (std::strcmp(argv[i], "--noise") == 0 && i + 1 < argc) {
            noise = std::stod(argv[++i]);
        } else if (std::strcmp(argv[i], "--train") == 0 && i + 1 < argc) {
            train_size = std::stoul(argv[++i]);
        } else {
            std::fprintf(stderr,
                         "usage: regularisation [--plot FILE.png|FILE.svg] [--iterations N] [--fast-rate ALPHA] "
                         "[--noise SIGMA] [--train M]\n");
            return 2;
        }
    }

    // A few noisy examples to train on (100), many to test on (400).
    const xg::Dataset<double> all = xg::moons(train_size + 400, /*seed=*/4, noise);
    const auto [train_set, test_set] = xg::train_test_split(all, 400.0 / double(train_size + 400), /*seed=*/4);

    char l2_name[40], dropout_name[40];
    std::snprintf(l2_name, sizeof l2_name, "L2, lambda %g", lambda);
    std::snprintf(dropout_name, sizeof dropout_name, "dropout, keep_prob %g", keep);
    const std::vector<Recipe> recipes = {
        {"plain", rate},
        {l2_name, rate, lambda},
        {dropout_name, rate, 0, keep},
        {"batch norm", fast, 0, 1, true},
        {"plain", fast},
    };
    std::printf("%zu training and %zu test examples; 2 -> 40 -> 40 -> 40 -> 1, gradient descent, %zu iterations\n\n",
                train_set.size(), test_set.size(), iterations);
    std::printf("%-24s %6s %10s %10s %11s\n", "training", "alpha", "train acc", "test acc", "final cost");
    std::vector<Result> results;
    for (const Recipe& r : recipes) {
        results.push_back(train(r, train_set, test_set, iterations));
        const Result& x = results.back();
        char cost[24];
        if (std::isfinite(x.cost)) {
            std::snprintf(cost, sizeof cost, "%.4f", x.cost);
        } else {
            std::snprintf(cost, sizeof cost, "diverged");
        }
        std::printf("%-24s %6g %9.1f%% %9.1f%% %11s\n", r.name.c_str(), r.learning_rate, x.train_accuracy,
                    x.test_accuracy, cost);
    }

    if (!plot_file.empty()) {
        std::vector<plot::Panel> panels;
        for (std::size_t k = 0; k < 4; ++k) {
            char title[96];
            std::snprintf(title, sizeof title, "%s: test %.1f%%", results[k].recipe.name.c_str(), results[k].test_accuracy);
            panels.push_back({title, &results[k].model});
        }
        const std::string error = plot::draw_boundaries(plot_file, train_set, panels);
        if (!error.empty()) {
            std::fprintf(stderr, "no picture: %s\n", error.c_str());
            return 1;
        }
        std::fprintf(stderr, "wrote %s\n", plot_file.c_str());
    }
    return 0;
}

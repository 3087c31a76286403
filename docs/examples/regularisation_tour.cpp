// Examples of docs/regularisation.md and of the reference entries of
// dropout, the L2 penalty, weight decay, batch and layer normalisation and
// their layers, one section each:
//
//   regularisation_tour modes      Graph::set_mode, seed, hold_random_state
//   regularisation_tour dropout    dropout, dropout_mask, the course's backward, explain
//   regularisation_tour check      check_gradients on a network with dropout
//   regularisation_tour l2         l2_penalty and explain's (λ/m) W
//   regularisation_tour decay      set_weight_decay, AdamW
//   regularisation_tour norm       batch_norm with RunningStats, layer_norm, explain
//   regularisation_tour layers     Dropout, BatchNorm, LayerNorm in a Sequential; summary; checkpoints
//   regularisation_tour errors     the mistakes they refuse
//
// Without an argument, every section in turn (see docs_helpers.hpp).
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <xgrad/xgrad.hpp>

#include "docs_helpers.hpp"

namespace {

void modes_section() {
    xg::Graph<double> g;
    g.seed(42);
    auto X = g.input(xg::Matrix<double>{{1.0, 2.0, 3.0, 4.0}}, "X");
    auto D = xg::dropout(X, 0.5).named("D");
    docs::print("training", D.value());
    g.hold_random_state(true);
    g.forward();
    docs::print("held", D.value());
    g.hold_random_state(false);
    g.set_mode(xg::Mode::evaluation);
    g.forward();
    docs::print("evaluation", D.value());
    std::printf("training(): %d, holding: %d\n", g.training(), g.holding_random_state());
}

void dropout_section() {
    xg::Graph<double> g;
    auto W1 = g.parameter(xg::Matrix<double>{{0.5, -1.0}, {1.5, 0.25}, {-0.5, 1.0}}, "W1");
    auto X = g.input(xg::Matrix<double>{{1.0, 2.0, -1.0, 0.5}, {0.5, -1.0, 2.0, 1.0}}, "X");
    auto A1 = tanh(matmul(W1, X)).named("A1");
    auto A1d = xg::dropout(A1, 0.8, "D1").named("A1′");  // the course's A1 = A1 * D1 / keep_prob
    auto J = sum(A1d).named("J");
    g.backward(J);

    const xg::Matrix<double> D1 = xg::dropout_mask(A1d);  // the mask this forward drew
    docs::print("D1", D1);
    // The course's backward: dA1 = D1 ⊙ dA1′ / keep_prob (here dA1′ = 1).
    docs::print("dA1", A1.grad());
    std::printf("%s", xg::explain(J).c_str());
}

void check_section() {
    xg::Graph<double> g;
    g.seed(7);
    auto X = g.input(xg::Matrix<double>{{1.0, 2.0, -1.0, 0.5}, {0.5, -1.0, 2.0, 1.0}}, "X");
    auto Y = g.input(xg::Matrix<double>{{1.0, 0.0, 1.0, 0.0}}, "Y");
    auto W1 = g.parameter(xg::Matrix<double>{{0.5, -1.0}, {1.5, 0.25}, {-0.5, 1.0}}, "W1");
    auto W2 = g.parameter(xg::Matrix<double>{{1.0, -2.0, 0.5}}, "W2");
    auto A1 = xg::dropout(tanh(matmul(W1, X)), 0.7, "D1").named("A1");
    auto J = binary_cross_entropy_with_logits(matmul(W2, A1), Y).named("J");
    // The checker holds the mask the last forward drew: every replay sees it.
    const xg::GradCheckReport r = xg::check_gradients(g, J);
    std::printf("%s\n", r.ok() ? "ok" : "FAILED");
}

void l2_section() {
    xg::Graph<double> g;
    auto X = g.input(xg::Matrix<double>{{1.0, 2.0, -1.0, 0.5}, {0.5, -1.0, 2.0, 1.0}}, "X");
    auto Y = g.input(xg::Matrix<double>{{1.0, 0.0, 1.0, 0.0}}, "Y");
    xg::Parameter<double> W1(xg::Matrix<double>{{0.5, -1.0}, {1.5, 0.25}}, "W1");
    xg::Parameter<double> W2(xg::Matrix<double>{{1.0, -2.0}}, "W2");
    auto A1 = tanh(matmul(g.parameter(W1), X)).named("A1");
    auto Z2 = matmul(g.parameter(W2), A1).named("Z2");
    auto cross_entropy = binary_cross_entropy_with_logits(Z2, Y).named("J_ce");
    // J = cross-entropy + (λ / 2m) (‖W1‖² + ‖W2‖²), m = X's 4 columns
    auto penalty = xg::l2_penalty(X, {W1, W2}, /*lambda=*/0.7).named("J_L2");
    auto J = (cross_entropy + penalty).named("J");
    std::printf("J_L2 = %g\n", penalty.value()(0, 0));
    std::printf("%s", xg::explain(J).c_str());
}

void decay_section() {
    xg::Parameter<double> W(xg::Matrix<double>{{1.0, -2.0}}, "W"), b(xg::Matrix<double>{{0.5}}, "b");
    W.grad() = xg::Matrix<double>{{0.1, 0.1}};
    b.grad() = xg::Matrix<double>{{0.1}};
    // W ← W − α λ W − α dW for W only (b is not decayed).
    xg::GradientDescent<double> sgd({W, b}, /*learning_rate=*/0.1);
    sgd.set_weight_decay(0.5, {W});
    sgd.step();
    docs::print("W", W.value());
    docs::print("b", b.value());
    std::printf("%s\n", sgd.describe().c_str());

    // AdamW: the decay beside Adam's update, not inside its averages.
    xg::AdamW<double> adamw({W}, /*learning_rate=*/0.01, /*weight_decay=*/0.01);
    adamw.step();
    std::printf("%s\n", adamw.describe().c_str());
}

void norm_section() {
    xg::Graph<double> g;
    auto Z1 = g.input(xg::Matrix<double>{{1.0, 2.0, 3.0, 6.0}, {-1.0, 0.0, 1.0, 0.0}}, "Z1");
    auto gamma = g.parameter(xg::Matrix<double>{{1.0}, {2.0}}, "γ1");
    auto beta = g.parameter(xg::Matrix<double>{{0.0}, {0.5}}, "β1");
    xg::RunningStats<double> running(2, /*momentum=*/0.1);
    auto N1 = xg::batch_norm(Z1, gamma, beta, running).named("Z̃1");  // batch statistics: training mode
    docs::print("Z̃1", N1.value());
    docs::print("running mean", running.mean.value());
    docs::print("running variance", running.variance.value());

    g.set_mode(xg::Mode::evaluation);  // the running averages
    g.set_value(Z1, xg::Matrix<double>{{3.0}, {0.0}});
    g.forward();
    docs::print("Z̃1 (evaluation, one column)", N1.value());

    auto L = xg::layer_norm(Z1, gamma, beta).named("L1");  // each column over its rows
    docs::print("L1", L.value());

    xg::Graph<double> h;
    auto X = h.parameter(xg::Matrix<double>{{1.0, 2.0, 3.0}, {-1.0, 0.0, 4.0}}, "Z1");
    auto J = sum(xg::batch_norm(X, h.parameter(xg::Matrix<double>{{1.0}, {2.0}}, "γ1"),
                                h.parameter(xg::Matrix<double>{{0.0}, {0.5}}, "β1"))
                     .named("Z̃1"))
                 .named("J");
    std::printf("%s", xg::explain(J).c_str());
}

void layers_section() {
    xg::Sequential<double> model(2, /*seed=*/1);
    model.add(16, xg::Activation::identity)
        .add_batch_norm(xg::Activation::relu)  // Z̃2 = γ2 ⊙ X̂2 + β2, A2 = relu(Z̃2)
        .add_dropout(0.8)                      // A3 = D3 ⊙ A2 / 0.8
        .add(8, xg::Activation::identity)
        .add_layer_norm(xg::Activation::tanh)
        .add(1, xg::Activation::sigmoid);
    std::printf("%s", model.summary().c_str());

    xg::Graph<double> g;  // training: masks, batch statistics
    auto X = g.input(xg::Matrix<double>{{1.0, 2.0, -1.0, 0.5}, {0.5, -1.0, 2.0, 1.0}}, "X");
    auto Y = g.input(xg::Matrix<double>{{1.0, 0.0, 1.0, 0.0}}, "Y");
    auto J = binary_cross_entropy(model(X), Y);
    xg::GradientDescent<double> opt(model.parameters(), 0.1);
    for (int i = 0; i < 10; ++i) {
        g.forward();
        g.backward(J);
        opt.step();
    }
    const xg::Matrix<double> p = model.predict(X.value());  // evaluation: no dropout, running averages

    // parameters() and the running averages: what a checkpoint must hold.
    const std::string dir = (std::filesystem::temp_directory_path() / "xgrad-docs-regularisation").string();
    xg::save_parameters(dir, model.checkpoint_parameters());
    xg::Sequential<double> copy(2, /*seed=*/99);
    copy.add(16, xg::Activation::identity).add_batch_norm(xg::Activation::relu).add_dropout(0.8);
    copy.add(8, xg::Activation::identity).add_layer_norm(xg::Activation::tanh).add(1, xg::Activation::sigmoid);
    xg::load_parameters(dir, copy.checkpoint_parameters());
    std::printf("%zu saved; the copy predicts the same: %s\n", model.checkpoint_parameters().size(),
                copy.predict(X.value()) == p ? "yes" : "no");
    std::filesystem::remove_all(dir);
}

template <class E, class F>
void report(const char* what, F&& f) {
    try {
        f();
        std::printf("%s: no error\n", what);
    } catch (const E& e) {
        std::printf("%s: %s\n", what, e.what());
    }
}

void errors_section() {
    xg::Graph<double> g;
    auto A1 = g.input(xg::Matrix<double>{{1.0, 2.0}, {3.0, 4.0}}, "A1");
    auto z = g.input(xg::Matrix<double>{{1.0}, {2.0}}, "z");
    auto gamma = g.parameter(xg::Matrix<double>{{1.0}, {1.0}}, "γ1");
    auto beta = g.parameter(xg::Matrix<double>{{0.0}, {0.0}}, "β1");
    xg::Parameter<double> W9(xg::Matrix<double>{{1.0}}, "W9");
    report<xg::ValueError>("keep_prob 0", [&] { xg::dropout(A1, 0.0); });
    report<xg::ValueError>("batch norm on one column", [&] { xg::batch_norm(z, gamma, beta); });
    g.set_mode(xg::Mode::evaluation);
    report<xg::ValueError>("evaluation before any average",
                           [&] { xg::batch_norm(A1, gamma, beta, xg::RunningStats<double>(2)); });
    report<xg::GraphError>("a penalty over a parameter not in the graph",
                           [&] { xg::l2_penalty(A1, {W9}, 0.1); });
}

}  // namespace

int main(int argc, char** argv) {
    return docs::run_sections(argc, argv,
                              {{"modes", modes_section},
                               {"dropout", dropout_section},
                               {"check", check_section},
                               {"l2", l2_section},
                               {"decay", decay_section},
                               {"norm", norm_section},
                               {"layers", layers_section},
                               {"errors", errors_section}});
}

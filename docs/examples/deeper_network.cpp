// A deeper network from layers: the lecture's L-layer network built as a
// Sequential, its parameters and its derivation, forward-only predictions
// and the error a wrong input gives. Shown in docs/howto-deeper-network.md.
#include <cstdio>

#include <xgrad/xgrad.hpp>

int main() {
    // The L-layer network 2 -> 20 -> 7 -> 5 -> 1: relu hidden layers, a
    // sigmoid output, He initialisation, weights drawn from Rng(seed 1).
    xg::Sequential<double> model({2, 20, 7, 5, 1}, xg::Activation::relu, xg::Activation::sigmoid, /*seed=*/1,
                                 xg::init::he());
    std::printf("%s\n", model.describe().c_str());
    for (const auto& p : model.parameters()) {
        std::printf("  %s %s", p.name().c_str(), xg::to_string(p.shape()).c_str());
    }
    std::printf("\n");

    // Layer by layer: the same kind of model, with the initialiser of each layer chosen.
    xg::Sequential<double> classifier(/*n_in=*/2, /*seed=*/1);
    classifier.add(64, xg::Activation::relu, xg::init::he())
        .add(64, xg::Activation::relu, xg::init::he())
        .add(3, xg::Activation::identity, xg::init::xavier());  // logits for 3 classes
    std::printf("%s\n\n", classifier.describe().c_str());

    // Applied to an input node, a model builds its nodes on that graph,
    // named Z1, A1, Z2, ...: the derivation reads like the lecture's.
    const xg::Dataset<double> data = xg::spirals(/*m=*/300, /*classes=*/3);
    xg::Graph<double> g;
    auto X = g.input(data.X, "X");
    auto Y = g.input(data.Y, "Y");
    xg::Sequential<double> small({2, 8, 8, 3}, xg::Activation::relu, xg::Activation::identity);
    auto J = xg::softmax_cross_entropy(small(X), Y).named("J");
    std::printf("%s\n", xg::explain(J).c_str());

    // Forward only: class probabilities and predicted classes for new points.
    const xg::Matrix<double> points = {{0.0, 0.5, -0.5}, {0.0, 0.5, 0.5}};
    const xg::Matrix<double> logits = classifier.predict(points);  // 3 x 3: one column per point
    const xg::Matrix<double> classes = xg::argmax_classes(logits);  // 1 x 3
    std::printf("predicted classes (untrained): %g %g %g\n", classes(0, 0), classes(0, 1), classes(0, 2));

    // A wrong number of features names the layer and the shapes.
    try {
        xg::Graph<double> h;
        classifier(h.input(xg::Matrix<double>(xt::zeros<double>({3, 10})), "X"));
    } catch (const xg::ShapeError& e) {
        std::printf("ShapeError: %s\n", e.what());
    }
}

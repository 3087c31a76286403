// Errors a user can cause: typed exceptions whose messages name the op, the
// nodes and the shapes.
#include <doctest/doctest.h>

#include <random>

#include "helpers.hpp"

using xg::Matrix;
using namespace xgt;

TEST_CASE("matmul with mismatched inner dimensions: ShapeError naming op, nodes and shapes") {
    std::mt19937_64 rng(1);
    xg::Graph<double> g;
    auto W1 = g.parameter(randn(4, 2, rng), "W1");
    auto X = g.input(randn(3, 400, rng), "X");
    const std::size_t before = g.size();
    const std::string msg = message_of<xg::ShapeError>([&] { matmul(W1, X); });
    CHECK(msg == "matmul(W1, X): inner dimensions differ: W1 [4x2], X [3x400]");
    CHECK(g.size() == before);  // nothing was added
}

TEST_CASE("add with a bias of the wrong length: ShapeError naming both shapes") {
    std::mt19937_64 rng(2);
    xg::Graph<double> g;
    auto Z = g.input(randn(4, 400, rng), "Z");
    auto b1 = g.parameter(randn(3, 1, rng), "b1");
    const std::string msg = message_of<xg::ShapeError>([&] { Z + b1; });
    CHECK(contains(msg, "add(Z, b1)"));
    CHECK(contains(msg, "cannot broadcast"));
    CHECK(contains(msg, "Z [4x400]"));
    CHECK(contains(msg, "b1 [3x1]"));
    // Rows that neither match nor are 1; columns likewise.
    auto R = g.input(randn(1, 7, rng), "R");
    CHECK(contains(message_of<xg::ShapeError>([&] { Z + R; }), "R [1x7]"));
    // Unnamed nodes get generated names.
    auto t = tanh(Z);
    CHECK(contains(message_of<xg::ShapeError>([&] { t + b1; }), "add(t" + std::to_string(t.id()) + ", b1)"));
}

TEST_CASE("labels outside [0, 1] or of the wrong shape") {
    std::mt19937_64 rng(3);
    xg::Graph<double> g;
    auto Z = g.parameter(randn(1, 5, rng), "Z2");
    auto A = sigmoid(Z).named("A2");
    Matrix<double> bad = {{0, 1, 2, 0, 1}};
    auto Y = g.input(bad, "Y");
    std::string msg = message_of<xg::ValueError>([&] { binary_cross_entropy(A, Y); });
    CHECK(contains(msg, "binary_cross_entropy(A2, Y"));
    CHECK(contains(msg, "label Y(0, 2) = 2 is outside [0, 1]"));

    auto Yshape = g.input(labels01(1, 4, rng), "Y");
    msg = message_of<xg::ShapeError>([&] { binary_cross_entropy(A, Yshape); });
    CHECK(contains(msg, "labels must have the prediction's shape"));
    CHECK(contains(msg, "A2 [1x5]"));
    CHECK(contains(msg, "Y [1x4]"));

    msg = message_of<xg::ValueError>([&] { binary_cross_entropy_with_logits(Z, Y); });
    CHECK(contains(msg, "binary_cross_entropy_with_logits(Z2, Y)"));

    // New labels given on replay are checked too.
    auto Yok = g.input(labels01(1, 5, rng), "Yok");
    binary_cross_entropy(A, Yok).named("J");
    Matrix<double> nan_labels = {{0, 1, std::nan(""), 0, 1}};
    g.set_value(Yok, nan_labels);
    msg = message_of<xg::ValueError>([&] { g.forward(); });
    CHECK(msg == "J = binary_cross_entropy(A2, Yok): label Y(0, 2) is NaN");
}

TEST_CASE("probabilities of exactly 0 or 1 on the non-logits path") {
    xg::Graph<double> g;
    Matrix<double> a = {{0.5, 1.0}};
    auto A = g.parameter(a, "A");
    auto Y = g.input(Matrix<double>{{1, 1}}, "Y");
    const std::string msg = message_of<xg::ValueError>([&] { binary_cross_entropy(A, Y); });
    CHECK(contains(msg, "probability A(0, 1) = 1 is not inside (0, 1)"));
}

TEST_CASE("graph misuse: GraphError") {
    std::mt19937_64 rng(4);
    xg::Graph<double> g1, g2;
    auto a = g1.parameter(randn(2, 2, rng), "a");
    auto b = g2.parameter(randn(2, 2, rng), "b");
    CHECK(contains(message_of<xg::GraphError>([&] { a + b; }), "belongs to another graph"));

    auto c = tanh(a).named("c");
    std::string msg = message_of<xg::GraphError>([&] { g1.backward(c); });
    CHECK(contains(msg, "backward(c): the loss must be a 1x1 node, c is [2x2]"));

    auto x = g1.input(randn(2, 2, rng), "x");
    auto J = weighted_sum(a + x, rng);
    g1.backward(J);
    msg = message_of<xg::GraphError>([&] { x.grad(); });
    CHECK(contains(msg, "grad(x): the last backward() did not reach x"));
    CHECK(contains(message_of<xg::GraphError>([&] { xg::Var<double>().value(); }), "empty Var"));
}

TEST_CASE("empty matrices are rejected when the leaf is made") {
    xg::Graph<double> g;
    const std::string msg = message_of<xg::ShapeError>([&] { g.input(Matrix<double>({0, 5}), "X"); });
    CHECK(contains(msg, "input X is empty [0x5]"));
    CHECK(contains(message_of<xg::ShapeError>([&] { g.parameter(Matrix<double>({3, 0}), "W"); }),
                   "parameter W is empty [3x0]"));
}

TEST_CASE("a leaf that changes shape: forward re-infers, or reports the op that no longer fits") {
    std::mt19937_64 rng(5);
    xg::Graph<double> g;
    xg::Parameter<double> W(randn(3, 2, rng), "W");
    auto X = g.input(randn(2, 10, rng), "X");
    auto Z = matmul(g.parameter(W), X).named("Z");
    g.set_value(X, randn(2, 25, rng));  // more examples: fine
    CHECK(contains(message_of<xg::GraphError>([&] { g.backward(Z); }), "changed shape"));
    CHECK(contains(message_of<xg::GraphError>([&] { tanh(Z); }), "call forward() before building"));
    g.forward();
    CHECK(Z.shape() == xg::Shape{3, 25});
    g.set_value(X, randn(5, 25, rng));  // wrong number of features
    const std::string msg = message_of<xg::ShapeError>([&] { g.forward(); });
    CHECK(msg == "matmul(W, X): inner dimensions differ: W [3x2], X [5x25]");
    CHECK(Z.shape() == xg::Shape{3, 25});  // shapes left as they were
}

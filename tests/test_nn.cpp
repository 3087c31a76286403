// Layers, initialisers and Sequential: shapes and names, values against
// plain loops, gradients against finite differences, the lecture's two-layer
// network as a Sequential, forward-only inference, detach and accumulation
// semantics, checkpoints, and training to high accuracy.
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "alloc_count.hpp"
#include "helpers.hpp"
#include "temp_files.hpp"

using xg::Activation;
using xg::Matrix;
using xg::Parameter;
using namespace xgt;

namespace {

double apply(Activation a, double z) {
    switch (a) {
        case Activation::identity: return z;
        case Activation::relu: return z > 0 ? z : 0;
        case Activation::leaky_relu: return z > 0 ? z : 0.01 * z;
        case Activation::tanh: return std::tanh(z);
        case Activation::sigmoid: return 1 / (1 + std::exp(-z));
        case Activation::softplus: return std::log1p(std::exp(z));
    }
    return NAN;
}

/// g(W · A + b) with plain loops.
Matrix<double> ref_layer(const xg::Dense<double>& d, const Matrix<double>& A) {
    Matrix<double> Z = ref_matmul(d.W.value(), A);
    for (std::size_t i = 0; i < Z.shape()[0]; ++i)
        for (std::size_t j = 0; j < Z.shape()[1]; ++j) Z(i, j) = apply(d.activation(), Z(i, j) + d.b.value()(i, 0));
    return Z;
}

Matrix<double> ref_model(const xg::Sequential<double>& model, Matrix<double> A) {
    for (std::size_t l = 0; l < model.size(); ++l) A = ref_layer(model.dense(l), A);
    return A;
}

double sample_stddev(const Matrix<double>& m) {
    double s = 0, s2 = 0;
    for (double v : m) {
        s += v;
        s2 += v * v;
    }
    const double n = double(m.size());
    return std::sqrt(s2 / n - (s / n) * (s / n));
}

}  // namespace

// ---- initialisers ------------------------------------------------------------------

TEST_CASE("initialisers: their standard deviations, drawn as numpy draws them") {
    CHECK(xg::init::normal().stddev(400, 7) == 0.01);
    CHECK(xg::init::xavier().stddev(30, 20) == doctest::Approx(std::sqrt(2.0 / 50)));
    CHECK(xg::init::he().stddev(50, 7) == doctest::Approx(std::sqrt(2.0 / 50)));
    CHECK(xg::init::he(0.5).stddev(8, 7) == doctest::Approx(0.25));
    CHECK(xg::init::zeros().stddev(3, 3) == 0);
    CHECK(xg::init::normal(0.01).describe() == "normal(0.01)");
    CHECK(xg::init::xavier().describe() == "xavier");
    CHECK(xg::init::he(2).describe() == "he(gain 2)");

    // normal(0.01) is np.random.seed(s); np.random.randn(n_out, n_in) * 0.01.
    xg::Rng a(2), b(2);
    const Matrix<double> W = xg::initial_weights<double>(xg::init::normal(0.01), 4, 2, a);
    CHECK(W == xg::randn<double>(4, 2, b, 0.01));
    // Reproducible: the same seed draws the same matrix.
    xg::Rng c(9), d(9);
    CHECK(xg::initial_weights<double>(xg::init::he(), 5, 6, c) == xg::initial_weights<double>(xg::init::he(), 5, 6, d));
    // zeros draws nothing.
    xg::Rng e(3), f(3);
    CHECK(xt::all(xt::equal(xg::initial_weights<double>(xg::init::zeros(), 3, 2, e), 0.0)));
    CHECK(e.next_u32() == f.next_u32());

    // The spread of a large draw is the σ asked for.
    xg::Rng r(1);
    CHECK(sample_stddev(xg::initial_weights<double>(xg::init::he(), 200, 100, r)) ==
          doctest::Approx(std::sqrt(2.0 / 100)).epsilon(0.02));
    CHECK(sample_stddev(xg::initial_weights<double>(xg::init::xavier(), 200, 100, r)) ==
          doctest::Approx(std::sqrt(2.0 / 300)).epsilon(0.02));
    CHECK(xg::initial_weights<float>(xg::init::he(), 3, 4, r).shape()[1] == 4);
}

TEST_CASE("initialisers: bad scales and sizes are refused") {
    CHECK(contains(message_of<xg::ValueError>([] { xg::init::normal(-0.01); }),
                   "init::normal: the scale must be finite and not negative, got -0.01"));
    CHECK_THROWS_AS(xg::init::he(NAN), xg::ValueError);
    CHECK_THROWS_AS(xg::init::xavier(INFINITY), xg::ValueError);
    xg::Rng r(1);
    CHECK_THROWS_AS(xg::initial_weights<double>(xg::init::he(), 0, 3, r), xg::ValueError);
    CHECK_THROWS_AS(xg::initial_weights<double>(xg::Initializer{xg::Initializer::Kind::normal, -1.0}, 2, 3, r),
                    xg::ValueError);
}

// ---- Dense ----------------------------------------------------------------------------------

TEST_CASE("Dense: the lecture's shapes and names, and g(W X + b) for every activation") {
    std::mt19937_64 rng(1);
    const Matrix<double> X = randn(3, 7, rng);
    for (Activation a : {Activation::identity, Activation::relu, Activation::leaky_relu, Activation::tanh,
                         Activation::sigmoid, Activation::softplus}) {
        CAPTURE(xg::to_string(a));
        xg::Rng r(4);
        xg::Dense<double> layer(3, 5, a, r, xg::init::xavier(), "2");
        CHECK(layer.W.shape() == xg::Shape{5, 3});
        CHECK(layer.b.shape() == xg::Shape{5, 1});
        CHECK(layer.W.name() == "W2");
        CHECK(layer.b.name() == "b2");
        CHECK(xt::all(xt::equal(layer.b.value(), 0.0)));
        layer.b.value() = randn(5, 1, rng);  // so that b shows in the values
        xg::Graph<double> g;
        auto out = layer(g.input(X, "X"));
        CHECK(out.shape() == xg::Shape{5, 7});
        CHECK(rel_err(out.value(), ref_layer(layer, X)) < 1e-14);
        CHECK(out.name() == (a == Activation::identity ? "Z2" : "A2"));
    }
    xg::Rng r(4);
    CHECK(xg::Dense<double>(2, 64, Activation::relu, r).describe() == "Dense 2 -> 64, relu");
}

TEST_CASE("Dense: a wrong number of input rows is a ShapeError naming the layer") {
    xg::Rng r(1);
    xg::Dense<double> layer(2, 64, Activation::relu, r, xg::init::he(), "1");
    xg::Graph<double> g;
    auto X = g.input(Matrix<double>(xt::ones<double>({3, 100})), "X");
    CHECK(message_of<xg::ShapeError>([&] { layer(X); }) ==
          "layer 1 (Dense 2 -> 64, relu): input X is [3x100]; the layer takes 2 rows (features), one column per "
          "example");

    // On replay, new data of the wrong height is caught by the engine, whose
    // message names the layer's parameter.
    auto X2 = g.input(Matrix<double>(xt::ones<double>({2, 10})), "X2");
    layer(X2);
    g.set_value(X2, Matrix<double>(xt::ones<double>({3, 10})));
    CHECK(message_of<xg::ShapeError>([&] { g.forward(); }) ==
          "matmul(W1, X2): inner dimensions differ: W1 [64x2], X2 [3x10]");
}

TEST_CASE("Dense over existing parameters; its checks") {
    Parameter<double> W(Matrix<double>{{1.0, 2.0}, {3.0, 4.0}, {5.0, 6.0}}, "Wout"), b(Matrix<double>{{1.0}, {0.0}, {-1.0}}, "bout");
    xg::Dense<double> layer(W, b, Activation::identity, "out");
    CHECK(layer.n_in() == 2);
    CHECK(layer.n_out() == 3);
    xg::Graph<double> g;
    auto Z = layer(g.input(Matrix<double>{{1.0}, {1.0}}, "x"));
    CHECK(Z.value() == Matrix<double>{{4.0}, {7.0}, {10.0}});
    CHECK(Z.name() == "Zout");
    CHECK(message_of<xg::ShapeError>([&] { xg::Dense<double>(W, Parameter<double>(Matrix<double>{{1.0}}, "b"), Activation::relu); }) ==
          "Dense 1: Wout is [3x2] and b is [1x1]; a layer needs a non-empty W (n_out x n_in) and b of n_out x 1");
    CHECK_THROWS_AS(xg::Dense<double>(Parameter<double>(), b, Activation::relu), xg::GraphError);
    xg::Rng r(1);
    CHECK_THROWS_AS(xg::Dense<double>(0, 3, Activation::relu, r), xg::ValueError);
    CHECK(contains(message_of<xg::ValueError>([&] { xg::Dense<double>(2, 3, Activation::relu, r, xg::init::he(), "a/b"); }),
                   "the label 'a/b' would not make parameter file names"));
}

// ---- Sequential -------------------------------------------------------------------------------

TEST_CASE("Sequential: the L-layer network 2 -> 20 -> 7 -> 5 -> 1") {
    xg::Sequential<double> model({2, 20, 7, 5, 1}, Activation::relu, Activation::sigmoid, /*seed=*/3);
    REQUIRE(model.size() == 4);
    const xg::Shape want[] = {{20, 2}, {7, 20}, {5, 7}, {1, 5}};
    const auto params = model.parameters();
    REQUIRE(params.size() == 8);
    for (std::size_t l = 0; l < 4; ++l) {
        CHECK(params[2 * l].name() == "W" + std::to_string(l + 1));
        CHECK(params[2 * l + 1].name() == "b" + std::to_string(l + 1));
        CHECK(params[2 * l].shape() == want[l]);
        CHECK(params[2 * l + 1].shape() == xg::Shape{want[l].rows, 1});
    }
    CHECK(model.parameter_count() == 20 * 3 + 7 * 21 + 5 * 8 + 1 * 6);
    CHECK(model.describe() == "2 -> 20 relu -> 7 relu -> 5 relu -> 1 sigmoid (253 parameters)");
    CHECK(model.n_in() == 2);
    CHECK(model.n_out() == 1);

    std::mt19937_64 rng(2);
    const Matrix<double> X = randn(2, 30, rng);
    xg::Graph<double> g;
    auto A4 = model(g.input(X, "X"));
    CHECK(A4.name() == "A4");
    CHECK(rel_err(A4.value(), ref_model(model, X)) < 1e-13);

    // The same seed, the same network; another seed, another one.
    xg::Sequential<double> same({2, 20, 7, 5, 1}, Activation::relu, Activation::sigmoid, 3);
    xg::Sequential<double> other({2, 20, 7, 5, 1}, Activation::relu, Activation::sigmoid, 4);
    CHECK(same.dense(2).W.value() == model.dense(2).W.value());
    CHECK(other.dense(2).W.value() != model.dense(2).W.value());
}

TEST_CASE("Sequential: gradients of every layer agree with finite differences") {
    std::mt19937_64 rng(8);
    const Matrix<double> X = randn(3, 9, rng);
    SUBCASE("softmax classifier through tanh, leaky relu and softplus layers") {
        xg::Sequential<double> model(3, /*seed=*/5);
        model.add(6, Activation::tanh, xg::init::xavier())
            .add(5, Activation::leaky_relu)
            .add(4, Activation::softplus, xg::init::normal(0.5))
            .add(3, Activation::identity, xg::init::xavier());
        for (auto p : model.parameters()) p.value() += randn(p.shape().rows, p.shape().cols, rng, 0.1);
        xg::Graph<double> g;
        Matrix<double> labels({1, 9});
        for (std::size_t j = 0; j < 9; ++j) labels(0, j) = double(j % 3);
        auto J = xg::softmax_cross_entropy(model(g.input(X, "X")), g.input(labels, "Y"));
        check_grads(g, J);
    }
    SUBCASE("the L-layer network with a sigmoid output and binary cross-entropy") {
        xg::Sequential<double> model({3, 8, 6, 1}, Activation::relu, Activation::sigmoid, 11);
        for (auto p : model.parameters()) p.value() += randn(p.shape().rows, p.shape().cols, rng, 0.1);
        xg::Graph<double> g;
        auto J = xg::binary_cross_entropy(model(g.input(X, "X")), g.input(labels01(1, 9, rng), "Y"));
        check_grads(g, J);
    }
}

TEST_CASE("Sequential: the lecture's two-layer network, weight for weight and cost for cost") {
    // init_two_layer(2, 4, 1, seed 2) draws W1 then W2 from N(0, 1) · 0.01:
    // a Sequential with init::normal(0.01) and the same seed draws the same.
    const xg::Dataset<double> flower = xg::flower();
    const auto lecture = xg::init_two_layer<double>(2, 4, 1, 2);
    xg::Sequential<double> model({2, 4, 1}, Activation::tanh, Activation::sigmoid, 2, xg::init::normal(0.01));
    CHECK(model.dense(0).W.value() == lecture.W1.value());
    CHECK(model.dense(1).W.value() == lecture.W2.value());

    const auto costs = xg::train_two_layer(lecture, flower.X, flower.Y, 50, 1.2).costs;
    xg::Graph<double> g;
    auto J = xg::binary_cross_entropy(model(g.input(flower.X, "X")), g.input(flower.Y, "Y"));
    xg::GradientDescent<double> opt(model.parameters(), 1.2);
    for (std::size_t i = 0; i <= 50; ++i) {
        if (i > 0) g.forward();
        CHECK(J.value()(0, 0) == doctest::Approx(costs[i]).epsilon(1e-12));
        g.backward(J);
        opt.step();
    }
}

TEST_CASE("Sequential: add checks that the layers fit and that their names differ") {
    xg::Sequential<double> model(2, 1);
    model.add(4, Activation::relu);
    xg::Rng r(1);
    CHECK(message_of<xg::ShapeError>([&] { model.add(xg::Dense<double>(3, 2, Activation::relu, r, xg::init::he(), "x")); }) ==
          "Sequential::add: layer x (Dense 3 -> 2, relu) takes 3 inputs, but the model so far gives 4 (2 -> 4 relu (12 "
          "parameters))");
    CHECK(contains(message_of<xg::ValueError>([&] { model.add(xg::Dense<double>(4, 2, Activation::relu, r, xg::init::he(), "1")); }),
                   "layer 1 has a parameter named 'W1', as layer 1 has"));
    CHECK(model.size() == 1);
    model.add(xg::Dense<double>(4, 2, Activation::identity, r, xg::init::he(), "out"));
    CHECK(model.parameters()[2].name() == "Wout");

    xg::Sequential<double> empty(3);
    xg::Graph<double> g;
    auto X = g.input(Matrix<double>(xt::ones<double>({3, 2})), "X");
    CHECK(message_of<xg::ValueError>([&] { empty(X); }) == "Sequential: the model has no layers");
    CHECK_THROWS_AS(empty.predict(X.value()), xg::ValueError);
    CHECK(empty.n_out() == 3);
    CHECK_THROWS_AS(xg::Sequential<double>(0), xg::ValueError);
    CHECK_THROWS_AS(xg::Sequential<double>({3}, Activation::relu, Activation::relu), xg::ValueError);
    CHECK_THROWS_AS(xg::Sequential<double>({3, 0, 2}, Activation::relu, Activation::relu), xg::ValueError);
}

// ---- inference -------------------------------------------------------------------------------------

TEST_CASE("predict: the training graph's output, without touching any gradient") {
    std::mt19937_64 rng(4);
    xg::Sequential<double> model({3, 6, 2}, Activation::tanh, Activation::identity, 1);
    const Matrix<double> X = randn(3, 10, rng);
    xg::Graph<double> g;
    auto out = model(g.input(X, "X"));
    auto J = xg::sum(out * out);
    g.backward(J);
    std::vector<Matrix<double>> grads;
    for (const auto& p : model.parameters()) grads.push_back(p.grad());

    CHECK(rel_err(model.predict(X), out.value()) < 1e-15);
    Matrix<double> into;
    model.predict(X, into);
    CHECK(into == model.predict(X));
    const Matrix<double> X5 = randn(3, 5, rng);
    CHECK(rel_err(model.predict(X5), ref_model(model, X5)) < 1e-14);

    // Neither predict nor forward() writes a gradient.
    g.forward();
    for (std::size_t i = 0; i < grads.size(); ++i) CHECK(model.parameters()[i].grad() == grads[i]);

    // The inference graphs read the Parameters: a step shows at once.
    xg::Parameter<double> b2 = model.dense(1).b;  // a handle: copies share the storage
    b2.value()(0, 0) += 1.0;
    CHECK(rel_err(model.predict(X5), ref_model(model, X5)) < 1e-14);

    CHECK(message_of<xg::ShapeError>([&] { model.predict(Matrix<double>(xt::ones<double>({2, 4}))); }) ==
          "Sequential::predict: X is [2x4]; the model (3 -> 6 tanh -> 2 identity (38 parameters)) takes 3 rows "
          "(features) and at least one column (example)");
}

TEST_CASE("predict: many shapes in turn give the right values (4 inference graphs kept)") {
    std::mt19937_64 rng(6);
    xg::Sequential<double> model({2, 5, 3}, Activation::relu, Activation::sigmoid, 2);
    for (int round = 0; round < 3; ++round) {
        for (std::size_t m : {1, 7, 2, 64, 9, 7, 3, 1}) {
            const Matrix<double> X = randn(2, m, rng);
            CHECK(rel_err(model.predict(X), ref_model(model, X)) < 1e-14);
        }
    }
    // A copy shares the weights and has its own inference graphs.
    xg::Sequential<double> copy = model;
    const Matrix<double> X = randn(2, 7, rng);
    xg::Parameter<double> W1 = copy.dense(0).W;
    W1.value()(0, 0) += 0.5;
    CHECK(model.predict(X) == copy.predict(X));
    CHECK(rel_err(model.predict(X), ref_model(model, X)) < 1e-14);
}

TEST_CASE("predict on a shape seen before allocates nothing (into an output of its shape)") {
    std::mt19937_64 rng(7);
    xg::Sequential<double> model({2, 8, 8, 3}, Activation::relu, Activation::identity, 1);
    const Matrix<double> X = randn(2, 20, rng), X2 = randn(2, 20, rng), Xs = randn(2, 4, rng);
    Matrix<double> out, small;
    model.predict(X, out);
    model.predict(Xs, small);
    const long before = allocation_count();
    for (int k = 0; k < 20; ++k) {
        model.predict(k % 2 ? X : X2, out);
        model.predict(Xs, small);
    }
    CHECK(allocation_count() - before == 0);
    CHECK(rel_err(out, ref_model(model, X)) < 1e-14);
}

// ---- detach and accumulation ----------------------------------------------------------------------

TEST_CASE("detach: the layers before it get no gradient, and an optimiser over them leaves them as they were") {
    std::mt19937_64 rng(9);
    xg::Sequential<double> model({3, 5, 4, 1}, Activation::tanh, Activation::sigmoid, 4);
    const Matrix<double> X = randn(3, 12, rng), Y = labels01(1, 12, rng);
    xg::Graph<double> g;
    auto features = xg::detach(model.layer(0)(g.input(X, "X")));
    auto A = model.layer(2)(model.layer(1)(features));
    auto J = xg::binary_cross_entropy(A, g.input(Y, "Y"));
    g.backward(J);
    // W1, b1 were not reached: their gradients are still the zeros they started with.
    CHECK(xt::all(xt::equal(model.dense(0).W.grad(), 0.0)));
    CHECK(!g.has_grad(g.parameter(model.dense(0).W).id()));
    // The layers after it get the gradient of a network whose input is the constant A1.
    xg::Graph<double> h;
    auto J2 = xg::binary_cross_entropy(model.layer(2)(model.layer(1)(h.input(features.value(), "A1"))),
                                       h.input(Y, "Y"));
    const Matrix<double> dW2 = model.dense(1).W.grad();
    h.backward(J2);
    CHECK(rel_err(dW2, model.dense(1).W.grad()) < 1e-15);

    const Matrix<double> W1 = model.dense(0).W.value();
    xg::GradientDescent<double> opt(model.parameters(), 0.5);
    opt.step();
    CHECK(model.dense(0).W.value() == W1);
}

TEST_CASE("accumulate: k backward sweeps add k gradients, each the mean over its own batch") {
    std::mt19937_64 rng(10);
    xg::Sequential<double> model({2, 4, 1}, Activation::tanh, Activation::sigmoid, 1);
    const Matrix<double> X = randn(2, 6, rng), Y = labels01(1, 6, rng);
    xg::Graph<double> g;
    auto Xv = g.input(X, "X"), Yv = g.input(Y, "Y");
    auto J = xg::binary_cross_entropy(model(Xv), Yv);
    g.backward(J);
    const Matrix<double> full = model.dense(0).W.grad();

    for (auto p : model.parameters()) p.zero_grad();
    for (std::size_t j = 0; j < 6; j += 2) {  // three batches of two examples
        Matrix<double> xb({2, 2}), yb({1, 2});
        for (std::size_t c = 0; c < 2; ++c) {
            xb(0, c) = X(0, j + c);
            xb(1, c) = X(1, j + c);
            yb(0, c) = Y(0, j + c);
        }
        g.set_value(Xv, xb);
        g.set_value(Yv, yb);
        g.forward();
        g.backward(J, xg::GradMode::accumulate);
    }
    CHECK(rel_err(model.dense(0).W.grad(), 3.0 * full) < 1e-13);
}

// ---- checkpoints -----------------------------------------------------------------------------------

TEST_CASE("a Sequential's parameters round-trip through save_parameters / load_parameters") {
    TempDir dir;
    xg::Sequential<double> model({2, 20, 7, 5, 3}, Activation::relu, Activation::identity, 1);
    for (auto p : model.parameters()) p.value() += 0.125;  // non-zero biases too
    xg::save_parameters(dir / "model", model.parameters());
    CHECK(dir.entries("model") == std::vector<std::string>{"xgrad-gen-1", "xgrad-manifest.txt"});
    CHECK(dir.entries("model/xgrad-gen-1") == std::vector<std::string>{"W1.npy", "W2.npy", "W3.npy", "W4.npy", "b1.npy",
                                                                       "b2.npy", "b3.npy", "b4.npy"});

    xg::Sequential<double> loaded({2, 20, 7, 5, 3}, Activation::relu, Activation::identity, /*seed=*/99);
    CHECK(loaded.dense(0).W.value() != model.dense(0).W.value());
    xg::load_parameters(dir / "model", loaded.parameters());
    for (std::size_t i = 0; i < model.parameters().size(); ++i) {
        CHECK(loaded.parameters()[i].value() == model.parameters()[i].value());  // bit for bit
    }
    const Matrix<double> X = xg::spirals(50).X;
    CHECK(loaded.predict(X) == model.predict(X));

    // Another architecture does not fit the files, and nothing is loaded.
    xg::Sequential<double> wider({2, 21, 7, 5, 3}, Activation::relu, Activation::identity, 5);
    const Matrix<double> before = wider.dense(3).W.value();
    CHECK(contains(message_of<xg::ShapeError>([&] { xg::load_parameters(dir / "model", wider.parameters()); }),
                   "W1.npy"));
    CHECK(wider.dense(3).W.value() == before);

    // float32 models too.
    xg::Sequential<float> m32({2, 3, 2}, Activation::tanh, Activation::identity, 1);
    xg::save_parameters(dir / "m32", m32.parameters());
    xg::Sequential<float> l32({2, 3, 2}, Activation::tanh, Activation::identity, 2);
    xg::load_parameters(dir / "m32", l32.parameters());
    CHECK(l32.dense(1).W.value() == m32.dense(1).W.value());
}

// ---- training ----------------------------------------------------------------------------------------

TEST_CASE_TEMPLATE("a deeper classifier trained with Adam on mini-batches reaches high accuracy", T, double, float) {
    const xg::Dataset<double> data64 = xg::spirals(300, 3, /*seed=*/2);
    const Matrix<T> X = xt::cast<T>(data64.X), Y = xt::cast<T>(data64.Y);
    xg::Sequential<T> model(2, /*seed=*/3);
    model.add(32, Activation::relu).add(32, Activation::relu).add(3, Activation::identity, xg::init::xavier());
    xg::MiniBatches<T> batches(X, Y, 32, 4);
    xg::Graph<T> g;
    auto [Xv, Yv] = batches.inputs(g);
    auto J = xg::softmax_cross_entropy(model(Xv), Yv);
    xg::Adam<T> opt(model.parameters(), 0.01);
    g.set_value(Xv, X);  // the initial loss over every example
    g.set_value(Yv, Y);
    g.forward();
    const double initial = double(J.value()(0, 0));
    for (int epoch = 0; epoch < 100; ++epoch) {
        for (const xg::Batch<T>& batch : batches.next_epoch()) {
            g.set_value(Xv, batch.X);
            g.set_value(Yv, batch.Y);
            g.forward();
            g.backward(J);
            opt.step();
        }
    }
    g.set_value(Xv, X);
    g.set_value(Yv, Y);
    g.forward();
    CHECK(double(J.value()(0, 0)) < 0.1 * initial);
    CHECK(xg::accuracy(xg::argmax_classes(model.predict(X)), Y) >= 95.0);
}

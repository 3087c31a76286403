// The image layers (Conv2d, MaxPool2d, AvgPool2d) and Sequential models of
// them: shapes, names, description and summary; values against the ops they
// are made of; He initialisation by the kernel's fan-in; gradients against
// central differences; errors; checkpoints; a user's own Layer; and a small
// CNN that learns to tell vertical bars from horizontal ones.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "helpers.hpp"
#include "temp_files.hpp"

using xg::Activation;
using xg::ImageShape;
using xg::Matrix;
using namespace xgt;

namespace {

// 1x6x6 -> conv3x3 pad 1 (3 kernels, tanh) -> maxpool 2 -> conv 2x2 (4 kernels, relu)
//       -> avgpool 2 -> 5 identity.
xg::Sequential<double> small_cnn(std::uint32_t seed = 3) {
    xg::Sequential<double> model(ImageShape{1, 6, 6}, seed);
    model.add_conv2d(3, 3, Activation::tanh, 1, 1)
        .add_max_pool2d(2)
        .add_conv2d(4, 2, Activation::relu)
        .add_avg_pool2d(2)
        .add(5, Activation::identity, xg::init::xavier());
    return model;
}

/// A bar image batch: image j (8 × 8) holds a bright line, vertical when
/// label j is 1 and horizontal when 0, at a random place, plus noise.
void bars(std::size_t m, std::mt19937_64& rng, Matrix<double>& X, Matrix<double>& Y) {
    X = Matrix<double>({64, m});
    Y = Matrix<double>({1, m});
    std::normal_distribution<double> noise(0.0, 0.1);
    std::uniform_int_distribution<std::size_t> where(0, 7), coin(0, 1);
    for (std::size_t j = 0; j < m; ++j) {
        const std::size_t label = coin(rng), at = where(rng);
        Y(0, j) = double(label);
        for (std::size_t r = 0; r < 8; ++r)
            for (std::size_t c = 0; c < 8; ++c) X(r * 8 + c, j) = noise(rng) + ((label ? c : r) == at ? 1.0 : 0.0);
    }
}

/// A user's own layer: A = s · X, no parameters.
class Scale : public xg::Layer<double> {
public:
    Scale(std::size_t n, double s, const std::string& label) : xg::Layer<double>("Scale", label), n_(n), s_(s) {}
    xg::Var<double> operator()(xg::Var<double> x) const override {
        check_input(x, "features");
        return (s_ * x).named("A" + label());
    }
    std::vector<xg::Parameter<double>> parameters() const override { return {}; }
    std::size_t n_in() const override { return n_; }
    std::size_t n_out() const override { return n_; }
    std::string describe() const override { return "Scale " + std::to_string(n_); }
    std::string brief() const override { return "scale " + std::to_string(n_); }

private:
    std::size_t n_;
    double s_;
};

}  // namespace

TEST_CASE("image layers: shapes, names, description and summary of a Sequential CNN") {
    const xg::Sequential<double> model = small_cnn();
    CHECK(model.size() == 5);
    CHECK(model.n_in() == 36);
    CHECK(model.n_out() == 5);
    CHECK(model.layer(0).n_out() == 3 * 6 * 6);
    CHECK(model.layer(1).n_out() == 3 * 3 * 3);
    CHECK(model.layer(2).n_out() == 4 * 2 * 2);
    CHECK(model.layer(3).n_out() == 4);
    const auto conv = model.layer_as<xg::Conv2d<double>>(0);
    CHECK(conv.W.shape() == xg::Shape{3, 9});
    CHECK(conv.b.shape() == xg::Shape{3, 1});
    CHECK(model.layer_as<xg::Conv2d<double>>(2).W.shape() == xg::Shape{4, 12});
    CHECK(model.layer_as<xg::Pool2d<double>>(1).kind() == xg::Pool2d<double>::Kind::max);
    CHECK(model.layer_as<xg::Pool2d<double>>(3).kind() == xg::Pool2d<double>::Kind::average);
    CHECK(model.dense(4).W.shape() == xg::Shape{5, 4});
    CHECK(!model.output_image().has_value());
    CHECK(model.layer(3).output_image()->channels == 4);

    std::vector<std::string> names;
    for (const auto& p : model.parameters()) names.push_back(p.name());
    CHECK(names == std::vector<std::string>{"W1", "b1", "W3", "b3", "W5", "b5"});
    CHECK(model.parameter_count() == 3 * 9 + 3 + 4 * 12 + 4 + 5 * 4 + 5);

    CHECK(model.layer(0).describe() == "Conv2d 1 -> 3, 3x3, padding 1, tanh");
    CHECK(model.layer(1).describe() == "MaxPool2d 2x2");
    CHECK(model.layer(3).describe() == "AvgPool2d 2x2");
    CHECK(model.describe() ==
          "1x6x6 -> conv3x3 3x6x6 tanh -> maxpool2 3x3x3 -> conv2x2 4x2x2 relu -> avgpool2 4x1x1 -> 5 identity "
          "(107 parameters)");
    CHECK(model.summary() ==
          "       layer                                output  parameters\n"
          "       input                                1x6x6\n"
          "    1  Conv2d 1 -> 3, 3x3, padding 1, tanh  3x6x6           30\n"
          "    2  MaxPool2d 2x2                        3x3x3            0\n"
          "    3  Conv2d 3 -> 4, 2x2, relu             4x2x2           52\n"
          "    4  AvgPool2d 2x2                        4x1x1            0\n"
          "    5  Dense 4 -> 5, identity               5               25\n"
          "       total                                               107\n");

    // A plain MLP keeps its old description; its summary has the same columns.
    const xg::Sequential<double> mlp({2, 4, 1}, Activation::tanh, Activation::sigmoid);
    CHECK(mlp.describe() == "2 -> 4 tanh -> 1 sigmoid (17 parameters)");
    CHECK(mlp.summary() ==
          "       layer                  output  parameters\n"
          "       input                  2\n"
          "    1  Dense 2 -> 4, tanh     4               12\n"
          "    2  Dense 4 -> 1, sigmoid  1                5\n"
          "       total                                  17\n");

    // Stride shown when it is not the default.
    xg::Sequential<float> strided(ImageShape{2, 9, 9});
    strided.add_conv2d(4, 3, Activation::relu, 2).add_max_pool2d(2, 1);
    CHECK(strided.layer(0).describe() == "Conv2d 2 -> 4, 3x3, stride 2, relu");
    CHECK(strided.layer(1).describe() == "MaxPool2d 2x2, stride 1");
    CHECK(strided.n_out() == 4 * 3 * 3);
}

TEST_CASE("image layers: the values are the ops they are made of, and predict agrees") {
    std::mt19937_64 rng(5);
    const xg::Sequential<double> model = small_cnn();
    const Matrix<double> X = randn<double>(36, 7, rng);
    xg::Graph<double> g;
    const auto out = model(g.input(X, "X"));

    // The same network from the ops.
    xg::Graph<double> h;
    const auto& c1 = model.layer_as<xg::Conv2d<double>>(0);
    const auto& c3 = model.layer_as<xg::Conv2d<double>>(2);
    auto A = xg::tanh(xg::conv2d(h.input(X, "X"), h.parameter(c1.W), h.parameter(c1.b), c1.spec()));
    A = xg::max_pool2d(A, xg::Pool2dSpec{{3, 6, 6}, 2, 2});
    A = xg::relu(xg::conv2d(A, h.parameter(c3.W), h.parameter(c3.b), xg::Conv2dSpec{{3, 3, 3}, 2, 1, 0}));
    A = xg::avg_pool2d(A, xg::Pool2dSpec{{4, 2, 2}, 2, 2});
    A = xg::matmul(h.parameter(model.dense(4).W), A) + h.parameter(model.dense(4).b);
    CHECK(out.value() == A.value());
    CHECK(model.predict(X) == out.value());

    // Nodes carry the layers' names.
    std::vector<std::string> names;
    std::string all;
    for (std::uint32_t id = 0; id < g.size(); ++id) names.push_back(g.given_name(id)), all += "'" + names.back() + "' ";
    INFO(all);
    INFO(xg::explain(out.graph().size() ? xg::sum(out) : out));
    // (The order of W and b, arguments of one call, is the compiler's.)
    std::sort(names.begin(), names.end());
    CHECK(names == std::vector<std::string>{"", "A1", "A2", "A3", "A4", "W1", "W3", "W5", "X", "Z1", "Z3", "Z5", "b1",
                                            "b3", "b5"});
    CHECK(out.name() == "Z5");
}

TEST_CASE("image layers: He initialisation by the kernel's fan-in C·k·k, drawn as initial_weights draws") {
    xg::Sequential<double> model(ImageShape{32, 10, 10}, 7);
    model.add_conv2d(64, 3, Activation::relu);
    const Matrix<double>& W = model.layer_as<xg::Conv2d<double>>(0).W.value();
    xg::Rng rng(7);
    CHECK(W == xg::initial_weights<double>(xg::init::he(), 64, 32 * 9, rng));
    double s2 = 0;
    for (double v : W) s2 += v * v;
    CHECK(std::sqrt(s2 / double(W.size())) == doctest::Approx(std::sqrt(2.0 / 288)).epsilon(0.03));
    CHECK(model.layer_as<xg::Conv2d<double>>(0).b.value() == Matrix<double>(xt::zeros<double>({64, 1})));

    // A chosen initialiser, and the same seed giving the same network.
    xg::Sequential<double> a(ImageShape{1, 5, 5}, 9), b(ImageShape{1, 5, 5}, 9);
    a.add_conv2d(2, 3, Activation::tanh, 1, 0, xg::init::normal(0.5)).add(3, Activation::identity);
    b.add_conv2d(2, 3, Activation::tanh, 1, 0, xg::init::normal(0.5)).add(3, Activation::identity);
    CHECK(a.layer_as<xg::Conv2d<double>>(0).W.value() == b.layer_as<xg::Conv2d<double>>(0).W.value());
    CHECK(a.dense(1).W.value() == b.dense(1).W.value());
}

TEST_CASE("image layers: gradients of a Sequential CNN against central differences (float64)") {
    std::mt19937_64 rng(11);
    for (std::size_t m : {1, 4}) {
        const xg::Sequential<double> model = small_cnn(std::uint32_t(m));
        xg::Graph<double> g;
        Matrix<double> Y({1, m});
        for (std::size_t j = 0; j < m; ++j) Y(0, j) = double(j % 5);
        const auto J = xg::softmax_cross_entropy(model(g.input(randn<double>(36, m, rng), "X")), g.input(Y, "Y"));
        g.backward(J);
        const xg::GradCheckReport r = check_grads(g, J);
        CHECK(r.entries.size() == 6);
    }
}

TEST_CASE("image layers: errors name the layer, the image and the arithmetic") {
    xg::Sequential<double> mlp(4);
    mlp.add(3, Activation::relu);
    CHECK(message_of<xg::ValueError>([&] { mlp.add_conv2d(2, 3, Activation::relu); }) ==
          "Sequential::add_conv2d: the model so far (4 -> 3 relu (15 parameters)) gives 3 features per example, not "
          "an image; an image layer needs a model built from an ImageShape, after the input or another image layer");
    CHECK_THROWS_AS(xg::Sequential<double>(4).add_max_pool2d(2), xg::ValueError);

    xg::Sequential<double> cnn(ImageShape{1, 5, 5});
    cnn.add_conv2d(2, 3, Activation::relu, 1, 1);
    // 5 × 5 in windows of 2: they do not tile.
    CHECK(message_of<xg::ShapeError>([&] { cnn.add_max_pool2d(2); }) ==
          "MaxPool2d 2: pool2d: a window of 2 with stride 2 does not tile the image 5x5: H − window = 5 − 2 = 3 is not "
          "a multiple of the stride 2");
    CHECK(cnn.size() == 1);  // nothing added
    CHECK_THROWS_AS(cnn.add_conv2d(2, 7, Activation::relu), xg::ShapeError);
    CHECK_THROWS_AS(cnn.add_conv2d(0, 3, Activation::relu), xg::ValueError);
    CHECK_THROWS_AS(xg::Sequential<double>(ImageShape{1, 0, 5}), xg::ValueError);
    CHECK(message_of<xg::ValueError>([] { xg::Sequential<double>(ImageShape{1u << 20, 1u << 20, 1u << 20}); }) ==
          "Sequential: the input image 1048576x1048576x1048576 has more than 2^32 - 1 values");
    CHECK(cnn.size() == 1);

    // A layer reading another image of the same size.
    xg::Rng rng(1);
    const xg::Conv2d<double> other(xg::Conv2dSpec{{5, 5, 2}, 1, 1, 0}, 2, Activation::relu, rng, xg::init::he(), "9");
    CHECK(message_of<xg::ShapeError>([&] { cnn.add(other); }) ==
          "Sequential::add: layer 9 (Conv2d 5 -> 2, 1x1, relu) reads images of 5x5x2, but the model so far gives "
          "images of 2x5x5 (1x5x5 -> conv3x3 2x5x5 relu (20 parameters))");
    // Repeated parameter names.
    const xg::Conv2d<double> again(xg::Conv2dSpec{{2, 5, 5}, 1, 1, 0}, 2, Activation::relu, rng, xg::init::he(), "1");
    CHECK(contains(message_of<xg::ValueError>([&] { cnn.add(again); }), "parameter named 'W1'"));
    CHECK(cnn.size() == 1);

    // The wrong kind of layer, and the wrong input.
    CHECK(message_of<xg::ValueError>([&] { cnn.dense(0); }) ==
          "Sequential: layer 1 (index 0) is Conv2d 1 -> 2, 3x3, padding 1, relu, not a layer of the kind asked for");
    xg::Graph<double> g;
    CHECK(message_of<xg::ShapeError>([&] { cnn(g.input(Matrix<double>(xt::zeros<double>({24, 2})), "X")); }) ==
          "layer 1 (Conv2d 1 -> 2, 3x3, padding 1, relu): input X is [24x2]; the layer takes 25 rows (an image "
          "C·H·W = 1·5·5), one column per example");

    // Parameters of the wrong shape, and bad labels.
    const xg::Parameter<double> W(xt::zeros<double>({2, 8}), "W"), b(xt::zeros<double>({2, 1}), "b");
    CHECK(message_of<xg::ShapeError>([&] {
              xg::Conv2d<double>(xg::Conv2dSpec{{1, 5, 5}, 3, 1, 0}, W, b, Activation::relu);
          }) == "Conv2d 1: W is [2x8] and b is [2x1]; a 3x3 convolution of 1 channels needs W of out_channels x 9 "
                "(C·k·k) and b of out_channels x 1");
    CHECK_THROWS_AS(xg::MaxPool2d<double>(xg::Pool2dSpec{{1, 4, 4}, 2, 2}, "a b"), xg::ValueError);
    CHECK_THROWS_AS(cnn.add(std::shared_ptr<const xg::Layer<double>>()), xg::GraphError);
}

TEST_CASE("image layers: a CNN's checkpoint round trip, and a user's own layer in a Sequential") {
    std::mt19937_64 rng(2);
    const xg::Sequential<double> model = small_cnn(4);
    const Matrix<double> X = randn<double>(36, 3, rng);
    TempDir dir;
    xg::save_parameters(dir / "cnn", model.parameters());
    const xg::Sequential<double> fresh = small_cnn(5);
    CHECK(fresh.predict(X) != model.predict(X));
    xg::load_parameters(dir / "cnn", fresh.parameters());
    CHECK(fresh.predict(X) == model.predict(X));

    xg::Sequential<double> scaled(ImageShape{1, 6, 6});
    scaled.add_conv2d(3, 3, Activation::tanh, 1, 1).add(Scale(108, 2.0, "2")).add(2, Activation::identity);
    CHECK(scaled.describe() == "1x6x6 -> conv3x3 3x6x6 tanh -> scale 108 -> 2 identity (248 parameters)");
    xg::Graph<double> g;
    const auto out = scaled(g.input(X, "X"));
    xg::Graph<double> h;
    const auto& c = scaled.layer_as<xg::Conv2d<double>>(0);
    const auto A = 2.0 * xg::tanh(xg::conv2d(h.input(X, "X"), h.parameter(c.W), h.parameter(c.b), c.spec()));
    CHECK(out.value() == (xg::matmul(h.parameter(scaled.dense(2).W), A) + h.parameter(scaled.dense(2).b)).value());
    CHECK(!scaled.layer(1).output_image().has_value());
    CHECK_THROWS_AS(scaled.add_max_pool2d(), xg::ValueError);  // the user's layer gives no image
}

TEST_CASE("image layers: a small CNN learns to tell vertical bars from horizontal ones") {
    std::mt19937_64 rng(8);
    Matrix<double> X, Y, Xt, Yt;
    bars(256, rng, X, Y);
    bars(200, rng, Xt, Yt);
    xg::Sequential<double> model(ImageShape{1, 8, 8}, 2);
    model.add_conv2d(4, 3, Activation::relu, 1, 1).add_max_pool2d(2).add(2, Activation::identity, xg::init::xavier());
    xg::Graph<double> g;
    const auto J = xg::softmax_cross_entropy(model(g.input(X, "X")), g.input(Y, "Y"));
    xg::Adam<double> adam(model.parameters(), 0.01);
    const double first = J.value()(0, 0);
    for (int step = 0; step < 150; ++step) {
        g.forward();
        g.backward(J);
        adam.step();
    }
    g.forward();
    CHECK(J.value()(0, 0) < 0.1 * first);
    const Matrix<double> Z = model.predict(Xt);
    std::size_t right = 0;
    for (std::size_t j = 0; j < Z.shape()[1]; ++j) right += (Z(1, j) > Z(0, j)) == (Yt(0, j) == 1.0);
    CHECK(right >= 195);
}

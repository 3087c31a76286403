// The two-layer network trained on the flower: the lecture's numbers, a
// falling cost, accuracy, the symmetry of zero initialisation, checkpoints,
// and a training step that allocates nothing.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>

#include <xtensor/xnoalias.hpp>

#include "helpers.hpp"
#include "temp_files.hpp"

using xg::Matrix;
using namespace xgt;

// Count heap allocations (only while `counting` is on) to check that a
// training step allocates nothing.
namespace {
std::atomic<bool> counting{false};
std::atomic<std::size_t> allocations{0};
}  // namespace

void* operator new(std::size_t n) {
    if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
#pragma GCC diagnostic pop

TEST_CASE("the flower, seed 1 and 2: the lecture's costs, then ≥ 85% accuracy after 2000 iterations") {
    const xg::Dataset<double> d = xg::flower();
    const auto p = xg::init_two_layer<double>(2, 4, 1, 2);
    // np.random.seed(2); W1 = np.random.randn(4, 2) * 0.01; W2 = np.random.randn(1, 4) * 0.01
    CHECK(p.W1.value()(1, 0) == doctest::Approx(-0.02136196095668454).epsilon(1e-14));
    CHECK(p.W2.value()(0, 3) == doctest::Approx(0.022922080128149575).epsilon(1e-14));
    CHECK(p.b1.value() == Matrix<double>(xt::zeros<double>({4, 1})));

    std::vector<std::size_t> seen;
    const auto r = xg::train_two_layer(p, d.X, d.Y, 2000, 1.2, [&](std::size_t i, double) { seen.push_back(i); });
    REQUIRE(r.costs.size() == 2001);
    CHECK(seen.size() == 2000);
    CHECK(seen.back() == 1999);
    // The lecture's numpy run (which prints them to six decimals: 0.693048,
    // 0.288083, 0.254385) at full precision.
    CHECK(r.costs[0] == doctest::Approx(0.6930480201239823).epsilon(1e-12));
    CHECK(r.costs[1] == doctest::Approx(0.6929813036112868).epsilon(1e-12));
    CHECK(r.costs[1000] == doctest::Approx(0.28808329356901835).epsilon(1e-9));
    CHECK(r.costs[2000] == doctest::Approx(0.25438549407324523).epsilon(1e-9));
    // The cost falls: sampled every 250 iterations it decreases strictly.
    for (std::size_t i = 250; i <= 2000; i += 250) CHECK(r.costs[i] < r.costs[i - 250]);
    const double acc = xg::accuracy(xg::predict(p, d.X), d.Y);
    CHECK(acc >= 85.0);
    CHECK(acc == 89.75);  // numpy: np.mean((A2 > 0.5) == Y) after 2000 updates
}

TEST_CASE("on the flower, logistic regression stays near 47% while the hidden layer reaches 85%+") {
    const xg::Dataset<double> d = xg::flower();
    // Logistic regression: A = σ(w·X + b), the same loss, 2000 steps from zero.
    xg::Graph<double> g;
    auto X = g.input(d.X, "X"), Y = g.input(d.Y, "Y");
    xg::Parameter<double> w(xt::zeros<double>({1, 2}), "w"), b(xt::zeros<double>({1, 1}), "b");
    auto J = binary_cross_entropy(sigmoid(matmul(g.parameter(w), X) + g.parameter(b)), Y);
    for (int i = 0; i < 2000; ++i) {
        g.backward(J);
        for (auto* p : {&w, &b}) xt::noalias(p->value()) -= 1.2 * p->grad();
        g.forward();
    }
    xg::Graph<double> probe;
    auto A = sigmoid(matmul(probe.parameter(w), probe.input(d.X)) + probe.parameter(b));
    Matrix<double> pred = A.value();
    for (double& v : pred) v = v > 0.5;
    CHECK(xg::accuracy(pred, d.Y) == 47.0);  // numpy, same steps: 47.0

    const auto p = xg::init_two_layer<double>(2, 4, 1, 2);
    xg::train_two_layer(p, d.X, d.Y, 2000, 1.2);
    CHECK(xg::accuracy(xg::predict(p, d.X), d.Y) >= 85.0);
}

TEST_CASE("float32 training on the flower follows float64") {
    const xg::Dataset<float> d = xg::flower<float>();
    const auto p = xg::init_two_layer<float>(2, 4, 1, 2);
    const auto r = xg::train_two_layer(p, d.X, d.Y, 1000, 1.2);
    CHECK(r.costs[1000] == doctest::Approx(0.288083).epsilon(1e-3));
    CHECK(xg::accuracy(xg::predict(p, d.X), d.Y) >= 85.0);
}

TEST_CASE("zero initialisation: the hidden units stay identical; random initialisation breaks the symmetry") {
    const xg::Dataset<double> d = xg::flower();
    const auto zeros = xg::init_two_layer<double>(2, 4, 1, 2, xg::Init::zeros);
    const auto r = xg::train_two_layer(zeros, d.X, d.Y, 500, 1.2);
    CHECK(xg::hidden_units_identical(zeros));
    CHECK(r.final_cost() == doctest::Approx(std::log(2.0)));  // nothing learnt
    CHECK(xg::accuracy(xg::predict(zeros, d.X), d.Y) == 50.0);

    // Equal but non-zero weights: the units learn, yet stay copies of each other.
    auto same = xg::init_two_layer<double>(2, 4, 1, 2, xg::Init::zeros);
    for (std::size_t h = 0; h < 4; ++h) {
        same.W1.value()(h, 0) = 0.3;
        same.W1.value()(h, 1) = -0.2;
        same.W2.value()(0, h) = 0.5;
    }
    xg::train_two_layer(same, d.X, d.Y, 500, 1.2);
    CHECK(same.W1.value()(0, 0) != 0.3);  // it moved
    CHECK(xg::hidden_units_identical(same));

    const auto random = xg::init_two_layer<double>(2, 4, 1, 2);
    CHECK(!xg::hidden_units_identical(random));
    xg::train_two_layer(random, d.X, d.Y, 500, 1.2);
    CHECK(!xg::hidden_units_identical(random));
}

TEST_CASE("save → load round-trips the trained parameters bit for bit") {
    TempDir dir;
    const xg::Dataset<double> d = xg::flower();
    const auto p = xg::init_two_layer<double>(2, 5, 1, 4);
    xg::train_two_layer(p, d.X, d.Y, 300, 1.2);
    xg::save_parameters(dir / "model", p.all());
    CHECK(dir.entries("model") == std::vector<std::string>{"xgrad-gen-1", "xgrad-manifest.txt"});
    CHECK(dir.entries("model/xgrad-gen-1") == std::vector<std::string>{"W1.npy", "W2.npy", "b1.npy", "b2.npy"});

    const auto q = xg::load_two_layer<double>(dir / "model");
    CHECK(q.n_x() == 2);
    CHECK(q.n_h() == 5);
    CHECK(q.n_y() == 1);
    const auto ps = p.all(), qs = q.all();
    for (std::size_t i = 0; i < 4; ++i) {
        CAPTURE(i);
        CHECK(qs[i].name() == ps[i].name());
        REQUIRE(qs[i].shape() == ps[i].shape());
        CHECK(std::memcmp(qs[i].value().data(), ps[i].value().data(), ps[i].value().size() * sizeof(double)) == 0);
    }
    CHECK(xg::two_layer_probabilities(q, d.X) == xg::two_layer_probabilities(p, d.X));

    // Continuing from the loaded parameters is continuing the run.
    xg::train_two_layer(p, d.X, d.Y, 50, 1.2);
    xg::train_two_layer(q, d.X, d.Y, 50, 1.2);
    CHECK(q.W1.value() == p.W1.value());
}

TEST_CASE("load_two_layer: files that do not fit together are clear errors naming the file") {
    TempDir dir;
    const auto p = xg::init_two_layer<double>(2, 4, 1, 2);
    const auto zeros = [](std::size_t r, std::size_t c, const char* name) {
        return xg::Parameter<double>(Matrix<double>(xt::zeros<double>({r, c})), name);
    };
    const std::string m = dir / "m";
    xg::save_parameters(m, {p.W1, p.b1, zeros(1, 3, "W2"), p.b2});
    CHECK(thrown<xg::ShapeError>([&] { xg::load_two_layer<double>(m); }) ==
          m + "/xgrad-gen-1/W2.npy: W2 is 1x3 but W1 (" + m +
              "/xgrad-gen-1/W1.npy) is 4x2; W2 needs one column per row of W1 (hidden unit)");
    xg::save_parameters(m, {p.W1, zeros(3, 1, "b1"), p.W2, p.b2});
    CHECK(has(thrown<xg::ShapeError>([&] { xg::load_two_layer<double>(m); }),
              "xgrad-gen-2/b1.npy: holds a 3x1 matrix, but parameter b1 is 4x1"));
    xg::save_parameters(m, {p.W1, p.b1, p.W2});
    CHECK(thrown<xg::IoError>([&] { xg::load_two_layer<double>(m); }) ==
          m + "/xgrad-manifest.txt: the checkpoint has no parameter named 'b2' (it holds W1, b1, W2)");
    xg::save_parameters(m, {p.b1, p.W2, p.b2});
    CHECK(thrown<xg::IoError>([&] { xg::load_two_layer<double>(m); }) ==
          m + "/xgrad-manifest.txt: the checkpoint has no parameter named 'W1'");
    CHECK(thrown<xg::IoError>([&] { xg::load_two_layer<double>(dir / "nothing"); }) == dir / "nothing" + ": no such folder");

    // A folder of the old layout (m/W1.npy …, no manifest) loads too.
    const std::string flat = dir / "flat";
    std::filesystem::create_directories(flat);
    for (const auto& q : p.all()) xg::save_npy(flat + "/" + q.name() + ".npy", q.value());
    CHECK(xg::load_two_layer<double>(flat).W1.value() == p.W1.value());
    std::filesystem::remove(flat + "/b2.npy");
    CHECK(has(thrown<xg::IoError>([&] { xg::load_two_layer<double>(flat); }), flat + "/b2.npy: cannot open"));
    std::filesystem::remove(flat + "/W1.npy");
    CHECK(thrown<xg::IoError>([&] { xg::load_two_layer<double>(flat); }) ==
          flat + ": the checkpoint has no parameter named 'W1' (no W1.npy)");
}

TEST_CASE("train_two_layer: shape and value errors, divergence") {
    const xg::Dataset<double> d = xg::flower(40, 1);
    const auto p3 = xg::init_two_layer<double>(3, 4, 1, 2);
    CHECK(has(thrown<xg::ShapeError>([&] { xg::train_two_layer(p3, d.X, d.Y, 1, 1.0); }),
              "matmul(W1, X): inner dimensions differ: W1 [4x3], X [2x40]"));
    const auto p = xg::init_two_layer<double>(2, 4, 1, 2);
    Matrix<double> Y2 = d.Y;
    Y2(0, 3) = 2;
    CHECK_THROWS_AS(xg::train_two_layer(p, d.X, Y2, 1, 1.0), xg::ValueError);
    CHECK_THROWS_AS(xg::init_two_layer<double>(2, 0, 1), xg::ValueError);
    // A huge learning rate makes the weights overflow: a ValueError, not a silent NaN.
    const auto q = xg::init_two_layer<double>(2, 4, 1, 2);
    CHECK(
        has(thrown<xg::ValueError>([&] { xg::train_two_layer(q, d.X, d.Y, 200, 1e308); }), "lower the learning rate"));
    // accuracy needs matching shapes.
    CHECK_THROWS_AS(xg::accuracy(Matrix<double>{{1, 0}}, Matrix<double>{{1, 0, 1}}), xg::ShapeError);
    CHECK(xg::accuracy(Matrix<double>{{1, 0, 1, 1}}, Matrix<double>{{1, 1, 1, 0}}) == 50.0);
}

TEST_CASE("a training step allocates nothing") {
    const xg::Dataset<double> d = xg::flower();
    const auto p = xg::init_two_layer<double>(2, 4, 1, 2);
    std::size_t at_110 = 1;
    xg::train_two_layer(p, d.X, d.Y, 120, 1.2, [&](std::size_t i, double) {
        if (i == 10) {
            allocations = 0;
            counting = true;
        } else if (i == 110) {
            counting = false;
            at_110 = allocations;
        }
    });
    CHECK(at_110 == 0);  // 100 steps: forward, backward, update
}

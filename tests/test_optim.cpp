// Optimisers and schedules against their formulas, worked out by hand here:
//   GradientDescent  W ← W − α dW
//   Momentum         v ← β v + (1 − β) dW;  W ← W − α v
//   Adam             v ← β1 v + (1 − β1) dW;  s ← β2 s + (1 − β2) dW²;
//                    W ← W − α (v / (1 − β1ᵗ)) / (√(s / (1 − β2ᵗ)) + ε)
// and: a step allocates nothing; bad hyper-parameters are refused; a failed
// step changes nothing; step(1/k) after accumulating k equal batches is the
// step of one batch holding them all.
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "alloc_count.hpp"
#include "helpers.hpp"

using xg::Matrix;
using xg::Parameter;
using namespace xgt;

namespace {

Parameter<double> param(const Matrix<double>& value, const Matrix<double>& grad, const char* name) {
    Parameter<double> p(value, name);
    p.grad() = grad;
    return p;
}

void check_close(const Matrix<double>& got, const Matrix<double>& want, double tol = 1e-15) {
    REQUIRE(xg::shape_of(got) == xg::shape_of(want));
    for (std::size_t k = 0; k < got.size(); ++k) {
        CAPTURE(k);
        CHECK(got.data()[k] == doctest::Approx(want.data()[k]).epsilon(tol));
    }
}

const Matrix<double> W0 = {{1.0, -2.0, 0.5}, {0.25, 3.0, -1.5}};
const Matrix<double> G1 = {{0.1, -0.4, 2.0}, {-3.0, 0.02, 0.7}};
const Matrix<double> G2 = {{-0.3, 0.5, 1.0}, {1.0, -0.06, 0.2}};
const Matrix<double> G3 = {{0.0, 0.9, -2.5}, {0.4, 0.01, -0.8}};

}  // namespace

// ---- the formulas, one step and several ------------------------------------------

TEST_CASE("GradientDescent: one step is W - alpha dW; three steps add up") {
    auto W = param(W0, G1, "W");
    xg::GradientDescent<double> opt({W}, 0.1);
    opt.step();
    check_close(W.value(), W0 - 0.1 * G1);
    CHECK(opt.steps() == 1);
    W.grad() = G2;
    opt.step();
    W.grad() = G3;
    opt.step();
    check_close(W.value(), W0 - 0.1 * (G1 + G2 + G3));
    CHECK(opt.steps() == 3);

    // A 1x1 parameter in plain numbers: 1 − 0.5 · 4 = −1.
    auto w = param({{1.0}}, {{4.0}}, "w");
    xg::GradientDescent<double> by_hand({w}, 0.5);
    by_hand.step();
    CHECK(w.value()(0, 0) == -1.0);
    CHECK(w.grad()(0, 0) == 4.0);  // the gradient is read, never cleared
}

TEST_CASE("Momentum: v = beta v + (1 - beta) dW, W -= alpha v") {
    SUBCASE("in plain numbers: w = 1, dw = 2 each step, beta = 0.5, alpha = 0.1") {
        // v1 = 1, w1 = 0.9;  v2 = 1.5, w2 = 0.75;  v3 = 1.75, w3 = 0.575.
        auto w = param({{1.0}}, {{2.0}}, "w");
        xg::Momentum<double> opt({w}, 0.1, 0.5);
        const double want_v[] = {1.0, 1.5, 1.75}, want_w[] = {0.9, 0.75, 0.575};
        for (int t = 0; t < 3; ++t) {
            opt.step();
            CHECK(opt.velocity(0)(0, 0) == doctest::Approx(want_v[t]).epsilon(1e-15));
            CHECK(w.value()(0, 0) == doctest::Approx(want_w[t]).epsilon(1e-15));
        }
    }
    SUBCASE("three steps on a matrix, the recurrence written out") {
        auto W = param(W0, G1, "W");
        const double a = 0.05, beta = 0.9;
        xg::Momentum<double> opt({W}, a, beta);
        const Matrix<double> v1 = (1 - beta) * G1;
        const Matrix<double> v2 = beta * v1 + (1 - beta) * G2;
        const Matrix<double> v3 = beta * v2 + (1 - beta) * G3;
        opt.step();
        check_close(W.value(), W0 - a * v1);
        W.grad() = G2;
        opt.step();
        W.grad() = G3;
        opt.step();
        check_close(opt.velocity(0), v3);
        check_close(W.value(), W0 - a * v1 - a * v2 - a * v3, 1e-14);
    }
    SUBCASE("beta = 0 is gradient descent") {
        auto W = param(W0, G1, "W");
        xg::Momentum<double> opt({W}, 0.1, 0.0);
        opt.step();
        check_close(W.value(), W0 - 0.1 * G1);
    }
}

TEST_CASE("Adam: the first step moves each entry by alpha dW / (|dW| + eps)") {
    // v1 = (1 − β1) g, s1 = (1 − β2) g², so v̂ = g and ŝ = g²: Δ = −α g / (|g| + ε).
    auto W = param(W0, G1, "W");
    const double a = 0.01, eps = 1e-8;
    xg::Adam<double> opt({W}, a, 0.9, 0.999, eps);
    opt.step();
    for (std::size_t k = 0; k < W0.size(); ++k) {
        const double g = G1.data()[k];
        CHECK(W.value().data()[k] == doctest::Approx(W0.data()[k] - a * g / (std::fabs(g) + eps)).epsilon(1e-14));
    }
    check_close(opt.first_moment(0), 0.1 * G1, 1e-14);
    check_close(opt.second_moment(0), 0.001 * G1 * G1, 1e-12);

    // A constant gradient keeps v̂ = g and ŝ = g² at every step (bias
    // correction at work): n steps move w by n α g / (|g| + ε).
    auto w = param({{1.0}}, {{2.0}}, "w");
    xg::Adam<double> steady({w}, 0.1);
    for (int t = 0; t < 5; ++t) steady.step();
    CHECK(w.value()(0, 0) == doctest::Approx(1.0 - 5 * 0.1 * 2.0 / (2.0 + 1e-8)).epsilon(1e-14));
}

TEST_CASE("Adam: three steps against the recurrence with bias correction") {
    auto W = param(W0, G1, "W");
    const double a = 0.02, b1 = 0.8, b2 = 0.95, eps = 1e-6;
    xg::Adam<double> opt({W}, a, b1, b2, eps);
    const Matrix<double>* grads[] = {&G1, &G2, &G3};
    Matrix<double> v = xt::zeros<double>({2, 3}), s = xt::zeros<double>({2, 3}), w = W0;
    for (int t = 1; t <= 3; ++t) {
        const Matrix<double>& g = *grads[t - 1];
        W.grad() = g;
        opt.step();
        for (std::size_t k = 0; k < w.size(); ++k) {
            v.data()[k] = b1 * v.data()[k] + (1 - b1) * g.data()[k];
            s.data()[k] = b2 * s.data()[k] + (1 - b2) * g.data()[k] * g.data()[k];
            const double vhat = v.data()[k] / (1 - std::pow(b1, t)), shat = s.data()[k] / (1 - std::pow(b2, t));
            w.data()[k] -= a * vhat / (std::sqrt(shat) + eps);
        }
        CAPTURE(t);
        check_close(W.value(), w, 1e-13);
        check_close(opt.first_moment(0), v, 1e-13);
        check_close(opt.second_moment(0), s, 1e-13);
    }
}

TEST_CASE("every parameter of the set is updated with its own state") {
    auto W = param(W0, G1, "W");
    auto b = param({{1.0}, {2.0}}, {{-0.5}, {0.25}}, "b");
    xg::Momentum<double> opt({W, b}, 0.1, 0.5);
    opt.step();
    opt.step();
    // v1 = 0.5 g, v2 = 0.75 g: W = W0 − 0.1 (0.5 + 0.75) g.
    check_close(W.value(), W0 - 0.125 * G1);
    check_close(b.value(), Matrix<double>{{1.0 + 0.125 * 0.5}, {2.0 - 0.125 * 0.25}});
    check_close(opt.velocity(1), Matrix<double>{{-0.375}, {0.1875}});
    CHECK(opt.parameters().size() == 2);
}

TEST_CASE("float32 optimisers agree with float64") {
    Parameter<double> Wd(W0, "W");
    Parameter<float> Wf(to_float(W0), "W");
    xg::Adam<double> ad({Wd}, 0.01);
    xg::Adam<float> af({Wf}, 0.01);
    xg::Momentum<double> md({Wd}, 0.1);
    xg::Momentum<float> mf({Wf}, 0.1);
    for (const Matrix<double>* g : {&G1, &G2, &G3, &G1}) {
        Wd.grad() = *g;
        Wf.grad() = to_float(*g);
        ad.step();
        af.step();
        md.step();
        mf.step();
    }
    CHECK(rel_err(Wf.value(), Wd.value()) < 1e-6);
}

// ---- schedules -------------------------------------------------------------------------

TEST_CASE("schedules give alpha(k) for the step after k steps") {
    const xg::Schedule constant = 0.3;
    CHECK(constant(0) == 0.3);
    CHECK(constant(1000) == 0.3);
    CHECK(constant.describe() == "0.3");

    const xg::Schedule step = xg::step_decay(0.1, 0.5, 2);  // 0.1, 0.1, 0.05, 0.05, 0.025
    CHECK(step(0) == 0.1);
    CHECK(step(1) == 0.1);
    CHECK(step(2) == doctest::Approx(0.05));
    CHECK(step(3) == doctest::Approx(0.05));
    CHECK(step(4) == doctest::Approx(0.025));
    CHECK(step.describe() == "step_decay(0.1, 0.5, every 2)");

    const xg::Schedule expo = xg::exponential_decay(0.1, 0.5, 2);  // 0.1 · 0.5^(k/2)
    CHECK(expo(0) == 0.1);
    CHECK(expo(1) == doctest::Approx(0.1 * std::sqrt(0.5)));
    CHECK(expo(4) == doctest::Approx(0.025));

    const xg::Schedule inv = xg::inverse_time_decay(0.1, 1.0, 3);  // 0.1 / (1 + ⌊k/3⌋)
    CHECK(inv(0) == 0.1);
    CHECK(inv(2) == 0.1);
    CHECK(inv(3) == doctest::Approx(0.05));
    CHECK(inv(6) == doctest::Approx(0.1 / 3));

    const xg::Schedule mine([](std::size_t k) { return 1.0 / double(k + 1); }, "1/(k+1)");
    CHECK(mine(3) == 0.25);
    CHECK(mine.describe() == "1/(k+1)");
}

TEST_CASE("an optimiser takes step k with alpha(k)") {
    auto W = param(W0, G1, "W");
    xg::GradientDescent<double> opt({W}, xg::step_decay(0.1, 0.5, 2));
    CHECK(opt.learning_rate() == 0.1);
    for (int k = 0; k < 5; ++k) opt.step();
    // α = 0.1, 0.1, 0.05, 0.05, 0.025 with the same gradient each time.
    check_close(W.value(), W0 - 0.325 * G1, 1e-14);
    CHECK(opt.learning_rate() == doctest::Approx(0.025));

    // Adam's bias correction counts steps whatever the schedule.
    auto w = param({{1.0}}, {{2.0}}, "w");
    xg::Adam<double> adam({w}, xg::Schedule([](std::size_t k) { return k == 0 ? 0.1 : 0.2; }, "0.1 then 0.2"));
    adam.step();
    adam.step();
    CHECK(w.value()(0, 0) == doctest::Approx(1.0 - 0.3 * 2.0 / (2.0 + 1e-8)).epsilon(1e-14));
    adam.set_schedule(0.0);
    adam.step();
    CHECK(w.value()(0, 0) == doctest::Approx(1.0 - 0.3 * 2.0 / (2.0 + 1e-8)).epsilon(1e-14));
    CHECK(adam.steps() == 3);
}

// ---- accumulation ----------------------------------------------------------------------

namespace {

/// A small softmax classifier's loss on a graph, with its parameters.
struct Classifier {
    xg::Sequential<double> model;
    xg::Graph<double> g;
    xg::Var<double> X, Y, J;

    Classifier(const Matrix<double>& x, const Matrix<double>& y)
        : model({3, 5, 4}, xg::Activation::tanh, xg::Activation::identity, /*seed=*/7) {
        X = g.input(x, "X");
        Y = g.input(y, "Y");
        J = xg::softmax_cross_entropy(model(X), Y);
    }
    void batch(const Matrix<double>& x, const Matrix<double>& y, xg::GradMode mode) {
        g.set_value(X, x);
        g.set_value(Y, y);
        g.forward();
        g.backward(J, mode);
    }
};

Matrix<double> columns(const Matrix<double>& a, std::size_t from, std::size_t to) {
    Matrix<double> out({a.shape()[0], to - from});
    for (std::size_t i = 0; i < a.shape()[0]; ++i)
        for (std::size_t j = from; j < to; ++j) out(i, j - from) = a(i, j);
    return out;
}

}  // namespace

TEST_CASE("step(1/k) after accumulating k equal batches is the step of one batch of all of them") {
    std::mt19937_64 rng(3);
    const Matrix<double> X = randn(3, 12, rng);
    Matrix<double> Y({1, 12});
    for (std::size_t j = 0; j < 12; ++j) Y(0, j) = double(j % 4);

    Classifier whole(X, Y), parts(X, Y);  // the same seed: the same weights
    xg::Adam<double> adam_whole(whole.model.parameters(), 0.01);
    xg::Adam<double> adam_parts(parts.model.parameters(), 0.01);
    xg::Momentum<double> mom_whole(whole.model.parameters(), 0.1);
    xg::Momentum<double> mom_parts(parts.model.parameters(), 0.1);
    for (int round = 0; round < 3; ++round) {
        whole.batch(X, Y, xg::GradMode::overwrite);
        (round % 2 ? mom_whole : static_cast<xg::Optimizer<double>&>(adam_whole)).step();

        xg::Optimizer<double>& opt = round % 2 ? static_cast<xg::Optimizer<double>&>(mom_parts) : adam_parts;
        opt.zero_grad();
        for (std::size_t from = 0; from < 12; from += 4) {
            parts.batch(columns(X, from, from + 4), columns(Y, from, from + 4), xg::GradMode::accumulate);
        }
        opt.step(1.0 / 3);
    }
    const auto pw = whole.model.parameters(), pp = parts.model.parameters();
    for (std::size_t i = 0; i < pw.size(); ++i) {
        CAPTURE(pw[i].name());
        CHECK(rel_err(pp[i].value(), pw[i].value()) < 1e-12);
        CHECK(rel_err(pp[i].grad(), 3.0 * pw[i].grad()) < 1e-12);  // a sum of three means
    }
}

TEST_CASE("zero_grad zeros every parameter's gradient") {
    auto W = param(W0, G1, "W");
    auto b = param({{1.0}}, {{2.0}}, "b");
    xg::GradientDescent<double> opt({W, b}, 0.1);
    opt.zero_grad();
    CHECK(xt::all(xt::equal(W.grad(), 0.0)));
    CHECK(b.grad()(0, 0) == 0.0);
    opt.step();
    check_close(W.value(), W0);
}

// ---- allocation ------------------------------------------------------------------------

TEST_CASE("a step allocates nothing, for every optimiser, from the first step") {
    auto W = param(W0, G1, "W");
    auto b = param({{1.0}, {2.0}}, {{-0.5}, {0.25}}, "b");
    xg::GradientDescent<double> gd({W, b}, 0.01);
    xg::Momentum<double> mom({W, b}, xg::step_decay(0.01, 0.5, 10));
    xg::Adam<double> adam({W, b}, xg::inverse_time_decay(0.001, 0.1, 5));
    xg::Adam<float> adam32({Parameter<float>(to_float(W0), "W32")}, 0.01);
    const long before = allocation_count();
    for (int k = 0; k < 100; ++k) {
        gd.step();
        mom.step(0.5);
        adam.step();
        adam32.step();
    }
    CHECK(allocation_count() - before == 0);
    CHECK(adam.steps() == 100);
    CHECK(W.value()(0, 0) != W0(0, 0));  // the steps did move the weights
}

TEST_CASE("a replayed training step of a Sequential with Adam allocates nothing") {
    std::mt19937_64 rng(5);
    const Matrix<double> X = randn(3, 16, rng);
    Matrix<double> Y({1, 16});
    for (std::size_t j = 0; j < 16; ++j) Y(0, j) = double(j % 4);
    Classifier c(X, Y);
    xg::Adam<double> opt(c.model.parameters(), 0.01);
    const Matrix<double> X2 = randn(3, 16, rng);
    auto step = [&](const Matrix<double>& x) {
        c.batch(x, Y, xg::GradMode::overwrite);
        opt.step();
    };
    step(X);  // first sweep: the backward plan and gradient buffers
    const double first = c.J.value()(0, 0);
    const long before = allocation_count();
    for (int k = 0; k < 50; ++k) step(k % 2 ? X : X2);
    CHECK(allocation_count() - before == 0);
    c.batch(X, Y, xg::GradMode::overwrite);
    CHECK(c.J.value()(0, 0) < first);
}

// ---- errors ------------------------------------------------------------------------------

TEST_CASE("bad hyper-parameters are refused with ValueError") {
    auto W = param(W0, G1, "W");
    CHECK(contains(message_of<xg::ValueError>([&] { xg::GradientDescent<double>({W}, -0.1); }),
                   "learning rate must be finite and not negative, got -0.1"));
    CHECK_THROWS_AS(xg::GradientDescent<double>({W}, std::nan("")), xg::ValueError);
    CHECK_THROWS_AS(xg::Adam<double>({W}, INFINITY), xg::ValueError);
    CHECK(contains(message_of<xg::ValueError>([&] { xg::Momentum<double>({W}, 0.1, 1.0); }),
                   "Momentum: β must lie in [0, 1), got 1"));
    CHECK_THROWS_AS(xg::Momentum<double>({W}, 0.1, -0.1), xg::ValueError);
    CHECK(contains(message_of<xg::ValueError>([&] { xg::Adam<double>({W}, 0.1, 1.0); }), "β1 must lie in [0, 1)"));
    CHECK(contains(message_of<xg::ValueError>([&] { xg::Adam<double>({W}, 0.1, 0.9, 1.5); }),
                   "β2 must lie in [0, 1), got 1.5"));
    CHECK(contains(message_of<xg::ValueError>([&] { xg::Adam<double>({W}, 0.1, 0.9, 0.999, 0.0); }),
                   "ε must be positive"));
    CHECK_THROWS_AS(xg::step_decay(0.1, 0.0, 10), xg::ValueError);
    CHECK_THROWS_AS(xg::step_decay(0.1, 1.5, 10), xg::ValueError);
    CHECK_THROWS_AS(xg::step_decay(0.1, 0.5, 0), xg::ValueError);
    CHECK_THROWS_AS(xg::exponential_decay(-1.0, 0.5), xg::ValueError);
    CHECK_THROWS_AS(xg::inverse_time_decay(0.1, -1.0), xg::ValueError);
    CHECK_THROWS_AS(xg::Schedule(std::function<double(std::size_t)>(), "none"), xg::ValueError);
    // xg::ValueError is an xg::Error, a std::runtime_error.
    CHECK_THROWS_AS(xg::GradientDescent<double>({W}, -1.0), std::runtime_error);
}

TEST_CASE("a parameter set must be non-empty, of real handles, each once") {
    auto W = param(W0, G1, "W");
    CHECK(contains(message_of<xg::ValueError>([&] { xg::Adam<double>({}, 0.1); }), "no parameters"));
    CHECK(contains(message_of<xg::ValueError>([&] { xg::Adam<double>({W, Parameter<double>()}, 0.1); }),
                   "parameter 1 is an empty handle"));
    CHECK(contains(message_of<xg::ValueError>([&] { xg::GradientDescent<double>({W, W}, 0.1); }),
                   "parameter W is listed twice (0 and 1)"));
}

TEST_CASE("a failed step changes nothing") {
    auto W = param(W0, G1, "W");
    auto b = param({{1.0}, {2.0}}, {{-0.5}, {0.25}}, "b");
    SUBCASE("the schedule turns negative") {
        xg::Momentum<double> opt({W, b}, xg::Schedule([](std::size_t k) { return k < 2 ? 0.1 : -0.1; }, "bad"));
        opt.step();
        opt.step();
        const Matrix<double> w = W.value(), v = opt.velocity(0);
        CHECK(contains(message_of<xg::ValueError>([&] { opt.step(); }),
                       "Momentum: the learning-rate schedule bad gives -0.1 at step 2"));
        CHECK(W.value() == w);
        CHECK(opt.velocity(0) == v);
        CHECK(opt.steps() == 2);
    }
    SUBCASE("a gradient of another shape than its parameter") {
        xg::Adam<double> opt({W, b}, 0.1);
        b.value() = Matrix<double>{{1.0}, {2.0}, {3.0}};  // b changed shape; its gradient did not
        CHECK(contains(message_of<xg::ShapeError>([&] { opt.step(); }),
                       "Adam: the gradient of b is [2x1] but its value is [3x1]"));
        CHECK(W.value() == W0);
        CHECK(opt.steps() == 0);
    }
    SUBCASE("a non-finite gradient scale") {
        xg::GradientDescent<double> opt({W}, 0.1);
        CHECK_THROWS_AS(opt.step(INFINITY), xg::ValueError);
        CHECK(W.value() == W0);
    }
}

TEST_CASE("a parameter that changed shape restarts from zero state") {
    auto W = param(W0, G1, "W");
    xg::Adam<double> opt({W}, 0.1, 0.5, 0.5);
    opt.step();
    W.value() = Matrix<double>{{1.0, 2.0}};
    W.grad() = Matrix<double>{{4.0, -1.0}};
    opt.step();
    check_close(opt.first_moment(0), Matrix<double>{{2.0, -0.5}});  // (1 − β1) g, not mixed with old state
    CHECK(xg::shape_of(opt.second_moment(0)) == xg::Shape{1, 2});
}

TEST_CASE("describe names the optimiser and its hyper-parameters") {
    auto W = param(W0, G1, "W");
    CHECK(xg::GradientDescent<double>({W}, 1.2).describe() == "GradientDescent(α = 1.2)");
    CHECK(xg::Momentum<double>({W}, 0.1, 0.8).describe() == "Momentum(α = 0.1, β = 0.8)");
    CHECK(xg::Adam<double>({W}, xg::step_decay(0.01, 0.5, 100)).describe() ==
          "Adam(α = step_decay(0.01, 0.5, every 100), β1 = 0.9, β2 = 0.999, ε = 1e-08)");
}

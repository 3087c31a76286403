// Examples of the reference pages for layers and optimisers
// (docs/reference/nn.md, optim.md), one section each:
//
//   reference_nn init         xg::Initializer, xg::init, xg::initial_weights
//   reference_nn activation   xg::Activation, xg::to_string, xg::activate
//   reference_nn dense        xg::Dense
//   reference_nn sequential   xg::Sequential: building, parameters, copies
//   reference_nn predict      xg::Sequential::predict
//   reference_nn schedule     xg::Schedule and the decays
//   reference_nn optimizer    what every xg::Optimizer has
//   reference_nn gd           xg::GradientDescent
//   reference_nn momentum     xg::Momentum
//   reference_nn adam         xg::Adam
//   reference_nn custom       an optimiser of your own (RMSprop)
//
// Without an argument, every section in turn (see docs_helpers.hpp).
#include <cmath>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include <xtensor/xview.hpp>

#include <xgrad/xgrad.hpp>

#include "docs_helpers.hpp"

namespace {

void init_section() {
    // The σ each initialiser gives the W of a layer with 4 inputs and 2 units.
    for (const xg::Initializer& init : {xg::init::zeros(), xg::init::normal(0.01), xg::init::xavier(), xg::init::he(),
                                        xg::init::he(std::sqrt(0.5))}) {
        std::printf("%-18s σ = %.6f\n", init.describe().c_str(), init.stddev(/*n_in=*/4, /*n_out=*/2));
    }
    const xg::Initializer custom{xg::Initializer::Kind::xavier, /*scale=*/2.0};
    std::printf("Initializer{Kind::xavier, 2}: %s, σ = %.6f\n", custom.describe().c_str(), custom.stddev(4, 2));

    // One matrix on its own: np.random.seed(2); np.random.randn(2, 3) * 0.01
    xg::Rng rng(2);
    const xg::Matrix<double> W = xg::initial_weights<double>(xg::init::normal(0.01), /*n_out=*/2, /*n_in=*/3, rng);
    std::printf("W [%s], W(0, 0) = %.10f, W(1, 2) = %.10f\n", xg::to_string(xg::shape_of(W)).c_str(), W(0, 0),
                W(1, 2));

    try {
        xg::init::normal(-0.01);
    } catch (const xg::ValueError& e) {
        std::printf("ValueError: %s\n", e.what());
    }
    try {
        xg::initial_weights<double>(xg::init::he(), 0, 3, rng);
    } catch (const xg::ValueError& e) {
        std::printf("ValueError: %s\n", e.what());
    }
}

void activation_section() {
    xg::Graph<double> g;
    auto Z = g.input(xg::Matrix<double>{{-2.0, 0.0, 1.5}}, "Z");
    for (xg::Activation a : {xg::Activation::identity, xg::Activation::relu, xg::Activation::leaky_relu,
                             xg::Activation::tanh, xg::Activation::sigmoid, xg::Activation::softplus}) {
        auto A = xg::activate(Z, a);  // a new node g(Z); Z itself for identity
        const xg::Matrix<double>& v = A.value();
        std::printf("%-10s node %u %-10s A = [%.4f, %.4f, %.4f]\n", xg::to_string(a).c_str(), A.id(),
                    g.op(A.id()) ? g.op(A.id())->name().c_str() : "(Z)", v(0, 0), v(0, 1), v(0, 2));
    }
}

void dense_section() {
    // 2 inputs -> 3 relu units: W (3 x 2) drawn by He from rng, b (3 x 1) = 0.
    xg::Rng rng(1);
    xg::Dense<double> layer(/*n_in=*/2, /*n_out=*/3, xg::Activation::relu, rng, xg::init::he(), /*label=*/"1");
    std::printf("%s: %s [%s], %s [%s]; n_in %zu, n_out %zu, %s, label \"%s\"\n", layer.describe().c_str(),
                layer.W.name().c_str(), to_string(layer.W.shape()).c_str(), layer.b.name().c_str(),
                to_string(layer.b.shape()).c_str(), layer.n_in(), layer.n_out(),
                xg::to_string(layer.activation()).c_str(), layer.label().c_str());

    // Applied to a node: Z1 = W1 · X + b1 and A1 = relu(Z1), on X's graph.
    xg::Graph<double> g;
    auto X = g.input(xg::Matrix<double>{{1.0, -1.0, 0.5, 0.0}, {2.0, 0.5, -1.0, 0.0}}, "X");
    auto A = layer(X);
    const std::uint32_t z = g.inputs(A.id())[0];
    std::printf("%s = %s(%s), [%s]; nodes: %zu\n", A.name().c_str(), g.op(A.id())->name().c_str(),
                g.name(z).c_str(), to_string(A.shape()).c_str(), static_cast<std::size_t>(g.size()));

    // A layer over existing Parameters: 2 logits from the 3 units.
    xg::Parameter<double> W(xg::Matrix<double>{{1.0, 0.0, -1.0}, {0.5, 0.5, 0.5}}, "Wout");
    xg::Parameter<double> b(xg::Matrix<double>{{0.0}, {-1.0}}, "bout");
    const xg::Dense<double> out(W, b, xg::Activation::identity, "out");
    auto logits = out(A);  // identity: the output is the node Zout itself
    std::printf("%s: %s [%s]\n", out.describe().c_str(), logits.name().c_str(), to_string(logits.shape()).c_str());

    xg::Dense<double> copy = layer;  // a copy shares the Parameters
    std::printf("copy shares W1: %s\n", copy.W == layer.W ? "yes" : "no");

    try {
        layer(g.input(xg::Matrix<double>{{1.0, 2.0, 3.0}}, "x"));
    } catch (const xg::ShapeError& e) {
        std::printf("ShapeError: %s\n", e.what());
    }
    try {
        xg::Dense<double> wrong(W, xg::Parameter<double>(xg::Matrix<double>{{0.0, 0.0}}, "b"), xg::Activation::relu);
    } catch (const xg::ShapeError& e) {
        std::printf("ShapeError: %s\n", e.what());
    }
    try {
        xg::Dense<double> bad_label(2, 3, xg::Activation::relu, rng, xg::init::he(), "layer 1");
    } catch (const xg::ValueError& e) {
        std::printf("ValueError: %s\n", e.what());
    }
    try {
        xg::Dense<double> empty(xg::Parameter<double>(), b, xg::Activation::relu);
    } catch (const xg::GraphError& e) {
        std::printf("GraphError: %s\n", e.what());
    }
}

void sequential_section() {
    // Layer by layer: 2 -> 4 tanh -> 1 sigmoid, weights drawn from Rng(seed 1).
    xg::Sequential<double> model(/*n_in=*/2, /*seed=*/1);
    model.add(4, xg::Activation::tanh, xg::init::xavier()).add(1, xg::Activation::sigmoid, xg::init::xavier());
    std::printf("%s\n", model.describe().c_str());
    std::printf("%zu layers, n_in %zu, n_out %zu, %zu parameters:", model.size(), model.n_in(), model.n_out(),
                model.parameter_count());
    for (const xg::Parameter<double>& p : model.parameters())
        std::printf(" %s [%s]", p.name().c_str(), to_string(p.shape()).c_str());
    std::printf("\nlayer(1): %s; last label: %s\n", model.layer(1).describe().c_str(),
                model.layers().back()->label().c_str());

    // From the sizes {n_in, n_1, …, n_L}: the same seed and layers give the same weights.
    const xg::Sequential<double> same({2, 4, 1}, xg::Activation::tanh, xg::Activation::sigmoid, /*seed=*/1,
                                      xg::init::xavier());
    std::printf("from sizes, same W1: %s\n", same.dense(0).W.value() == model.dense(0).W.value() ? "yes" : "no");

    // The lecture's network: the weights of init_two_layer(2, 4, 1, seed 2).
    const xg::Sequential<double> lecture({2, 4, 1}, xg::Activation::tanh, xg::Activation::sigmoid, /*seed=*/2,
                                         xg::init::normal(0.01));
    const xg::TwoLayerParams<double> p = xg::init_two_layer<double>(2, 4, 1, /*seed=*/2);
    std::printf("as init_two_layer: W1 %s, W2 %s\n", lecture.dense(0).W.value() == p.W1.value() ? "yes" : "no",
                lecture.dense(1).W.value() == p.W2.value() ? "yes" : "no");

    // An existing layer: its n_in must be the model's n_out, its names new.
    xg::Rng rng(7);
    model.add(xg::Dense<double>(1, 2, xg::Activation::identity, rng, xg::init::he(), "3"));
    std::printf("%s\n", model.describe().c_str());

    // Applied to a node: every layer's nodes on that graph.
    xg::Graph<double> g;
    auto Y = model(g.input(xg::Matrix<double>(xt::zeros<double>({2, 5})), "X"));
    std::printf("output %s [%s], graph of %zu nodes\n", Y.name().c_str(), to_string(Y.shape()).c_str(),
                static_cast<std::size_t>(g.size()));

    // Copies share the Parameters.
    xg::Sequential<double> copy = model;
    std::printf("copy shares W1: %s\n", copy.parameters()[0] == model.parameters()[0] ? "yes" : "no");
    copy = same;  // now shares same's Parameters
    std::printf("after copy = same: %s\n", copy.describe().c_str());

    try {
        model.add(xg::Dense<double>(4, 2, xg::Activation::relu, rng, xg::init::he(), "4"));
    } catch (const xg::ShapeError& e) {
        std::printf("ShapeError: %s\n", e.what());
    }
    try {
        model.add(xg::Dense<double>(2, 2, xg::Activation::relu, rng, xg::init::he(), "1"));
    } catch (const xg::ValueError& e) {
        std::printf("ValueError: %s\n", e.what());
    }
    try {
        xg::Sequential<double> too_short({2}, xg::Activation::relu, xg::Activation::sigmoid);
    } catch (const xg::ValueError& e) {
        std::printf("ValueError: %s\n", e.what());
    }
    try {
        xg::Graph<double> h;
        xg::Sequential<double>(2)(h.input(xg::Matrix<double>{{1.0}, {2.0}}, "X"));
    } catch (const xg::ValueError& e) {
        std::printf("ValueError: %s\n", e.what());
    }
}

void predict_section() {
    const xg::Dataset<double> data = xg::flower();
    const xg::Sequential<double> model({2, 4, 1}, xg::Activation::tanh, xg::Activation::sigmoid, /*seed=*/2,
                                       xg::init::normal(0.01));
    const xg::Matrix<double> P = model.predict(data.X);  // 1 x 400: σ(W2 · tanh(W1 · X + b1) + b2)
    xg::Graph<double> g;
    auto A2 = model(g.input(data.X, "X"));
    std::printf("P [%s], P(0, 0) = %.6f, same as the graph's A2: %s\n", to_string(xg::shape_of(P)).c_str(), P(0, 0),
                P == A2.value() ? "yes" : "no");

    // Into a matrix of your own (resized only when its shape differs).
    xg::Matrix<double> out;
    model.predict(data.X, out);
    std::printf("into out [%s]: %s\n", to_string(xg::shape_of(out)).c_str(), out == P ? "same" : "different");

    // The weights are read at each call; gradients are never touched.
    xg::Parameter<double> b2 = model.dense(1).b;  // a handle to the model's b2
    b2.value()(0, 0) = 2.0;
    std::printf("with b2 = 2: P(0, 0) = %.6f; W1's gradient still zero: %s\n", model.predict(data.X)(0, 0),
                xt::all(xt::equal(model.dense(0).W.grad(), 0.0)) ? "yes" : "no");

    try {
        model.predict(xg::Matrix<double>(xt::zeros<double>({3, 5})));
    } catch (const xg::ShapeError& e) {
        std::printf("ShapeError: %s\n", e.what());
    }
    try {
        xg::Sequential<double>(2).predict(data.X);
    } catch (const xg::ValueError& e) {
        std::printf("ValueError: %s\n", e.what());
    }
}

void schedule_section() {
    const xg::Schedule constant = 0.01;  // a number is a constant schedule
    const xg::Schedule warmup([](std::size_t k) { return k < 3 ? 0.01 * double(k + 1) / 3 : 0.01; },
                              "warmup to 0.01 over 3 steps");
    for (const xg::Schedule& s : {constant, xg::step_decay(1.0, /*factor=*/0.5, /*every=*/2),
                                  xg::exponential_decay(1.0, /*rate=*/0.5, /*every=*/2),
                                  xg::inverse_time_decay(1.0, /*decay=*/1.0, /*every=*/2), warmup}) {
        std::printf("%-34s", s.describe().c_str());
        for (std::size_t k = 0; k < 6; ++k) std::printf(" %.4f", s(k));  // α(0), …, α(5)
        std::printf("\n");
    }

    try {
        xg::Schedule negative = -0.1;
    } catch (const xg::ValueError& e) {
        std::printf("ValueError: %s\n", e.what());
    }
    try {
        xg::step_decay(0.1, /*factor=*/1.5, 10);
    } catch (const xg::ValueError& e) {
        std::printf("ValueError: %s\n", e.what());
    }
    try {
        xg::exponential_decay(0.1, 0.5, /*every=*/0);
    } catch (const xg::ValueError& e) {
        std::printf("ValueError: %s\n", e.what());
    }
}

void optimizer_section() {
    // Fit y = 2x − 1 with one identity unit: J = (1/m) Σ (w x + b − y)².
    xg::Sequential<double> line({1, 1}, xg::Activation::identity, xg::Activation::identity, 1, xg::init::zeros());
    xg::Graph<double> g;
    auto X = g.input(xg::Matrix<double>{{0.0, 1.0, 2.0, 3.0}}, "X");
    auto Y = g.input(xg::Matrix<double>{{-1.0, 1.0, 3.0, 5.0}}, "Y");
    auto J = xg::mean_squared_error(line(X), Y).named("J");

    xg::GradientDescent<double> opt(line.parameters(), xg::step_decay(0.1, 0.5, /*every=*/100));
    std::printf("%s over %zu parameters\n", opt.describe().c_str(), opt.parameters().size());
    for (int i = 0; i < 300; ++i) {
        g.forward();
        g.backward(J);
        opt.step();
    }
    std::printf("after %zu steps: w = %.4f, b = %.4f; next α = %g (%s)\n", opt.steps(), line.dense(0).W.value()(0, 0),
                line.dense(0).b.value()(0, 0), opt.learning_rate(), opt.schedule().describe().c_str());

    opt.set_schedule(0.05);  // the step count goes on: α(k) of the new schedule at k = steps()
    std::printf("after set_schedule: %s, α = %g, steps %zu\n", opt.describe().c_str(), opt.learning_rate(), opt.steps());

    opt.zero_grad();  // every parameter's gradient set to zero
    xg::Parameter<double> w = line.dense(0).W;
    std::printf("after zero_grad: dw = %g\n", w.grad()(0, 0));

    // step(grad_scale) uses grad_scale · dW: half a step here.
    w.grad()(0, 0) = 1.0;
    const double before = w.value()(0, 0);
    opt.step(0.5);
    std::printf("step(0.5) with dw = 1, α = 0.05: w moved by %g\n", w.value()(0, 0) - before);

    // Errors stop a step before anything is updated.
    xg::GradientDescent<double> bad(line.parameters(),
                                    xg::Schedule([](std::size_t k) { return k < 1 ? 0.1 : NAN; }, "broken"));
    bad.step();
    try {
        bad.step();
    } catch (const xg::ValueError& e) {
        std::printf("ValueError: %s\n", e.what());
    }
    w.value() = xg::Matrix<double>{{1.0, 2.0}};  // a new shape, no backward() since
    try {
        opt.step();
    } catch (const xg::ShapeError& e) {
        std::printf("ShapeError: %s\n", e.what());
    }
    try {
        xg::Adam<double> twice({w, w}, 0.01);
    } catch (const xg::ValueError& e) {
        std::printf("ValueError: %s\n", e.what());
    }
}

void gd_section() {
    xg::Parameter<double> w(xg::Matrix<double>{{1.0, -1.0}}, "w");
    xg::GradientDescent<double> opt({w}, /*learning_rate=*/0.1);
    w.grad() = xg::Matrix<double>{{2.0, -4.0}};  // as a backward() would leave it
    opt.step();                                  // w − 0.1 · [2, −4]
    std::printf("%s: ", opt.describe().c_str());
    docs::print("w", w.value());
}

void momentum_section() {
    xg::Parameter<double> w(xg::Matrix<double>{{1.0, -1.0}}, "w");
    xg::Momentum<double> opt({w}, /*learning_rate=*/0.1, /*beta=*/0.5);
    std::printf("%s, β = %g\n", opt.describe().c_str(), opt.beta());
    w.grad() = xg::Matrix<double>{{2.0, -4.0}};
    opt.step();  // v = 0.5 · 0 + 0.5 · [2, −4] = [1, −2];  w = w − 0.1 v
    docs::print("step 1: v", opt.velocity(0));
    docs::print("        w", w.value());
    w.grad() = xg::Matrix<double>{{1.0, 0.0}};
    opt.step();  // v = 0.5 · [1, −2] + 0.5 · [1, 0] = [1, −1]
    docs::print("step 2: v", opt.velocity(0));
    docs::print("        w", w.value());
}

void adam_section() {
    xg::Parameter<double> w(xg::Matrix<double>{{1.0, -1.0}}, "w");
    xg::Adam<double> opt({w}, /*learning_rate=*/0.1);  // β1 = 0.9, β2 = 0.999, ε = 1e-8
    std::printf("%s: β1 %g, β2 %g, ε %g\n", opt.describe().c_str(), opt.beta1(), opt.beta2(), opt.epsilon());
    w.grad() = xg::Matrix<double>{{2.0, -4.0}};
    opt.step();  // v = 0.1 dW, s = 0.001 dW²; v̂ = dW, ŝ = dW²: each entry moves by α
    docs::print("step 1: v", opt.first_moment(0));
    docs::print("        s", opt.second_moment(0));
    docs::print("        w", w.value());
    w.grad() = xg::Matrix<double>{{1.0, 0.0}};
    opt.step();
    docs::print("step 2: v", opt.first_moment(0));
    docs::print("        s", opt.second_moment(0));
    docs::print("        w", w.value());
}

/// RMSprop, the lecture's form: s ← β s + (1 − β) dW²;  W ← W − α dW / (√s + ε).
template <class T>
class RMSprop : public xg::Optimizer<T> {
public:
    RMSprop(std::vector<xg::Parameter<T>> params, xg::Schedule learning_rate, double beta = 0.9, double epsilon = 1e-8)
        : xg::Optimizer<T>("RMSprop", std::move(params), std::move(learning_rate), /*state_slots=*/1),
          beta_(beta),
          epsilon_(epsilon) {
        this->check_beta("RMSprop", "β", beta);  // ValueError unless 0 ≤ β < 1
    }
    std::string describe() const override {
        char beta[32];
        std::snprintf(beta, sizeof beta, "%g", beta_);
        return std::string(this->name_) + "(α = " + this->schedule().describe() + ", β = " + beta + ")";
    }
    /// s of parameter i.
    const xg::Matrix<T>& mean_square(std::size_t i) const { return this->state(i, 0); }

protected:
    // n entries of one parameter; state[0] is its s, zero before the first step.
    void update(T* w, const T* g, T* const* state, std::size_t n, T alpha, T grad_scale, std::size_t) const override {
        T* s = state[0];
        for (std::size_t k = 0; k < n; ++k) {
            const T d = grad_scale * g[k];
            s[k] = T(beta_) * s[k] + T(1 - beta_) * d * d;
            w[k] -= alpha * d / (std::sqrt(s[k]) + T(epsilon_));
        }
    }

private:
    double beta_, epsilon_;
};

void custom_section() {
    // The first step moves each entry by α dW / √(0.1 dW²) = α / √0.1.
    xg::Parameter<double> w(xg::Matrix<double>{{1.0, -1.0}}, "w");
    RMSprop<double> opt({w}, 0.01);
    w.grad() = xg::Matrix<double>{{2.0, -4.0}};
    opt.step();
    std::printf("%s: w moved by %.6f, %.6f (α / √0.1 = %.6f)\n", opt.describe().c_str(), w.value()(0, 0) - 1.0,
                w.value()(0, 1) + 1.0, 0.01 / std::sqrt(0.1));
    docs::print("s", opt.mean_square(0));

    // It trains a model like the built-in ones.
    const xg::Dataset<double> data = xg::flower();
    xg::Sequential<double> model({2, 8, 1}, xg::Activation::tanh, xg::Activation::sigmoid, 1, xg::init::xavier());
    xg::Graph<double> g;
    auto J = xg::binary_cross_entropy(model(g.input(data.X, "X")), g.input(data.Y, "Y"));
    RMSprop<double> rms(model.parameters(), 0.01);
    std::printf("  step    0: J = %.4f\n", J.value()(0, 0));
    for (int i = 1; i <= 1000; ++i) {
        g.backward(J);
        rms.step();
        g.forward();
        if (i % 500 == 0) std::printf("  step %4d: J = %.4f\n", i, J.value()(0, 0));
    }
    const xg::Matrix<double> classes = xt::cast<double>(model.predict(data.X) > 0.5);
    std::printf("accuracy %.2f%%\n", xg::accuracy(classes, data.Y));
}

}  // namespace

int main(int argc, char** argv) {
    return docs::run_sections(argc, argv,
                              {{"init", init_section},
                               {"activation", activation_section},
                               {"dense", dense_section},
                               {"sequential", sequential_section},
                               {"predict", predict_section},
                               {"schedule", schedule_section},
                               {"optimizer", optimizer_section},
                               {"gd", gd_section},
                               {"momentum", momentum_section},
                               {"adam", adam_section},
                               {"custom", custom_section}});
}

// The concepts behind the engine, one section each, shown in docs/concepts.md:
//
//   concepts graph       nodes in creation order, values at build time
//   concepts gradients   overwrite and accumulate, intermediate gradients, shared buffers
//   concepts replay      forward() with new weights and data, new shapes, a second graph
//   concepts stale       backward() refuses values computed from leaves that changed since
//   concepts buffers     what allocates: buffers kept across replayed steps
//   concepts broadcast   a stretched operand's gradient is a sum (keepdims)
//   concepts precision   the same gradients in float32 and float64
//   concepts numerics    the numeric-debug mode; gradients with respect to data
//
// Without an argument, every section in turn (see docs_helpers.hpp).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include <xtensor/xmath.hpp>
#include <xtensor/xview.hpp>

#include <xgrad/xgrad.hpp>

#include "docs_helpers.hpp"

namespace {

const char* kind_name(xg::NodeKind k) {
    switch (k) {
        case xg::NodeKind::input: return "input";
        case xg::NodeKind::parameter: return "parameter";
        default: return "op";
    }
}

void graph_section() {
    xg::Graph<double> g;
    auto X = g.input(xg::Matrix<double>{{1.0, 2.0, 3.0}, {-1.0, 0.5, 2.0}}, "X");  // 2 features × 3 examples
    auto W = g.parameter(xg::Matrix<double>{{0.5, -0.25}}, "W");                   // 1 × 2
    auto b = g.parameter(xg::Matrix<double>{{0.1}}, "b");                          // 1 × 1
    auto Z = (matmul(W, X) + b).named("Z");  // each node's value is computed as it is built
    auto J = mean(square(Z)).named("J");
    docs::print("Z", Z.value());

    // The nodes in creation order: every node's inputs come before it.
    for (std::uint32_t id = 0; id < g.size(); ++id) {
        std::string what = kind_name(g.kind(id));
        if (const xg::Op<double>* op = g.op(id)) {
            what = op->name() + "(";
            for (std::size_t j = 0; j < g.inputs(id).size(); ++j) what += (j ? ", " : "") + g.name(g.inputs(id)[j]);
            what += ")";
        }
        std::printf("node %u  %-3s %-14s [%s]\n", id, g.name(id).c_str(), what.c_str(), to_string(g.shape(id)).c_str());
    }
    (void)J;
}

void gradients_section() {
    xg::Graph<double> g;
    auto X = g.input(xg::Matrix<double>{{1.0, 2.0, 3.0}, {-1.0, 0.5, 2.0}}, "X");
    auto W = g.parameter(xg::Matrix<double>{{0.5, -0.25}}, "W");
    auto b = g.parameter(xg::Matrix<double>{{0.1}}, "b");
    auto WX = matmul(W, X);
    auto Z = (WX + b).named("Z");
    auto J = mean(square(Z)).named("J");

    g.backward(J);  // GradMode::overwrite: W's gradient becomes this sweep's
    docs::print("dW", W.grad());
    docs::print("dZ", Z.grad());  // intermediate nodes keep their gradients too
    std::printf("X has a gradient: %s\n", g.has_grad(X.id()) ? "yes" : "no");
    try {
        X.grad();
    } catch (const xg::GraphError& e) {
        std::printf("GraphError: %s\n", e.what());
    }

    // Accumulate: the sweep adds to what the parameters hold (two sweeps: 2 dW).
    g.backward(J, xg::GradMode::accumulate);
    docs::print("dW after a second, accumulating sweep", W.grad());
    docs::print("dZ after it (this sweep's only)", Z.grad());
    g.parameter_of(W.id()).zero_grad();
    docs::print("dW after zero_grad", W.grad());

    // WX is read once, by Z = WX + b, whose gradient it passes on unchanged:
    // the two nodes share one gradient buffer.
    std::printf("WX's gradient is Z's buffer: %s\n", &WX.grad() == &Z.grad() ? "yes" : "no");
}

void replay_section() {
    xg::Parameter<double> W(xg::Matrix<double>{{0.5, -0.25}}, "W");
    xg::Parameter<double> b(xg::Matrix<double>{{0.1}}, "b");
    xg::Graph<double> g;
    auto X = g.input(xg::Matrix<double>{{1.0, 2.0, 3.0}, {-1.0, 0.5, 2.0}}, "X");
    auto Z = (matmul(g.parameter(W), X) + g.parameter(b)).named("Z");
    docs::print("Z", Z.value());

    // New weights: change the Parameter in place, then replay.
    W.value()(0, 0) = 1.0;
    g.forward();
    docs::print("Z after W(0, 0) = 1 and forward()", Z.value());

    // New data, even of another shape: set_value, then replay.
    g.set_value(X, xg::Matrix<double>{{1.0, 0.0, -1.0, 2.0, 0.0}, {0.0, 1.0, 1.0, 0.0, -2.0}});
    g.forward();
    std::printf("Z is now [%s]\n", to_string(Z.shape()).c_str());
    docs::print("Z", Z.value());

    // A shape the graph cannot take is refused by forward(), naming the op.
    g.set_value(X, xg::Matrix<double>{{1.0}, {2.0}, {3.0}});
    try {
        g.forward();
    } catch (const xg::ShapeError& e) {
        std::printf("ShapeError: %s\n", e.what());
    }

    // Rebuild: a second graph on the same Parameters, for other data.
    xg::Graph<double> inference;
    auto Xt = inference.input(xg::Matrix<double>{{2.0}, {2.0}}, "Xt");
    auto Zt = matmul(inference.parameter(W), Xt) + inference.parameter(b);
    docs::print("Zt", Zt.value());
    W.value()(0, 1) = 0.0;  // both graphs see the change at their next forward()
    inference.forward();
    docs::print("Zt after W(0, 1) = 0 and forward()", Zt.value());
}

void stale_section() {
    xg::Parameter<double> W(xg::Matrix<double>{{2.0}}, "W");
    xg::Graph<double> g;
    auto X = g.input(xg::Matrix<double>{{3.0}}, "X");
    auto J = sum(square(matmul(g.parameter(W), X))).named("J");
    g.backward(J);
    docs::print("dW", W.grad());

    // An update step writes the parameter: the graph's values are now stale,
    // and backward() refuses to differentiate them until forward() has run.
    W.value() -= 0.1 * W.grad();
    try {
        g.backward(J);
    } catch (const xg::GraphError& e) {
        std::printf("GraphError: %s\n", e.what());
    }
    g.forward();
    g.backward(J);
    docs::print("dW after forward()", W.grad());
}

void buffers_section() {
    const xg::Dataset<double> flower = xg::flower();
    const auto p = xg::init_two_layer<double>(2, 4, 1);
    xg::Graph<double> g;
    auto X = g.input(flower.X, "X");
    auto Y = g.input(flower.Y, "Y");
    auto net = xg::two_layer_forward(g, X, p);
    auto J = binary_cross_entropy(net.A2, Y).named("J");
    g.backward(J);  // the first sweep makes the gradient buffers

    const double* value = net.A1.value().data();
    const double* grad = net.Z1.grad().data();
    const double* data = X.value().data();
    for (int step = 0; step < 100; ++step) {
        g.set_value(X, flower.X);  // same shape: copied into the buffer X has
        g.forward();
        g.backward(J);
        for (auto q : p.all()) q.value() -= 1.2 * q.grad();  // in place
    }
    std::printf("after 100 steps, the same buffers: A1 %s, dZ1 %s, X %s\n", value == net.A1.value().data() ? "yes" : "no",
                grad == net.Z1.grad().data() ? "yes" : "no", data == X.value().data() ? "yes" : "no");

    // A new shape needs new buffers; each buffer keeps the one it had.
    const xg::Matrix<double> half = xt::view(flower.X, xt::all(), xt::range(0, 200));
    const xg::Matrix<double> half_y = xt::view(flower.Y, xt::all(), xt::range(0, 200));
    g.set_value(X, half);
    g.set_value(Y, half_y);
    g.forward();
    g.backward(J);
    std::printf("with 200 examples: A1 is [%s], a new buffer: %s\n", to_string(net.A1.shape()).c_str(),
                value != net.A1.value().data() ? "yes" : "no");
    const double* value_200 = net.A1.value().data();

    // Back to 400 examples, and to 200 again: the kept buffers swap back in.
    g.set_value(X, flower.X);
    g.set_value(Y, flower.Y);
    g.forward();
    g.backward(J);
    std::printf("back to 400, the first buffers again: A1 %s, dZ1 %s, X %s\n",
                value == net.A1.value().data() ? "yes" : "no", grad == net.Z1.grad().data() ? "yes" : "no",
                data == X.value().data() ? "yes" : "no");
    g.set_value(X, half);
    g.set_value(Y, half_y);
    g.forward();
    std::printf("200 again: A1's 200-example buffer again: %s\n", value_200 == net.A1.value().data() ? "yes" : "no");
}

void broadcast_section() {
    xg::Graph<double> g;
    auto A = g.parameter(xg::Matrix<double>{{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}}, "A");  // 2 × 3
    auto c = g.parameter(xg::Matrix<double>{{0.0}, {0.0}}, "c");                      // 2 × 1: added to every column
    auto r = g.parameter(xg::Matrix<double>{{0.0, 0.0, 0.0}}, "r");                   // 1 × 3: added to every row
    auto s = g.parameter(xg::Matrix<double>{{0.0}}, "s");                             // 1 × 1: added to everything
    auto Z = (A + c + r + s).named("Z");
    auto C = g.input(xg::Matrix<double>{{1.0, 2.0, 3.0}, {10.0, 20.0, 30.0}}, "C");
    auto J = sum(C * Z).named("J");  // dZ = C
    g.backward(J);
    docs::print("dZ", Z.grad());
    docs::print("dc = Σ_columns dZ", c.grad());
    docs::print("dr = Σ_rows dZ   ", r.grad());
    docs::print("ds = Σ dZ        ", s.grad());

    auto bad = g.parameter(xg::Matrix<double>{{1.0}, {2.0}, {3.0}}, "bad");  // 3 × 1
    try {
        A + bad;
    } catch (const xg::ShapeError& e) {
        std::printf("ShapeError: %s\n", e.what());
    }
}

// The two-layer network's gradients on the flower data, in float or double.
template <class T>
std::vector<xg::Matrix<double>> flower_gradients() {
    const xg::Dataset<T> flower = xg::flower<T>();
    const auto p = xg::init_two_layer<T>(2, 4, 1, /*seed=*/2, xg::Init::random, /*scale=*/0.5);
    xg::Graph<T> g;
    auto net = xg::two_layer_forward(g, g.input(flower.X, "X"), p);
    g.backward(binary_cross_entropy(net.A2, g.input(flower.Y, "Y")));
    std::vector<xg::Matrix<double>> grads;
    for (const auto& q : p.all()) grads.push_back(xt::cast<double>(q.grad()));
    return grads;
}

void precision_section() {
    const auto g32 = flower_gradients<float>();
    const auto g64 = flower_gradients<double>();
    const char* names[] = {"dW1", "db1", "dW2", "db2"};
    for (std::size_t k = 0; k < 4; ++k) {
        // max |float − double| / max |double|
        const double diff = xt::amax(xt::abs(g32[k] - g64[k]))();
        const double size = xt::amax(xt::abs(g64[k]))();
        std::printf("%s: float32 and float64 agree to %.0e (relative)\n", names[k], std::max(diff / size, 1e-9));
    }
}

void numerics_section() {
    xg::Graph<double> g;
    auto X = g.input(xg::Matrix<double>{{1.0, 800.0}}, "X");
    auto E = exp(X).named("E");  // e^800 overflows to inf: no error by default
    std::printf("E = [%g, %g]\n", E.value()(0, 0), E.value()(0, 1));

    g.check_numerics(true);  // stop at the first non-finite value or gradient
    try {
        g.forward();
    } catch (const xg::ValueError& e) {
        std::printf("ValueError: %s\n", e.what());
    }

    // Inputs carry no gradient unless asked: then backward() computes ∂J/∂X too.
    xg::Graph<double> h;
    auto Xs = h.input(xg::Matrix<double>{{1.0, 2.0}, {3.0, -1.0}}, "X", /*requires_grad=*/true);
    auto W = h.parameter(xg::Matrix<double>{{0.5, -2.0}}, "W");
    auto J = sum(matmul(W, Xs)).named("J");
    h.backward(J);
    docs::print("dX = Wᵀ · 1, each column Wᵀ", Xs.grad());
}

}  // namespace

int main(int argc, char** argv) {
    return docs::run_sections(argc, argv, {{"graph", graph_section},
                                    {"gradients", gradients_section},
                                    {"replay", replay_section},
                                    {"stale", stale_section},
                                    {"buffers", buffers_section},
                                    {"broadcast", broadcast_section},
                                    {"precision", precision_section},
                                    {"numerics", numerics_section}});
}

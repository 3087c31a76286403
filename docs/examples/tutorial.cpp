// The tutorial "From six equations to autodiff" (docs/tutorial.md), one
// section each:
//
//   tutorial equations   the reverse sweep xgrad derives, beside the lecture's hand-derived equations
//   tutorial logits      why σ + cross-entropy is computed from the logits: J and dZ for large |z|
//   tutorial symmetry    why the weights must start random: zero and constant starts
//
// Without an argument, every section in turn (see docs_helpers.hpp).
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <xtensor/xmath.hpp>

#include <xgrad/xgrad.hpp>

#include "docs_helpers.hpp"

namespace {

// Width of a UTF-8 string in characters (for aligning columns).
std::size_t width(const std::string& s) {
    std::size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
}

std::string pad(std::string s, std::size_t w) {
    while (width(s) < w) s += ' ';
    return s;
}

void equations_section() {
    const xg::Dataset<double> flower = xg::flower();
    const auto p = xg::init_two_layer<double>(2, 4, 1);

    xg::Graph<double> g;
    auto X = g.input(flower.X, "X");
    auto Y = g.input(flower.Y, "Y");
    auto W1 = g.parameter(p.W1), b1 = g.parameter(p.b1), W2 = g.parameter(p.W2), b2 = g.parameter(p.b2);
    auto Z1 = (matmul(W1, X) + b1).named("Z1");
    auto A1 = tanh(Z1).named("A1");
    auto Z2 = (matmul(W2, A1) + b2).named("Z2");
    auto A2 = sigmoid(Z2).named("A2");
    auto J = binary_cross_entropy(A2, Y).named("J");

    // The lecture's six equations, written by hand as formulas.
    using namespace xg::sym;
    const Expr dZ2 = var("dZ2"), dZ1 = var("dZ1"), one_over_m = num(1) / m();
    const std::vector<std::pair<std::string, Expr>> lecture = {
        {"dZ2", var("A2") - var("Y")},
        {"dW2", scale(one_over_m, dot(dZ2, transpose(var("A1"))))},
        {"db2", scale(one_over_m, sum_columns(dZ2))},
        {"dZ1", dot(transpose(var("W2")), dZ2) * (1.0 - square(var("A1")))},
        {"dW1", scale(one_over_m, dot(dZ1, transpose(var("X"))))},
        {"db1", scale(one_over_m, sum_columns(dZ1))},
    };

    // The reverse sweep as xgrad derives it from the ops' own formulas.
    const xg::Explanation derived = xg::derive(J);

    std::printf("%s%s\n", pad("derived by xgrad (d = ∂J/∂)", 34).c_str(), "the lecture, by hand (dZ = m ∂J/∂Z)");
    for (const xg::Equation& eq : derived.backward) {
        std::string left = eq.lhs + " = " + render(eq.rhs, {});
        std::string right;
        for (const auto& [lhs, rhs] : lecture) {
            if (lhs == eq.lhs) right = lhs + " = " + render(rhs, {});
        }
        std::printf("%s\n", right.empty() ? left.c_str() : (pad(left, 34) + right).c_str());
    }
}

// J = BCE(σ(z), y) for one example, and dJ/dz, through xgrad.
void fused(double z, double y, double& J, double& dz) {
    xg::Graph<double> g;
    auto Z = g.parameter(xg::Matrix<double>{{z}}, "Z");
    auto L = binary_cross_entropy(sigmoid(Z), g.input(xg::Matrix<double>{{y}}, "Y"));
    g.backward(L);
    J = L.value()(0, 0);
    dz = Z.grad()(0, 0);
}

void logits_section() {
    std::printf("     z   y   naive: −log σ(z) or −log(1 − σ(z))   xgrad: J        dJ/dz = σ(z) − y\n");
    for (const auto& [z, y] : std::vector<std::pair<double, double>>{{2, 1}, {2, 0}, {30, 0}, {40, 0}, {800, 0}, {-800, 1}}) {
        const double a = 1 / (1 + std::exp(-z));  // σ(z), rounded to a double
        const double naive = y == 1 ? -std::log(a) : -std::log(1 - a);
        double J, dz;
        fused(z, y, J, dz);
        std::printf("%6g   %g   %-35.10g %-15.10g %.6g\n", z, y, naive, J, dz);
    }

    // Given probabilities instead of logits, xgrad must divide by A (1 − A).
    xg::Graph<double> g;
    auto A = g.input(xg::Matrix<double>{{0.3, 1.0}}, "A");
    auto Y = g.input(xg::Matrix<double>{{1.0, 0.0}}, "Y");
    try {
        binary_cross_entropy(A, Y);
    } catch (const xg::ValueError& e) {
        std::printf("ValueError: %s\n", e.what());
    }
}

void symmetry_section() {
    const xg::Dataset<double> flower = xg::flower();

    // All zeros: A1 = tanh(0) = 0 and W2 = 0, so dW2 = dZ2 · A1ᵀ = 0 and
    // dZ1 = W2ᵀ · dZ2 ⊙ (1 − A1²) = 0: only b2 could move, and with as many
    // 1s as 0s its gradient Σ (A2 − Y) / m is 0 too.
    const auto zeros = xg::init_two_layer<double>(2, 4, 1, 2, xg::Init::zeros);
    xg::Graph<double> g;
    auto net = xg::two_layer_forward(g, g.input(flower.X, "X"), zeros);
    g.backward(binary_cross_entropy(net.A2, g.input(flower.Y, "Y")));
    std::printf("zero start, first sweep: max |dW1| = %g, max |db1| = %g, max |dW2| = %g, |db2| = %.1g\n",
                xt::amax(xt::abs(zeros.W1.grad()))(), xt::amax(xt::abs(zeros.b1.grad()))(),
                xt::amax(xt::abs(zeros.W2.grad()))(), std::fabs(zeros.b2.grad()(0, 0)));

    // A constant, non-zero start: the units move, but all alike.
    for (const bool constant : {true, false}) {
        auto p = xg::init_two_layer<double>(2, 4, 1, /*seed=*/2);
        if (constant) {
            p.W1.value().fill(0.01);
            p.W2.value().fill(0.01);
        }
        xg::train_two_layer(p, flower.X, flower.Y, 10000, 1.2);
        std::printf("%s start: after 10000 steps, hidden units identical: %s, W1 row 0 = [%.4f, %.4f], accuracy %.2f%%\n",
                    constant ? "constant 0.01" : "random N(0, 0.01²)", xg::hidden_units_identical(p) ? "yes" : "no",
                    p.W1.value()(0, 0), p.W1.value()(0, 1), xg::accuracy(xg::predict(p, flower.X), flower.Y));
    }
}

}  // namespace

int main(int argc, char** argv) {
    return docs::run_sections(argc, argv, {{"equations", equations_section}, {"logits", logits_section}, {"symmetry", symmetry_section}});
}

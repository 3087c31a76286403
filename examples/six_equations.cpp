// The six backprop equations of the two-layer network, derived by the machine
// and checked against the lecture's hand-written formulas.
//
//   six_equations                  the derived equations, then the six differences
//   six_equations ascii|latex      the derived equations in that style (no check)
//   six_equations shapes           Unicode, with the leaves and every shape
//   six_equations all              one line per node (no folding, no inlining)
//   six_equations dot              the graph as Graphviz DOT:
//       build/examples/six_equations dot | dot -Tsvg -o docs/images/two_layer.svg
//
// Convention: xgrad differentiates J = −(1/m) Σ [Y log A2 + (1 − Y) log(1 − A2)],
// so its gradient at Z2 is (A2 − Y) / m. The lecture writes dZ2 = A2 − Y and
// puts the 1/m into dW and db; its dZ2 and dZ1 are m times xgrad's.
// Exits with status 1 when any difference exceeds 1e-12 relative.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <random>
#include <string>

#include <xtensor/xmanipulation.hpp>
#include <xtensor/xreducer.hpp>

#include <xgrad/xgrad.hpp>

using Matrix = xg::Matrix<double>;

namespace {

Matrix random_matrix(std::size_t r, std::size_t c, std::mt19937_64& rng) {
    std::normal_distribution<double> normal(0.0, 1.0);
    Matrix a({r, c});
    for (double& v : a) v = normal(rng);
    return a;
}

// The matrix product, three plain loops (independent of xgrad's BLAS call).
Matrix dot(const Matrix& a, const Matrix& b) {
    Matrix c = xt::zeros<double>({a.shape()[0], b.shape()[1]});
    for (std::size_t i = 0; i < a.shape()[0]; ++i)
        for (std::size_t k = 0; k < a.shape()[1]; ++k)
            for (std::size_t j = 0; j < b.shape()[1]; ++j) c(i, j) += a(i, k) * b(k, j);
    return c;
}

// max |a − b| / max |b|
double difference(const Matrix& a, const Matrix& b) {
    double diff = 0, size = 0;
    for (std::size_t k = 0; k < a.size(); ++k) {
        diff = std::max(diff, std::fabs(a.data()[k] - b.data()[k]));
        size = std::max(size, std::fabs(b.data()[k]));
    }
    return diff / std::max(size, 1e-300);
}

}  // namespace

int main(int argc, char** argv) {
    const std::string form = argc > 1 ? argv[1] : "";
    std::mt19937_64 rng(2024);
    const std::size_t n0 = 2, n1 = 4, n2 = 1, m = 5;

    xg::Graph<double> g;
    auto X = g.input(random_matrix(n0, m, rng), "X");
    Matrix labels({n2, m});
    for (std::size_t j = 0; j < m; ++j) labels(0, j) = double(j % 2);
    auto Y = g.input(labels, "Y");
    auto W1 = g.parameter(random_matrix(n1, n0, rng), "W1");
    auto b1 = g.parameter(random_matrix(n1, 1, rng), "b1");
    auto W2 = g.parameter(random_matrix(n2, n1, rng), "W2");
    auto b2 = g.parameter(random_matrix(n2, 1, rng), "b2");

    auto Z1 = (matmul(W1, X) + b1).named("Z1");
    auto A1 = tanh(Z1).named("A1");
    auto Z2 = (matmul(W2, A1) + b2).named("Z2");
    auto A2 = sigmoid(Z2).named("A2");
    auto J = binary_cross_entropy(A2, Y).named("J");

    if (form == "dot") {
        std::cout << xg::to_dot(J);
        return 0;
    }
    xg::ExplainOptions options;
    if (form == "ascii") options.style = xg::sym::Style::ascii;
    if (form == "latex") options.style = xg::sym::Style::latex;
    options.shapes = form == "shapes";
    options.all_nodes = form == "all";
    std::cout << xg::explain(J, options);
    if (!form.empty()) return 0;

    g.backward(J);

    // The lecture's equations, written out literally (1/m in dW and db).
    const Matrix& x = X.value();
    const Matrix& y = Y.value();
    const Matrix& a1 = A1.value();
    const Matrix& a2 = A2.value();
    const Matrix& w2 = W2.value();
    const double md = double(m);
    const Matrix dZ2 = a2 - y;
    const Matrix dW2 = (1 / md) * dot(dZ2, xt::transpose(a1));
    const Matrix db2 = (1 / md) * xt::sum(dZ2, {1}, xt::keep_dims);
    const Matrix dZ1 = dot(xt::transpose(w2), dZ2) * (1 - a1 * a1);
    const Matrix dW1 = (1 / md) * dot(dZ1, xt::transpose(x));
    const Matrix db1 = (1 / md) * xt::sum(dZ1, {1}, xt::keep_dims);

    struct Row {
        const char* name;
        Matrix autodiff;
        const Matrix& lecture;
    };
    const Row rows[] = {
        {"dZ2", md * Z2.grad(), dZ2}, {"dW2", W2.grad(), dW2}, {"db2", b2.grad(), db2},
        {"dZ1", md * Z1.grad(), dZ1}, {"dW1", W1.grad(), dW1}, {"db1", b1.grad(), db1},
    };
    std::printf("\nlecture's formulas vs autodiff (dZ compared as m · ∂J/∂Z), max |difference| / max |value|:\n");
    bool ok = true;
    for (const Row& r : rows) {
        const double d = difference(r.autodiff, r.lecture);
        std::printf("  %s  %.1e\n", r.name, d);
        ok = ok && d <= 1e-12;
    }
    std::printf(ok ? "all six agree to float64 round-off\n" : "DIFFERENCE ABOVE 1e-12\n");
    return ok ? 0 : 1;
}

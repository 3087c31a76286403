// Every built-in op's forward formula and the gradient it sends to each
// input, as the equation printer sees them. Shown in docs/ops.md.
#include <cstdio>
#include <string>
#include <vector>

#include <xgrad/xgrad.hpp>

namespace {

/// One line per op: "sub      Y = A − B    dA = dY    dB = −dY", the
/// output called `out` (Y for an op, J for a loss) and its gradient d`out`.
void show(const xg::Graph<double>& g, xg::Var<double> y, const std::string& out) {
    const xg::Op<double>& op = *g.op(y.id());
    xg::sym::Names names;
    for (std::uint32_t in : g.inputs(y.id())) names.inputs.push_back(g.name(in));
    names.output = out;
    names.grad = "d" + out;
    std::string line = op.name();
    line.resize(std::max<std::size_t>(line.size() + 1, 33), ' ');
    line += out + " = " + xg::sym::render(op.formula(), names);
    for (std::size_t i = 0; i < names.inputs.size(); ++i) {
        if (!op.differentiable(i)) continue;
        line += "    d" + names.inputs[i] + " = " + xg::sym::render(op.grad_formula(i), names);
    }
    std::printf("%s\n", line.c_str());
}

}  // namespace

int main() {
    xg::Graph<double> g;
    auto A = g.parameter(xg::Matrix<double>{{1.0, 2.0}, {3.0, 4.0}}, "A");
    auto B = g.parameter(xg::Matrix<double>{{1.0}, {2.0}}, "B");
    auto X = g.parameter(xg::Matrix<double>{{0.5, -1.0}, {2.0, 1.5}}, "X");
    auto P = g.parameter(xg::Matrix<double>{{0.5, 1.0}, {2.0, 1.5}}, "P");
    auto Z = g.parameter(xg::Matrix<double>{{0.5, -1.0}, {2.0, 1.5}}, "Z");
    auto Y = g.input(xg::Matrix<double>{{0.0, 1.0}, {1.0, 0.0}}, "Y");
    auto y = g.input(xg::Matrix<double>{{1.0, 0.0}}, "y");
    auto Q = (P / 4.0).named("Q");
    // A 1 × 2 × 2 image per column, one 2 × 2 kernel K and its bias c.
    auto I = g.parameter(xg::Matrix<double>{{1.0}, {2.0}, {3.0}, {4.0}}, "I");
    auto K = g.parameter(xg::Matrix<double>{{0.5, -1.0, 2.0, 1.5}}, "K");
    auto c = g.parameter(xg::Matrix<double>{{0.1}}, "c");
    const xg::Conv2dSpec conv{{1, 2, 2}, 2, 1, 0};
    const xg::Pool2dSpec pool{{1, 2, 2}, 2, 2};
    // A vocabulary of three tokens embedded in two numbers, and two token ids.
    auto E = g.parameter(xg::Matrix<double>{{0.5, -1.0, 2.0}, {1.0, 0.0, -0.5}}, "E");
    auto ids = g.input(xg::Matrix<double>{{2, 0}}, "ids");

    const std::vector<xg::Var<double>> ops = {
        matmul(A, X), A + B, A - B, A * B, A / B, -X,
        X + 1.0, X - 1.0, 1.0 - X, 2.0 * X, X / 400.0, 1.0 / P,
        exp(X), log(P), square(X), pow(P, 3.0), pow(P, 0.5), sqrt(P), abs(X),
        sigmoid(X), tanh(X), relu(X), leaky_relu(X, 0.1), softplus(X), softmax(Z),
        sum(X), sum(X, xg::Axis::over_rows), sum(X, xg::Axis::over_cols),
        mean(X), mean(X, xg::Axis::over_rows), mean(X, xg::Axis::over_cols),
        transpose(X), detach(X),
        conv2d(I, K, conv), conv2d(I, K, c, conv), max_pool2d(I, pool), avg_pool2d(I, pool),
        rows(X, 0, 1), columns(X, 1, 2), concat_rows(A, X), xg::concat_columns({A, B, X}), embedding(E, ids),
    };
    const std::vector<xg::Var<double>> losses = {
        binary_cross_entropy(Q, Y), binary_cross_entropy(sigmoid(Z).named("S"), Y),
        binary_cross_entropy_with_logits(Z, Y), softmax_cross_entropy(Z, Y), softmax_cross_entropy(Z, y),
        mean_squared_error(X, Y),
    };
    for (const auto& n : ops) show(g, n, "Y");
    for (const auto& n : losses) show(g, n, "J");
}

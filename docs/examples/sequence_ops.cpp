// The sequence ops: token ids looked up in an embedding matrix, a sequence
// of two time steps cut out of it and joined again, the equations explain
// derives, the gradient checker's verdict, a repeated token's gradient, and
// the messages of three mistakes. Shown in docs/ops.md.
#include <cstdio>

#include <xgrad/xgrad.hpp>

int main() {
    xg::Rng rng(5);
    xg::Graph<double> g;
    // A vocabulary of V = 5 tokens, each embedded as a column of d = 3 numbers.
    auto E = g.parameter(xg::randn<double>(3, 5, rng, 0.5), "E");
    auto W = g.parameter(xg::randn<double>(5, 6, rng, 0.5), "W");
    // Two sequences of two tokens, step-major: step 1 of both, then step 2.
    auto ids = g.input(xg::Matrix<double>{{4, 1, 4, 0}}, "ids");
    auto y = g.input(xg::Matrix<double>{{2, 3}}, "y");  // a class per sequence

    auto X = embedding(E, ids).named("X");   // 3 × 4: column j is E(:, ids(0, j))
    auto x1 = columns(X, 0, 2).named("x1");  // step 1 of both sequences: 3 × 2
    auto x2 = columns(X, 2, 4).named("x2");  // step 2: 3 × 2
    auto H = concat_rows(x1, x2).named("H");  // 6 × 2: both steps, one column per sequence
    auto J = softmax_cross_entropy(matmul(W, H), y).named("J");

    std::printf("%s", xg::explain(J).c_str());
    g.backward(J);
    // Token 4 appears twice: its column of dE is the sum of two columns of dX.
    std::printf("dE(0, 4) = %.6f = dX(0, 0) + dX(0, 2) = %.6f\n", E.grad()(0, 4), X.grad()(0, 0) + X.grad()(0, 2));
    const xg::GradCheckReport report = xg::check_gradients(g, J);
    std::printf("gradient check: %s\n", report.ok() ? "ok" : "FAILED");

    // Mistakes are typed errors naming the op, the nodes and the shapes (or the id).
    try {
        rows(X, 2, 2);
    } catch (const xg::ShapeError& e) {
        std::printf("%s\n", e.what());
    }
    try {
        concat_rows(x1, X);
    } catch (const xg::ShapeError& e) {
        std::printf("%s\n", e.what());
    }
    try {
        embedding(E, g.input(xg::Matrix<double>{{0, 7}}, "bad_ids"));
    } catch (const xg::ValueError& e) {
        std::printf("%s\n", e.what());
    }
    return report.ok() ? 0 : 1;
}

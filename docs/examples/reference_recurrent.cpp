// docs/reference/recurrent.md: the recurrent cells, unrolling, truncated
// backpropagation through time and gradient clipping. One section per run:
//   reference_recurrent rnn | lstm | tbptt | clip | errors
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <xgrad/xgrad.hpp>

namespace {

void rnn() {
    // The course's shapes: n_x = 3 inputs, n_a = 5 hidden units, m = 10 examples, T = 4 steps.
    xg::Rng rng(1);
    xg::RNNCell<double> cell(/*n_x=*/3, /*n_a=*/5, rng);
    xg::Graph<double> g;
    std::vector<xg::Var<double>> xs;
    for (int t = 1; t <= 4; ++t) xs.push_back(g.input(xg::randn<double>(3, 10, rng), "x<" + std::to_string(t) + ">"));
    auto a0 = xg::initial_state(g, 5, 10);                // zeros, 5 × 10, an input leaf named a<0>
    std::vector<xg::Var<double>> a = xg::unroll(cell, xs, a0);  // a<1> … a<4>, each 5 × 10
    auto J = mean(square(a.back()));
    g.backward(J);  // backpropagation through time: dWaa sums the four steps' contributions
    std::printf("%s: %s, a<4> is %zux%zu\n", cell.describe().c_str(), cell.Waa.name().c_str(), a.back().shape().rows,
                a.back().shape().cols);
    std::printf("gradient check: %s\n", xg::check_gradients(g, J).ok() ? "ok" : "FAILED");
}

void lstm() {
    // A character model's core: token ids → embedding → LSTM → logits of the next token.
    const std::size_t V = 6, d = 4, n = 8, m = 3, T = 5;
    xg::Rng rng(2);
    xg::LSTMCell<double> cell(d, n, rng);  // W: 4n × (n + d) = [Wf; Wi; Wc; Wo], b: 4n × 1
    xg::Graph<double> g;
    auto E = g.parameter(xg::randn<double>(d, V, rng, 0.1), "E");
    auto Wy = g.parameter(xg::randn<double>(V, n, rng, 0.1), "Wy");
    xg::Matrix<double> ids({1, m * (T + 1)});
    for (std::size_t j = 0; j < ids.size(); ++j) ids(0, j) = double((j * 7 + 3) % V);
    auto tokens = g.input(ids, "tokens");  // T + 1 steps of m examples, step-major
    auto X = embedding(E, columns(tokens, 0, m * T));
    std::vector<xg::Var<double>> xs;
    for (std::size_t t = 0; t < T; ++t) xs.push_back(columns(X, t * m, (t + 1) * m));
    xg::LSTMState<double> s0{xg::initial_state(g, n, m), xg::initial_state(g, n, m, "c<0>")};
    std::vector<xg::Var<double>> as;
    for (const xg::LSTMState<double>& s : xg::unroll(cell, xs, s0)) as.push_back(s.a);
    auto J = softmax_cross_entropy(matmul(Wy, concat_columns(as)), columns(tokens, m, m * (T + 1)));
    g.backward(J);
    std::printf("%s: W %zux%zu, b %zux%zu, forget bias %.0f\n", cell.describe().c_str(), cell.W.shape().rows,
                cell.W.shape().cols, cell.b.shape().rows, cell.b.shape().cols, cell.b.value()(0, 0));
    std::printf("J = %.6f (log V = %.6f)\n", J.value()(0, 0), std::log(double(V)));
    std::printf("gradient check: %s\n", xg::check_gradients(g, J).ok() ? "ok" : "FAILED");
}

void tbptt() {
    // Truncated backpropagation through time: one graph for a segment of T steps,
    // replayed on each segment; the last state is copied into a0 for the next one.
    xg::Rng rng(3);
    xg::GRUCell<double> cell(2, 4, rng);
    xg::Graph<double> g;
    std::vector<xg::Var<double>> xs;
    for (int t = 0; t < 3; ++t) xs.push_back(g.input(xg::randn<double>(2, 5, rng), "x" + std::to_string(t)));
    auto h0 = xg::initial_state(g, 4, 5, "h0");
    std::vector<xg::Var<double>> h = xg::unroll(cell, xs, h0);
    auto J = mean(square(h.back()));
    for (int segment = 1; segment <= 3; ++segment) {
        for (auto& x : xs) g.set_value(x, xg::randn<double>(2, 5, rng));
        g.forward();
        g.backward(J);  // reaches h0, never the segments before
        double carried = 0;
        for (double v : h0.value()) carried += std::fabs(v);
        std::printf("segment %d: J = %.6f, Σ|h0| = %.6f\n", segment, J.value()(0, 0), carried);
        g.set_value(h0, h.back().value());  // carry the state
    }
}

void clip() {
    xg::Parameter<double> W(xg::Matrix<double>{{1.0, 2.0}}, "W"), b(xg::Matrix<double>{{0.5}}, "b");
    W.grad() = xg::Matrix<double>{{30.0, 0.0}};
    b.grad() = xg::Matrix<double>{{40.0}};
    const double norm = xg::clip_grad_norm<double>({W, b}, 5.0);  // the global norm before clipping
    std::printf("norm before %.1f; dW = [%.6f, %.6f], db = [%.6f]\n", norm, W.grad()(0, 0), W.grad()(0, 1),
                b.grad()(0, 0));
}

void errors() {
    xg::Rng rng(4);
    xg::LSTMCell<double> cell(3, 5, rng);
    xg::Graph<double> g;
    auto x = g.input(xt::zeros<double>({3, 4}), "x");
    auto a = g.input(xt::zeros<double>({5, 4}), "a");
    auto c = g.input(xt::zeros<double>({5, 2}), "c");
    try {
        cell(x, {a, c});
    } catch (const xg::ShapeError& e) {
        std::printf("%s\n", e.what());
    }
    try {
        xg::unroll(cell, {}, {a, a});
    } catch (const xg::ValueError& e) {
        std::printf("%s\n", e.what());
    }
}

}  // namespace

int main(int argc, char** argv) {
    const std::string what = argc > 1 ? argv[1] : "";
    if (what.empty() || what == "rnn") rnn();
    if (what.empty() || what == "lstm") lstm();
    if (what.empty() || what == "tbptt") tbptt();
    if (what.empty() || what == "clip") clip();
    if (what.empty() || what == "errors") errors();
}

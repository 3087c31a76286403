// xgrad's threads: how many, how to choose, and results that do not depend
// on the choice. Shown in docs/reference/threads.md.
#include <cstdio>
#include <cstring>

#include <xgrad/xgrad.hpp>

namespace {

// Three gradient-descent steps of a tanh layer on 20 000 examples: its
// elementwise loops are large enough to run on the pool.
double train(std::size_t threads) {
    xg::set_threads(threads);
    xg::Rng rng(1);
    xg::Graph<double> g;
    auto X = g.input(xg::randn<double>(8, 20000, rng), "X");
    auto Y = g.input(xg::randn<double>(1, 20000, rng), "Y");
    xg::Parameter<double> W1(xg::randn<double>(16, 8, rng, 0.5), "W1"), b1(xg::randn<double>(16, 1, rng), "b1");
    xg::Parameter<double> W2(xg::randn<double>(1, 16, rng, 0.5), "W2");
    auto A1 = tanh(matmul(g.parameter(W1), X) + g.parameter(b1));
    auto J = mean_squared_error(matmul(g.parameter(W2), A1), Y);
    xg::GradientDescent<double> sgd({W1, b1, W2}, 0.1);
    for (int step = 0; step < 3; ++step) {
        g.forward();
        g.backward(J);
        sgd.step();
    }
    g.forward();
    return J.value()(0, 0);
}

}  // namespace

int main() {
    // Pick the number of threads once, before training (or set
    // XGRAD_NUM_THREADS in the environment); 1 runs everything on the
    // calling thread, 0 goes back to the default.
    xg::set_threads(2);
    std::printf("xgrad uses %zu threads\n", xg::threads());

    const double one = train(1), four = train(4);
    std::printf("cost after 3 steps: %.17g (1 thread), %.17g (4 threads)\n", one, four);
    std::printf("the same bits: %s\n", std::memcmp(&one, &four, sizeof one) == 0 ? "yes" : "no");
    xg::set_threads(0);
    return std::memcmp(&one, &four, sizeof one) == 0 ? 0 : 1;
}

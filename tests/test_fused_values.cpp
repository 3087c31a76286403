// Fused values: in W·X + b the matmul node keeps its value in the add's
// buffer (Op::forward_in_place, Op::backward_reads_output), so the graph
// holds one buffer less. Every number must be the one an unfused graph gives,
// bit for bit, and value() of the matmul node must still answer.
#include <doctest/doctest.h>

#include <cstring>
#include <random>

#include "../bench/heap_meter.hpp"
#include "helpers.hpp"

using xg::Matrix;
using namespace xgt;

namespace {

template <class T>
bool same_bits(const Matrix<T>& a, const Matrix<T>& b) {
    return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

/// Z = W·X + b, A = tanh(Z), J = Σ A; with `extra_reader`, W·X is also read
/// by a second node (sum(W·X) · 0), which keeps it unfused.
struct Net {
    xg::Graph<double> g;
    xg::Var<double> X, WX, Z, J;
    Net(const Matrix<double>& w, const Matrix<double>& b, const Matrix<double>& x, bool extra_reader) {
        X = g.input(x, "X");
        WX = matmul(g.parameter(w, "W"), X);
        Z = (WX + g.parameter(b, "b")).named("Z");
        J = sum(tanh(Z));
        if (extra_reader) J = J + sum(WX) * 0.0;
    }
};

}  // namespace

TEST_CASE("W·X + b keeps no buffer for W·X, and gives the unfused numbers bit for bit") {
    std::mt19937_64 rng(7);
    const std::size_t n = 30, h = 64, m = 2000;
    const Matrix<double> w = randn(h, n, rng), b = randn(h, 1, rng), x = randn(n, m, rng);
    const std::size_t buffer = h * m * sizeof(double);

    Net warm_up(w, b, x, false);  // xgrad's thread pool starts at the first large loop
    const std::size_t before = bench::heap::live_bytes();
    Net fused(w, b, x, false);
    const std::size_t fused_bytes = bench::heap::live_bytes() - before;
    Net plain(w, b, x, true);
    const std::size_t plain_bytes = bench::heap::live_bytes() - before - fused_bytes;
    if (before != 0) {  // the heap meter counts (not under AddressSanitizer)
        // The unfused graph holds W·X's buffer (and sum(W·X)'s small nodes).
        CHECK(plain_bytes > fused_bytes + buffer);
        CHECK(plain_bytes < fused_bytes + buffer + buffer / 10);
    }

    for (int step = 0; step < 3; ++step) {
        for (Net* net : {&fused, &plain}) {
            net->g.forward();
            net->g.backward(net->J);
        }
        CHECK(same_bits(fused.Z.value(), plain.Z.value()));
        CHECK(same_bits(fused.WX.grad(), plain.WX.grad()));
        CHECK(same_bits(fused.g.parameters()[0].grad(), plain.g.parameters()[0].grad()));
        CHECK(same_bits(fused.g.parameters()[1].grad(), plain.g.parameters()[1].grad()));
        // value() computes W·X on request: the same bits as the stored one.
        CHECK(same_bits(fused.WX.value(), plain.WX.value()));
        const Matrix<double> next = randn(n, m, rng);
        fused.g.set_value(fused.X, next);
        plain.g.set_value(plain.X, next);
    }
}

TEST_CASE("value() of a fused node follows forward(), and refuses after a leaf changed") {
    std::mt19937_64 rng(8);
    const Matrix<double> w = randn(3, 2, rng), b = randn(3, 1, rng), x = randn(2, 5, rng);
    Net net(w, b, x, false);
    CHECK(net.WX.value()(0, 4) == doctest::Approx(w(0, 0) * x(0, 4) + w(0, 1) * x(1, 4)));
    // Once computed, the copy is the value as of the last forward(), as any
    // node's value is, whatever the leaves do after.
    const Matrix<double> x2 = randn(2, 5, rng);
    net.g.set_value(net.X, x2);
    CHECK(net.WX.value()(0, 4) == doctest::Approx(w(0, 0) * x(0, 4) + w(0, 1) * x(1, 4)));
    net.g.forward();
    CHECK(net.WX.value()(1, 2) == doctest::Approx(w(1, 0) * x2(0, 2) + w(1, 1) * x2(1, 2)));
    // Z = W·X + b exactly as the add computes it.
    for (std::size_t j = 0; j < 5; ++j) CHECK(net.Z.value()(2, j) == net.WX.value()(2, j) + b(2, 0));
    // Not computed since the last forward(), and X changed since: the value
    // as of that forward() is gone.
    net.g.forward();
    net.g.set_value(net.X, x);
    CHECK_THROWS_WITH_AS(net.WX.value(), doctest::Contains("X changed since the last forward()"), xg::GraphError);
    net.g.forward();
    CHECK(net.WX.value()(0, 4) == doctest::Approx(w(0, 0) * x(0, 4) + w(0, 1) * x(1, 4)));
}

TEST_CASE("a second reader built later gives W·X a buffer of its own") {
    std::mt19937_64 rng(9);
    const Matrix<double> w = randn(4, 3, rng), b = randn(4, 1, rng), x = randn(3, 6, rng);
    Net net(w, b, x, false);
    net.g.forward();
    const Matrix<double> z = net.Z.value();
    auto S = sum(net.WX);  // W·X now has two readers
    auto J2 = net.J + S;
    net.g.forward();
    CHECK(same_bits(net.Z.value(), z));
    CHECK(S.value()(0, 0) == doctest::Approx(xt::sum(net.WX.value())()));
    net.g.backward(J2);
    Net plain(w, b, x, true);
    plain.g.forward();
    plain.g.backward(plain.J);
    // dW = (dZ + 1)·Xᵀ: the second reader's gradient arrives too.
    const Matrix<double> dz = net.Z.grad();
    for (std::size_t i = 0; i < 4; ++i) {
        for (std::size_t k = 0; k < 3; ++k) {
            double expected = 0;
            for (std::size_t j = 0; j < 6; ++j) expected += (dz(i, j) + 1) * x(k, j);
            CHECK(net.g.parameters()[0].grad()(i, k) == doctest::Approx(expected));
        }
    }
}

TEST_CASE("a second reader of a fused W·X after W changed shape is refused, and nothing is built") {
    std::mt19937_64 rng(10);
    xg::Parameter<double> W(randn(4, 3, rng), "W");
    xg::Graph<double> g;
    auto X = g.input(randn(3, 6, rng), "X");
    auto WX = matmul(g.parameter(W), X).named("WX");
    auto Z = (WX + g.parameter(randn(4, 1, rng), "b")).named("Z");
    g.forward();
    const Matrix<double> z = Z.value(), old = W.value();
    const std::size_t size = g.size();
    W.value() = randn(4, 5, rng);  // W·X would now read 5 rows of X's 3
    const std::string msg = message_of<xg::GraphError>([&] { sigmoid(WX); });
    CHECK(contains(msg, "WX = matmul(…): its input W changed shape from [4x3] to [4x5]"));
    CHECK(contains(msg, "call forward() before building new nodes on WX"));
    CHECK(g.size() == size);
    W.value() = old;
    g.forward();
    CHECK(same_bits(Z.value(), z));
    auto S = sigmoid(WX);  // now it may
    CHECK(S.value()(0, 0) == doctest::Approx(1 / (1 + std::exp(-WX.value()(0, 0)))));
}

TEST_CASE("a fused pair whose shapes part after a leaf changes shape is unfused") {
    // w·X is 1 × m; B broadcasts it to B's rows once B has more than one row.
    xg::Graph<double> g;
    auto X = g.input(Matrix<double>{{1, 2, 3}, {4, 5, 6}}, "X");
    auto w = g.parameter(Matrix<double>{{1, -1}}, "w");
    auto B = g.input(Matrix<double>{{10, 20, 30}}, "B");
    auto WX = matmul(w, X);
    auto Z = WX + B;
    g.forward();
    CHECK(Z.value() == Matrix<double>{{7, 17, 27}});
    g.set_value(B, Matrix<double>{{10, 20, 30}, {1, 2, 3}});
    g.forward();
    CHECK(WX.value() == Matrix<double>{{-3, -3, -3}});
    CHECK(Z.value() == Matrix<double>{{7, 17, 27}, {-2, -1, 0}});
    g.backward(sum(Z));
    CHECK(g.grad(w.id()) == Matrix<double>{{12, 30}});  // dW = Σ_rows(1) · Xᵀ = 2 · row sums of X
}

TEST_CASE("the numeric-debug mode names the fused node that made a non-finite value") {
    xg::Graph<double> g;
    g.check_numerics(true);
    auto X = g.input(Matrix<double>{{1, 2}, {3, 4}}, "X");
    auto W = g.parameter(Matrix<double>{{1, 1}}, "W");
    auto Z = (matmul(W, X) + g.parameter(Matrix<double>{{0.5}}, "b")).named("Z");
    CHECK(Z.value() == Matrix<double>{{4.5, 6.5}});
    g.set_value(X, Matrix<double>{{1, 1e308}, {3, 1e308}});
    CHECK_THROWS_WITH_AS(g.forward(), doctest::Contains("matmul(W, X) [1x2] computed a non-finite value at (0, 1)"),
                         xg::ValueError);
}

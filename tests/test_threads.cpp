// xgrad's thread pool: the setting, and results that are the same to the
// last bit for any number of threads (lib/parallel.hpp splits work into
// chunks that do not depend on it).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "helpers.hpp"
#include "parallel.hpp"
#include "xgrad/threads.hpp"

using xg::Matrix;
using namespace xgt;

namespace {

/// Restores the default thread setting (and the environment variables the
/// tests touch) at the end of a test.
struct ThreadSetting {
    ~ThreadSetting() {
        unsetenv("XGRAD_NUM_THREADS");
        unsetenv("OMPI_COMM_WORLD_SIZE");
        xg::set_threads(0);
    }
};

/// Every value and gradient of a graph whose buffers are many chunks long:
/// each kind of parallel loop (elementwise forward and backward, the vector
/// math, bias and row broadcasts and their un-broadcast sums, reductions over
/// each axis, every loss, softmax, an Adam step) runs on the pool.
template <class T>
std::vector<Matrix<T>> train_and_collect(std::size_t threads) {
    xg::set_threads(threads);
    const std::size_t n = 24, h = 40, K = 7, m = 3001;  // h × m = 120 040 entries: 15 chunks of 8192
    std::mt19937_64 rng(5);
    xg::Parameter<T> W1(randn<T>(h, n, rng, 0.3), "W1"), b1(randn<T>(h, 1, rng), "b1");
    xg::Parameter<T> W2(randn<T>(K, h, rng, 0.3), "W2"), b2(randn<T>(K, 1, rng), "b2");
    xg::Parameter<T> r(randn<T>(1, m, rng), "r");
    xg::Graph<T> g;
    auto X = g.input(randn<T>(n, m, rng), "X");
    auto Yh = g.input(labels01<T>(h, m, rng), "Yh");
    Matrix<T> classes({1, m});
    for (std::size_t j = 0; j < m; ++j) classes(0, j) = T(rng() % K);
    auto y = g.input(classes, "y");
    auto Z1 = matmul(g.parameter(W1), X) + g.parameter(b1);
    auto A1 = tanh(Z1) + relu(Z1) * sigmoid(Z1) - softplus(Z1) / (exp(Z1 * 0.1) + 1.0);
    auto B = A1 + g.parameter(r);  // a row broadcast: Σ over rows for dr
    auto Z2 = matmul(g.parameter(W2), B) + g.parameter(b2);
    auto J = softmax_cross_entropy(Z2, y) + binary_cross_entropy(sigmoid(A1), Yh) +
             mean_squared_error(leaky_relu(A1), Yh) + mean(square(B)) + sum(sum(abs(A1), xg::Axis::over_rows)) * 1e-4 +
             sum(mean(log(square(A1) + 1.0), xg::Axis::over_cols)) + sum(softmax(Z2) * Z2) * 1e-3;
    xg::Adam<T> adam({W1, b1, W2, b2, r}, xg::Schedule(0.01));
    std::vector<Matrix<T>> out;
    for (int step = 0; step < 3; ++step) {
        g.forward();
        g.backward(J);
        for (const auto& v : {Z1, A1, B, Z2, J}) out.push_back(v.value());
        for (const auto& v : {Z1, A1, B, Z2}) out.push_back(v.grad());
        adam.step();
    }
    for (const auto& p : {W1, b1, W2, b2, r}) out.push_back(std::as_const(p).value());
    return out;
}

template <class T>
bool same_bits(const std::vector<Matrix<T>>& a, const std::vector<Matrix<T>>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t k = 0; k < a.size(); ++k) {
        if (a[k].shape() != b[k].shape()) return false;
        if (std::memcmp(a[k].data(), b[k].data(), a[k].size() * sizeof(T)) != 0) return false;
    }
    return true;
}

/// Every value and gradient of a conv net whose image loops are many chunks
/// long: im2col (rows of 20·20·300 entries), col2im into X and into the
/// first pooling's output (whole channels per chunk), max pooling that tiles
/// the image, overlapping average pooling, three Adam steps.
template <class T>
std::vector<Matrix<T>> train_conv_and_collect(std::size_t threads) {
    xg::set_threads(threads);
    const std::size_t m = 300, K = 5;
    std::mt19937_64 rng(6);
    xg::Parameter<T> K1(randn<T>(6, 9, rng, 0.4), "K1"), b1(randn<T>(6, 1, rng, 0.1), "b1");
    xg::Parameter<T> K2(randn<T>(8, 6 * 9, rng, 0.2), "K2"), b2(randn<T>(8, 1, rng, 0.1), "b2");
    xg::Parameter<T> W(randn<T>(K, 8 * 3 * 3, rng, 0.2), "W");
    xg::Graph<T> g;
    auto X = g.input(randn<T>(20 * 20, m, rng), "X", true);
    Matrix<T> classes({1, m});
    for (std::size_t j = 0; j < m; ++j) classes(0, j) = T(rng() % K);
    auto y = g.input(classes, "y");
    auto A1 = relu(conv2d(X, g.parameter(K1), g.parameter(b1), {{1, 20, 20}, 3, 1, 1}));   // 6 x 20 x 20
    auto P1 = max_pool2d(A1, {{6, 20, 20}, 2, 2});                                          // 6 x 10 x 10
    // The second convolution by Winograd's F(2×2, 3×3): its transforms run on the pool too.
    auto A2 = relu(conv2d(P1, g.parameter(K2), g.parameter(b2), {{6, 10, 10}, 3, 1, 1, xg::ConvAlgorithm::winograd}));  // 8 x 10 x 10
    auto P2 = avg_pool2d(A2, {{8, 10, 10}, 2, 1});                                          // 8 x 9 x 9
    auto P3 = max_pool2d(P2, {{8, 9, 9}, 3, 3});                                            // 8 x 3 x 3
    auto J = softmax_cross_entropy(matmul(g.parameter(W), P3), y);
    xg::Adam<T> adam({K1, b1, K2, b2, W}, xg::Schedule(0.01));
    std::vector<Matrix<T>> out;
    for (int step = 0; step < 3; ++step) {
        g.forward();
        g.backward(J);
        for (const auto& v : {A1, P1, A2, P2, P3, J}) out.push_back(v.value());
        for (const auto& v : {X, A1, P1, A2, P2, P3}) out.push_back(v.grad());
        adam.step();
    }
    for (const auto& p : {K1, b1, K2, b2, W}) out.push_back(std::as_const(p).value());
    return out;
}

}  // namespace

TEST_CASE_TEMPLATE("training gives the same bits with 1, 2, 3 and 8 threads", T, double, float) {
    ThreadSetting restore;
    const auto one = train_and_collect<T>(1);
    for (std::size_t n : {2, 3, 8}) {
        CAPTURE(n);
        CHECK(same_bits(one, train_and_collect<T>(n)));
    }
    // The loss is finite and the run did something.
    CHECK(std::isfinite(double(one[4](0, 0))));
}

TEST_CASE("a large loop runs on several threads; a small one on the caller's") {
    ThreadSetting restore;
    xg::set_threads(3);
    CHECK(xg::threads() == 3);
    std::mutex mu;
    std::set<std::thread::id> ids;
    std::vector<int> hits(40 * xg::detail::grain_arith, 0);
    // Chunks that take long enough for the workers to wake and take some.
    xg::detail::parallel_for(hits.size(), xg::detail::grain_arith, [&](std::size_t b, std::size_t e) {
        {
            std::lock_guard<std::mutex> lock(mu);
            ids.insert(std::this_thread::get_id());
        }
        for (std::size_t k = b; k < e; ++k) hits[k] += 1;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    });
    CHECK(ids.size() > 1);
    CHECK(std::count(hits.begin(), hits.end(), 1) == long(hits.size()));  // every entry once

    ids.clear();
    xg::detail::parallel_for(xg::detail::grain_arith, xg::detail::grain_arith, [&](std::size_t, std::size_t) {
        ids.insert(std::this_thread::get_id());
    });
    CHECK(ids == std::set<std::thread::id>{std::this_thread::get_id()});

    xg::set_threads(1);
    ids.clear();
    xg::detail::parallel_for(hits.size(), xg::detail::grain_arith, [&](std::size_t, std::size_t) {
        ids.insert(std::this_thread::get_id());
    });
    CHECK(ids == std::set<std::thread::id>{std::this_thread::get_id()});
}

TEST_CASE("chunked sums add their partial sums in chunk order") {
    ThreadSetting restore;
    const std::size_t n = 10 * xg::detail::grain_arith + 123;
    std::vector<double> x(n);
    std::mt19937_64 rng(3);
    std::uniform_real_distribution<double> u(-1e6, 1e6);
    for (double& v : x) v = u(rng);
    double expected = 0;
    for (std::size_t b = 0; b < n; b += xg::detail::grain_arith) {
        double part = 0;
        for (std::size_t k = b; k < std::min(n, b + xg::detail::grain_arith); ++k) part += x[k];
        expected += part;
    }
    for (std::size_t t : {1, 2, 5}) {
        xg::set_threads(t);
        const double s = xg::detail::parallel_sum<double>(n, xg::detail::grain_arith, [&](std::size_t b, std::size_t e) {
            double part = 0;
            for (std::size_t k = b; k < e; ++k) part += x[k];
            return part;
        });
        CHECK(std::memcmp(&s, &expected, sizeof s) == 0);
    }
}

TEST_CASE("the thread setting: set_threads, XGRAD_NUM_THREADS, one thread under MPI") {
    ThreadSetting restore;
    unsetenv("XGRAD_NUM_THREADS");
    unsetenv("OMPI_COMM_WORLD_SIZE");
    xg::set_threads(0);
    const std::size_t cpus = xg::threads();
    CHECK(cpus >= 1);
    CHECK(cpus == std::max(1u, std::thread::hardware_concurrency()));  // no affinity mask in the test run

    xg::set_threads(5);
    CHECK(xg::threads() == 5);

    setenv("XGRAD_NUM_THREADS", "3", 1);
    CHECK(xg::threads() == 5);  // an explicit choice wins over the environment
    xg::set_threads(0);
    CHECK(xg::threads() == 3);

    setenv("OMPI_COMM_WORLD_SIZE", "4", 1);
    xg::set_threads(0);
    CHECK(xg::threads() == 3);  // XGRAD_NUM_THREADS wins over the MPI default
    unsetenv("XGRAD_NUM_THREADS");
    xg::set_threads(0);
    CHECK(xg::threads() == 1);  // one thread per rank under mpirun
    unsetenv("OMPI_COMM_WORLD_SIZE");

    for (const char* bad : {"0", "-2", "two", "", "3x", "99999999"}) {
        CAPTURE(bad);
        setenv("XGRAD_NUM_THREADS", bad, 1);
        xg::set_threads(0);
        CHECK_THROWS_WITH_AS(xg::threads(), doctest::Contains("XGRAD_NUM_THREADS"), xg::ValueError);
    }
}

TEST_CASE_TEMPLATE("a conv net trains to the same bits with 1, 2, 3 and 8 threads", T, double, float) {
    ThreadSetting restore;
    const auto one = train_conv_and_collect<T>(1);
    for (std::size_t n : {2, 3, 8}) {
        CAPTURE(n);
        CHECK(same_bits(one, train_conv_and_collect<T>(n)));
    }
    // The loss is finite, and the gradients reached the input.
    CHECK(std::isfinite(double(one[5](0, 0))));
    const Matrix<T>& dX = one[6];
    CHECK(std::any_of(dX.begin(), dX.end(), [](T v) { return v != T(0); }));
}

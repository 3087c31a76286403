// Depth: a chain of 100 000 nodes builds, replays and back-propagates to the
// right numbers; explain and to_dot walk it; nothing recurses (all of it runs
// on a thread with a 512 KiB stack), and memory grows in proportion to the
// number of nodes; a graph of 100 000 parameters builds in linear time.
#include <doctest/doctest.h>

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "../bench/heap_meter.hpp"
#include "helpers.hpp"

using xg::Matrix;

namespace {

/// Run f on a new thread whose stack is `bytes` long (recursion as deep as
/// the graph would overflow it), rethrowing what it throws.
void on_small_stack(const std::function<void()>& f, std::size_t bytes = 512 * 1024) {
    struct Job {
        const std::function<void()>* f;
        std::exception_ptr error;
    } job{&f, nullptr};
    pthread_attr_t attr;
    REQUIRE(pthread_attr_init(&attr) == 0);
    REQUIRE(pthread_attr_setstacksize(&attr, bytes) == 0);
    pthread_t t;
    const auto run = [](void* p) -> void* {
        Job* j = static_cast<Job*>(p);
        try {
            (*j->f)();
        } catch (...) {
            j->error = std::current_exception();
        }
        return nullptr;
    };
    REQUIRE(pthread_create(&t, &attr, run, &job) == 0);
    pthread_join(t, nullptr);
    pthread_attr_destroy(&attr);
    if (job.error) std::rethrow_exception(job.error);
}

/// y₀ = w, then y ← tanh(y) + w, `pairs` times: 2 · pairs op nodes.
struct Chain {
    xg::Graph<double> g;
    xg::Parameter<double> w{Matrix<double>{{0.5}}, "w"};
    xg::Var<double> y;

    explicit Chain(std::size_t pairs) {
        const xg::Var<double> wv = g.parameter(w);
        y = wv;
        for (std::size_t k = 0; k < pairs; ++k) y = tanh(y) + wv;
    }
};

/// The chain's value and dy/dw by hand: a forward loop, then the reverse one.
std::pair<double, double> by_hand(double w, std::size_t pairs) {
    std::vector<double> t(pairs);  // tanh of each step's input
    double y = w;
    for (std::size_t k = 0; k < pairs; ++k) {
        t[k] = std::tanh(y);
        y = t[k] + w;
    }
    double g = 1, dw = 0;
    for (std::size_t k = pairs; k-- > 0;) {
        dw += g;                      // the add's w
        g *= 1 - t[k] * t[k];         // through tanh
    }
    return {y, dw + g};               // y₀ = w
}

std::size_t count_lines(const std::string& s) {
    std::size_t n = 0;
    for (char c : s) n += c == '\n';
    return n;
}

}  // namespace

TEST_CASE("a chain of 100 000 nodes builds, replays and back-propagates without recursion") {
    const std::size_t pairs = 50000;
    on_small_stack([&] {
        Chain c(pairs);
        CHECK(c.g.size() == 2 * pairs + 1);
        auto [value, dw] = by_hand(0.5, pairs);
        CHECK(c.y.value()(0, 0) == doctest::Approx(value).epsilon(1e-12));
        c.g.backward(c.y);
        CHECK(c.w.grad()(0, 0) == doctest::Approx(dw).epsilon(1e-12));

        // Replay from a new value of w.
        c.w.value()(0, 0) = -0.25;
        c.g.forward();
        c.g.backward(c.y);
        std::tie(value, dw) = by_hand(-0.25, pairs);
        CHECK(c.y.value()(0, 0) == doctest::Approx(value).epsilon(1e-12));
        CHECK(c.w.grad()(0, 0) == doctest::Approx(dw).epsilon(1e-12));

        // Accumulating a second sweep doubles the gradient.
        c.g.backward(c.y, xg::GradMode::accumulate);
        CHECK(c.w.grad()(0, 0) == doctest::Approx(2 * dw).epsilon(1e-12));

        // The numeric-debug mode walks it too.
        c.g.check_numerics(true);
        c.g.forward();
        c.g.backward(c.y);
    });  // the graph is destroyed on the small stack as well
}

TEST_CASE("explain and to_dot on a chain of 100 000 nodes") {
    const std::size_t pairs = 50000;
    on_small_stack([&] {
        Chain c(pairs);
        // Each tanh gets a gradient line; each add's gradient is its consumer's
        // (folded); the gradient of w sums one contribution per add.
        const std::string text = xg::explain(c.y);
        CHECK(text.find("forward:") == 0);
        CHECK(count_lines(text) > pairs);
        // With shapes, one line (dw) sums 50 000 contributions; the shapes
        // column is not padded to it, so the text stays linear in size.
        const std::string all = xg::explain(c.y, xg::ExplainOptions{xg::sym::Style::ascii, true, true});
        CHECK(count_lines(all) > 4 * pairs);
        CHECK(all.size() < 100 * 4 * pairs);
        const std::string dot = xg::to_dot(c.y);
        CHECK(dot.find("digraph xgrad {") == 0);
        CHECK(count_lines(dot) > 4 * pairs);  // every node, every forward edge, every gradient edge
    });
}

TEST_CASE("a node read 100 000 times: one balanced sum of contributions") {
    on_small_stack([&] {
        xg::Graph<double> g;
        auto w = g.parameter(Matrix<double>{{1, 2}}, "w");
        xg::Var<double> y = w;
        for (int k = 0; k < 100000; ++k) y = y + w;
        auto J = sum(y);
        g.backward(J);
        CHECK(w.grad() == Matrix<double>{{100001, 100001}});
        // dw's line adds up 100 001 contributions.
        const std::string text = xg::explain(J);
        const std::size_t at = text.find("\n  dw");
        REQUIRE(at != std::string::npos);
        const std::string line = text.substr(at + 1, text.find('\n', at + 1) - at - 1);
        CHECK(std::count(line.begin(), line.end(), '+') == 100000);
    });
}

TEST_CASE("memory grows in proportion to the number of nodes") {
    if (bench::heap::live_bytes() == 0) {
        MESSAGE("the heap meter is off under AddressSanitizer: not measured");
        return;
    }
    // Live heap bytes of a chain after building, after one step, after a second step.
    const auto measure = [](std::size_t pairs, std::size_t out[3]) {
        const std::size_t base = bench::heap::live_bytes();
        auto c = std::make_unique<Chain>(pairs);
        out[0] = bench::heap::live_bytes() - base;
        c->g.backward(c->y);
        out[1] = bench::heap::live_bytes() - base;
        c->g.forward();
        c->g.backward(c->y);
        out[2] = bench::heap::live_bytes() - base;
    };
    std::size_t small[3], large[3];
    measure(12500, small);  // 25 000 nodes
    measure(50000, large);  // 100 000 nodes
    const double per_node = double(large[1]) / 100001;
    MESSAGE("bytes per node: " << double(large[0]) / 100001 << " built, " << per_node << " after backward");
    for (int k = 0; k < 2; ++k) {
        CAPTURE(k);
        const double ratio = double(large[k]) / double(small[k]);
        CHECK(ratio == doctest::Approx(4.0).epsilon(0.05));  // 4 times the nodes, 4 times the bytes
    }
    CHECK(per_node < 2048);           // a node with its 1x1 value and gradient
    CHECK(large[2] == large[1]);      // a replayed step allocates nothing more
}

TEST_CASE("a graph of 100 000 parameters builds in linear time") {
    // Each Graph::parameter finds an existing leaf by a hash lookup, and
    // parameters() lists each once without comparing every pair: with a scan
    // per call, 100 000 parameters took about 40 s; now a fraction of one.
    std::vector<xg::Parameter<double>> ps;
    for (int k = 0; k < 100000; ++k) ps.emplace_back(Matrix<double>{{double(k % 7)}}, "p" + std::to_string(k));
    const auto start = std::chrono::steady_clock::now();
    xg::Graph<double> g;
    std::vector<xg::Var<double>> leaves;
    for (const auto& p : ps) leaves.push_back(g.parameter(p));
    std::size_t found_again = 0;
    for (std::size_t k = 0; k < ps.size(); ++k) found_again += g.parameter(ps[k]).id() == leaves[k].id();
    const std::vector<xg::Parameter<double>> listed = g.parameters();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    CHECK(found_again == 100000);
    CHECK(g.size() == 100000);
    CHECK(listed.size() == 100000);
    CHECK(listed[12345] == ps[12345]);
    MESSAGE("100 000 parameters: " << seconds << " s");
    CHECK(seconds < 10.0);  // a guard against a quadratic lookup, with a wide margin for slow machines
}

// Building a node is all or nothing: whatever throws while a node is built —
// a shape error, an op's ValueError, or an allocation failure at ANY
// allocation of the build — leaves the graph exactly as it was, and the
// graph replays and differentiates as before.
//
// The allocation failures are injected: this program replaces the global
// operator new with one that counts calls and throws std::bad_alloc at the
// k-th call of a build, for k = 1, 2, … until the build no longer fails.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <new>
#include <random>

#include "helpers.hpp"

namespace {
std::atomic<long> g_calls{0};
std::atomic<long> g_fail_at{0};  // 0: never fail

void* counted_alloc(std::size_t n, std::size_t align) {
    const long c = g_calls.fetch_add(1) + 1;
    if (g_fail_at.load() != 0 && c == g_fail_at.load()) throw std::bad_alloc();
    void* p = align > alignof(std::max_align_t) ? std::aligned_alloc(align, (n + align - 1) / align * align)
                                                : std::malloc(n ? n : 1);
    if (!p) throw std::bad_alloc();
    return p;
}
}  // namespace

void* operator new(std::size_t n) { return counted_alloc(n, 0); }
void* operator new[](std::size_t n) { return counted_alloc(n, 0); }
void* operator new(std::size_t n, std::align_val_t a) { return counted_alloc(n, std::size_t(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return counted_alloc(n, std::size_t(a)); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

using xg::Matrix;
using xg::Var;
using namespace xgt;

namespace {

/// The two-layer network on 6 examples, with a backward pass already run.
struct Fixture {
    xg::Graph<double> g;
    xg::Parameter<double> spare{Matrix<double>{{0.5, -0.25}}, "spare"};
    Var<double> X, Y, W1, b1, W2, b2, Z1, A1, Z2, A2, J;
    Fixture() {
        std::mt19937_64 rng(7);
        X = g.input(randn(2, 6, rng), "X");
        Y = g.input(labels01(1, 6, rng), "Y");
        W1 = g.parameter(randn(4, 2, rng), "W1");
        b1 = g.parameter(randn(4, 1, rng), "b1");
        W2 = g.parameter(randn(1, 4, rng), "W2");
        b2 = g.parameter(randn(1, 1, rng), "b2");
        Z1 = (matmul(W1, X) + b1).named("Z1");
        A1 = tanh(Z1).named("A1");
        Z2 = (matmul(W2, A1) + b2).named("Z2");
        A2 = sigmoid(Z2).named("A2");
        J = binary_cross_entropy(A2, Y).named("J");
        g.backward(J);
    }
};

/// What a graph looks like from outside: every node's kind, name, shape and
/// value, and the parameters' gradients.
struct Snapshot {
    std::vector<std::string> names;
    std::vector<xg::Shape> shapes;
    std::vector<Matrix<double>> values;
    std::vector<Matrix<double>> grads;
    explicit Snapshot(const Fixture& f) {
        for (std::uint32_t id = 0; id < f.g.size(); ++id) {
            names.push_back(f.g.name(id) + "/" + std::to_string(int(f.g.kind(id))));
            shapes.push_back(f.g.shape(id));
            values.push_back(f.g.value(id));
        }
        for (const auto& p : f.g.parameters()) grads.push_back(p.grad());
    }
    bool operator==(const Snapshot& o) const {
        return names == o.names && shapes == o.shapes && values == o.values && grads == o.grads;
    }
};

using Vars = std::vector<Var<double>>;

/// On a fresh fixture, make the inputs with `prepare` (not counted), then
/// build ONE node with `build`, failing its k-th allocation, for every k until
/// the build succeeds; each time the graph must be unchanged and still replay
/// and differentiate to the same numbers. Returns how many allocations the
/// build made.
long check_all_or_nothing(const char* what, const std::function<Vars(Fixture&)>& prepare,
                          const std::function<void(Fixture&, const Vars&)>& build) {
    CAPTURE(what);
    for (long k = 1;; ++k) {
        CAPTURE(k);
        Fixture f;
        const Vars in = prepare(f);
        const Snapshot before(f);
        bool failed = false;
        g_calls = 0;
        g_fail_at = k;
        try {
            build(f, in);
        } catch (const std::bad_alloc&) {
            failed = true;
        }
        g_fail_at = 0;
        if (!failed) {
            REQUIRE(k > 1);  // every build allocates at least once
            REQUIRE(f.g.size() == before.names.size() + 1);
            return k - 1;
        }
        REQUIRE(Snapshot(f) == before);
        f.g.forward();
        f.g.backward(f.J);
        REQUIRE(Snapshot(f) == before);
        build(f, in);  // and building works again
        REQUIRE(f.g.size() == before.names.size() + 1);
    }
}

}  // namespace

TEST_CASE("an allocation failure at any point of a build leaves the graph as it was") {
    struct Case {
        const char* what;
        std::function<Vars(Fixture&)> prepare;
        std::function<void(Fixture&, const Vars&)> build;
    };
    const auto none = [](Fixture&) { return Vars{}; };
    std::mt19937_64 rng(11);
    const Matrix<double> big = randn(40, 60, rng);  // 40·60·6 multiply-adds: the BLAS path
    const std::vector<Case> cases = {
        {"input", none, [](Fixture& f, const Vars&) { f.g.input(Matrix<double>{{1, 2, 3}}, "new_input"); }},
        {"parameter (new)", none, [](Fixture& f, const Vars&) { f.g.parameter(f.spare); }},
        {"parameter (from a matrix)", none,
         [](Fixture& f, const Vars&) { f.g.parameter(Matrix<double>{{1}, {2}}, "fresh"); }},
        {"matmul", [](Fixture& f) { return Vars{transpose(f.W1)}; },
         [](Fixture& f, const Vars& v) { matmul(v[0], f.Z1); }},
        {"matmul on the BLAS path",
         [&](Fixture& f) { return Vars{f.g.input(big), f.g.input(Matrix<double>(xt::ones<double>({60, 6})))}; },
         [](Fixture&, const Vars& v) { matmul(v[0], v[1]); }},
        {"add (broadcast)", none, [](Fixture& f, const Vars&) { f.Z1 + f.b1; }},
        {"sub (broadcast)", none, [](Fixture& f, const Vars&) { f.b1 - f.A1; }},
        {"mul", none, [](Fixture& f, const Vars&) { f.A1 * f.Z1; }},
        {"div", [](Fixture& f) { return Vars{2.0 + square(f.Z1)}; },
         [](Fixture& f, const Vars& v) { f.A1 / v[0]; }},
        {"tanh", none, [](Fixture& f, const Vars&) { tanh(f.Z1); }},
        {"relu", none, [](Fixture& f, const Vars&) { relu(f.Z1); }},
        {"softplus", none, [](Fixture& f, const Vars&) { softplus(f.Z1); }},
        {"softmax", none, [](Fixture& f, const Vars&) { softmax(f.Z1); }},
        {"softmax cross-entropy", [](Fixture& f) { return Vars{softmax(f.Z1)}; },
         [](Fixture& f, const Vars& v) { softmax_cross_entropy(f.Z1, v[0]); }},
        {"binary cross-entropy on sigmoid", none, [](Fixture& f, const Vars&) { binary_cross_entropy(f.A2, f.Y); }},
        {"binary cross-entropy with logits", none,
         [](Fixture& f, const Vars&) { binary_cross_entropy_with_logits(f.Z2, f.Y); }},
        {"mean over columns", none, [](Fixture& f, const Vars&) { mean(f.A1, xg::Axis::over_cols); }},
        {"sum over rows", none, [](Fixture& f, const Vars&) { sum(f.A1, xg::Axis::over_rows); }},
        {"transpose", none, [](Fixture& f, const Vars&) { transpose(f.A1); }},
        {"detach", none, [](Fixture& f, const Vars&) { detach(f.A1); }},
        {"s - X", none, [](Fixture& f, const Vars&) { 1.0 - f.A1; }},
        {"mean squared error", none, [](Fixture& f, const Vars&) { mean_squared_error(f.A2, f.Y); }},
        {"a named node with numeric checks on",
         [](Fixture& f) {
             f.g.check_numerics(true);
             return Vars{};
         },
         [](Fixture& f, const Vars&) { exp(f.Z1).named("E"); }},
    };
    long total = 0;
    for (const Case& c : cases) total += check_all_or_nothing(c.what, c.prepare, c.build);
    MESSAGE("allocations failed one at a time: " << total);
    CHECK(total > 60);
}

TEST_CASE("a shape error or an op's ValueError while building leaves the graph as it was") {
    Fixture f;
    const Snapshot before(f);
    CHECK_THROWS_AS(matmul(f.W1, f.W2), xg::ShapeError);
    CHECK_THROWS_AS(log(f.Z1 - 100.0), xg::ValueError);  // the sub is built, the log is not
    CHECK(f.g.size() == before.names.size() + 1);
    f.g.forward();
    f.g.backward(f.J);
    CHECK(f.g.value(f.J.id()) == before.values[f.J.id()]);
}

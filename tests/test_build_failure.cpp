// Building a node is all or nothing: whatever throws while a node is built —
// a shape error, an op's ValueError, or an allocation failure at ANY
// allocation of the build — leaves the graph exactly as it was, and the
// graph replays and differentiates as before.
//
// The allocation failures are injected: this program replaces the global
// operator new with one that counts calls and throws std::bad_alloc at the
// k-th call of a build, for k = 1, 2, … until the build no longer fails.
#include <doctest/doctest.h>

#include <functional>
#include <new>
#include <random>

#include "fail_alloc.hpp"
#include "helpers.hpp"
#include "op_table.hpp"


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
        fail_alloc::arm(k);
        try {
            build(f, in);
        } catch (const std::bad_alloc&) {
            failed = true;
        }
        fail_alloc::disarm();
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

TEST_CASE("an allocation failure at any point of a leaf's build, or of a BLAS product, leaves the graph as it was") {
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
        {"matmul on the BLAS path",
         [&](Fixture& f) { return Vars{f.g.input(big), f.g.input(Matrix<double>(xt::ones<double>({60, 6})))}; },
         [](Fixture&, const Vars& v) { matmul(v[0], v[1]); }},
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
    CHECK(total > 10);
}

TEST_CASE("every op of the op table, in every spelling: an allocation failure at any point of its build leaves "
          "the graph as it was") {
    namespace ot = xgt::op_table;
    long total = 0;
    std::size_t builds = 0;
    ot::Rng rng(5);
    for (const ot::Row& r : ot::rows()) {
        const ot::Values values = ot::sample(r, ot::Dims{3, 4, 2}, rng);
        for (std::size_t form = 0; form < r.forms.size(); ++form) {
            const std::string what = r.name + ", as " + r.forms[form].call;
            // The row's leaves (and the sigmoid the fused loss reads) are made
            // beforehand; the one node of the row is the build that fails.
            const auto prepare = [&r, &values](Fixture& f) {
                Vars leaves;
                for (std::size_t i = 0; i < r.arity(); ++i) {
                    leaves.push_back(r.differentiable[i] ? f.g.parameter(values[i], "p_" + r.inputs[i])
                                                         : f.g.input(values[i], "x_" + r.inputs[i]));
                }
                return r.operands(leaves);
            };
            const auto build = [&r, form](Fixture&, const Vars& in) { r.forms[form](in, r.attr); };
            total += check_all_or_nothing(what.c_str(), prepare, build);
            ++builds;
        }
    }
    MESSAGE("op builds: " << builds << ", allocations failed one at a time: " << total);
    CHECK(builds >= ot::rows().size());
    CHECK(total > 100);
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

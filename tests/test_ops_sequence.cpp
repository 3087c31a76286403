// The sequence ops beyond their op-table rows (tests/op_table_sequence.hpp):
// a repeated token's gradient adds up, the adjoints add into a gradient other
// consumers also write, a sequence cut into steps and joined again is the
// identity, new ids and new batch sizes on replay, and replays allocate
// nothing.
#include <doctest/doctest.h>

#include <algorithm>
#include <limits>
#include <utility>

#include "alloc_count.hpp"
#include "helpers.hpp"

using xg::Matrix;
using namespace xgt;
using M = Matrix<double>;

TEST_CASE("embedding: a repeated token id adds its columns' gradients") {
    xg::Graph<double> g;
    std::mt19937_64 rng(1);
    const M E0 = randn(3, 5, rng), R = randn(3, 6, rng);
    auto E = g.parameter(E0, "E");
    auto ids = g.input(M{{1, 3, 1, 1, 4, 3}}, "ids");
    auto Y = embedding(E, ids);
    for (std::size_t i = 0; i < 3; ++i) {
        const std::size_t id[] = {1, 3, 1, 1, 4, 3};
        for (std::size_t j = 0; j < 6; ++j) CHECK(Y.value()(i, j) == E0(i, id[j]));
    }
    g.backward(sum(Y * g.input(R, "R")));
    const M& dE = E.grad();
    for (std::size_t i = 0; i < 3; ++i) {
        CHECK(dE(i, 0) == 0.0);
        CHECK(dE(i, 1) == R(i, 0) + R(i, 2) + R(i, 3));
        CHECK(dE(i, 2) == 0.0);
        CHECK(dE(i, 3) == R(i, 1) + R(i, 5));
        CHECK(dE(i, 4) == R(i, 4));
    }
    // A second sweep overwrites (the scatter starts from zeros, not from the last sweep's sums).
    g.backward(sum(Y * g.input(R, "R2")));
    CHECK(E.grad() == dE);
}

namespace {
// dE of Σ (E[:, ids] ⊙ R): R's columns added onto E's, in id order.
M scattered(std::size_t V, const M& ids, const M& R) {
    M d = xt::zeros<double>({R.shape()[0], V});
    for (std::size_t i = 0; i < R.shape()[0]; ++i)
        for (std::size_t j = 0; j < R.shape()[1]; ++j) d(i, std::size_t(ids(0, j))) += R(i, j);
    return d;
}

M random_ids(std::size_t m, std::size_t V, std::mt19937_64& rng) {
    M ids({1, m});
    for (std::size_t j = 0; j < m; ++j) ids(0, j) = double(rng() % V);
    return ids;
}

std::vector<std::size_t> sorted_columns(const xg::GradColumns& c) {
    std::vector<std::size_t> v = c.columns;
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
}

std::vector<std::size_t> distinct_ids(std::initializer_list<M> lists) {
    std::vector<std::size_t> v;
    for (const M& ids : lists)
        for (double id : ids) v.push_back(std::size_t(id));
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
}
}  // namespace

TEST_CASE("embedding: an overwriting sweep clears only the columns written before, and every gradient stays exact") {
    std::mt19937_64 rng(11);
    const std::size_t d = 3, V = 40, m = 5;
    xg::Parameter<double> P(randn(d, V, rng), "E");
    CHECK(P.grad_columns().known);  // a new parameter's gradient is all zeros
    CHECK(P.grad_columns().columns.empty());
    const M& dE = std::as_const(P).grad();  // reading: no write access

    // g1: one lookup. g2: two lookups of the same E. g3: E also read densely.
    xg::Graph<double> g1, g2, g3;
    auto ids1 = g1.input(random_ids(m, V, rng), "ids");
    auto R1 = g1.input(randn(d, m, rng), "R");
    auto J1 = sum(embedding(g1.parameter(P), ids1) * R1);
    auto ids2a = g2.input(random_ids(m, V, rng), "a"), ids2b = g2.input(random_ids(m, V, rng), "b");
    auto R2a = g2.input(randn(d, m, rng)), R2b = g2.input(randn(d, m, rng));
    auto E2 = g2.parameter(P);
    auto J2 = sum(embedding(E2, ids2a) * R2a) + sum(embedding(E2, ids2b) * R2b);
    auto ids3 = g3.input(random_ids(m, V, rng), "ids");
    auto S3 = g3.input(randn(d, V, rng)), R3 = g3.input(randn(d, m, rng));
    auto E3 = g3.parameter(P);
    auto J3 = sum(E3 * S3) + sum(embedding(E3, ids3) * R3);

    SUBCASE("the known columns after each kind of sweep") {
        g1.backward(J1);
        CHECK(P.grad_columns().known);
        CHECK(sorted_columns(P.grad_columns()) == distinct_ids({ids1.value()}));
        g2.backward(J2);
        CHECK(P.grad_columns().known);
        CHECK(sorted_columns(P.grad_columns()) == distinct_ids({ids2a.value(), ids2b.value()}));
        g3.backward(J3);  // a dense contribution: unknown
        CHECK(!P.grad_columns().known);
        g1.backward(J1);  // the whole buffer cleared once, then known again
        CHECK(P.grad_columns().known);
        CHECK(rel_err(dE, scattered(V, ids1.value(), R1.value())) == 0.0);
        CHECK(P.grad_columns().known);
        // Scaling and an optimiser step keep it; write access forgets it.
        P.grad();
        CHECK(!P.grad_columns().known);
        g1.backward(J1);
        xg::clip_grad_norm(std::vector<xg::Parameter<double>>{P}, 1e-3);
        CHECK(P.grad_columns().known);
        xg::Adam<double> adam({P}, 0.01);
        adam.step();
        CHECK(P.grad_columns().known);
        P.scale_grad(std::numeric_limits<double>::infinity());  // 0 · Inf is NaN: unknown
        CHECK(!P.grad_columns().known);
        P.zero_grad();
        CHECK(P.grad_columns().known);
        CHECK(P.grad_columns().columns.empty());
    }

    SUBCASE("random sweeps, writes and modes: the gradient is the dense one every time") {
        M want = xt::zeros<double>({d, V});
        for (int step = 0; step < 300; ++step) {
            const unsigned action = unsigned(rng() % 10);
            const xg::GradMode mode = rng() % 4 == 0 ? xg::GradMode::accumulate : xg::GradMode::overwrite;
            M add;
            if (action <= 3) {
                g1.set_value(ids1, random_ids(m, V, rng));
                g1.forward();
                g1.backward(J1, mode);
                add = scattered(V, ids1.value(), R1.value());
            } else if (action <= 6) {
                g2.set_value(ids2a, random_ids(m, V, rng));
                g2.set_value(ids2b, random_ids(m, V, rng));
                g2.forward();
                g2.backward(J2, mode);
                add = scattered(V, ids2a.value(), R2a.value()) + scattered(V, ids2b.value(), R2b.value());
            } else if (action == 7) {
                g3.set_value(ids3, random_ids(m, V, rng));
                g3.forward();
                g3.backward(J3, mode);
                add = S3.value() + scattered(V, ids3.value(), R3.value());
            } else if (action == 8) {
                // Outside write access: a value planted in a column no sweep wrote.
                P.grad()(rng() % d, rng() % V) += 1.0;
                want = dE;
                continue;
            } else {
                P.scale_grad(0.5);
                want *= 0.5;
                continue;
            }
            if (mode == xg::GradMode::accumulate) {
                want += add;
            } else {
                want = add;
            }
            CAPTURE(step);
            CAPTURE(action);
            REQUIRE(rel_err(dE, want) <= 1e-14);
            want = dE;  // the next comparison starts from the computed sums
        }
    }
}

TEST_CASE("the adjoints of slices, joins and embeddings add into a gradient other consumers write too") {
    std::mt19937_64 rng(2);
    xg::Graph<double> g;
    const M X0 = randn(5, 4, rng), S = randn(5, 4, rng), R1 = randn(2, 4, rng), R2 = randn(5, 2, rng), R3 = randn(10, 4, rng);
    auto X = g.parameter(X0, "X");
    auto J = sum(X * g.input(S)) + sum(rows(X, 1, 3) * g.input(R1)) + sum(columns(X, 2, 4) * g.input(R2)) +
             sum(concat_rows(X, X) * g.input(R3));
    g.backward(J);
    M want = S;
    for (std::size_t j = 0; j < 4; ++j) {
        want(1, j) += R1(0, j);
        want(2, j) += R1(1, j);
    }
    for (std::size_t i = 0; i < 5; ++i) {
        want(i, 2) += R2(i, 0);
        want(i, 3) += R2(i, 1);
        for (std::size_t j = 0; j < 4; ++j) want(i, j) += R3(i, j) + R3(i + 5, j);
    }
    CHECK(rel_err(X.grad(), want) <= 1e-15);

    // E read by an embedding and by an elementwise op.
    xg::Graph<double> h;
    const M E0 = randn(2, 4, rng), T = randn(2, 4, rng), Q = randn(2, 3, rng);
    auto E = h.parameter(E0, "E");
    h.backward(sum(E * h.input(T)) + sum(embedding(E, h.input(M{{2, 2, 0}})) * h.input(Q)));
    M wantE = T;
    for (std::size_t i = 0; i < 2; ++i) {
        wantE(i, 2) += Q(i, 0) + Q(i, 1);
        wantE(i, 0) += Q(i, 2);
    }
    CHECK(rel_err(E.grad(), wantE) <= 1e-15);
}

TEST_CASE("a sequence cut into its steps and joined again is the identity, value and gradient") {
    std::mt19937_64 rng(3);
    const std::size_t n = 3, m = 4, T = 5;
    xg::Graph<double> g;
    const M X0 = randn(n, m * T, rng), R = randn(n, m * T, rng);
    auto X = g.parameter(X0, "X");
    std::vector<xg::Var<double>> steps;
    for (std::size_t t = 0; t < T; ++t) steps.push_back(columns(X, t * m, (t + 1) * m));
    auto Y = concat_columns(steps);
    CHECK(Y.value() == X0);
    g.backward(sum(Y * g.input(R)));
    CHECK(X.grad() == R);
    // The same along the rows, in a different order: a permutation of the blocks.
    xg::Graph<double> h;
    auto Z = h.parameter(X0, "Z");
    auto P = xg::concat_rows({rows(Z, 2, 3), rows(Z, 0, 2)});
    for (std::size_t j = 0; j < m * T; ++j) {
        CHECK(P.value()(0, j) == X0(2, j));
        CHECK(P.value()(1, j) == X0(0, j));
        CHECK(P.value()(2, j) == X0(1, j));
    }
}

TEST_CASE("replay: new token ids, a new batch size, and no allocation once the shapes are known") {
    std::mt19937_64 rng(4);
    xg::Graph<double> g;
    auto E = g.parameter(randn(3, 6, rng), "E");
    auto ids = g.input(M{{0, 1, 2, 3}}, "ids");
    auto x = embedding(E, ids);
    auto h = concat_rows(columns(x, 0, 2), columns(x, 2, 4));  // 6 × 2
    auto J = sum(square(h));
    g.backward(J);
    g.set_value(ids, M{{5, 5, 4, 0}});
    g.forward();
    CHECK(x.value()(1, 0) == E.value()(1, 5));
    CHECK(h.value()(4, 1) == E.value()(1, 0));
    // A bad id on replay: the forward refuses it, naming the position and the value.
    g.set_value(ids, M{{5, 6, 4, 0}});
    const std::string msg = message_of<xg::ValueError>([&] { g.forward(); });
    CHECK(contains(msg, "embedding(E, ids): token id ids(0, 1) = 6 is not one of 0, 1, ..., 5"));
    // A longer row of ids: the embedding grows, the slices keep their ranges.
    g.set_value(ids, M{{1, 2, 3, 4, 5, 0}});
    g.forward();
    CHECK(x.shape() == xg::Shape{3, 6});
    CHECK(x.value()(2, 5) == E.value()(2, 0));
    g.backward(J);
    std::vector<M> batches;
    for (int k = 0; k < 4; ++k) batches.push_back(M{{double(k), 1, 2, double((k + 3) % 6), 5, 0}});
    const long before = allocation_count();
    for (int k = 0; k < 12; ++k) {
        g.set_value(ids, batches[std::size_t(k % 4)]);
        g.forward();
        g.backward(J);
    }
    CHECK(allocation_count() - before == 0);
}

TEST_CASE("data helpers: columns_of, examples and shuffled select the columns of X and Y alike") {
    const M X = {{0, 1, 2, 3, 4}, {10, 11, 12, 13, 14}};
    CHECK(xg::columns_of(X, 1, 3) == M{{1, 2}, {11, 12}});
    CHECK(xg::columns_of(X, 0, 5) == X);
    CHECK(contains(message_of<xg::ShapeError>([&] { xg::columns_of(X, 2, 2); }), "columns_of: the range [2, 2) is empty"));
    CHECK(contains(message_of<xg::ShapeError>([&] { xg::columns_of(X, 3, 1); }), "the range [3, 1) is reversed"));
    CHECK(contains(message_of<xg::ShapeError>([&] { xg::columns_of(X, 2, 6); }),
                   "the range [2, 6) reaches past the 5 columns of X [2x5]"));
    xg::Dataset<double> d;
    d.X = X;
    d.Y = M{{0, 1, 2, 0, 1}};
    d.classes = 3;
    const xg::Dataset<double> part = xg::examples(d, 3, 5);
    CHECK(part.X == M{{3, 4}, {13, 14}});
    CHECK(part.Y == M{{0, 1}});
    CHECK(part.classes == 3);
    CHECK_THROWS_AS(xg::examples(d, 4, 9), xg::ShapeError);
    const xg::Dataset<double> s = xg::shuffled(d, 7);
    xg::Rng rng(7);
    const std::vector<std::size_t> order = rng.permutation(5);
    for (std::size_t j = 0; j < 5; ++j) {
        CHECK(s.X(0, j) == double(order[j]));
        CHECK(s.X(1, j) == 10.0 + double(order[j]));
        CHECK(s.Y(0, j) == d.Y(0, order[j]));
    }
}

TEST_CASE("W · concat_rows(a, x) with x taking no gradient: the sweep skips x's rows of d(concat), grad() computes them on request") {
    std::mt19937_64 rng(21);
    const std::size_t n = 4, d = 3, m = 5;
    const M W0 = randn(2 * n, n + d, rng), P0 = randn(n, m, rng), X0 = randn(d, m, rng), R = randn(2 * n, m, rng);
    // The same function twice: x an input without a gradient, and with one.
    struct Net {
        xg::Graph<double> g;
        xg::Var<double> W, P, x, cat, J;
        Net(const M& W0, const M& P0, const M& X0, const M& R, bool x_grad) {
            W = g.parameter(W0, "W");
            P = g.parameter(P0, "P");
            x = g.input(X0, "x", x_grad);
            cat = concat_rows(tanh(P), x).named("cat");
            J = sum(matmul(W, cat) * g.input(R));
            g.backward(J);
        }
    };
    Net skip(W0, P0, X0, R, false), full(W0, P0, X0, R, true);
    const xg::BackwardPlan& plan = skip.g.backward_plan(skip.J.id());
    std::size_t partial = 0;
    for (std::uint32_t k = 0; k < plan.edges.size(); ++k) {
        if (!plan.edges[k].some_rows) {
            CHECK(plan.rows_written(k).second == std::size_t(-1));
            continue;
        }
        ++partial;
        CHECK(plan.edges[k].input == skip.cat.id());
        CHECK(plan.rows_written(k) == std::make_pair(std::size_t(0), n));
    }
    CHECK(partial == 1);
    for (const xg::PlanEdge& e : full.g.backward_plan(full.J.id()).edges) CHECK(!e.some_rows);
    CHECK(rel_err(skip.W.grad(), full.W.grad()) <= 1e-15);
    CHECK(rel_err(skip.P.grad(), full.P.grad()) <= 1e-15);
    // grad(cat) has every row, the ones the sweep skipped computed on request.
    CHECK(rel_err(skip.cat.grad(), full.cat.grad()) <= 1e-15);
    const M want = ref_matmul(ref_transpose(W0), R);
    CHECK(rel_err(skip.cat.grad(), want) <= 1e-14);

    // After a forward() the sweep's values are gone: the skipped rows cannot be made.
    skip.g.backward(skip.J);
    skip.g.forward();
    const std::string msg = message_of<xg::GraphError>([&] { skip.cat.grad(); });
    CHECK(contains(msg, "grad(cat): the last backward() computed rows 0 to 4 of this gradient"));
    CHECK(contains(msg, "call backward() again"));
    skip.g.backward(skip.J);
    CHECK(rel_err(skip.cat.grad(), want) <= 1e-14);
    // Nor after the weights were written (an optimiser step).
    skip.g.backward(skip.J);
    skip.g.parameter_of(skip.W.id()).value()(0, 0) += 1.0;
    CHECK_THROWS_AS(skip.cat.grad(), xg::GraphError);

    // The middle part of three; numeric checks read only the rows written.
    xg::Graph<double> h;
    h.check_numerics(true);
    auto x1 = h.input(randn(2, m, rng)), x2 = h.input(randn(3, m, rng));
    auto P = h.parameter(P0, "P");
    auto cat = xg::concat_rows({x1, tanh(P), x2});
    const M V0 = randn(3, 2 + n + 3, rng);
    auto L = xg::sum(matmul(h.parameter(V0, "V"), cat));
    h.backward(L);
    const xg::BackwardPlan& hp = h.backward_plan(L.id());
    REQUIRE(hp.partial_rows.size() == 1);
    CHECK(hp.edges[hp.partial_rows[0].edge].input == cat.id());
    CHECK(hp.rows_written(hp.partial_rows[0].edge) == std::make_pair(std::size_t(2), 2 + n));
    const M ones = xt::ones<double>({std::size_t(3), m});
    CHECK(rel_err(cat.grad(), ref_matmul(ref_transpose(V0), ones)) <= 1e-14);
}

TEST_CASE("an LSTM over inputs that take no gradient: every gradient as with inputs that do") {
    std::mt19937_64 rng(22);
    const std::size_t d = 3, n = 4, m = 2, T = 3;
    std::vector<M> X;
    for (std::size_t t = 0; t < T; ++t) X.push_back(randn(d, m, rng));
    const M R = randn(n, m, rng);
    xg::Rng init(5);
    const xg::LSTMCell<double> cell(d, n, init);
    const M A0 = randn(n, m, rng);
    std::vector<std::vector<M>> grads(2);
    for (int x_grad = 0; x_grad < 2; ++x_grad) {
        xg::Graph<double> g;
        std::vector<xg::Var<double>> xs;
        for (std::size_t t = 0; t < T; ++t) xs.push_back(g.input(X[t], "x", x_grad == 1));
        auto states = xg::unroll(cell, xs, {g.parameter(A0, "a0"), xg::initial_state(g, n, m, "c0")});
        auto J = sum(states.back().a * g.input(R));
        g.backward(J);
        std::size_t partial = 0;
        for (const xg::PlanEdge& e : g.backward_plan(J.id()).edges) partial += e.some_rows ? 1 : 0;
        CHECK(partial == (x_grad == 1 ? 0u : T));
        for (std::uint32_t id = 0; id < g.size(); ++id) {
            if (g.kind(id) == xg::NodeKind::op && g.has_grad(id)) grads[std::size_t(x_grad)].push_back(g.grad(id));
        }
        grads[std::size_t(x_grad)].push_back(cell.W.grad());
    }
    REQUIRE(grads[0].size() == grads[1].size());
    for (std::size_t k = 0; k < grads[0].size(); ++k) CHECK(rel_err(grads[0][k], grads[1][k]) <= 1e-14);
}

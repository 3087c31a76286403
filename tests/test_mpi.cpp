// Data-parallel training on MPI (xgrad/mpi.hpp). Run under mpirun with any
// number of ranks (the suite runs it with 2 and 3): every rank runs every
// test case in the same order, so the collectives inside them match.
//
// The claims checked: after k steps every rank's parameters have the same
// bits (compared by gathering them to rank 0, independently of the
// library's own check), and equal one-process full-batch training to 1e-12
// in float64 — for even shards, lopsided shards, mini-batches whose part on
// some rank is empty, gradient descent and Adam.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "xgrad/mpi.hpp"
#include "xgrad/xgrad.hpp"

namespace {

using xg::Matrix;
using xg::Parameter;
namespace mpi = xg::mpi;

const mpi::Context* g_ctx = nullptr;
const mpi::Context& ctx() { return *g_ctx; }

template <class T>
std::vector<T> flatten(const std::vector<Parameter<T>>& ps) {
    std::vector<T> out;
    for (const auto& p : ps) out.insert(out.end(), p.value().begin(), p.value().end());
    return out;
}

/// True on every rank when every rank's parameters have rank 0's bits:
/// gathered to rank 0 and compared with memcmp there.
template <class T>
bool same_bits_on_all_ranks(const std::vector<Parameter<T>>& ps) {
    const std::vector<T> mine = flatten(ps);
    const int bytes = int(mine.size() * sizeof(T));
    std::vector<T> all(ctx().root() ? mine.size() * std::size_t(ctx().size()) : 0);
    MPI_Gather(mine.data(), bytes, MPI_BYTE, all.data(), bytes, MPI_BYTE, 0, ctx().comm());
    int same = 1;
    if (ctx().root()) {
        for (int r = 1; r < ctx().size(); ++r) {
            same &= std::memcmp(all.data() + std::size_t(r) * mine.size(), mine.data(), std::size_t(bytes)) == 0;
        }
    }
    MPI_Bcast(&same, 1, MPI_INT, 0, ctx().comm());
    return same == 1;
}

/// max |a − b| over all entries of two parameter lists of the same shapes.
template <class T>
double max_abs_diff(const std::vector<Parameter<T>>& a, const std::vector<Parameter<T>>& b) {
    const std::vector<T> x = flatten(a), y = flatten(b);
    REQUIRE(x.size() == y.size());
    double d = 0;
    for (std::size_t k = 0; k < x.size(); ++k) d = std::max(d, std::abs(double(x[k]) - double(y[k])));
    return d;
}

template <class T>
double max_abs_diff(const std::vector<T>& a, const std::vector<T>& b) {
    REQUIRE(a.size() == b.size());
    double d = 0;
    for (std::size_t k = 0; k < a.size(); ++k) d = std::max(d, std::abs(double(a[k]) - double(b[k])));
    return d;
}

/// The columns [c.begin, c.end) of A.
template <class T>
Matrix<T> columns(const Matrix<T>& A, mpi::ColumnRange c) {
    Matrix<T> out({A.shape()[0], c.size()});
    for (std::size_t i = 0; i < A.shape()[0]; ++i) {
        for (std::size_t j = 0; j < c.size(); ++j) out(i, j) = A(i, c.begin + j);
    }
    return out;
}

/// The lecture's two-layer network trained by gradient descent on this
/// rank's columns of (X, Y); returns the full-batch cost before each update
/// and after the last. The parameters start as rank 0's.
template <class T>
std::vector<T> train_flower_distributed(const xg::TwoLayerParams<T>& p, const Matrix<T>& X_local,
                                        const Matrix<T>& Y_local, std::size_t steps, double learning_rate) {
    mpi::DataParallel<T> dp(ctx(), p.all());
    dp.broadcast_parameters();
    xg::Graph<T> g;
    auto X = g.input(X_local, "X");
    auto Y = g.input(Y_local, "Y");
    auto J = xg::binary_cross_entropy(xg::two_layer_forward(g, X, p).A2, Y);
    xg::GradientDescent<T> opt(p.all(), learning_rate);
    const std::size_t m_r = X_local.shape()[1];
    std::vector<T> costs;
    for (std::size_t i = 0; i < steps; ++i) {
        g.forward();
        g.backward(J);
        costs.push_back(dp.allreduce_gradients(m_r, J.value()(0, 0)));
        opt.step();
    }
    g.forward();
    costs.push_back(T(ctx().weighted_mean(double(J.value()(0, 0)), double(m_r))));
    return costs;
}

}  // namespace

TEST_CASE("shard_range: contiguous shards, sizes differing by at most one, covering every column") {
    for (std::size_t m : {1, 2, 3, 7, 400, 401}) {
        for (int n = 1; n <= 5; ++n) {
            if (m < std::size_t(n)) {
                CHECK_THROWS_AS(mpi::shard_range(m, 0, n), xg::ValueError);
                continue;
            }
            std::size_t next = 0, lo = m, hi = 0;
            for (int r = 0; r < n; ++r) {
                const mpi::ColumnRange c = mpi::shard_range(m, r, n);
                CHECK(c.begin == next);
                next = c.end;
                lo = std::min(lo, c.size());
                hi = std::max(hi, c.size());
            }
            CHECK(next == m);
            CHECK(hi - lo <= 1);
        }
    }
    CHECK(mpi::shard_range(401, 0, 2).size() == 201);
    CHECK(mpi::shard_range(401, 1, 2).size() == 200);
    CHECK(mpi::shard_range(400, 2, 3).begin == 267);
    CHECK_THROWS_WITH_AS(mpi::shard_range(10, 3, 3), doctest::Contains("rank 3 is not one of 0"), xg::ValueError);
    CHECK_THROWS_WITH_AS(mpi::shard_range(2, 0, 3), doctest::Contains("2 columns cannot be split over 3 ranks"),
                         xg::ValueError);
}

TEST_CASE("shard_columns keeps the columns of X and Y paired") {
    const xg::Dataset<double> d = xg::flower<double>(11, 1);
    std::size_t next = 0;
    for (int r = 0; r < 3; ++r) {
        const Matrix<double> Xr = mpi::shard_columns(d.X, r, 3), Yr = mpi::shard_columns(d.Y, r, 3);
        REQUIRE(Xr.shape()[1] == Yr.shape()[1]);
        CHECK(Xr.shape()[0] == 2);
        for (std::size_t j = 0; j < Xr.shape()[1]; ++j, ++next) {
            CHECK(Xr(0, j) == d.X(0, next));
            CHECK(Xr(1, j) == d.X(1, next));
            CHECK(Yr(0, j) == d.Y(0, next));
        }
    }
    CHECK(next == 11);
}

TEST_CASE("ShardedMiniBatches: the ranks' parts of each batch make up MiniBatches' batch") {
    // Each rank's view is computed here for every rank (no communication):
    // the parts, in rank order, hold exactly the batch's columns.
    const xg::Dataset<double> d = xg::spirals<double>(47, 3, 1);
    const std::size_t m = d.size();
    for (int ranks : {1, 2, 3, 5}) {
        for (bool shuffle : {true, false}) {
            xg::MiniBatches<double> whole(d.X, d.Y, 8, 7, shuffle);
            std::vector<Matrix<double>> Xs, Ys;
            std::vector<mpi::ColumnRange> shards;
            for (int r = 0; r < ranks; ++r) {
                shards.push_back(mpi::shard_range(m, r, ranks));
                Xs.push_back(columns(d.X, shards.back()));
                Ys.push_back(columns(d.Y, shards.back()));
            }
            std::vector<std::unique_ptr<mpi::ShardedMiniBatches<double>>> parts;
            for (int r = 0; r < ranks; ++r) {
                parts.push_back(std::make_unique<mpi::ShardedMiniBatches<double>>(Xs[std::size_t(r)], Ys[std::size_t(r)],
                                                                                  shards[std::size_t(r)], m, 8, 7, shuffle));
            }
            Matrix<double> Xb, Yb, Xp, Yp;
            for (int epoch = 0; epoch < 2; ++epoch) {
                std::size_t batches = 0;
                while (whole.next(Xb, Yb)) {
                    ++batches;
                    // The batch's columns, as a multiset of (x0, x1, y).
                    std::vector<std::array<double, 3>> want, got;
                    for (std::size_t j = 0; j < Xb.shape()[1]; ++j) want.push_back({Xb(0, j), Xb(1, j), Yb(0, j)});
                    for (auto& part : parts) {
                        REQUIRE(part->next(Xp, Yp));
                        CHECK(part->batch_columns() == Xb.shape()[1]);
                        REQUIRE(Xp.shape()[1] == Yp.shape()[1]);
                        for (std::size_t j = 0; j < Xp.shape()[1]; ++j) got.push_back({Xp(0, j), Xp(1, j), Yp(0, j)});
                    }
                    std::sort(want.begin(), want.end());
                    std::sort(got.begin(), got.end());
                    CHECK(got == want);
                }
                CHECK(batches == parts[0]->batches());
                for (auto& part : parts) CHECK_FALSE(part->next(Xp, Yp));  // the epoch ends on every rank
            }
        }
    }
    // One rank holding everything gives MiniBatches' batches column for column.
    xg::MiniBatches<double> whole(d.X, d.Y, 10, 3);
    mpi::ShardedMiniBatches<double> one(d.X, d.Y, mpi::ColumnRange{0, m}, m, 10, 3);
    Matrix<double> Xb, Yb, Xo, Yo;
    while (whole.next(Xb, Yb)) {
        REQUIRE(one.next(Xo, Yo));
        CHECK(Xo == Xb);
        CHECK(Yo == Yb);
    }
    CHECK_THROWS_AS(mpi::ShardedMiniBatches<double>(d.X, d.Y, mpi::ColumnRange{0, m - 1}, m, 10), xg::ShapeError);
    CHECK_THROWS_AS(mpi::ShardedMiniBatches<double>(d.X, d.Y, mpi::ColumnRange{1, m + 1}, m, 10), xg::ShapeError);
    CHECK_THROWS_AS(mpi::ShardedMiniBatches<double>(d.X, d.Y, mpi::ColumnRange{0, m}, m, 0), xg::ValueError);
    const Matrix<double> none({std::size_t(2), std::size_t(0)});
    CHECK_THROWS_AS(mpi::ShardedMiniBatches<double>(none, none, mpi::ColumnRange{0, 0}, 0, 10), xg::ShapeError);
}

TEST_CASE("ShardedMiniBatches::next_epoch: every rank's part of each batch, each example of the shard once") {
    // Computed here for every rank (no communication), against MiniBatches' epoch.
    const xg::Dataset<double> d = xg::spirals<double>(47, 3, 1);
    const std::size_t m = d.size();
    for (int ranks : {1, 2, 5}) {
        CAPTURE(ranks);
        xg::MiniBatches<double> whole(d.X, d.Y, 8, 7);
        std::vector<Matrix<double>> Xs, Ys;
        std::vector<mpi::ColumnRange> shards;
        for (int r = 0; r < ranks; ++r) {
            shards.push_back(mpi::shard_range(m, r, ranks));
            Xs.push_back(columns(d.X, shards.back()));
            Ys.push_back(columns(d.Y, shards.back()));
        }
        std::vector<std::unique_ptr<mpi::ShardedMiniBatches<double>>> parts;
        for (std::size_t r = 0; r < std::size_t(ranks); ++r) {
            parts.push_back(std::make_unique<mpi::ShardedMiniBatches<double>>(Xs[r], Ys[r], shards[r], m, 8, 7));
        }
        // The leaves: the shard's first min(8, m_r) columns, nothing used up.
        for (std::size_t r = 0; r < std::size_t(ranks); ++r) {
            xg::Graph<double> g;
            auto [X, Y] = parts[r]->inputs(g);
            CHECK(X.shape() == xg::Shape{2, std::min<std::size_t>(8, shards[r].size())});
            CHECK(X.value()(0, 0) == d.X(0, shards[r].begin));
            CHECK(Y.shape().cols == X.shape().cols);
            CHECK(parts[r]->position() == 0);
        }
        for (int epoch = 0; epoch < 2; ++epoch) {
            // Each rank's epoch, batch by batch.
            std::vector<std::vector<std::vector<std::size_t>>> got(static_cast<std::size_t>(ranks));
            for (std::size_t r = 0; r < std::size_t(ranks); ++r) {
                for (const xg::Batch<double>& part : parts[r]->next_epoch()) {
                    REQUIRE(part.X.shape()[1] == part.size());
                    for (std::size_t j = 0; j < part.size(); ++j) {
                        const std::size_t k = part.columns[j];  // an index of the whole data set, in the shard
                        REQUIRE(k >= shards[r].begin);
                        REQUIRE(k < shards[r].end);
                        CHECK(part.X(1, j) == d.X(1, k));
                        CHECK(part.Y(0, j) == d.Y(0, k));
                    }
                    got[r].push_back(part.columns);
                }
                CHECK(parts[r]->epoch() == std::size_t(epoch + 1));
            }
            // Every rank iterated the same batches, and together they are MiniBatches' batches.
            std::size_t b = 0;
            for (const xg::Batch<double>& batch : whole.next_epoch()) {
                std::vector<std::size_t> joined;
                for (std::size_t r = 0; r < std::size_t(ranks); ++r) {
                    REQUIRE(got[r].size() == whole.batches());
                    joined.insert(joined.end(), got[r][b].begin(), got[r][b].end());
                }
                std::vector<std::size_t> want = batch.columns;
                std::sort(want.begin(), want.end());
                std::sort(joined.begin(), joined.end());
                CHECK(joined == want);
                ++b;
            }
        }
    }
    // An epoch partly given out by next() is refused; an empty shard has no leaves to make.
    mpi::ShardedMiniBatches<double> one(d.X, d.Y, mpi::ColumnRange{0, m}, m, 10, 3);
    Matrix<double> Xb, Yb;
    REQUIRE(one.next(Xb, Yb));
    CHECK_THROWS_AS(one.next_epoch(), xg::ValueError);
    const Matrix<double> none({std::size_t(2), std::size_t(0)}), none_y({std::size_t(1), std::size_t(0)});
    mpi::ShardedMiniBatches<double> empty(none, none_y, mpi::ColumnRange{5, 5}, m, 10, 3);
    xg::Graph<double> g;
    CHECK_THROWS_AS(empty.inputs(g), xg::ShapeError);
}

TEST_CASE("Context: rank and size as MPI says; sum and weighted_mean over the ranks") {
    int rank = -1, size = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    CHECK(ctx().rank() == rank);
    CHECK(ctx().size() == size);
    CHECK(ctx().root() == (rank == 0));
    const double n = size;
    CHECK(ctx().sum(rank + 1.0) == n * (n + 1) / 2);
    // Σ w x / Σ w with w = r + 1, x = r: Σ r (r + 1) / Σ (r + 1).
    double num = 0, den = 0;
    for (int r = 0; r < size; ++r) num += r * (r + 1.0), den += r + 1.0;
    CHECK(ctx().weighted_mean(rank, rank + 1.0) == doctest::Approx(num / den).epsilon(1e-15));
    CHECK_THROWS_AS(ctx().weighted_mean(1.0, 0.0), xg::ValueError);
    mpi::Context wrapped(MPI_COMM_WORLD);  // wraps; finalises nothing
    CHECK(wrapped.rank() == rank);
    wrapped.barrier();
}

TEST_CASE("broadcast_parameters: every rank starts from rank 0's weights") {
    // Each rank draws different weights (seed 10 + rank) ...
    const auto p = xg::init_two_layer<double>(2, 4, 1, std::uint32_t(10 + ctx().rank()));
    const auto rank0 = xg::init_two_layer<double>(2, 4, 1, 10);
    mpi::DataParallel<double> dp(ctx(), p.all());
    if (ctx().size() > 1) {
        CHECK_FALSE(dp.parameters_identical());
        CHECK_FALSE(same_bits_on_all_ranks(p.all()));
    }
    dp.broadcast_parameters();
    // ... and after the broadcast all hold rank 0's.
    CHECK(dp.parameters_identical());
    CHECK(same_bits_on_all_ranks(p.all()));
    CHECK(max_abs_diff(p.all(), rank0.all()) == 0.0);
}

TEST_CASE("flower network, even shards: bit-identical ranks, equal to one-process full-batch training") {
    const xg::Dataset<double> d = xg::flower<double>(400, 1);
    const std::size_t steps = 20;
    // One process, the whole batch: the library's own training loop.
    const auto ref = xg::init_two_layer<double>(2, 4, 1, 2);
    const std::vector<double> ref_costs = xg::train_two_layer(ref, d.X, d.Y, steps, 1.2).costs;

    const auto p = xg::init_two_layer<double>(2, 4, 1, std::uint32_t(2 + ctx().rank()));  // rank 0's win
    const Matrix<double> X = mpi::shard_columns(d.X, ctx().rank(), ctx().size());
    const Matrix<double> Y = mpi::shard_columns(d.Y, ctx().rank(), ctx().size());
    const std::vector<double> costs = train_flower_distributed(p, X, Y, steps, 1.2);

    CHECK(same_bits_on_all_ranks(p.all()));
    const double dp_diff = max_abs_diff(p.all(), ref.all()), cost_diff = max_abs_diff(costs, ref_costs);
    CHECK(dp_diff <= 1e-12);
    CHECK(cost_diff <= 1e-12);
    CHECK(costs.back() < costs.front() - 0.01);  // it learnt something
    if (ctx().root()) {
        std::printf("[mpi %d ranks] flower, %zu steps: max |W - W_1proc| = %.3g, max |J - J_1proc| = %.3g\n",
                    ctx().size(), steps, dp_diff, cost_diff);
    }
}

TEST_CASE("flower network, lopsided shards (401 columns, rank 0 holds 7) are weighted by their sizes") {
    const xg::Dataset<double> d = xg::flower<double>(401, 3);
    const std::size_t steps = 15, m = d.size();
    const auto ref = xg::init_two_layer<double>(2, 5, 1, 4);
    const std::vector<double> ref_costs = xg::train_two_layer(ref, d.X, d.Y, steps, 0.8).costs;

    // Rank 0 takes columns [0, 7); the others split the rest evenly.
    mpi::ColumnRange c{0, ctx().size() == 1 ? m : 7};
    if (ctx().rank() > 0) {
        c = mpi::shard_range(m - 7, ctx().rank() - 1, ctx().size() - 1);
        c.begin += 7, c.end += 7;
    }
    const auto p = xg::init_two_layer<double>(2, 5, 1, 4);
    const std::vector<double> costs = train_flower_distributed(p, columns(d.X, c), columns(d.Y, c), steps, 0.8);

    CHECK(same_bits_on_all_ranks(p.all()));
    const double diff = max_abs_diff(p.all(), ref.all());
    CHECK(diff <= 1e-12);
    CHECK(max_abs_diff(costs, ref_costs) <= 1e-12);
    if (ctx().root()) {
        std::printf("[mpi %d ranks] flower, lopsided shards, %zu steps: max |W - W_1proc| = %.3g\n", ctx().size(),
                    steps, diff);
    }
}

TEST_CASE("deep network, Adam on sharded mini-batches = one-process mini-batches") {
    const xg::Dataset<double> d = xg::spirals<double>(150, 3, 1);
    const std::size_t m = d.size();
    // Batches of 32 (the last of 22), and of 2: with 2 or 3 ranks some rank's
    // part of a 2-column batch is empty, and it still takes part.
    for (std::size_t batch : {32, 2}) {
        CAPTURE(batch);
        const std::size_t epochs = batch == 2 ? 1 : 3;
        auto make_model = [&] {
            xg::Sequential<double> model(2, /*seed=*/5);
            model.add(16, xg::Activation::relu).add(3, xg::Activation::identity, xg::init::xavier());
            return model;
        };
        // One process.
        const xg::Sequential<double> ref = make_model();
        std::vector<double> ref_costs;
        {
            xg::MiniBatches<double> batches(d.X, d.Y, batch, 9);
            xg::Graph<double> g;
            auto [X, Y] = batches.inputs(g);
            auto J = xg::softmax_cross_entropy(ref(X), Y);
            xg::Adam<double> opt(ref.parameters(), 0.01);
            for (std::size_t e = 0; e < epochs; ++e) {
                for (const xg::Batch<double>& b : batches.next_epoch()) {
                    g.set_value(X, b.X);
                    g.set_value(Y, b.Y);
                    g.forward();
                    g.backward(J);
                    opt.step();
                    ref_costs.push_back(J.value()(0, 0));
                }
            }
        }
        // Every rank: its shard, its part of each batch.
        const xg::Sequential<double> model = make_model();
        const mpi::ColumnRange shard = mpi::shard_range(m, ctx().rank(), ctx().size());
        const Matrix<double> Xs = columns(d.X, shard), Ys = columns(d.Y, shard);
        std::vector<double> costs;
        std::size_t empty_parts = 0;
        {
            mpi::ShardedMiniBatches<double> batches(Xs, Ys, shard, m, batch, 9);
            xg::Graph<double> g;
            auto [X, Y] = batches.inputs(g);
            auto J = xg::softmax_cross_entropy(model(X), Y);
            mpi::DataParallel<double> dp(ctx(), model.parameters());
            dp.broadcast_parameters();
            xg::Adam<double> opt(model.parameters(), 0.01);
            for (std::size_t e = 0; e < epochs; ++e) {
                std::vector<std::size_t> count(shard.size(), 0);
                for (const xg::Batch<double>& part : batches.next_epoch()) {
                    const std::size_t b = part.size();
                    for (std::size_t j : part.columns) ++count[j - shard.begin];
                    double local = 0;
                    if (b > 0) {
                        g.set_value(X, part.X);
                        g.set_value(Y, part.Y);
                        g.forward();
                        g.backward(J);
                        local = J.value()(0, 0);
                    } else {
                        ++empty_parts;
                    }
                    costs.push_back(dp.allreduce_gradients(b, local));
                    opt.step();
                }
                // This rank trained on each example of its shard once.
                CHECK(std::all_of(count.begin(), count.end(), [](std::size_t c) { return c == 1; }));
            }
            CHECK(dp.steps() == costs.size());
        }
        const double parts = ctx().sum(double(empty_parts));
        if (batch == 2 && ctx().size() > 1) CHECK(parts > 0);  // the case was exercised
        CHECK(same_bits_on_all_ranks(model.parameters()));
        const double diff = max_abs_diff(model.parameters(), ref.parameters());
        CHECK(diff <= 1e-12);
        CHECK(max_abs_diff(costs, ref_costs) <= 1e-12);
        if (ctx().root()) {
            std::printf("[mpi %d ranks] deep net, Adam, batches of %zu, %zu steps (%g empty parts): max |W - W_1proc| = %.3g\n",
                        ctx().size(), batch, costs.size(), parts, diff);
        }
    }
}

TEST_CASE("float32: bit-identical ranks, close to one process") {
    const xg::Dataset<float> d = xg::flower<float>(400, 1);
    const auto ref = xg::init_two_layer<float>(2, 4, 1, 2);
    const std::vector<float> ref_costs = xg::train_two_layer(ref, d.X, d.Y, 10, 1.2).costs;
    const auto p = xg::init_two_layer<float>(2, 4, 1, 2);
    const std::vector<float> costs =
        train_flower_distributed(p, mpi::shard_columns(d.X, ctx().rank(), ctx().size()),
                                 mpi::shard_columns(d.Y, ctx().rank(), ctx().size()), 10, 1.2);
    CHECK(same_bits_on_all_ranks(p.all()));
    CHECK(max_abs_diff(p.all(), ref.all()) <= 1e-5);
    CHECK(max_abs_diff(costs, ref_costs) <= 1e-5);
}

TEST_CASE("LossReduction::sum: a loss summed over the columns gets the summed gradient") {
    // J = Σ (W X − Y)², a sum over every column; one gradient, no update.
    std::mt19937_64 rng(3);
    std::normal_distribution<double> n01;
    Matrix<double> Xall({3, 23}), Yall({2, 23}), W0({2, 3});
    for (auto& v : Xall) v = n01(rng);
    for (auto& v : Yall) v = n01(rng);
    for (auto& v : W0) v = n01(rng);
    auto grad_of = [&](const Matrix<double>& X, const Matrix<double>& Y, Parameter<double> W, double& cost) {
        xg::Graph<double> g;
        auto J = xg::sum(xg::square(xg::matmul(g.parameter(W), g.input(X)) - g.input(Y)));
        g.backward(J);
        cost = J.value()(0, 0);
    };
    Parameter<double> Wref(W0, "W");
    double ref_cost = 0;
    grad_of(Xall, Yall, Wref, ref_cost);

    Parameter<double> W(W0, "W");
    double local = 0;
    const auto r = ctx().rank(), n = ctx().size();
    grad_of(mpi::shard_columns(Xall, r, n), mpi::shard_columns(Yall, r, n), W, local);
    mpi::DataParallel<double> dp(ctx(), {W}, mpi::LossReduction::sum);
    const double cost = dp.allreduce_gradients(mpi::shard_range(23, r, n).size(), local);
    CHECK(cost == doctest::Approx(ref_cost).epsilon(1e-13));
    double diff = 0;
    for (std::size_t k = 0; k < W.grad().size(); ++k) diff = std::max(diff, std::abs(W.grad().data()[k] - Wref.grad().data()[k]));
    CHECK(diff <= 1e-12);
}

TEST_CASE("DataParallel: the buffer, the timer, and models that differ between ranks") {
    const auto p = xg::init_two_layer<double>(2, 4, 1, 2);
    mpi::DataParallel<double> dp(ctx(), p.all());
    CHECK(dp.buffer_size() == 8 + 4 + 4 + 1 + 2);
    CHECK(dp.bytes_per_step() == dp.buffer_size() * sizeof(double));
    CHECK(dp.steps() == 0);
    CHECK(dp.communication_seconds() == 0.0);
    for (auto& q : p.all()) q.grad().fill(1.0);
    dp.allreduce_gradients(10, 0.5);
    dp.allreduce_gradients(10, 0.5);
    CHECK(dp.steps() == 2);
    CHECK(dp.communication_seconds() > 0.0);
    dp.reset_timer();
    CHECK(dp.steps() == 0);

    // Every rank must pass the same shapes; when one differs, all throw.
    if (ctx().size() > 1) {
        const std::size_t n_h = ctx().rank() == ctx().size() - 1 ? 5 : 4;
        const auto q = xg::init_two_layer<double>(2, n_h, 1, 2);
        CHECK_THROWS_WITH_AS(mpi::DataParallel<double>(ctx(), q.all()),
                             doctest::Contains("the ranks' parameter lists differ"), xg::ValueError);
        // A different number of parameters, too.
        std::vector<Parameter<double>> some = p.all();
        if (ctx().rank() == 0) some.pop_back();
        CHECK_THROWS_AS(mpi::DataParallel<double>(ctx(), some), xg::ValueError);
    }
    CHECK_THROWS_WITH_AS(mpi::DataParallel<double>(ctx(), {}), doctest::Contains("no parameters"), xg::ValueError);
    // No rank with a column: every rank throws.
    CHECK_THROWS_WITH_AS(dp.allreduce_gradients(0, 0.0), doctest::Contains("no rank has any column"), xg::ValueError);
}

int main(int argc, char** argv) {
    mpi::Context context(argc, argv);
    g_ctx = &context;
    doctest::Context tests(argc, argv);
    // Rank 0 reports; the others print only their failures. mpirun hands
    // the ranks a pseudo-terminal: no colour codes in logs.
    tests.setOption("no-colors", true);
    if (!context.root()) tests.setOption("minimal", true);
    const int failed = tests.run() != 0 ? 1 : 0;
    int any = 0;
    MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (context.root() && any && !failed) std::printf("[mpi] a test failed on another rank (see above)\n");
    return any;
}

// Data: numpy-compatible random draws, the flower and the other toy sets,
// labels and splits, checked loading of X/Y files, mini-batches.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <set>
#include <string>

#include <xtensor/xbuilder.hpp>
#include <xtensor/xview.hpp>

#include "helpers.hpp"
#include "temp_files.hpp"

using xg::Matrix;
using namespace xgt;

namespace {

/// The columns of X (with their labels) as a sorted list, to compare sets of examples.
std::vector<std::vector<double>> columns(const xg::Dataset<double>& d) {
    std::vector<std::vector<double>> out;
    for (std::size_t j = 0; j < d.size(); ++j) {
        std::vector<double> c;
        for (std::size_t r = 0; r < d.features(); ++r) c.push_back(d.X(r, j));
        c.push_back(d.Y(0, j));
        out.push_back(c);
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::map<double, std::size_t> class_counts(const Matrix<double>& Y) {
    std::map<double, std::size_t> n;
    for (double y : Y) ++n[y];
    return n;
}

}  // namespace

TEST_CASE("Rng draws what numpy's legacy RandomState draws for the same seed") {
    // np.random.seed(1); np.random.randn(10)
    const double expected[] = {1.6243453636632417,  -0.6117564136500754, -0.5281717522634557, -1.0729686221561705,
                               0.8654076293246785,  -2.3015386968802827, 1.74481176421648,    -0.7612069008951028,
                               0.31903909605709857, -0.2493703754774101};
    xg::Rng rng(1);
    for (double e : expected) CHECK(rng.normal() == doctest::Approx(e).epsilon(1e-15));
    // np.random.RandomState(5): rand(), randn(), randint(0, 1000001)
    xg::Rng r5(5);
    CHECK(r5.uniform() == 0.22199317108973948);
    CHECK(r5.normal() == doctest::Approx(-0.2939598035905121).epsilon(1e-15));
    CHECK(r5.interval(1000000) == 660880);
    // np.random.RandomState(7).randint(0, 10000000001, dtype=np.uint64): the 64-bit path
    CHECK(xg::Rng(7).interval(10000000000ULL) == 5664942582ULL);
    // np.random.RandomState(3).permutation(10)
    CHECK(xg::Rng(3).permutation(10) == std::vector<std::size_t>{5, 4, 1, 2, 9, 6, 7, 0, 3, 8});
    // randn(rows, cols) fills row by row: np.random.seed(2); np.random.randn(4, 2) * 0.01
    xg::Rng r2(2);
    const Matrix<double> W = xg::randn<double>(4, 2, r2, 0.01);
    CHECK(W(0, 0) == doctest::Approx(-0.004167578474054706).epsilon(1e-14));
    CHECK(W(0, 1) == doctest::Approx(-0.0005626682722632948).epsilon(1e-14));
    CHECK(W(3, 1) == doctest::Approx(-0.012452880866072316).epsilon(1e-14));
}

TEST_CASE("flower() is the lecture's planar data set, point for point") {
    const xg::Dataset<double> d = xg::flower();
    REQUIRE(xg::shape_of(d.X) == xg::Shape{2, 400});
    REQUIRE(xg::shape_of(d.Y) == xg::Shape{1, 400});
    CHECK(d.classes == 2);
    // load_planar_dataset() after np.random.seed(1), columns 0, 1, 199, 200, 399.
    const std::pair<std::size_t, std::array<double, 2>> ref[] = {{0, {1.2044422922543192, 3.576114148128845}},
                                                                 {1, {0.15870990398255375, -1.4821709003683443}},
                                                                 {199, {-0.5858464101358457, -3.091259938950624}},
                                                                 {200, {-1.0704958072229525, 3.682524609580073}},
                                                                 {399, {0.7307808250007515, 3.0683292081876554}}};
    for (const auto& [j, xy] : ref) {
        CAPTURE(j);
        CHECK(d.X(0, j) == doctest::Approx(xy[0]).epsilon(1e-13));
        CHECK(d.X(1, j) == doctest::Approx(xy[1]).epsilon(1e-13));
    }
    for (std::size_t j = 0; j < 400; ++j) CHECK(d.Y(0, j) == (j < 200 ? 0.0 : 1.0));
    // Every point lies on a petal: |r| ≤ 4 plus a few noise standard deviations.
    for (std::size_t j = 0; j < 400; ++j) CHECK(std::hypot(d.X(0, j), d.X(1, j)) < 4 + 5 * 0.2);
    // Seeded: the same seed gives the same data, another seed other data.
    CHECK(xg::flower(400, 1).X == d.X);
    CHECK(xg::flower(400, 2).X != d.X);
    // float32 is the float64 data rounded.
    const xg::Dataset<float> f = xg::flower<float>();
    CHECK(f.X(1, 0) == float(d.X(1, 0)));
}

TEST_CASE("moons, circles, spirals and blobs: shapes, classes and geometry") {
    const auto m = xg::moons(201, 4, 0.0);  // no noise: points exactly on the half circles
    CHECK(xg::shape_of(m.X) == xg::Shape{2, 201});
    CHECK(class_counts(m.Y) == std::map<double, std::size_t>{{0.0, 101}, {1.0, 100}});
    for (std::size_t j = 0; j < 201; ++j) {
        const double cx = m.Y(0, j) == 0 ? 0.0 : 1.0, cy = m.Y(0, j) == 0 ? 0.0 : 0.5;
        CHECK(std::hypot(m.X(0, j) - cx, m.X(1, j) - cy) == doctest::Approx(1.0));
        CHECK((m.Y(0, j) == 0 ? m.X(1, j) >= -1e-12 : m.X(1, j) <= 0.5 + 1e-12));
    }
    const auto c = xg::circles(400, 5, 0.0, 0.3);
    for (std::size_t j = 0; j < 400; ++j) {
        CHECK(std::hypot(c.X(0, j), c.X(1, j)) == doctest::Approx(c.Y(0, j) == 0 ? 1.0 : 0.3));
    }
    const auto s = xg::spirals(301, 3, 6);
    CHECK(s.classes == 3);
    CHECK(class_counts(s.Y) == std::map<double, std::size_t>{{0.0, 101}, {1.0, 100}, {2.0, 100}});
    for (std::size_t j = 0; j < 301; ++j) CHECK(std::hypot(s.X(0, j), s.X(1, j)) <= 1.0 + 1e-12);
    const auto b = xg::blobs(400, 4, 7, 0.5);
    CHECK(b.classes == 4);
    // Each blob's mean is near its centre, 3 away from the origin.
    for (std::size_t k = 0; k < 4; ++k) {
        double sx = 0, sy = 0;
        for (std::size_t j = 0; j < 400; ++j) {
            if (b.Y(0, j) == double(k)) sx += b.X(0, j), sy += b.X(1, j);
        }
        CHECK(std::hypot(sx / 100, sy / 100) == doctest::Approx(3.0).epsilon(0.05));
    }
    // Seeded, noise applied.
    CHECK(xg::moons(50, 9).X == xg::moons(50, 9).X);
    CHECK(xg::moons(50, 9).X != xg::moons(50, 10).X);
    CHECK_THROWS_AS(xg::spirals(2, 3, 1), xg::ValueError);
}

TEST_CASE("one_hot and argmax_classes are inverse; bad labels are ValueErrors") {
    const Matrix<double> labels{{2, 0, 1, 2}};
    const Matrix<double> oh = xg::one_hot(labels, 3);
    CHECK(oh == Matrix<double>{{0, 1, 0, 0}, {0, 0, 1, 0}, {1, 0, 0, 1}});
    CHECK(xg::argmax_classes(oh) == labels);
    CHECK(xg::argmax_classes(Matrix<double>{{0.1, 0.7}, {0.6, 0.2}, {0.3, 0.1}}) == Matrix<double>{{1, 0}});
    CHECK(has(thrown<xg::ValueError>([&] { xg::one_hot(Matrix<double>{{0, 3}}, 3); }), "label Y(0, 1) = 3"));
    CHECK(has(thrown<xg::ValueError>([&] { xg::one_hot(Matrix<double>{{0.5}}, 3); }), "= 0.5 is not in"));
    CHECK_THROWS_AS(xg::one_hot(Matrix<double>{{0}, {1}}, 2), xg::ShapeError);
}

TEST_CASE("train_test_split: disjoint parts that together are the data set") {
    const auto d = xg::flower(100, 3);
    const auto [train, test] = xg::train_test_split(d, 0.25, 8);
    CHECK(train.size() == 75);
    CHECK(test.size() == 25);
    xg::Dataset<double> both;
    both.X = xt::concatenate(xt::xtuple(train.X, test.X), 1);
    both.Y = xt::concatenate(xt::xtuple(train.Y, test.Y), 1);
    CHECK(columns(both) == columns(d));
    // The test set is the first 25 of Rng(8).permutation(100).
    const auto order = xg::Rng(8).permutation(100);
    CHECK(test.X(0, 0) == d.X(0, order[0]));
    CHECK(train.X(1, 0) == d.X(1, order[25]));
    CHECK_THROWS_AS(xg::train_test_split(d, 0.0, 1), xg::ValueError);
    CHECK_THROWS_AS(xg::train_test_split(d, 1.0, 1), xg::ValueError);
}

TEST_CASE("MiniBatches: each example once per epoch, a last partial batch, a new order each epoch") {
    std::mt19937_64 rng(20);
    const Matrix<double> X = randn(3, 10, rng);
    Matrix<double> Y({2, 10});
    for (std::size_t j = 0; j < 10; ++j) Y(0, j) = double(j), Y(1, j) = double(100 + j);
    xg::MiniBatches<double> batches(X, Y, 4, 3);
    CHECK(batches.batches() == 3);
    Matrix<double> Xb, Yb;
    std::vector<std::size_t> first_epoch_order;
    for (int epoch = 0; epoch < 2; ++epoch) {
        std::vector<std::size_t> sizes, seen;
        const std::vector<std::size_t> order = batches.order();
        while (batches.next(Xb, Yb)) {
            sizes.push_back(Xb.shape()[1]);
            for (std::size_t j = 0; j < Xb.shape()[1]; ++j) {
                const std::size_t k = std::size_t(Yb(0, j));
                seen.push_back(k);
                CHECK(Yb(1, j) == 100.0 + double(k));  // Y's rows travel together
                for (std::size_t r = 0; r < 3; ++r) CHECK(Xb(r, j) == X(r, k));
            }
        }
        CHECK(sizes == std::vector<std::size_t>{4, 4, 2});
        CHECK(seen == order);  // the batches follow the epoch's order
        std::vector<std::size_t> sorted = seen;
        std::sort(sorted.begin(), sorted.end());
        CHECK(sorted == std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
        CHECK(batches.epoch() == std::size_t(epoch + 1));
        if (epoch == 0) {
            // The first epoch's order is np.random.seed(3); np.random.permutation(10).
            CHECK(order == std::vector<std::size_t>{5, 4, 1, 2, 9, 6, 7, 0, 3, 8});
            first_epoch_order = order;
        } else {
            CHECK(order != first_epoch_order);
        }
    }
    // Without shuffling, in order.
    xg::MiniBatches<double> plain(X, Y, 5, 0, false);
    REQUIRE(plain.next(Xb, Yb));
    CHECK(Yb(0, 0) == 0.0);
    CHECK(Yb(0, 4) == 4.0);
    // Errors.
    const Matrix<double> Y9 = xt::zeros<double>({1, 9});
    CHECK_THROWS_AS(xg::MiniBatches<double>(X, Y9, 4), xg::ShapeError);
    CHECK_THROWS_AS(xg::MiniBatches<double>(X, Y, 0), xg::ValueError);
}

TEST_CASE("MiniBatches::next_epoch: each example exactly once per epoch, the same batches as next()") {
    std::mt19937_64 rng(21);
    const Matrix<double> X = randn(3, 10, rng);
    Matrix<double> Y({2, 10});
    for (std::size_t j = 0; j < 10; ++j) Y(0, j) = double(j), Y(1, j) = double(100 + j);
    for (bool shuffle : {true, false}) {
        CAPTURE(shuffle);
        xg::MiniBatches<double> batches(X, Y, 4, 3, shuffle);
        xg::MiniBatches<double> stepped(X, Y, 4, 3, shuffle);  // the same, one next() at a time
        Matrix<double> Xb, Yb;
        for (std::size_t epoch = 0; epoch < 3; ++epoch) {
            CHECK(batches.epoch() == epoch);
            const std::vector<std::size_t> order = batches.order();
            std::vector<std::size_t> sizes, seen;
            for (const xg::Batch<double>& batch : batches.next_epoch()) {
                CHECK(batches.position() == seen.size() + batch.size());
                sizes.push_back(batch.size());
                REQUIRE(batch.X.shape()[1] == batch.size());
                REQUIRE(batch.Y.shape()[1] == batch.size());
                for (std::size_t j = 0; j < batch.size(); ++j) {
                    const std::size_t k = batch.columns[j];
                    seen.push_back(k);
                    CHECK(batch.Y(0, j) == double(k));  // the columns are the examples the batch holds
                    CHECK(batch.Y(1, j) == 100.0 + double(k));
                    for (std::size_t r = 0; r < 3; ++r) CHECK(batch.X(r, j) == X(r, k));
                }
                REQUIRE(stepped.next(Xb, Yb));
                CHECK(Xb == batch.X);
                CHECK(Yb == batch.Y);
            }
            CHECK_FALSE(stepped.next(Xb, Yb));
            CHECK(sizes == std::vector<std::size_t>{4, 4, 2});  // the smaller last batch too
            CHECK(seen == order);
            std::vector<std::size_t> sorted = seen;
            std::sort(sorted.begin(), sorted.end());
            CHECK(sorted == std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
            CHECK(batches.epoch() == epoch + 1);  // passing the last batch ended the epoch
            CHECK(batches.position() == 0);
        }
    }
    // One batch holding everything, and a batch larger than the data set.
    for (std::size_t b : {10, 25}) {
        xg::MiniBatches<double> whole(X, Y, b, 1);
        std::size_t n = 0;
        for (const auto& batch : whole.next_epoch()) n += batch.size();
        CHECK(n == 10);
        CHECK(whole.batches() == 1);
    }
}

TEST_CASE("MiniBatches: batches of a data set larger than its copy's tiles; X and Y copied at construction") {
    // 70 rows (one tile of 64 entries and a part), batches of 19 (one tile of
    // 16 examples and a part) and a last batch of 2: every entry of every
    // batch is its example's, bit for bit.
    std::mt19937_64 rng(22);
    Matrix<float> X = randn<float>(70, 40, rng);
    Matrix<float> Y({1, 40});
    for (std::size_t j = 0; j < 40; ++j) Y(0, j) = float(j);
    xg::MiniBatches<float> batches(X, Y, 19, 6);
    const Matrix<float> X0 = X;
    X.fill(0.f);  // a copy was taken: later changes are not seen
    Y.fill(-1.f);
    for (int epoch = 0; epoch < 2; ++epoch) {
        std::vector<std::size_t> sizes;
        for (const xg::Batch<float>& batch : batches.next_epoch()) {
            sizes.push_back(batch.size());
            REQUIRE(batch.X.shape() == std::array<std::size_t, 2>{70, batch.size()});
            std::size_t differ = 0;
            for (std::size_t j = 0; j < batch.size(); ++j) {
                const std::size_t k = batch.columns[j];
                differ += batch.Y(0, j) != float(k);
                for (std::size_t r = 0; r < 70; ++r) differ += batch.X(r, j) != X0(r, k);
            }
            CHECK(differ == 0);
        }
        CHECK(sizes == std::vector<std::size_t>{19, 19, 2});
    }
    // Temporaries are fine: the batches own their data.
    xg::MiniBatches<float> from_temporaries(Matrix<float>(X0), Matrix<float>(xt::ones<float>({1, 40})), 8);
    Matrix<float> Xb, Yb;
    REQUIRE(from_temporaries.next(Xb, Yb));
    CHECK(Xb(69, 3) == X0(69, from_temporaries.order()[3]));
    CHECK(Yb(0, 7) == 1.f);
}

TEST_CASE("MiniBatches::inputs: the graph's leaves without using up a batch; the loop skips nothing") {
    const xg::Dataset<double> d = xg::flower(100, 4);
    xg::MiniBatches<double> batches(d.X, d.Y, 32, 5);
    xg::MiniBatches<double> twin(d.X, d.Y, 32, 5);
    xg::Graph<double> g;
    auto [X, Y] = batches.inputs(g);
    CHECK(X.name() == "X");
    CHECK(Y.name() == "Y");
    CHECK(X.shape() == xg::Shape{2, 32});  // a full batch's shape: the first 32 examples as stored
    CHECK(Y.shape() == xg::Shape{1, 32});
    CHECK(X.value()(1, 31) == d.X(1, 31));
    CHECK(batches.position() == 0);  // nothing used up: the first epoch is whole
    CHECK(batches.order() == twin.order());

    // Train through the leaves: each epoch's batches, 32, 32, 32 and 4, all reach the graph.
    const xg::TwoLayerParams<double> p = xg::init_two_layer<double>(2, 3, 1, 7);
    auto J = binary_cross_entropy(xg::two_layer_forward(g, X, p).A2, Y);
    Matrix<double> Xb, Yb;
    for (int epoch = 0; epoch < 2; ++epoch) {
        std::vector<std::size_t> count(100, 0);
        std::size_t steps = 0;
        for (const auto& batch : batches.next_epoch()) {
            g.set_value(X, batch.X);
            g.set_value(Y, batch.Y);
            g.forward();
            g.backward(J);
            REQUIRE(twin.next(Xb, Yb));
            CHECK(X.value() == Xb);  // the graph trains on exactly the batch next() would give
            for (std::size_t j : batch.columns) ++count[j];
            ++steps;
        }
        CHECK_FALSE(twin.next(Xb, Yb));
        CHECK(steps == 4);
        CHECK(X.shape() == xg::Shape{2, 4});  // the last, smaller batch went in
        CHECK(std::all_of(count.begin(), count.end(), [](std::size_t c) { return c == 1; }));
    }
    // Names of one's own, and fewer examples than a batch.
    xg::MiniBatches<double> few(d.X, d.Y, 500);
    xg::Graph<double> h;
    auto [A, B] = few.inputs(h, "A", "labels");
    CHECK(A.name() == "A");
    CHECK(B.name() == "labels");
    CHECK(A.shape() == xg::Shape{2, 100});
}

TEST_CASE("MiniBatches::next_epoch refuses an epoch partly given out, so that no batch is skipped") {
    const xg::Dataset<double> d = xg::flower(40, 2);
    xg::MiniBatches<double> batches(d.X, d.Y, 16, 1);
    Matrix<double> Xb, Yb;
    // The old trap: a batch taken with next() to build a graph on, then the epoch's loop.
    REQUIRE(batches.next(Xb, Yb));
    const std::string msg = message_of<xg::ValueError>([&] { batches.next_epoch(); });
    CHECK(contains(msg, "MiniBatches::next_epoch: epoch 0 is partly given out (16 of 40 examples"));
    CHECK(contains(msg, "finish it with next() until it returns false"));
    while (batches.next(Xb, Yb)) {
    }
    CHECK(batches.epoch() == 1);
    std::size_t n = 0;
    for (const auto& batch : batches.next_epoch()) n += batch.size();
    CHECK(n == 40);

    // A loop left early leaves the epoch unfinished: the next range refuses too.
    for (const auto& batch : batches.next_epoch()) {
        CHECK(batch.size() == 16);
        break;
    }
    CHECK_THROWS_AS(batches.next_epoch(), xg::ValueError);
}

TEST_CASE("MiniBatches::next_epoch: a full batch and the smaller last one keep their buffers") {
    std::mt19937_64 rng(22);
    const Matrix<double> X = randn(2, 10, rng), Y = randn(1, 10, rng);
    xg::MiniBatches<double> batches(X, Y, 4, 0);
    std::vector<const double*> first, second;
    for (std::vector<const double*>* seen : {&first, &second}) {
        for (const auto& batch : batches.next_epoch()) seen->push_back(batch.X.data());
    }
    REQUIRE(first.size() == 3);
    CHECK(first == second);      // epoch after epoch, the same buffers
    CHECK(first[0] == first[1]);  // both full batches in one
    CHECK(first[2] != first[0]);  // the last one in its own
}

TEST_CASE("load_dataset reads X and Y from .npy or CSV and checks them, naming the file") {
    TempDir dir;
    const auto d = xg::flower(40, 5);
    xg::save_npy(dir / "X.npy", d.X);
    xg::save_npy(dir / "Y.npy", d.Y);
    xg::save_csv(dir / "X.csv", d.X);
    xg::save_csv(dir / "Y.csv", d.Y);
    for (const auto& [x, y] :
         {std::pair<std::string, std::string>{"X.npy", "Y.npy"}, {"X.csv", "Y.csv"}, {"X.npy", "Y.csv"}}) {
        const auto back = xg::load_dataset<double>(dir / x, dir / y);
        CHECK(back.X == d.X);
        CHECK(back.Y == d.Y);
    }

    // Missing file.
    CHECK(
        has(thrown<xg::IoError>([&] { xg::load_dataset<double>(dir / "nope.npy", dir / "Y.npy"); }), dir / "nope.npy"));
    // Labels as a column: ShapeError with a hint.
    xg::save_csv(dir / "Ycol.csv", Matrix<double>(xt::transpose(d.Y)));
    const std::string col = thrown<xg::ShapeError>([&] { xg::load_dataset<double>(dir / "X.npy", dir / "Ycol.csv"); });
    CHECK(has(col, dir / "Ycol.csv"));
    CHECK(has(col, "the labels are 40x1; they must be one row"));
    CHECK(has(col, "(transpose it)"));
    // Fewer labels than examples.
    xg::save_npy(dir / "Y30.npy", Matrix<double>(xt::view(d.Y, xt::all(), xt::range(0, 30))));
    CHECK(has(thrown<xg::ShapeError>([&] { xg::load_dataset<double>(dir / "X.npy", dir / "Y30.npy"); }),
              "30 labels (1x30) for the 40 examples"));
    // A label outside {0, 1}.
    Matrix<double> Ybad = d.Y;
    Ybad(0, 17) = 2;
    xg::save_npy(dir / "Ybad.npy", Ybad);
    CHECK(has(thrown<xg::ValueError>([&] { xg::load_dataset<double>(dir / "X.npy", dir / "Ybad.npy"); }),
              "Ybad.npy: label Y(0, 17) = 2 is not in {0, 1}"));
    // ... which is fine with three classes.
    CHECK(xg::load_dataset<double>(dir / "X.npy", dir / "Ybad.npy", 3).Y(0, 17) == 2.0);
    // A NaN in X.
    write_bytes(dir / "Xnan.csv", "1,nan\n2,3\n");
    write_bytes(dir / "Y2.csv", "0,1\n");
    CHECK(has(thrown<xg::ValueError>([&] { xg::load_dataset<double>(dir / "Xnan.csv", dir / "Y2.csv"); }),
              "Xnan.csv: X(0, 1) = nan is not finite"));
}

// Examples of the reference pages for data, files, random numbers and the
// two-layer network (docs/reference/random.md, data.md, io.md, two_layer.md):
//
//   reference_data random      xg::Rng, xg::randn
//   reference_data data        data sets, labels, splits, mini-batches
//   reference_data io          .npy and CSV files, checkpoints
//   reference_data two_layer   the two-layer network, piece by piece
//
// Without an argument, every section in turn (see docs_helpers.hpp). The io
// section writes its files into a scratch folder, removed at the end.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

#include <xtensor/xview.hpp>

#include <xgrad/xgrad.hpp>

#include "docs_helpers.hpp"

namespace fs = std::filesystem;

namespace {

void random_section() {
    // np.random.seed(1); np.random.rand(); np.random.randn(); np.random.permutation(5)
    xg::Rng rng(1);
    std::printf("uniform %.8f\n", rng.uniform());
    std::printf("normal %.8f\n", rng.normal());
    std::printf("permutation:");
    for (std::size_t k : rng.permutation(5)) std::printf(" %zu", k);
    std::printf("\ninterval(9) %llu\n", static_cast<unsigned long long>(rng.interval(9)));
    std::printf("next_u32 %u\n", rng.next_u32());

    // np.random.seed(2); np.random.randn(2, 3) * 0.01
    xg::Rng rng2(2);
    const xg::Matrix<double> W = xg::randn<double>(2, 3, rng2, 0.01);
    std::printf("W(0, 0) = %.10f, W(1, 2) = %.10f\n", W(0, 0), W(1, 2));

    // The same ordering into a vector of one's own, reused from call to call.
    xg::Rng a(3), b(3);
    std::vector<std::size_t> order;
    b.permutation(7, order);
    std::printf("permutation(7, order) = permutation(7): %s\n", order == a.permutation(7) ? "yes" : "no");
}

void data_section() {
    const xg::Dataset<double> f = xg::flower();  // 400 points, seed 1: the lecture's data
    std::printf("flower: X [%zux%zu], Y [1x%zu], %zu classes, X(:, 0) = (%.6f, %.6f), Y(0, 0) = %g\n", f.features(),
                f.size(), f.Y.shape()[1], f.classes, f.X(0, 0), f.X(1, 0), f.Y(0, 0));
    const xg::Dataset<float> m = xg::moons<float>(200, /*seed=*/3, /*noise=*/0.1);
    const auto c = xg::circles(100, 1, 0.05, /*factor=*/0.3);
    const auto s = xg::spirals(300, /*classes=*/3);
    const auto b = xg::blobs(90, /*classes=*/4, /*seed=*/5, /*spread=*/0.5);
    std::printf("moons %zu, circles %zu, spirals %zu in %zu classes, blobs %zu in %zu classes\n", m.size(), c.size(),
                s.size(), s.classes, b.size(), b.classes);

    // Class indices (1 × m) and one-hot columns (K × m), both ways.
    const xg::Matrix<double> y = {{2, 0, 1}};
    const xg::Matrix<double> Y = xg::one_hot(y, 3);
    docs::print("one_hot", Y);
    docs::print("argmax_classes", xg::argmax_classes(Y));

    auto [train, test] = xg::train_test_split(f, /*test_fraction=*/0.25, /*seed=*/0);
    std::printf("split: %zu train, %zu test\n", train.size(), test.size());

    // A range of examples, and a random order of them.
    const xg::Dataset<double> first = xg::examples(f, 198, 203), mixed = xg::shuffled(first, /*seed=*/0);
    docs::print("columns_of(X, 0, 2)", xg::columns_of(first.X, 0, 2));
    docs::print("labels", first.Y);
    docs::print("shuffled labels", mixed.Y);

    // Mini-batches: 10 examples in batches of 4 → 4, 4, 2.
    const xg::Matrix<double> X = xt::view(f.X, xt::all(), xt::range(0, 10));
    const xg::Matrix<double> L = xt::view(f.Y, xt::all(), xt::range(0, 10));
    xg::MiniBatches<double> batches(X, L, /*batch_size=*/4, /*seed=*/0);
    std::printf("%zu examples, batches of %zu, %zu per epoch; order:", batches.examples(), batches.batch_size(),
                batches.batches());
    for (std::size_t k : batches.order()) std::printf(" %zu", k);
    std::printf("\n");
    xg::Graph<double> g;
    auto [Xv, Yv] = batches.inputs(g);  // a full batch's shape; no batch used up
    std::printf("input leaves %s [%s] and %s [%s]\n", Xv.name().c_str(), to_string(Xv.shape()).c_str(),
                Yv.name().c_str(), to_string(Yv.shape()).c_str());
    for (const xg::Batch<double>& batch : batches.next_epoch()) {
        std::printf("  a batch of %zu: examples", batch.size());
        for (std::size_t j : batch.columns) std::printf(" %zu", j);
        std::printf("\n");
    }
    std::printf("epochs done: %zu\n", batches.epoch());

    xg::MiniBatches<double> in_order(X, L, 4, 0, /*shuffle=*/false);
    xg::Matrix<double> Xb, Yb;
    in_order.next(Xb, Yb);
    std::printf("unshuffled, first batch starts with example 0: %s\n", Xb(0, 0) == X(0, 0) ? "yes" : "no");
    try {
        for (const auto& batch : in_order.next_epoch()) std::printf("%zu\n", batch.size());
    } catch (const xg::ValueError& e) {
        std::printf("ValueError: %s\n", e.what());
    }
}

void io_section() {
    const fs::path scratch = fs::temp_directory_path() / ("xgrad-reference-io-" + std::to_string(::getpid()));
    fs::create_directories(scratch);
    fs::current_path(scratch);

    const xg::Matrix<double> M = {{1.5, -2.0, 3.25}, {0.1, 0.2, 0.3}};
    xg::save_npy("M.npy", M);
    const xg::NpyInfo info = xg::npy_info("M.npy");
    std::printf("M.npy: dtype %s, fortran_order %d, %zu dims, shape %s\n", info.descr.c_str(), info.fortran_order,
                info.dims.size(), to_string(info.shape).c_str());
    const xg::Matrix<float> Mf = xg::load_npy<float>("M.npy");  // converted to float
    std::printf("as float: %g\n", Mf(0, 1));

    xg::save_csv("M.csv", M);
    xg::save_csv("M_semicolon.csv", M, ';');
    std::printf("CSV round trip exact: %s; with ';': %s\n", xg::load_csv<double>("M.csv") == M ? "yes" : "no",
                xg::load_csv<double>("M_semicolon.csv", ';') == M ? "yes" : "no");
    std::FILE* f = std::fopen("with_header.csv", "w");
    std::fputs("x1,x2\n# a comment\n1,2\n3,4\n", f);
    std::fclose(f);
    docs::print("with_header.csv, 1 row skipped", xg::load_csv<double>("with_header.csv", ',', /*skip_rows=*/1));

    xg::save_matrix("M2.npy", M);  // by extension: .npy, or .csv / .txt
    std::printf("load_matrix(M2.npy) == M: %s\n", xg::load_matrix<double>("M2.npy") == M ? "yes" : "no");
    try {
        xg::load_matrix<double>("M.json");
    } catch (const xg::IoError& e) {
        std::printf("IoError: %s\n", e.what());
    }

    // numpy's savetxt writes spaces; a .txt file is read (and written) that way.
    std::FILE* t = std::fopen("savetxt.txt", "w");
    std::fputs("1.500000000000000000e+00 -2.000000000000000000e+00\n", t);
    std::fclose(t);
    docs::print("savetxt.txt", xg::load_matrix<double>("savetxt.txt"));

    // Checkpoints: a DIR/xgrad-gen-N/<name>.npy per Parameter and a manifest; one unit.
    xg::Parameter<double> W(M, "W"), b(xg::Matrix<double>{{0.5}, {-0.5}}, "b");
    xg::save_parameters("ckpt", {W, b});
    xg::Parameter<double> W2(xg::Matrix<double>(xt::zeros<double>({2, 3})), "W");
    xg::load_parameters("ckpt", {W2});
    std::printf("loaded W == M: %s\n", W2.value() == M ? "yes" : "no");
    const std::vector<xg::Parameter<double>> both = {W, b};
    xg::save_parameters("ckpt", both);  // a vector works as well as a braced list
    xg::load_parameters("ckpt", both);

    // What the checkpoint holds, as its manifest lists it.
    const xg::CheckpointInfo ckpt = xg::checkpoint_info("ckpt");
    std::printf("%s lists %zu files\n", ckpt.manifest.c_str(), ckpt.files.size());
    for (const xg::CheckpointFile& file : ckpt.files) {
        std::printf("  %s: %s, %s %s, %llu bytes, sha256 %.12s...\n", file.name.c_str(), file.path.c_str(),
                    file.descr.c_str(), to_string(file.shape).c_str(), static_cast<unsigned long long>(file.bytes),
                    file.sha256.c_str());
    }
    std::printf("find(\"b\")->shape = %s, find(\"c\") = %s\n", to_string(ckpt.find("b")->shape).c_str(),
                ckpt.find("c") ? "found" : "nullptr");

    fs::current_path(fs::temp_directory_path());
    fs::remove_all(scratch);
}

void two_layer_section() {
    const xg::Dataset<double> data = xg::flower();
    // n_x = 2 inputs, n_h = 4 hidden units, n_y = 1 output; seed 2, N(0, 1) · 0.01.
    const xg::TwoLayerParams<double> p = xg::init_two_layer<double>(2, 4, 1);
    std::printf("%zu -> %zu -> %zu, W1 [%s], parameters: %zu (%s, %s, %s, %s)\n", p.n_x(), p.n_h(), p.n_y(),
                to_string(p.W1.shape()).c_str(), p.all().size(), p.W1.name().c_str(), p.b1.name().c_str(),
                p.W2.name().c_str(), p.b2.name().c_str());

    // The forward pass on a graph of your own: nodes Z1, A1, Z2, A2.
    xg::Graph<double> g;
    const xg::TwoLayerForward<double> net = xg::two_layer_forward(g, g.input(data.X, "X"), p);
    std::printf("A2 is [%s]; the nodes are named %s, %s, %s, %s\n", to_string(net.A2.shape()).c_str(),
                net.Z1.name().c_str(), net.A1.name().c_str(), net.Z2.name().c_str(), net.A2.name().c_str());

    // Training, with a callback before each update.
    const xg::IterationCallback<double> report = [](std::size_t i, double cost) {
        if (i % 500 == 0) std::printf("  cost after %zu: %.6f\n", i, cost);
    };
    const xg::TrainResult<double> r = xg::train_two_layer(p, data.X, data.Y, 1000, 1.2, report);
    std::printf("%zu costs, final %.6f\n", r.costs.size(), r.final_cost());

    const xg::Matrix<double> probs = xg::two_layer_probabilities(p, data.X);
    std::printf("P(class 1 | x_0) = %.4f, predicted %g, accuracy %.2f%%\n", probs(0, 0), xg::predict(p, data.X)(0, 0),
                xg::accuracy(xg::predict(p, data.X), data.Y));
    std::printf("hidden units identical: %s; with Init::zeros: %s\n", xg::hidden_units_identical(p) ? "yes" : "no",
                xg::hidden_units_identical(xg::init_two_layer<double>(2, 4, 1, 2, xg::Init::zeros)) ? "yes" : "no");

    const fs::path dir = fs::temp_directory_path() / ("xgrad-reference-model-" + std::to_string(::getpid()));
    xg::save_parameters(dir.string(), p.all());
    const auto loaded = xg::load_two_layer<double>(dir.string());
    std::printf("loaded %zu -> %zu -> %zu, same W1: %s\n", loaded.n_x(), loaded.n_h(), loaded.n_y(),
                loaded.W1.value() == p.W1.value() ? "yes" : "no");
    fs::remove_all(dir);
}

}  // namespace

int main(int argc, char** argv) {
    return docs::run_sections(argc, argv,
                              {{"random", random_section},
                               {"data", data_section},
                               {"io", io_section},
                               {"two_layer", two_layer_section}});
}

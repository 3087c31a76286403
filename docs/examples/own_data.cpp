// Train on your own data: X and Y in CSV or .npy files, loaded and checked by
// xg::load_dataset. Shown in docs/data-and-io.md. The program writes its
// example files into a scratch folder first (a stand-in for your data).
#include <cstdio>
#include <filesystem>

#include <unistd.h>

#include <xgrad/xgrad.hpp>

namespace fs = std::filesystem;

int main() {
    const fs::path scratch = fs::temp_directory_path() / ("xgrad-own-data-" + std::to_string(::getpid()));
    fs::create_directories(scratch);
    fs::current_path(scratch);

    // Stand-in for your data: two moons, 300 examples, X 2 x 300 and Y 1 x 300.
    const xg::Dataset<double> moons = xg::moons(300, /*seed=*/7);
    xg::save_csv("X.csv", moons.X);
    xg::save_csv("Y.csv", moons.Y);
    xg::save_npy("X.npy", moons.X);
    xg::save_npy("Y.npy", moons.Y);

    // Load X (n_x x m, one example per column) and Y (1 x m, labels 0 or 1).
    xg::Dataset<double> data = xg::load_dataset<double>("X.csv", "Y.csv");
    std::printf("X is %zux%zu, Y is 1x%zu\n", data.features(), data.size(), data.size());

    // Hold out a fifth of the examples, train on the rest, evaluate on both.
    auto [train, test] = xg::train_test_split(data, 0.2, /*seed=*/1);
    const auto params = xg::init_two_layer<double>(train.features(), 8, 1, /*seed=*/2);
    xg::train_two_layer(params, train.X, train.Y, 3000, 1.2);
    std::printf("train accuracy %.2f%%, test accuracy %.2f%%\n", xg::accuracy(xg::predict(params, train.X), train.Y),
                xg::accuracy(xg::predict(params, test.X), test.Y));

    // The .npy files hold the same numbers.
    const xg::Dataset<double> same = xg::load_dataset<double>("X.npy", "Y.npy");
    std::printf("X.npy == X.csv: %s\n", same.X == data.X ? "yes" : "no");

    // What a bad file says.
    xg::save_csv("Y_column.csv", xg::Matrix<double>(xt::transpose(moons.Y)));  // 300 x 1
    xg::Matrix<double> Y3 = moons.Y;
    Y3(0, 5) = 3;
    xg::save_npy("Y_three.npy", Y3);
    std::FILE* f = std::fopen("X_ragged.csv", "w");
    std::fputs("0.5,1.5,2.5\n1.0,2.0\n", f);
    std::fclose(f);
    const char* pairs[][2] = {{"X.csv", "missing.csv"},
                              {"X.csv", "Y_column.csv"},
                              {"X.npy", "Y_three.npy"},
                              {"X_ragged.csv", "Y.csv"}};
    for (const auto& p : pairs) {
        try {
            xg::load_dataset<double>(p[0], p[1]);
        } catch (const xg::Error& e) {
            std::printf("%s\n", e.what());
        }
    }

    fs::current_path(fs::temp_directory_path());
    fs::remove_all(scratch);
}

// Save a trained model and load it back: a checkpoint of one .npy file per
// named Parameter and a manifest that lists them. Shown in docs/data-and-io.md.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <xgrad/xgrad.hpp>

namespace fs = std::filesystem;

int main() {
    const fs::path scratch = fs::temp_directory_path() / ("xgrad-checkpoint-" + std::to_string(::getpid()));
    fs::create_directories(scratch);
    fs::current_path(scratch);

    const xg::Dataset<double> flower = xg::flower();
    const auto params = xg::init_two_layer<double>(2, 4, 1, /*seed=*/2);
    xg::train_two_layer(params, flower.X, flower.Y, 2000, 1.2);

    // model/xgrad-gen-1/W1.npy, b1.npy, W2.npy, b2.npy, then model/xgrad-manifest.txt.
    xg::save_parameters("model", params.all());
    xg::save_parameters("model", params.all());  // again: generation 2 replaces generation 1 as a whole

    // What the folder holds, and the manifest (each line shortened before its SHA-256).
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator("model")) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    for (const std::string& n : names) std::printf("model/%s%s\n", n.c_str(), fs::is_directory("model/" + n) ? "/" : "");
    std::ifstream manifest("model/xgrad-manifest.txt");
    for (std::string line; std::getline(manifest, line);) {
        std::printf("  %s\n", line.substr(0, line.find(" sha256 ")).c_str());
    }
    const xg::CheckpointInfo info = xg::checkpoint_info("model");
    std::printf("b1 is in %s, %s, %zu bytes, SHA-256 of %zu hex digits\n", info.find("b1")->path.c_str(),
                info.find("b1")->descr.c_str(), std::size_t(info.find("b1")->bytes), info.find("b1")->sha256.size());

    // A fresh network of the sizes in the files, with the saved values.
    const auto loaded = xg::load_two_layer<double>("model");
    std::printf("loaded %zu -> %zu -> %zu, accuracy %.2f%% (saved: %.2f%%)\n", loaded.n_x(), loaded.n_h(),
                loaded.n_y(), xg::accuracy(xg::predict(loaded, flower.X), flower.Y),
                xg::accuracy(xg::predict(params, flower.X), flower.Y));

    // Any Parameters: load_parameters fills them in place, by name.
    xg::Parameter<double> W1(xg::Matrix<double>(xt::zeros<double>({4, 2})), "W1");
    xg::Parameter<double> b1(xg::Matrix<double>(xt::zeros<double>({4, 1})), "b1");
    xg::load_parameters("model", {W1, b1});
    std::printf("W1(0, 0) = %.6f\n", W1.value()(0, 0));

    // A load that fails changes nothing: every file is checked before any
    // parameter is assigned. Here W1 has the wrong shape, so b2 stays zero too.
    xg::Parameter<double> b2(xg::Matrix<double>(xt::zeros<double>({1, 1})), "b2");
    xg::Parameter<double> wide(xg::Matrix<double>(xt::zeros<double>({4, 3})), "W1");
    try {
        xg::load_parameters("model", {b2, wide});
    } catch (const xg::ShapeError& e) {
        std::printf("%s\n", e.what());
    }
    std::printf("b2 = %g, W1(0, 0) = %g: untouched\n", b2.value()(0, 0), wide.value()(0, 0));

    // A file that no longer matches the manifest (changed, truncated, or
    // copied from another checkpoint) is refused; nothing is loaded.
    std::ofstream("model/xgrad-gen-2/b1.npy", std::ios::app) << "x";
    try {
        xg::load_parameters("model", {W1, b1});
    } catch (const xg::IoError& e) {
        std::printf("%s\n", e.what());
    }

    fs::current_path(fs::temp_directory_path());
    fs::remove_all(scratch);
}

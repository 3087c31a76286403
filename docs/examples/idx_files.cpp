// IDX files and Fashion-MNIST (docs/data-and-io.md, docs/reference/io.md,
// docs/reference/data.md):
//
//   idx_files fashion   Fashion-MNIST from Debian's dataset-fashion-mnist
//   idx_files idx       IDX files of one's own, plain and gzip, and a damaged one
//
// Without an argument, both in turn (see docs_helpers.hpp). The idx section
// writes its files into a scratch folder, removed at the end. Both read the
// files of the Debian package dataset-fashion-mnist (scripts/setup installs it).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <xgrad/xgrad.hpp>

#include "docs_helpers.hpp"

namespace fs = std::filesystem;

namespace {

/// An image (one column of X, 784 values in [0, 1]) as 28 lines of text, darker characters for brighter pixels.
void draw(const xg::Matrix<float>& X, std::size_t j) {
    const char* shades = " .:-=+*#%@";
    for (std::size_t r = 0; r < 28; ++r) {
        std::string line;
        for (std::size_t c = 0; c < 28; ++c) line += shades[std::size_t(X(r * 28 + c, j) * 9.999f)];
        std::printf("  |%s|\n", line.c_str());
    }
}

void fashion_section() {
    // Debian's dataset-fashion-mnist: 60 000 training and 10 000 test images of 28 x 28.
    const xg::Dataset<float> train = xg::load_fashion_mnist<float>(xg::FashionMnistSplit::train);
    const xg::Dataset<float> test = xg::load_fashion_mnist<float>(xg::FashionMnistSplit::test);
    std::printf("train: X %zux%zu, Y 1x%zu, %zu classes\n", train.features(), train.size(), train.Y.shape()[1],
                train.classes);
    std::printf("test:  X %zux%zu, Y 1x%zu\n", test.features(), test.size(), test.Y.shape()[1]);

    // Image j is column j of X, its pixels row by row: pixel (r, c) is X(28 r + c, j), in [0, 1].
    const std::vector<std::string>& names = xg::fashion_mnist_classes();
    const std::size_t label = std::size_t(train.Y(0, 0));
    std::printf("image 0: class %zu (%s), pixel (14, 12) = %.4f = %g/255\n", label, names[label].c_str(),
                train.X(14 * 28 + 12, 0), train.X(14 * 28 + 12, 0) * 255);
    draw(train.X, 0);

    // The first 1000 examples only: the rest of the files is neither read nor converted.
    const xg::Dataset<float> part = xg::load_fashion_mnist<float>(xg::FashionMnistSplit::train, 1000);
    std::vector<int> count(10);
    for (float y : part.Y) ++count[std::size_t(y)];
    std::printf("the first %zu training examples, by class:\n", part.size());
    for (std::size_t k = 0; k < 10; ++k) std::printf("  %zu %-12s %d\n", k, names[k].c_str(), count[k]);

    // The files from another folder (e.g. downloaded from Zalando's repository).
    try {
        xg::load_fashion_mnist<float>(xg::FashionMnistSplit::test, 1000, "downloads/fashion");
    } catch (const xg::IoError& e) {
        std::printf("IoError: %s\n", e.what());
    }
}

void write_file(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

void idx_section() {
    const fs::path scratch = fs::temp_directory_path() / ("xgrad-idx-files-" + std::to_string(::getpid()));
    fs::create_directories(scratch);
    fs::current_path(scratch);

    // A 2 x 3 matrix of int16 as an IDX file: 0, 0, type 0x0B, 2 dimensions,
    // the sizes 2 and 3 as big-endian uint32, then six big-endian int16.
    const std::string m_idx = std::string("\x00\x00\x0b\x02", 4) + std::string("\x00\x00\x00\x02\x00\x00\x00\x03", 8) +
                              std::string("\x00\x01\x00\x02\x00\x03\xff\xfc\x01\x00\x7f\xff", 12);
    write_file("m.idx", m_idx);
    const xg::IdxInfo info = xg::idx_info("m.idx");
    std::printf("m.idx: %s, %zu dimensions, %zu items of %zu, gzip: %s\n", to_string(info.type).c_str(),
                info.dims.size(), info.items(), info.item_size(), info.gzip ? "yes" : "no");
    const xg::IdxArray<double> m = xg::load_idx<double>("m.idx");
    docs::print("values", m.values);        // one item per row, as stored
    docs::print("columns()", m.columns());  // one item per column: xgrad's X

    // The test labels of Fashion-MNIST (gzip): the first 8 of them only, as a 1 x 8 row.
    const std::string labels = xg::fashion_mnist_dir() + "/t10k-labels-idx1-ubyte.gz";
    const xg::IdxArray<double> first = xg::load_idx<double>(labels, 8);
    std::printf("%zu of %zu labels: ", first.info.items(), xg::idx_info(labels).items());
    docs::print("Y", first.columns());

    // A damaged file: every problem is an IoError naming the file.
    write_file("cut.idx", m_idx.substr(0, m_idx.size() - 3));
    try {
        xg::load_idx<double>("cut.idx");
    } catch (const xg::IoError& e) {
        std::printf("IoError: %s\n", e.what());
    }
    fs::current_path(fs::temp_directory_path());
    fs::remove_all(scratch);
}

}  // namespace

int main(int argc, char** argv) {
    if (!fs::exists(xg::fashion_mnist_dir())) {
        std::fprintf(stderr, "%s is missing: install Debian's dataset-fashion-mnist (scripts/setup does)\n",
                     xg::fashion_mnist_dir().c_str());
        return 1;
    }
    return docs::run_sections(argc, argv, {{"fashion", fashion_section}, {"idx", idx_section}});
}

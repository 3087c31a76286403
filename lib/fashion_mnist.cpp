// Fashion-MNIST from its IDX files: both headers checked against each other
// before a value is read, then the first m images straight into columns.
#include "xgrad/data.hpp"

#include <sys/stat.h>

#include "instantiate.hpp"
#include "io_internal.hpp"

namespace xg {

namespace {

constexpr std::size_t side = 28;
constexpr std::size_t n_classes = 10;

/// DIR/NAME.gz when it exists, else DIR/NAME when that does; IoError naming
/// both and the Debian package when neither does.
std::string find_file(const std::string& dir, const std::string& name) {
    const std::string base = dir.empty() || dir.back() == '/' ? dir + name : dir + "/" + name;
    struct stat st;
    if (::stat((base + ".gz").c_str(), &st) == 0) return base + ".gz";
    if (::stat(base.c_str(), &st) == 0) return base;
    detail::io_fail(base + ".gz", "no such file (nor " + name +
                                      " beside it); Debian's package dataset-fashion-mnist provides the "
                                      "Fashion-MNIST files (apt-get install dataset-fashion-mnist)");
}

std::string dims_text(const std::vector<std::size_t>& dims) {
    std::string s;
    for (std::size_t k = 0; k < dims.size(); ++k) s += (k ? "x" : "") + std::to_string(dims[k]);
    return s;
}

}  // namespace

std::string fashion_mnist_dir() {
    return "/usr/share/datasets/fashion-mnist";
}

const std::vector<std::string>& fashion_mnist_classes() {
    static const std::vector<std::string> names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                   "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
    return names;
}

// X(:, j) = pixels of image j row by row / 255; Y(0, j) = its label.
template <class T>
Dataset<T> load_fashion_mnist(FashionMnistSplit split, std::size_t max_examples, const std::string& dir) {
    if (max_examples == 0) throw ValueError("load_fashion_mnist: max_examples must be at least 1");
    const std::string prefix = split == FashionMnistSplit::train ? "train" : "t10k";
    const std::string images_path = find_file(dir, prefix + "-images-idx3-ubyte");
    const std::string labels_path = find_file(dir, prefix + "-labels-idx1-ubyte");

    // Both headers first: nothing is read or allocated for files that do not fit.
    const IdxInfo images = idx_info(images_path), labels = idx_info(labels_path);
    if (images.type != IdxType::u8 || images.dims.size() != 3 || images.dims[1] != side || images.dims[2] != side) {
        detail::io_fail(images_path, "Fashion-MNIST images must be n x 28 x 28 unsigned bytes, the file holds " +
                                         dims_text(images.dims) + " " + to_string(images.type) + " values");
    }
    if (labels.type != IdxType::u8 || labels.dims.size() != 1) {
        detail::io_fail(labels_path, "Fashion-MNIST labels must be n unsigned bytes (one dimension), the file holds " +
                                         dims_text(labels.dims) + " " + to_string(labels.type) + " values");
    }
    if (images.items() != labels.items()) {
        detail::io_fail(labels_path, std::to_string(labels.items()) + " labels for the " +
                                         std::to_string(images.items()) + " images of " + images_path);
    }

    Dataset<T> d;
    d.classes = n_classes;
    IdxInfo got;
    d.Y = detail::read_idx<T>(labels_path, max_examples, true, got);
    for (std::size_t j = 0; j < d.Y.shape()[1]; ++j) {
        if (d.Y(0, j) >= T(n_classes)) {
            detail::io_fail(labels_path, "label " + std::to_string(j) + " (counting from 0) is " +
                                             std::to_string(int(d.Y(0, j))) + "; Fashion-MNIST's classes are 0 ... 9");
        }
    }
    d.X = detail::read_idx<T>(images_path, max_examples, true, got);
    for (T& v : d.X) v /= T(255);
    return d;
}

#define XG_FASHION_MNIST_INSTANTIATIONS(T) \
    template Dataset<T> load_fashion_mnist(FashionMnistSplit, std::size_t, const std::string&);
XG_INSTANTIATE_FLOAT_DOUBLE(XG_FASHION_MNIST_INSTANTIATIONS)
#undef XG_FASHION_MNIST_INSTANTIATIONS

}  // namespace xg

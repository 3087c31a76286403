// libFuzzer harness for the file readers: the bytes after the first become a
// file, which is read as .npy (float64 and float32, and its header alone),
// as CSV (with the delimiter and header lines the first byte picks), as a
// checkpoint of one parameter in the old layout (DIR/W.npy), as a data set,
// and — the first byte's lowest bit picks which — as the manifest of a
// checkpoint whose file is intact, or as the file of a checkpoint whose
// manifest is intact; as an IDX file, plain and gzip-compressed here (whole,
// its header alone, and its first (first byte >> 4) items), and as the labels
// of a small Fashion-MNIST folder. A broken file must raise an xg::Error naming it; a
// failed load must leave the parameter as it was, a successful one must hold
// finite numbers (from a checkpoint: exactly the saved ones). Anything else —
// a crash, another exception, a sanitizer report, a leak, a value read from
// outside the file — is a finding.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <zlib.h>

#include <xgrad/xgrad.hpp>

namespace {

/// A private folder for this process, removed at exit.
struct Folder {
    std::string path;
    Folder() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "xgrad-fuzz-XXXXXX").string();
        if (!::mkdtemp(&tmpl[0])) std::abort();
        path = tmpl;
    }
    ~Folder() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

const std::string& folder() {
    static const Folder f;
    return f.path;
}

void write(const std::string& path, const std::uint8_t* data, std::size_t size) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), std::streamsize(size));
    if (!out) std::abort();
}

[[noreturn]] void broken(const char* what) {
    std::fprintf(stderr, "xgrad fuzz: invariant broken: %s\n", what);
    std::abort();
}

template <class F>
void expect_ok_or_error(F&& f) {
    try {
        f();
    } catch (const xg::Error& e) {
        // A refusal must say which file (every path here is in the folder).
        if (std::string(e.what()).find(folder()) == std::string::npos) broken("an error message without the file");
    }
}

std::string read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// The checkpoint the harness fuzzes: W (2 x 3, the values of the seed
/// npy_f8) saved once in folder()/ckpt; its manifest and its file, intact.
struct Checkpoint {
    xg::Matrix<double> W = {{0.5, -1, 2}, {3.25, 0, 1e-300}};
    std::string dir, manifest, file, manifest_bytes, file_bytes;
    Checkpoint() : dir(folder() + "/ckpt") {
        xg::save_parameters(dir, {xg::Parameter<double>(W, "W")});
        manifest = dir + "/xgrad-manifest.txt";
        file = dir + "/xgrad-gen-1/W.npy";
        manifest_bytes = read(manifest);
        file_bytes = read(file);
        if (manifest_bytes.empty() || file_bytes.empty()) std::abort();
    }
};

template <class T>
void check_matrix(const xg::Matrix<T>& m, const xg::NpyInfo* info) {
    if (info && xg::shape_of(m) != info->shape) broken("load_npy's shape differs from npy_info's");
    volatile T sink = 0;
    for (T v : m) sink = sink + v;  // every value readable
}

/// `raw` compressed as one gzip member.
std::string gzip(const std::uint8_t* raw, std::size_t size) {
    z_stream z{};
    if (deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
    std::string out(deflateBound(&z, uLong(size)) + 64, '\0');
    z.next_in = const_cast<Bytef*>(raw);
    z.avail_in = uInt(size);
    z.next_out = reinterpret_cast<Bytef*>(&out[0]);
    z.avail_out = uInt(out.size());
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) std::abort();
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

/// Load an IDX file whole and in part; what loads must agree with its header.
void check_idx(const std::string& path, std::size_t part) {
    expect_ok_or_error([&] {
        const xg::IdxInfo info = xg::idx_info(path);
        if (info.dims.empty() || info.dims.size() > 3) broken("idx_info accepted a header of 0 or over 3 dimensions");
        const xg::IdxArray<double> a = xg::load_idx<double>(path);
        if (a.info.dims != info.dims) broken("load_idx's sizes differ from idx_info's");
        if (xg::shape_of(a.values) != xg::Shape{info.items(), info.item_size()}) broken("load_idx's matrix has the wrong shape");
        if (a.info.type == xg::IdxType::u8) {
            for (double v : a.values) {
                if (!(v >= 0 && v <= 255)) broken("an unsigned byte outside 0 ... 255");
            }
        }
        check_matrix(a.columns(), nullptr);
        const xg::IdxArray<float> f = xg::load_idx<float>(path, part);
        const std::size_t items = std::min(part, info.items());
        if (xg::shape_of(f.values) != xg::Shape{items, info.item_size()} || f.info.dims[0] != items)
            broken("a partial load_idx has the wrong shape");
        for (std::size_t k = 0; k < f.values.size(); ++k) {
            const double v = double(f.values.data()[k]), w = a.values.data()[k];
            if (!(float(w) == float(v) || (std::isnan(v) && std::isnan(w)))) broken("a partial load differs from the whole");
        }
    });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::uint8_t how = data[0];
    const std::string npy = folder() + "/W.npy", csv = folder() + "/X.csv";
    write(npy, data + 1, size - 1);
    write(csv, data + 1, size - 1);

    expect_ok_or_error([&] {
        const xg::NpyInfo info = xg::npy_info(npy);
        check_matrix(xg::load_npy<double>(npy), &info);
        check_matrix(xg::load_npy<float>(npy), &info);
    });
    const char delimiters[] = {',', ';', '\t', ' '};
    expect_ok_or_error([&] { check_matrix(xg::load_csv<double>(csv, delimiters[how & 3], (how >> 2) & 3), nullptr); });
    expect_ok_or_error([&] { check_matrix(xg::load_matrix<float>(csv), nullptr); });

    // The file as a checkpoint of one parameter: loaded only when it fits, all or nothing.
    expect_ok_or_error([&] {
        xg::Parameter<double> W(xg::Matrix<double>(xt::zeros<double>({std::size_t(1 + (how >> 4 & 3)), std::size_t(1 + (how >> 6))})), "W");
        const xg::Matrix<double> before = W.value();
        try {
            xg::load_parameters(folder(), {W});
        } catch (const xg::Error&) {
            if (W.value() != before) broken("a failed load_parameters changed the parameter");
            throw;
        }
        for (double v : W.value()) {
            if (!std::isfinite(v)) broken("load_parameters accepted a non-finite value");
        }
    });
    // The bytes as the manifest of an intact checkpoint's file, or as the
    // file of an intact manifest: loaded only when they match, all or nothing.
    static const Checkpoint ckpt;
    const bool fuzz_manifest = how & 1;
    write(ckpt.manifest, fuzz_manifest ? data + 1 : reinterpret_cast<const std::uint8_t*>(ckpt.manifest_bytes.data()),
          fuzz_manifest ? size - 1 : ckpt.manifest_bytes.size());
    write(ckpt.file, fuzz_manifest ? reinterpret_cast<const std::uint8_t*>(ckpt.file_bytes.data()) : data + 1,
          fuzz_manifest ? ckpt.file_bytes.size() : size - 1);
    expect_ok_or_error([&] {
        const xg::CheckpointInfo info = xg::checkpoint_info(ckpt.dir);
        if (info.manifest != ckpt.manifest) broken("checkpoint_info did not read the manifest");
    });
    expect_ok_or_error([&] {
        xg::Parameter<double> W(xg::Matrix<double>(xt::zeros<double>({std::size_t(1 + (how >> 4 & 3)), std::size_t(1 + (how >> 6))})), "W");
        const xg::Matrix<double> before = W.value();
        try {
            xg::load_parameters(ckpt.dir, {W});
        } catch (const xg::Error&) {
            if (W.value() != before) broken("a failed load_parameters of a checkpoint changed the parameter");
            throw;
        }
        if (W.value() != ckpt.W) broken("load_parameters accepted a checkpoint file that is not the one saved");
    });
    // The file as examples, with labels from the same file.
    expect_ok_or_error([&] { xg::load_dataset<double>(npy, npy, 1 + (how & 7)); });

    // The bytes as an IDX file (a gzip one when they start with 1f 8b), and
    // compressed here: the IDX content behind a valid gzip stream.
    const std::string idx = folder() + "/X.idx", idx_gz = folder() + "/X.idx.gz";
    write(idx, data + 1, size - 1);
    const std::string packed = gzip(data + 1, size - 1);
    write(idx_gz, reinterpret_cast<const std::uint8_t*>(packed.data()), packed.size());
    check_idx(idx, how >> 4);
    check_idx(idx_gz, how >> 4);

    // The bytes as the labels of a Fashion-MNIST folder whose two images are intact.
    static const std::string fashion = [] {
        const std::string dir = folder() + "/fashion";
        std::filesystem::create_directory(dir);
        std::string images = {'\0', '\0', '\x08', '\x03', '\0', '\0', '\0', '\x02', '\0', '\0', '\0', '\x1c', '\0', '\0', '\0', '\x1c'};
        for (int k = 0; k < 2 * 784; ++k) images += char(k % 256);
        write(dir + "/train-images-idx3-ubyte", reinterpret_cast<const std::uint8_t*>(images.data()), images.size());
        return dir;
    }();
    write(fashion + "/train-labels-idx1-ubyte", data + 1, size - 1);
    expect_ok_or_error([&] {
        const xg::Dataset<float> d = xg::load_fashion_mnist<float>(xg::FashionMnistSplit::train, 1 + (how >> 4), fashion);
        if (d.size() != std::min<std::size_t>(2, 1 + (how >> 4)) || d.features() != 784) broken("Fashion-MNIST of the wrong size");
        for (float y : d.Y) {
            if (!(y >= 0 && y <= 9 && y == std::floor(y))) broken("a Fashion-MNIST label outside 0 ... 9");
        }
        for (float x : d.X) {
            if (!(x >= 0 && x <= 1)) broken("a Fashion-MNIST pixel outside [0, 1]");
        }
    });
    return 0;
}

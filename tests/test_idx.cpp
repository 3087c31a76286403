// IDX files (plain and gzip) and the Fashion-MNIST loader: every element
// type and dimension count, partial loads, every malformed file as an
// IoError naming it, and the real data set when Debian's
// dataset-fashion-mnist is installed.
#include <doctest/doctest.h>
#include <zlib.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include <xgrad/xgrad.hpp>

#include "temp_files.hpp"

using xgt::has;
using xgt::TempDir;
using xgt::thrown;
using xgt::write_bytes;

namespace {

// ---- writing IDX files --------------------------------------------------------------

std::string be(std::uint64_t v, std::size_t w) {
    std::string s(w, '\0');
    for (std::size_t k = 0; k < w; ++k) s[w - 1 - k] = char((v >> (8 * k)) & 0xff);
    return s;
}

/// The header: two zero bytes, the type, the dimension count, the sizes.
std::string idx_header(unsigned char type, const std::vector<std::uint32_t>& dims) {
    std::string s = {'\0', '\0', char(type), char(dims.size())};
    for (std::uint32_t d : dims) s += be(d, 4);
    return s;
}

/// Values as the file stores them, big-endian, for each element type.
std::string payload(unsigned char type, const std::vector<double>& values) {
    std::string s;
    for (double v : values) {
        switch (type) {
            case 0x08: s += char(std::uint8_t(v)); break;
            case 0x09: s += char(std::int8_t(v)); break;
            case 0x0B: s += be(std::uint16_t(std::int16_t(v)), 2); break;
            case 0x0C: s += be(std::uint32_t(std::int32_t(v)), 4); break;
            case 0x0D: {
                const float f = float(v);
                std::uint32_t bits;
                std::memcpy(&bits, &f, 4);
                s += be(bits, 4);
                break;
            }
            default: {
                std::uint64_t bits;
                std::memcpy(&bits, &v, 8);
                s += be(bits, 8);
            }
        }
    }
    return s;
}

std::string idx_file(unsigned char type, const std::vector<std::uint32_t>& dims, const std::vector<double>& values) {
    return idx_header(type, dims) + payload(type, values);
}

/// The bytes gzip would write for `raw` (one member), through zlib.
std::string gzip(const std::string& raw) {
    z_stream z{};
    REQUIRE(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    std::string out(deflateBound(&z, uLong(raw.size())) + 64, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
    z.avail_in = uInt(raw.size());
    z.next_out = reinterpret_cast<Bytef*>(&out[0]);
    z.avail_out = uInt(out.size());
    REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

/// The IoError message of loading `path` as doubles.
std::string load_error(const std::string& path, std::size_t max_items = std::numeric_limits<std::size_t>::max()) {
    return thrown<xg::IoError>([&] { xg::load_idx<double>(path, max_items); });
}

struct TypeCase {
    unsigned char byte;
    xg::IdxType type;
    const char* name;
    std::vector<double> values;  // exactly representable in the type and in float
};

const std::vector<TypeCase> type_cases = {
    {0x08, xg::IdxType::u8, "unsigned byte", {0, 1, 127, 128, 200, 255}},
    {0x09, xg::IdxType::i8, "signed byte", {-128, -1, 0, 1, 100, 127}},
    {0x0B, xg::IdxType::i16, "int16", {-32768, -258, 0, 258, 1000, 32767}},
    {0x0C, xg::IdxType::i32, "int32", {-2147483648.0, -65539, 0, 65539, 16777216, 2147483520.0}},
    {0x0D, xg::IdxType::f32, "float32", {-3.5e38, -0.25, 0, 1.5, 1e-30, 3.0e38}},
    {0x0E, xg::IdxType::f64, "float64", {-2.5, -1e-300, 0, 0.1, 1e300, 3.0}},
};

}  // namespace

TEST_CASE("every element type, plain and gzip, reads back its values as double and float") {
    TempDir dir;
    for (const TypeCase& c : type_cases) {
        CAPTURE(c.name);
        const std::string raw = idx_file(c.byte, {2, 3}, c.values);
        write_bytes(dir / "a.idx", raw);
        write_bytes(dir / "a.idx.gz", gzip(raw));
        for (const std::string name : {"a.idx", "a.idx.gz"}) {
            CAPTURE(name);
            const xg::IdxInfo info = xg::idx_info(dir / name);
            CHECK(info.type == c.type);
            CHECK(xg::to_string(info.type) == c.name);
            CHECK(info.dims == std::vector<std::size_t>{2, 3});
            CHECK(info.gzip == (name == "a.idx.gz"));
            const xg::IdxArray<double> a = xg::load_idx<double>(dir / name);
            REQUIRE(xg::shape_of(a.values) == xg::Shape{2, 3});
            for (std::size_t e = 0; e < 6; ++e) {
                const double want = c.byte == 0x0D ? double(float(c.values[e])) : c.values[e];
                CHECK(a.values(e / 3, e % 3) == want);
            }
            if (c.byte != 0x0E) {  // 1e300 does not fit a float (tested below)
                const xg::IdxArray<float> f = xg::load_idx<float>(dir / name);
                for (std::size_t e = 0; e < 6; ++e) CHECK(f.values(e / 3, e % 3) == float(c.values[e]));
            }
        }
    }
}

TEST_CASE("one, two and three dimensions: the file's order, and columns() as examples") {
    TempDir dir;
    // 1-D: labels; a 1 x m row as columns().
    write_bytes(dir / "labels", idx_file(0x08, {5}, {3, 1, 4, 1, 5}));
    const auto labels = xg::load_idx<double>(dir / "labels");
    CHECK(labels.info.dims == std::vector<std::size_t>{5});
    CHECK(labels.info.items() == 5);
    CHECK(labels.info.item_size() == 1);
    CHECK(labels.values == xg::Matrix<double>{{3}, {1}, {4}, {1}, {5}});
    CHECK(labels.columns() == xg::Matrix<double>{{3, 1, 4, 1, 5}});

    // 2-D: rows.
    write_bytes(dir / "m", idx_file(0x0C, {2, 3}, {1, 2, 3, 4, 5, 6}));
    const auto m = xg::load_idx<double>(dir / "m");
    CHECK(m.values == xg::Matrix<double>{{1, 2, 3}, {4, 5, 6}});
    CHECK(m.columns() == xg::Matrix<double>{{1, 4}, {2, 5}, {3, 6}});

    // 3-D: two 2 x 3 "images", each a row of 6 pixels row by row; one per column.
    std::vector<double> px;
    for (int i = 0; i < 12; ++i) px.push_back(10 * i);
    write_bytes(dir / "img.gz", gzip(idx_file(0x08, {2, 2, 3}, px)));
    const auto img = xg::load_idx<float>(dir / "img.gz");
    CHECK(img.info.dims == std::vector<std::size_t>{2, 2, 3});
    CHECK(img.info.item_size() == 6);
    CHECK(img.values == xg::Matrix<float>{{0, 10, 20, 30, 40, 50}, {60, 70, 80, 90, 100, 110}});
    const xg::Matrix<float> X = img.columns();
    REQUIRE(xg::shape_of(X) == xg::Shape{6, 2});
    CHECK(X(1 * 3 + 2, 1) == 110);  // image 1, pixel (1, 2)
    CHECK(X(0 * 3 + 1, 0) == 10);   // image 0, pixel (0, 1)

    // No items at all.
    write_bytes(dir / "empty", idx_file(0x08, {0, 28, 28}, {}));
    const auto e = xg::load_idx<double>(dir / "empty");
    CHECK(xg::shape_of(e.values) == xg::Shape{0, 784});
}

TEST_CASE("a partial load reads the first items, plain and gzip, and checks what it can without reading on") {
    TempDir dir;
    std::vector<double> v;
    for (int i = 0; i < 4 * 6; ++i) v.push_back(i);
    const std::string raw = idx_file(0x0B, {4, 2, 3}, v);
    write_bytes(dir / "a", raw);
    write_bytes(dir / "a.gz", gzip(raw));
    // Two gzip members one after the other: one stream of data for gzip -d.
    write_bytes(dir / "two.gz", gzip(raw.substr(0, 20)) + gzip(raw.substr(20)));
    for (const std::string name : {"a", "a.gz", "two.gz"}) {
        CAPTURE(name);
        const auto p = xg::load_idx<double>(dir / name, 2);
        CHECK(p.info.dims == std::vector<std::size_t>{2, 2, 3});
        REQUIRE(xg::shape_of(p.values) == xg::Shape{2, 6});
        CHECK(p.values(1, 5) == 11);
        CHECK(xg::load_idx<double>(dir / name, 100).values == xg::load_idx<double>(dir / name).values);
        CHECK(xg::shape_of(xg::load_idx<double>(dir / name, 0).values) == xg::Shape{0, 6});
    }
    // Damage after the items a partial load reads is still found: a plain
    // file by its size, a gzip file by its trailer.
    write_bytes(dir / "cut", raw.substr(0, raw.size() - 1));
    CHECK(has(load_error(dir / "cut", 1), "truncated: 48 data bytes expected (4x2x3 int16 values after the 16-byte header), 47 found"));
    const std::string gz = gzip(raw);
    write_bytes(dir / "cut.gz", gz.substr(0, gz.size() - 3));
    CHECK(has(load_error(dir / "cut.gz", 1), "truncated gzip stream"));
    write_bytes(dir / "short.gz", gzip(raw.substr(0, raw.size() - 2)));
    CHECK(has(load_error(dir / "short.gz", 1), "truncated: 48 data bytes expected (4x2x3 int16 values after the 16-byte header), 46 found"));
    write_bytes(dir / "long.gz", gzip(raw + "xy"));
    CHECK(has(load_error(dir / "long.gz", 1), "trailing bytes: 48 data bytes expected (4x2x3 int16 values after the 16-byte header), 50 found"));
}

TEST_CASE("malformed IDX files are IoErrors naming the file and the problem") {
    TempDir dir;
    const auto bad = [&](const std::string& name, const std::string& bytes) {
        write_bytes(dir / name, bytes);
        return dir / name;
    };
    const auto check_both = [&](const std::string& name, const std::string& raw, const std::string& what) {
        CAPTURE(name);
        const std::string plain = bad(name, raw), gz = bad(name + ".gz", gzip(raw));
        const std::string e1 = load_error(plain), e2 = load_error(gz);
        CHECK(has(e1, plain + ": "));
        CHECK(has(e1, what));
        CHECK(has(e2, gz + ": "));
        CHECK(has(e2, what));
        // idx_info reads the header alone and refuses the same headers.
        if (raw.size() < 16 || what.find("data bytes") == std::string::npos) {
            CHECK(has(thrown<xg::IoError>([&] { xg::idx_info(plain); }), what));
        }
    };
    CHECK(has(load_error(dir / "missing.idx"), dir / "missing.idx" + ": cannot open"));
    CHECK(has(load_error(dir.path().string()), "is a directory"));
    CHECK(has(load_error(bad("empty", "")), "empty file, not an IDX file"));
    CHECK(has(load_error(bad("empty_stream.gz", gzip(""))), "empty gzip stream: no IDX header"));
    check_both("pgm", "P5\n28 28\n255\n", "not an IDX file: it starts with the bytes 0x50 0x35");
    check_both("type", idx_header(0x0A, {3}) + "abc", "unknown IDX element type 0x0a");
    check_both("dims0", idx_header(0x08, {}), "gives 0 dimensions; xgrad reads IDX files of 1 to 3");
    check_both("dims4", idx_header(0x08, {1, 1, 1, 1}) + "x", "gives 4 dimensions; xgrad reads IDX files of 1 to 3");
    check_both("header", idx_header(0x08, {2, 3}).substr(0, 9), "truncated IDX header: 2 dimensions take 8 bytes of sizes, 5 found");
    check_both("three", std::string(3, '\0'), "truncated IDX header: 3 bytes");
    check_both("overflow", idx_header(0x0E, {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}),
               "the IDX sizes 4294967295x4294967295x4294967295 are too large (their product overflows)");
    check_both("short", idx_file(0x0C, {2, 3}, {1, 2, 3, 4, 5, 6}).substr(0, 30),
               "truncated: 24 data bytes expected (2x3 int32 values after the 12-byte header), 18 found");
    check_both("long", idx_file(0x08, {2, 3}, {1, 2, 3, 4, 5, 6}) + "\n",
               "trailing bytes: 6 data bytes expected (2x3 unsigned byte values after the 12-byte header), 7 found");

    // float64 values beyond float's range refuse to become infinities; NaN stays NaN.
    const std::string big = bad("big", idx_file(0x0E, {3}, {1, -1e300, 2}));
    CHECK(has(thrown<xg::IoError>([&] { xg::load_idx<float>(big); }),
              big + ": value 1 (item 1, offset 0) = -1e+300 is out of the range of float32"));
    CHECK(xg::load_idx<double>(big).values(1, 0) == -1e300);
    const auto nan = xg::load_idx<float>(bad("nan", idx_file(0x0E, {2}, {std::nan(""), 1})));
    CHECK(std::isnan(nan.values(0, 0)));
}

TEST_CASE("broken gzip streams are IoErrors naming the file") {
    TempDir dir;
    std::vector<double> v;
    for (int i = 0; i < 3000; ++i) v.push_back((i * 7919) % 251);
    const std::string raw = idx_file(0x08, {3000}, v), gz = gzip(raw);
    const auto err = [&](const std::string& name, const std::string& bytes) {
        write_bytes(dir / name, bytes);
        const std::string e = load_error(dir / name);
        CHECK(has(e, dir / name + ": "));
        return e;
    };
    // Cut short: within the compressed data, and within the 8-byte trailer.
    CHECK(has(err("cut.gz", gz.substr(0, gz.size() / 2)), "truncated gzip stream: the file ends before its compressed data does"));
    CHECK(has(err("cut_trailer.gz", gz.substr(0, gz.size() - 3)), "truncated gzip stream"));
    // Damaged: a bad block, a wrong CRC, a wrong length, a bad header.
    std::string block = gz;
    block[10] = char(0xff);  // the first deflate block's header: an invalid block type
    CHECK(has(err("block.gz", block), "corrupt gzip stream: "));
    std::string crc = gz;
    crc[gz.size() - 8] ^= 1;
    CHECK(has(err("crc.gz", crc), "corrupt gzip stream: incorrect data check"));
    std::string len = gz;
    len[gz.size() - 4] ^= 1;
    CHECK(has(err("len.gz", len), "corrupt gzip stream: incorrect length check"));
    std::string method = gz;
    method[2] = 7;  // compression method other than deflate
    CHECK(has(err("method.gz", method), "corrupt gzip stream: unknown compression method"));
    // Bytes after the stream that are not another member.
    CHECK(has(err("garbage.gz", gz + "garbage"), "corrupt gzip file: 7 bytes follow the end of the compressed data"));
    CHECK(has(err("zeros.gz", gz + std::string(4, '\0')), "4 bytes follow the end of the compressed data"));
    // A header promising far more than the file could ever decompress to.
    const std::string huge = gzip(idx_header(0x08, {100000, 1000, 1000}));
    CHECK(has(err("huge.gz", huge), "truncated: the header calls for 100000000000 data bytes"));
    CHECK(has(thrown<xg::IoError>([&] { xg::idx_info(dir / "huge.gz"); }), "decompresses to at most"));
    // The intact file loads.
    write_bytes(dir / "ok.gz", gz);
    CHECK(xg::load_idx<double>(dir / "ok.gz").values(2999, 0) == v[2999]);
}

// ---- Fashion-MNIST ---------------------------------------------------------------------

namespace {

double pixel(std::size_t image, std::size_t r, std::size_t c) {
    return double((image * 31 + r * 7 + c * 3) % 256);
}

/// A small data set in the files of Fashion-MNIST: `n` images with labels.
void write_fashion(const TempDir& dir, const std::string& prefix, const std::vector<double>& labels, bool gz = true,
                   std::uint32_t side = 28) {
    std::vector<double> px;
    for (std::size_t j = 0; j < labels.size(); ++j)
        for (std::size_t r = 0; r < side; ++r)
            for (std::size_t c = 0; c < side; ++c) px.push_back(pixel(j, r, c));
    const std::string images = idx_file(0x08, {std::uint32_t(labels.size()), side, side}, px);
    const std::string lab = idx_file(0x08, {std::uint32_t(labels.size())}, labels);
    write_bytes(dir / (prefix + "-images-idx3-ubyte" + (gz ? ".gz" : "")), gz ? gzip(images) : images);
    write_bytes(dir / (prefix + "-labels-idx1-ubyte" + (gz ? ".gz" : "")), gz ? gzip(lab) : lab);
}

}  // namespace

TEST_CASE("Fashion-MNIST's files: images as scaled columns, labels as a row, the first N only") {
    TempDir dir;
    write_fashion(dir, "train", {9, 0, 3, 7, 2});
    write_fashion(dir, "t10k", {1, 8, 6}, /*gz=*/false);
    const auto train = xg::load_fashion_mnist<double>(xg::FashionMnistSplit::train, 1000, dir.path().string());
    CHECK(train.size() == 5);
    CHECK(train.features() == 784);
    CHECK(train.classes == 10);
    CHECK(train.Y == xg::Matrix<double>{{9, 0, 3, 7, 2}});
    for (std::size_t j = 0; j < 5; ++j)
        for (std::size_t r : {0, 5, 27})
            for (std::size_t c : {0, 13, 27}) CHECK(train.X(r * 28 + c, j) == pixel(j, r, c) / 255);
    const auto test = xg::load_fashion_mnist<float>(xg::FashionMnistSplit::test, 1000, dir.path().string());
    CHECK(test.Y == xg::Matrix<float>{{1, 8, 6}});
    CHECK(test.X(2 * 28 + 3, 1) == float(pixel(1, 2, 3)) / 255);
    const auto first2 = xg::load_fashion_mnist<float>(xg::FashionMnistSplit::train, 2, dir.path().string());
    CHECK(first2.size() == 2);
    CHECK(first2.Y == xg::Matrix<float>{{9, 0}});
    CHECK(first2.X(100, 1) == float(train.X(100, 1)));

    CHECK(xg::fashion_mnist_classes().size() == 10);
    CHECK(xg::fashion_mnist_classes()[0] == "T-shirt/top");
    CHECK(xg::fashion_mnist_classes()[9] == "Ankle boot");
    CHECK(xg::fashion_mnist_dir() == "/usr/share/datasets/fashion-mnist");
}

TEST_CASE("Fashion-MNIST's checks: missing files, labels out of range, counts, shapes") {
    TempDir dir;
    const std::string d = dir.path().string();
    const auto load = [&](std::size_t n = 1000) {
        return thrown<xg::IoError>([&] { xg::load_fashion_mnist<float>(xg::FashionMnistSplit::train, n, d); });
    };
    const std::string missing = load();
    CHECK(has(missing, dir / "train-images-idx3-ubyte.gz: no such file (nor train-images-idx3-ubyte beside it)"));
    CHECK(has(missing, "dataset-fashion-mnist"));
    const std::string missing_test =
        thrown<xg::IoError>([&] { xg::load_fashion_mnist<float>(xg::FashionMnistSplit::test, 10, d); });
    CHECK(has(missing_test, dir / "t10k-images-idx3-ubyte.gz"));

    write_fashion(dir, "train", {1, 2, 12, 3});
    CHECK(has(load(), dir / "train-labels-idx1-ubyte.gz: label 2 (counting from 0) is 12; Fashion-MNIST's classes are 0 ... 9"));
    CHECK(xg::load_fashion_mnist<float>(xg::FashionMnistSplit::train, 2, d).size() == 2);  // the bad label is not read

    write_fashion(dir, "train", {1, 2, 3});
    write_bytes(dir / "train-labels-idx1-ubyte.gz", gzip(idx_file(0x08, {2}, {1, 2})));
    CHECK(has(load(), dir / "train-labels-idx1-ubyte.gz: 2 labels for the 3 images of " + dir / "train-images-idx3-ubyte.gz"));

    write_fashion(dir, "train", {1, 2}, true, 27);
    CHECK(has(load(), dir / "train-images-idx3-ubyte.gz: Fashion-MNIST images must be n x 28 x 28 unsigned bytes, the file holds 2x27x27 unsigned byte values"));

    write_fashion(dir, "train", {1, 2});
    write_bytes(dir / "train-labels-idx1-ubyte.gz", gzip(idx_file(0x0C, {2}, {1, 2})));
    CHECK(has(load(), "Fashion-MNIST labels must be n unsigned bytes (one dimension), the file holds 2 int32 values"));

    write_fashion(dir, "train", {1, 2});
    CHECK(has(thrown<xg::ValueError>([&] { xg::load_fashion_mnist<float>(xg::FashionMnistSplit::train, 0, d); }),
              "max_examples must be at least 1"));
}

TEST_CASE("the real Fashion-MNIST of Debian's dataset-fashion-mnist") {
    if (!std::filesystem::exists(xg::fashion_mnist_dir() + "/train-images-idx3-ubyte.gz")) {
        MESSAGE("dataset-fashion-mnist is not installed (scripts/setup installs it): not tested");
        return;
    }
    const auto train = xg::load_fashion_mnist<float>(xg::FashionMnistSplit::train);
    const auto test = xg::load_fashion_mnist<float>(xg::FashionMnistSplit::test);
    REQUIRE(train.size() == 60000);
    REQUIRE(test.size() == 10000);
    CHECK(train.features() == 784);
    std::vector<std::size_t> count_train(10), count_test(10);
    for (float y : train.Y) ++count_train[std::size_t(y)];
    for (float y : test.Y) ++count_test[std::size_t(y)];
    CHECK(count_train == std::vector<std::size_t>(10, 6000));
    CHECK(count_test == std::vector<std::size_t>(10, 1000));

    // Values read independently with Python's gzip module.
    CHECK(train.Y(0, 0) == 9);  // an ankle boot
    CHECK(train.Y(0, 1) == 0);
    CHECK(train.Y(0, 3) == 3);
    CHECK(train.Y(0, 59999) == 5);
    CHECK(test.Y(0, 0) == 9);
    CHECK(test.Y(0, 4) == 6);
    CHECK(train.X(3 * 28 + 16, 0) == 73.0f / 255);  // image 0, row 3, column 16
    CHECK(train.X(14 * 28 + 12, 0) == 237.0f / 255);
    CHECK(train.X(14 * 28 + 25, 0) == 1.0f);  // 255
    CHECK(test.X(7 * 28 + 25, 0) == 37.0f / 255);
    long sum = 0;  // of image 0's bytes
    for (std::size_t k = 0; k < 784; ++k) sum += std::lround(double(train.X(k, 0)) * 255);
    CHECK(sum == 76247);

    // The first 100 alone are the same examples.
    const auto part = xg::load_fashion_mnist<double>(xg::FashionMnistSplit::train, 100);
    REQUIRE(part.size() == 100);
    for (std::size_t j : {0, 57, 99}) {
        CHECK(part.Y(0, j) == train.Y(0, j));
        for (std::size_t k = 0; k < 784; k += 97) CHECK(float(part.X(k, j)) == train.X(k, j));
    }

    // The IDX files themselves.
    const xg::IdxInfo info = xg::idx_info(xg::fashion_mnist_dir() + "/t10k-images-idx3-ubyte.gz");
    CHECK(info.dims == std::vector<std::size_t>{10000, 28, 28});
    CHECK(info.type == xg::IdxType::u8);
    CHECK(info.gzip);
}

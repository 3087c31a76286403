// .npy and CSV files: exact round trips, interoperability with xtensor's own
// .npy code, a clear IoError for every kind of broken file, atomic writes,
// and parameter checkpoints that load all or nothing.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/resource.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include <xtensor/xnpy.hpp>

#include "helpers.hpp"
#include "temp_files.hpp"

using xg::Matrix;
using namespace xgt;

namespace {

/// A .npy file from a header dictionary and raw data (format 1.0, or 2.0
/// with a 4-byte header length), padded as numpy pads it.
std::string npy_file(const std::string& dict, const std::string& data, int version = 1) {
    std::string header = dict;
    const std::size_t pre = 8 + (version == 1 ? 2 : 4);
    while ((pre + header.size() + 1) % 64 != 0) header += ' ';
    header += '\n';
    std::string out = "\x93NUMPY";
    out += char(version);
    out += '\0';
    const std::size_t n = header.size();
    out += char(n & 0xff);
    out += char((n >> 8) & 0xff);
    if (version != 1) out += std::string(2, '\0');
    return out + header + data;
}

template <class V>
std::string raw(std::initializer_list<V> values) {
    std::string s;
    for (V v : values) s.append(reinterpret_cast<const char*>(&v), sizeof v);
    return s;
}

template <class T>
bool same_bits(const Matrix<T>& a, const Matrix<T>& b) {
    return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

/// Values that a lossy writer would change: tiny, huge, subnormal, −0, many digits.
template <class T>
Matrix<T> awkward(std::size_t r, std::size_t c, std::mt19937_64& rng) {
    Matrix<T> m = randn<T>(r, c, rng, 1.0);
    const T specials[] = {T(0.1),
                          T(-0.0),
                          std::numeric_limits<T>::denorm_min(),
                          std::numeric_limits<T>::max(),
                          std::numeric_limits<T>::lowest(),
                          std::numeric_limits<T>::epsilon(),
                          T(1) / T(3),
                          T(-1e-30)};
    for (std::size_t k = 0; k < std::min<std::size_t>(m.size(), 8); ++k) m.data()[k] = specials[k];
    return m;
}

}  // namespace

TEST_CASE_TEMPLATE("save_npy then load_npy gives back every bit", T, float, double) {
    TempDir dir;
    std::mt19937_64 rng(11);
    for (auto [r, c] : {std::pair<std::size_t, std::size_t>{1, 1}, {3, 7}, {1, 400}, {64, 2}}) {
        const Matrix<T> m = awkward<T>(r, c, rng);
        xg::save_npy(dir / "m.npy", m);
        CHECK(same_bits(xg::load_npy<T>(dir / "m.npy"), m));
    }
}

TEST_CASE("the .npy files xgrad writes follow numpy's layout and xtensor reads them; xgrad reads xtensor's") {
    TempDir dir;
    std::mt19937_64 rng(12);
    const Matrix<double> m = awkward<double>(5, 3, rng);
    xg::save_npy(dir / "m.npy", m);
    const std::string bytes = read_bytes(dir / "m.npy");
    CHECK(bytes.compare(0, 8, std::string("\x93NUMPY\x01\x00", 8)) == 0);
    const std::size_t header_len =
        std::size_t(static_cast<unsigned char>(bytes[8])) | (std::size_t(static_cast<unsigned char>(bytes[9])) << 8);
    CHECK((10 + header_len) % 64 == 0);  // numpy aligns the data to 64 bytes
    CHECK(has(bytes.substr(10, header_len), "{'descr': '<f8', 'fortran_order': False, 'shape': (5, 3), }"));
    CHECK(bytes.size() == 10 + header_len + 15 * sizeof(double));

    // xtensor's reader on our file.
    const auto back = xt::load_npy<double>(dir / "m.npy");
    REQUIRE(back.dimension() == 2);
    CHECK(std::memcmp(back.data(), m.data(), 15 * sizeof(double)) == 0);

    // Our reader on xtensor's file (float32 and int64 too).
    const Matrix<float> f = randn<float>(2, 9, rng);
    xt::dump_npy(dir / "f.npy", f);
    CHECK(same_bits(xg::load_npy<float>(dir / "f.npy"), f));
    xt::xtensor<std::int64_t, 1> ints = {3, -1, 7, 0};
    xt::dump_npy(dir / "i.npy", ints);
    CHECK(xg::load_npy<double>(dir / "i.npy") == Matrix<double>{{3, -1, 7, 0}});
}

TEST_CASE("load_npy reads the dtypes, orders, ranks and versions numpy writes") {
    TempDir dir;
    const auto load = [&](const std::string& dict, const std::string& data, int version = 1) {
        write_bytes(dir / "a.npy", npy_file(dict, data, version));
        return xg::load_npy<double>(dir / "a.npy");
    };
    // Labels saved as np.array([0, 1, 1]) (int64, 1-D) load as one row.
    CHECK(load("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", raw<std::int64_t>({0, 1, 1})) ==
          Matrix<double>{{0, 1, 1}});
    // Fortran order: the data is column by column.
    CHECK(load("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", raw<double>({1, 4, 2, 5, 3, 6})) ==
          Matrix<double>{{1, 2, 3}, {4, 5, 6}});
    CHECK(load("{'descr': '|b1', 'fortran_order': False, 'shape': (1, 3), }", std::string("\x01\x00\x01", 3)) ==
          Matrix<double>{{1, 0, 1}});
    CHECK(load("{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }", std::string("\xff\x02", 2)) ==
          Matrix<double>{{255, 2}});
    CHECK(load("{'descr': '<i2', 'fortran_order': False, 'shape': (2,), }", raw<std::int16_t>({-300, 7})) ==
          Matrix<double>{{-300, 7}});
    CHECK(load("{'descr': '<u4', 'fortran_order': False, 'shape': (1,), }", raw<std::uint32_t>({4000000000u})) ==
          Matrix<double>{{4e9}});
    CHECK(load("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", raw<float>({2.5f})) == Matrix<double>{{2.5}});
    // Keys in any order, format 2.0, double quotes.
    CHECK(load("{\"shape\": (1, 2), \"fortran_order\": False, \"descr\": \"<f8\"}", raw<double>({-1, 8}), 2) ==
          Matrix<double>{{-1, 8}});
    const xg::NpyInfo info = [&] {
        write_bytes(dir / "b.npy", npy_file("{'descr': '<i4', 'fortran_order': False, 'shape': (7,), }",
                                            raw<std::int32_t>({1, 2, 3, 4, 5, 6, 7})));
        return xg::npy_info(dir / "b.npy");
    }();
    CHECK(info.descr == "<i4");
    CHECK(info.dims == std::vector<std::size_t>{7});
    CHECK(info.shape == xg::Shape{1, 7});
}

TEST_CASE("every kind of broken .npy file is an IoError naming the file and what is wrong") {
    TempDir dir;
    const std::string path = dir / "bad.npy";
    const std::string good_dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }";
    const std::string good_data = raw<double>({1, 2, 3, 4});
    const auto error_for = [&](const std::string& bytes, bool header_error = true) {
        write_bytes(path, bytes);
        const std::string msg = thrown<xg::IoError>([&] { xg::load_npy<double>(path); });
        CHECK(has(msg, path + ": "));
        // npy_info checks the header and the size the same way, without reading the data.
        if (header_error) CHECK(thrown<xg::IoError>([&] { xg::npy_info(path); }) == msg);
        return msg;
    };
    CHECK(has(error_for(""), "empty file"));
    CHECK(has(error_for("PK\x03\x04 a zip file, not an array"), "not a .npy file"));
    std::string v9 = npy_file(good_dict, good_data);
    v9[6] = '\x09';
    CHECK(has(error_for(v9), "unsupported .npy format version 9.0"));
    std::string long_header = npy_file(good_dict, good_data);
    long_header[9] = '\x7f';  // header length far beyond the end of the file
    CHECK(has(error_for(long_header), "truncated .npy header"));
    CHECK(has(error_for(npy_file("['descr', '<f8']", good_data)), "corrupt .npy header"));
    CHECK(has(error_for(npy_file("{'descr': '<f8', 'shape': (2, 2), }", good_data)), "no 'fortran_order'"));
    CHECK(has(error_for(npy_file("{'descr': '<f8', 'fortran_order': maybe, 'shape': (2, 2), }", good_data)),
              "neither True nor False"));
    CHECK(has(error_for(npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (2, x), }", good_data)),
              "not a tuple of sizes"));
    CHECK(has(error_for(npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), 'extra': 1}", good_data)),
              "unexpected key 'extra'"));
    CHECK(has(error_for(npy_file("{'descr': '<c16', 'fortran_order': False, 'shape': (2,), }", good_data)),
              "unsupported dtype '<c16'"));
    CHECK(has(error_for(npy_file("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", good_data)),
              "unsupported dtype '|O'"));
    CHECK(has(error_for(npy_file("{'descr': '<U3', 'fortran_order': False, 'shape': (2,), }", good_data)),
              "unsupported dtype '<U3'"));
    CHECK(has(error_for(npy_file("{'descr': '>f8', 'fortran_order': False, 'shape': (2, 2), }", good_data)),
              "big-endian"));
    CHECK(has(error_for(npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2, 2), }", good_data)),
              "3-D array (1, 2, 2)"));
    CHECK(has(error_for(npy_file(good_dict, good_data.substr(0, 24))),
              "truncated: the header promises (2, 2) float64 values (32 bytes of data) but only 24 bytes follow"));
    CHECK(has(error_for(npy_file(good_dict, good_data + "xx")), "2 bytes follow"));
    CHECK(has(error_for(npy_file("{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }", "\x01\x07"), false),
              "bool value 7"));

    const std::string missing = dir / "missing.npy";
    CHECK(has(thrown<xg::IoError>([&] { xg::load_npy<double>(missing); }), missing + ": cannot open"));
    CHECK(has(thrown<xg::IoError>([&] { xg::load_npy<double>(dir.path().string()); }), "is a directory"));
}

TEST_CASE("a .npy file cut at any length, or with any header byte changed, is read or refused, never misread") {
    TempDir dir;
    std::mt19937_64 rng(13);
    const Matrix<double> m = randn(3, 4, rng);
    xg::save_npy(dir / "m.npy", m);
    const std::string bytes = read_bytes(dir / "m.npy");
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        write_bytes(dir / "cut.npy", bytes.substr(0, n));
        CAPTURE(n);
        CHECK_THROWS_AS(xg::load_npy<double>(dir / "cut.npy"), xg::IoError);
    }
    // Flip each header byte to a few other values: either an IoError, or a
    // matrix holding exactly m's numbers (a harmless change such as padding).
    const std::size_t data_at = bytes.size() - 12 * sizeof(double);
    int refused = 0, read = 0;
    for (std::size_t k = 0; k < data_at; ++k) {
        for (unsigned char v : {0x00, 0x20, 0x27, 0x29, 0x31, 0x7f, 0xff}) {
            std::string b = bytes;
            if (static_cast<unsigned char>(b[k]) == v) continue;
            b[k] = char(v);
            write_bytes(dir / "flip.npy", b);
            try {
                const Matrix<double> got = xg::load_npy<double>(dir / "flip.npy");
                CHECK(got.size() == m.size());
                std::vector<double> a(got.begin(), got.end()), e(m.begin(), m.end());
                std::sort(a.begin(), a.end());
                std::sort(e.begin(), e.end());
                CHECK(a == e);
                ++read;
            } catch (const xg::IoError&) {
                ++refused;
            }
        }
    }
    CHECK(refused > 0);
    CHECK(read > 0);
}

TEST_CASE_TEMPLATE("save_csv then load_csv gives back every value exactly", T, float, double) {
    TempDir dir;
    std::mt19937_64 rng(14);
    Matrix<T> m = awkward<T>(6, 5, rng);
    m(5, 4) = std::numeric_limits<T>::min();
    xg::save_csv(dir / "m.csv", m);
    CHECK(same_bits(xg::load_csv<T>(dir / "m.csv"), m));
    xg::save_matrix(dir / "m.txt", m);
    CHECK(same_bits(xg::load_matrix<T>(dir / "m.txt"), m));
    xg::save_csv(dir / "semi.csv", m, ';');
    CHECK(same_bits(xg::load_csv<T>(dir / "semi.csv", ';'), m));
}

TEST_CASE("load_csv: headers, comments, blank lines, CRLF, blanks and quotes around numbers") {
    TempDir dir;
    write_bytes(dir / "a.csv", "x1,x2,x3\r\n# a comment\r\n 1, 2.5 ,-3e2\r\n\r\n\"4\",5,6\r\n   \n7,8,9");
    CHECK(xg::load_csv<double>(dir / "a.csv", ',', 1) == Matrix<double>{{1, 2.5, -300}, {4, 5, 6}, {7, 8, 9}});
    write_bytes(dir / "t.csv", "1\t2\n3\t4\n");
    CHECK(xg::load_csv<double>(dir / "t.csv", '\t') == Matrix<double>{{1, 2}, {3, 4}});
}

TEST_CASE("broken CSV files are IoErrors naming the file, the line and the column") {
    TempDir dir;
    const std::string path = dir / "bad.csv";
    const auto error_for = [&](const std::string& text) {
        write_bytes(path, text);
        const std::string msg = thrown<xg::IoError>([&] { xg::load_csv<double>(path); });
        CHECK(has(msg, path + ": "));
        return msg;
    };
    CHECK(has(error_for("1,2\n3,4\n5\n"), "line 3 has 1 values, line 1 has 2 (rows of different lengths)"));
    CHECK(has(error_for("1,2\n3,abc\n"), "line 2, column 2: 'abc' is not a number"));
    CHECK(has(error_for("1,2\n3,4x\n"), "'4x' is not a number"));
    CHECK(has(error_for("1,,2\n"), "line 1, column 2: empty cell"));
    CHECK(has(error_for("1,2,\n"), "column 3: empty cell"));
    CHECK(has(error_for("1,1e999\n"), "'1e999' is not a number"));
    CHECK(has(error_for("x,y\n1,2\n"), "a header line? skip it with skip_rows = 1"));
    CHECK(has(error_for(""), "no data"));
    CHECK(has(error_for("# only\n\n"), "no data"));
    CHECK(has(thrown<xg::IoError>([&] { xg::load_matrix<double>(dir / "x.json"); }),
              "unknown file type '.json': expected .npy, .csv or .txt"));
}

TEST_CASE("writes are atomic: a failed write leaves the old file, no temporary is left behind") {
    TempDir dir;
    const Matrix<double> old_value{{1, 2}};
    xg::save_npy(dir / "m.npy", old_value);
    const std::string before = read_bytes(dir / "m.npy");

    // A write that fails half-way (file size limit): the old file stays whole.
    struct rlimit saved;
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved) == 0);
    struct rlimit small = saved;
    small.rlim_cur = 1000;
    auto* old_handler = ::signal(SIGXFSZ, SIG_IGN);
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
    std::mt19937_64 rng(15);
    const Matrix<double> big = randn(50, 50, rng);
    const std::string msg = thrown<xg::IoError>([&] { xg::save_npy(dir / "m.npy", big); });
    ::setrlimit(RLIMIT_FSIZE, &saved);
    ::signal(SIGXFSZ, old_handler);
    CHECK(has(msg, dir / "m.npy"));
    CHECK(has(msg, "cannot write"));
    CHECK(read_bytes(dir / "m.npy") == before);
    CHECK(dir.entries() == std::vector<std::string>{"m.npy"});

    // A successful write replaces it.
    xg::save_npy(dir / "m.npy", big);
    CHECK(same_bits(xg::load_npy<double>(dir / "m.npy"), big));
    CHECK(dir.entries() == std::vector<std::string>{"m.npy"});

    // A folder that does not exist: an IoError, nothing created.
    CHECK(has(thrown<xg::IoError>([&] { xg::save_csv(dir / "no/such/dir/m.csv", big); }), "cannot write"));
    CHECK(dir.entries() == std::vector<std::string>{"m.npy"});
}

TEST_CASE_TEMPLATE("save_parameters then load_parameters round-trips every bit, gradients untouched", T, float,
                   double) {
    TempDir dir;
    std::mt19937_64 rng(16);
    std::vector<xg::Parameter<T>> saved{xg::Parameter<T>(awkward<T>(4, 2, rng), "W1"),
                                        xg::Parameter<T>(awkward<T>(4, 1, rng), "b1"),
                                        xg::Parameter<T>(randn<T>(1, 4, rng), "W2")};
    // Non-finite values cannot be loaded; keep the awkward ones finite.
    for (auto& p : saved) {
        for (T& v : p.value()) {
            if (!std::isfinite(v)) v = T(0.5);
        }
    }
    xg::save_parameters(dir / "ckpt", saved);
    CHECK(dir.entries("ckpt") == std::vector<std::string>{"W1.npy", "W2.npy", "b1.npy"});

    std::vector<xg::Parameter<T>> fresh{xg::Parameter<T>(Matrix<T>(xt::zeros<T>({4, 2})), "W1"),
                                        xg::Parameter<T>(Matrix<T>(xt::zeros<T>({4, 1})), "b1"),
                                        xg::Parameter<T>(Matrix<T>(xt::zeros<T>({1, 4})), "W2")};
    fresh[0].grad().fill(T(7));
    const T* buffer = fresh[0].value().data();
    xg::load_parameters(dir / "ckpt", fresh);
    for (std::size_t i = 0; i < saved.size(); ++i) CHECK(same_bits(fresh[i].value(), saved[i].value()));
    CHECK(fresh[0].value().data() == buffer);  // loaded in place
    CHECK(fresh[0].grad()(0, 0) == T(7));
}

TEST_CASE("a failed load_parameters leaves every parameter untouched and names the file") {
    TempDir dir;
    std::mt19937_64 rng(17);
    const auto make = [&](double fill) {
        return std::vector<xg::Parameter<double>>{
            xg::Parameter<double>(Matrix<double>(xt::zeros<double>({3, 2})) + fill, "W"),
            xg::Parameter<double>(Matrix<double>(xt::zeros<double>({3, 1})) + fill, "b")};
    };
    xg::save_parameters(dir / "ok", make(1.0));
    const auto untouched = [](const std::vector<xg::Parameter<double>>& ps) {
        for (const auto& p : ps) {
            for (double v : p.value()) {
                if (v != 9.0) return false;
            }
        }
        return true;
    };

    // b.npy of the wrong shape: ShapeError; W (which was fine) not assigned either.
    xg::save_parameters(dir / "shape", make(1.0));
    xg::save_npy(dir / "shape/b.npy", Matrix<double>{{1, 2, 3}});
    auto ps = make(9.0);
    const std::string m1 = thrown<xg::ShapeError>([&] { xg::load_parameters(dir / "shape", ps); });
    CHECK(has(m1, dir / "shape/b.npy"));
    CHECK(has(m1, "holds a 1x3 matrix, but parameter b is 3x1"));
    CHECK(untouched(ps));

    // b.npy missing: IoError.
    xg::save_parameters(dir / "missing", make(1.0));
    std::filesystem::remove(dir / "missing/b.npy");
    CHECK(has(thrown<xg::IoError>([&] { xg::load_parameters(dir / "missing", ps); }), "b.npy: cannot open"));
    CHECK(untouched(ps));

    // b.npy truncated: IoError.
    xg::save_parameters(dir / "cut", make(1.0));
    const std::string b = read_bytes(dir / "cut/b.npy");
    write_bytes(dir / "cut/b.npy", b.substr(0, b.size() - 3));
    CHECK(has(thrown<xg::IoError>([&] { xg::load_parameters(dir / "cut", ps); }), "truncated"));
    CHECK(untouched(ps));

    // A NaN: ValueError.
    auto with_nan = make(1.0);
    with_nan[1].value()(2, 0) = std::nan("");
    xg::save_parameters(dir / "nan", with_nan);
    CHECK(has(thrown<xg::ValueError>([&] { xg::load_parameters(dir / "nan", ps); }), "b(2, 0) = nan is not finite"));
    CHECK(untouched(ps));

    // And the good checkpoint still loads.
    xg::load_parameters(dir / "ok", ps);
    CHECK(ps[0].value()(2, 1) == 1.0);
}

TEST_CASE("save_parameters: names must make file names; a failed save keeps the previous checkpoint") {
    TempDir dir;
    const Matrix<double> one{{1.0}};
    const auto names_error = [&](std::vector<xg::Parameter<double>> ps) {
        return thrown<xg::ValueError>([&] { xg::save_parameters(dir / "c", ps); });
    };
    CHECK(has(names_error({xg::Parameter<double>(one, "")}), "has the name ''"));
    CHECK(has(names_error({xg::Parameter<double>(one, "a/b")}), "has the name 'a/b'"));
    CHECK(has(names_error({xg::Parameter<double>(one, "..")}), "has the name '..'"));
    CHECK(has(names_error({xg::Parameter<double>(one, "W"), xg::Parameter<double>(one, "W")}),
              "two parameters are named 'W'"));
    CHECK(has(names_error({xg::Parameter<double>()}), "empty handle"));
    CHECK(!std::filesystem::exists(dir / "c"));

    // A checkpoint, then a save whose second file cannot be written: the
    // first file is not replaced either, and no temporary is left.
    std::vector<xg::Parameter<double>> ps{xg::Parameter<double>(one, "W"), xg::Parameter<double>(one, "b")};
    xg::save_parameters(dir / "c", ps);
    const std::string w_before = read_bytes(dir / "c/W.npy"), b_before = read_bytes(dir / "c/b.npy");
    std::mt19937_64 rng(18);
    std::vector<xg::Parameter<double>> next{xg::Parameter<double>(randn(2, 2, rng), "W"),
                                            xg::Parameter<double>(randn(60, 60, rng), "b")};
    struct rlimit saved;
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved) == 0);
    struct rlimit small = saved;
    small.rlim_cur = 4096;
    auto* old_handler = ::signal(SIGXFSZ, SIG_IGN);
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
    const std::string msg = thrown<xg::IoError>([&] { xg::save_parameters(dir / "c", next); });
    ::setrlimit(RLIMIT_FSIZE, &saved);
    ::signal(SIGXFSZ, old_handler);
    CHECK(has(msg, "b.npy: cannot write"));
    CHECK(read_bytes(dir / "c/W.npy") == w_before);
    CHECK(read_bytes(dir / "c/b.npy") == b_before);
    CHECK(dir.entries("c") == std::vector<std::string>{"W.npy", "b.npy"});
}

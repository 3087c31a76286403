// .npy and text files: exact round trips, interoperability with xtensor's
// own .npy code and numpy's savetxt, a clear IoError for every kind of broken
// file (with a message that says what to do), and atomic writes. Checkpoints
// are in test_checkpoint.cpp.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/stat.h>
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
    CHECK(has(error_for("1,1e999\n"),
              "line 1, column 2: 1e999 is out of the range of double (largest magnitude 1.7976931348623157e+308)"));
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

TEST_CASE("load_csv: a UTF-8 byte-order mark is skipped, UTF-16 text is refused") {
    TempDir dir;
    // As Excel ("CSV UTF-8") and Notepad save: the mark is not part of the first number.
    write_bytes(dir / "bom.csv", "\xef\xbb\xbf" "1,2\n3,4\n");
    CHECK(xg::load_csv<double>(dir / "bom.csv") == Matrix<double>{{1, 2}, {3, 4}});
    write_bytes(dir / "bom_header.csv", "\xef\xbb\xbf" "x1,x2\n1,2\n3,4\n");
    CHECK(xg::load_csv<double>(dir / "bom_header.csv", ',', 1) == Matrix<double>{{1, 2}, {3, 4}});
    write_bytes(dir / "utf16.csv", std::string("\xff\xfe" "1\0,\0" "2\0\n\0", 10));
    CHECK(thrown<xg::IoError>([&] { xg::load_csv<double>(dir / "utf16.csv"); }) ==
          dir / "utf16.csv" + ": is UTF-16 text (it starts with a UTF-16 byte-order mark); save it as UTF-8 or ASCII");
}

TEST_CASE("load_csv: a file with another delimiter, or a number out of range, says so, not 'a header line?'") {
    TempDir dir;
    const std::string path = dir / "d.csv";
    const auto error_for = [&](const std::string& text, char delimiter = ',') {
        write_bytes(path, text);
        return thrown<xg::IoError>([&] { xg::load_csv<double>(path, delimiter); });
    };
    CHECK(error_for("1;2;3\n4;5;6\n") == path + ": line 1, column 1: '1;2;3' is not a number; the line has no ',' but "
                                               "seems to use ';' between values: pass that delimiter, "
                                               "load_csv(path, ';')");
    CHECK(has(error_for("1\t2\n"), "seems to use tabs between values: pass that delimiter, load_csv(path, '\\t')"));
    CHECK(has(error_for("1.5 2 3\n"), "seems to use spaces between values: pass that delimiter, load_csv(path, ' ')"));
    CHECK(has(error_for("1,2\n", ';'), "the line has no ';' but seems to use ',' between values"));
    // Not numbers at all: the header hint, as before.
    CHECK(has(error_for("x;y\n1;2\n"), "'x;y' is not a number (a header line? skip it with skip_rows = 1)"));
    // Following the advice works.
    write_bytes(path, "1;2;3\n4;5;6\n");
    CHECK(xg::load_csv<double>(path, ';') == Matrix<double>{{1, 2, 3}, {4, 5, 6}});

    CHECK(error_for("1,2\n3,1e400\n") ==
          path + ": line 2, column 2: 1e400 is out of the range of double (largest magnitude 1.7976931348623157e+308)");
    CHECK(has(error_for("-1e400\n"), "line 1, column 1: -1e400 is out of the range of double"));
    write_bytes(path, "1e39,2\n");
    CHECK(thrown<xg::IoError>([&] { xg::load_csv<float>(path); }) ==
          path + ": line 1, column 1: 1e39 is out of the range of float (largest magnitude 3.4028235e+38)");
    // Underflow is a value (0 or a subnormal), as before.
    write_bytes(path, "1e-400,1e-310\n");
    const Matrix<double> tiny = xg::load_csv<double>(path);
    CHECK(tiny(0, 0) == 0.0);
    CHECK(tiny(0, 1) > 0.0);
}

TEST_CASE("a .txt file as numpy's savetxt writes it (spaces) loads, and save_matrix writes .txt with spaces") {
    TempDir dir;
    // np.savetxt("m.txt", np.array([[1, 2.5, -3], [0.1, 4e-5, 1e10]]), header="x y z")
    write_bytes(dir / "m.txt",
                "# x y z\n"
                "1.000000000000000000e+00 2.500000000000000000e+00 -3.000000000000000000e+00\n"
                "1.000000000000000056e-01 4.000000000000000327e-05 1.000000000000000000e+10\n");
    CHECK(xg::load_matrix<double>(dir / "m.txt") == Matrix<double>{{1, 2.5, -3}, {0.1, 4e-5, 1e10}});
    // Columns aligned with runs of blanks, and tabs, read the same.
    write_bytes(dir / "aligned.txt", "  1   2\t3\n 40  50  60 \n");
    CHECK(xg::load_matrix<double>(dir / "aligned.txt") == Matrix<double>{{1, 2, 3}, {40, 50, 60}});
    // A .txt of commas (np.savetxt(..., delimiter=",")) too.
    write_bytes(dir / "commas.txt", "1,2\n3,4\n");
    CHECK(xg::load_matrix<double>(dir / "commas.txt") == Matrix<double>{{1, 2}, {3, 4}});
    // save_matrix writes .txt as numpy's loadtxt reads it by default.
    xg::save_matrix(dir / "out.txt", Matrix<double>{{1, 0.5}, {-2, 3}});
    CHECK(read_bytes(dir / "out.txt") == "1 0.5\n-2 3\n");
    // load_csv(path, ' ') is the same reader.
    CHECK(xg::load_csv<double>(dir / "aligned.txt", ' ') == Matrix<double>{{1, 2, 3}, {40, 50, 60}});
}

TEST_CASE("load_npy<float> of a float64 file refuses a value beyond float's range, names it, and keeps the rest") {
    TempDir dir;
    xg::save_npy(dir / "big.npy", Matrix<double>{{1, 2}, {-1e300, 4}});
    CHECK(thrown<xg::IoError>([&] { xg::load_npy<float>(dir / "big.npy"); }) ==
          dir / "big.npy" + ": element (1, 0) = -1e+300 is out of the range of float32 (largest magnitude "
                            "3.4028235e+38); load the file as double, or scale the values");
    CHECK(xg::load_npy<double>(dir / "big.npy")(1, 0) == -1e300);
    // Values that only round, underflow, the largest float itself, and
    // NaN and infinities stored in the file, load as they are.
    const double fmax = double(std::numeric_limits<float>::max());
    xg::save_npy(dir / "ok.npy", Matrix<double>{{0.1, 1e-50, fmax, std::nan(""),
                                                 std::numeric_limits<double>::infinity()}});
    const Matrix<float> f = xg::load_npy<float>(dir / "ok.npy");
    CHECK(f(0, 0) == 0.1f);
    CHECK(f(0, 1) == 0.0f);
    CHECK(f(0, 2) == std::numeric_limits<float>::max());
    CHECK(std::isnan(f(0, 3)));
    CHECK(std::isinf(f(0, 4)));
}

TEST_CASE("readers refuse a device, a FIFO or a folder up front instead of reading without end") {
    TempDir dir;
    const std::string zero_msg = "/dev/zero: is not a regular file (a device, FIFO or socket); xgrad reads only files "
                                 "whose size it can check first";
    CHECK(thrown<xg::IoError>([] { xg::load_npy<double>("/dev/zero"); }) == zero_msg);
    CHECK(thrown<xg::IoError>([] { xg::npy_info("/dev/zero"); }) == zero_msg);
    CHECK(thrown<xg::IoError>([] { xg::load_csv<double>("/dev/zero"); }) == zero_msg);
    REQUIRE(::mkfifo((dir / "fifo.npy").c_str(), 0600) == 0);  // opening it for reading would wait for a writer
    CHECK(has(thrown<xg::IoError>([&] { xg::load_npy<float>(dir / "fifo.npy"); }), "fifo.npy: is not a regular file"));
    std::filesystem::create_directory(dir / "folder.csv");
    CHECK(thrown<xg::IoError>([&] { xg::load_matrix<double>(dir / "folder.csv"); }) ==
          dir / "folder.csv" + ": is a directory, not a file");
}

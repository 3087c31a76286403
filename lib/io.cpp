// .npy and CSV readers that check everything, atomic writers, and parameter
// checkpoints (one .npy file per named parameter).
#include "xgrad/io.hpp"

#include "messages.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "xgrad's .npy reader and writer assume a little-endian machine"
#endif

namespace xg {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void io_fail(const std::string& path, const std::string& what) {
    throw IoError(path + ": " + what);
}

std::string errno_text() {
    return std::strerror(errno);
}

/// Open `path` for reading, with a clear message when that is impossible.
std::ifstream open_in(const std::string& path) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) io_fail(path, "is a directory, not a file");
    std::ifstream in(path, std::ios::binary);
    if (!in) io_fail(path, "cannot open: " + errno_text());
    return in;
}

std::string read_all(const std::string& path) {
    std::ifstream in = open_in(path);
    std::ostringstream s;
    s << in.rdbuf();
    if (in.bad()) io_fail(path, "read error");
    return s.str();
}

std::string ext_of(const std::string& path) {
    std::string e = fs::path(path).extension().string();
    std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return e;
}

// ---- atomic writes ----------------------------------------------------------

/// Write `bytes` to a new temporary file beside `path`, flushed to disk.
/// Returns its name; on failure removes it and throws IoError.
std::string write_temp(const std::string& path, const std::string& bytes) {
    static std::atomic<unsigned> counter{0};
    const fs::path target(path);
    const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
    int fd = -1;
    std::string tmp;
    for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
        tmp = (dir / ("." + target.filename().string() + "." + std::to_string(::getpid()) + "." +
                      std::to_string(counter++) + ".tmp"))
                  .string();
        fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST) io_fail(path, "cannot write: " + errno_text());
    }
    if (fd < 0) io_fail(path, "cannot create a temporary file beside it");
    const char* p = bytes.data();
    std::size_t left = bytes.size();
    while (left > 0) {
        const ssize_t n = ::write(fd, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const std::string why = errno_text();
            ::close(fd);
            ::unlink(tmp.c_str());
            io_fail(path, "cannot write: " + why);
        }
        p += n;
        left -= std::size_t(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        const std::string why = errno_text();
        ::unlink(tmp.c_str());
        io_fail(path, "cannot write: " + why);
    }
    return tmp;
}

/// Rename finished temporary files over their targets, then flush the
/// folder entries. On a failure, the temporaries not yet renamed are removed.
void commit(const std::vector<std::string>& tmps, const std::vector<std::string>& targets) {
    // A folder in a target's place would make its rename fail after the
    // earlier ones succeeded: refuse before anything is replaced.
    for (const std::string& t : targets) {
        std::error_code ec;
        if (fs::is_directory(t, ec)) {
            for (const std::string& tmp : tmps) ::unlink(tmp.c_str());
            io_fail(t, "cannot replace: is a directory, not a file");
        }
    }
    for (std::size_t i = 0; i < tmps.size(); ++i) {
        if (std::rename(tmps[i].c_str(), targets[i].c_str()) != 0) {
            const std::string why = errno_text();
            for (std::size_t j = i; j < tmps.size(); ++j) ::unlink(tmps[j].c_str());
            io_fail(targets[i], "cannot replace: " + why);
        }
    }
    std::set<std::string> dirs;
    for (const std::string& t : targets) {
        const fs::path p(t);
        dirs.insert(p.has_parent_path() ? p.parent_path().string() : ".");
    }
    for (const std::string& d : dirs) {
        const int fd = ::open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) {
            ::fsync(fd);  // best effort: the data itself is already on disk
            ::close(fd);
        }
    }
}

void write_atomic(const std::string& path, const std::string& bytes) {
    commit({write_temp(path, bytes)}, {path});
}

// ---- .npy header --------------------------------------------------------------

constexpr char npy_magic[] = "\x93NUMPY";
constexpr std::size_t npy_magic_len = 6;

/// A tiny reader for the Python dict literal of a .npy header:
/// {'descr': '<f8', 'fortran_order': False, 'shape': (2, 400), }
class HeaderParser {
public:
    HeaderParser(const std::string& path, const std::string& text) : path_(path), s_(text) {}

    NpyInfo parse() {
        NpyInfo info;
        bool have_descr = false, have_order = false, have_shape = false;
        expect('{');
        for (;;) {
            skip();
            if (peek() == '}') break;
            const std::string key = quoted();
            expect(':');
            if (key == "descr") {
                if (have_descr) fail("'descr' appears twice");
                info.descr = quoted();
                have_descr = true;
            } else if (key == "fortran_order") {
                if (have_order) fail("'fortran_order' appears twice");
                info.fortran_order = boolean();
                have_order = true;
            } else if (key == "shape") {
                if (have_shape) fail("'shape' appears twice");
                info.dims = tuple();
                have_shape = true;
            } else {
                fail("unexpected key '" + key + "'");
            }
            skip();
            if (peek() == ',') {
                ++i_;
                continue;
            }
            if (peek() != '}') fail("expected ',' or '}' after the value of '" + key + "'");
        }
        ++i_;
        for (; i_ < s_.size(); ++i_) {
            if (s_[i_] != ' ' && s_[i_] != '\n' && s_[i_] != '\r' && s_[i_] != '\t' && s_[i_] != '\0') {
                fail("unexpected text after the header dictionary");
            }
        }
        if (!have_descr) fail("the header has no 'descr'");
        if (!have_order) fail("the header has no 'fortran_order'");
        if (!have_shape) fail("the header has no 'shape'");
        return info;
    }

private:
    const std::string& path_;
    const std::string& s_;
    std::size_t i_ = 0;

    [[noreturn]] void fail(const std::string& what) const { io_fail(path_, "corrupt .npy header: " + what); }
    void skip() {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
    }
    char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
    void expect(char c) {
        skip();
        if (peek() != c) fail(std::string("expected '") + c + "'");
        ++i_;
    }
    std::string quoted() {
        skip();
        const char q = peek();
        if (q != '\'' && q != '"') fail("expected a quoted string");
        const std::size_t end = s_.find(q, i_ + 1);
        if (end == std::string::npos) fail("unterminated string");
        std::string out = s_.substr(i_ + 1, end - i_ - 1);
        i_ = end + 1;
        return out;
    }
    bool boolean() {
        skip();
        if (s_.compare(i_, 4, "True") == 0) {
            i_ += 4;
            return true;
        }
        if (s_.compare(i_, 5, "False") == 0) {
            i_ += 5;
            return false;
        }
        fail("'fortran_order' is neither True nor False");
    }
    std::vector<std::size_t> tuple() {
        expect('(');
        std::vector<std::size_t> dims;
        for (;;) {
            skip();
            if (peek() == ')') break;
            if (!std::isdigit(static_cast<unsigned char>(peek()))) fail("'shape' is not a tuple of sizes");
            std::size_t v = 0;
            while (std::isdigit(static_cast<unsigned char>(peek()))) {
                const std::size_t d = std::size_t(peek() - '0');
                if (v > (std::numeric_limits<std::size_t>::max() - d) / 10) fail("a size in 'shape' is too large");
                v = v * 10 + d;
                ++i_;
            }
            if (peek() == 'L') ++i_;  // Python 2 long literal
            dims.push_back(v);
            skip();
            if (peek() == ',') {
                ++i_;
                continue;
            }
            if (peek() != ')') fail("'shape' is not a tuple of sizes");
        }
        ++i_;
        return dims;
    }
};

/// Element kinds the reader converts: float, signed, unsigned, bool.
struct Dtype {
    char kind = 0;
    std::size_t size = 0;
};

Dtype parse_descr(const std::string& path, const std::string& descr) {
    const auto bad = [&](const std::string& why) {
        io_fail(path, "unsupported dtype '" + descr + "'" + why +
                          "; supported: little-endian float32/64, int8-64, uint8-64, bool");
    };
    if (descr.size() < 3) bad("");
    const char order = descr[0], kind = descr[1];
    const std::string digits = descr.substr(2);
    const auto digit = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; };
    if (digits.empty() || digits.size() > 2 || !std::all_of(digits.begin(), digits.end(), digit)) bad("");
    const std::size_t size = std::size_t(std::stoul(digits));
    if (order != '<' && order != '|' && order != '=' && order != '>') bad("");
    bool ok = false;
    switch (kind) {
        case 'f':
            ok = size == 4 || size == 8;
            break;
        case 'i':
        case 'u':
            ok = size == 1 || size == 2 || size == 4 || size == 8;
            break;
        case 'b':
            ok = size == 1;
            break;
        default:
            break;
    }
    if (!ok) bad("");
    if (order == '>' && size > 1) bad(" (big-endian; save it little-endian, e.g. a.astype('<f8'))");
    return Dtype{kind, size};
}

std::string dtype_name(Dtype d) {
    switch (d.kind) {
        case 'f':
            return "float" + std::to_string(8 * d.size);
        case 'i':
            return "int" + std::to_string(8 * d.size);
        case 'u':
            return "uint" + std::to_string(8 * d.size);
        default:
            return "bool";
    }
}

std::string dims_text(const std::vector<std::size_t>& dims) {
    std::string s = "(";
    for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
    return s + (dims.size() == 1 ? ",)" : ")");
}

struct NpyLayout {
    NpyInfo info;
    Dtype dtype;
    std::size_t data_offset = 0;
};

/// Check the header of a .npy file of `file_size` bytes against that size;
/// `read_prefix(n)` returns the first n bytes of the file.
template <class ReadPrefix>
NpyLayout parse_npy(const std::string& path, std::size_t file_size, ReadPrefix read_prefix) {
    if (file_size < npy_magic_len + 4) {
        io_fail(path, file_size == 0 ? "empty file, not a .npy file" : "too short to be a .npy file");
    }
    std::string head = read_prefix(std::min<std::size_t>(file_size, 12));
    if (head.compare(0, npy_magic_len, npy_magic) != 0) io_fail(path, "not a .npy file (no \\x93NUMPY magic string)");
    const auto major = static_cast<unsigned char>(head[6]), minor = static_cast<unsigned char>(head[7]);
    std::size_t len_bytes = 0;
    if (major == 1 && minor == 0) {
        len_bytes = 2;
    } else if ((major == 2 || major == 3) && minor == 0) {
        len_bytes = 4;
    } else {
        io_fail(path, "unsupported .npy format version " + std::to_string(major) + "." + std::to_string(minor));
    }
    if (file_size < 8 + len_bytes) io_fail(path, "truncated .npy header");
    std::size_t header_len = 0;
    for (std::size_t k = 0; k < len_bytes; ++k)
        header_len |= std::size_t(static_cast<unsigned char>(head[8 + k])) << (8 * k);
    NpyLayout out;
    out.data_offset = 8 + len_bytes + header_len;
    if (out.data_offset > file_size) {
        io_fail(path, "truncated .npy header: it claims " + std::to_string(header_len) + " bytes, the file has " +
                          std::to_string(file_size - 8 - len_bytes));
    }
    const std::string full = read_prefix(out.data_offset);
    const std::string text = full.substr(8 + len_bytes);
    out.info = HeaderParser(path, text).parse();
    out.dtype = parse_descr(path, out.info.descr);
    const std::vector<std::size_t>& d = out.info.dims;
    if (d.size() > 2)
        io_fail(path, "holds a " + std::to_string(d.size()) + "-D array " + dims_text(d) +
                          "; xgrad reads 0-, 1- and 2-D arrays");
    out.info.shape = d.empty() ? Shape{1, 1} : d.size() == 1 ? Shape{1, d[0]} : Shape{d[0], d[1]};
    std::size_t count = 1;
    for (std::size_t v : d) {
        if (v != 0 && count > std::numeric_limits<std::size_t>::max() / v / 8)
            io_fail(path, "shape " + dims_text(d) + " is too large");
        count *= v;
    }
    const std::size_t want = count * out.dtype.size, have = file_size - out.data_offset;
    if (have < want) {
        io_fail(path, "truncated: the header promises " + dims_text(d) + " " + dtype_name(out.dtype) + " values (" +
                          std::to_string(want) + " bytes of data) but only " + std::to_string(have) + " bytes follow");
    }
    if (have > want) {
        io_fail(path, "corrupt: " + std::to_string(have - want) + " bytes follow the " + dims_text(d) + " " +
                          dtype_name(out.dtype) + " values the header describes");
    }
    return out;
}

/// The value of type V stored (little-endian, maybe unaligned) at p, as a T.
template <class V, class T>
T read_as(const char* p) {
    V v;
    std::memcpy(&v, p, sizeof v);
    return T(v);
}

template <class T>
T decode(const char* p, Dtype d) {
    switch (d.kind) {
        case 'f': return d.size == 4 ? read_as<float, T>(p) : read_as<double, T>(p);
        case 'i':
            switch (d.size) {
                case 1: return read_as<std::int8_t, T>(p);
                case 2: return read_as<std::int16_t, T>(p);
                case 4: return read_as<std::int32_t, T>(p);
                default: return read_as<std::int64_t, T>(p);
            }
        case 'u':
            switch (d.size) {
                case 1: return read_as<std::uint8_t, T>(p);
                case 2: return read_as<std::uint16_t, T>(p);
                case 4: return read_as<std::uint32_t, T>(p);
                default: return read_as<std::uint64_t, T>(p);
            }
        default: return T(*p != 0);  // bool
    }
}

template <class T>
std::string npy_bytes(const Matrix<T>& m) {
    std::string dict = std::string("{'descr': '<") + (sizeof(T) == 8 ? "f8" : "f4") +
                       "', 'fortran_order': False, 'shape': (" + std::to_string(m.shape()[0]) + ", " +
                       std::to_string(m.shape()[1]) + "), }";
    // Pad with spaces so that magic + version + length + header is a multiple of 64.
    const std::size_t pre = npy_magic_len + 2 + 2;
    dict.append(63 - (pre + dict.size()) % 64, ' ');
    dict += '\n';
    std::string out(npy_magic, npy_magic_len);
    out += '\x01';
    out += '\x00';
    out += char(dict.size() & 0xff);
    out += char((dict.size() >> 8) & 0xff);
    out += dict;
    out.append(reinterpret_cast<const char*>(m.data()), m.size() * sizeof(T));
    return out;
}

// ---- CSV ----------------------------------------------------------------------

template <class T>
bool parse_number(const std::string& cell, T& out) {
    if (cell.empty()) return false;
    char* end = nullptr;
    errno = 0;
    if constexpr (std::is_same<T, float>::value) {
        out = std::strtof(cell.c_str(), &end);
    } else {
        out = T(std::strtod(cell.c_str(), &end));
    }
    if (end != cell.c_str() + cell.size()) return false;
    // Overflow is an error; underflow to a subnormal or zero is a value.
    return !(errno == ERANGE && std::isinf(out));
}

std::string trim(const std::string& s) {
    std::size_t a = 0, b = s.size();
    while (a < b && (s[a] == ' ' || s[a] == '\t')) ++a;
    while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\r')) --b;
    std::string t = s.substr(a, b - a);
    if (t.size() >= 2 && t.front() == '"' && t.back() == '"') t = t.substr(1, t.size() - 2);
    return t;
}

template <class T>
std::string csv_text(const Matrix<T>& m, char delimiter) {
    std::string out;
    char buf[40];
    const char* fmt = sizeof(T) == 8 ? "%.17g" : "%.9g";
    for (std::size_t r = 0; r < m.shape()[0]; ++r) {
        for (std::size_t c = 0; c < m.shape()[1]; ++c) {
            if (c) out += delimiter;
            std::snprintf(buf, sizeof buf, fmt, double(m(r, c)));
            out += buf;
        }
        out += '\n';
    }
    return out;
}

// ---- parameters -------------------------------------------------------------------

template <class T>
std::vector<std::string> parameter_files(const std::string& dir, const std::vector<Parameter<T>>& params,
                                         const char* what) {
    std::vector<std::string> files;
    std::set<std::string> seen;
    for (std::size_t i = 0; i < params.size(); ++i) {
        if (!params[i])
            throw ValueError(std::string(what) + ": parameter " + std::to_string(i) + " is an empty handle");
        const std::string& n = params[i].name();
        const bool ok = !n.empty() && n[0] != '.' && std::all_of(n.begin(), n.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
        });
        if (!ok) {
            throw ValueError(std::string(what) + ": parameter " + std::to_string(i) + " has the name '" + n +
                             "'; each needs a file name of letters, digits, '_', '-' and '.'");
        }
        if (!seen.insert(n).second) throw ValueError(std::string(what) + ": two parameters are named '" + n + "'");
        files.push_back((fs::path(dir) / (n + ".npy")).string());
    }
    return files;
}

}  // namespace

// ---- public: .npy -------------------------------------------------------------

NpyInfo npy_info(const std::string& path) {
    std::ifstream in = open_in(path);
    in.seekg(0, std::ios::end);
    const auto size = in.tellg();
    if (size < 0) io_fail(path, "cannot determine its size");
    return parse_npy(path, std::size_t(size),
                     [&](std::size_t n) {
                         std::string buf(n, '\0');
                         in.clear();
                         in.seekg(0);
                         in.read(&buf[0], std::streamsize(n));
                         if (std::size_t(in.gcount()) != n) io_fail(path, "read error");
                         return buf;
                     })
        .info;
}

template <class T>
Matrix<T> load_npy(const std::string& path) {
    const std::string bytes = read_all(path);
    const NpyLayout l = parse_npy(path, bytes.size(), [&](std::size_t n) { return bytes.substr(0, n); });
    const Shape s = l.info.shape;
    Matrix<T> m({s.rows, s.cols});
    const char* data = bytes.data() + l.data_offset;
    const std::size_t w = l.dtype.size;
    if (l.dtype.kind == 'b') {
        for (std::size_t k = 0; k < s.size(); ++k) {
            if (static_cast<unsigned char>(data[k]) > 1) {
                io_fail(path, "corrupt: bool value " + std::to_string(int(static_cast<unsigned char>(data[k]))) +
                                  " at element " + std::to_string(k));
            }
        }
    }
    for (std::size_t r = 0; r < s.rows; ++r) {
        for (std::size_t c = 0; c < s.cols; ++c) {
            const std::size_t k = l.info.fortran_order ? c * s.rows + r : r * s.cols + c;
            m(r, c) = decode<T>(data + k * w, l.dtype);
        }
    }
    return m;
}

template <class T>
void save_npy(const std::string& path, const Matrix<T>& m) {
    write_atomic(path, npy_bytes(m));
}

// ---- public: CSV ----------------------------------------------------------------

template <class T>
Matrix<T> load_csv(const std::string& path, char delimiter, std::size_t skip_rows) {
    const std::string text = read_all(path);
    std::vector<T> values;
    std::size_t cols = 0, rows = 0, first_line = 0, line_no = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t eol = text.find('\n', pos);
        if (eol == std::string::npos) eol = text.size();
        const std::string line = text.substr(pos, eol - pos);
        pos = eol + 1;
        ++line_no;
        if (line_no <= skip_rows) continue;
        const std::string t = trim(line);
        if (t.empty() || t[0] == '#') continue;
        std::size_t n = 0, start = 0;
        for (;;) {
            const std::size_t d = line.find(delimiter, start);
            const std::string cell = trim(line.substr(start, d == std::string::npos ? std::string::npos : d - start));
            T v;
            if (!parse_number(cell, v)) {
                std::string shown = cell.size() > 40 ? cell.substr(0, 40) + "..." : cell;
                io_fail(path,
                        "line " + std::to_string(line_no) + ", column " + std::to_string(n + 1) + ": " +
                            (cell.empty() ? std::string("empty cell")
                                          : "'" + shown + "' is not a number" +
                                                (rows == 0 ? " (a header line? skip it with skip_rows = 1)" : "")));
            }
            values.push_back(v);
            ++n;
            if (d == std::string::npos) break;
            start = d + 1;
        }
        if (rows == 0) {
            cols = n;
            first_line = line_no;
        } else if (n != cols) {
            io_fail(path, "line " + std::to_string(line_no) + " has " + std::to_string(n) + " values, line " +
                              std::to_string(first_line) + " has " + std::to_string(cols) +
                              " (rows of different lengths)");
        }
        ++rows;
    }
    if (rows == 0) io_fail(path, "no data (the file is empty or holds only blank and '#' lines)");
    Matrix<T> m({rows, cols});
    std::copy(values.begin(), values.end(), m.begin());
    return m;
}

template <class T>
void save_csv(const std::string& path, const Matrix<T>& m, char delimiter) {
    write_atomic(path, csv_text(m, delimiter));
}

// ---- public: by extension -------------------------------------------------------

template <class T>
Matrix<T> load_matrix(const std::string& path) {
    const std::string e = ext_of(path);
    if (e == ".npy") return load_npy<T>(path);
    if (e == ".csv" || e == ".txt") return load_csv<T>(path);
    io_fail(path, "unknown file type '" + e + "': expected .npy, .csv or .txt");
}

template <class T>
void save_matrix(const std::string& path, const Matrix<T>& m) {
    const std::string e = ext_of(path);
    if (e == ".npy") return save_npy(path, m);
    if (e == ".csv" || e == ".txt") return save_csv(path, m);
    io_fail(path, "unknown file type '" + e + "': expected .npy, .csv or .txt");
}

// ---- public: parameters -----------------------------------------------------------

template <class T>
void save_parameters(const std::string& dir, const std::vector<Parameter<T>>& params) {
    const std::vector<std::string> files = parameter_files(dir, params, "save_parameters");
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) io_fail(dir, "cannot create the folder: " + ec.message());
    std::vector<std::string> tmps;
    try {
        for (std::size_t i = 0; i < params.size(); ++i)
            tmps.push_back(write_temp(files[i], npy_bytes(params[i].value())));
    } catch (...) {
        for (const std::string& t : tmps) ::unlink(t.c_str());
        throw;
    }
    commit(tmps, files);
}

template <class T>
void load_parameters(const std::string& dir, const std::vector<Parameter<T>>& params) {
    const std::vector<std::string> files = parameter_files(dir, params, "load_parameters");
    std::vector<Matrix<T>> loaded;
    loaded.reserve(params.size());
    for (std::size_t i = 0; i < params.size(); ++i) {
        Matrix<T> m = load_npy<T>(files[i]);
        if (shape_of(m) != params[i].shape()) {
            throw ShapeError(files[i] + ": holds a " + to_string(shape_of(m)) + " matrix, but parameter " +
                             params[i].name() + " is " + to_string(params[i].shape()));
        }
        for (std::size_t k = 0; k < m.size(); ++k) {
            if (!std::isfinite(double(m.data()[k]))) {
                throw ValueError(files[i] + ": " +
                                 detail::entry_text(params[i].name(), k / m.shape()[1], k % m.shape()[1], m.data()[k]) +
                                 " is not finite");
            }
        }
        loaded.push_back(std::move(m));
    }
    // Every file checked: now assign, in place (graphs keep referring to the same buffers).
    for (std::size_t i = 0; i < params.size(); ++i) {
        Parameter<T> p = params[i];
        std::copy(loaded[i].begin(), loaded[i].end(), p.value().begin());
    }
}

template Matrix<float> load_npy(const std::string&);
template Matrix<double> load_npy(const std::string&);
template void save_npy(const std::string&, const Matrix<float>&);
template void save_npy(const std::string&, const Matrix<double>&);
template Matrix<float> load_csv(const std::string&, char, std::size_t);
template Matrix<double> load_csv(const std::string&, char, std::size_t);
template void save_csv(const std::string&, const Matrix<float>&, char);
template void save_csv(const std::string&, const Matrix<double>&, char);
template Matrix<float> load_matrix(const std::string&);
template Matrix<double> load_matrix(const std::string&);
template void save_matrix(const std::string&, const Matrix<float>&);
template void save_matrix(const std::string&, const Matrix<double>&);
template void save_parameters(const std::string&, const std::vector<Parameter<float>>&);
template void save_parameters(const std::string&, const std::vector<Parameter<double>>&);
template void load_parameters(const std::string&, const std::vector<Parameter<float>>&);
template void load_parameters(const std::string&, const std::vector<Parameter<double>>&);

}  // namespace xg

// numpy's .npy format: a reader that checks the header (magic, version,
// dtype, order, shape) against the file's size before it reads, or even
// allocates, the data, and a writer of format 1.0 files.
#include "io_internal.hpp"
#include "instantiate.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <limits>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "xgrad's .npy reader and writer assume a little-endian machine"
#endif

namespace xg {

using detail::io_fail;
using detail::number_text;

namespace {

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

/// The matrix a checked file's data holds, converted to T. Refuses a bool
/// byte other than 0 or 1, and a finite float64 value too large for a float
/// (it would become an infinity); NaN and infinities stored in the file stay
/// as they are.
template <class T>
Matrix<T> decode_matrix(const std::string& path, const NpyLayout& l, const char* data) {
    const Shape s = l.info.shape;
    const std::size_t w = l.dtype.size;
    if (l.dtype.kind == 'b') {
        for (std::size_t k = 0; k < s.size(); ++k) {
            if (static_cast<unsigned char>(data[k]) > 1) {
                io_fail(path, "corrupt: bool value " + std::to_string(int(static_cast<unsigned char>(data[k]))) +
                                  " at element " + std::to_string(k));
            }
        }
    }
    Matrix<T> m({s.rows, s.cols});
    for (std::size_t r = 0; r < s.rows; ++r) {
        for (std::size_t c = 0; c < s.cols; ++c) {
            const std::size_t k = l.info.fortran_order ? c * s.rows + r : r * s.cols + c;
            m(r, c) = decode<T>(data + k * w, l.dtype);
            if (std::is_same<T, float>::value && l.dtype.kind == 'f' && w == 8 && std::isinf(m(r, c))) {
                const double v = read_as<double, double>(data + k * w);
                if (std::isfinite(v)) {
                    io_fail(path, "element (" + std::to_string(r) + ", " + std::to_string(c) + ") = " +
                                      number_text(v) + " is out of the range of float32 (largest magnitude " +
                                      number_text(std::numeric_limits<float>::max()) +
                                      "); load the file as double, or scale the values");
                }
            }
        }
    }
    return m;
}

}  // namespace

namespace detail {

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

template <class T>
Matrix<T> npy_from_bytes(const std::string& path, const std::string& bytes, NpyInfo* info) {
    const NpyLayout l = parse_npy(path, bytes.size(), [&](std::size_t n) { return bytes.substr(0, n); });
    if (info) *info = l.info;
    return decode_matrix<T>(path, l, bytes.data() + l.data_offset);
}

#define XG_NPY_BYTES_INSTANTIATIONS(T)                                                   \
    template std::string npy_bytes(const Matrix<T>&);                                    \
    template Matrix<T> npy_from_bytes(const std::string&, const std::string&, NpyInfo*);
XG_INSTANTIATE_FLOAT_DOUBLE(XG_NPY_BYTES_INSTANTIATIONS)
#undef XG_NPY_BYTES_INSTANTIATIONS

}  // namespace detail

// ---- public ---------------------------------------------------------------------

NpyInfo npy_info(const std::string& path) {
    const detail::InFile in(path);
    return parse_npy(path, std::size_t(in.size()), [&](std::size_t n) { return in.read(0, n); }).info;
}

template <class T>
Matrix<T> load_npy(const std::string& path) {
    // The header first; the data only once its size matches the file's.
    const detail::InFile in(path);
    const NpyLayout l = parse_npy(path, std::size_t(in.size()), [&](std::size_t n) { return in.read(0, n); });
    const std::string data = in.read(l.data_offset, std::size_t(in.size()) - l.data_offset);
    return decode_matrix<T>(path, l, data.data());
}

template <class T>
void save_npy(const std::string& path, const Matrix<T>& m) {
    detail::write_atomic(path, detail::npy_bytes(m));
}

#define XG_NPY_INSTANTIATIONS(T)                                  \
    template Matrix<T> load_npy(const std::string&);              \
    template void save_npy(const std::string&, const Matrix<T>&);
XG_INSTANTIATE_FLOAT_DOUBLE(XG_NPY_INSTANTIATIONS)
#undef XG_NPY_INSTANTIATIONS

}  // namespace xg

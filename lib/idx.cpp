// IDX files, the format of MNIST and its family: a reader that checks the
// header (magic, element type, dimensions) and the byte count it implies —
// against the file's size for a plain file, against what the stream holds
// for a gzip file — and converts the big-endian values a chunk at a time.
#include "io_internal.hpp"
#include "instantiate.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace xg {

using detail::io_fail;

namespace {

// ---- header -------------------------------------------------------------------------

/// The bytes of one value of type t.
std::size_t width(IdxType t) {
    switch (t) {
        case IdxType::i16: return 2;
        case IdxType::i32:
        case IdxType::f32: return 4;
        case IdxType::f64: return 8;
        default: return 1;
    }
}

bool known_type(unsigned char b) {
    return b == 0x08 || b == 0x09 || b == 0x0B || b == 0x0C || b == 0x0D || b == 0x0E;
}

std::string hex(unsigned char b) {
    const char* digits = "0123456789abcdef";
    return std::string("0x") + digits[b >> 4] + digits[b & 15];
}

std::string dims_text(const std::vector<std::size_t>& dims) {
    std::string s;
    for (std::size_t k = 0; k < dims.size(); ++k) s += (k ? "x" : "") + std::to_string(dims[k]);
    return s;
}

/// A checked header and the sizes it implies.
struct Header {
    IdxInfo info;
    std::size_t header_bytes = 0;  // 4 + 4 · dimensions
    std::size_t count = 0;         // values in the file
    std::uint64_t data_bytes = 0;  // count · width
};

/// "D data bytes expected (AxB TYPE values after the H-byte header), F found".
std::string count_text(const Header& h, std::uint64_t found) {
    return std::to_string(h.data_bytes) + " data bytes expected (" + dims_text(h.info.dims) + " " +
           to_string(h.info.type) + " values after the " + std::to_string(h.header_bytes) + "-byte header), " +
           std::to_string(found) + " found";
}

/// Read the header from `src` and check it; for a plain file, also the
/// file's size against it, and for a gzip file the most it can hold.
Header read_header(detail::ByteSource& src) {
    const std::string& path = src.path();
    const std::string where = src.gzip() ? " (after decompression)" : "";
    unsigned char head[4 + 4 * 3];
    const std::size_t got = src.read(reinterpret_cast<char*>(head), 4);
    if (got == 0) io_fail(path, src.gzip() ? "empty gzip stream: no IDX header" : "empty file, not an IDX file");
    if (head[0] != 0 || (got > 1 && head[1] != 0)) {
        io_fail(path, "not an IDX file: it starts with the bytes " + hex(head[0]) + (got > 1 ? " " + hex(head[1]) : "") +
                          where + ", not 0x00 0x00" + (src.gzip() ? "" : " (nor a gzip file's 0x1f 0x8b)"));
    }
    if (got < 4) io_fail(path, "truncated IDX header: " + std::to_string(got) + " bytes" + where + ", 4 expected");
    if (!known_type(head[2])) {
        io_fail(path, "unknown IDX element type " + hex(head[2]) +
                          " (known: 0x08 unsigned byte, 0x09 signed byte, 0x0B int16, 0x0C int32, 0x0D float32, "
                          "0x0E float64)");
    }
    Header h;
    h.info.type = IdxType(head[2]);
    h.info.gzip = src.gzip();
    const std::size_t n = head[3];
    if (n == 0 || n > 3) {
        io_fail(path, "the IDX header gives " + std::to_string(n) + " dimensions; xgrad reads IDX files of 1 to 3");
    }
    h.header_bytes = 4 + 4 * n;
    const std::size_t got_dims = src.read(reinterpret_cast<char*>(head + 4), 4 * n);
    if (got_dims < 4 * n) {
        io_fail(path, "truncated IDX header: " + std::to_string(n) + " dimensions take " + std::to_string(4 * n) +
                          " bytes of sizes, " + std::to_string(got_dims) + " found" + where);
    }
    std::size_t count = 1;
    for (std::size_t k = 0; k < n; ++k) {
        const unsigned char* p = head + 4 + 4 * k;
        h.info.dims.push_back(std::size_t(p[0]) << 24 | std::size_t(p[1]) << 16 | std::size_t(p[2]) << 8 | p[3]);
    }
    for (std::size_t v : h.info.dims) {
        // Room for the values as doubles: count · 8 bytes must fit a size_t.
        if (v != 0 && count > std::numeric_limits<std::size_t>::max() / v / 8)
            io_fail(path, "the IDX sizes " + dims_text(h.info.dims) + " are too large (their product overflows)");
        count *= v;
    }
    h.count = count;
    h.data_bytes = std::uint64_t(count) * width(h.info.type);
    if (!src.gzip()) {
        const std::uint64_t found = src.file_size() - h.header_bytes;
        if (found < h.data_bytes) io_fail(path, "truncated: " + count_text(h, found));
        if (found > h.data_bytes) io_fail(path, "trailing bytes: " + count_text(h, found));
    } else if (h.header_bytes + h.data_bytes > detail::gzip_max_output(src.file_size())) {
        io_fail(path, "truncated: the header calls for " + std::to_string(h.data_bytes) + " data bytes (" +
                          dims_text(h.info.dims) + " " + to_string(h.info.type) + " values), but a gzip file of " +
                          std::to_string(src.file_size()) + " bytes decompresses to at most " +
                          std::to_string(detail::gzip_max_output(src.file_size())));
    }
    return h;
}

// ---- values ---------------------------------------------------------------------------

std::uint64_t big_endian(const unsigned char* p, std::size_t w) {
    std::uint64_t v = 0;
    for (std::size_t k = 0; k < w; ++k) v = v << 8 | p[k];
    return v;
}

/// The value at p, of the file's type t, as a double (exact for every type).
double decode(const unsigned char* p, IdxType t) {
    switch (t) {
        case IdxType::u8: return p[0];
        case IdxType::i8: return static_cast<std::int8_t>(p[0]);
        case IdxType::i16: return static_cast<std::int16_t>(std::uint16_t(big_endian(p, 2)));
        case IdxType::i32: return static_cast<std::int32_t>(std::uint32_t(big_endian(p, 4)));
        case IdxType::f32: {
            const std::uint32_t bits = std::uint32_t(big_endian(p, 4));
            float f;
            std::memcpy(&f, &bits, 4);
            return f;
        }
        default: {
            const std::uint64_t bits = big_endian(p, 8);
            double d;
            std::memcpy(&d, &bits, 8);
            return d;
        }
    }
}

/// Where the values go: value e (item e / item_size, offset e % item_size)
/// at data[e] (one item per row) or data[offset · items + item] (per column).
template <class T>
struct Sink {
    T* data;
    std::size_t items, item_size;
    bool columns;
    std::size_t item = 0, offset = 0, next = 0;

    void put(T v) {
        data[columns ? offset * items + item : next] = v;
        ++next;
        if (++offset == item_size) {
            offset = 0;
            ++item;
        }
    }
};

/// Read `want` values from src into the sink, a chunk at a time.
template <class T>
void read_values(detail::ByteSource& src, const Header& h, std::size_t want, Sink<T>& sink) {
    const std::size_t w = width(h.info.type);
    const std::size_t per_chunk = (std::size_t(1) << 16) / w;
    std::string chunk(per_chunk * w, '\0');
    std::size_t done = 0;
    while (done < want) {
        const std::size_t n = std::min(per_chunk, want - done);
        const std::size_t got = src.read(&chunk[0], n * w);
        if (got < n * w) io_fail(src.path(), "truncated: " + count_text(h, done * w + got));
        const auto* p = reinterpret_cast<const unsigned char*>(chunk.data());
        for (std::size_t k = 0; k < n; ++k, p += w) {
            const double v = decode(p, h.info.type);
            if (std::is_same<T, float>::value && std::isfinite(v) && std::isinf(T(v))) {
                const std::size_t e = done + k, isz = h.info.item_size();
                io_fail(src.path(), "value " + std::to_string(e) + " (item " + std::to_string(e / isz) + ", offset " +
                                        std::to_string(e % isz) + ") = " + detail::number_text(v) +
                                        " is out of the range of float32 (largest magnitude " +
                                        detail::number_text(std::numeric_limits<float>::max()) +
                                        "); load the file as double, or scale the values");
            }
            sink.put(T(v));
        }
        done += n;
    }
}

/// After the values a load read: the data must end where the header says.
/// A full load reads on to the end; a partial load of a gzip file compares
/// the size in the last trailer first and reads the rest only when it differs.
void check_end(detail::ByteSource& src, const Header& h, std::size_t read_values) {
    const std::uint64_t at = std::uint64_t(read_values) * width(h.info.type);
    if (!src.gzip() && read_values < h.count) return;  // the file's size was checked with the header
    if (read_values < h.count &&
        src.gzip_trailer_size() == std::uint32_t(h.header_bytes + h.data_bytes))  // modulo 2^32, as gzip keeps it
        return;
    const std::uint64_t found = at + src.skip_rest();
    if (found < h.data_bytes) io_fail(src.path(), "truncated: " + count_text(h, found));
    if (found > h.data_bytes) io_fail(src.path(), "trailing bytes: " + count_text(h, found));
}

}  // namespace

std::string to_string(IdxType type) {
    switch (type) {
        case IdxType::u8: return "unsigned byte";
        case IdxType::i8: return "signed byte";
        case IdxType::i16: return "int16";
        case IdxType::i32: return "int32";
        case IdxType::f32: return "float32";
        case IdxType::f64: return "float64";
    }
    return "type " + hex(static_cast<unsigned char>(type));
}

IdxInfo idx_info(const std::string& path) {
    detail::ByteSource src(path);
    return read_header(src).info;
}

namespace detail {

template <class T>
Matrix<T> read_idx(const std::string& path, std::size_t max_items, bool columns, IdxInfo& info) {
    ByteSource src(path);
    const Header h = read_header(src);
    const std::size_t items = std::min(max_items, h.info.items()), item_size = h.info.item_size();
    Matrix<T> out(columns ? std::array<std::size_t, 2>{item_size, items} : std::array<std::size_t, 2>{items, item_size});
    Sink<T> sink{out.data(), items, item_size, columns};
    read_values(src, h, items * item_size, sink);
    check_end(src, h, items * item_size);
    info = h.info;
    info.dims[0] = items;
    return out;
}

}  // namespace detail

template <class T>
IdxArray<T> load_idx(const std::string& path, std::size_t max_items) {
    IdxArray<T> a;
    a.values = detail::read_idx<T>(path, max_items, false, a.info);
    return a;
}

template <class T>
Matrix<T> IdxArray<T>::columns() const {
    const std::size_t items = values.shape()[0], item_size = values.shape()[1];
    Matrix<T> out({item_size, items});
    for (std::size_t i = 0; i < items; ++i)
        for (std::size_t k = 0; k < item_size; ++k) out(k, i) = values(i, k);
    return out;
}

#define XG_IDX_INSTANTIATIONS(T)                                                                   \
    template struct IdxArray<T>;                                                                   \
    template IdxArray<T> load_idx(const std::string&, std::size_t);                                \
    template Matrix<T> detail::read_idx(const std::string&, std::size_t, bool, IdxInfo&);
XG_INSTANTIATE_FLOAT_DOUBLE(XG_IDX_INSTANTIATIONS)
#undef XG_IDX_INSTANTIATIONS

}  // namespace xg

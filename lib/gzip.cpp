// A file's bytes, decompressed on the fly when it is gzip: zlib's inflate
// over chunks read from the file, strict about what follows the stream.
#include "io_internal.hpp"

#include <zlib.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <new>

namespace xg {
namespace detail {

namespace {

constexpr std::size_t chunk_bytes = std::size_t(1) << 16;

bool starts_gzip(const std::string& head) {
    return head.size() >= 2 && static_cast<unsigned char>(head[0]) == 0x1f &&
           static_cast<unsigned char>(head[1]) == 0x8b;
}

}  // namespace

struct ByteSource::Inflater {
    z_stream z{};
    std::string buffer;            // compressed bytes taken in from the file
    std::uint64_t produced = 0;    // bytes decompressed so far, all members
    bool finished = false;         // the last member ended with the file

    Inflater() {
        // 16 + MAX_WBITS: a gzip header and trailer, nothing else.
        if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) throw std::bad_alloc();
    }
    ~Inflater() { inflateEnd(&z); }
};

ByteSource::ByteSource(const std::string& path) : in_(path) {
    if (in_.size() >= 2 && starts_gzip(in_.read(0, 2))) inflater_ = std::make_unique<Inflater>();
}

ByteSource::~ByteSource() = default;

std::size_t ByteSource::read(char* dst, std::size_t n) {
    if (!inflater_) {
        const std::size_t k = std::size_t(std::min<std::uint64_t>(n, in_.size() - pos_));
        if (k == 0) return 0;
        const std::string bytes = in_.read(pos_, k);
        std::memcpy(dst, bytes.data(), k);
        pos_ += k;
        return k;
    }
    Inflater& s = *inflater_;
    z_stream& z = s.z;
    std::size_t done = 0;
    while (done < n && !s.finished) {
        if (z.avail_in == 0 && pos_ < in_.size()) {
            s.buffer = in_.read(pos_, std::size_t(std::min<std::uint64_t>(chunk_bytes, in_.size() - pos_)));
            pos_ += s.buffer.size();
            z.next_in = reinterpret_cast<Bytef*>(&s.buffer[0]);
            z.avail_in = uInt(s.buffer.size());
        }
        const uInt room = uInt(std::min<std::size_t>(n - done, UINT_MAX));
        z.next_out = reinterpret_cast<Bytef*>(dst + done);
        z.avail_out = room;
        const int ret = inflate(&z, Z_NO_FLUSH);
        const std::size_t got = room - z.avail_out;
        done += got;
        s.produced += got;
        if (ret == Z_STREAM_END) {
            // The member is complete (its CRC and length checked). Another
            // member may follow; anything else may not.
            const std::uint64_t left = z.avail_in + (in_.size() - pos_);
            if (left == 0) {
                s.finished = true;
                break;
            }
            const std::string next = left >= 2 ? (z.avail_in >= 2 ? std::string(reinterpret_cast<const char*>(z.next_in), 2)
                                                                  : in_.read(in_.size() - left, 2))
                                               : std::string();
            if (!starts_gzip(next)) {
                io_fail(path(), "corrupt gzip file: " + std::to_string(left) +
                                    " bytes follow the end of the compressed data, and they are not another gzip member");
            }
            inflateReset(&z);
        } else if (ret == Z_OK || ret == Z_BUF_ERROR) {
            // No output and no input left: the stream cannot end any more.
            if (got == 0 && z.avail_in == 0 && pos_ == in_.size()) {
                io_fail(path(), "truncated gzip stream: the file ends before its compressed data does (" +
                                    std::to_string(s.produced) + " bytes decompressed)");
            }
            if (ret == Z_BUF_ERROR && got == 0 && z.avail_in > 0) io_fail(path(), "cannot decompress: no progress");
        } else if (ret == Z_DATA_ERROR || ret == Z_NEED_DICT) {
            io_fail(path(), std::string("corrupt gzip stream: ") + (z.msg ? z.msg : "invalid compressed data") +
                                " (after " + std::to_string(s.produced) + " bytes decompressed)");
        } else if (ret == Z_MEM_ERROR) {
            throw std::bad_alloc();
        } else if (ret != Z_OK) {
            io_fail(path(), "cannot decompress: zlib error " + std::to_string(ret));
        }
    }
    return done;
}

std::uint64_t ByteSource::skip_rest() {
    std::string scratch(chunk_bytes, '\0');
    std::uint64_t total = 0;
    for (;;) {
        const std::size_t got = read(&scratch[0], scratch.size());
        if (got == 0) return total;
        total += got;
    }
}

std::uint32_t ByteSource::gzip_trailer_size() const {
    if (in_.size() < 4) return 0;
    const std::string t = in_.read(in_.size() - 4, 4);
    std::uint32_t v = 0;
    for (int k = 3; k >= 0; --k) v = v << 8 | static_cast<unsigned char>(t[std::size_t(k)]);
    return v;
}

}  // namespace detail
}  // namespace xg

// What the file code shares inside the library (lib/files.cpp, npy.cpp,
// csv.cpp, checkpoint.cpp, sha256.cpp, gzip.cpp, idx.cpp; nn.cpp for
// parameter names; fashion_mnist.cpp for IDX files). Not installed: the
// public API is include/xgrad/io.hpp.
#pragma once

#include <charconv>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "xgrad/io.hpp"

namespace xg {
namespace detail {

// ---- errors (lib/files.cpp) ------------------------------------------------------

/// Throw IoError("PATH: WHAT").
[[noreturn]] void io_fail(const std::string& path, const std::string& what);

/// strerror(err), for messages.
std::string errno_text(int err);

/// The shortest text that reads back as v in its own type: "1e+400" is not
/// one, "1e+300", "0.1", "3.4028235e+38" (the largest float) are.
template <class V>
std::string number_text(V v) {
    char buf[40];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, r.ptr);
}

// ---- reading (lib/files.cpp) --------------------------------------------------------

/// A regular file open for reading. Opening refuses, with an IoError naming
/// the path, a missing or unreadable file, a folder, and anything that is
/// not a regular file (a device such as /dev/zero, a FIFO, a socket), whose
/// size could not be known before reading.
class InFile {
public:
    explicit InFile(const std::string& path);
    ~InFile();
    InFile(const InFile&) = delete;
    InFile& operator=(const InFile&) = delete;

    /// The file's size when it was opened.
    std::uint64_t size() const { return size_; }
    /// Exactly n bytes from `offset`; IoError when fewer can be read (the
    /// file shrank, or a read error).
    std::string read(std::uint64_t offset, std::size_t n) const;
    /// The whole file (size() bytes).
    std::string read_all() const { return read(0, std::size_t(size_)); }
    const std::string& path() const { return path_; }

private:
    std::string path_;
    int fd_ = -1;
    std::uint64_t size_ = 0;
};

// ---- gzip or plain bytes (lib/gzip.cpp) -------------------------------------------

/// A file's bytes from the start, in order; when the file is gzip-compressed
/// (it starts with the bytes 1f 8b), the bytes it decompresses to, inflated
/// by zlib a chunk at a time. A gzip file may hold several members one after
/// the other (what `cat a.gz b.gz` makes); anything else after the last
/// member, a corrupt stream (a bad block, a wrong CRC or length in a
/// trailer) and a stream cut short are IoErrors naming the file.
class ByteSource {
public:
    explicit ByteSource(const std::string& path);
    ~ByteSource();
    ByteSource(const ByteSource&) = delete;
    ByteSource& operator=(const ByteSource&) = delete;

    /// True when the file is gzip-compressed.
    bool gzip() const { return inflater_ != nullptr; }
    /// The size of the file itself (compressed, for gzip).
    std::uint64_t file_size() const { return in_.size(); }
    /// Up to n bytes into dst; fewer only when the data ends.
    std::size_t read(char* dst, std::size_t n);
    /// Read to the end of the data; the number of bytes that were left.
    std::uint64_t skip_rest();
    /// For gzip: the last four bytes of the file as the trailer of its last
    /// member reads them, the size of that member's data modulo 2^32.
    std::uint32_t gzip_trailer_size() const;
    const std::string& path() const { return in_.path(); }

private:
    struct Inflater;
    InFile in_;
    std::uint64_t pos_ = 0;  // offset in the file of the next byte to take in
    std::unique_ptr<Inflater> inflater_;
};

/// The largest number of bytes a gzip file of `file_size` bytes can
/// decompress to: deflate codes at best 258 bytes in 2 bits (1032 : 1).
inline std::uint64_t gzip_max_output(std::uint64_t file_size) {
    return file_size > (UINT64_MAX - 4096) / 1032 ? UINT64_MAX : 1032 * file_size + 4096;
}

// ---- IDX (lib/idx.cpp) ---------------------------------------------------------------

/// load_idx's work: the header, checked as idx_info checks it, then the
/// first min(max_items, dims[0]) items converted to T, one item per row
/// (items x item_size, the file's order) or, with `columns`, one item per
/// column (item_size x items). `info` receives the header with dims[0] set
/// to the number of items read.
template <class T>
Matrix<T> read_idx(const std::string& path, std::size_t max_items, bool columns, IdxInfo& info);

// ---- writing (lib/files.cpp) --------------------------------------------------------

/// Write `bytes` to a new temporary file beside `path` (".NAME.PID.N.tmp",
/// NAME shortened when needed so that the name fits the file system's 255
/// bytes), flushed to disk. Returns its name; on failure removes it and
/// throws IoError naming `path`.
std::string write_temp(const std::string& path, const std::string& bytes);

/// Create `path`, which must not exist, holding `bytes`, flushed to disk.
/// `after_write` (may be null) is called once the bytes are written and
/// before they are flushed. On failure removes it and throws IoError.
void write_new_file(const std::string& path, const std::string& bytes, void (*after_write)(void*) = nullptr,
                    void* context = nullptr);

/// Rename `tmp` over `target` (removing `tmp` and throwing IoError naming
/// `target` when that fails, or when `target` is a folder).
void replace_file(const std::string& tmp, const std::string& target);

/// Flush a folder's entries (creations, renames, removals) to disk; false
/// when that failed.
bool sync_folder(const std::string& dir);

/// The folder a path is in ("." for a bare file name).
std::string folder_of(const std::string& path);

/// write_temp, then replace_file, then sync_folder: `path` holds either its
/// old bytes or `bytes`, never a part.
void write_atomic(const std::string& path, const std::string& bytes);

// ---- .npy (lib/npy.cpp) -------------------------------------------------------------

/// The .npy file (format 1.0, dtype "<f8" or "<f4", C order) holding m.
template <class T>
std::string npy_bytes(const Matrix<T>& m);

/// A .npy file's bytes, read as load_npy reads them (`path` names it in
/// messages); `info`, when given, receives its header.
template <class T>
Matrix<T> npy_from_bytes(const std::string& path, const std::string& bytes, NpyInfo* info = nullptr);

// ---- checksums (lib/sha256.cpp) ---------------------------------------------------------

/// SHA-256 of `bytes` as 64 lowercase hex digits (what `sha256sum` prints).
std::string sha256_hex(const std::string& bytes);

// ---- checkpoint manifests (lib/manifest.cpp) ------------------------------------------

/// The manifest's file name in a checkpoint folder.
constexpr const char* manifest_name = "xgrad-manifest.txt";

/// A checkpoint's manifest: the generation folder and, per parameter, its
/// file (path relative to the checkpoint folder: FOLDER/NAME.npy), dtype,
/// shape, size and SHA-256; and the files of the old layout (NAME.npy in the
/// checkpoint folder) that this checkpoint replaced and a save still has to
/// remove.
struct Manifest {
    std::string folder;
    std::vector<CheckpointFile> files;
    std::vector<std::string> old_layout_files;
};

/// The manifest as text (see lib/manifest.cpp for the format).
std::string manifest_text(const Manifest& m);

/// Read and check a manifest's text; IoError naming `path` and the line for
/// anything that is not exactly what manifest_text writes.
Manifest parse_manifest(const std::string& path, const std::string& text);

/// True when the first line of `text` is that of an xgrad manifest of any
/// format version: a file save_parameters may replace.
bool looks_like_manifest(const std::string& text);

/// When `name` is a generation folder's name, "xgrad-gen-N" with N a
/// decimal number without leading zeros: true, and N in `number`.
bool generation_number(const std::string& name, std::uint64_t& number);

// ---- parameter names (lib/checkpoint.cpp) ------------------------------------------------

/// Why `name` cannot be a parameter's name in a checkpoint, whose file is
/// NAME.npy ("" when it can): empty, starting with '.', holding a character
/// other than letters, digits, '_', '-' and '.', or longer than 251 bytes
/// (NAME.npy must fit the 255 bytes of a file name).
std::string parameter_name_problem(const std::string& name);

}  // namespace detail
}  // namespace xg

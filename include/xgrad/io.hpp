// xgrad — matrices and parameters on disk: numpy's .npy format, CSV and
// whitespace-separated text, IDX files (the MNIST family's format, plain or
// gzip-compressed), and checkpoints of named parameters.
//
// Readers trust nothing: they read only regular files, a .npy header (magic,
// version, dtype, order, shape) is checked against the file's size before the
// data is read, every CSV cell is checked, and any problem is an
// xg::IoError naming the file and what is wrong. Writers are atomic: the data
// goes to a temporary file in the same folder, which is flushed to disk and
// then renamed over the target, so a crash or a full disk never leaves a
// half-written file in place. A checkpoint (several files) switches from one
// set of files to the next with a single rename of its manifest.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <vector>

#include "xgrad/error.hpp"
#include "xgrad/graph.hpp"
#include "xgrad/tensor.hpp"

namespace xg {

// ---- .npy ---------------------------------------------------------------

/// What a .npy header says, once checked against the file's size.
struct NpyInfo {
    std::string descr;  ///< numpy dtype string, e.g. "<f8"
    bool fortran_order = false;
    std::vector<std::size_t> dims;  ///< the array's shape: 0, 1 or 2 dimensions
    Shape shape;                    ///< as a matrix: () → 1×1, (n,) → 1×n, (r, c) → r×c
};

/// Read and check the header of a .npy file (format versions 1.0, 2.0, 3.0)
/// without reading the data. Throws IoError naming the file when it is
/// missing or unreadable, is not a regular file (a folder, a device such as
/// /dev/zero, a FIFO), is not a .npy file, has an unsupported dtype
/// (supported: little-endian float32/64, int8–64, uint8–64, bool) or more
/// than two dimensions, or when its size is not the header plus exactly
/// rows·cols values (truncated or trailing bytes).
NpyInfo npy_info(const std::string& path);

/// Load a .npy file as a matrix, converting its dtype to T. A 1-D array of n
/// values becomes a 1 × n row (labels saved by numpy as shape (m,) load as
/// 1 × m); C and Fortran order are both read. The header is checked before
/// the data is read. Throws IoError as npy_info, and for a float64 file read
/// as float when a finite value is beyond float's range (it would become an
/// infinity; the message names the element and its value). Values that only
/// round, and NaN and infinities stored in the file, load as they are.
template <class T>
Matrix<T> load_npy(const std::string& path);

/// Write `m` as a .npy file (format 1.0, dtype "<f8" or "<f4", C order),
/// atomically. numpy's np.load and xtensor's xt::load_npy read it.
/// Throws IoError when the file cannot be written (the target is then untouched).
template <class T>
void save_npy(const std::string& path, const Matrix<T>& m);

// ---- CSV ----------------------------------------------------------------

/// Load a CSV file of numbers as a matrix: one line per row, cells separated
/// by `delimiter` (surrounding blanks ignored; ' ' means any run of spaces and
/// tabs, as numpy's savetxt writes), blank lines and lines starting with '#'
/// skipped, the first `skip_rows` lines (a header) ignored. A UTF-8
/// byte-order mark at the start of the file is skipped. Throws IoError naming
/// the file, line and column for a cell that is not a number (saying which
/// delimiter the line seems to use when it is not `delimiter`), is empty, or
/// is out of T's range (1e400); for rows of different lengths; for a file
/// with no data; and for UTF-16 text.
template <class T>
Matrix<T> load_csv(const std::string& path, char delimiter = ',', std::size_t skip_rows = 0);

/// Write `m` as CSV, atomically, with enough digits (17 for double, 9 for
/// float) that load_csv reads back exactly the same values.
template <class T>
void save_csv(const std::string& path, const Matrix<T>& m, char delimiter = ',');

// ---- either, by extension -------------------------------------------------

/// load_npy for a path ending in ".npy", load_csv for ".csv"; for ".txt",
/// whitespace-separated values as numpy's savetxt writes them by default, or
/// comma-separated when the first line of data holds a comma. IoError for
/// any other extension.
template <class T>
Matrix<T> load_matrix(const std::string& path);

/// save_npy or save_csv by extension, as load_matrix: ".csv" with commas,
/// ".txt" with spaces (what numpy's loadtxt reads by default).
template <class T>
void save_matrix(const std::string& path, const Matrix<T>& m);

// ---- IDX (the MNIST family's format) ----------------------------------------

/// The element type of an IDX file, its header's third byte. Multi-byte
/// values are stored big-endian.
enum class IdxType : std::uint8_t {
    u8 = 0x08,   ///< unsigned byte (MNIST's pixels and labels)
    i8 = 0x09,   ///< signed byte
    i16 = 0x0B,  ///< int16
    i32 = 0x0C,  ///< int32
    f32 = 0x0D,  ///< float32
    f64 = 0x0E,  ///< float64
};

/// The type's name in messages: "unsigned byte", "signed byte", "int16",
/// "int32", "float32" or "float64".
std::string to_string(IdxType type);

/// What an IDX file's header says: the element type and 1 to 3 sizes, the
/// first of which counts the items (images, labels).
struct IdxInfo {
    IdxType type = IdxType::u8;
    std::vector<std::size_t> dims;  ///< 1 to 3 sizes, e.g. (60000, 28, 28) for images, (60000) for labels
    bool gzip = false;              ///< the file is gzip-compressed

    /// dims[0], the number of items.
    std::size_t items() const { return dims.empty() ? 0 : dims[0]; }
    /// The values per item: the product of dims[1], dims[2] (784 for 28 × 28 images, 1 for labels).
    std::size_t item_size() const {
        std::size_t n = 1;
        for (std::size_t k = 1; k < dims.size(); ++k) n *= dims[k];
        return n;
    }
};

/// The values of an IDX file converted to T, with its header.
template <class T>
struct IdxArray {
    IdxInfo info;      ///< the header; dims[0] is the number of items loaded
    Matrix<T> values;  ///< items × item_size: one item per row, in the file's order (row by row for an image)

    /// item_size × items, one item per column: xgrad's layout of examples (X
    /// is n_x × m); for 1-D labels, the 1 × m row of a data set's Y.
    Matrix<T> columns() const;
};

/// Read and check the header of an IDX file, plain or gzip-compressed (the
/// file is gzip when it starts with the bytes 1f 8b, whatever its name).
/// The header is two zero bytes, the element type (IdxType), the number of
/// dimensions (1 to 3) and each size as a big-endian uint32; the values
/// follow, the last index fastest. Throws IoError naming the file when it is
/// missing or unreadable, is not a regular file, does not start with two
/// zero bytes (nor with gzip's magic), has an unknown element type, 0 or
/// more than 3 dimensions, sizes whose product overflows, or a truncated
/// header; for a plain file, when its size is not the header plus exactly
/// the values the sizes call for; for a gzip file, when the stream is
/// corrupt or cut short within the header, or the sizes call for more bytes
/// than the file could decompress to. Reads no values (a gzip file's size
/// after decompression is checked by load_idx).
IdxInfo idx_info(const std::string& path);

/// Load an IDX file, plain or gzip-compressed, converting its values to T:
/// the first min(max_items, dims[0]) items (all by default). The header is
/// checked first, as idx_info does; then exactly the bytes of those items
/// are read, or decompressed, and nothing after them. A full load then
/// checks that the data ends where the header says: too few bytes
/// ("47040000 data bytes expected, 1000 found") and trailing bytes are
/// IoErrors. A partial load of a plain file has its size checked from the
/// header; of a gzip file, the size its last trailer records is compared
/// with the header's, and only when they differ (several gzip members, or
/// damage) is the rest decompressed to find out. A corrupt gzip stream, and
/// for T = float a finite float64 value beyond float's range, are IoErrors
/// too. Messages name the file.
template <class T>
IdxArray<T> load_idx(const std::string& path, std::size_t max_items = std::numeric_limits<std::size_t>::max());

// ---- parameters -------------------------------------------------------------

/// One parameter's file in a checkpoint.
struct CheckpointFile {
    std::string name;          ///< the parameter's name
    std::string path;          ///< its .npy file: DIR/xgrad-gen-N/NAME.npy (DIR/NAME.npy in the old layout)
    std::string descr;         ///< numpy dtype string: "<f8" or "<f4"
    Shape shape;               ///< the matrix's shape
    std::uint64_t bytes = 0;   ///< the file's size
    std::string sha256;        ///< the file's SHA-256, 64 hex digits ("" in the old layout: nothing to check)
};

/// What a checkpoint folder holds, as its manifest lists it.
struct CheckpointInfo {
    std::string manifest;               ///< DIR/xgrad-manifest.txt ("" for a folder of the old layout)
    std::vector<CheckpointFile> files;  ///< one per parameter, in the order they were saved
    /// The file of the parameter named `name`, or nullptr when there is none.
    const CheckpointFile* find(const std::string& name) const;
};

/// Save the parameters as one checkpoint in folder DIR (created if needed),
/// replacing the checkpoint DIR held, if any, as one unit. The values go to
/// DIR/xgrad-gen-N/NAME.npy, one plain .npy file per parameter (NAME its
/// name, N one more than any generation in DIR), each flushed to disk; then
/// the manifest DIR/xgrad-manifest.txt, which lists each file with its shape,
/// dtype, size and SHA-256, is written to a temporary file and renamed over
/// the old one: that rename is the switch from the old checkpoint to the new.
/// Afterwards the previous generation, and any left by an interrupted save,
/// are removed (only the .npy files in xgrad-gen-N folders and the
/// manifest's temporaries: never a file the checkpoint does not own; in a
/// folder of the old layout, also the DIR/NAME.npy of each saved name).
/// A reader sees the whole old checkpoint or the whole new one. One writer
/// at a time per folder. Throws ValueError for an empty handle or a name that
/// is empty, repeated, starts with '.', is not made of letters, digits, '_',
/// '-' and '.', or is longer than 251 bytes; IoError when a file cannot be
/// written (the old checkpoint is then as it was) or DIR/xgrad-manifest.txt
/// is something save_parameters did not write.
template <class T>
void save_parameters(const std::string& dir, const std::vector<Parameter<T>>& params);

/// Load into each parameter the value of that name in the checkpoint in DIR.
/// The manifest is read once, and each file is checked against it — present,
/// of the listed size and SHA-256, shape and dtype (IoError "FILE does not
/// match the checkpoint's manifest: …" for a missing, changed, swapped or
/// truncated file or manifest) — then against the parameter: of its current
/// shape (ShapeError), finite (ValueError). Only when every file passes is
/// any parameter assigned: a failed load leaves every parameter untouched.
/// A folder of the old layout (DIR/NAME.npy, no manifest) still loads, each
/// file checked on its own: whether its files belong together cannot be
/// checked. Gradients are not touched.
template <class T>
void load_parameters(const std::string& dir, const std::vector<Parameter<T>>& params);

/// The files of the checkpoint in DIR: its manifest, read and checked (the
/// .npy files themselves are not read), or for a folder of the old layout
/// each DIR/NAME.npy, with the shape npy_info reads. IoError for a missing
/// folder, a corrupt manifest, or a folder with neither a manifest nor a .npy
/// file.
CheckpointInfo checkpoint_info(const std::string& dir);

/// save_parameters(dir, {W, b}): the same, for a braced list.
template <class T>
void save_parameters(const std::string& dir, std::initializer_list<Parameter<T>> params) {
    save_parameters(dir, std::vector<Parameter<T>>(params));
}

/// load_parameters(dir, {W, b}): the same, for a braced list.
template <class T>
void load_parameters(const std::string& dir, std::initializer_list<Parameter<T>> params) {
    load_parameters(dir, std::vector<Parameter<T>>(params));
}

extern template Matrix<float> load_npy(const std::string&);
extern template Matrix<double> load_npy(const std::string&);
extern template void save_npy(const std::string&, const Matrix<float>&);
extern template void save_npy(const std::string&, const Matrix<double>&);
extern template Matrix<float> load_csv(const std::string&, char, std::size_t);
extern template Matrix<double> load_csv(const std::string&, char, std::size_t);
extern template void save_csv(const std::string&, const Matrix<float>&, char);
extern template void save_csv(const std::string&, const Matrix<double>&, char);
extern template Matrix<float> load_matrix(const std::string&);
extern template Matrix<double> load_matrix(const std::string&);
extern template void save_matrix(const std::string&, const Matrix<float>&);
extern template void save_matrix(const std::string&, const Matrix<double>&);
extern template struct IdxArray<float>;
extern template struct IdxArray<double>;
extern template IdxArray<float> load_idx(const std::string&, std::size_t);
extern template IdxArray<double> load_idx(const std::string&, std::size_t);
extern template void save_parameters(const std::string&, const std::vector<Parameter<float>>&);
extern template void save_parameters(const std::string&, const std::vector<Parameter<double>>&);
extern template void load_parameters(const std::string&, const std::vector<Parameter<float>>&);
extern template void load_parameters(const std::string&, const std::vector<Parameter<double>>&);

namespace detail {

/// Test hook, not API: when set, save_parameters calls it between its
/// filesystem steps with the step's number (0, 1, 2, … in order) and what
/// was just done. tests/test_io.cpp kills the process or throws there, at
/// every step, to check that a reader only ever sees a whole checkpoint. An
/// exception thrown before the switch fails the save like a failed write;
/// after it, it is ignored. Null by default: one test of a pointer per step.
extern void (*checkpoint_step_hook)(int step, const char* done);

}  // namespace detail

}  // namespace xg

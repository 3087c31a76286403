// xgrad — matrices and parameters on disk: numpy's .npy format and CSV.
//
// Readers trust nothing: a .npy header (magic, version, dtype, order, shape)
// and its byte count, or every CSV cell, is checked before a value is used,
// and any problem is an xg::IoError naming the file and what is wrong.
// Writers are atomic: the data goes to a temporary file in the same folder,
// which is flushed to disk and then renamed over the target, so a crash or a
// full disk never leaves a half-written file in place.
#pragma once

#include <initializer_list>
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
/// missing or unreadable, is not a .npy file, has an unsupported dtype
/// (supported: little-endian float32/64, int8–64, uint8–64, bool) or more
/// than two dimensions, or when its size is not the header plus exactly
/// rows·cols values (truncated or trailing bytes).
NpyInfo npy_info(const std::string& path);

/// Load a .npy file as a matrix, converting its dtype to T. A 1-D array of n
/// values becomes a 1 × n row (labels saved by numpy as shape (m,) load as
/// 1 × m); C and Fortran order are both read. Throws IoError as npy_info.
template <class T>
Matrix<T> load_npy(const std::string& path);

/// Write `m` as a .npy file (format 1.0, dtype "<f8" or "<f4", C order),
/// atomically. numpy's np.load and xtensor's xt::load_npy read it.
/// Throws IoError when the file cannot be written (the target is then untouched).
template <class T>
void save_npy(const std::string& path, const Matrix<T>& m);

// ---- CSV ----------------------------------------------------------------

/// Load a CSV file of numbers as a matrix: one line per row, cells separated
/// by `delimiter` (surrounding blanks ignored), blank lines and lines starting
/// with '#' skipped, the first `skip_rows` lines (a header) ignored. Throws
/// IoError naming the file, line and column for a cell that is not a number
/// (or is empty), for rows of different lengths, and for a file with no data.
template <class T>
Matrix<T> load_csv(const std::string& path, char delimiter = ',', std::size_t skip_rows = 0);

/// Write `m` as CSV, atomically, with enough digits (17 for double, 9 for
/// float) that load_csv reads back exactly the same values.
template <class T>
void save_csv(const std::string& path, const Matrix<T>& m, char delimiter = ',');

// ---- either, by extension -------------------------------------------------

/// load_npy for a path ending in ".npy", load_csv for ".csv" or ".txt";
/// IoError for any other extension.
template <class T>
Matrix<T> load_matrix(const std::string& path);

/// save_npy or save_csv by extension, as load_matrix.
template <class T>
void save_matrix(const std::string& path, const Matrix<T>& m);

// ---- parameters -------------------------------------------------------------

/// Save each parameter as DIR/NAME.npy, NAME its name (W1.npy, b1.npy, …), creating DIR if
/// needed. Every file is first written in full to a temporary file; only
/// when all are written are they renamed into place, so a failure while
/// writing leaves any previous checkpoint in DIR as it was. Throws ValueError
/// for an empty handle or a name that is empty, repeated, or not made of
/// letters, digits, '_', '-' and '.'; IoError when a file cannot be written.
template <class T>
void save_parameters(const std::string& dir, const std::vector<Parameter<T>>& params);

/// Load DIR/NAME.npy into each parameter of that name. Every file is read and checked
/// first — present and well-formed (IoError), of the parameter's current
/// shape (ShapeError), finite (ValueError) — and only when all pass is any
/// parameter assigned: a failed load leaves every parameter untouched. Each
/// message names the file. Gradients are not touched.
template <class T>
void load_parameters(const std::string& dir, const std::vector<Parameter<T>>& params);

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
extern template void save_parameters(const std::string&, const std::vector<Parameter<float>>&);
extern template void save_parameters(const std::string&, const std::vector<Parameter<double>>&);
extern template void load_parameters(const std::string&, const std::vector<Parameter<float>>&);
extern template void load_parameters(const std::string&, const std::vector<Parameter<double>>&);

}  // namespace xg

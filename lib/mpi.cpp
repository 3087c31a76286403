// Data-parallel training on MPI: the context, shards, sharded mini-batches
// and the fused gradient allreduce (include/xgrad/mpi.hpp).
#include "xgrad/mpi.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "columns.hpp"
#include "xgrad/error.hpp"
#include "instantiate.hpp"

namespace xg {
namespace mpi {

namespace {

template <class T>
MPI_Datatype datatype();
template <>
MPI_Datatype datatype<float>() {
    return MPI_FLOAT;
}
template <>
MPI_Datatype datatype<double>() {
    return MPI_DOUBLE;
}

/// Throw Error when an MPI call fails (the default handler aborts first; a
/// communicator with MPI_ERRORS_RETURN gets here).
void check(int rc, const char* what) {
    if (rc == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, text, &len);
    throw Error(std::string("xg::mpi: ") + what + " failed: " + std::string(text, std::size_t(len)));
}

}  // namespace

// ---- Context -----------------------------------------------------------------------

Context::Context(int& argc, char**& argv) : comm_(MPI_COMM_WORLD) {
    int initialised = 0;
    MPI_Initialized(&initialised);
    if (!initialised) {
        check(MPI_Init(&argc, &argv), "MPI_Init");
        finalize_ = true;
    }
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
}

Context::Context(MPI_Comm comm) : comm_(comm) {
    int initialised = 0;
    MPI_Initialized(&initialised);
    if (!initialised) throw Error("xg::mpi::Context(comm): MPI is not initialised (call MPI_Init first)");
    check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
    check(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
}

Context::~Context() {
    if (!finalize_) return;
    int finalised = 0;
    MPI_Finalized(&finalised);
    if (!finalised) MPI_Finalize();
}

double Context::sum(double x) const {
    double s = 0;
    check(MPI_Allreduce(&x, &s, 1, MPI_DOUBLE, MPI_SUM, comm_), "MPI_Allreduce");
    return s;
}

double Context::weighted_mean(double x, double w) const {
    double in[2] = {w * x, w}, out[2] = {0, 0};
    check(MPI_Allreduce(in, out, 2, MPI_DOUBLE, MPI_SUM, comm_), "MPI_Allreduce");
    if (out[1] == 0) throw ValueError("xg::mpi::weighted_mean: the weights sum to 0 over the ranks");
    return out[0] / out[1];
}

void Context::barrier() const { check(MPI_Barrier(comm_), "MPI_Barrier"); }

int run(int& argc, char**& argv, const std::function<int(Context&)>& fn) {
    // MPI_Init failing aborts through MPI's own handler; anything fn throws
    // aborts the whole job, so no rank is left waiting in a collective.
    Context ctx(argc, argv);
    try {
        return fn(ctx);
    } catch (const std::exception& e) {
        std::fflush(stdout);
        std::fprintf(stderr, "rank %d: %s\n", ctx.rank(), e.what());
        std::fflush(stderr);
    } catch (...) {
        std::fflush(stdout);
        std::fprintf(stderr, "rank %d: unknown exception\n", ctx.rank());
        std::fflush(stderr);
    }
    MPI_Abort(MPI_COMM_WORLD, 1);
    return 1;  // not reached: MPI_Abort ends the process
}

// ---- shards -------------------------------------------------------------------------

ColumnRange shard_range(std::size_t m, int rank, int ranks) {
    if (ranks < 1 || rank < 0 || rank >= ranks) {
        throw ValueError("xg::mpi::shard_range: rank " + std::to_string(rank) + " is not one of 0 … " +
                         std::to_string(ranks - 1) + " (" + std::to_string(ranks) + " ranks)");
    }
    const std::size_t n = std::size_t(ranks), r = std::size_t(rank);
    if (m < n) {
        throw ValueError("xg::mpi::shard_range: " + std::to_string(m) + " columns cannot be split over " +
                         std::to_string(ranks) + " ranks (each rank needs at least one example)");
    }
    const std::size_t base = m / n, extra = m % n;
    ColumnRange c;
    c.begin = r * base + std::min(r, extra);
    c.end = c.begin + base + (r < extra ? 1 : 0);
    return c;
}

template <class T>
Matrix<T> shard_columns(const Matrix<T>& A, int rank, int ranks) {
    const ColumnRange c = shard_range(A.shape()[1], rank, ranks);
    const std::size_t rows = A.shape()[0], cols = A.shape()[1];
    Matrix<T> out({rows, c.size()});
    for (std::size_t i = 0; i < rows; ++i) {
        std::copy(A.data() + i * cols + c.begin, A.data() + i * cols + c.end, out.data() + i * c.size());
    }
    return out;
}

// ---- ShardedMiniBatches ------------------------------------------------------------------

namespace {
/// The 1 × m row 0, 1, …, m − 1.
Matrix<double> column_indices(std::size_t m) {
    if (m == 0) throw ShapeError("ShardedMiniBatches: the data set has no columns (m = 0)");
    Matrix<double> idx({std::size_t(1), m});
    for (std::size_t j = 0; j < m; ++j) idx(0, j) = double(j);
    return idx;
}
}  // namespace

template <class T>
ShardedMiniBatches<T>::ShardedMiniBatches(const Matrix<T>& X_local, const Matrix<T>& Y_local, ColumnRange shard,
                                          std::size_t m, std::size_t batch_size, std::uint32_t seed, bool shuffle)
    : X_(X_local),
      Y_(Y_local),
      shard_(shard),
      index_(column_indices(m)),
      batches_(index_, index_, batch_size, seed, shuffle),
      batch_index_({std::size_t(1), std::size_t(0)}) {
    if (shard.begin > shard.end || shard.end > m) {
        throw ShapeError("ShardedMiniBatches: the shard [" + std::to_string(shard.begin) + ", " +
                         std::to_string(shard.end) + ") does not lie in the " + std::to_string(m) + " columns");
    }
    if (X_local.shape()[1] != shard.size() || Y_local.shape()[1] != shard.size()) {
        throw ShapeError("ShardedMiniBatches: the shard [" + std::to_string(shard.begin) + ", " +
                         std::to_string(shard.end) + ") has " + std::to_string(shard.size()) +
                         " columns, but X is [" + to_string(shape_of(X_local)) + "] and Y [" +
                         to_string(shape_of(Y_local)) + "]");
    }
    mine_.reserve(std::min(batch_size, shard.size()));
    batch_.columns.reserve(std::min(batch_size, shard.size()));
}

template <class T>
std::pair<Var<T>, Var<T>> ShardedMiniBatches<T>::inputs(Graph<T>& g, const std::string& x_name,
                                                        const std::string& y_name) const {
    const std::size_t b = std::min(batches_.batch_size(), shard_.size());
    if (b == 0) {
        throw ShapeError("ShardedMiniBatches::inputs: the shard [" + std::to_string(shard_.begin) + ", " +
                         std::to_string(shard_.end) + ") holds no columns to make the input leaves of");
    }
    return detail::first_columns_as_inputs(g, X_, Y_, b, x_name, y_name);
}

template <class T>
EpochRange<ShardedMiniBatches<T>> ShardedMiniBatches<T>::next_epoch() {
    if (batches_.position() != 0) {
        throw ValueError("ShardedMiniBatches::next_epoch: epoch " + std::to_string(batches_.epoch()) +
                         " is partly given out (" + std::to_string(batches_.position()) + " of " +
                         std::to_string(batches_.examples()) +
                         " examples, by next() or by a loop over next_epoch() left early); finish it with "
                         "next() until it returns false, so that no example is skipped");
    }
    return EpochRange<ShardedMiniBatches<T>>(*this);
}

template <class T>
bool ShardedMiniBatches<T>::take() {
    if (!batches_.next(batch_index_, unused_)) return false;
    mine_.clear();
    for (double c : batch_index_) {
        const std::size_t j = std::size_t(c);
        if (j >= shard_.begin && j < shard_.end) mine_.push_back(j - shard_.begin);
    }
    return true;
}

template <class T>
bool ShardedMiniBatches<T>::next(Matrix<T>& Xb, Matrix<T>& Yb) {
    if (!take()) return false;
    detail::gather_columns(X_, mine_.data(), mine_.size(), Xb, spare_X_);
    detail::gather_columns(Y_, mine_.data(), mine_.size(), Yb, spare_Y_);
    return true;
}

template <class T>
bool ShardedMiniBatches<T>::advance() {
    if (!take()) return false;
    detail::gather_columns(X_, mine_.data(), mine_.size(), batch_.X, spare_X_);
    detail::gather_columns(Y_, mine_.data(), mine_.size(), batch_.Y, spare_Y_);
    batch_.columns.resize(mine_.size());
    for (std::size_t j = 0; j < mine_.size(); ++j) batch_.columns[j] = shard_.begin + mine_[j];
    return true;
}

// ---- DataParallel ---------------------------------------------------------------------

template <class T>
DataParallel<T>::DataParallel(const Context& ctx, std::vector<Parameter<T>> params, LossReduction reduction)
    : ctx_(ctx), params_(std::move(params)), reduction_(reduction) {
    // Every rank must agree on the buffer's layout before any allreduce of
    // it: compare the shapes across ranks first, so that a mismatch makes
    // every rank throw instead of some of them reducing garbage.
    bool empty = params_.empty();
    for (const Parameter<T>& p : params_) empty = empty || !p;
    std::vector<unsigned long long> mine;
    mine.push_back(empty ? 0 : params_.size());
    if (!empty) {
        for (const Parameter<T>& p : params_) {
            shapes_.push_back(p.shape());
            mine.push_back(p.shape().rows);
            mine.push_back(p.shape().cols);
        }
    }
    // First the lengths (so that the second allreduce has equal counts), then the shapes.
    unsigned long long len = mine.size(), lo = 0, hi = 0;
    check(MPI_Allreduce(&len, &lo, 1, MPI_UNSIGNED_LONG_LONG, MPI_MIN, ctx_.comm()), "MPI_Allreduce");
    check(MPI_Allreduce(&len, &hi, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, ctx_.comm()), "MPI_Allreduce");
    bool same = lo == hi;
    if (same) {
        std::vector<unsigned long long> mins(mine.size()), maxs(mine.size());
        check(MPI_Allreduce(mine.data(), mins.data(), int(mine.size()), MPI_UNSIGNED_LONG_LONG, MPI_MIN,
                            ctx_.comm()),
              "MPI_Allreduce");
        check(MPI_Allreduce(mine.data(), maxs.data(), int(mine.size()), MPI_UNSIGNED_LONG_LONG, MPI_MAX,
                            ctx_.comm()),
              "MPI_Allreduce");
        same = mins == maxs;
    }
    if (!same || lo <= 1) {
        std::string shapes;
        for (Shape s : shapes_) shapes += (shapes.empty() ? "" : ", ") + to_string(s);
        throw ValueError("xg::mpi::DataParallel: " +
                         std::string(lo <= 1 ? "a rank has no parameters (an empty list or handle)"
                                             : "the ranks' parameter lists differ") +
                         "; rank " + std::to_string(ctx_.rank()) + " has " + std::to_string(shapes_.size()) +
                         " parameter(s) [" + shapes + "]: every rank must build the same model");
    }
    std::size_t n = 2;
    for (Shape s : shapes_) n += s.size();
    buffer_.assign(n, T(0));
}

template <class T>
void DataParallel<T>::broadcast_parameters() {
    T* b = buffer_.data();
    for (std::size_t i = 0; i < params_.size(); ++i) {
        const Parameter<T>& p = params_[i];
        if (p.shape() != shapes_[i]) {
            throw ShapeError("xg::mpi::DataParallel::broadcast_parameters: parameter " + p.name() + " is [" +
                             to_string(p.shape()) + "], was [" + to_string(shapes_[i]) + "] on rank " +
                             std::to_string(ctx_.rank()));
        }
        b = std::copy(p.value().data(), p.value().data() + p.value().size(), b);
    }
    check(MPI_Bcast(buffer_.data(), int(buffer_.size()), datatype<T>(), 0, ctx_.comm()), "MPI_Bcast");
    const T* c = buffer_.data();
    for (Parameter<T>& p : params_) {
        std::copy(c, c + p.value().size(), p.value().data());
        c += p.value().size();
    }
}

template <class T>
T DataParallel<T>::allreduce_gradients(std::size_t local_columns, T local_cost) {
    // Weights m_r (mean) or 1 (sum), the summed weight last in the buffer.
    // A lone rank's gradient is the full-batch one already: it passes with
    // weight 1 (no rounding), so one rank is bit for bit one process.
    const bool mean = reduction_ == LossReduction::mean && ctx_.size() > 1;
    const T w = local_columns == 0 ? T(0) : mean ? T(local_columns) : T(1);
    T* b = buffer_.data();
    for (std::size_t i = 0; i < params_.size(); ++i) {
        const Matrix<T>& g = params_[i].grad();
        const std::size_t n = shapes_[i].size();
        if (w == T(0)) {
            std::fill(b, b + n, T(0));
        } else {
            if (shape_of(g) != shapes_[i] || params_[i].shape() != shapes_[i]) {
                throw ShapeError("xg::mpi::DataParallel::allreduce_gradients: parameter " + params_[i].name() +
                                 " has value [" + to_string(params_[i].shape()) + "] and grad [" +
                                 to_string(shape_of(g)) + "], was [" + to_string(shapes_[i]) + "] on rank " +
                                 std::to_string(ctx_.rank()));
            }
            const T* d = g.data();
            for (std::size_t k = 0; k < n; ++k) b[k] = w * d[k];
        }
        b += n;
    }
    b[0] = w == T(0) ? T(0) : w * local_cost;
    b[1] = w;

    const double t0 = MPI_Wtime();
    check(MPI_Allreduce(MPI_IN_PLACE, buffer_.data(), int(buffer_.size()), datatype<T>(), MPI_SUM, ctx_.comm()),
          "MPI_Allreduce");
    comm_seconds_ += MPI_Wtime() - t0;
    ++steps_;

    const T total = b[1];
    if (total == T(0)) {
        throw ValueError("xg::mpi::DataParallel::allreduce_gradients: no rank has any column in this step");
    }
    const T* c = buffer_.data();
    for (std::size_t i = 0; i < params_.size(); ++i) {
        Matrix<T>& g = params_[i].grad();
        if (shape_of(g) != shapes_[i]) g.resize({shapes_[i].rows, shapes_[i].cols});  // a rank with no columns
        T* d = g.data();
        const std::size_t n = shapes_[i].size();
        if (mean) {
            for (std::size_t k = 0; k < n; ++k) d[k] = c[k] / total;
        } else {
            std::copy(c, c + n, d);
        }
        c += n;
    }
    return mean ? b[0] / total : b[0];
}

template <class T>
bool DataParallel<T>::parameters_identical() const {
    // Compare bits, not values (a NaN or a signed zero must match too): the
    // MIN and MAX over the ranks of each entry's bit pattern agree exactly
    // when every rank holds the same bits.
    std::vector<std::uint64_t> bits;
    bits.reserve(buffer_.size());
    for (const Parameter<T>& p : params_) {
        for (T v : p.value()) {
            std::uint64_t u = 0;
            std::memcpy(&u, &v, sizeof v);
            bits.push_back(u);
        }
    }
    std::vector<std::uint64_t> lo(bits.size()), hi(bits.size());
    check(MPI_Allreduce(bits.data(), lo.data(), int(bits.size()), MPI_UINT64_T, MPI_MIN, ctx_.comm()),
          "MPI_Allreduce");
    check(MPI_Allreduce(bits.data(), hi.data(), int(bits.size()), MPI_UINT64_T, MPI_MAX, ctx_.comm()),
          "MPI_Allreduce");
    return lo == hi;
}

#define XG_MPI_INSTANTIATIONS(T)                                  \
    template Matrix<T> shard_columns(const Matrix<T>&, int, int); \
    template class ShardedMiniBatches<T>;                         \
    template class DataParallel<T>;
XG_INSTANTIATE_FLOAT_DOUBLE(XG_MPI_INSTANTIATIONS)
#undef XG_MPI_INSTANTIATIONS

}  // namespace mpi
}  // namespace xg

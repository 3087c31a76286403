// xgrad — synchronous data-parallel training on MPI (the optional xgrad_mpi
// library; link it, and MPI, only where it is used).
//
// Every rank (process) builds the same model on its own shard of the columns
// of X and Y and replays the same graph. After each backward pass one
// MPI_Allreduce of one fused buffer turns every rank's gradient into the
// full-batch gradient, so every rank then applies the same optimiser step to
// the same numbers and the ranks' parameters stay bit-identical:
//
//     xg::mpi::run(argc, argv, [](xg::mpi::Context& ctx) {
//         ... the data, each rank keeping shard_columns(X, ctx.rank(), ctx.size()) ...
//         xg::mpi::DataParallel<double> dp(ctx, model.parameters());
//         dp.broadcast_parameters();                       // all ranks start as rank 0
//         for (...) {
//             g.forward(); g.backward(J);
//             double cost = dp.allreduce_gradients(m_r, J.value()(0, 0));
//             opt.step();
//         }
//     });
//
// Weighting. xgrad's losses are means over the columns (J = (1/m) Σ_j ℓ_j).
// A rank holding m_r columns computes g_r = ∇J_r with J_r = (1/m_r) Σ_{j∈r} ℓ_j;
// the full-batch gradient over m = Σ_r m_r columns is Σ_r (m_r / m) g_r, and
// the full-batch cost Σ_r (m_r / m) J_r. allreduce_gradients sums
// [m_r g_r, m_r J_r, m_r] over the ranks and divides by the summed m, so
// shards of unequal size (and ranks whose shard of a mini-batch is empty)
// give exactly the one-process result, up to the order of the additions.
// For a loss that is a sum over the columns, use LossReduction::sum.
//
// docs/distributed.md explains running (mpirun, hostfiles) and scaling.
#pragma once

#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1  // Open MPI: the C API only (its C++ bindings are deprecated)
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "xgrad/data.hpp"
#include "xgrad/graph.hpp"
#include "xgrad/tensor.hpp"

namespace xg {
namespace mpi {

// ---- the MPI environment ---------------------------------------------------------

/// A communicator and this process's place in it. Made from argc/argv it
/// initialises MPI (unless the program already did) and finalises it when
/// destroyed; made from an existing communicator it only wraps it.
class Context {
public:
    /// MPI_Init unless MPI is already initialised; MPI_COMM_WORLD. MPI_Finalize
    /// in the destructor when this Context initialised it.
    Context(int& argc, char**& argv);
    /// Wrap `comm` of an MPI the caller initialised (and will finalise).
    explicit Context(MPI_Comm comm);
    ~Context();
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;

    /// This process's rank, 0 … size() − 1.
    int rank() const { return rank_; }
    /// Number of processes in the communicator.
    int size() const { return size_; }
    /// True on rank 0 (the rank that prints).
    bool root() const { return rank_ == 0; }
    MPI_Comm comm() const { return comm_; }

    /// Σ_r x_r over the ranks, the same on every rank (collective).
    double sum(double x) const;
    /// Σ_r w_r x_r / Σ_r w_r, the same on every rank (collective): e.g. the
    /// accuracy over all examples from each rank's accuracy on its m_r
    /// examples. ValueError (on every rank) when Σ_r w_r is 0.
    double weighted_mean(double x, double w) const;
    /// Wait until every rank gets here (collective).
    void barrier() const;

private:
    MPI_Comm comm_;
    int rank_ = 0, size_ = 1;
    bool finalize_ = false;
};

/// Initialise MPI, call fn(ctx) on every rank and return its result, then
/// finalise MPI. When fn throws on any rank, that rank prints
/// "rank <r>: <what()>" to stderr and calls MPI_Abort(MPI_COMM_WORLD, 1):
/// every rank of the job ends and mpirun exits non-zero, instead of the
/// other ranks waiting forever in their next collective.
int run(int& argc, char**& argv, const std::function<int(Context&)>& fn);

// ---- shards -----------------------------------------------------------------------

/// The columns [begin, end) of one rank's shard.
struct ColumnRange {
    std::size_t begin = 0;
    std::size_t end = 0;
    std::size_t size() const { return end - begin; }
};

/// Rank `rank`'s contiguous shard of m columns split over `ranks`: sizes
/// differ by at most one, the first m mod ranks ranks getting one more.
/// ValueError unless 0 ≤ rank < ranks and m ≥ ranks (each rank needs a column).
ColumnRange shard_range(std::size_t m, int rank, int ranks);

/// The columns of A in shard_range(A.cols, rank, ranks): n × m_r. Give X
/// and Y the same rank and ranks, and their columns stay paired.
/// ValueError as shard_range.
template <class T>
Matrix<T> shard_columns(const Matrix<T>& A, int rank, int ranks);

/// The mini-batches MiniBatches(X, Y, batch_size, seed, shuffle) (xgrad/data.hpp)
/// would give on one process over all m columns — the same permutations of
/// Rng(seed), the same batch boundaries — where each rank holds only its
/// shard (columns [shard.begin, shard.end) of the full data) and takes the
/// columns of each batch that fall in it, in batch order. Summed over the
/// ranks with allreduce_gradients, the gradient of each step is that of the
/// one-process batch, so a run reproduces the one-process run. A rank's part
/// of a batch can be empty (0 columns): it then skips its forward and
/// backward pass but still takes part in allreduce_gradients(0, 0).
///
/// The batches of column indices come from a MiniBatches over the indices
/// 0 … m−1, so each rank keeps two arrays of m numbers, not the other
/// ranks' examples. Holds references to X_local and Y_local, which must
/// outlive it; not copyable. Train with it as with MiniBatches: the leaves
/// from inputs(g), then `for (const xg::Batch<T>& batch : batches.next_epoch())`.
template <class T>
class ShardedMiniBatches {
public:
    using batch_type = Batch<T>;

    /// X_local (n_x × m_r) and Y_local (n_y × m_r) are the columns `shard`
    /// of the m-column data set. ShapeError when they do not have
    /// shard.size() columns or shard does not lie in [0, m); ValueError for
    /// a batch size of 0.
    ShardedMiniBatches(const Matrix<T>& X_local, const Matrix<T>& Y_local, ColumnRange shard, std::size_t m,
                       std::size_t batch_size, std::uint32_t seed = 0, bool shuffle = true);
    ShardedMiniBatches(Matrix<T>&&, const Matrix<T>&, ColumnRange, std::size_t, std::size_t, std::uint32_t = 0,
                       bool = true) = delete;
    ShardedMiniBatches(const Matrix<T>&, Matrix<T>&&, ColumnRange, std::size_t, std::size_t, std::uint32_t = 0,
                       bool = true) = delete;
    ShardedMiniBatches(const ShardedMiniBatches&) = delete;
    ShardedMiniBatches& operator=(const ShardedMiniBatches&) = delete;

    /// This rank's input leaves, named `x_name` and `y_name`, made without
    /// consuming a batch: they hold the shard's first min(batch_size, m_r)
    /// columns (each step's set_value replaces them). ShapeError for an
    /// empty shard.
    std::pair<Var<T>, Var<T>> inputs(Graph<T>& g, const std::string& x_name = "X",
                                     const std::string& y_name = "Y") const;

    /// The next epoch's batches, as MiniBatches::next_epoch(): each batch
    /// holds this rank's part (b_r ≥ 0 columns; `columns` are their indices
    /// in the full data set), and every rank iterates the same number of
    /// batches. ValueError when the current epoch is partly given out.
    EpochRange<ShardedMiniBatches> next_epoch();

    /// This rank's columns of the next batch into Xb (n_x × b_r) and Yb
    /// (n_y × b_r), b_r ≥ 0; returns true. When b_r changes, each swaps its
    /// buffer with a spare kept here that holds the previous size's, as
    /// MiniBatches::next does: parts alternating between two sizes allocate
    /// only the first time each is seen (with shuffling, b_r varies from
    /// batch to batch; a size that is neither of the last two is allocated).
    /// At the end of an epoch returns false (on every rank alike) and starts
    /// the next epoch. The step under next_epoch(); never call it to get a
    /// batch to build a graph on (inputs() makes the leaves).
    bool next(Matrix<T>& Xb, Matrix<T>& Yb);

    /// Columns of the last batch over all ranks (Σ_r b_r).
    std::size_t batch_columns() const { return batch_index_.shape()[1]; }
    /// Batches per epoch: ⌈m / batch_size⌉.
    std::size_t batches() const { return batches_.batches(); }
    std::size_t epoch() const { return batches_.epoch(); }
    std::size_t examples() const { return batches_.examples(); }
    /// Examples of all ranks given out so far in the current epoch (0 at its start).
    std::size_t position() const { return batches_.position(); }

private:
    friend class EpochRange<ShardedMiniBatches>;
    const Matrix<T>& X_;
    const Matrix<T>& Y_;
    ColumnRange shard_;
    Matrix<double> index_;        // 1 × m: 0, 1, …, m − 1
    MiniBatches<double> batches_;  // over index_: the one-process batches
    Matrix<double> batch_index_, unused_;
    std::vector<std::size_t> mine_;  // this rank's part of the batch: local column indices
    Batch<T> batch_;
    // The allocations of the part's previous size, swapped back in when
    // that size comes round again (for batch_ and the matrices given to next()).
    Matrix<T> spare_X_, spare_Y_;

    bool take();  // the next batch's part into mine_; false ends the epoch
    bool advance();
    const Batch<T>& current() const { return batch_; }
};

// ---- data-parallel gradients ---------------------------------------------------------

/// How the loss combines the columns: its mean (every xgrad loss) or its sum.
enum class LossReduction {
    mean,  ///< J = (1/m) Σ_j ℓ_j: gradient and cost are Σ_r (m_r/m) g_r, Σ_r (m_r/m) J_r
    sum,   ///< J = Σ_j ℓ_j: gradient and cost are Σ_r g_r, Σ_r J_r
};

/// Synchronous data parallelism over a list of Parameters (e.g.
/// model.parameters()): one fused buffer of Σ |p| + 2 entries of T,
/// allocated here, reused by every step (no allocation per step on the
/// library's side), and one MPI_Allreduce (SUM) per step.
template <class T>
class DataParallel {
public:
    /// Collective: every rank of ctx must construct one with the same
    /// parameter shapes in the same order. ValueError, on every rank, when the
    /// ranks' lists differ (count or shapes), or for an empty list or handle.
    /// `ctx` must outlive this object.
    DataParallel(const Context& ctx, std::vector<Parameter<T>> params,
                 LossReduction reduction = LossReduction::mean);

    /// Copy every parameter's value from rank 0 to all ranks (collective, one
    /// MPI_Bcast): all ranks then start from identical weights.
    void broadcast_parameters();

    /// Collective, one MPI_Allreduce: replace each parameter's grad() by the
    /// full-batch gradient and return the full-batch cost, from this rank's
    /// gradients (as its last backward() left them) of its loss `local_cost`
    /// over `local_columns` columns. With LossReduction::mean:
    ///     grad ← Σ_r m_r g_r / Σ_r m_r,   return Σ_r m_r J_r / Σ_r m_r.
    /// A rank with local_columns = 0 contributes nothing (its grads and cost
    /// are not read). On a single rank the gradients and the cost pass
    /// unchanged (bit for bit the one-process program). Afterwards every
    /// rank holds the same bits, so the same
    /// optimiser step keeps the ranks identical. ShapeError when a parameter's
    /// shape changed since construction (on that rank: run it under run());
    /// ValueError on every rank when no rank has a column. In float the
    /// column counts are exact up to 2^24 per step.
    T allreduce_gradients(std::size_t local_columns, T local_cost);

    /// True, on every rank, when every parameter's value has the same bits on
    /// all ranks (collective; allocates; a check for tests and debugging).
    bool parameters_identical() const;

    /// Seconds spent in MPI_Allreduce by allreduce_gradients (MPI_Wtime),
    /// including waiting for slower ranks.
    double communication_seconds() const { return comm_seconds_; }
    /// Number of allreduce_gradients calls.
    std::size_t steps() const { return steps_; }
    void reset_timer() { comm_seconds_ = 0, steps_ = 0; }
    /// Entries of T per allreduce: Σ |p| + 2 (the cost and the column count).
    std::size_t buffer_size() const { return buffer_.size(); }
    /// Bytes each rank contributes per step: buffer_size() · sizeof(T).
    std::size_t bytes_per_step() const { return buffer_.size() * sizeof(T); }
    const std::vector<Parameter<T>>& parameters() const { return params_; }

private:
    const Context& ctx_;
    std::vector<Parameter<T>> params_;
    std::vector<Shape> shapes_;
    LossReduction reduction_;
    std::vector<T> buffer_;
    double comm_seconds_ = 0;
    std::size_t steps_ = 0;
};

extern template Matrix<float> shard_columns(const Matrix<float>&, int, int);
extern template Matrix<double> shard_columns(const Matrix<double>&, int, int);
extern template class ShardedMiniBatches<float>;
extern template class ShardedMiniBatches<double>;
extern template class DataParallel<float>;
extern template class DataParallel<double>;

}  // namespace mpi
}  // namespace xg

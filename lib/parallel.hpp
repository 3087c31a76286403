// Chunked loops on xgrad's thread pool (include/xgrad/threads.hpp). Internal
// to the library.
//
// A loop over n entries is cut into chunks of a fixed `grain`; when there are
// at least two chunks and more than one thread, the chunks run on the pool,
// the calling thread taking its share. Chunk boundaries depend only on n and
// the grain, never on the thread count, and sums combine their chunks'
// partial sums in chunk order: the same bits for any number of threads.
// The loop bodies must not throw.
#pragma once

#include <cstddef>
#include <type_traits>

namespace xg::detail {

/// Chunk sizes, in entries: loops whose entries cost a transcendental
/// function (tanh, exp, log) split finer than plain arithmetic, which is
/// bound by memory.
constexpr std::size_t grain_math = 8192;
constexpr std::size_t grain_arith = 32768;

/// How many lines (rows or columns) of `length` entries make one chunk of
/// about `grain` entries (at least one line): the grain of loops whose chunk
/// is a run of whole rows or columns.
inline std::size_t lines_per_chunk(std::size_t length, std::size_t grain) {
    return length >= grain ? 1 : grain / length;
}

/// Runs task(ctx, t) for t < tasks, on the pool when it has more than one
/// thread and is free (a nested or concurrent call runs the tasks in order
/// on the calling thread).
void run_tasks(std::size_t tasks, void (*task)(void* ctx, std::size_t t), void* ctx);

/// f(begin, end) over [0, n) in chunks of `grain` entries.
template <class F>
void parallel_for(std::size_t n, std::size_t grain, F&& f) {
    if (n <= grain) {
        if (n) f(std::size_t(0), n);
        return;
    }
    struct Ctx {
        F* f;
        std::size_t n, grain;
    } ctx{&f, n, grain};
    run_tasks((n + grain - 1) / grain,
              [](void* p, std::size_t t) {
                  const Ctx& c = *static_cast<Ctx*>(p);
                  const std::size_t b = t * c.grain, e = b + c.grain < c.n ? b + c.grain : c.n;
                  (*c.f)(b, e);
              },
              &ctx);
}

/// Σ of part(begin, end) over chunks of `grain` entries of [0, n), added in
/// chunk order in type R: the same bits whatever the thread count. For
/// n ≤ grain it is part(0, n).
template <class R, class F>
R parallel_sum(std::size_t n, std::size_t grain, F&& part) {
    if (n <= grain) return n ? R(part(std::size_t(0), n)) : R(0);
    const std::size_t tasks = (n + grain - 1) / grain;
    constexpr std::size_t local = 256;
    R partial[local];
    // Beyond local · grain entries (8 million at grain_arith) the partials
    // are summed in blocks of `local` chunks, still in chunk order.
    R total = R(0);
    for (std::size_t first = 0; first < tasks; first += local) {
        const std::size_t count = tasks - first < local ? tasks - first : local;
        struct Ctx {
            F* part;
            R* out;
            std::size_t n, grain, first;
        } ctx{&part, partial, n, grain, first};
        run_tasks(count,
                  [](void* p, std::size_t t) {
                      const Ctx& c = *static_cast<Ctx*>(p);
                      const std::size_t b = (c.first + t) * c.grain, e = b + c.grain < c.n ? b + c.grain : c.n;
                      c.out[t] = (*c.part)(b, e);
                  },
                  &ctx);
        for (std::size_t t = 0; t < count; ++t) total += partial[t];
    }
    return total;
}

}  // namespace xg::detail

// xgrad — the threads of xgrad's own loops.
//
// Large elementwise work (activations, losses, the gradients of elementwise
// ops, un-broadcast sums, reductions, optimiser updates) is split into chunks
// of a fixed number of entries and the chunks run on a small pool of threads.
// Work of fewer than two chunks stays on the calling thread, so small
// networks pay nothing. The split never depends on the thread count, and
// every sum adds its chunks' partial sums in chunk order: results are the
// same to the last bit for any number of threads.
//
// The pool and OpenBLAS's threads take turns (the graph runs one op at a
// time) and xgrad's workers sleep between jobs, so the two never compete for
// the cores; OpenBLAS keeps its own setting (OPENBLAS_NUM_THREADS).
#pragma once

#include <cstddef>

namespace xg {

/// The number of threads xgrad's loops use, the calling thread included.
/// Unless set_threads() chose it: XGRAD_NUM_THREADS when set (a positive
/// integer; ValueError otherwise), 1 in a process started by mpirun (one
/// thread per rank, as OpenBLAS gets from scripts/mpirun), else the number of
/// CPUs the process may run on.
std::size_t threads();

/// Use n threads (n ≥ 1; 1 runs everything on the calling thread; 0 goes
/// back to the default of threads()). Takes effect at the next op; call it
/// while no graph is running. Results do not depend on n.
void set_threads(std::size_t n);

}  // namespace xg

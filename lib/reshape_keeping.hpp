// Reshaping a buffer without giving up what it allocated. xtensor's storage
// reallocates on any change of size, so a buffer that alternates between a
// few shapes (a full mini-batch and the smaller last one of an epoch) would
// reallocate at every change; instead it keeps the previous shape's
// allocation in a spare matrix beside it, and swaps the two back.
//
// The spare is the memory cost: a buffer that has taken two shapes holds
// both allocations; one whose shape never changed has an empty spare (or, in
// the graph's nodes, none at all: the spares are made on the first change).
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

#include "xgrad/tensor.hpp"

namespace xg::detail {

/// m takes shape s, its entries unspecified (the caller writes them all).
/// Nothing happens when m has shape s already. When the spare has it, the two
/// swap their buffers (pointers only: no allocation). Otherwise the spare is
/// resized to s and swapped in, so that the spare keeps m's previous shape
/// and allocation for the next change back; an m never given a shape (0 × 0,
/// as default-constructed) is simply resized, and the spare is not touched. So alternating between two shapes
/// allocates only the first time each is seen. The Matrix object m stays the
/// same (references to it stay valid); its data() moves, as with resize.
///
/// `spare` is the spare matrix, or a function returning a reference to it,
/// called only when the spare is needed (so that it can be made lazily).
/// If the allocation fails, m keeps its shape and buffer and the spare is
/// left empty (xtensor's resize sets the shape before it allocates).
template <class T, class Spare>
void reshape_keeping(Matrix<T>& m, Spare&& spare, Shape s) {
    if (shape_of(m) == s) return;
    Matrix<T>* target = std::addressof(m);  // a first shape needs no spare
    if (shape_of(m) != Shape{0, 0}) {
        if constexpr (std::is_same_v<std::decay_t<Spare>, Matrix<T>>) {
            target = std::addressof(spare);
        } else {
            target = std::addressof(spare());  // (a Matrix has a call operator too: test the type)
        }
        if (shape_of(*target) == s) {
            std::swap(m, *target);
            return;
        }
    }
    try {
        target->resize({s.rows, s.cols});
    } catch (...) {
        *target = Matrix<T>();  // empty and consistent (no allocation)
        throw;
    }
    if (target != std::addressof(m)) std::swap(m, *target);
}

}  // namespace xg::detail

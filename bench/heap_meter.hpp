// Counts heap use of the whole process (every malloc family call, so also
// xtensor's aligned allocations in a -Dnative build): live bytes, the peak
// since the last reset, and the number of allocations.
#pragma once

#include <cstddef>

namespace bench::heap {

std::size_t live_bytes();
std::size_t peak_bytes();
std::size_t allocations();
/// Start a new peak measurement from the current live bytes.
void reset_peak();

}  // namespace bench::heap

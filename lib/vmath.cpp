// Picks the kernels of vmath.hpp once: the best instruction set among those
// compiled (lib/meson.build) that the CPU supports. Compiled without arch flags.
#include "vmath.hpp"

namespace xg::detail {

// One per compiled instruction set (vmath_kernels.cpp).
#if defined(__x86_64__)
const VmathKernels* vmath_kernels_sse2();
const VmathKernels* vmath_kernels_avx2();
const VmathKernels* vmath_kernels_avx512f();
#else
const VmathKernels* vmath_kernels_default_arch();
#endif

namespace {

struct Supported {
    const VmathKernels* sets[3] = {};
    std::size_t count = 0;
};

/// The compiled sets this CPU runs, best last (the CPU is asked once).
const Supported& supported() {
    static const Supported s = [] {
        Supported r;
#if defined(__x86_64__)
        __builtin_cpu_init();
        r.sets[r.count++] = vmath_kernels_sse2();  // the x86-64 baseline
        if (__builtin_cpu_supports("avx2")) r.sets[r.count++] = vmath_kernels_avx2();
        if (__builtin_cpu_supports("avx512f")) r.sets[r.count++] = vmath_kernels_avx512f();
#else
        r.sets[r.count++] = vmath_kernels_default_arch();
#endif
        return r;
    }();
    return s;
}

}  // namespace

const VmathKernels* const* vmath_supported(std::size_t& count) {
    const Supported& s = supported();
    count = s.count;
    return s.sets;
}

const VmathKernels& vmath_active() {
    static const VmathKernels& active = *supported().sets[supported().count - 1];
    return active;
}

}  // namespace xg::detail

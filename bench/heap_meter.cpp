// Interposes the malloc family (glibc exports the real ones as __libc_*) to
// count heap use. Sizes are the allocator's usable sizes, so a free subtracts
// exactly what its malloc added.
#include "heap_meter.hpp"

// AddressSanitizer owns malloc: under it the meter counts nothing (and
// programs that need counts use another way, see tests/test_alloc.cpp).
#if defined(__SANITIZE_ADDRESS__)
#define XG_HEAP_METER_OFF 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define XG_HEAP_METER_OFF 1
#endif
#endif

#ifndef XG_HEAP_METER_OFF
#include <malloc.h>

#include <atomic>
#include <cerrno>
#include <cstdint>

extern "C" {
void* __libc_malloc(std::size_t);
void __libc_free(void*);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
}

namespace {
std::atomic<std::size_t> g_live{0};
std::atomic<std::size_t> g_peak{0};
std::atomic<std::size_t> g_count{0};

void* added(void* p) {
    if (p) {
        const std::size_t now = g_live.fetch_add(malloc_usable_size(p), std::memory_order_relaxed) +
                                malloc_usable_size(p);
        std::size_t peak = g_peak.load(std::memory_order_relaxed);
        while (now > peak && !g_peak.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
        }
        g_count.fetch_add(1, std::memory_order_relaxed);
    }
    return p;
}
void removed(void* p) {
    if (p) g_live.fetch_sub(malloc_usable_size(p), std::memory_order_relaxed);
}
}  // namespace

extern "C" {
void* malloc(std::size_t n) { return added(__libc_malloc(n)); }
void free(void* p) {
    removed(p);
    __libc_free(p);
}
void* calloc(std::size_t n, std::size_t s) { return added(__libc_calloc(n, s)); }
void* realloc(void* p, std::size_t n) {
    removed(p);
    return added(__libc_realloc(p, n));
}
void* memalign(std::size_t a, std::size_t n) { return added(__libc_memalign(a, n)); }
void* aligned_alloc(std::size_t a, std::size_t n) { return added(__libc_memalign(a, n)); }
int posix_memalign(void** out, std::size_t a, std::size_t n) {
    void* p = __libc_memalign(a, n);
    if (!p) return ENOMEM;
    *out = added(p);
    return 0;
}
}

namespace bench::heap {
std::size_t live_bytes() { return g_live.load(); }
std::size_t peak_bytes() { return g_peak.load(); }
std::size_t allocations() { return g_count.load(); }
void reset_peak() { g_peak.store(g_live.load()); }
}  // namespace bench::heap

#else

namespace bench::heap {
std::size_t live_bytes() { return 0; }
std::size_t peak_bytes() { return 0; }
std::size_t allocations() { return 0; }
void reset_peak() {}
}  // namespace bench::heap

#endif

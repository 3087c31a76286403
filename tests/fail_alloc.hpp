// Allocation failure injection: this header replaces the global operator new
// and operator delete (every form, the nothrow ones included) of the program
// that includes it, so include it in ONE source file of a program. Every
// allocation is counted; once armed with k > 0, the k-th allocation from
// then on fails: std::bad_alloc, or nullptr for a nothrow new. Every delete
// frees with std::free. Used by tests/test_build_failure.cpp and
// fuzz/fuzz_graph.cpp to fail each allocation of a build in turn.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace xgt::fail_alloc {

inline std::atomic<long> calls{0};
inline std::atomic<long> fail_at{0};  // 0: never fail

/// Fail the k-th allocation from now (k = 0: none).
inline void arm(long k) {
    calls = 0;
    fail_at = k;
}
inline void disarm() { fail_at = 0; }

inline void* allocate(std::size_t n, std::size_t align) {
    const long c = calls.fetch_add(1) + 1;
    const long k = fail_at.load();
    if (k != 0 && c == k) throw std::bad_alloc();
    void* p = align > alignof(std::max_align_t) ? std::aligned_alloc(align, (n + align - 1) / align * align)
                                                : std::malloc(n ? n : 1);
    if (!p) throw std::bad_alloc();
    return p;
}

inline void* allocate_or_null(std::size_t n, std::size_t align) noexcept {
    try {
        return allocate(n, align);
    } catch (const std::bad_alloc&) {
        return nullptr;
    }
}

}  // namespace xgt::fail_alloc

void* operator new(std::size_t n) { return xgt::fail_alloc::allocate(n, 0); }
void* operator new[](std::size_t n) { return xgt::fail_alloc::allocate(n, 0); }
void* operator new(std::size_t n, std::align_val_t a) { return xgt::fail_alloc::allocate(n, std::size_t(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return xgt::fail_alloc::allocate(n, std::size_t(a)); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return xgt::fail_alloc::allocate_or_null(n, 0); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return xgt::fail_alloc::allocate_or_null(n, 0); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    return xgt::fail_alloc::allocate_or_null(n, std::size_t(a));
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    return xgt::fail_alloc::allocate_or_null(n, std::size_t(a));
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }

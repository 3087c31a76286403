// allocation_count(): heap allocations of the whole process so far, for
// tests that assert a loop allocates nothing. Include it from ONE source file
// of a test program, and link bench/heap_meter.cpp into that program
// (tests/meson.build: test_extra).
//
// Allocations are counted at the malloc level (bench/heap_meter.cpp), which
// sees xtensor's containers whatever their allocator. Under
// AddressSanitizer, which owns malloc, the count falls back to a replaced
// global operator new (sanitizer builds never use xsimd's allocator).
//
// Keep the matrices of such tests small: a multi-threaded OpenBLAS gemm on
// larger operands allocates inside OpenBLAS.
#pragma once

#include <atomic>
#include <cstdlib>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define XG_COUNT_OPERATOR_NEW 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define XG_COUNT_OPERATOR_NEW 1
#endif
#endif

#ifdef XG_COUNT_OPERATOR_NEW
namespace {
std::atomic<long> g_new_calls{0};
long allocation_count() { return g_new_calls.load(); }
}  // namespace

void* operator new(std::size_t n) {
    g_new_calls.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
#else
#include "../bench/heap_meter.hpp"
namespace {
long allocation_count() { return long(bench::heap::allocations()); }
}  // namespace
#endif

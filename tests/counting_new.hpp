// A counting replacement of every allocation function, for tests that assert what a call
// allocates. Include it in exactly one translation unit of a test executable (it replaces
// operator new for the whole program). Every function pairs malloc with free, so the
// sanitizer build checks the pairing. `on_allocation(n)` is the test's hook.
#pragma once
#include <cstddef>
#include <cstdlib>
#include <new>

void on_allocation(std::size_t bytes) noexcept;  // defined by the test

namespace counting_new {
inline void* counted(std::size_t n, std::size_t align = 0) noexcept {
    on_allocation(n);
    if (align == 0) return std::malloc(n ? n : 1);
    return std::aligned_alloc(align, (n + align - 1) / align * align);
}
inline void* counted_or_throw(std::size_t n, std::size_t align = 0) {
    if (void* p = counted(n, align)) return p;
    throw std::bad_alloc();
}
}  // namespace counting_new

void* operator new(std::size_t n) { return counting_new::counted_or_throw(n); }
void* operator new[](std::size_t n) { return counting_new::counted_or_throw(n); }
void* operator new(std::size_t n, std::align_val_t a) { return counting_new::counted_or_throw(n, std::size_t(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return counting_new::counted_or_throw(n, std::size_t(a)); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counting_new::counted(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counting_new::counted(n); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept { return counting_new::counted(n, std::size_t(a)); }
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept { return counting_new::counted(n, std::size_t(a)); }
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

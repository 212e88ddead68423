// Whether this test program runs under a sanitizer (ASan/UBSan or TSan: g++ defines
// __SANITIZE_*__, clang answers __has_feature). Their runtimes own malloc and make each call
// several times slower, so tests that repeat a workload for coverage size it by this flag; the
// code paths they reach stay the same (e.g. a batch with a remainder, several thread counts).
#pragma once

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TYPENET_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define TYPENET_TEST_SANITIZED 1
#endif
#endif

namespace test_env {
#ifdef TYPENET_TEST_SANITIZED
inline constexpr bool sanitized = true;
#else
inline constexpr bool sanitized = false;
#endif
}  // namespace test_env

// Which kernel path a build runs is decided by the instruction set its translation units are
// compiled for. Each test configuration (native AVX-512, -mavx2 -mfma, SSE4.2, AArch64 under
// qemu) checks here that it proves the path it claims to, then the golden tests in the same
// binary check the numbers on that path.
#include <typenet/kernels/simd.hpp>

#include <catch2/catch.hpp>
#include <cstring>
#include <limits>
#include <string_view>
#include <type_traits>

namespace tn = typenet;

TEST_CASE("the kernels run on the instruction set the build targets", "[kernels][simd]") {
    constexpr std::string_view isa = tn::kernels::arch::name();
#if defined(__aarch64__)
    STATIC_REQUIRE(isa == "arm64+neon");
    STATIC_REQUIRE(tn::kernels::lanes == 4);
    STATIC_REQUIRE(tn::kernels::vector_registers == 32);
#elif defined(__AVX512F__)
    STATIC_REQUIRE(isa.starts_with("avx512"));
    STATIC_REQUIRE(tn::kernels::lanes == 16);
    STATIC_REQUIRE(tn::kernels::is_avx512);
#elif defined(__AVX2__) && defined(__FMA__)
    STATIC_REQUIRE(isa == "fma3+avx2");
    STATIC_REQUIRE(tn::kernels::lanes == 8);
#elif defined(__SSE4_2__)
    STATIC_REQUIRE(isa == "sse4.2");
    STATIC_REQUIRE(tn::kernels::lanes == 4);
#endif
    INFO("kernels: " << isa);
    // A partial load of a short tail reads only its n values and fills the rest; a partial
    // store writes only n, on every path.
    float v[3] = {1, 2, 3};
    float out[tn::kernels::lanes + 1];
    for (float& o : out) o = 7.f;
    tn::kernels::store_partial(out, tn::kernels::load_partial(v, 2, -1.f), 2);
    CHECK(out[0] == 1.f);
    CHECK(out[1] == 2.f);
    CHECK(out[2] == 7.f);
    float full[tn::kernels::lanes];
    tn::kernels::storeu(full, tn::kernels::load_partial(v, 2, -1.f));
    CHECK(full[tn::kernels::lanes - 1] == -1.f);
    // An LSTM's paired gates: the upper half of the lanes moved down, zeros above.
    float lanes_in[tn::kernels::lanes], moved[tn::kernels::lanes];
    for (std::size_t i = 0; i < tn::kernels::lanes; ++i) lanes_in[i] = float(i + 1);
    tn::kernels::storeu(moved, tn::kernels::upper_half_down(tn::kernels::loadu(lanes_in)));
    for (std::size_t i = 0; i < tn::kernels::lanes; ++i) CHECK(moved[i] == (i < tn::kernels::lanes / 2 ? float(i + 1 + tn::kernels::lanes / 2) : 0.f));
}

TEST_CASE("all_finite finds every NaN and Inf, at any alignment and position", "[kernels][simd][finite]") {
    // Bytes of floats starting at every offset 0..3 into a buffer: a mapped file's data section
    // need not be aligned. (The same test is built with -ffast-math: test_finite_fast_math.)
    constexpr std::size_t n_max = 3 * tn::kernels::lanes + 3;
    const float bad[] = {std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::quiet_NaN(),
                         std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                         std::numeric_limits<float>::signaling_NaN()};
    unsigned char buf[4 * n_max + 4];
    for (std::size_t offset = 0; offset < 4; ++offset)
        for (std::size_t n = 0; n <= n_max; ++n) {
            for (std::size_t k = 0; k < n; ++k) {
                const float v = float(k) * 1e30f - 3.4e38f * float(k % 2);  // large but finite
                std::memcpy(buf + offset + 4 * k, &v, 4);
            }
            INFO("offset " << offset << ", n " << n);
            CHECK(tn::kernels::all_finite(buf + offset, n));
            for (std::size_t at = 0; at < n; ++at)
                for (float b : bad) {
                    unsigned char saved[4];
                    std::memcpy(saved, buf + offset + 4 * at, 4);
                    std::memcpy(buf + offset + 4 * at, &b, 4);
                    CHECK_FALSE(tn::kernels::all_finite(buf + offset, n));
                    std::memcpy(buf + offset + 4 * at, saved, 4);
                }
        }
}

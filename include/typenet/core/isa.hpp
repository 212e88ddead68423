// The instruction set this translation unit is compiled for, as a namespace name. Every
// typenet declaration lives in `typenet::inline TYPENET_ISA_NAMESPACE`: invisible to users
// (tn::Dense is typenet::Dense), but part of every symbol. Inline functions and templates are
// weak symbols; without it, a program linking an AVX-512 translation unit with an SSE one
// would keep one body of each (dense_pack, gemm_micro, Net::Net, ...) for both, giving wrong
// numbers or AVX-512 code on a CPU without it. With it, each instruction set has its own.
// Decided from the compiler's macros, like xsimd's choice of registers (kernels/simd.hpp
// checks that the two agree).
#pragma once

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && defined(__AVX512VNNI__) && defined(__AVX512BF16__)
#define TYPENET_ISA_NAMESPACE isa_avx512_bf16  // and VNNI: Cooper Lake, Sapphire Rapids, Zen 4
#elif defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && defined(__AVX512VNNI__)
#define TYPENET_ISA_NAMESPACE isa_avx512_vnni  // Cascade Lake, Ice Lake
#elif defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__)
#define TYPENET_ISA_NAMESPACE isa_avx512bw
#elif defined(__AVX512F__)
#define TYPENET_ISA_NAMESPACE isa_avx512f
#elif defined(__AVX2__) && defined(__FMA__)
#define TYPENET_ISA_NAMESPACE isa_fma3_avx2
#elif defined(__AVX2__)
#define TYPENET_ISA_NAMESPACE isa_avx2
#elif defined(__AVX__) && defined(__FMA__)
#define TYPENET_ISA_NAMESPACE isa_fma3_avx
#elif defined(__AVX__)
#define TYPENET_ISA_NAMESPACE isa_avx
#elif defined(__SSE4_2__)
#define TYPENET_ISA_NAMESPACE isa_sse4_2
#elif defined(__SSE4_1__)
#define TYPENET_ISA_NAMESPACE isa_sse4_1
#elif defined(__SSSE3__)
#define TYPENET_ISA_NAMESPACE isa_ssse3
#elif defined(__SSE3__)
#define TYPENET_ISA_NAMESPACE isa_sse3
#elif defined(__SSE2__) || defined(_M_X64)
#define TYPENET_ISA_NAMESPACE isa_sse2
#elif defined(__aarch64__) || defined(_M_ARM64)
#define TYPENET_ISA_NAMESPACE isa_neon64
#elif defined(__ARM_NEON)
#define TYPENET_ISA_NAMESPACE isa_neon
#else
#define TYPENET_ISA_NAMESPACE isa_scalar
#endif

// Built with -march=x86-64-v2: SSE4.2, no AVX (tests/CMakeLists.txt).
#define MIXED_RUN run_sse
#include "mixed_run.inc"

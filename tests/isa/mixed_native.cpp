// Built with this machine's instruction set (the test target's flags).
#define MIXED_RUN run_native
#include "mixed_run.inc"

// One model and one input, built into two translation units compiled for different
// instruction sets (mixed_native.cpp: this machine's; mixed_sse.cpp: SSE4.2 only).
#pragma once
#include <string>
#include <vector>

struct MixedRun {
    std::string isa;              // the kernels' instruction set in that translation unit
    std::vector<float> weights;   // canonical (PyTorch layout)
    std::vector<float> outputs;   // 3 samples through net.predict, then 1 through net(x)
};
MixedRun run_native();
MixedRun run_sse();

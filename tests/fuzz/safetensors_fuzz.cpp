// Fuzz target: any bytes, as a safetensors file, then as weights for a small model in each
// convention. Whatever the input, the only acceptable outcomes are a successful load or a
// typenet::load_error — no crash, no sanitizer report, no other exception.
//
// libFuzzer:  cmake -S . -B build/fuzz -DCMAKE_CXX_COMPILER=clang++-16 -DTYPENET_FUZZ=ON
//             cmake --build build/fuzz --target fuzz_safetensors
//             build/fuzz/tests/fuzz_safetensors tests/fuzz/corpus/safetensors -max_total_time=600
// The test suite replays the corpus (fuzz_replay.cpp) with every compiler and sanitizer.
#include <cstddef>
#include <cstdint>
#include <span>

#include <typenet/typenet.hpp>

namespace {
namespace tn = typenet;
using Small = tn::Sequential<tn::Input<3>, tn::Dense<2, tn::relu>, tn::Dense<1>>;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        const auto file = tn::SafetensorsFile::view(std::span<const std::uint8_t>(data, size), "fuzz");
        for (const auto& [name, entry] : file.tensors())
            if (tn::SafetensorsFile::is_float_dtype(entry.dtype)) (void)file.floats(name);
        auto net = tn::make<Small>();
        for (const auto convention : {tn::native, tn::from_keras})
            for (const bool lenient : {false, true}) {
                tn::LoadOptions options;
                options.allow_unexpected = options.allow_non_finite = lenient;
                if (auto err = tn::try_load_weights(net, file, convention, options)) (void)err->what();
            }
    } catch (const tn::load_error&) {
    }
    return 0;
}

// Fuzz target, differential: any bytes as JSON, read by io/json.hpp and by nlohmann-json (the
// oracle, tests/io/json_oracle.hpp); the two must agree — the same values, or both refusing —
// and reading the bytes as an RTNeural model file must succeed or throw a typenet::load_error.
// Any other outcome aborts with what differed.
//
// libFuzzer:  cmake -S . -B build/fuzz -DCMAKE_CXX_COMPILER=clang++-16 -DTYPENET_FUZZ=ON
//             cmake --build build/fuzz --target fuzz_json
//             build/fuzz/tests/fuzz_json tests/fuzz/corpus/json -max_total_time=600
// The test suite replays the corpus (fuzz_replay.cpp) with every compiler and sanitizer.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include <typenet/typenet.hpp>

#include "../io/json_oracle.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (const std::string d = json_oracle::disagreement(text); !d.empty()) {
        std::fprintf(stderr, "io/json.hpp and nlohmann-json disagree: %s\n", d.c_str());
        std::abort();
    }
    try {
        (void)typenet::parse_rtneural(text, "fuzz");
    } catch (const typenet::load_error&) {
    }
    return 0;
}

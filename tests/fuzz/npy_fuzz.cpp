// Fuzz target: any bytes as a .npz archive and as a .npy array, then the .npz as weights.
// Acceptable outcomes: a result, or a typenet::load_error. (Build and run like
// safetensors_fuzz.cpp, target fuzz_npy, corpus tests/fuzz/corpus/npy.)
#include <cstddef>
#include <cstdint>
#include <span>

#include <typenet/typenet.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace tn = typenet;
    using Small = tn::Sequential<tn::Input<3>, tn::Dense<2, tn::relu>, tn::Dense<1>>;
    const std::span<const std::uint8_t> bytes(data, size);
    try {
        const auto file = tn::read_npz(bytes, "fuzz.npz");
        auto net = tn::make<Small>();
        if (auto err = tn::try_load_weights(net, file)) (void)err->what();
    } catch (const tn::load_error&) {
    }
    try {
        (void)tn::read_npy(bytes, "x", "fuzz.npy").floats("x");
    } catch (const tn::load_error&) {
    }
    return 0;
}

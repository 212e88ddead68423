// NumPy .npy and .npz, written by NumPy itself (tools/make_fixtures.py).
#include "../golden.hpp"

#include <typenet/io/npy.hpp>

namespace tn = typenet;
using Odd = tn::Sequential<tn::Input<37>, tn::Dense<53, tn::tanh>, tn::Dense<29, tn::gelu>, tn::Dense<11, tn::log_softmax>>;

TEST_CASE("an np.savez archive loads like the safetensors file and gives PyTorch's numbers", "[io][npy]") {
    auto from_npz = tn::make<Odd>(), from_st = tn::make<Odd>();
    tn::load_weights(from_npz, tn::read_npz(golden::path("odd.npz")), tn::from_pytorch);
    tn::load_weights(from_st, golden::path("odd.weights.safetensors"), tn::from_pytorch);
    CHECK(from_npz.get_weights() == from_st.get_weights());
}

TEST_CASE(".npy arrays: float64 converted, Fortran order reordered", "[io][npy]") {
    const auto ref = tn::SafetensorsFile::read(golden::path("odd.weights.safetensors")).floats("0.weight");
    const auto f64 = tn::read_npy(golden::path("odd_w0_f64.npy"), "w");
    CHECK(f64.find("w")->shape_str() == "[53, 37]");
    CHECK(f64.floats("w") == ref);
    CHECK(tn::read_npy(golden::path("odd_w0_fortran.npy"), "w").floats("w") == ref);
}

TEST_CASE("NumPy files that cannot be read say why", "[io][npy][errors]") {
    CHECK_THROWS_WITH(tn::read_npz(golden::path("odd_compressed.npz")), Catch::Contains("compressed (np.savez_compressed)"));
    CHECK_THROWS_WITH(tn::read_npz(golden::path("odd.weights.safetensors")), Catch::Contains("not a .npz archive"));
    CHECK_THROWS_WITH(tn::read_npy(golden::path("odd.npz"), "w"), Catch::Contains("not a .npy array"));
    const std::vector<std::uint8_t> truncated = [] {
        std::ifstream f(golden::path("odd_w0_f64.npy"), std::ios::binary);
        std::vector<std::uint8_t> b((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        b.resize(b.size() - 8);
        return b;
    }();
    CHECK_THROWS_WITH(tn::read_npy(truncated, "w", "cut.npy"), Catch::Contains("needs 15688 bytes, the file holds 15680"));
}

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

TEST_CASE("an np.savez_compressed archive (deflate) loads like the np.savez one", "[io][npy][deflate]") {
    auto compressed = tn::make<Odd>(), plain = tn::make<Odd>();
    tn::load_weights(compressed, tn::read_npz(golden::path("odd_compressed.npz")), tn::from_pytorch);
    tn::load_weights(plain, tn::read_npz(golden::path("odd.npz")), tn::from_pytorch);
    CHECK(compressed.get_weights() == plain.get_weights());
}

namespace {
std::vector<std::uint8_t> file_bytes(const std::string& name) {
    std::ifstream f(golden::path(name), std::ios::binary);
    return std::vector<std::uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}
std::size_t le16_at(const std::vector<std::uint8_t>& b, std::size_t at) { return std::size_t(b[at]) | std::size_t(b[at + 1]) << 8; }
std::size_t le32_at(const std::vector<std::uint8_t>& b, std::size_t at) { return le16_at(b, at) | le16_at(b, at + 2) << 16; }
}  // namespace

TEST_CASE("a corrupt compressed archive is an error that says what is wrong", "[io][npy][deflate][errors]") {
    const auto good = file_bytes("odd_compressed.npz");
    const std::size_t data_at = 30 + le16_at(good, 26) + le16_at(good, 28);  // the first entry's deflate stream
    const std::size_t cd = le32_at(good, good.size() - 22 + 16);              // its central directory record
    auto with = [&](auto&& change) {
        auto b = good;
        change(b);
        return b;
    };
    CHECK_THROWS_WITH(tn::read_npz(with([&](auto& b) { b[data_at] |= 0x06; }), "bad.npz"), Catch::Contains("corrupt deflate stream: invalid block type"));
    CHECK_THROWS_WITH(tn::read_npz(with([&](auto& b) { b[cd + 16] ^= 0x01; }), "bad.npz"), Catch::Contains("fails its CRC-32 check"));
    CHECK_THROWS_WITH(tn::read_npz(with([&](auto& b) { b[cd + 10] = 12; }), "bad.npz"), Catch::Contains("compression method 12"));
    // The declared size one byte short: the stream has more output than that.
    CHECK_THROWS_WITH(tn::read_npz(with([&](auto& b) { --b[cd + 24]; }), "bad.npz"), Catch::Contains("bytes declared"));
    // A declared size no deflate stream of this length can reach: refused before any memory is reserved.
    CHECK_THROWS_WITH(tn::read_npz(with([&](auto& b) { b[cd + 27] = 0x7F; }), "bad.npz"), Catch::Contains("compressed bytes can hold"));
    // The stream cut short (its entry's compressed size too, so the zip is otherwise intact).
    for (std::size_t cut : {1u, 7u, 100u}) {
        auto b = with([&](auto& c) {
            const std::size_t csize = le32_at(c, cd + 20) - cut;
            for (int k = 0; k < 4; ++k) c[cd + 20 + std::size_t(k)] = std::uint8_t(csize >> (8 * k));
        });
        INFO("cut " << cut);
        CHECK_THROWS_AS(tn::read_npz(b, "cut.npz"), tn::load_error);
    }
    // Every byte of the stream flipped in turn: an error or (when the flip is harmless to the
    // decoder) the CRC catches it; never a crash or a wrong array.
    const std::size_t csize = le32_at(good, cd + 20);
    for (std::size_t i = 0; i < csize; i += 3) {
        auto b = with([&](auto& c) { c[data_at + i] ^= 0x5A; });
        CHECK_THROWS_AS(tn::read_npz(b, "flipped.npz"), tn::load_error);
    }
}

TEST_CASE(".npy arrays: float64 converted, Fortran order reordered", "[io][npy]") {
    const auto ref = tn::SafetensorsFile::read(golden::path("odd.weights.safetensors")).floats("0.weight");
    const auto f64 = tn::read_npy(golden::path("odd_w0_f64.npy"), "w");
    CHECK(f64.find("w")->shape_str() == "[53, 37]");
    CHECK(f64.floats("w") == ref);
    CHECK(tn::read_npy(golden::path("odd_w0_fortran.npy"), "w").floats("w") == ref);
}

TEST_CASE("NumPy files that cannot be read say why", "[io][npy][errors]") {
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

// Weights in and out: round trips, and every class of bad file gives a clear error and
// leaves the model exactly as it was.
#include "../golden.hpp"

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

namespace tn = typenet;
using Small = tn::Sequential<tn::Input<3>, tn::Dense<2, tn::relu>, tn::Dense<1>>;

namespace {
std::vector<std::uint8_t> file_bytes(const std::string& header_json, std::size_t data_bytes, std::uint64_t claimed_len = ~0ull) {
    std::vector<std::uint8_t> b(8 + header_json.size() + data_bytes, 0);
    const std::uint64_t n = claimed_len == ~0ull ? header_json.size() : claimed_len;
    for (std::size_t i = 0; i < 8; ++i) b[i] = std::uint8_t(n >> (8 * i));
    std::memcpy(b.data() + 8, header_json.data(), header_json.size());
    return b;
}
std::string good_header() {
    return R"({"0.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},)"
           R"("0.bias":{"dtype":"F32","shape":[2],"data_offsets":[24,32]},)"
           R"("1.weight":{"dtype":"F32","shape":[1,2],"data_offsets":[32,40]},)"
           R"("1.bias":{"dtype":"F32","shape":[1],"data_offsets":[40,44]}})";
}
void expect_load_error(std::vector<std::uint8_t> bytes, const std::string& words) {
    auto net = tn::make<Small>(tn::seed{9});
    const auto before = net.get_weights();
    try {
        tn::SafetensorsFile f(std::move(bytes), "bad.safetensors");
        tn::load_weights(net, f);
        FAIL("no error for a file that should be rejected with: " << words);
    } catch (const tn::load_error& e) {
        INFO(e.what());
        CHECK(std::string(e.what()).find("bad.safetensors") != std::string::npos);
        CHECK(std::string(e.what()).find(words) != std::string::npos);
    }
    CHECK(net.get_weights() == before);  // nothing half-loaded
}
}  // namespace

TEST_CASE("save then load is bitwise identical, and so are the outputs", "[io]") {
    using Mlp = tn::Sequential<tn::Input<37>, tn::Dense<53, tn::tanh>, tn::Dense<29, tn::gelu>, tn::Dense<11>>;
    const auto a = tn::make<Mlp>(tn::seed{4});
    const auto file = std::filesystem::temp_directory_path() / "typenet_roundtrip.safetensors";
    tn::save_weights(a, file);
    auto b = tn::make<Mlp>(tn::seed{5});
    REQUIRE(a.get_weights() != b.get_weights());
    tn::load_weights(b, file);
    CHECK(a.get_weights() == b.get_weights());
    tn::Tensor<37> x;
    for (std::size_t i = 0; i < 37; ++i) x(i) = float(i) / 10.f - 1.f;
    const auto ya = a(x), yb = b(x);
    CHECK(std::memcmp(ya.data(), yb.data(), sizeof(float) * 11) == 0);
    std::filesystem::remove(file);
}

TEST_CASE("a PyTorch-written file loads by name", "[io][golden]") {
    const auto f = tn::SafetensorsFile::read(golden::path("odd.weights.safetensors"));
    CHECK(f.tensors().size() == 6);
    CHECK(f.find("0.weight")->shape_str() == "[53, 37]");
    CHECK(f.find("2.bias")->dtype == "F32");
}

TEST_CASE("every kind of bad file is rejected with words, and the model keeps its weights", "[io][errors]") {
    const std::string h = good_header();
    SECTION("empty") { expect_load_error({}, "shorter than the 8-byte header length"); }
    SECTION("truncated header") { expect_load_error(file_bytes(h.substr(0, 40), 0, h.size()), "runs past the end"); }
    SECTION("header length past the end") { expect_load_error(file_bytes(h, 44, 1u << 30), "runs past the end"); }
    SECTION("invalid JSON") { expect_load_error(file_bytes("{\"0.weight\": [", 44), "not valid JSON"); }
    SECTION("not an object") { expect_load_error(file_bytes("[1, 2]", 44), "not a JSON object"); }
    SECTION("truncated data") { expect_load_error(file_bytes(h, 40), "out of range"); }
    SECTION("offsets out of range") {
        std::string bad = h;
        bad.replace(bad.find("[40,44]"), 7, "[40,99]");
        expect_load_error(file_bytes(bad, 44), "out of range");
    }
    SECTION("overlapping offsets") {
        std::string bad = h;
        bad.replace(bad.find("[24,32]"), 7, "[16,24]");
        expect_load_error(file_bytes(bad, 44), "overlap");
    }
    SECTION("unknown dtype") {
        std::string bad = h;
        bad.replace(bad.find("\"F32\",\"shape\":[1]"), 5, "\"Q7\" ");
        expect_load_error(file_bytes(bad, 44), "unknown dtype 'Q7'");
    }
    SECTION("shape and byte count disagree") {
        std::string bad = h;
        bad.replace(bad.find("[2,3]"), 5, "[2,4]");
        expect_load_error(file_bytes(bad, 44), "needs 32 bytes but data_offsets span 24");
    }
    SECTION("missing tensor") {
        std::string bad = h;
        bad.replace(bad.find(R"(,"1.bias")"), std::string(R"(,"1.bias":{"dtype":"F32","shape":[1],"data_offsets":[40,44]})").size(), "");
        expect_load_error(file_bytes(bad, 44), "missing tensor '1.bias' (expected F32 [1])");
    }
    SECTION("wrong shape") {
        std::string bad = h;
        bad.replace(bad.find("[2,3]"), 5, "[3,2]");
        expect_load_error(file_bytes(bad, 44), "tensor '0.weight' has shape [3, 2], expected [2, 3]");
    }
    SECTION("a dtype that is not a float") {
        std::string bad = h;
        bad.replace(bad.find(R"("F32","shape":[1,2],"data_offsets":[32,40])"), 5, R"("I32")");
        expect_load_error(file_bytes(bad, 44), "tensor '1.weight' has dtype I32, expected F32 (or F64, F16, BF16)");
    }
    SECTION("unexpected tensor") {
        std::string bad = h;
        bad.insert(bad.size() - 1, R"(,"extra":{"dtype":"F32","shape":[1],"data_offsets":[44,48]})");
        expect_load_error(file_bytes(bad, 48), "unexpected tensor 'extra'");
    }
    SECTION("NaN in weights") {
        auto bytes = file_bytes(h, 44);
        const float nan = std::numeric_limits<float>::quiet_NaN();
        std::memcpy(bytes.data() + 8 + h.size() + 4, &nan, 4);
        expect_load_error(bytes, "tensor '0.weight' holds a non-finite value at element 1");
    }
}

TEST_CASE("options: unexpected tensors and non-finite values can be allowed", "[io]") {
    std::string h = good_header();
    h.insert(h.size() - 1, R"(,"extra":{"dtype":"F32","shape":[1],"data_offsets":[44,48]})");
    auto bytes = file_bytes(h, 48);
    const float inf = std::numeric_limits<float>::infinity();
    std::memcpy(bytes.data() + 8 + h.size(), &inf, 4);
    auto net = tn::make<Small>();
    tn::load_weights(net, tn::SafetensorsFile(bytes, "ok.safetensors"), tn::from_pytorch,
                     tn::LoadOptions{.allow_unexpected = true, .allow_non_finite = true, .rename = {}});
    CHECK(std::isinf(net.get_weights()[0]));
}

TEST_CASE("a missing file names the path", "[io][errors]") {
    auto net = tn::make<Small>();
    CHECK_THROWS_WITH(tn::load_weights(net, "/nonexistent/w.safetensors"), Catch::Contains("/nonexistent/w.safetensors"));
}

// Weight conventions: PyTorch (with the flatten permutation), Keras (names and layouts),
// typenet's own; dtype conversion; memory; renaming; the non-throwing variant.
#include "../golden.hpp"

#include <cstring>
#include <filesystem>
#include <fstream>

namespace tn = typenet;

using Cnn28 = tn::Sequential<tn::Input<28, 28, 1>, tn::Conv2D<32, tn::kernel<3, 3>, tn::relu>, tn::MaxPool2D<2>,
                             tn::Conv2D<64, tn::kernel<3, 3>, tn::relu>, tn::MaxPool2D<2>, tn::Flatten, tn::Dense<128, tn::relu>,
                             tn::Dense<10, tn::softmax>>;
using ConvGroups = tn::Sequential<tn::Input<12, 10, 6>, tn::Conv2D<9, tn::kernel<3>, tn::groups<3>, tn::relu>,
                                  tn::DepthwiseConv2D<tn::kernel<3>, tn::padding<1>, tn::sigmoid>,
                                  tn::DepthwiseConv2D<tn::kernel<3>, tn::stride<2>, tn::depth_multiplier<2>>>;
using WithBn = tn::Sequential<tn::Input<23, 19, 3>, tn::Conv2D<8, tn::kernel<3>, tn::no_bias>, tn::BatchNorm<>, tn::ReLU,
                              tn::MaxPool2D<2>, tn::BatchNormalization, tn::GlobalAveragePool2D, tn::Dense<4>, tn::BatchNorm<>>;
using Small = tn::Sequential<tn::Input<3>, tn::Dense<2, tn::relu>, tn::Dense<1>>;

TEST_CASE("from_pytorch permutes the Dense after a Flatten of convolutions, and only that one", "[io][pytorch]") {
    const auto& infos = tn::Net<Cnn28>::param_infos();
    CHECK(infos[4].name == "5.weight");
    CHECK(infos[4].flattened_hwc == std::array<std::size_t, 3>{5, 5, 64});
    CHECK(infos[6].flattened_hwc[0] == 0);
    // A Flatten of the model's own rank-3 input (no convolution before it) is not permuted.
    using NoConv = tn::Sequential<tn::Input<4, 5, 3>, tn::Flatten, tn::Dense<24>>;
    CHECK(tn::Net<NoConv>::param_infos()[0].flattened_hwc[0] == 0);
    golden::check_model<Cnn28>("cnn28");  // PyTorch's raw state_dict, loaded with tn::from_pytorch
}

TEST_CASE("from_keras: Keras' default layer names and layouts give PyTorch's numbers", "[io][keras]") {
    const auto file = tn::SafetensorsFile::read(golden::path("cnn28.keras.safetensors"));
    CHECK(file.find("conv2d_1/kernel")->shape_str() == "[3, 3, 32, 64]");
    CHECK(file.find("dense/kernel")->shape_str() == "[1600, 128]");
    SECTION("conv, dense after flatten, dense") { golden::check_model<Cnn28>("cnn28", 1e-5, ".keras.safetensors", tn::from_keras); }
    SECTION("grouped conv, depthwise, depth multiplier") {
        golden::check_model<ConvGroups>("conv_groups", 1e-5, ".keras.safetensors", tn::from_keras);
    }
    SECTION("batch normalization") { golden::check_model<WithBn>("batchnorm", 1e-5, ".keras.safetensors", tn::from_keras); }
}

template <class M>
void round_trip(tn::WeightConvention c) {
    const auto a = tn::make<M>(tn::seed{21});
    const auto file = std::filesystem::temp_directory_path() / "typenet_convention.safetensors";
    tn::save_weights(a, file, c);
    auto b = tn::make<M>(tn::seed{22});
    tn::load_weights(b, file, c);
    CHECK(a.get_weights() == b.get_weights());
    std::filesystem::remove(file);
}

TEST_CASE("save then load is exact in every convention", "[io]") {
    round_trip<Cnn28>(tn::native);
    round_trip<Cnn28>(tn::to_pytorch);
    round_trip<Cnn28>(tn::to_keras);
    round_trip<ConvGroups>(tn::to_keras);
    round_trip<WithBn>(tn::to_keras);
    using Decoder = tn::Sequential<tn::Input<5, 4, 3>, tn::Conv2DTranspose<4, tn::kernel<3>, tn::stride<2>>>;
    round_trip<Decoder>(tn::to_keras);
}

namespace {
// A safetensors file for Small whose tensors are stored in `dtype` (2-, 4- or 8-byte floats).
std::vector<std::uint8_t> small_file(const std::string& dtype, const std::vector<float>& values) {
    const std::size_t es = dtype == "F64" ? 8 : dtype == "F32" ? 4 : 2;
    const char* names[] = {"0.weight", "0.bias", "1.weight", "1.bias"};
    const std::size_t sizes[] = {6, 2, 2, 1};
    const char* shapes[] = {"[2,3]", "[2]", "[1,2]", "[1]"};
    std::string h = "{";
    std::size_t off = 0;
    for (int i = 0; i < 4; ++i) {
        h += std::string(i ? "," : "") + "\"" + names[i] + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shapes[i] +
             ",\"data_offsets\":[" + std::to_string(off) + "," + std::to_string(off + sizes[i] * es) + "]}";
        off += sizes[i] * es;
    }
    h += "}";
    std::vector<std::uint8_t> b(8 + h.size() + off);
    for (std::size_t i = 0; i < 8; ++i) b[i] = std::uint8_t(std::uint64_t(h.size()) >> (8 * i));
    std::memcpy(b.data() + 8, h.data(), h.size());
    std::uint8_t* d = b.data() + 8 + h.size();
    for (std::size_t i = 0; i < values.size(); ++i) {
        std::uint32_t bits;
        std::memcpy(&bits, &values[i], 4);
        if (dtype == "F64") {
            const double v = values[i];
            std::memcpy(d + 8 * i, &v, 8);
        } else if (dtype == "F32") {
            std::memcpy(d + 4 * i, &bits, 4);
        } else if (dtype == "BF16") {
            const std::uint16_t v = std::uint16_t(bits >> 16);  // exact for these values
            std::memcpy(d + 2 * i, &v, 2);
        } else {  // F16, for values exactly representable: sign, exponent rebias, top 10 mantissa bits
            const std::uint32_t sign = (bits >> 16) & 0x8000u, exp = (bits >> 23) & 0xFFu, man = bits & 0x7FFFFFu;
            const std::uint16_t v = std::uint16_t(exp == 0 ? sign : sign | ((exp - 112) << 10) | (man >> 13));
            std::memcpy(d + 2 * i, &v, 2);
        }
    }
    return b;
}
}  // namespace

TEST_CASE("F64, F16 and BF16 tensors are converted on load", "[io][dtype]") {
    const std::vector<float> values{0.5f, -1.25f, 2.f, 0.f, -0.375f, 1.5f, 0.25f, -3.f, 1.f, -0.5f, 0.125f};
    for (const char* dtype : {"F32", "F64", "F16", "BF16"}) {
        INFO(dtype);
        auto net = tn::make<Small>();
        tn::load_weights(net, tn::SafetensorsFile(small_file(dtype, values), dtype));
        CHECK(net.get_weights() == values);
    }
}

TEST_CASE("weights from memory take the same path as a file (compiled-in weights)", "[io][memory]") {
    std::ifstream f(golden::path("odd.weights.safetensors"), std::ios::binary);
    const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    using Odd = tn::Sequential<tn::Input<37>, tn::Dense<53, tn::tanh>, tn::Dense<29, tn::gelu>, tn::Dense<11, tn::log_softmax>>;
    auto from_memory = tn::make<Odd>(), from_file = tn::make<Odd>();
    tn::load_weights(from_memory, tn::SafetensorsFile::view(bytes, "embedded"), tn::from_pytorch);
    tn::load_weights(from_file, golden::path("odd.weights.safetensors"), tn::from_pytorch);
    CHECK(from_memory.get_weights() == from_file.get_weights());
}

TEST_CASE("renaming maps the model's names to the file's", "[io][rename]") {
    const std::vector<float> values{0.5f, -1.25f, 2.f, 0.f, -0.375f, 1.5f, 0.25f, -3.f, 1.f, -0.5f, 0.125f};
    const auto file = std::filesystem::temp_directory_path() / "typenet_rename.safetensors";
    {
        auto src = tn::make<Small>();
        src.set_weights(values);
        tn::save_weights(src, file);
    }
    // Rewrite the names as a PyTorch module tree would have them: features.0 / head.
    const auto original = tn::SafetensorsFile::read(file);
    std::vector<std::vector<float>> keep;
    std::vector<tn::NamedTensor> renamed;
    for (const auto& [name, entry] : original.tensors()) {
        keep.push_back(original.floats(name));
        const std::string to = name.rfind("0.", 0) == 0 ? "features.0." + name.substr(2) : "head." + name.substr(2);
        renamed.push_back({to, entry.shape, keep.back()});
    }
    tn::write_safetensors(file, renamed);
    auto net = tn::make<Small>();
    CHECK(tn::try_load_weights(net, tn::SafetensorsFile::read(file)).has_value());
    const auto error = tn::try_load_weights(net, tn::SafetensorsFile::read(file), tn::native,
                                            tn::LoadOptions{.rename = {{"0.", "features.0."}, {"1.", "head."}}});
    CHECK_FALSE(error.has_value());
    CHECK(net.get_weights() == values);
    std::filesystem::remove(file);
}

TEST_CASE("try_load_weights reports instead of throwing, and names the tensor in the file's terms", "[io][errors]") {
    auto net = tn::make<Cnn28>();
    const auto before = net.get_weights();
    const auto err = tn::try_load_weights(net, tn::SafetensorsFile::read(golden::path("cnn28.weights.safetensors")), tn::from_keras);
    REQUIRE(err.has_value());
    CHECK(std::string(err->what()).find("missing tensor 'conv2d/kernel' (typenet's '0.weight') (expected F32 [3, 3, 1, 32])") !=
          std::string::npos);
    CHECK(net.get_weights() == before);
    CHECK(tn::try_load_weights(net, std::filesystem::path("/nonexistent.safetensors")).has_value());
}

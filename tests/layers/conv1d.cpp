// Conv1D against PyTorch's nn.Conv1d (tools/sequence_fixtures.py): stride with padding,
// dilation, groups with "same", depthwise, BatchNorm folded, and a causal TCN that streams a
// sample at a time with bitwise the outputs of the whole sequence.
#include <catch2/catch.hpp>

#include <filesystem>
#include <vector>

#include "../golden.hpp"

namespace tn = typenet;

namespace {
using S2P2 = tn::Sequential<tn::Input<21, 3>, tn::Conv1D<8, tn::kernel<5>, tn::stride<2>, tn::padding<2>>>;
using Dil3 = tn::Sequential<tn::Input<20, 4>, tn::Conv1D<6, tn::kernel<3>, tn::dilation<3>, tn::relu>>;
using GroupsSame = tn::Sequential<tn::Input<15, 6>, tn::Conv1D<9, tn::kernel<4>, tn::groups<3>, tn::padding_same>>;
using Depthwise = tn::Sequential<tn::Input<12, 4>, tn::Conv1D<8, tn::kernel<3>, tn::groups<4>, tn::no_bias>>;
using BnDense = tn::Sequential<tn::Input<16, 3>, tn::Conv1D<7, tn::kernel<3>, tn::padding<1>>, tn::BatchNorm<>, tn::ReLU, tn::Dense<2>>;
template <std::size_t D, std::size_t In = 16>
using Causal = tn::Conv1D<16, tn::kernel<3>, tn::dilation<D>, tn::padding_causal, tn::tanh>;
using Tcn = tn::Sequential<tn::Input<70, 1>, Causal<1>, Causal<2>, Causal<4>, Causal<8>, Causal<16>, tn::Dense<1>>;
}  // namespace

TEST_CASE("Conv1D shapes follow PyTorch's rule", "[conv1d]") {
    STATIC_REQUIRE(std::is_same_v<S2P2::output_shape_type, tn::Shape<11, 8>>);   // (21 + 4 - 5) / 2 + 1
    STATIC_REQUIRE(std::is_same_v<Dil3::output_shape_type, tn::Shape<14, 6>>);   // 20 - 2 * 3
    STATIC_REQUIRE(std::is_same_v<GroupsSame::output_shape_type, tn::Shape<15, 9>>);
    STATIC_REQUIRE(std::is_same_v<Tcn::output_shape_type, tn::Shape<70, 1>>);   // causal keeps T
    STATIC_REQUIRE(GroupsSame::param_count == 9 * 2 * 4 + 9);
    // the TCN's state: the last (3 - 1) * d input steps of each layer
    STATIC_REQUIRE(tn::Net<Tcn>::state_floats == 2 * 1 * 1 + 2 * 2 * 16 + 2 * 4 * 16 + 2 * 8 * 16 + 2 * 16 * 16);
}

TEST_CASE("Conv1D, stride 2 with padding, matches PyTorch", "[conv1d][golden]") { golden::check_model<S2P2>("conv1d_s2_p2"); }
TEST_CASE("Conv1D, dilation 3 and relu, matches PyTorch", "[conv1d][golden]") { golden::check_model<Dil3>("conv1d_dil3_relu"); }
TEST_CASE("Conv1D, groups with padding same (even kernel), matches PyTorch", "[conv1d][golden]") {
    golden::check_model<GroupsSame>("conv1d_groups_same");
}
TEST_CASE("Conv1D, depthwise without bias, matches PyTorch", "[conv1d][golden]") { golden::check_model<Depthwise>("conv1d_depthwise"); }
TEST_CASE("Conv1D, BatchNorm (folded), ReLU (fused) and Dense on each step match PyTorch", "[conv1d][golden]") {
    golden::check_model<BnDense>("conv1d_bn_relu_dense");
    REQUIRE(tn::fusion_plan<BnDense>().find("batchnorm folded") != std::string::npos);
}

TEST_CASE("a causal TCN matches PyTorch, and streams sample by sample bitwise", "[conv1d][golden][streaming]") {
    golden::check_model<Tcn>("tcn_causal", 2e-5);
    golden::check_streaming<Tcn>("tcn_causal", {3, 33, 34});
}

// DepthwiseConv1D: Keras' name for Conv1D with groups<C> and C * M filters.
namespace {
using DepthwiseM2 = tn::Sequential<tn::Input<12, 4>, tn::DepthwiseConv1D<tn::kernel<3>, tn::depth_multiplier<2>, tn::no_bias>>;
using DepthwiseCausal = tn::Sequential<tn::Input<25, 20>, tn::DepthwiseConv1D<tn::kernel<3>, tn::dilation<2>, tn::padding_causal, tn::relu>,
                                       tn::Dense<2>>;
}  // namespace

TEST_CASE("DepthwiseConv1D matches PyTorch's Conv1d with groups = channels, and streams", "[conv1d][golden][streaming]") {
    STATIC_REQUIRE(std::is_same_v<DepthwiseM2::output_shape_type, tn::Shape<10, 8>>);
    STATIC_REQUIRE(DepthwiseCausal::param_count == 20 * 3 + 20 + 20 * 2 + 2);
    golden::check_model<DepthwiseM2>("conv1d_depthwise");  // the Conv1D<8, groups<4>> fixture
    golden::check_model<DepthwiseCausal>("depthwise1d_causal");
    golden::check_streaming<DepthwiseCausal>("depthwise1d_causal", {1, 5, 4});
    // Conv1D with groups<20> computes the same numbers, bit for bit
    using Grouped = tn::Sequential<tn::Input<25, 20>, tn::Conv1D<20, tn::kernel<3>, tn::dilation<2>, tn::padding_causal, tn::relu, tn::groups<20>>,
                                   tn::Dense<2>>;
    auto a = tn::make<DepthwiseCausal>();
    auto b = tn::make<Grouped>();
    tn::load_weights(a, golden::path("depthwise1d_causal.weights.safetensors"));
    b.set_weights(a.get_weights());
    const golden::Io d = golden::io("depthwise1d_causal");
    std::vector<float> ya(d.rows * d.out_size), yb(d.rows * d.out_size);
    a.predict(d.input.data(), ya.data(), d.rows);
    b.predict(d.input.data(), yb.data(), d.rows);
    REQUIRE(ya == yb);
    REQUIRE(tn::Net<DepthwiseCausal>::param_infos()[0].name == "0.weight");
}

TEST_CASE("DepthwiseConv1D reads Keras' depthwise_kernel [K, C, M]", "[conv1d][keras]") {
    auto a = tn::make<DepthwiseM2>();
    tn::load_weights(a, golden::path("conv1d_depthwise.weights.safetensors"));
    const std::string file = (std::filesystem::temp_directory_path() / "typenet_depthwise1d_keras_round_trip.safetensors").string();
    tn::save_weights(a, file, tn::to_keras);
    const auto f = tn::SafetensorsFile::read(file);
    REQUIRE(f.find("depthwise_conv1d/depthwise_kernel"));
    REQUIRE(f.find("depthwise_conv1d/depthwise_kernel")->shape == std::vector<std::size_t>{3, 4, 2});
    const auto k = f.floats("depthwise_conv1d/depthwise_kernel");
    auto b = tn::make<DepthwiseM2>();
    tn::load_weights(b, file, tn::from_keras);
    REQUIRE(b.get_weights() == a.get_weights());
    // element [k][c][m] is PyTorch's weight[c * 2 + m][0][k]
    const auto w = a.get_weights();
    REQUIRE(k[(2 * 4 + 3) * 2 + 1] == w[(3 * 2 + 1) * 3 + 2]);
}

// A graph streams like a Sequential: WaveNet's gated residual stack (Neural Amp Modeler's
// layer), with skip connections summed, one sample per call.
namespace {
template <tn::fixed_string F, tn::fixed_string G, tn::fixed_string M, std::size_t D, class X>
constexpr auto gated(X x) {
    using Causal = tn::Conv1D<8, tn::kernel<3>, tn::dilation<D>, tn::padding_causal>;
    auto z = tn::activation<tn::tanh>(tn::layer<F, Causal>(x)) * tn::activation<tn::sigmoid>(tn::layer<G, Causal>(x));
    return std::pair{x + tn::layer<M, tn::Conv1D<8, tn::kernel<1>>>(z), z};
}
constexpr auto gated_residual = [] {
    auto in = tn::input<"x", 60, 1>;
    auto x0 = tn::layer<"input", tn::Conv1D<8, tn::kernel<1>>>(in);
    auto [x1, z0] = gated<"filter0", "gate0", "mix0", 1>(x0);
    auto [x2, z1] = gated<"filter1", "gate1", "mix1", 2>(x1);
    auto [x3, z2] = gated<"filter2", "gate2", "mix2", 4>(x2);
    auto [x4, z3] = gated<"filter3", "gate3", "mix3", 8>(x3);
    auto out = tn::dense<"head", 1>(tn::activation<tn::relu>(tn::add(z0, z1, z2, z3, x4)));
    return tn::model(tn::inputs(in), tn::outputs(out));
};
using GatedResidual = decltype(gated_residual());
}  // namespace

TEST_CASE("a graph model streams: WaveNet's gated residual stack matches PyTorch, stepped and in blocks bitwise", "[conv1d][golden][streaming]") {
    STATIC_REQUIRE(tn::Net<GatedResidual>::streamable());
    STATIC_REQUIRE(tn::Net<GatedResidual>::step_input_floats == 1 && tn::Net<GatedResidual>::step_output_floats == 1);
    // the state: the last 2d input steps of each dilated convolution (filter and gate alike)
    STATIC_REQUIRE(tn::Net<GatedResidual>::state_floats == 2 * 2 * 8 * (1 + 2 + 4 + 8));
    golden::check_model<GatedResidual>("gated_residual", 2e-5);
    golden::check_streaming<GatedResidual>("gated_residual", {1, 3, 40});
}

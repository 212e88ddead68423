// Conv1D against PyTorch's nn.Conv1d (tools/sequence_fixtures.py): stride with padding,
// dilation, groups with "same", depthwise, BatchNorm folded, and a causal TCN that streams a
// sample at a time with bitwise the outputs of the whole sequence.
#include <catch2/catch.hpp>

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

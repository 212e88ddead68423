// The 1-D pools and the layers that change a sequence's length (layers/pooling1d.hpp,
// layers/sequence_resize.hpp) against PyTorch's F.max_pool1d, F.avg_pool1d, F.interpolate,
// F.pad (tools/sequence_fixtures.py: resize_fixtures).
#include <catch2/catch.hpp>

#include "../golden.hpp"

namespace tn = typenet;

namespace {
using PoolResize = tn::Sequential<tn::Input<24, 3>, tn::Conv1D<5, tn::kernel<3>, tn::relu>, tn::MaxPool1D<2>,
                                  tn::AveragePool1D<3, tn::stride<2>, tn::padding<1>, tn::count_include_pad>, tn::UpSampling1D<2>,
                                  tn::ZeroPadding1D<2, 1>, tn::Cropping1D<1, 3>, tn::MaxPool1D<3, tn::stride<1>, tn::padding<1>>,
                                  tn::GlobalAveragePool1D, tn::Dense<2>>;
using AvgExclude = tn::Sequential<tn::Input<20, 4>, tn::Conv1D<6, tn::kernel<3>, tn::padding_same>,
                                  tn::AveragePool1D<4, tn::stride<2>, tn::padding<1>>, tn::GlobalMaxPool1D, tn::Dense<3>>;
}  // namespace

TEST_CASE("1-D pools and sequence resizing: shapes are constants", "[pooling1d]") {
    using In = tn::Shape<24, 3>;
    STATIC_REQUIRE(std::is_same_v<tn::MaxPool1D<2>::output_shape_for<tn::Shape<22, 5>>, tn::Shape<11, 5>>);
    STATIC_REQUIRE(std::is_same_v<tn::AveragePool1D<3, tn::stride<2>, tn::padding<1>>::output_shape_for<tn::Shape<11, 5>>, tn::Shape<6, 5>>);
    STATIC_REQUIRE(std::is_same_v<tn::MaxPool1D<4, tn::padding_same>::output_shape_for<tn::Shape<10, 2>>, tn::Shape<3, 2>>);
    STATIC_REQUIRE(std::is_same_v<tn::UpSampling1D<3>::output_shape_for<In>, tn::Shape<72, 3>>);
    STATIC_REQUIRE(std::is_same_v<tn::ZeroPadding1D<2, 1>::output_shape_for<In>, tn::Shape<27, 3>>);
    STATIC_REQUIRE(std::is_same_v<tn::Cropping1D<4>::output_shape_for<In>, tn::Shape<16, 3>>);
    STATIC_REQUIRE(std::is_same_v<tn::GlobalMaxPool1D::output_shape_for<In>, tn::Shape<3>>);
    STATIC_REQUIRE(!tn::MaxPool1D<25>::accepts<In>);
    STATIC_REQUIRE(!tn::Cropping1D<12>::accepts<In>);
    STATIC_REQUIRE(!tn::GlobalAveragePool1D::accepts<tn::Shape<4, 4, 3>>);
    STATIC_REQUIRE(std::is_same_v<PoolResize::output_shape_type, tn::Shape<2>>);
}

TEST_CASE("MaxPool1D, AveragePool1D (padding counted), UpSampling1D, ZeroPadding1D, Cropping1D, GlobalAveragePool1D match PyTorch",
          "[pooling1d][golden]") {
    golden::check_model<PoolResize>("seq_pool_resize", 2e-5);
}
TEST_CASE("AveragePool1D without the padding counted, GlobalMaxPool1D match PyTorch", "[pooling1d][golden]") {
    golden::check_model<AvgExclude>("seq_avg_exclude_globalmax", 2e-5);
}

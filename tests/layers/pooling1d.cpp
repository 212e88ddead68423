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

// ceil_mode (PyTorch's ceil_mode=True): a last, partial window; an average that counts the
// padding counts only up to it.
namespace {
using PoolCeil = tn::Sequential<tn::Input<11, 3>, tn::Conv1D<4, tn::kernel<2>>,
                                tn::AveragePool1D<3, tn::stride<2>, tn::padding<1>, tn::count_include_pad, tn::ceil_mode>,
                                tn::MaxPool1D<4, tn::stride<3>, tn::ceil_mode>>;
using Pool2DCeil = tn::Sequential<tn::Input<9, 8, 5>, tn::MaxPool2D<3, tn::stride<2>, tn::ceil_mode>,
                                  tn::AveragePool2D<3, tn::stride<2>, tn::padding<1>, tn::count_include_pad, tn::ceil_mode>>;
}  // namespace

TEST_CASE("pooling with ceil_mode: PyTorch's output sizes and divisors", "[pooling1d][golden]") {
    // 10 steps, window 3, stride 2, padding 1: ceil(9 / 2) + 1 = 6 (floor: 5)
    STATIC_REQUIRE(std::is_same_v<PoolCeil::program::shape<2>, tn::Shape<6, 4>>);
    STATIC_REQUIRE(std::is_same_v<PoolCeil::output_shape_type, tn::Shape<2, 4>>);  // ceil(2 / 3) + 1
    // a window that would start in the right padding is dropped: 4 steps, window 2, stride 2, padding 1
    STATIC_REQUIRE(std::is_same_v<tn::MaxPool1D<2, tn::padding<1>, tn::ceil_mode>::output_shape_for<tn::Shape<4, 1>>, tn::Shape<3, 1>>);
    STATIC_REQUIRE(std::is_same_v<tn::MaxPool1D<2, tn::padding<1>>::output_shape_for<tn::Shape<4, 1>>, tn::Shape<3, 1>>);
    STATIC_REQUIRE(std::is_same_v<tn::MaxPool1D<2, tn::ceil_mode>::output_shape_for<tn::Shape<5, 1>>, tn::Shape<3, 1>>);
    STATIC_REQUIRE(std::is_same_v<Pool2DCeil::program::shape<1>, tn::Shape<4, 4, 5>>);  // rows exact, columns one more
    STATIC_REQUIRE(std::is_same_v<Pool2DCeil::output_shape_type, tn::Shape<3, 3, 5>>);
    REQUIRE(tn::layer_name<tn::MaxPool2D<3, tn::stride<2>, tn::ceil_mode>>() == "MaxPool2D<3, stride<2>, ceil_mode>");
    golden::check_model<PoolCeil>("seq_pool_ceil", 2e-5);
    golden::check_model<Pool2DCeil>("pool2d_ceil", 2e-5);
}

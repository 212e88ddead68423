#include "../golden.hpp"

namespace tn = typenet;

using Pooling = tn::Sequential<tn::Input<23, 19, 7>, tn::MaxPool2D<2>, tn::AveragePool2D<3, tn::stride<2>, tn::padding<1>>,
                               tn::AveragePool2D<2, tn::stride<1>, tn::padding<1>, tn::count_include_pad>,
                               tn::MaxPool2D<3, tn::stride<2>, tn::padding_same>>;

TEST_CASE("pooling: shape rules", "[pool]") {
    using P = Pooling::program;  // IR node k + 1 is layer k
    STATIC_REQUIRE(std::is_same_v<P::shape<1>, tn::Shape<11, 9, 7>>);
    STATIC_REQUIRE(std::is_same_v<P::shape<2>, tn::Shape<6, 5, 7>>);
    STATIC_REQUIRE(std::is_same_v<P::shape<3>, tn::Shape<7, 6, 7>>);
    STATIC_REQUIRE(Pooling::output_shape == tn::shape<4, 3, 7>);
    STATIC_REQUIRE(!tn::MaxPool2D<4>::accepts<tn::Shape<3, 8, 2>>);
    STATIC_REQUIRE(std::is_same_v<tn::GlobalAveragePool2D::output_shape_for<tn::Shape<7, 5, 13>>, tn::Shape<13>>);
}

TEST_CASE("pooling matches PyTorch: max, average with and without padding counted, 'same'", "[pool][golden]") {
    golden::check_model<Pooling>("pooling");
}
TEST_CASE("global pooling matches PyTorch", "[pool][golden]") {
    golden::check_model<tn::Sequential<tn::Input<7, 5, 13>, tn::GlobalAveragePool2D>>("global_pool");
    golden::check_model<tn::Sequential<tn::Input<7, 5, 13>, tn::GlobalMaxPool2D>>("global_max_pool");
}

using Spatial = tn::Sequential<tn::Input<5, 4, 3>, tn::ZeroPadding2D<1, 3, 2, 0>, tn::UpSampling2D<2, 3>, tn::Cropping2D<1, 2, 0, 1>>;
TEST_CASE("ZeroPadding2D, UpSampling2D, Cropping2D match PyTorch", "[spatial][golden]") {
    STATIC_REQUIRE(Spatial::output_shape == tn::shape<15, 17, 3>);
    STATIC_REQUIRE(!tn::Cropping2D<2, 3>::accepts<tn::Shape<5, 9, 1>>);
    golden::check_model<Spatial>("spatial");
}

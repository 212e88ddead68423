#include "../golden.hpp"
#include <algorithm>
#include <cmath>
#include <vector>

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
TEST_CASE("global pooling kernels: every channel block and pixel count against a reference", "[pool][kernels]") {
    // kernels::global_pool runs four channel vectors at a time, then the last 1-3 (the last
    // maybe partial), several pixels' chains each with the pixels left over after them.
    for (const std::size_t c : {1, 13, 16, 32, 40, 64, 72, 130, 144}) {
        for (const std::size_t pixels : {1, 3, 5, 49, 50}) {
            const std::size_t batch = 2;
            std::vector<float> x(batch * pixels * c), mean(batch * c), most(batch * c);
            for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(int((i * 37) % 101) - 50) / 16.f;
            tn::kernels::global_pool<false>(pixels, c, x.data(), mean.data(), batch);
            tn::kernels::global_pool<true>(pixels, c, x.data(), most.data(), batch);
            for (std::size_t b = 0; b < batch; ++b)
                for (std::size_t k = 0; k < c; ++k) {
                    double sum = 0;
                    float top = -INFINITY;
                    for (std::size_t p = 0; p < pixels; ++p) {
                        sum += x[(b * pixels + p) * c + k];
                        top = std::max(top, x[(b * pixels + p) * c + k]);
                    }
                    INFO("C = " << c << ", pixels = " << pixels << ", channel " << k);
                    CHECK(std::abs(mean[b * c + k] - sum / double(pixels)) <= 1e-6);  // (multiples of 1/16: exact sums)
                    CHECK(most[b * c + k] == top);
                }
            // A NaN in the last channel of the last pixel wins the maximum there, and only there.
            x[pixels * c - 1] = NAN;
            tn::kernels::global_pool<true>(pixels, c, x.data(), most.data(), 1);
            CHECK(std::isnan(most[c - 1]));
            if (c > 1) CHECK(!std::isnan(most[c - 2]));
        }
    }
}

TEST_CASE("ZeroPadding2D, UpSampling2D, Cropping2D match PyTorch", "[spatial][golden]") {
    STATIC_REQUIRE(Spatial::output_shape == tn::shape<15, 17, 3>);
    STATIC_REQUIRE(!tn::Cropping2D<2, 3>::accepts<tn::Shape<5, 9, 1>>);
    golden::check_model<Spatial>("spatial");
}

// Layers torchvision's models need (tools/sequence_fixtures.py: zoo_layer_fixtures).
TEST_CASE("adaptive pooling matches PyTorch, shrinking and growing, and before a flatten", "[pool][golden]") {
    using Adaptive = tn::Sequential<tn::Input<11, 7, 6>, tn::AdaptiveAveragePool2D<5, 3>, tn::AdaptiveMaxPool2D<2, 4>>;
    STATIC_REQUIRE(std::is_same_v<Adaptive::program::shape<1>, tn::Shape<5, 3, 6>>);
    STATIC_REQUIRE(Adaptive::output_shape == tn::shape<2, 4, 6>);
    golden::check_model<Adaptive>("adaptive_pool");
    // VGG's head: the pooled map flattened in PyTorch's (c, h, w) order into a Linear
    using Head = tn::Sequential<tn::Input<10, 9, 3>, tn::Conv2D<4, tn::kernel<3>>, tn::AdaptiveAveragePool2D<3>, tn::Flatten, tn::Dense<5>>;
    golden::check_model<Head>("adaptive_pool_flatten");
    REQUIRE(tn::layer_name<tn::AdaptiveMaxPool2D<2, 4>>() == "AdaptiveMaxPool2D<2, 4>");
}

// Two groups run by kernels::interleave_pairs (AVX-512: 16 pairs at a time, the rest masked):
// every count of pairs a last partial vector can hold, and more than one vector.
template <std::size_t Per>
static void check_shuffle_of_two() {
    using In = tn::Shape<3, 2 * Per>;
    std::vector<float> in(In::size), out(In::size, -1.f);
    for (std::size_t i = 0; i < in.size(); ++i) in[i] = float(i) + 0.5f;
    tn::ChannelShuffle<2>::forward<In>(nullptr, in.data(), out.data(), 1);
    for (std::size_t p = 0; p < 3; ++p)
        for (std::size_t j = 0; j < Per; ++j) {
            INFO("pairs " << Per << ", pixel " << p << ", pair " << j);
            REQUIRE(out[p * 2 * Per + 2 * j] == in[p * 2 * Per + j]);
            REQUIRE(out[p * 2 * Per + 2 * j + 1] == in[p * 2 * Per + Per + j]);
        }
}
TEST_CASE("ChannelShuffle of two groups interleaves the halves, whole vectors and the rest", "[pool]") {
    check_shuffle_of_two<1>();
    check_shuffle_of_two<4>();
    check_shuffle_of_two<8>();
    check_shuffle_of_two<9>();
    check_shuffle_of_two<15>();
    check_shuffle_of_two<16>();
    check_shuffle_of_two<29>();
    check_shuffle_of_two<58>();   // ShuffleNetV2 x1.0's 116 channels
    check_shuffle_of_two<116>();  // and its 232
}

TEST_CASE("ChannelShuffle matches torchvision's channel_shuffle; Identity and StochasticDepth pass values on", "[pool][golden]") {
    using Shuffle = tn::Sequential<tn::Input<4, 5, 12>, tn::ReLU, tn::ChannelShuffle<3>>;
    golden::check_model<Shuffle>("channel_shuffle");
    STATIC_REQUIRE(!tn::ChannelShuffle<5>::accepts<tn::Shape<4, 5, 12>>);
    using Pass = tn::Sequential<tn::Input<4, 5, 12>, tn::ReLU, tn::Identity, tn::ChannelShuffle<3>, tn::StochasticDepth<1, 5>>;
    golden::check_model<Pass>("channel_shuffle");
    REQUIRE(tn::layer_name<tn::StochasticDepth<1, 5>>() == "StochasticDepth<0.2>");
}

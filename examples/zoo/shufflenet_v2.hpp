// torchvision's ShuffleNetV2 x1.0 as a type, with torchvision's module names (conv1.0.weight,
// stage2.0.branch1.0.weight, stage2.0.branch2.0.weight, ..., conv5.0.weight, fc.weight): its
// state_dict loads with no renaming. A unit that halves the resolution runs "branch1" and
// "branch2" on its input and concatenates them; the others split the channels in two, keep
// the first half (x1) and run "branch2" on the second (x2), as torchvision's x.chunk(2); both
// then shuffle the channels in two groups. (The Branch and the split path are named "":
// branch1 and branch2 are the unit's own children in PyTorch.)
#pragma once
#include <cstddef>
#include <type_traits>
#include <utility>

#include <typenet/typenet.hpp>

namespace zoo {
namespace tn = typenet;

namespace shufflenet_v2 {

template <std::size_t Stride>
using Depthwise = tn::Sequential<tn::DepthwiseConv2D<tn::kernel<3>, tn::stride<Stride>, tn::padding<1>, tn::no_bias>, tn::BatchNorm<>>;
template <std::size_t Out>
using Pointwise = tn::Sequential<tn::Conv2D<Out, tn::kernel<1>, tn::no_bias>, tn::BatchNorm<>, tn::ReLU>;

// branch2: 1x1, BatchNorm, ReLU, 3x3 depthwise, BatchNorm, 1x1, BatchNorm, ReLU (flat, [0] .. [7]).
template <std::size_t Half, std::size_t Stride>
using Branch2 = tn::Named<"branch2", tn::Sequential<tn::Conv2D<Half, tn::kernel<1>, tn::no_bias>, tn::BatchNorm<>, tn::ReLU,
                                                    tn::DepthwiseConv2D<tn::kernel<3>, tn::stride<Stride>, tn::padding<1>, tn::no_bias>,
                                                    tn::BatchNorm<>, tn::Conv2D<Half, tn::kernel<1>, tn::no_bias>, tn::BatchNorm<>, tn::ReLU>>;
// branch1 (downsampling units only): 3x3 depthwise stride 2, BatchNorm, 1x1, BatchNorm, ReLU.
template <std::size_t Half>
using Branch1 = tn::Named<"branch1", tn::Sequential<tn::DepthwiseConv2D<tn::kernel<3>, tn::stride<2>, tn::padding<1>, tn::no_bias>,
                                                    tn::BatchNorm<>, tn::Conv2D<Half, tn::kernel<1>, tn::no_bias>, tn::BatchNorm<>, tn::ReLU>>;

template <std::size_t Out>
using DownUnit = tn::Sequential<tn::Named<"", tn::Branch<tn::Concat<>, Branch1<Out / 2>, Branch2<Out / 2, 2>>>, tn::ChannelShuffle<2>>;
template <std::size_t C>
using Unit = tn::Sequential<tn::Named<"", tn::Branch<tn::Concat<>, tn::Named<"x1", tn::ChannelSlice<0, C / 2>>,
                                                     tn::Named<"", tn::Sequential<tn::Named<"x2", tn::ChannelSlice<C / 2, C>>, Branch2<C / 2, 1>>>>>,
                            tn::ChannelShuffle<2>>;

template <std::size_t, std::size_t C>
using UnitAt = Unit<C>;  // (the I-th of a stage's units: all alike)
template <std::size_t Out, std::size_t Repeats>
consteval auto stage() {
    return []<std::size_t... I>(std::index_sequence<I...>) {
        return std::type_identity<tn::Sequential<DownUnit<Out>, UnitAt<I, Out>...>>{};
    }(std::make_index_sequence<Repeats - 1>{});
}
template <std::size_t Out, std::size_t Repeats>
using Stage = typename decltype(stage<Out, Repeats>())::type;

}  // namespace shufflenet_v2

// stages_repeats [4, 8, 4], stages_out_channels [24, 116, 232, 464, 1024].
template <std::size_t H, std::size_t W, std::size_t Classes = 1000>
using ShuffleNetV2x1_0 = tn::Sequential<
    tn::Input<H, W, 3>,
    tn::Named<"conv1", tn::Sequential<tn::Conv2D<24, tn::kernel<3>, tn::stride<2>, tn::padding<1>, tn::no_bias>, tn::BatchNorm<>, tn::ReLU>>,
    tn::Named<"maxpool", tn::MaxPool2D<3, tn::stride<2>, tn::padding<1>>>,
    tn::Named<"stage2", shufflenet_v2::Stage<116, 4>>, tn::Named<"stage3", shufflenet_v2::Stage<232, 8>>,
    tn::Named<"stage4", shufflenet_v2::Stage<464, 4>>,
    tn::Named<"conv5", shufflenet_v2::Pointwise<1024>>, tn::GlobalAveragePool2D, tn::Named<"fc", tn::Dense<Classes>>>;

}  // namespace zoo

// torchvision's SqueezeNet 1.1 as a type, with torchvision's module names (features.0.weight,
// features.3.squeeze.weight, features.3.expand1x1.weight, ..., classifier.1.weight): its
// state_dict loads with no renaming. A Fire module squeezes with a 1x1 convolution, then
// concatenates a 1x1 and a 3x3 expansion: its three convolutions are siblings in PyTorch, so
// the Branch that holds the two expansions is named "" (it adds no level to the names). The
// max pools round up (ceil_mode=True), and the classifier is a 1x1 convolution to the classes,
// ReLU, and an average over the pixels.
#pragma once
#include <cstddef>

#include <typenet/typenet.hpp>

namespace zoo {
namespace tn = typenet;

namespace squeezenet {

template <std::size_t Squeeze, std::size_t Expand>
using Fire = tn::Sequential<tn::Named<"squeeze", tn::Conv2D<Squeeze, tn::kernel<1>, tn::relu>>,
                            tn::Named<"", tn::Branch<tn::Concat<>, tn::Named<"expand1x1", tn::Conv2D<Expand, tn::kernel<1>, tn::relu>>,
                                                     tn::Named<"expand3x3", tn::Conv2D<Expand, tn::kernel<3>, tn::padding<1>, tn::relu>>>>>;
using Pool = tn::MaxPool2D<3, tn::stride<2>, tn::ceil_mode>;

using Features = tn::Sequential<tn::Conv2D<64, tn::kernel<3>, tn::stride<2>>, tn::ReLU, Pool, Fire<16, 64>, Fire<16, 64>, Pool,
                                Fire<32, 128>, Fire<32, 128>, Pool, Fire<48, 192>, Fire<48, 192>, Fire<64, 256>, Fire<64, 256>>;

}  // namespace squeezenet

template <std::size_t H, std::size_t W, std::size_t Classes = 1000>
using SqueezeNet1_1 =
    tn::Sequential<tn::Input<H, W, 3>, tn::Named<"features", squeezenet::Features>,
                   tn::Named<"classifier", tn::Sequential<tn::Dropout<>, tn::Conv2D<Classes, tn::kernel<1>>, tn::ReLU, tn::GlobalAveragePool2D>>>;

}  // namespace zoo

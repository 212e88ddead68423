// torchvision's VGG-11 as a type, with torchvision's module names (features.0.weight, ...,
// features.18.weight, classifier.0.weight, classifier.3.weight, classifier.6.weight): its
// state_dict loads with no renaming. The classifier reads the 7x7x512 map flattened: PyTorch
// flattens channels-first, and loading classifier.0.weight from PyTorch permutes its columns
// to typenet's channels-last order (the same numbers, no copy at run time).
#pragma once
#include <cstddef>

#include <typenet/typenet.hpp>

namespace zoo {
namespace tn = typenet;

namespace vgg {
template <std::size_t C>
using Conv = tn::Conv2D<C, tn::kernel<3>, tn::padding<1>>;
using Pool = tn::MaxPool2D<2, tn::stride<2>>;
// configuration "A": 64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M
using Features11 = tn::Sequential<Conv<64>, tn::ReLU, Pool, Conv<128>, tn::ReLU, Pool, Conv<256>, tn::ReLU, Conv<256>, tn::ReLU, Pool,
                                  Conv<512>, tn::ReLU, Conv<512>, tn::ReLU, Pool, Conv<512>, tn::ReLU, Conv<512>, tn::ReLU, Pool>;
}  // namespace vgg

template <std::size_t H, std::size_t W, std::size_t Classes = 1000>
using VGG11 = tn::Sequential<tn::Input<H, W, 3>, tn::Named<"features", vgg::Features11>, tn::Named<"avgpool", tn::AdaptiveAveragePool2D<7>>,
                             tn::Flatten,
                             tn::Named<"classifier", tn::Sequential<tn::Dense<4096>, tn::ReLU, tn::Dropout<>, tn::Dense<4096>, tn::ReLU,
                                                                    tn::Dropout<>, tn::Dense<Classes>>>>;

}  // namespace zoo

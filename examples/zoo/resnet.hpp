// torchvision's ResNet skeleton as a type, with torchvision's module names: the stem (conv1,
// bn1, relu, maxpool), four stages layer1..layer4 (given by resnet18.hpp / resnet50.hpp),
// global average pooling and fc.
#pragma once
#include <cstddef>

#include <typenet/typenet.hpp>

namespace zoo {
namespace tn = typenet;

template <std::size_t H, std::size_t W, std::size_t Classes, class Layer1, class Layer2, class Layer3, class Layer4>
using ResNet = tn::Sequential<
    tn::Input<H, W, 3>,
    tn::Named<"conv1", tn::Conv2D<64, tn::kernel<7>, tn::stride<2>, tn::padding<3>, tn::no_bias>>,
    tn::Named<"bn1", tn::BatchNorm<>>, tn::ReLU,
    tn::MaxPool2D<3, tn::stride<2>, tn::padding<1>>,
    tn::Named<"layer1", Layer1>, tn::Named<"layer2", Layer2>, tn::Named<"layer3", Layer3>, tn::Named<"layer4", Layer4>,
    tn::GlobalAveragePool2D,
    tn::Named<"fc", tn::Dense<Classes>>>;

}  // namespace zoo

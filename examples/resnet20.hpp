// ResNet-20 for CIFAR-10 (He et al. 2016, section 4.2), as a type: a 3x3 stem, three stages of
// three basic blocks (16, 32, 64 filters; the first block of the second and third stage
// halves the resolution, its shortcut a strided 1x1 convolution with BatchNorm), global
// average pooling and a 10-way softmax. 0.27 M parameters, 41 MFLOP per 32x32x3 image.
#pragma once
// Only the headers the model needs (typenet.hpp would add the weight-file readers, ~4 s of
// compile time; include <typenet/io/weights.hpp> where weights are loaded).
#include <typenet/model/sequential.hpp>
#include <typenet/layers/batch_norm.hpp>
#include <typenet/layers/branch.hpp>
#include <typenet/layers/conv2d.hpp>
#include <typenet/layers/dense.hpp>
#include <typenet/layers/pooling2d.hpp>
#include <typenet/model/net.hpp>

namespace resnet {
namespace tn = typenet;

template <std::size_t C, std::size_t Stride = 1>
using Body = tn::Sequential<tn::Conv2D<C, tn::kernel<3, 3>, tn::stride<Stride>, tn::padding<1>, tn::no_bias>, tn::BatchNorm<>, tn::ReLU,
                            tn::Conv2D<C, tn::kernel<3, 3>, tn::padding<1>, tn::no_bias>, tn::BatchNorm<>>;
template <std::size_t C>
using Block = tn::Residual<Body<C>, tn::relu>;
template <std::size_t C>
using DownBlock = tn::Residual<Body<C, 2>,
                               tn::Projection<tn::Sequential<tn::Conv2D<C, tn::kernel<1, 1>, tn::stride<2>, tn::no_bias>, tn::BatchNorm<>>>,
                               tn::relu>;

struct ResNet20 : tn::Sequential<tn::Input<32, 32, 3>,
                                 tn::Conv2D<16, tn::kernel<3, 3>, tn::padding<1>, tn::no_bias>, tn::BatchNorm<>, tn::ReLU,
                                 Block<16>, Block<16>, Block<16>,
                                 DownBlock<32>, Block<32>, Block<32>,
                                 DownBlock<64>, Block<64>, Block<64>,
                                 tn::GlobalAveragePool2D, tn::Dense<10, tn::softmax>> {};

}  // namespace resnet

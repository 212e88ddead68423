// Models the real-time tests (no_allocation, small_stack) share: the MNIST MLP, a small CNN
// with every kind of layer whose arena the Net owns, and a CNN large enough for a Workspace.
#pragma once
#include <typenet/typenet.hpp>

namespace test_models {
namespace tn = typenet;
using Mnist = tn::Sequential<tn::Input<784>, tn::Dense<128, tn::relu>, tn::Dense<64, tn::relu>, tn::Dense<10, tn::softmax>>;
using SmallCnn = tn::Sequential<tn::Input<28, 28, 1>, tn::Conv2D<8, tn::kernel<3>, tn::relu>, tn::MaxPool2D<2>,
                                tn::DepthwiseConv2D<tn::kernel<3>, tn::padding_same>, tn::Conv2D<8, tn::kernel<1>>,
                                tn::BatchNorm<>, tn::ReLU, tn::Conv2DTranspose<4, tn::kernel<2>, tn::stride<2>>,
                                tn::GlobalAveragePool2D, tn::Dense<10, tn::softmax>>;
using BigCnn = tn::Sequential<tn::Input<96, 96, 3>, tn::Conv2D<32, tn::kernel<3>, tn::relu>, tn::MaxPool2D<2>,
                              tn::SeparableConv2D<32, tn::kernel<3>>, tn::GlobalMaxPool2D, tn::Dense<4>>;
}  // namespace test_models

// ResNet basic blocks with BatchNorm, as typed skip nodes inside a Sequential:
//   Residual<F, relu>                 y = relu(x + F(x))
//   Residual<F, Projection<P>, relu>  y = relu(P(x) + F(x)): F halves the resolution and
//                                     doubles the channels, so the shortcut is a strided
//                                     1x1 convolution with BatchNorm
// F is conv-BN-ReLU-conv-BN; each BatchNorm is folded into the convolution before it when the
// weights are loaded.
#include <cstdio>

#include <typenet/typenet.hpp>

#include "reference.hpp"

namespace tn = typenet;

template <std::size_t C, std::size_t Stride>
using Body = tn::Sequential<tn::Conv2D<C, tn::kernel<3, 3>, tn::stride<Stride>, tn::padding<1>, tn::no_bias>, tn::BatchNorm<>, tn::ReLU,
                            tn::Conv2D<C, tn::kernel<3, 3>, tn::padding<1>, tn::no_bias>, tn::BatchNorm<>>;
template <std::size_t C>
using Shortcut = tn::Projection<tn::Sequential<tn::Conv2D<C, tn::kernel<1, 1>, tn::stride<2>, tn::no_bias>, tn::BatchNorm<>>>;

struct ResNetBlocks : tn::Sequential<tn::Input<12, 10, 8>,
                                     tn::Residual<Body<8, 1>, tn::relu>,
                                     tn::Residual<Body<16, 2>, Shortcut<16>, tn::relu>> {};
static_assert(ResNetBlocks::output_shape == tn::shape<6, 5, 16>);

int main() {
    std::puts(tn::summary<ResNetBlocks>().c_str());
    auto net = tn::make<ResNetBlocks>();
    tn::load_weights(net, example::fixture("resnet_block.weights.safetensors"), tn::from_pytorch);
    return example::max_error_vs_pytorch(net, "resnet_block") <= 1e-5 ? 0 : 1;
}

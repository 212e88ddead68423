// A small U-Net: an encoder that halves the resolution twice, a decoder that doubles it back,
// and at each resolution a skip connection concatenating the encoder's features with the
// decoder's. Upsampling is nearest-neighbour once and a learned 2x2 transposed convolution
// once.
#include <cstdio>

#include <typenet/typenet.hpp>

#include "reference.hpp"

namespace tn = typenet;

template <tn::fixed_string Name, std::size_t Filters>
inline constexpr auto conv3x3 = tn::conv2d<Name, Filters, tn::kernel<3, 3>, tn::padding_same, tn::relu>;

constexpr auto unet = [] {
    auto image = tn::input<"image", 16, 16, 3>;
    auto e1 = conv3x3<"enc1", 8>(image);                                   // 16x16x8
    auto e2 = conv3x3<"enc2", 16>(tn::call<tn::MaxPool2D<2>>(e1));        // 8x8x16
    auto b = conv3x3<"bottleneck", 32>(tn::call<tn::MaxPool2D<2>>(e2));   // 4x4x32
    auto d2 = conv3x3<"dec2", 16>(tn::concat(tn::call<tn::UpSampling2D<2>>(b), e2));  // 8x8x(32+16)
    auto up1 = tn::layer<"up1", tn::Conv2DTranspose<8, tn::kernel<2, 2>, tn::stride<2>>>(d2);
    auto d1 = conv3x3<"dec1", 8>(tn::concat(up1, e1));                     // 16x16x(8+8)
    auto mask = tn::conv2d<"head", 2, tn::kernel<1, 1>, tn::sigmoid>(d1);
    return tn::model(tn::inputs(image), tn::outputs(mask));
};
using UNet = decltype(unet());
static_assert(UNet::output_shape == tn::shape<16, 16, 2>);

int main() {
    std::puts(tn::summary<UNet>().c_str());
    std::puts(tn::to_dot<UNet>().c_str());  // dot -Tsvg: the U shape, skips included
    auto net = tn::make<UNet>();
    tn::load_weights(net, example::fixture("unet.weights.safetensors"), tn::from_pytorch);
    return example::max_error_vs_pytorch(net, "unet") <= 1e-5 ? 0 : 1;
}

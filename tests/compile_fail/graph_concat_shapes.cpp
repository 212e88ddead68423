// A U-Net skip concatenation across mismatched resolutions: the decoder's features were not
// upsampled. The error names the merge node, both shapes and the axis.
#include <typenet/typenet.hpp>
namespace tn = typenet;

constexpr auto unet = [] {
    auto image = tn::input<"image", 16, 16, 3>;
    auto e1 = tn::conv2d<"enc1", 8, tn::kernel<3, 3>, tn::padding_same, tn::relu>(image);
    auto low = tn::conv2d<"enc2", 16, tn::kernel<3, 3>, tn::padding_same, tn::relu>(tn::call<tn::MaxPool2D<2>>(e1));
#ifdef TYPENET_FAIL
    auto up = low;
#else
    auto up = tn::call<tn::UpSampling2D<2>>(low);
#endif
    return tn::model(tn::inputs(image), tn::outputs(tn::conv2d<"dec1", 8, tn::kernel<3, 3>, tn::padding_same>(tn::concat(up, e1))));
};
using UNet = decltype(unet());

int main() {
    auto net = tn::make<UNet>();
    (void)net;
}

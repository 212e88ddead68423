// Two Winograd tile sizes asked for on one convolution.
#include <typenet/typenet.hpp>
namespace tn = typenet;

#ifdef TYPENET_FAIL
using Model = tn::Sequential<tn::Input<7, 7, 64>, tn::Conv2D<64, tn::kernel<3>, tn::padding<1>, tn::winograd_2x2, tn::winograd_4x4>>;
#else
using Model = tn::Sequential<tn::Input<7, 7, 64>, tn::Conv2D<64, tn::kernel<3>, tn::padding<1>, tn::winograd_2x2>>;
#endif

int main() {
    auto net = tn::make<Model>();
    (void)net;
}

// tn::winograd on a convolution Winograd F(4x4, 3x3) cannot compute (stride 2).
#include <typenet/typenet.hpp>
namespace tn = typenet;

#ifdef TYPENET_FAIL
using Model = tn::Sequential<tn::Input<16, 16, 32>, tn::Conv2D<32, tn::kernel<3>, tn::stride<2>, tn::winograd>>;
#else
using Model = tn::Sequential<tn::Input<16, 16, 32>, tn::Conv2D<32, tn::kernel<3>, tn::winograd>>;
#endif

int main() {
    auto net = tn::make<Model>();
    (void)net;
}

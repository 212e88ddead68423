// A 7x7 kernel on a 5x5 feature map without padding.
#include <typenet/typenet.hpp>
namespace tn = typenet;

#ifdef TYPENET_FAIL
using Model = tn::Sequential<tn::Input<12, 12, 3>, tn::Conv2D<8, tn::kernel<3>, tn::stride<2>>, tn::Conv2D<8, tn::kernel<7>>>;
#else
using Model = tn::Sequential<tn::Input<12, 12, 3>, tn::Conv2D<8, tn::kernel<3>, tn::stride<2>>, tn::Conv2D<8, tn::kernel<7>, tn::padding<1>>>;
#endif

int main() {
    auto net = tn::make<Model>();
    (void)net;
}

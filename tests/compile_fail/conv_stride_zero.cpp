// A stride of 0.
#include <typenet/typenet.hpp>
namespace tn = typenet;

#ifdef TYPENET_FAIL
using Model = tn::Sequential<tn::Input<10, 10, 3>, tn::Conv2D<4, tn::kernel<3>, tn::stride<0>>>;
#else
using Model = tn::Sequential<tn::Input<10, 10, 3>, tn::Conv2D<4, tn::kernel<3>, tn::stride<1>>>;
#endif

int main() {
    auto net = tn::make<Model>();
    (void)net;
}

// groups<3> on 8 input channels.
#include <typenet/typenet.hpp>
namespace tn = typenet;

#ifdef TYPENET_FAIL
using Model = tn::Sequential<tn::Input<10, 10, 8>, tn::Conv2D<12, tn::kernel<3>, tn::groups<3>>>;
#else
using Model = tn::Sequential<tn::Input<10, 10, 9>, tn::Conv2D<12, tn::kernel<3>, tn::groups<3>>>;
#endif

int main() {
    auto net = tn::make<Model>();
    (void)net;
}

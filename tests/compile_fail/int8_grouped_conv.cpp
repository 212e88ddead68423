// int8_weights on a grouped convolution, which has no int8 kernel.
#include <typenet/typenet.hpp>
namespace tn = typenet;

#ifdef TYPENET_FAIL
using Model = tn::Sequential<tn::Input<10, 10, 9>, tn::Conv2D<12, tn::kernel<3>, tn::groups<3>, tn::int8_weights>>;
#else
using Model = tn::Sequential<tn::Input<10, 10, 9>, tn::Conv2D<12, tn::kernel<3>, tn::int8_weights>>;
#endif

int main() {
    auto net = tn::make<Model>();
    (void)net;
}

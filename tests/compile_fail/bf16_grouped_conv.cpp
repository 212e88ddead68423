// bf16_weights on a grouped convolution, which has no bf16 kernel.
#include <typenet/typenet.hpp>
namespace tn = typenet;

#ifdef TYPENET_FAIL
using Model = tn::Sequential<tn::Input<10, 10, 8>, tn::Conv2D<12, tn::kernel<3>, tn::groups<2>, tn::bf16_weights>>;
#else
using Model = tn::Sequential<tn::Input<10, 10, 8>, tn::Conv2D<12, tn::kernel<3>, tn::bf16_weights>>;
#endif

int main() {
    auto net = tn::make<Model>();
    (void)net;
}

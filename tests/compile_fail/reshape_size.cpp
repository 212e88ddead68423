// Reshape to a shape with a different number of elements.
#include <typenet/typenet.hpp>
namespace tn = typenet;

#ifdef TYPENET_FAIL
using Model = tn::Sequential<tn::Input<24>, tn::Dense<24>, tn::Reshape<5, 5>, tn::Flatten, tn::Dense<2>>;
#else
using Model = tn::Sequential<tn::Input<24>, tn::Dense<25>, tn::Reshape<5, 5>, tn::Flatten, tn::Dense<2>>;
#endif

int main() {
    auto net = tn::make<Model>();
    auto y = net(tn::Tensor<24>{});
    (void)y;
}

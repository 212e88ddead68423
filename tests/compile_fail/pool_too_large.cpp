// A 4x4 pool on a 3x8 feature map.
#include <typenet/typenet.hpp>
namespace tn = typenet;

#ifdef TYPENET_FAIL
using Model = tn::Sequential<tn::Input<3, 8, 2>, tn::MaxPool2D<4>>;
#else
using Model = tn::Sequential<tn::Input<3, 8, 2>, tn::MaxPool2D<4, tn::padding_same>>;
#endif

int main() {
    auto net = tn::make<Model>();
    (void)net;
}

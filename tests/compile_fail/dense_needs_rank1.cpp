// A 5-layer model where a Dense gets a rank-3 input (the Flatten was forgotten). The error
// must name layer 3, Dense<10>, what it expects and the shape it got; nothing else follows.
#include <typenet/typenet.hpp>
namespace tn = typenet;

#ifdef TYPENET_FAIL
using Model = tn::Sequential<tn::Input<8, 8, 2>, tn::Flatten, tn::Dense<64, tn::relu>, tn::Reshape<4, 4, 4>,
                             tn::Dense<10>, tn::Dense<3, tn::softmax>>;
#else
using Model = tn::Sequential<tn::Input<8, 8, 2>, tn::Flatten, tn::Dense<64, tn::relu>, tn::Reshape<4, 4, 4>,
                             tn::Flatten, tn::Dense<3, tn::softmax>>;
#endif

int main() {
    auto net = tn::make<Model>();
    tn::Tensor<8, 8, 2> x{};
    auto y = net(x);
    (void)y;
}

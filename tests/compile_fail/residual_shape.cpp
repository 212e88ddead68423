// A residual block whose body changes the channel count without a projection: x + F(x)
// cannot be added. The error names the residual add and both shapes.
#include <typenet/typenet.hpp>
namespace tn = typenet;

#ifdef TYPENET_FAIL
using Block = tn::Residual<tn::Sequential<tn::Conv2D<32, tn::kernel<3, 3>, tn::padding_same>, tn::BatchNorm<>>, tn::relu>;
#else
using Block = tn::Residual<tn::Sequential<tn::Conv2D<32, tn::kernel<3, 3>, tn::padding_same>, tn::BatchNorm<>>,
                           tn::Projection<tn::Conv2D<32, tn::kernel<1, 1>>>, tn::relu>;
#endif
using Model = tn::Sequential<tn::Input<8, 8, 16>, Block, tn::GlobalAveragePool2D, tn::Dense<10>>;

int main() {
    auto net = tn::make<Model>();
    (void)net;
}

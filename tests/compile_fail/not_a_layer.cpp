// A type that does not satisfy the Layer role, used as a layer.
#include <typenet/typenet.hpp>
namespace tn = typenet;

struct NotALayer {};

#ifdef TYPENET_FAIL
using Model = tn::Sequential<tn::Input<4>, tn::Dense<3>, NotALayer, tn::Dense<2>>;
#else
using Model = tn::Sequential<tn::Input<4>, tn::Dense<3>, tn::ReLU, tn::Dense<2>>;
#endif

int main() {
    auto net = tn::make<Model>();
    (void)net;
}

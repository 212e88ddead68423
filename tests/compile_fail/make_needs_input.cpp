// make<M>() needs a model with an Input; a block alone has no shapes yet.
#include <typenet/typenet.hpp>
namespace tn = typenet;

#ifdef TYPENET_FAIL
using Model = tn::Sequential<tn::Dense<4>, tn::Dense<2>>;
#else
using Model = tn::Sequential<tn::Input<3>, tn::Dense<4>, tn::Dense<2>>;
#endif

int main() {
    auto net = tn::make<Model>();
    (void)net;
}

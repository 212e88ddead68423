// A model used as a layer must get exactly its input shape; a named block shows its name.
#include <typenet/typenet.hpp>
namespace tn = typenet;

struct Encoder : tn::Sequential<tn::Input<6>, tn::Dense<4, tn::relu>> {};

#ifdef TYPENET_FAIL
using Model = tn::Sequential<tn::Input<7>, Encoder, tn::Dense<2>>;
#else
using Model = tn::Sequential<tn::Input<6>, Encoder, tn::Dense<2>>;
#endif

int main() {
    auto net = tn::make<Model>();
    (void)net;
}

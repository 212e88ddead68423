// bf16_weights on a recurrent layer of fewer than 32 units, whose step waits on latency, not
// on bytes: one error naming the layer and the reason (the twin: the same layer with 32 units).
#include <typenet/typenet.hpp>
namespace tn = typenet;

#ifdef TYPENET_FAIL
using Model = tn::Sequential<tn::Input<16, 2>, tn::LSTM<16, tn::return_sequences, tn::bf16_weights>, tn::Dense<1>>;
#else
using Model = tn::Sequential<tn::Input<16, 2>, tn::LSTM<32, tn::return_sequences, tn::bf16_weights>, tn::Dense<1>>;
#endif

int main() {
    auto net = tn::make<Model>();
    (void)net;
}

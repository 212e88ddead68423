// bf16_weights on a recurrent layer of fewer than 16 units, whose step waits on its gates'
// latency, not on its products: one error naming the layer and the reason (the twin: the same
// layer with 16 units).
#include <typenet/typenet.hpp>
namespace tn = typenet;

#ifdef TYPENET_FAIL
using Model = tn::Sequential<tn::Input<16, 2>, tn::LSTM<8, tn::return_sequences, tn::bf16_weights>, tn::Dense<1>>;
#else
using Model = tn::Sequential<tn::Input<16, 2>, tn::LSTM<16, tn::return_sequences, tn::bf16_weights>, tn::Dense<1>>;
#endif

int main() {
    auto net = tn::make<Model>();
    (void)net;
}

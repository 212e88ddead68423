// net.step on a model with a bidirectional GRU, which reads the whole sequence: one error
// naming the layer (the twin streams the same model with a one-directional GRU).
#include <typenet/typenet.hpp>
namespace tn = typenet;

#ifdef TYPENET_FAIL
using Model = tn::Sequential<tn::Input<16, 2>, tn::GRU<8, tn::return_sequences, tn::bidirectional>, tn::Dense<1>>;
#else
using Model = tn::Sequential<tn::Input<16, 2>, tn::GRU<8, tn::return_sequences>, tn::Dense<1>>;
#endif

int main() {
    auto net = tn::make<Model>();
    auto st = net.make_state();
    float x[2] = {0.5f, -0.5f}, y[1];
    net.step(x, y, st);
    tn::Net<Model>::step_output_type z = net.step(tn::Net<Model>::step_input_type{}, st);
    return int(y[0] + z(0)) * 0;
}

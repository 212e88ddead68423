// A 30-step pooling window on a 24-step sequence.
#include <typenet/typenet.hpp>
namespace tn = typenet;

#ifdef TYPENET_FAIL
using Model = tn::Sequential<tn::Input<24, 3>, tn::Conv1D<4, tn::kernel<3>, tn::padding_same>, tn::MaxPool1D<30>>;
#else
using Model = tn::Sequential<tn::Input<24, 3>, tn::Conv1D<4, tn::kernel<3>, tn::padding_same>, tn::MaxPool1D<30, tn::padding_same>>;
#endif

int main() {
    auto net = tn::make<Model>();
    (void)net;
}

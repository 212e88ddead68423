// predict given a tensor of the wrong rank: an xt::xtensor<float, 3> for a model of Input<784>
// once converted implicitly (writing past a stack buffer under ASan); now it is one error
// naming the batch type predict takes and what it got.
#include <typenet/typenet.hpp>
namespace tn = typenet;

using Model = tn::Sequential<tn::Input<784>, tn::Dense<10, tn::softmax>>;

int main() {
    auto net = tn::make<Model>();
#ifdef TYPENET_FAIL
    xt::xtensor<float, 3> xs = xt::zeros<float>({5, 28, 28});
#else
    xt::xtensor<float, 2> xs = xt::zeros<float>({5, 784});
#endif
    auto ys = net.predict(xs);
    return int(ys.size()) - 50;
}

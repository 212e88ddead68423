// net(x) with a tensor of the wrong shape: a flat Tensor<784> for a 28x28x1 model would
// otherwise convert implicitly (xtensor checks the shape only in debug builds).
#include <typenet/typenet.hpp>
namespace tn = typenet;

using Model = tn::Sequential<tn::Input<28, 28, 1>, tn::Flatten, tn::Dense<10>>;

int main() {
    auto net = tn::make<Model>();
#ifdef TYPENET_FAIL
    tn::Tensor<784> x{};
#else
    tn::Tensor<28, 28, 1> x{};
#endif
    auto y = net(x);
    (void)y;
}

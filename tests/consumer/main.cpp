#include <typenet/typenet.hpp>
#include <iostream>
namespace tn = typenet;
using Model = tn::Sequential<tn::Input<4>, tn::Dense<8, tn::relu>, tn::Dense<2, tn::softmax>>;
static_assert(Model::param_count == 4 * 8 + 8 + 8 * 2 + 2);
int main() {
    const auto net = tn::make<Model>(tn::seed{1});
    const auto y = net(tn::Tensor<4>{1, 2, 3, 4});
    const bool ok = std::abs(y(0) + y(1) - 1.f) < 1e-6f;
    std::cout << (ok ? "consumer ok\n" : "consumer: softmax does not sum to 1\n");
    return ok ? 0 : 1;
}

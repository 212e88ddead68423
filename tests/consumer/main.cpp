#include <typenet/typenet.hpp>
#include <cmath>
#include <iostream>
namespace tn = typenet;
using Model = tn::Sequential<tn::Input<4>, tn::Dense<8, tn::relu>, tn::Dense<2, tn::softmax>>;
static_assert(Model::param_count == 4 * 8 + 8 + 8 * 2 + 2);

// The model's two outputs sum to 1 in every precision, each within `tolerance` of fp32's.
template <class... Policy>
bool runs(const tn::Tensor<2>& fp32, float tolerance) {
    const auto net = tn::make<Model, Policy...>(tn::seed{1});
    const auto y = net(tn::Tensor<4>{1, 2, 3, 4});
    return std::abs(y(0) + y(1) - 1.f) < 1e-6f && std::abs(y(0) - fp32(0)) <= tolerance;
}

int main() {
    const auto y = tn::make<Model>(tn::seed{1})(tn::Tensor<4>{1, 2, 3, 4});
    const bool ok = runs<>(y, 0.f) && runs<tn::bf16_weights>(y, 0.05f) && runs<tn::int8_weights>(y, 0.05f);
    std::cout << (ok ? "consumer ok\n" : "consumer: a softmax does not sum to 1, or a precision strays\n");
    return ok ? 0 : 1;
}

#include "mixed_model.hpp"

#include <typenet/typenet.hpp>

namespace tn = typenet;
using Mnist = tn::Sequential<tn::Input<784>, tn::Dense<128, tn::relu>, tn::Dense<64, tn::relu>, tn::Dense<10, tn::softmax>>;

MixedRun run_sse() {
    const auto net = tn::make<Mnist>(tn::seed{21});
    std::vector<float> xs(3 * 784), ys(3 * 10);
    for (std::size_t i = 0; i < xs.size(); ++i) xs[i] = float(i % 29) / 29.f;
    net.predict(xs.data(), ys.data(), 3);
    tn::Net<Mnist>::input_type x;
    for (std::size_t i = 0; i < 784; ++i) x(i) = xs[i];
    const auto y = net(x);
    ys.insert(ys.end(), y.begin(), y.end());
    return {tn::kernels::arch::name(), net.get_weights(), ys};
}

// A Siamese network: one encoder, one set of weights, applied to two inputs; the score reads
// |enc(a) - enc(b)|. A layer is shared by calling the same named layer twice.
#include <cstdio>

#include <typenet/typenet.hpp>

#include "reference.hpp"

namespace tn = typenet;

constexpr auto siamese = [] {
    auto a = tn::input<"a", 64>;
    auto b = tn::input<"b", 64>;
    constexpr auto enc = tn::dense<"encoder", 32, tn::tanh>;  // one layer, one set of weights
    auto d = tn::abs(enc(a) - enc(b));
    return tn::model(tn::inputs(a, b), tn::outputs(tn::dense<"score", 1, tn::sigmoid>(d)));
};
using Siamese = decltype(siamese());
static_assert(Siamese::param_count == (64 * 32 + 32) + (32 + 1));  // the encoder counted once

int main() {
    std::puts(tn::summary<Siamese>().c_str());
    auto net = tn::make<Siamese>();
    tn::load_weights(net, example::fixture("siamese.weights.safetensors"), tn::from_pytorch);

    tn::Tensor<64> a, b;
    a.fill(0.3f);
    b.fill(0.3f);
    std::printf("score(a, a) = %.6f: the same input twice gives |enc(a) - enc(a)| = 0\n", double(net(a, b)(0)));

    return example::max_error_vs_pytorch(net, "siamese") <= 1e-5 ? 0 : 1;
}

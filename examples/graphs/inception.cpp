// An Inception-style module: four paths on the same input, concatenated on channels.
//   1x1 | 1x1 -> 3x3 | 1x1 -> 5x5 | 3x3 max pool -> 1x1
// Branch<Merge, Paths...> checks that the paths agree on every axis but the one they are
// joined on. The same module written with the functional API is the graph below; both load
// the same weights file, the graph's names mapped onto the file's (paths "0", "1", ... as a
// PyTorch module registers its children).
#include <cstdio>

#include <typenet/typenet.hpp>

#include "reference.hpp"

namespace tn = typenet;

// Each convolution is followed by a ReLU layer, as in the PyTorch module the weights come
// from (the chain fuses each ReLU into its convolution's epilogue anyway).
template <std::size_t F, std::size_t K>
using Conv = tn::Conv2D<F, tn::kernel<K, K>, tn::padding_same>;
using Pool = tn::MaxPool2D<3, tn::stride<1>, tn::padding_same>;

using Path1 = tn::Sequential<Conv<4, 1>, tn::ReLU>;
using Path2 = tn::Sequential<Conv<3, 1>, tn::ReLU, Conv<5, 3>, tn::ReLU>;
using Path3 = tn::Sequential<Conv<2, 1>, tn::ReLU, Conv<3, 5>, tn::ReLU>;
using Path4 = tn::Sequential<Pool, Conv<2, 1>, tn::ReLU>;
using Inception = tn::Branch<tn::Concat<>, Path1, Path2, Path3, Path4>;

struct InceptionModel : tn::Sequential<tn::Input<9, 9, 6>, Inception> {};
static_assert(InceptionModel::output_shape == tn::shape<9, 9, 4 + 5 + 3 + 2>);

// The functional spelling: the same computation; its weights are named "p1.0.weight", ...
constexpr auto inception_graph = [] {
    auto x = tn::input<"x", 9, 9, 6>;
    auto a = tn::layer<"p1", Path1>(x);
    auto b = tn::layer<"p2", Path2>(x);
    auto c = tn::layer<"p3", Path3>(x);
    auto d = tn::layer<"p4", Path4>(x);
    return tn::model(tn::inputs(x), tn::outputs(tn::concat(a, b, c, d)));
};
using InceptionGraph = decltype(inception_graph());
static_assert(InceptionGraph::param_count == InceptionModel::param_count);

int main() {
    std::puts(tn::summary<InceptionModel>().c_str());
    auto net = tn::make<InceptionModel>();
    tn::load_weights(net, example::fixture("inception.weights.safetensors"), tn::from_pytorch);
    auto graph = tn::make<InceptionGraph>();
    tn::load_weights(graph, example::fixture("inception.weights.safetensors"), tn::from_pytorch,
                     {.rename = {{"p1.", "0.0."}, {"p2.", "0.1."}, {"p3.", "0.2."}, {"p4.", "0.3."}}});
    const double e1 = example::max_error_vs_pytorch(net, "inception");
    const double e2 = example::max_error_vs_pytorch(graph, "inception");
    return e1 <= 1e-5 && e2 <= 1e-5 ? 0 : 1;
}

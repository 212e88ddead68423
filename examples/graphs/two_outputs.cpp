// A classifier with two heads on one shared trunk (the Keras guide's multi-output pattern):
// 28x28 -> Flatten -> Dense 16 relu, read by an auxiliary head (Dense 4 softmax) and by the
// main head (Dense 32 relu -> Dense 10 softmax). Both outputs come back at once, as a tuple
// whose elements are also addressable by the output's name.
#include <cstdio>

#include <typenet/typenet.hpp>

#include "reference.hpp"

namespace tn = typenet;

constexpr auto two_outputs = [] {
    auto image = tn::input<"image", 28, 28>;
    auto h = tn::dense<"shared", 16, tn::relu>(tn::call<tn::Flatten>(image));
    auto aux = tn::dense<"aux", 4, tn::softmax>(h);
    auto main = tn::dense<"main", 10, tn::softmax>(tn::dense<"main_fc", 32, tn::relu>(h));
    return tn::model(tn::inputs(image), tn::outputs(aux, main));
};
using TwoOutputs = decltype(two_outputs());
static_assert(TwoOutputs::n_outputs == 2);
static_assert(TwoOutputs::output_index<"main"> == 1);
static_assert(TwoOutputs::output_shape_at<1>{} == tn::shape<10>);

int main() {
    std::puts(tn::summary<TwoOutputs>().c_str());
    auto net = tn::make<TwoOutputs>();
    tn::load_weights(net, example::fixture("two_outputs.weights.safetensors"), tn::from_pytorch);

    tn::Tensor<28, 28> image;
    image.fill(0.25f);
    auto out = net(image);
    auto& [aux, main] = out;                 // a tuple ...
    const auto& by_name = out.get<"main">();  // ... or by name
    std::printf("aux[0] = %.6f, main[0] = %.6f (by name %.6f)\n", double(aux(0)), double(main(0)), double(by_name(0)));

    return example::max_error_vs_pytorch(net, "two_outputs") <= 1e-5 ? 0 : 1;
}

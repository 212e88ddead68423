// The Keras functional API guide's model with two inputs: an image (784 values) and tabular
// features (10), each through its own Dense, concatenated, then a softmax head.
//
// Keras:                                           typenet: the same graph, as a type.
//   image = keras.Input(shape=(784,), name="image")
//   tabular = keras.Input(shape=(10,), name="tabular")
//   x1 = layers.Dense(64, activation="relu", name="img_fc")(image)
//   x2 = layers.Dense(32, activation="relu", name="tab_fc")(tabular)
//   x = layers.concatenate([x1, x2])
//   out = layers.Dense(10, activation="softmax", name="head")(x)
//   model = keras.Model(inputs=[image, tabular], outputs=out)
#include <cstdio>

#include <typenet/typenet.hpp>

#include "reference.hpp"

namespace tn = typenet;

constexpr auto two_inputs = [] {
    auto image = tn::input<"image", 784>;
    auto tabular = tn::input<"tabular", 10>;
    auto x1 = tn::dense<"img_fc", 64, tn::relu>(image);
    auto x2 = tn::dense<"tab_fc", 32, tn::relu>(tabular);
    auto out = tn::dense<"head", 10, tn::softmax>(tn::concat(x1, x2));
    return tn::model(tn::inputs(image, tabular), tn::outputs(out));
};
using TwoInputs = decltype(two_inputs());

// Spelled directly as a type, it is the same type.
using Image = tn::In<"image", 784>;
using Tabular = tn::In<"tabular", 10>;
using X1 = tn::Call<tn::Named<"img_fc", tn::Dense<64, tn::relu>>, Image>;
using X2 = tn::Call<tn::Named<"tab_fc", tn::Dense<32, tn::relu>>, Tabular>;
using Head = tn::Call<tn::Named<"head", tn::Dense<10, tn::softmax>>, tn::Call<tn::Concat<>, X1, X2>>;
static_assert(std::is_same_v<TwoInputs, tn::Graph<tn::Inputs<Image, Tabular>, tn::Outputs<Head>>>);
static_assert(TwoInputs::param_count == (784 * 64 + 64) + (10 * 32 + 32) + (96 * 10 + 10));
static_assert(TwoInputs::output_shape == tn::shape<10>);

int main() {
    std::puts(tn::summary<TwoInputs>().c_str());
    auto net = tn::make<TwoInputs>();
    tn::load_weights(net, example::fixture("two_inputs.weights.safetensors"), tn::from_pytorch);

    tn::Tensor<784> image;
    tn::Tensor<10> tabular;
    image.fill(0.5f);
    tabular.fill(0.1f);
    const auto p = net(image, tabular);                                         // by position
    const auto q = net(tn::feed<"tabular">(tabular), tn::feed<"image">(image));  // or by name
    std::printf("p[0] = %.6f, by name: %.6f\n", double(p(0)), double(q(0)));

    return example::max_error_vs_pytorch(net, "two_inputs") <= 1e-5 && p == q ? 0 : 1;
}

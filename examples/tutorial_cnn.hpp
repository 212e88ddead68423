// The CNN of the Keras tutorials, written layer for layer as a type:
//
//   keras.Sequential([keras.Input((28, 28, 1)),
//                     layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2),
//                     layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2),
//                     layers.Flatten(), layers.Dense(128, activation="relu"),
//                     layers.Dense(10, activation="softmax")])
#pragma once
#include <typenet/typenet.hpp>

namespace example {
namespace tn = typenet;
using TutorialCnn = tn::Sequential<
    tn::Input<28, 28, 1>,
    tn::Conv2D<32, tn::kernel<3, 3>, tn::relu>,
    tn::MaxPool2D<2>,
    tn::Conv2D<64, tn::kernel<3, 3>, tn::relu>,
    tn::MaxPool2D<2>,
    tn::Flatten,
    tn::Dense<128, tn::relu>,
    tn::Dense<10, tn::softmax>>;
}  // namespace example

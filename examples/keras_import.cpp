// From Keras to typenet, end to end (docs/from-keras.md walks through it):
//   1. the Keras model is the tutorial CNN, written layer for layer as a type (tutorial_cnn.hpp);
//   2. its weights were saved as safetensors under Keras' own names and layouts
//      ("conv2d/kernel" [kh, kw, in, out], "dense/kernel" [in, out], ...);
//   3. this program loads them with tn::from_keras and checks the model's outputs on five
//      images against the reference outputs saved beside them.
// (Debian 12 has no TensorFlow, so the file was written by tools/make_fixtures.py from the
// PyTorch-trained weights of the same network, transposed into Keras' layouts; the reference
// outputs are PyTorch's. A file saved from Keras itself loads the same way.)
#include <typenet/typenet.hpp>

#include "tutorial_cnn.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>

namespace tn = typenet;

using example::TutorialCnn;  // examples/tutorial_cnn.hpp: the Keras tutorial CNN as a type

int main() {
    const std::string dir = TYPENET_FIXTURES;
    auto net = tn::make<TutorialCnn>();
    // Keras names its layers conv2d, conv2d_1, dense, dense_1: tn::from_keras expects exactly
    // those. (Channels-last like typenet, so the Dense after Flatten needs no permutation.)
    tn::load_weights(net, dir + "/cnn28.keras.safetensors", tn::from_keras);
    std::cout << tn::summary<TutorialCnn>() << "\n";

    const auto io = tn::SafetensorsFile::read(dir + "/cnn28.io.safetensors");  // NHWC images
    const auto x = io.floats("input"), expected = io.floats("output");
    std::vector<float> y(expected.size());
    net.predict(x.data(), y.data(), expected.size() / 10);
    double worst = 0;
    for (std::size_t i = 0; i < y.size(); ++i) worst = std::max(worst, double(std::abs(y[i] - expected[i])));
    std::printf("%zu images: largest difference from the reference %.2e\n", expected.size() / 10, worst);

    // And back: the same weights written in Keras' names and layouts, byte for byte.
    const auto path = std::filesystem::temp_directory_path() / "typenet_keras_roundtrip.safetensors";
    tn::save_weights(net, path, tn::to_keras);
    auto again = tn::make<TutorialCnn>();
    tn::load_weights(again, path, tn::from_keras);
    std::filesystem::remove(path);
    const bool same = again.get_weights() == net.get_weights();
    std::printf("saved with tn::to_keras and loaded again: %s\n", same ? "identical" : "DIFFERENT");
    return worst < 1e-5 && same ? 0 : 1;
}

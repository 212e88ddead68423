// From PyTorch to typenet, end to end (docs/from-pytorch.md walks through it):
//   1. examples/pytorch/model.py defines the trained nn.Sequential;
//   2. tools/export_pytorch.py printed the type below and wrote model.safetensors;
//   3. this program loads the weights with tn::from_pytorch and checks PyTorch's outputs
//      (examples/pytorch/io.safetensors) on three images.
#include <typenet/typenet.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>

namespace tn = typenet;

// Printed by: /usr/bin/python3 tools/export_pytorch.py examples/pytorch/model.py:build
//                 --input 1,28,28 --out examples/pytorch/model.safetensors --name Classifier
using Classifier = tn::Sequential<
    tn::Input<28, 28, 1>,
    tn::Conv2D<16, tn::kernel<3, 3>, tn::no_bias>,
    tn::BatchNorm<>,
    tn::ReLU,
    tn::MaxPool2D<2>,
    tn::Conv2D<32, tn::kernel<3, 3>, tn::padding<1, 1>>,
    tn::ReLU,
    tn::MaxPool2D<2>,
    tn::Flatten,
    tn::Dropout<1, 4>,
    tn::Dense<64>,
    tn::ReLU,
    tn::Dense<10>,
    tn::Softmax>;

int main() {
    const std::string dir = TYPENET_EXAMPLES "/pytorch";
    auto net = tn::make<Classifier>();
    tn::load_weights(net, dir + "/model.safetensors", tn::from_pytorch);
    std::cout << tn::summary<Classifier>() << "\n";

    const auto io = tn::SafetensorsFile::read(dir + "/io.safetensors");  // input already NHWC
    const auto x = io.floats("input"), expected = io.floats("output");
    std::vector<float> y(expected.size());
    net.predict(x.data(), y.data(), 3);
    double worst = 0;
    for (std::size_t i = 0; i < y.size(); ++i) worst = std::max(worst, double(std::abs(y[i] - expected[i])));
    std::printf("3 images: largest difference from PyTorch %.2e\n", worst);
    return worst < 1e-5 ? 0 : 1;
}

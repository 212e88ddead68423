// The two CNNs of the Keras tutorials, as types.
//
//   Cnn28:   28x28x1 -> Conv2D 32 3x3 relu -> MaxPool 2 -> Conv2D 64 3x3 relu -> MaxPool 2
//            -> Flatten -> Dense 128 relu -> Dense 10 softmax. Loads the PyTorch-trained-layout
//            weights of tests/fixtures/cnn28 (whose Dense after the Flatten was permuted from
//            PyTorch's (c, h, w) order to typenet's (h, w, c)) and checks PyTorch's outputs.
//   Cnn256:  256x256x3 -> Conv2D 32 3x3 relu -> MaxPool 2 -> Flatten -> Dense 64 relu ->
//            Dense 10 softmax; its activations (8 MiB per image) exceed the stack budget, so
//            it runs in a Workspace made once, before the timed loop.
#include <typenet/typenet.hpp>

#include "tutorial_cnn.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <vector>

namespace tn = typenet;

using Cnn28 = example::TutorialCnn;  // tutorial_cnn.hpp

using Cnn256 = tn::Sequential<
    tn::Input<256, 256, 3>,
    tn::Conv2D<32, tn::kernel<3, 3>, tn::relu>,
    tn::MaxPool2D<2>,
    tn::Flatten,
    tn::Dense<64, tn::relu>,
    tn::Dense<10, tn::softmax>>;

static_assert(Cnn28::output_shape == tn::shape<10>);
static_assert(Cnn256::param_count == 896 + 127 * 127 * 32 * 64 + 64 + 650);

template <class F>
double median_us(F&& f, int reps) {
    std::vector<double> t;
    for (int i = 0; i < reps; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        f();
        t.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    }
    std::nth_element(t.begin(), t.begin() + reps / 2, t.end());
    return t[std::size_t(reps / 2)];
}

int main() {
    std::cout << tn::summary<Cnn28>() << "\n";
    auto cnn = tn::make<Cnn28>();
    const std::string dir = TYPENET_FIXTURES;
    tn::load_weights(cnn, dir + "/cnn28.weights.safetensors", tn::from_pytorch);
    const auto io = tn::SafetensorsFile::read(dir + "/cnn28.io.safetensors");
    const auto x = io.floats("input"), expected = io.floats("output");
    std::vector<float> y(expected.size());
    cnn.predict(x.data(), y.data(), 5);
    double worst = 0;
    for (std::size_t i = 0; i < y.size(); ++i) worst = std::max(worst, double(std::abs(y[i] - expected[i])));
    std::printf("28x28 CNN: 5 images, largest difference from PyTorch %.2e\n", worst);
    const double us = median_us([&] { cnn.forward(x.data(), y.data()); }, 2000);
    std::printf("28x28 CNN: %.1f us per image (%.1f GFLOP/s)\n\n", us, Cnn28::flops / us / 1e3);

    std::cout << tn::summary<Cnn256>() << "\n";
    const auto big = tn::make<Cnn256>(tn::seed{1});
    const tn::Net<Cnn256>::Workspace ws;  // the only allocation; then every call is allocation-free
    std::vector<float> image(256 * 256 * 3, 0.5f), p(10);
    const double us256 = median_us([&] { big.forward(image.data(), p.data(), ws); }, 20);
    std::printf("256x256 CNN: %.2f ms per image (%.1f GFLOP/s), p[0] = %.4f\n", us256 / 1e3, Cnn256::flops / us256 / 1e3,
                double(p[0]));
    return worst < 1e-5 ? 0 : 1;
}

// The MLP from every Keras tutorial, as a type: its summary, PyTorch-trained-layout weights
// loaded from safetensors, a prediction checked against PyTorch's, and its latency.
#include <typenet/typenet.hpp>
#include <xtensor/xadapt.hpp>
#include <xtensor/xsort.hpp>
#include <xtensor/xview.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <vector>

namespace tn = typenet;

using Mnist = tn::Sequential<   // 784 -> 128 -> 64 -> 10
    tn::Input<784>,
    tn::Dense<128, tn::relu>,
    tn::Dense<64, tn::relu>,
    tn::Dense<10, tn::softmax>>;

static_assert(Mnist::output_shape == tn::shape<10>);
static_assert(Mnist::param_count == 109'386);

int main() {
    std::cout << tn::summary<Mnist>() << "\n";

    auto net = tn::make<Mnist>();
    const std::string dir = TYPENET_FIXTURES;
    tn::load_weights(net, dir + "/mlp.weights.safetensors", tn::from_pytorch);
    const auto io = tn::SafetensorsFile::read(dir + "/mlp.io.safetensors");
    const std::vector<float> inputs = io.floats("input"), expected = io.floats("output");

    tn::Tensor<784> x;
    std::copy_n(inputs.begin(), 784, x.begin());
    const tn::Tensor<10> p = net(x);
    const auto best = std::max_element(p.begin(), p.end()) - p.begin();
    double worst = 0;
    for (std::size_t i = 0; i < 10; ++i) worst = std::max(worst, double(std::abs(p(i) - expected[i])));
    std::printf("prediction: class %td with p = %.4f (PyTorch: %.4f); largest difference from PyTorch %.2e\n", best,
                double(p(best)), double(expected[std::size_t(best)]), worst);

    // Latency of one sample, the median of many runs.
    std::vector<double> ns;
    for (int rep = 0; rep < 200; ++rep) {
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < 100; ++i) {
            net.forward(x.data(), const_cast<float*>(p.data()));
            asm volatile("" ::: "memory");
        }
        ns.push_back(std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / 100);
    }
    std::nth_element(ns.begin(), ns.begin() + 100, ns.end());
    std::printf("latency, one sample: %.2f us (median; %.1f GFLOP/s)\n", ns[100] / 1000, Mnist::flops / ns[100]);

    // A batch whose size is known only at run time.
    const std::size_t n = io.find("input")->shape[0];
    xt::xtensor<float, 2> xs = xt::adapt(inputs, {n, std::size_t{784}});
    const auto ys = net.predict(xs);
    std::printf("batch of %zu: predicted classes", n);
    for (std::size_t r = 0; r < n; ++r) std::printf(" %td", xt::argmax(xt::view(ys, r))() );
    std::printf("\n");
    return worst < 1e-5 ? 0 : 1;
}

// ResNet-20 (CIFAR-10) built as a type: its summary, its memory plan, and its latency on one
// image, timed here with steady_clock (bench/graph.cpp measures it against LibTorch).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <vector>

#include <typenet/report/summary.hpp>

#include "resnet20.hpp"

namespace tn = typenet;
using resnet::ResNet20;

static_assert(ResNet20::output_shape == tn::shape<10>);
static_assert(ResNet20::param_count == 274'042);  // BatchNorm statistics included, as in a PyTorch state_dict

int main(int argc, char** argv) {
    const int reps = argc > 1 ? std::atoi(argv[1]) : 200;
    std::puts(tn::summary<ResNet20>().c_str());
    const auto net = tn::make<ResNet20>(tn::seed{20});
    tn::Tensor<32, 32, 3> image;
    for (std::size_t i = 0; i < image.size(); ++i) image.data()[i] = float(i % 17) / 17.f;

    auto y = net(image);
    std::vector<double> times;
    for (int rep = 0; rep < reps; ++rep) {
        const auto t0 = std::chrono::steady_clock::now();
        y = net(image);
        times.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(times.begin(), times.end());
    float sum = 0;
    for (float p : y) sum += p;
    std::printf("batch 1: median %.1f us, best %.1f us (%.1f GFLOP/s); class probabilities sum to %.6f\n", times[times.size() / 2],
                times[0], double(ResNet20::flops) / times[times.size() / 2] / 1e3, double(sum));
    return std::abs(sum - 1.f) < 1e-4f ? 0 : 1;
}

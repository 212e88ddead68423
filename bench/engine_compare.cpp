// The engine against an earlier revision of itself: the same models, built against two
// include trees by tools/compare_revisions.sh, run alternately on one core. Prints one line
// per model: its name and the median nanoseconds per call over 7 rounds.
#include <typenet/typenet.hpp>
#include <tutorial_cnn.hpp>
#include <resnet20.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>
namespace tn = typenet;
using Mlp = tn::Sequential<tn::Input<784>, tn::Dense<128, tn::relu>, tn::Dense<64, tn::relu>, tn::Dense<10, tn::softmax>>;
template <class M>
double time_ns(std::size_t rows, int reps) {
    auto net = tn::make<M>(tn::seed{1});
    std::vector<float> x(rows * tn::Net<M>::in_size, 0.1f), y(rows * tn::Net<M>::out_size);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = 0.01f * float(i % 97);
    std::vector<double> t;
    for (int r = 0; r < 7; ++r) {
        auto a = std::chrono::steady_clock::now();
        for (int i = 0; i < reps; ++i) {
            if (rows == 1) net.forward(x.data(), y.data());
            else net.predict(x.data(), y.data(), rows);
        }
        auto b = std::chrono::steady_clock::now();
        t.push_back(std::chrono::duration<double, std::nano>(b - a).count() / reps);
    }
    std::sort(t.begin(), t.end());
    return t[3];
}
int main() {
    std::printf("mlp1 %.1f\n", time_ns<Mlp>(1, 20000));
    std::printf("mlp256 %.1f\n", time_ns<Mlp>(256, 100));
    std::printf("cnn1 %.1f\n", time_ns<example::TutorialCnn>(1, 500));
    std::printf("cnn64 %.1f\n", time_ns<example::TutorialCnn>(64, 10));
    std::printf("resnet20_1 %.1f\n", time_ns<resnet::ResNet20>(1, 50));
}

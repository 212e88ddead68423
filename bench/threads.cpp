// predict on one thread against a tn::ThreadPool (runtime/threads.hpp), same process, same
// weights: the MNIST MLP at batch 256, the Keras tutorial CNN and ResNet-20 at batch 64, and
// at batch 1 (one sample: the convolutions split their pixels, or their output channels where
// the weights stream from beyond L2; on a pool that spins 200 us, and on one that does not),
// and torchvision's ResNet-18, ResNet-50 and MobileNetV2 at 224x224, batch 1 (a depthwise
// convolution split by bands of output rows). Not pinned to one core: run it on the cores
// it may use (taskset -c 0,1 on this 2-core VM). Besides Google Benchmark's rows it prints
// each scaling as the ratio of medians of interleaved rounds (bench::interleaved_ratio: the
// VM's slow phases hit both sides), and the CPU time an idle pool uses in one second.
#include "common.hpp"

#include <sys/resource.h>

#include <thread>

#include "../examples/resnet20.hpp"
#include "../examples/tutorial_cnn.hpp"
#include "../examples/zoo/efficientnet_b0.hpp"
#include "../examples/zoo/mobilenet_v2.hpp"
#include "../examples/zoo/resnet18.hpp"
#include "../examples/zoo/resnet50.hpp"

namespace tn = typenet;
using resnet::ResNet20;
using example::TutorialCnn;
using Mlp = tn::Sequential<tn::Input<784>, tn::Dense<128, tn::relu>, tn::Dense<64, tn::relu>, tn::Dense<10, tn::softmax>>;

namespace {

template <class M>
const tn::Net<M>& net() {
    static const auto n = bench::net_with_statistics<M>(0.2f);
    return n;
}

std::vector<float> inputs(std::size_t n) {
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> u(0.f, 1.f);
    std::vector<float> x(n);
    for (float& v : x) v = u(rng);
    return x;
}

tn::ThreadPool& pool() {
    static tn::ThreadPool p(2);
    return p;
}
// For one sample: a barrier per layer, so the worker polls (200 us) instead of sleeping.
tn::ThreadPool& spinning_pool() {
    static tn::ThreadPool p(2, std::chrono::microseconds(200));
    return p;
}

// Threads 1: predict alone (forward at batch 1); 2: predict on the pool.
template <class M>
void BM_threads(benchmark::State& state) {
    const std::size_t n = std::size_t(state.range(0)), threads = std::size_t(state.range(1));
    const auto& m = net<M>();
    const auto x = inputs(n * M::input_shape_type::size);
    std::vector<float> y(n * M::output_shape_type::size);
    for (auto _ : state) {
        if (threads == 1) m.predict(x.data(), y.data(), n);
        else m.predict(x.data(), y.data(), n, n == 1 ? spinning_pool() : pool());
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    bench::report_rate(state, double(M::flops) * double(n));
}

template <class M>
void scaling(const char* name, std::size_t n, tn::ThreadPool& p, const char* which = "", int calls = 0) {
    const auto& m = net<M>();
    const auto x = inputs(n * M::input_shape_type::size);
    std::vector<float> y(n * M::output_shape_type::size);
    const double r = bench::interleaved_ratio([&] { m.predict(x.data(), y.data(), n); }, [&] { m.predict(x.data(), y.data(), n, p); },
                                              31, calls ? calls : n == 1 ? 50 : 10);
    std::printf("%-14s batch %4zu: 2 threads %.2fx one thread (interleaved, median of 31 rounds)%s\n", name, n, 1 / r, which);
}

double cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

}  // namespace

BENCHMARK(BM_threads<Mlp>)->Name("mlp_b256/typenet")->Args({256, 1})->MinTime(0.5);
BENCHMARK(BM_threads<Mlp>)->Name("mlp_b256/pool2")->Args({256, 2})->MinTime(0.5);
BENCHMARK(BM_threads<TutorialCnn>)->Name("cnn28_b64/typenet")->Args({64, 1})->MinTime(0.5);
BENCHMARK(BM_threads<TutorialCnn>)->Name("cnn28_b64/pool2")->Args({64, 2})->MinTime(0.5);
BENCHMARK(BM_threads<ResNet20>)->Name("resnet20_b64/typenet")->Args({64, 1})->MinTime(0.5);
BENCHMARK(BM_threads<ResNet20>)->Name("resnet20_b64/pool2")->Args({64, 2})->MinTime(0.5);
BENCHMARK(BM_threads<ResNet20>)->Name("resnet20_b1/typenet")->Args({1, 1})->MinTime(0.5);
BENCHMARK(BM_threads<ResNet20>)->Name("resnet20_b1/pool2")->Args({1, 2})->MinTime(0.5);
BENCHMARK(BM_threads<TutorialCnn>)->Name("cnn28_b1/typenet")->Args({1, 1})->MinTime(0.5);
BENCHMARK(BM_threads<TutorialCnn>)->Name("cnn28_b1/pool2")->Args({1, 2})->MinTime(0.5);

int main(int argc, char** argv) {
    bench::after_runs.push_back([] {
        std::printf("\n");
        scaling<Mlp>("mlp", 256, pool());
        scaling<TutorialCnn>("cnn28", 64, pool());
        scaling<ResNet20>("resnet20", 64, pool());
        scaling<ResNet20>("resnet20", 8, pool());
        scaling<ResNet20>("resnet20", 1, spinning_pool(), ", pool spinning 200 us");
        scaling<ResNet20>("resnet20", 1, pool(), ", pool without a spin window");
        scaling<TutorialCnn>("cnn28", 1, spinning_pool(), ", pool spinning 200 us");
        scaling<TutorialCnn>("cnn28", 1, pool(), ", pool without a spin window");
        scaling<zoo::ResNet18<224, 224>>("resnet18", 1, spinning_pool(), ", pool spinning 200 us", 2);
        scaling<zoo::ResNet50<224, 224>>("resnet50", 1, spinning_pool(), ", pool spinning 200 us", 2);
        scaling<zoo::MobileNetV2<224, 224>>("mobilenet_v2", 1, spinning_pool(), ", pool spinning 200 us", 5);
        scaling<zoo::MobileNetV2<224, 224>>("mobilenet_v2", 1, pool(), ", pool without a spin window", 5);
        scaling<zoo::EfficientNetB0<224, 224>>("efficientnet_b0", 1, spinning_pool(), ", pool spinning 200 us", 3);
        // An idle pool: its workers sleep, so a second without calls costs no CPU time.
        const double c0 = cpu_seconds();
        std::this_thread::sleep_for(std::chrono::seconds(1));
        std::printf("idle pool of 2 threads: %.4f s of CPU time in 1 s\n", cpu_seconds() - c0);
    });
    return bench::run(argc, argv, [] {}, 4096, "", "");
}

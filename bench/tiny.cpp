// A tiny network, 1-8-8-1 tanh (the shape of a waveshaper or a sensor calibration): one
// sample per call (forward) and a 4096-sample block (predict: samples in SIMD lanes), against
// hand-written fixed-size Eigen with the same weights. Per-call machinery is what decides
// here: the whole net is 161 multiply-adds.
//
//   build/bench/bench/bench_tiny --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <Eigen/Dense>
#include <cmath>
#include <random>
#include <vector>

#include <typenet/typenet.hpp>

namespace tn = typenet;

namespace {

using Tiny = tn::Sequential<tn::Input<1>, tn::Dense<8, tn::tanh>, tn::Dense<8, tn::tanh>, tn::Dense<1>>;

std::vector<float> uniform(std::size_t n, unsigned seed, float lo, float hi) {
    std::mt19937 g(seed);
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(n);
    for (float& x : v) x = d(g);
    return v;
}
const std::vector<float>& weights() {  // canonical: 0.weight [8,1], 0.bias, 1.weight [8,8], 1.bias, 2.weight [1,8], 2.bias
    static const auto w = uniform(8 + 8 + 64 + 8 + 8 + 1, 11, -0.5f, 0.5f);
    return w;
}
const std::vector<float>& block() {
    static const auto x = uniform(4096, 7, -1.f, 1.f);
    return x;
}

struct EigenTiny {  // as a user writes it by hand
    Eigen::Matrix<float, 8, 1> w1, b1, h1, b2, h2;
    Eigen::Matrix<float, 8, 8, Eigen::RowMajor> W2;
    Eigen::Matrix<float, 1, 8> w3;
    float b3;
    EigenTiny() {
        const float* p = weights().data();
        for (int i = 0; i < 8; ++i) w1[i] = *p++;
        for (int i = 0; i < 8; ++i) b1[i] = *p++;
        for (int i = 0; i < 64; ++i) W2(i / 8, i % 8) = *p++;
        for (int i = 0; i < 8; ++i) b2[i] = *p++;
        for (int i = 0; i < 8; ++i) w3[i] = *p++;
        b3 = *p;
    }
    EIGEN_STRONG_INLINE float forward(float x) {
        h1 = (w1 * x + b1).array().tanh();
        h2.noalias() = W2 * h1;
        h2 = (h2 + b2).array().tanh();
        return w3.dot(h2) + b3;
    }
};

template <class Policy = tn::fuse_all>
tn::Net<std::conditional_t<std::is_same_v<Policy, tn::fast_activations>, tn::with_fast_activations<Tiny>, Tiny>> make_tiny() {
    auto net = tn::make<Tiny, Policy>();
    net.set_weights(weights());
    return net;
}

void counters(benchmark::State& state, std::size_t samples) {
    state.counters["ns/sample"] =
        benchmark::Counter(double(state.iterations() * samples) * 1e-9, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// Policy: tn::fast_activations for the fast tanh (within 1.5e-6 absolute).
template <class Policy>
void BM_tiny_b1_typenet(benchmark::State& state) {
    const auto net = make_tiny<Policy>();
    std::size_t i = 0;
    float y = 0;
    for (auto _ : state) {
        float x = block()[i++ & 4095];
        benchmark::DoNotOptimize(x);
        net.forward(&x, &y);
        benchmark::DoNotOptimize(y);
    }
    counters(state, 1);
}
void BM_tiny_b1_eigen(benchmark::State& state) {
    EigenTiny m;
    std::size_t i = 0;
    for (auto _ : state) {
        float x = block()[i++ & 4095];
        benchmark::DoNotOptimize(x);
        float y = m.forward(x);
        benchmark::DoNotOptimize(y);
    }
    counters(state, 1);
}
template <class Policy>
void BM_tiny_block4096_typenet(benchmark::State& state) {
    const auto net = make_tiny<Policy>();
    std::vector<float> y(4096);
    for (auto _ : state) {
        net.predict(block().data(), y.data(), 4096);
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    counters(state, 4096);
}
void BM_tiny_block4096_eigen_loop(benchmark::State& state) {
    EigenTiny m;
    std::vector<float> y(4096);
    for (auto _ : state) {
        for (std::size_t i = 0; i < 4096; ++i) y[i] = m.forward(block()[i]);
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    counters(state, 4096);
}
BENCHMARK_TEMPLATE(BM_tiny_b1_typenet, tn::fuse_all);
BENCHMARK_TEMPLATE(BM_tiny_b1_typenet, tn::fast_activations);
BENCHMARK(BM_tiny_b1_eigen);
BENCHMARK_TEMPLATE(BM_tiny_block4096_typenet, tn::fuse_all);
BENCHMARK_TEMPLATE(BM_tiny_block4096_typenet, tn::fast_activations);
BENCHMARK(BM_tiny_block4096_eigen_loop);

}  // namespace

BENCHMARK_MAIN();

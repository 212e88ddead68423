// Streaming recurrent models, RTNeural's own workload: input 1 -> GRU or LSTM of hidden 8,
// 16, 32, 64 -> Dense 1, one step per sample over a 1024-sample block (as an audio plugin runs
// it), and the same samples through process() in blocks of 1, 32 and 128. Reported per
// sample, with the real-time factor at 48 kHz (one second of audio / the time to compute it).
// Then a STAC-ML-sized model (2-layer LSTM, input 32, hidden 128): per-step latency and its
// 99th percentile over 100,000 steps.
//
//   build/bench/bench/bench_sequence --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//
// RTNeural's figures come from building its own benchmark locally (never committed).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <typenet/typenet.hpp>

namespace tn = typenet;

namespace {

constexpr std::size_t block = 1024;

std::vector<float> signal(std::size_t n, std::size_t f = 1) {
    std::vector<float> x(n * f);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = 0.5f * std::sin(0.01f * float(i)) + 0.1f * std::sin(0.37f * float(i));
    return x;
}

// Fast: the gates' opt-in fast sigmoid and tanh (tn::fast_activations). Bf16: the recurrent
// layer's W_hh in bf16 (tn::bf16_weights; layers of at least 16 units).
template <template <std::size_t, class...> class Cell, std::size_t H, bool Fast = false, bool Bf16 = false>
using Amp = tn::Sequential<tn::Input<1, 1>,
                           std::conditional_t<Fast, Cell<H, tn::return_sequences, tn::fast_activations, std::conditional_t<Bf16, tn::bf16_weights, tn::fp32_weights>>,
                                              Cell<H, tn::return_sequences, std::conditional_t<Bf16, tn::bf16_weights, tn::fp32_weights>>>,
                           tn::Dense<1>>;

void per_sample(benchmark::State& state, std::size_t samples) {
    const double n = double(state.iterations() * samples);
    state.SetItemsProcessed(std::int64_t(n));
    // kIsRate | kInvert: seconds per sample; scaled so that the counter reads in ns.
    state.counters["ns/sample"] = benchmark::Counter(n * 1e-9, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    state.counters["RTF@48k"] = benchmark::Counter(n / 48000.0, benchmark::Counter::kIsRate);
}

// One net.step per sample of a model with one input and one output feature.
template <class Model>
void step_each_sample(benchmark::State& state) {
    const auto net = tn::make<Model>(tn::seed{1});
    auto st = net.make_state();
    const auto x = signal(block);
    std::vector<float> y(block);
    for (auto _ : state) {
        for (std::size_t i = 0; i < block; ++i) net.step(&x[i], &y[i], st);
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    per_sample(state, block);
}
template <template <std::size_t, class...> class Cell, std::size_t H, bool Fast = false, bool Bf16 = false>
void BM_step(benchmark::State& state) {
    step_each_sample<Amp<Cell, H, Fast, Bf16>>(state);
}

// net.process over the 1024 samples in blocks of B.
template <template <std::size_t, class...> class Cell, std::size_t H, std::size_t B, bool Fast = false, bool Bf16 = false>
void BM_process(benchmark::State& state) {
    const auto net = tn::make<Amp<Cell, H, Fast, Bf16>>(tn::seed{1});
    auto st = net.make_state();
    const auto x = signal(block);
    std::vector<float> y(block);
    for (auto _ : state) {
        for (std::size_t i = 0; i < block; i += B) net.process(&x[i], &y[i], B, st);
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    per_sample(state, block);
}

#define TN_CELL(Cell, H)                                      \
    BENCHMARK_TEMPLATE(BM_step, tn::Cell, H);                 \
    BENCHMARK_TEMPLATE(BM_process, tn::Cell, H, 1);           \
    BENCHMARK_TEMPLATE(BM_process, tn::Cell, H, 32);          \
    BENCHMARK_TEMPLATE(BM_process, tn::Cell, H, 128);         \
    BENCHMARK_TEMPLATE(BM_step, tn::Cell, H, true);           \
    BENCHMARK_TEMPLATE(BM_process, tn::Cell, H, 128, true);
TN_CELL(GRU, 8)
TN_CELL(GRU, 16)
TN_CELL(GRU, 32)
TN_CELL(GRU, 64)
TN_CELL(LSTM, 8)
TN_CELL(LSTM, 16)
TN_CELL(LSTM, 32)
TN_CELL(LSTM, 64)
// bf16 W_hh: step, and blocks of 128, exact and fast gates.
#define TN_CELL_BF16(Cell, H)                                      \
    BENCHMARK_TEMPLATE(BM_step, tn::Cell, H, false, true);         \
    BENCHMARK_TEMPLATE(BM_process, tn::Cell, H, 128, false, true); \
    BENCHMARK_TEMPLATE(BM_step, tn::Cell, H, true, true);          \
    BENCHMARK_TEMPLATE(BM_process, tn::Cell, H, 128, true, true);
TN_CELL_BF16(GRU, 16)
TN_CELL_BF16(GRU, 32)
TN_CELL_BF16(GRU, 64)
TN_CELL_BF16(LSTM, 16)
TN_CELL_BF16(LSTM, 32)
TN_CELL_BF16(LSTM, 64)

// The comparison with RTNeural, timed as the RTNeural program it is compared with times itself
// (docs/sequences.md): passes over the 1024 samples (process() in blocks of 128) in one warm
// process, each timed alone, and the median of 301 (after 31 not counted) — `ns/sample` here
// is that median. (BM_process's figure is a mean over many passes, which also counts the VM's
// interruptions: 0.5-2 ns a sample more at these sizes.) Fast gates; bf16 W_hh from 16 units,
// as in the tables there.
template <template <std::size_t, class...> class Cell, std::size_t H, bool Bf16>
void BM_pass(benchmark::State& state) {
    const auto net = tn::make<Amp<Cell, H, true, Bf16>>(tn::seed{1});
    auto st = net.make_state();
    const auto x = signal(block);
    std::vector<float> y(block);
    std::vector<double> t;
    const auto pass = [&] {
        for (std::size_t i = 0; i < block; i += 128) net.process(&x[i], &y[i], 128, st);
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    };
    for (auto _ : state) {
        t.clear();
        for (int p = 0; p < 31; ++p) pass();
        for (int p = 0; p < 301; ++p) {
            const auto t0 = std::chrono::steady_clock::now();
            pass();
            t.push_back(std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count());
        }
    }
    std::sort(t.begin(), t.end());
    state.counters["ns/sample"] = t[t.size() / 2] / double(block);
}
BENCHMARK_TEMPLATE(BM_pass, tn::GRU, 8, false)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_pass, tn::GRU, 16, true)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_pass, tn::GRU, 32, true)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_pass, tn::LSTM, 8, false)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_pass, tn::LSTM, 16, true)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_pass, tn::LSTM, 32, true)->Iterations(1)->Unit(benchmark::kMillisecond);

// The recurrent kernel alone (kernels::recurrent_run, fast gates), 128 steps per call over the
// same 1024 samples: the floor under BM_process's figures, without the Net around it (the
// projection and the recurrence only; no Dense, no program).
template <tn::kernels::Cell C, std::size_t H>
void BM_recurrent_kernel(benchmark::State& state) {
    namespace k = tn::kernels;
    using P = k::RecurrentPacking<C, 1, H>;
    constexpr std::size_t G = k::cell_gates<C>;
    std::vector<float> w_ih(G * H), w_hh(G * H * H), b(G * H);
    for (std::size_t i = 0; i < w_hh.size(); ++i) w_hh[i] = 0.4f * std::sin(0.7f * float(i));
    for (std::size_t i = 0; i < w_ih.size(); ++i) w_ih[i] = 0.4f * std::cos(0.3f * float(i)), b[i] = 0.1f * std::sin(float(i));
    std::vector<float, xsimd::aligned_allocator<float>> packed(P::floats), scratch(k::recurrent_scratch<C, H>);
    k::recurrent_pack<C, 1, H>(w_ih.data(), w_hh.data(), b.data(), b.data(), packed.data());
    const auto x = signal(block);
    std::vector<float> y(block * H), h(H), c(H);
    for (auto _ : state) {
        for (std::size_t i = 0; i < block; i += 128)
            k::recurrent_run<C, 1, H, tn::tanh, true, true>(packed.data(), &x[i], 128, 1, &y[i * H], H, h.data(), c.data(), false,
                                                            scratch.data());
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    per_sample(state, block);
}
BENCHMARK_TEMPLATE(BM_recurrent_kernel, tn::kernels::Cell::gru, 8);
BENCHMARK_TEMPLATE(BM_recurrent_kernel, tn::kernels::Cell::gru, 16);
BENCHMARK_TEMPLATE(BM_recurrent_kernel, tn::kernels::Cell::gru, 32);
BENCHMARK_TEMPLATE(BM_recurrent_kernel, tn::kernels::Cell::lstm, 8);
BENCHMARK_TEMPLATE(BM_recurrent_kernel, tn::kernels::Cell::lstm, 16);
BENCHMARK_TEMPLATE(BM_recurrent_kernel, tn::kernels::Cell::lstm, 32);

// STAC-ML-sized: 2-layer LSTM, input 32, hidden 128, one step per call; the latency of each
// call timed on its own, then the median and 99th percentile.
using Stac = tn::Sequential<tn::Input<1, 32>, tn::LSTM<128, tn::return_sequences, tn::num_layers<2>>, tn::Dense<1>>;
void BM_stac_lstm_step(benchmark::State& state) {
    const auto net = tn::make<Stac>(tn::seed{1});
    auto st = net.make_state();
    const auto x = signal(1000, 32);
    float y = 0;
    std::vector<double> lat;
    for (auto _ : state) {
        lat.clear();
        lat.reserve(100'000);
        for (std::size_t i = 0; i < 100'000; ++i) {
            const auto t0 = std::chrono::steady_clock::now();
            net.step(&x[(i % 1000) * 32], &y, st);
            lat.push_back(std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count());
        }
        benchmark::DoNotOptimize(y);
    }
    std::sort(lat.begin(), lat.end());
    state.counters["median_ns"] = lat[lat.size() / 2];
    state.counters["p99_ns"] = lat[lat.size() * 99 / 100];
    state.counters["max_ns"] = lat.back();
    state.SetItemsProcessed(std::int64_t(state.iterations() * 100'000));
}
BENCHMARK(BM_stac_lstm_step)->Iterations(3)->Unit(benchmark::kMillisecond);

// A causal TCN (Conv1D 1 -> 16, kernel 3, dilations 1, 2, 4, 8, 16, tanh; Dense 1) streaming
// one sample per call through its input histories, against the same stack recomputed over
// its receptive field (1 + 2 (1 + 2 + 4 + 8 + 16) = 63 samples) for each new sample.
template <std::size_t T, std::size_t D>
using CausalConv = tn::Conv1D<16, tn::kernel<3>, tn::dilation<D>, tn::padding_causal, tn::tanh>;
template <std::size_t T>
using Tcn = tn::Sequential<tn::Input<T, 1>, CausalConv<T, 1>, CausalConv<T, 2>, CausalConv<T, 4>, CausalConv<T, 8>,
                           CausalConv<T, 16>, tn::Dense<1>>;
void BM_tcn_stream(benchmark::State& state) { step_each_sample<Tcn<1>>(state); }
BENCHMARK(BM_tcn_stream);
void BM_tcn_recompute_receptive_field(benchmark::State& state) {
    constexpr std::size_t field = 63;
    const auto net = tn::make<Tcn<field>>(tn::seed{1});
    const auto x = signal(block + field);
    std::vector<float> y(field);
    for (auto _ : state) {
        for (std::size_t i = 0; i < block; ++i) net.forward(&x[i], y.data());  // the last output is the new sample's
        benchmark::DoNotOptimize(y.data());
    }
    per_sample(state, block);
}
BENCHMARK(BM_tcn_recompute_receptive_field);

}  // namespace

BENCHMARK_MAIN();

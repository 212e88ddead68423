// Shared by the benchmarks: this machine's FP32 FMA peak and L2 read bandwidth, measured in
// the same process as the peers, and a reporter that prints every result as a ratio.
#pragma once
#include <benchmark/benchmark.h>
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <typenet/typenet.hpp>

namespace bench {

// FMA peak of one core: 2 * lanes flops per FMA, enough independent chains to fill both
// FMA pipes (latency 4, throughput 2 per cycle: 8 chains; 16 for margin).
inline double measure_peak_gflops_once() {
    using typenet::kernels::vfloat;
    constexpr int chains = 16;
    vfloat acc[chains];
    for (int c = 0; c < chains; ++c) acc[c] = vfloat(float(c) * 1e-3f);
    const vfloat a(0.999999f), b(1e-7f);
    const long iters = 4'000'000;
    const auto t0 = std::chrono::steady_clock::now();
    for (long i = 0; i < iters; ++i)
        for (int c = 0; c < chains; ++c) acc[c] = xsimd::fma(acc[c], a, b);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    float sink = 0;
    for (int c = 0; c < chains; ++c) sink += xsimd::hadd(acc[c]);
    benchmark::DoNotOptimize(sink);
    return double(iters) * chains * typenet::kernels::lanes * 2 / s / 1e9;
}

// The peak is what the core can do: the best of several trials (a shared or throttled
// machine only ever makes a trial slower).
inline double measure_peak_gflops(int trials = 10) {
    double best = 0;
    for (int t = 0; t < trials; ++t) best = std::max(best, measure_peak_gflops_once());
    return best;
}

// One read of n floats (a multiple of 4 vectors) with vector loads, in ns.
inline double read_once_ns(const float* buf, std::size_t n) {
    using typenet::kernels::vfloat;
    constexpr std::size_t L = typenet::kernels::lanes;
    const auto t0 = std::chrono::steady_clock::now();
    vfloat a0(0.f), a1(0.f), a2(0.f), a3(0.f);
    for (std::size_t i = 0; i < n; i += 4 * L) {
        a0 += vfloat::load_aligned(&buf[i]);
        a1 += vfloat::load_aligned(&buf[i + L]);
        a2 += vfloat::load_aligned(&buf[i + 2 * L]);
        a3 += vfloat::load_aligned(&buf[i + 3 * L]);
    }
    float s = xsimd::hadd(a0 + a1 + a2 + a3);
    benchmark::DoNotOptimize(s);
    return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
}

// The best of `rounds` reads of `bytes` (the first `skip` not counted), in ns.
inline double best_read_ns(std::size_t bytes, std::size_t rounds, std::size_t skip) {
    constexpr std::size_t L = typenet::kernels::lanes;
    const std::size_t n = bytes / sizeof(float) / (4 * L) * (4 * L);
    std::vector<float, xsimd::aligned_allocator<float, 64>> buf(n, 1.f);
    double best = 1e30;
    for (std::size_t rep = 0; rep < rounds; ++rep) {
        const double ns = read_once_ns(buf.data(), n);
        if (rep >= skip) best = std::min(best, ns);
    }
    return best;
}

// Time to read `bytes` that sit in L2, with vector loads: the floor for a batch-1 dense
// layer whose weights do not fit L1.
inline double measure_stream_ns(std::size_t bytes) { return best_read_ns(bytes, 2000, 11); }

// GB/s of reading `bytes` over and over (the best of rounds summing to at least ~0.2 s): with
// 32 KB the L1's bandwidth, 512 KB the L2's, 8 MB the L3's, 256 MB the memory's, as one core
// sees them.
inline double measure_read_gbs(std::size_t bytes) {
    constexpr std::size_t L = typenet::kernels::lanes;
    const std::size_t rounds = std::max<std::size_t>(5, (std::size_t(1) << 32) / std::max<std::size_t>(bytes, 1) / 8);
    return double(bytes / sizeof(float) / (4 * L) * (4 * L) * sizeof(float)) / best_read_ns(bytes, rounds, 2);
}

// make<M>(seed 2026) with non-trivial BatchNorm statistics (running_var and 1-D weights in
// [0.5, 1.5), running_mean and 1-D biases in [-shift, shift)), so that folding has something
// to fold; speed does not depend on the values.
template <class M>
typenet::Net<M> net_with_statistics(float shift) {
    auto m = typenet::make<M>(typenet::seed{2026});
    std::vector<float> w = m.get_weights();
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> u(0.5f, 1.5f), v(-shift, shift);
    for (const auto& p : typenet::Net<M>::param_infos()) {
        const bool var = p.name.ends_with("running_var") || (p.name.ends_with(".weight") && p.spec.rank == 1);
        const bool mean = p.name.ends_with("running_mean") || (p.name.ends_with(".bias") && p.spec.rank == 1);
        for (std::size_t i = 0; i < p.spec.size(); ++i) {
            if (var) w[p.offset + i] = u(rng);
            else if (mean) w[p.offset + i] = v(rng);
        }
    }
    m.set_weights(std::move(w));
    return m;
}

inline double peak_gflops = 0;

inline void report_rate(benchmark::State& state, double flops_per_iter) {
    state.counters["GFLOP/s"] = benchmark::Counter(flops_per_iter, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["flops"] = flops_per_iter;
}

// Times net `m` of model M on state.range(0) samples of x (forward for one, predict for
// more; a Workspace made once) and reports its rate.
template <class M, class N>
void time_net(benchmark::State& state, const N& m, const std::vector<float>& x) {
    const std::size_t n = std::size_t(state.range(0));
    std::vector<float> y(n * M::output_shape_type::size);
    typename N::Workspace ws;
    for (auto _ : state) {
        if (n == 1) m.forward(x.data(), y.data(), ws);
        else m.predict(x.data(), y.data(), n, ws);
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    report_rate(state, double(M::flops) * double(n));
}

// Prints the usual table, keeps each run's time, then prints ratios against the first run
// of each group ("<group>/<peer>").
class RatioReporter : public benchmark::ConsoleReporter {
  public:
    void ReportRuns(const std::vector<Run>& runs) override {
        ConsoleReporter::ReportRuns(runs);
        // With --benchmark_repetitions, the median stands for the benchmark.
        for (const Run& r : runs) {
            const bool median = r.run_type == Run::RT_Aggregate && r.aggregate_name == "median";
            if (r.run_type != Run::RT_Iteration && !median) continue;
            const double ns = r.GetAdjustedRealTime() * (r.time_unit == benchmark::kMicrosecond ? 1e3 : r.time_unit == benchmark::kMillisecond ? 1e6 : 1);
            auto it = r.counters.find("flops");
            const Result res{r.run_name.str(), ns, it == r.counters.end() ? 0.0 : double(it->second)};
            auto same = std::find_if(results_.begin(), results_.end(), [&](const Result& x) { return x.name == res.name; });
            if (same == results_.end()) results_.push_back(res);
            else if (median) *same = res;
        }
    }
    // stream_ns: the memory bound of the `bound_group` benchmarks, reported as a fraction.
    void summarize(double stream_ns, const std::string& stream_label, const std::string& bound_group) const {
        std::printf("\nFP32 peak of one core (FMA loop, this run): %.1f GFLOP/s\n", peak_gflops);
        if (stream_ns > 0 && !bound_group.empty()) std::printf("%s: %.2f us\n", stream_label.c_str(), stream_ns / 1e3);
        std::map<std::string, double> typenet_ns;
        for (const auto& r : results_) {
            const std::string group = r.name.substr(0, r.name.find('/'));
            if (r.name.find("/typenet") != std::string::npos) typenet_ns[group] = r.ns;
        }
        std::printf("\n%-28s %10s %9s %8s %16s\n", "benchmark", "time (us)", "GFLOP/s", "of peak", "typenet speedup");
        for (const auto& r : results_) {
            const std::string group = r.name.substr(0, r.name.find('/'));
            const double gflops = r.flops / r.ns;
            const auto t = typenet_ns.find(group);
            std::printf("%-28s %10.2f %9.1f %7.1f%% %15.2fx\n", r.name.c_str(), r.ns / 1e3, gflops, 100 * gflops / peak_gflops,
                        t == typenet_ns.end() ? 0.0 : r.ns / t->second);
        }
        for (const auto& r : results_)
            if (stream_ns > 0 && !bound_group.empty() && r.name.rfind(bound_group + "/", 0) == 0)
                std::printf("%-28s at %5.1f%% of the memory bound\n", r.name.c_str(), 100 * stream_ns / r.ns);
    }

  private:
    struct Result {
        std::string name;
        double ns, flops;
    };
    std::vector<Result> results_;
};

// Fused against unfused, interleaved: the VM this runs on has phases that make everything 20-45%
// slower for seconds at a time, which sequential benchmarks turn into noise in a ratio. Here the
// two run alternately, `calls` calls each per round; the ratio of the medians over the rounds.
template <class A, class B>
double interleaved_ratio(A&& a, B&& b, int rounds = 41, int calls = 20, double* seconds_a = nullptr, double* seconds_b = nullptr) {
    std::vector<double> ta, tb;
    for (int r = 0; r < rounds; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        for (int c = 0; c < calls; ++c) a();
        const auto t1 = std::chrono::steady_clock::now();
        for (int c = 0; c < calls; ++c) b();
        const auto t2 = std::chrono::steady_clock::now();
        ta.push_back(std::chrono::duration<double>(t1 - t0).count());
        tb.push_back(std::chrono::duration<double>(t2 - t1).count());
    }
    std::sort(ta.begin(), ta.end());
    std::sort(tb.begin(), tb.end());
    if (seconds_a) *seconds_a = ta[ta.size() / 2] / calls;  // the medians, per call
    if (seconds_b) *seconds_b = tb[tb.size() / 2] / calls;
    return tb[tb.size() / 2] / ta[ta.size() / 2];
}

// The common main: initialise, check that the implementations agree, measure the peak and
// the memory bound, run, measure the peak again, print the ratio table.
inline std::vector<std::function<void()>> after_runs;  // extra reports, printed after the table

template <class Check>
int run(int argc, char** argv, Check check_agreement, std::size_t stream_bytes, const std::string& stream_label,
        const std::string& bound_group) {
    benchmark::Initialize(&argc, argv);
    // Every implementation on one core. torch::set_num_threads(1) limits LibTorch's own pool,
    // not the BLAS it calls: OpenBLAS starts a thread per core, and on this 2-core VM LibTorch's
    // batch-256 MLP ran at 122% of one core's peak. Pinned here, found at run time (the BLAS
    // is whichever libblas Debian's alternatives chose).
    if (auto set = reinterpret_cast<void (*)(int)>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(1);
    check_agreement();
    peak_gflops = measure_peak_gflops();
    const double stream_ns = measure_stream_ns(stream_bytes);
    RatioReporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    peak_gflops = std::max(peak_gflops, measure_peak_gflops());
    reporter.summarize(stream_ns, stream_label, bound_group);
    for (const auto& report : after_runs) report();
    benchmark::Shutdown();
    return 0;
}

}  // namespace bench

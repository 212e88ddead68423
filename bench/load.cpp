// Loading a 100 MB weights file against reading it: load_weights maps the file, validates
// it, decodes every tensor into place, packs the weights for the kernels and swaps them in.
// Target: at most twice the time of reading the file into memory. Both run with the file in
// the page cache (it was just written), so this measures typenet's work, not the disk.
#include "common.hpp"

#include <filesystem>
#include <fstream>

#include <typenet/typenet.hpp>

namespace tn = typenet;

using Big = tn::Sequential<tn::Input<5000>, tn::Dense<5000>>;  // 25 M weights: 100 MB

namespace {
const std::filesystem::path& file() {
    static const std::filesystem::path p = [] {
        auto path = std::filesystem::temp_directory_path() / "typenet_bench_100mb.safetensors";
        tn::save_weights(tn::make<Big>(tn::seed{1}), path);
        return path;
    }();
    return p;
}

void BM_read_file(benchmark::State& state) {
    const auto size = std::filesystem::file_size(file());
    std::vector<char> bytes(size);
    for (auto _ : state) {
        std::ifstream f(file(), std::ios::binary);
        f.read(bytes.data(), std::streamsize(size));
        benchmark::DoNotOptimize(bytes.data());
    }
    state.SetBytesProcessed(std::int64_t(state.iterations()) * std::int64_t(size));
}

void BM_load_weights(benchmark::State& state) {
    auto net = tn::make<Big>();
    for (auto _ : state) {
        tn::load_weights(net, file());
        benchmark::DoNotOptimize(net.get_weights().data());
    }
    state.SetBytesProcessed(std::int64_t(state.iterations()) * std::int64_t(std::filesystem::file_size(file())));
}
}  // namespace

BENCHMARK(BM_read_file)->Name("load_100MB/read_file")->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(BM_load_weights)->Name("load_100MB/typenet")->Unit(benchmark::kMillisecond)->MinTime(1.0);

// The two alternately (this VM has phases that slow everything for seconds at a time, which
// separate runs turn into noise in the ratio): the ratio of the medians.
void interleaved_report() {
    const auto size = std::filesystem::file_size(file());
    std::vector<char> bytes(size);
    auto net = tn::make<Big>();
    const double r = bench::interleaved_ratio(
        [&] {
            tn::load_weights(net, file());
            benchmark::DoNotOptimize(net.get_weights().data());
        },
        [&] {
            std::ifstream f(file(), std::ios::binary);
            f.read(bytes.data(), std::streamsize(size));
            benchmark::DoNotOptimize(bytes.data());
        },
        15, 3);
    std::printf("load_100MB: loading takes %.2fx the time of reading the file (interleaved medians; target <= 2)\n", 1.0 / r);
}

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    (void)file();
    benchmark::RunSpecifiedBenchmarks();
    interleaved_report();
    benchmark::Shutdown();
    std::filesystem::remove(file());
}

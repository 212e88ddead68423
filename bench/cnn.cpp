// Convolutional networks: the Keras tutorial CNN (28x28x1, 5.26 MFLOP per sample) at batch 1
// and 64, a ResNet-style 3x3 convolution at 56x56x64 and a depthwise 3x3 at 112x112x32, each
// against LibTorch (one thread, inference mode, NCHW, OpenBLAS/its own kernels) with the
// same weights, in one process. Depthwise is memory bound: it is also reported in GB/s
// against this machine's streaming bandwidth for the same number of bytes.
#include "common.hpp"

#include <torch/torch.h>

#include <random>

#include <typenet/typenet.hpp>

namespace tn = typenet;

using Cnn28 = tn::Sequential<tn::Input<28, 28, 1>, tn::Conv2D<32, tn::kernel<3, 3>, tn::relu>, tn::MaxPool2D<2>,
                             tn::Conv2D<64, tn::kernel<3, 3>, tn::relu>, tn::MaxPool2D<2>, tn::Flatten, tn::Dense<128, tn::relu>,
                             tn::Dense<10, tn::softmax>>;
using ResConv = tn::Sequential<tn::Input<56, 56, 64>, tn::Conv2D<64, tn::kernel<3, 3>, tn::padding_same, tn::relu>>;
using Depthwise = tn::Sequential<tn::Input<112, 112, 32>, tn::DepthwiseConv2D<tn::kernel<3, 3>, tn::padding_same, tn::relu>>;

namespace {

template <class M>
const tn::Net<M>& net() {
    static const auto n = tn::make<M>(tn::seed{2026});
    return n;
}
// The same model and weights with every fusion pass off.
template <class M>
const tn::Net<tn::unfused<M>>& unfused_net() {
    static const auto n = [] {
        auto u = tn::make<M, tn::no_fusion>();
        u.set_weights(net<M>().get_weights());
        return u;
    }();
    return n;
}

std::vector<float> inputs(std::size_t n) {
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> u(0.f, 1.f);
    std::vector<float> x(n);
    for (float& v : x) v = u(rng);
    return x;
}

torch::Tensor tensor(const float* p, std::vector<int64_t> shape) {
    return torch::from_blob(const_cast<float*>(p), shape, torch::kFloat32).clone();
}

// The same functions in LibTorch, NCHW, weights taken from typenet's canonical (PyTorch) layout.
struct TorchCnn28 {
    torch::Tensor w1, b1, w2, b2, w3, b3, w4, b4;
    TorchCnn28() {
        const float* p = net<Cnn28>().get_weights().data();
        w1 = tensor(p, {32, 1, 3, 3}), p += 288, b1 = tensor(p, {32}), p += 32;
        w2 = tensor(p, {64, 32, 3, 3}), p += 18432, b2 = tensor(p, {64}), p += 64;
        // typenet flattens (h, w, c); PyTorch (c, h, w): permute the Dense's columns.
        w3 = tensor(p, {128, 5, 5, 64}).permute({0, 3, 1, 2}).reshape({128, 1600}).contiguous(), p += 204800;
        b3 = tensor(p, {128}), p += 128, w4 = tensor(p, {10, 128}), p += 1280, b4 = tensor(p, {10});
    }
    torch::Tensor forward(const torch::Tensor& x) const {
        auto h = torch::max_pool2d(torch::relu(torch::conv2d(x, w1, b1)), 2);
        h = torch::max_pool2d(torch::relu(torch::conv2d(h, w2, b2)), 2).flatten(1);
        h = torch::relu(torch::addmm(b3, h, w3.t()));
        return torch::softmax(torch::addmm(b4, h, w4.t()), 1);
    }
};

torch::Tensor nchw(const std::vector<float>& x, int64_t n, int64_t h, int64_t w, int64_t c) {
    return tensor(x.data(), {n, h, w, c}).permute({0, 3, 1, 2}).contiguous();
}

template <class M, bool Fused = true>
void BM_typenet(benchmark::State& state) {
    const auto& m = []() -> const auto& {
        if constexpr (Fused) return net<M>();
        else return unfused_net<M>();
    }();
    const std::size_t n = std::size_t(state.range(0));
    const auto x = inputs(n * tn::Net<M>::in_size);
    std::vector<float> y(n * tn::Net<M>::out_size);
    for (auto _ : state) {
        if (n == 1) m.forward(x.data(), y.data());
        else m.predict(x.data(), y.data(), n);
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    bench::report_rate(state, double(M::flops) * double(n));
}

void BM_torch_cnn28(benchmark::State& state) {
    torch::InferenceMode guard;
    const TorchCnn28 m;
    const int64_t n = state.range(0);
    const auto x = nchw(inputs(std::size_t(n) * 784), n, 28, 28, 1);
    for (auto _ : state) benchmark::DoNotOptimize(m.forward(x).data_ptr());
    bench::report_rate(state, double(Cnn28::flops) * double(n));
}

void BM_torch_resconv(benchmark::State& state) {
    torch::InferenceMode guard;
    const float* p = net<ResConv>().get_weights().data();
    const auto w = tensor(p, {64, 64, 3, 3}), b = tensor(p + 36864, {64});
    const auto x = nchw(inputs(56 * 56 * 64), 1, 56, 56, 64);
    for (auto _ : state) benchmark::DoNotOptimize(torch::relu(torch::conv2d(x, w, b, 1, 1)).data_ptr());
    bench::report_rate(state, double(ResConv::flops));
}

void BM_torch_depthwise(benchmark::State& state) {
    torch::InferenceMode guard;
    const float* p = net<Depthwise>().get_weights().data();
    const auto w = tensor(p, {32, 1, 3, 3}), b = tensor(p + 288, {32});
    const auto x = nchw(inputs(112 * 112 * 32), 1, 112, 112, 32);
    for (auto _ : state) benchmark::DoNotOptimize(torch::relu(torch::conv2d(x, w, b, 1, 1, 1, 32)).data_ptr());
    bench::report_rate(state, double(Depthwise::flops));
}

void check_agreement() {
    torch::InferenceMode guard;
    const auto x = inputs(3 * 784);
    std::vector<float> a(30);
    net<Cnn28>().predict(x.data(), a.data(), 3);
    const auto t = TorchCnn28().forward(nchw(x, 3, 28, 28, 1)).contiguous();
    double d = 0;
    for (std::size_t i = 0; i < 30; ++i) d = std::max(d, double(std::abs(a[i] - t.data_ptr<float>()[i])));
    std::printf("agreement: max |typenet - libtorch| on the CNN = %.2e\n", d);
    if (d > 1e-5) std::exit(1);
}

}  // namespace

BENCHMARK(BM_typenet<Cnn28>)->Name("cnn28_b1/typenet")->Arg(1)->MinTime(0.5);
BENCHMARK(BM_typenet<Cnn28, false>)->Name("cnn28_b1/unfused")->Arg(1)->MinTime(0.5);
BENCHMARK(BM_torch_cnn28)->Name("cnn28_b1/libtorch")->Arg(1)->MinTime(0.5);
BENCHMARK(BM_typenet<Cnn28>)->Name("cnn28_b64/typenet")->Arg(64)->MinTime(0.5);
BENCHMARK(BM_typenet<Cnn28, false>)->Name("cnn28_b64/unfused")->Arg(64)->MinTime(0.5);
BENCHMARK(BM_torch_cnn28)->Name("cnn28_b64/libtorch")->Arg(64)->MinTime(0.5);
BENCHMARK(BM_typenet<ResConv>)->Name("conv3x3_56x56x64/typenet")->Arg(1)->MinTime(0.5);
BENCHMARK(BM_torch_resconv)->Name("conv3x3_56x56x64/libtorch")->Arg(1)->MinTime(0.5);
BENCHMARK(BM_typenet<Depthwise>)->Name("dw3x3_112x112x32/typenet")->Arg(1)->MinTime(0.5);
BENCHMARK(BM_torch_depthwise)->Name("dw3x3_112x112x32/libtorch")->Arg(1)->MinTime(0.5);

template <class M>
void report_fusion(const char* name, std::size_t n) {
    const auto x = inputs(n * tn::Net<M>::in_size);
    std::vector<float> y(n * tn::Net<M>::out_size);
    const auto& f = net<M>();
    const auto& u = unfused_net<M>();
    const double r = bench::interleaved_ratio([&] { f.predict(x.data(), y.data(), n); }, [&] { u.predict(x.data(), y.data(), n); },
                                              31, n == 1 ? 200 : 4);
    std::printf("%-8s batch %-3zu fused is %.2fx faster than unfused (interleaved medians); arena %s per sample, naive %s\n",
                name, n, r, tn::detail::bytes_str(M::workspace_bytes).c_str(), tn::detail::bytes_str(M::naive_workspace_bytes).c_str());
}

int main(int argc, char** argv) {
    torch::set_num_threads(1);
    bench::after_runs.push_back([] {
        std::printf("\n");
        report_fusion<Cnn28>("cnn28", 1);
        report_fusion<Cnn28>("cnn28", 64);
    });
    constexpr std::size_t dw_bytes = 2 * 112 * 112 * 32 * sizeof(float);  // read the input, write the output
    return bench::run(argc, argv, check_agreement, dw_bytes,
                      "streaming the depthwise layer's 3.2 MB (input + output) with vector loads", "dw3x3_112x112x32");
}

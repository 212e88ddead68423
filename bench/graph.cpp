// Graph models, fused (every pass on) and unfused (tn::no_fusion: BatchNorm, activations and
// residual adds as passes of their own), against LibTorch (one thread, inference mode, NCHW,
// the same weights, as a PyTorch module runs in eval mode), in one process:
//   ResNet-20 (CIFAR-10, 32x32x3; examples/resnet20.hpp) at batch 1 and 64
//   GoogLeNet's Inception 3a module (28x28x192 -> 256 channels, four paths concatenated)
#include "common.hpp"

#include <torch/torch.h>

#include <map>
#include <random>

#include <typenet/typenet.hpp>

#include "../examples/resnet20.hpp"

namespace tn = typenet;
using resnet::ResNet20;

template <std::size_t F, std::size_t K>
using ConvReLU = tn::Sequential<tn::Conv2D<F, tn::kernel<K, K>, tn::padding_same>, tn::ReLU>;
using Inception3a = tn::Sequential<
    tn::Input<28, 28, 192>,
    tn::Branch<tn::Concat<>, ConvReLU<64, 1>,
               tn::Sequential<tn::Conv2D<96, tn::kernel<1, 1>>, tn::ReLU, tn::Conv2D<128, tn::kernel<3, 3>, tn::padding_same>, tn::ReLU>,
               tn::Sequential<tn::Conv2D<16, tn::kernel<1, 1>>, tn::ReLU, tn::Conv2D<32, tn::kernel<5, 5>, tn::padding_same>, tn::ReLU>,
               tn::Sequential<tn::MaxPool2D<3, tn::stride<1>, tn::padding_same>, tn::Conv2D<32, tn::kernel<1, 1>>, tn::ReLU>>>;

namespace {

template <class M>
const tn::Net<M>& net() {
    static const auto n = bench::net_with_statistics<M>(0.2f);
    return n;
}

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

torch::Tensor nchw(const std::vector<float>& x, int64_t n, int64_t h, int64_t w, int64_t c) {
    return torch::from_blob(const_cast<float*>(x.data()), {n, h, w, c}, torch::kFloat32).permute({0, 3, 1, 2}).contiguous();
}

// ResNet-20 in LibTorch, its parameters taken by name from typenet's (PyTorch-layout) weights.
struct TorchResNet20 {
    std::map<std::string, torch::Tensor> p;
    TorchResNet20() {
        const auto& w = net<ResNet20>().get_weights();
        for (const auto& info : tn::Net<ResNet20>::param_infos()) {
            std::vector<int64_t> dims(info.spec.dims.begin(), info.spec.dims.begin() + std::ptrdiff_t(info.spec.rank));
            p[info.name] = torch::from_blob(const_cast<float*>(w.data() + info.offset), dims, torch::kFloat32).clone();
        }
    }
    torch::Tensor conv_bn(const torch::Tensor& x, const std::string& conv, const std::string& bn, int64_t stride, int64_t pad) const {
        const auto y = torch::conv2d(x, p.at(conv + "weight"), {}, stride, pad);
        return torch::batch_norm(y, p.at(bn + "weight"), p.at(bn + "bias"), p.at(bn + "running_mean"), p.at(bn + "running_var"),
                                 false, 0.0, 1e-5, false);
    }
    torch::Tensor block(const torch::Tensor& x, int i, bool down) const {
        const std::string b = std::to_string(i) + ".";
        // (a Residual's body is seen through: its layers are the block's own children; the
        // projection is "downsample")
        auto h = torch::relu(conv_bn(x, b + "0.", b + "1.", down ? 2 : 1, 1));
        h = conv_bn(h, b + "3.", b + "4.", 1, 1);
        const auto s = down ? conv_bn(x, b + "downsample.0.", b + "downsample.1.", 2, 0) : x;
        return torch::relu(h + s);
    }
    torch::Tensor forward(const torch::Tensor& x) const {
        auto h = torch::relu(conv_bn(x, "0.", "1.", 1, 1));
        for (int i = 3; i <= 11; ++i) h = block(h, i, i == 6 || i == 9);
        h = h.mean({2, 3});
        return torch::softmax(torch::addmm(p.at("13.bias"), h, p.at("13.weight").t()), 1);
    }
};

// Inception 3a in LibTorch: the paths' weights by name ("0.<path>.<layer>.weight").
struct TorchInception {
    std::map<std::string, torch::Tensor> p;
    TorchInception() {
        const auto& w = net<Inception3a>().get_weights();
        for (const auto& info : tn::Net<Inception3a>::param_infos()) {
            std::vector<int64_t> dims(info.spec.dims.begin(), info.spec.dims.begin() + std::ptrdiff_t(info.spec.rank));
            p[info.name] = torch::from_blob(const_cast<float*>(w.data() + info.offset), dims, torch::kFloat32).clone();
        }
    }
    torch::Tensor conv(const torch::Tensor& x, const std::string& l, int64_t pad) const {
        return torch::relu(torch::conv2d(x, p.at(l + "weight"), p.at(l + "bias"), 1, pad));
    }
    torch::Tensor forward(const torch::Tensor& x) const {
        const auto a = conv(x, "0.0.0.", 0);
        const auto b = conv(conv(x, "0.1.0.", 0), "0.1.2.", 1);
        const auto c = conv(conv(x, "0.2.0.", 0), "0.2.2.", 2);
        const auto d = conv(torch::max_pool2d(x, 3, 1, 1), "0.3.1.", 0);
        return torch::cat({a, b, c, d}, 1);
    }
};

template <class M, bool Fused = true>
void BM_typenet(benchmark::State& state) {
    const auto& m = []() -> const auto& {
        if constexpr (Fused) return net<M>();
        else return unfused_net<M>();
    }();
    bench::time_net<M>(state, m, inputs(std::size_t(state.range(0)) * M::input_shape_type::size));
}

void BM_torch_resnet20(benchmark::State& state) {
    torch::InferenceMode guard;
    const TorchResNet20 m;
    const int64_t n = state.range(0);
    const auto x = nchw(inputs(std::size_t(n) * 32 * 32 * 3), n, 32, 32, 3);
    for (auto _ : state) benchmark::DoNotOptimize(m.forward(x).data_ptr());
    bench::report_rate(state, double(ResNet20::flops) * double(n));
}

void BM_torch_inception(benchmark::State& state) {
    torch::InferenceMode guard;
    const TorchInception m;
    const int64_t n = state.range(0);
    const auto x = nchw(inputs(std::size_t(n) * 28 * 28 * 192), n, 28, 28, 192);
    for (auto _ : state) benchmark::DoNotOptimize(m.forward(x).data_ptr());
    bench::report_rate(state, double(Inception3a::flops) * double(n));
}

void check_agreement() {
    torch::InferenceMode guard;
    const auto x = inputs(3 * 32 * 32 * 3);
    std::vector<float> a(30);
    net<ResNet20>().predict(x.data(), a.data(), 3);
    const auto t = TorchResNet20().forward(nchw(x, 3, 32, 32, 3)).contiguous();
    double d = 0;
    for (std::size_t i = 0; i < 30; ++i) d = std::max(d, double(std::abs(a[i] - t.data_ptr<float>()[i])));
    std::printf("agreement: max |typenet - libtorch| on ResNet-20's class probabilities = %.2e\n", d);
    if (d > 1e-5) std::exit(1);
    const auto xi = inputs(28 * 28 * 192);
    std::vector<float> yi(28 * 28 * 256);
    net<Inception3a>().predict(xi.data(), yi.data(), 1);
    const auto ti = TorchInception().forward(nchw(xi, 1, 28, 28, 192)).permute({0, 2, 3, 1}).contiguous();
    double di = 0, scale = 0;
    for (std::size_t i = 0; i < yi.size(); ++i) {
        di = std::max(di, double(std::abs(yi[i] - ti.data_ptr<float>()[i])));
        scale = std::max(scale, double(std::abs(ti.data_ptr<float>()[i])));
    }
    std::printf("agreement: max |typenet - libtorch| on Inception 3a = %.2e (largest value %.2f)\n", di, scale);
    if (di > 1e-4 * scale) std::exit(1);
}

}  // namespace

BENCHMARK(BM_typenet<ResNet20>)->Name("resnet20_b1/typenet")->Arg(1)->MinTime(0.5);
BENCHMARK(BM_typenet<ResNet20, false>)->Name("resnet20_b1/unfused")->Arg(1)->MinTime(0.5);
BENCHMARK(BM_torch_resnet20)->Name("resnet20_b1/libtorch")->Arg(1)->MinTime(0.5);
BENCHMARK(BM_typenet<ResNet20>)->Name("resnet20_b64/typenet")->Arg(64)->MinTime(0.5);
BENCHMARK(BM_typenet<ResNet20, false>)->Name("resnet20_b64/unfused")->Arg(64)->MinTime(0.5);
BENCHMARK(BM_torch_resnet20)->Name("resnet20_b64/libtorch")->Arg(64)->MinTime(0.5);
BENCHMARK(BM_typenet<Inception3a>)->Name("inception3a_b1/typenet")->Arg(1)->MinTime(0.5);
BENCHMARK(BM_typenet<Inception3a, false>)->Name("inception3a_b1/unfused")->Arg(1)->MinTime(0.5);
BENCHMARK(BM_torch_inception)->Name("inception3a_b1/libtorch")->Arg(1)->MinTime(0.5);
BENCHMARK(BM_typenet<Inception3a>)->Name("inception3a_b64/typenet")->Arg(64)->MinTime(0.5);
BENCHMARK(BM_typenet<Inception3a, false>)->Name("inception3a_b64/unfused")->Arg(64)->MinTime(0.5);
BENCHMARK(BM_torch_inception)->Name("inception3a_b64/libtorch")->Arg(64)->MinTime(0.5);

// Fused / unfused, interleaved (bench::interleaved_ratio), with each model's arena against the
// naive sum of its activations.
template <class M>
void report_fusion(const char* name, std::size_t n) {
    const auto x = inputs(n * M::input_shape_type::size);
    std::vector<float> y(n * M::output_shape_type::size);
    typename tn::Net<M>::Workspace wf;
    typename tn::Net<tn::unfused<M>>::Workspace wu;
    const auto& f = net<M>();
    const auto& u = unfused_net<M>();
    const double r = bench::interleaved_ratio([&] { f.predict(x.data(), y.data(), n, wf); },
                                              [&] { u.predict(x.data(), y.data(), n, wu); }, 31, n == 1 ? 20 : 1);
    std::printf("%-16s batch %-3zu fused is %.2fx faster than unfused (interleaved medians); arena %s per sample, naive %s\n",
                name, n, r, tn::detail::bytes_str(M::workspace_bytes).c_str(), tn::detail::bytes_str(M::naive_workspace_bytes).c_str());
}

// One pass on its own: Concat in place (every pass on) against the Concat copying its inputs
// (every other pass on), interleaved.
void report_concat_in_place(std::size_t n) {
    using Copying = tn::with_policy<Inception3a, tn::fusion_policy<true, true, true, false>>;
    static const auto copying = [] {
        tn::Net<Copying> c;
        c.set_weights(net<Inception3a>().get_weights());
        return c;
    }();
    const auto x = inputs(n * Inception3a::input_shape_type::size);
    std::vector<float> y(n * Inception3a::output_shape_type::size);
    typename tn::Net<Inception3a>::Workspace wf;
    typename tn::Net<Copying>::Workspace wc;
    const auto& f = net<Inception3a>();
    const double r = bench::interleaved_ratio([&] { f.predict(x.data(), y.data(), n, wf); },
                                              [&] { copying.predict(x.data(), y.data(), n, wc); }, 31, n == 1 ? 20 : 1);
    std::printf("inception3a      batch %-3zu concat in place is %.3fx faster than the Concat copying (interleaved medians); arena %s "
                "per sample against %s\n",
                n, r, tn::detail::bytes_str(Inception3a::workspace_bytes).c_str(), tn::detail::bytes_str(Copying::workspace_bytes).c_str());
}

int main(int argc, char** argv) {
    torch::set_num_threads(1);
    bench::after_runs.push_back([] {
        std::printf("\n");
        report_fusion<ResNet20>("resnet20", 1);
        report_fusion<ResNet20>("resnet20", 64);
        report_fusion<Inception3a>("inception3a", 1);
        report_fusion<Inception3a>("inception3a", 64);
        report_concat_in_place(1);
        report_concat_in_place(64);
    });
    return bench::run(argc, argv, check_agreement, 4096, "", "");  // compute bound: no memory-bound line
}

// Graph models: ResNet-20 (CIFAR-10, 32x32x3, residual blocks with BatchNorm and projection
// shortcuts; examples/resnet20.hpp) at batch 1 and 64, against LibTorch (one thread,
// inference mode, NCHW, the same weights: conv2d + batch_norm + relu + add, as a PyTorch
// module runs in eval mode), in one process.
#include "common.hpp"

#include <torch/torch.h>

#include <map>
#include <random>

#include <typenet/typenet.hpp>

#include "../examples/resnet20.hpp"

namespace tn = typenet;
using resnet::ResNet20;

namespace {

template <class M>
const tn::Net<M>& net() {
    static const auto n = [] {
        auto m = tn::make<M>(tn::seed{2026});
        // Non-trivial BatchNorm statistics, so that folding has something to fold.
        std::vector<float> w = m.get_weights();
        std::mt19937 rng(7);
        std::uniform_real_distribution<float> u(0.5f, 1.5f), v(-0.2f, 0.2f);
        for (const auto& p : tn::Net<M>::param_infos()) {
            const bool var = p.name.ends_with("running_var") || (p.name.ends_with(".weight") && p.spec.rank == 1);
            const bool shift = p.name.ends_with("running_mean") || (p.name.ends_with(".bias") && p.spec.rank == 1);
            for (std::size_t i = 0; i < p.spec.size(); ++i) {
                if (var) w[p.offset + i] = u(rng);
                else if (shift) w[p.offset + i] = v(rng);
            }
        }
        m.set_weights(std::move(w));
        return m;
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
        auto h = torch::relu(conv_bn(x, b + "0.0.", b + "0.1.", down ? 2 : 1, 1));
        h = conv_bn(h, b + "0.3.", b + "0.4.", 1, 1);
        const auto s = down ? conv_bn(x, b + "1.0.", b + "1.1.", 2, 0) : x;
        return torch::relu(h + s);
    }
    torch::Tensor forward(const torch::Tensor& x) const {
        auto h = torch::relu(conv_bn(x, "0.", "1.", 1, 1));
        for (int i = 3; i <= 11; ++i) h = block(h, i, i == 6 || i == 9);
        h = h.mean({2, 3});
        return torch::softmax(torch::addmm(p.at("13.bias"), h, p.at("13.weight").t()), 1);
    }
};

template <class M>
void BM_typenet(benchmark::State& state) {
    const auto& m = net<M>();
    const std::size_t n = std::size_t(state.range(0));
    const auto x = inputs(n * tn::Net<M>::in_size);
    std::vector<float> y(n * tn::Net<M>::out_size);
    typename tn::Net<M>::Workspace ws;
    for (auto _ : state) {
        if (n == 1) m.forward(x.data(), y.data(), ws);
        else m.predict(x.data(), y.data(), n, ws);
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    bench::report_rate(state, double(M::flops) * double(n));
}

void BM_torch_resnet20(benchmark::State& state) {
    torch::InferenceMode guard;
    const TorchResNet20 m;
    const int64_t n = state.range(0);
    const auto x = nchw(inputs(std::size_t(n) * 32 * 32 * 3), n, 32, 32, 3);
    for (auto _ : state) benchmark::DoNotOptimize(m.forward(x).data_ptr());
    bench::report_rate(state, double(ResNet20::flops) * double(n));
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
}

}  // namespace

BENCHMARK(BM_typenet<ResNet20>)->Name("resnet20_b1/typenet")->Arg(1)->MinTime(0.5);
BENCHMARK(BM_torch_resnet20)->Name("resnet20_b1/libtorch")->Arg(1)->MinTime(0.5);
BENCHMARK(BM_typenet<ResNet20>)->Name("resnet20_b64/typenet")->Arg(64)->MinTime(0.5);
BENCHMARK(BM_torch_resnet20)->Name("resnet20_b64/libtorch")->Arg(64)->MinTime(0.5);

int main(int argc, char** argv) {
    torch::set_num_threads(1);
    return bench::run(argc, argv, check_agreement, 4096, "", "");  // compute bound: no memory-bound line
}

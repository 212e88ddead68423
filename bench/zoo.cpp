// torchvision's models as types (examples/zoo/), at 224x224, batch 1 and 8, one core: time,
// GFLOP/s (the model's own count: 2 per multiply-add of every convolution and Dense) and the
// fraction of this run's FP32 peak; MobileNetV2 also with fusion off (tn::no_fusion), ResNet-50,
// MobileNetV2, MobileNetV3-Large and EfficientNet-B0 also under tn::bf16_weights and
// tn::int8_weights (with their error against fp32); the zoo's
// depthwise layers alone (depthwise_*: GFLOP/s of their multiply-adds). After
// the runs: each model's parameters, FLOPs and arena bytes (docs/zoo.md), and one core's read
// bandwidth from L1, L2, L3 and memory (the GB/s of zoo_profile's rows are against these).
// ONNX Runtime on the same models: bench/zoo_ort.sh (torchvision's definitions exported by
// PyTorch).
//
//   build/bench/bench/bench_zoo [--benchmark_filter=...]
#include "common.hpp"

#include <cstdio>
#include <random>

#include <typenet/typenet.hpp>

#include "../examples/zoo/efficientnet_b0.hpp"
#include "../examples/zoo/mobilenet_v2.hpp"
#include "../examples/zoo/mobilenet_v3.hpp"
#include "../examples/zoo/resnet18.hpp"
#include "../examples/zoo/resnet50.hpp"
#include "../examples/zoo/shufflenet_v2.hpp"
#include "../examples/zoo/squeezenet1_1.hpp"
#include "../examples/zoo/vgg11.hpp"
#include "../tests/model/accuracy.hpp"

namespace tn = typenet;

namespace {

template <class M>
const tn::Net<M>& net() {
    static const auto n = bench::net_with_statistics<M>(0.1f);
    return n;
}

std::vector<float> inputs(std::size_t n) {
    std::mt19937 rng(11);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    std::vector<float> x(n);
    for (float& v : x) v = u(rng);
    return x;
}

// Policy: tn::no_fusion (MobileNetV2 unfused), tn::direct (every convolution a direct sum:
// Winograd's gain on ResNet and VGG), tn::bf16_weights, tn::int8_weights.
template <class M, class Policy = tn::fuse_all>
void BM_zoo(benchmark::State& state) {
    const auto& m = []() -> const auto& {
        if constexpr (std::is_same_v<Policy, tn::fuse_all>) {
            return net<M>();
        } else {
            static const auto u = [] {
                auto p = tn::make<M, Policy>();
                p.set_weights(net<M>().get_weights());
                return p;
            }();
            return u;
        }
    }();
    bench::time_net<M>(state, m, inputs(std::size_t(state.range(0)) * M::input_shape_type::size));
}

// The depthwise layers of the zoo alone (their BatchNorm folded, ReLU6 or Hardswish fused):
// the 3x3 ones of MobileNetV2, the 5x5 ones of MobileNetV3 and EfficientNet.
template <std::size_t H, std::size_t C, std::size_t K, std::size_t S, class Act = tn::relu6>
using DepthwiseLayer = tn::Sequential<tn::Input<H, H, C>, tn::DepthwiseConv2D<tn::kernel<K>, tn::stride<S>, tn::padding<K / 2>, Act>>;
template <class M>
void BM_layer(benchmark::State& state) {
    bench::time_net<M>(state, net<M>(), inputs(M::input_shape_type::size));
}

template <class M>
void describe(const char* name) {
    std::printf("%-20s %12zu parameters %8.3f GFLOP  arena %8.2f MB (batch 1)  %8.2f MB (batch 8)\n", name,
                std::size_t(M::param_count), double(M::flops) / 1e9, double(tn::Net<M>::arena_bytes(1)) / 1e6,
                double(tn::Net<M>::arena_bytes(8)) / 1e6);
}

// A model under a precision policy against the same weights in fp32, on n random inputs in [0, 1).
template <class M, class P>
void policy_accuracy(const char* name, const char* policy, std::size_t n) {
    auto reduced = tn::make<M, P>();
    reduced.set_weights(net<M>().get_weights());
    const accuracy::Report r = accuracy::compare(net<M>(), reduced, n);
    std::printf("%-20s %s: max abs diff %.3g, max rel %.3g, top-1 agreement %zu / %zu\n", name, policy, r.max_abs, r.max_rel, r.agree, r.n);
}

using R18 = zoo::ResNet18<224, 224>;
using R50 = zoo::ResNet50<224, 224>;
using MV2 = zoo::MobileNetV2<224, 224>;
using MV3S = zoo::MobileNetV3Small<224, 224>;
using MV3L = zoo::MobileNetV3Large<224, 224>;
using EB0 = zoo::EfficientNetB0<224, 224>;
using SQ = zoo::SqueezeNet1_1<224, 224>;
using SH = zoo::ShuffleNetV2x1_0<224, 224>;
using VGG = zoo::VGG11<224, 224>;

}  // namespace

BENCHMARK(BM_zoo<R18>)->Name("resnet18_b1/typenet")->Arg(1)->MinTime(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_zoo<R18>)->Name("resnet18_b8/typenet")->Arg(8)->MinTime(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_zoo<R18, tn::direct>)->Name("resnet18_b1/direct")->Arg(1)->MinTime(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_zoo<R18, tn::direct>)->Name("resnet18_b8/direct")->Arg(8)->MinTime(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_zoo<R50>)->Name("resnet50_b1/typenet")->Arg(1)->MinTime(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_zoo<R50, tn::direct>)->Name("resnet50_b1/direct")->Arg(1)->MinTime(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_zoo<R50>)->Name("resnet50_b8/typenet")->Arg(8)->MinTime(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_zoo<R50, tn::bf16_weights>)->Name("resnet50_b1/bf16")->Arg(1)->MinTime(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_zoo<R50, tn::int8_weights>)->Name("resnet50_b1/int8")->Arg(1)->MinTime(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_zoo<MV2>)->Name("mobilenet_v2_b1/typenet")->Arg(1)->MinTime(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_zoo<MV2, tn::no_fusion>)->Name("mobilenet_v2_b1/unfused")->Arg(1)->MinTime(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_zoo<MV2>)->Name("mobilenet_v2_b8/typenet")->Arg(8)->MinTime(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_zoo<MV2, tn::bf16_weights>)->Name("mobilenet_v2_b1/bf16")->Arg(1)->MinTime(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_zoo<MV2, tn::int8_weights>)->Name("mobilenet_v2_b1/int8")->Arg(1)->MinTime(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_zoo<MV3S>)->Name("mobilenet_v3_small_b1/typenet")->Arg(1)->MinTime(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_zoo<MV3L>)->Name("mobilenet_v3_large_b1/typenet")->Arg(1)->MinTime(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_zoo<MV3L, tn::bf16_weights>)->Name("mobilenet_v3_large_b1/bf16")->Arg(1)->MinTime(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_zoo<MV3L, tn::int8_weights>)->Name("mobilenet_v3_large_b1/int8")->Arg(1)->MinTime(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_zoo<MV3L>)->Name("mobilenet_v3_large_b8/typenet")->Arg(8)->MinTime(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_zoo<EB0>)->Name("efficientnet_b0_b1/typenet")->Arg(1)->MinTime(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_zoo<EB0, tn::bf16_weights>)->Name("efficientnet_b0_b1/bf16")->Arg(1)->MinTime(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_zoo<EB0, tn::int8_weights>)->Name("efficientnet_b0_b1/int8")->Arg(1)->MinTime(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_zoo<EB0>)->Name("efficientnet_b0_b8/typenet")->Arg(8)->MinTime(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_zoo<SQ>)->Name("squeezenet1_1_b1/typenet")->Arg(1)->MinTime(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_zoo<SH>)->Name("shufflenet_v2_x1_0_b1/typenet")->Arg(1)->MinTime(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_zoo<VGG>)->Name("vgg11_b1/typenet")->Arg(1)->MinTime(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_zoo<VGG, tn::direct>)->Name("vgg11_b1/direct")->Arg(1)->MinTime(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_zoo<VGG>)->Name("vgg11_b8/typenet")->Arg(8)->MinTime(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_layer<DepthwiseLayer<112, 32, 3, 1>>)->Name("depthwise_112x112x32_k3/typenet")->Arg(1)->MinTime(0.5);
BENCHMARK(BM_layer<DepthwiseLayer<112, 96, 3, 2>>)->Name("depthwise_112x112x96_k3_s2/typenet")->Arg(1)->MinTime(0.5);
BENCHMARK(BM_layer<DepthwiseLayer<56, 144, 3, 1>>)->Name("depthwise_56x56x144_k3/typenet")->Arg(1)->MinTime(0.5);
BENCHMARK(BM_layer<DepthwiseLayer<28, 192, 3, 1>>)->Name("depthwise_28x28x192_k3/typenet")->Arg(1)->MinTime(0.5);
BENCHMARK(BM_layer<DepthwiseLayer<14, 384, 3, 1>>)->Name("depthwise_14x14x384_k3/typenet")->Arg(1)->MinTime(0.5);
BENCHMARK(BM_layer<DepthwiseLayer<7, 960, 3, 1>>)->Name("depthwise_7x7x960_k3/typenet")->Arg(1)->MinTime(0.5);
BENCHMARK(BM_layer<DepthwiseLayer<28, 72, 5, 1, tn::relu>>)->Name("depthwise_28x28x72_k5/typenet")->Arg(1)->MinTime(0.5);
BENCHMARK(BM_layer<DepthwiseLayer<14, 240, 5, 1, tn::hard_swish>>)->Name("depthwise_14x14x240_k5_hswish/typenet")->Arg(1)->MinTime(0.5);

int main(int argc, char** argv) {
    bench::after_runs.push_back([] {
        std::printf("\n");
        describe<R18>("resnet18");
        describe<R50>("resnet50");
        describe<MV2>("mobilenet_v2");
        describe<MV3S>("mobilenet_v3_small");
        describe<MV3L>("mobilenet_v3_large");
        describe<EB0>("efficientnet_b0");
        describe<SQ>("squeezenet1_1");
        describe<SH>("shufflenet_v2_x1_0");
        describe<VGG>("vgg11");
        std::printf("\n");
        policy_accuracy<R50, tn::bf16_weights>("resnet50", "bf16_weights", 20);
        policy_accuracy<MV2, tn::bf16_weights>("mobilenet_v2", "bf16_weights", 20);
        policy_accuracy<MV3L, tn::bf16_weights>("mobilenet_v3_large", "bf16_weights", 20);
        policy_accuracy<EB0, tn::bf16_weights>("efficientnet_b0", "bf16_weights", 20);
        policy_accuracy<R50, tn::int8_weights>("resnet50", "int8_weights", 20);
        policy_accuracy<MV2, tn::int8_weights>("mobilenet_v2", "int8_weights", 20);
        policy_accuracy<MV3L, tn::int8_weights>("mobilenet_v3_large", "int8_weights", 20);
        policy_accuracy<EB0, tn::int8_weights>("efficientnet_b0", "int8_weights", 20);
        std::printf("\nread bandwidth of one core, GB/s:");
        for (const auto& [label, bytes] : {std::pair{"32 KB (L1)", std::size_t(32) << 10}, {"512 KB (L2)", std::size_t(512) << 10},
                                           {"8 MB (L3)", std::size_t(8) << 20}, {"256 MB (memory)", std::size_t(256) << 20}})
            std::printf("  %s %.1f", label, bench::measure_read_gbs(bytes));
        std::printf("\n");
    });
    return bench::run(argc, argv, [] {}, 4096, "", "");
}

// Reduced precision against fp32, same process, same weights, one core: the MNIST MLP
// (batch 1 and 256), the Keras tutorial CNN and ResNet-20 (batch 1 and 64), each in fp32,
// under tn::bf16_weights (Dense, and Conv2D where the policy gives it) and under
// tn::int8_weights (Dense and Conv2D with at least 4 input channels); and single convolutions
// in fp32 and with bf16_weights. Besides Google Benchmark's rows it prints each speedup as the
// ratio of medians of interleaved rounds (bench::interleaved_ratio), and the accuracy table of
// docs/precision-and-threads.md: each reduced model against fp32 on 1,000 random inputs.
//   taskset -c 1 build/bench/bench/bench_precision
#include "common.hpp"

#include "../examples/resnet20.hpp"
#include "../examples/tutorial_cnn.hpp"
#include "../tests/model/accuracy.hpp"

namespace tn = typenet;
using resnet::ResNet20;
using example::TutorialCnn;
using Mlp = tn::Sequential<tn::Input<784>, tn::Dense<128, tn::relu>, tn::Dense<64, tn::relu>, tn::Dense<10, tn::softmax>>;

namespace {

template <class M>
const tn::Net<M>& fp32() {
    static const auto n = bench::net_with_statistics<M>(0.2f);
    return n;
}
template <class M, class P>
const auto& reduced() {
    static const auto n = [] {
        auto r = tn::make<M, P>();
        r.set_weights(fp32<M>().get_weights());
        return r;
    }();
    return n;
}
template <class M, class P>
const auto& net() {
    if constexpr (std::is_void_v<P>) return fp32<M>();
    else return reduced<M, P>();
}

std::vector<float> inputs(std::size_t n) {
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> u(0.f, 1.f);
    std::vector<float> x(n);
    for (float& v : x) v = u(rng);
    return x;
}

template <class M, class P>
void BM_precision(benchmark::State& state) {
    bench::time_net<M>(state, net<M, P>(), inputs(std::size_t(state.range(0)) * M::input_shape_type::size));
}

template <class M, class P>
void speedup(const char* model, const char* policy, std::size_t n) {
    const auto& a = fp32<M>();
    const auto& b = net<M, P>();
    const auto x = inputs(n * M::input_shape_type::size);
    std::vector<float> y(n * M::output_shape_type::size);
    auto run = [&](const auto& m) {
        if (n == 1) m.forward(x.data(), y.data());
        else m.predict(x.data(), y.data(), n);
    };
    const double r = bench::interleaved_ratio([&] { run(a); }, [&] { run(b); }, 31, n == 1 ? 200 : 4);
    std::printf("%-9s batch %3zu  %-5s %.2fx fp32 (interleaved, median of 31 rounds)\n", model, n, policy, 1 / r);
}

template <class M, class P>
void accuracy_row(const char* model, const char* policy) {
    const auto r = accuracy::compare(fp32<M>(), net<M, P>(), 1000);
    std::printf("| %s | %s | %.3g | %.3g | %zu / %zu |\n", model, policy, r.max_abs, r.max_rel, r.agree, r.n);
}

// A sequence model: no classes, so no top-1 column.
template <class M, class P>
void sequence_row(const char* model, const char* policy) {
    const auto r = accuracy::compare(fp32<M>(), net<M, P>(), 1000);
    std::printf("| %s | %s | %.3g | %.3g | — |\n", model, policy, r.max_abs, r.max_rel);
}
// One convolution in fp32 (Winograd where the library would choose it) and with bf16_weights
// written on it, the same weights, batch 1: bf16's time against fp32's, and each one's GFLOP/s.
template <std::size_t H, std::size_t C, std::size_t K, std::size_t S, std::size_t Cout, class... Precision>
using ConvAlone = tn::Sequential<tn::Input<H, H, C>, tn::Conv2D<Cout, tn::kernel<K>, tn::stride<S>, tn::padding<K / 2>, tn::relu, Precision...>>;
template <std::size_t H, std::size_t C, std::size_t K, std::size_t S, std::size_t Cout>
void conv_bf16_row() {
    using A = ConvAlone<H, C, K, S, Cout>;
    using B = ConvAlone<H, C, K, S, Cout, tn::bf16_weights>;
    const auto a = tn::make<A>(tn::seed{4});
    auto b = tn::make<B>();
    b.set_weights(a.get_weights());
    const auto x = inputs(A::input_shape_type::size);
    std::vector<float> y(A::output_shape_type::size);
    double ta = 0, tb = 0;
    const double r = bench::interleaved_ratio([&] { a.forward(x.data(), y.data()); }, [&] { b.forward(x.data(), y.data()); }, 31, 50,
                                              &ta, &tb);
    const double flops = double(A::flops);
    std::printf("| %zux%zu %zux%zu%s, %zu -> %zu | %s | %.0f | %.0f | %.2fx |\n", K, K, H, H, S == 2 ? "/2" : "", C, Cout,
                tn::Conv2D<Cout, tn::kernel<K>, tn::stride<S>, tn::padding<K / 2>, tn::relu>::template kernel_name_on<tn::relu, tn::Shape<H, H, C>>().c_str(),
                flops / ta / 1e9, flops / tb / 1e9, 1 / r);
}

template <template <std::size_t, class...> class Cell>
using Seq64 = tn::Sequential<tn::Input<64, 1>, Cell<64, tn::return_sequences>, tn::Dense<1>>;

}  // namespace

BENCHMARK(BM_precision<Mlp, void>)->Name("mlp_b1/typenet")->Arg(1)->MinTime(0.5);
BENCHMARK(BM_precision<Mlp, tn::bf16_weights>)->Name("mlp_b1/bf16")->Arg(1)->MinTime(0.5);
BENCHMARK(BM_precision<Mlp, tn::int8_weights>)->Name("mlp_b1/int8")->Arg(1)->MinTime(0.5);
BENCHMARK(BM_precision<Mlp, void>)->Name("mlp_b256/typenet")->Arg(256)->MinTime(0.5);
BENCHMARK(BM_precision<Mlp, tn::bf16_weights>)->Name("mlp_b256/bf16")->Arg(256)->MinTime(0.5);
BENCHMARK(BM_precision<Mlp, tn::int8_weights>)->Name("mlp_b256/int8")->Arg(256)->MinTime(0.5);
BENCHMARK(BM_precision<TutorialCnn, void>)->Name("cnn28_b1/typenet")->Arg(1)->MinTime(0.5);
BENCHMARK(BM_precision<TutorialCnn, tn::bf16_weights>)->Name("cnn28_b1/bf16")->Arg(1)->MinTime(0.5);
BENCHMARK(BM_precision<TutorialCnn, tn::int8_weights>)->Name("cnn28_b1/int8")->Arg(1)->MinTime(0.5);
BENCHMARK(BM_precision<TutorialCnn, void>)->Name("cnn28_b64/typenet")->Arg(64)->MinTime(0.5);
BENCHMARK(BM_precision<TutorialCnn, tn::bf16_weights>)->Name("cnn28_b64/bf16")->Arg(64)->MinTime(0.5);
BENCHMARK(BM_precision<TutorialCnn, tn::int8_weights>)->Name("cnn28_b64/int8")->Arg(64)->MinTime(0.5);
BENCHMARK(BM_precision<ResNet20, void>)->Name("resnet20_b1/typenet")->Arg(1)->MinTime(0.5);
BENCHMARK(BM_precision<ResNet20, tn::bf16_weights>)->Name("resnet20_b1/bf16")->Arg(1)->MinTime(0.5);
BENCHMARK(BM_precision<ResNet20, tn::int8_weights>)->Name("resnet20_b1/int8")->Arg(1)->MinTime(0.5);
BENCHMARK(BM_precision<ResNet20, void>)->Name("resnet20_b64/typenet")->Arg(64)->MinTime(0.5);
BENCHMARK(BM_precision<ResNet20, tn::bf16_weights>)->Name("resnet20_b64/bf16")->Arg(64)->MinTime(0.5);
BENCHMARK(BM_precision<ResNet20, tn::int8_weights>)->Name("resnet20_b64/int8")->Arg(64)->MinTime(0.5);

int main(int argc, char** argv) {
    bench::after_runs.push_back([] {
        std::printf("\n");
        speedup<Mlp, tn::bf16_weights>("mlp", "bf16", 1);
        speedup<Mlp, tn::int8_weights>("mlp", "int8", 1);
        speedup<Mlp, tn::bf16_weights>("mlp", "bf16", 256);
        speedup<Mlp, tn::int8_weights>("mlp", "int8", 256);
        speedup<TutorialCnn, tn::bf16_weights>("cnn28", "bf16", 1);
        speedup<TutorialCnn, tn::int8_weights>("cnn28", "int8", 1);
        speedup<TutorialCnn, tn::bf16_weights>("cnn28", "bf16", 64);
        speedup<TutorialCnn, tn::int8_weights>("cnn28", "int8", 64);
        speedup<ResNet20, tn::bf16_weights>("resnet20", "bf16", 1);
        speedup<ResNet20, tn::int8_weights>("resnet20", "int8", 1);
        speedup<ResNet20, tn::bf16_weights>("resnet20", "bf16", 64);
        speedup<ResNet20, tn::int8_weights>("resnet20", "int8", 64);
        std::printf("\n| convolution (batch 1, ReLU) | fp32 kernel | fp32 GFLOP/s | bf16 GFLOP/s | bf16 / fp32 |\n|---|---|---|---|---|\n");
        conv_bf16_row<56, 24, 1, 1, 144>();   // MobileNetV2's expansions
        conv_bf16_row<14, 576, 1, 1, 96>();   // ... and projections
        conv_bf16_row<7, 960, 1, 1, 320>();
        conv_bf16_row<56, 64, 1, 1, 256>();   // ResNet-50's bottlenecks
        conv_bf16_row<28, 128, 3, 2, 256>();  // a strided 3x3: direct in fp32
        conv_bf16_row<32, 16, 3, 1, 16>();    // ResNet-20's first stage: bf16 over Winograd
        conv_bf16_row<16, 32, 3, 1, 32>();    // from 32 channels Winograd (fp32) is faster
        conv_bf16_row<56, 64, 3, 1, 64>();
        conv_bf16_row<14, 256, 3, 1, 256>();
        std::printf("\n| model | policy | max abs diff | max rel diff | top-1 agreement |\n|---|---|---|---|---|\n");
        accuracy_row<Mlp, tn::bf16_weights>("MLP 784-128-64-10", "bf16_weights");
        accuracy_row<Mlp, tn::int8_weights>("MLP 784-128-64-10", "int8_weights");
        accuracy_row<TutorialCnn, tn::bf16_weights>("Keras CNN", "bf16_weights");
        accuracy_row<TutorialCnn, tn::int8_weights>("Keras CNN", "int8_weights");
        accuracy_row<ResNet20, tn::bf16_weights>("ResNet-20", "bf16_weights");
        accuracy_row<ResNet20, tn::int8_weights>("ResNet-20", "int8_weights");
        sequence_row<Seq64<tn::GRU>, tn::bf16_weights>("GRU 64, 64 steps of 1 input, every step", "bf16_weights");
        sequence_row<Seq64<tn::LSTM>, tn::bf16_weights>("LSTM 64, 64 steps of 1 input, every step", "bf16_weights");
    });
    return bench::run(argc, argv, [] {}, 4096, "", "");
}

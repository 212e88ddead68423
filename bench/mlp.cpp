// The Keras tutorial MLP, 784-128-64-10 (relu, relu, softmax), at batch 1 and batch 256:
// typenet against a hand-written fixed-size Eigen version and LibTorch (one thread,
// inference mode, OpenBLAS), with the same weights, in one process. The summary at the end
// gives GFLOP/s, the fraction of this run's measured FP32 peak, and typenet's speedup.
#include "common.hpp"

// The Eigen version holds 128x784 fixed-size matrices (on the heap): lift the stack-size guard.
#define EIGEN_STACK_ALLOCATION_LIMIT 0
#include <Eigen/Dense>
#include <torch/torch.h>

#include <memory>
#include <random>

#include <typenet/typenet.hpp>

namespace tn = typenet;

using Mnist = tn::Sequential<tn::Input<784>, tn::Dense<128, tn::relu>, tn::Dense<64, tn::relu>, tn::Dense<10, tn::softmax>>;
constexpr double flops_per_sample = Mnist::flops;

namespace {

const tn::Net<Mnist>& typenet_net() {
    static const auto net = tn::make<Mnist>(tn::seed{2026});
    return net;
}
// The same model and weights with every fusion pass off: each activation a pass of its own.
const tn::Net<tn::unfused<Mnist>>& unfused_net() {
    static const auto net = [] {
        auto n = tn::make<Mnist, tn::no_fusion>();
        n.set_weights(typenet_net().get_weights());
        return n;
    }();
    return net;
}
const std::vector<float>& weights() {
    static const std::vector<float> w = typenet_net().get_weights();
    return w;
}
std::vector<float> inputs(std::size_t n) {
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> u(0.f, 1.f);
    std::vector<float> x(n * 784);
    for (float& v : x) v = u(rng);
    return x;
}

// The hand-written Eigen version: fixed-size matrices, column-major W (Eigen's default), so
// W * x is Eigen's tuned fixed-size product.
struct EigenMlp {
    Eigen::Matrix<float, 128, 784> w1;
    Eigen::Matrix<float, 128, 1> b1;
    Eigen::Matrix<float, 64, 128> w2;
    Eigen::Matrix<float, 64, 1> b2;
    Eigen::Matrix<float, 10, 64> w3;
    Eigen::Matrix<float, 10, 1> b3;
    EIGEN_MAKE_ALIGNED_OPERATOR_NEW

    EigenMlp() {
        const float* p = weights().data();
        auto take = [&](auto& m) {  // canonical layout is [out][in], row-major
            using M = std::decay_t<decltype(m)>;
            if constexpr (M::ColsAtCompileTime > 1)
                m = Eigen::Map<const Eigen::Matrix<float, M::RowsAtCompileTime, M::ColsAtCompileTime, Eigen::RowMajor>>(p);
            else
                m = Eigen::Map<const M>(p);
            p += m.size();
        };
        take(w1), take(b1), take(w2), take(b2), take(w3), take(b3);
    }
    void forward(const float* x, float* y) const {
        const Eigen::Matrix<float, 128, 1> h1 = (w1 * Eigen::Map<const Eigen::Matrix<float, 784, 1>>(x) + b1).cwiseMax(0.f);
        const Eigen::Matrix<float, 64, 1> h2 = (w2 * h1 + b2).cwiseMax(0.f);
        Eigen::Matrix<float, 10, 1> z = w3 * h2 + b3;
        z = (z.array() - z.maxCoeff()).exp();
        Eigen::Map<Eigen::Matrix<float, 10, 1>> out(y);
        out = z / z.sum();
    }
    // Batch: samples are columns (the same bytes as typenet's row-major N x 784).
    mutable Eigen::Matrix<float, 128, Eigen::Dynamic> h1b;
    mutable Eigen::Matrix<float, 64, Eigen::Dynamic> h2b;
    void predict(const float* x, float* y, Eigen::Index n) const {
        h1b.resize(128, n), h2b.resize(64, n);
        Eigen::Map<const Eigen::Matrix<float, 784, Eigen::Dynamic>> X(x, 784, n);
        Eigen::Map<Eigen::Matrix<float, 10, Eigen::Dynamic>> Y(y, 10, n);
        h1b.noalias() = w1 * X;
        h1b = (h1b.colwise() + b1).cwiseMax(0.f);
        h2b.noalias() = w2 * h1b;
        h2b = (h2b.colwise() + b2).cwiseMax(0.f);
        Y.noalias() = w3 * h2b;
        Y.colwise() += b3;
        for (Eigen::Index c = 0; c < n; ++c) {
            auto col = Y.col(c);
            col = (col.array() - col.maxCoeff()).exp();
            col /= col.sum();
        }
    }
};

struct TorchMlp {
    torch::Tensor w1, b1, w2, b2, w3, b3;
    TorchMlp() {
        std::vector<float> w = weights();
        const float* p = w.data();
        auto take = [&](std::vector<int64_t> shape) {
            int64_t n = 1;
            for (auto d : shape) n *= d;
            auto t = torch::from_blob(const_cast<float*>(p), shape, torch::kFloat32).clone();
            p += n;
            return t;
        };
        w1 = take({128, 784}), b1 = take({128}), w2 = take({64, 128}), b2 = take({64}), w3 = take({10, 64}), b3 = take({10});
    }
    torch::Tensor forward(const torch::Tensor& x) const {
        auto h = torch::relu(torch::addmm(b1, x, w1.t()));
        h = torch::relu(torch::addmm(b2, h, w2.t()));
        return torch::softmax(torch::addmm(b3, h, w3.t()), 1);
    }
};

template <bool Fused>
void BM_typenet(benchmark::State& state) {
    const auto& net = []() -> const auto& {
        if constexpr (Fused) return typenet_net();
        else return unfused_net();
    }();
    const std::size_t n = std::size_t(state.range(0));
    const auto x = inputs(n);
    std::vector<float> y(n * 10);
    for (auto _ : state) {
        if (n == 1) net.forward(x.data(), y.data());
        else net.predict(x.data(), y.data(), n);
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    bench::report_rate(state, flops_per_sample * double(n));
}

void BM_eigen(benchmark::State& state) {
    const auto m = std::make_unique<EigenMlp>();
    const std::size_t n = std::size_t(state.range(0));
    const auto x = inputs(n);
    std::vector<float> y(n * 10);
    m->predict(x.data(), y.data(), Eigen::Index(n));  // size the buffers outside the loop
    for (auto _ : state) {
        if (n == 1) m->forward(x.data(), y.data());
        else m->predict(x.data(), y.data(), Eigen::Index(n));
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    bench::report_rate(state, flops_per_sample * double(n));
}

void BM_libtorch(benchmark::State& state) {
    torch::InferenceMode guard;
    const TorchMlp m;
    const std::size_t n = std::size_t(state.range(0));
    auto xv = inputs(n);
    const auto x = torch::from_blob(xv.data(), {int64_t(n), 784}, torch::kFloat32).clone();
    for (auto _ : state) {
        auto y = m.forward(x);
        benchmark::DoNotOptimize(y.data_ptr());
    }
    bench::report_rate(state, flops_per_sample * double(n));
}

// All three must compute the same function before any of them is timed.
void check_agreement() {
    torch::InferenceMode guard;
    const std::size_t n = 5;
    auto x = inputs(n);
    std::vector<float> a(n * 10), b(n * 10);
    typenet_net().predict(x.data(), a.data(), n);
    std::make_unique<EigenMlp>()->predict(x.data(), b.data(), n);
    const auto t = TorchMlp().forward(torch::from_blob(x.data(), {int64_t(n), 784}, torch::kFloat32)).contiguous();
    double de = 0, dt = 0;
    for (std::size_t i = 0; i < n * 10; ++i) {
        de = std::max(de, double(std::abs(a[i] - b[i])));
        dt = std::max(dt, double(std::abs(a[i] - t.data_ptr<float>()[i])));
    }
    std::printf("agreement: max |typenet - eigen| = %.2e, max |typenet - libtorch| = %.2e\n", de, dt);
    if (de > 1e-5 || dt > 1e-5) std::exit(1);
}

}  // namespace

BENCHMARK(BM_typenet<true>)->Name("mlp_b1/typenet")->Arg(1)->MinTime(0.5);
BENCHMARK(BM_typenet<false>)->Name("mlp_b1/unfused")->Arg(1)->MinTime(0.5);
BENCHMARK(BM_eigen)->Name("mlp_b1/eigen")->Arg(1)->MinTime(0.5);
BENCHMARK(BM_libtorch)->Name("mlp_b1/libtorch")->Arg(1)->MinTime(0.5);
BENCHMARK(BM_typenet<true>)->Name("mlp_b256/typenet")->Arg(256)->MinTime(0.5);
BENCHMARK(BM_typenet<false>)->Name("mlp_b256/unfused")->Arg(256)->MinTime(0.5);
BENCHMARK(BM_eigen)->Name("mlp_b256/eigen")->Arg(256)->MinTime(0.5);
BENCHMARK(BM_libtorch)->Name("mlp_b256/libtorch")->Arg(256)->MinTime(0.5);

void report_fusion(std::size_t n) {
    const auto x = inputs(n);
    std::vector<float> y(n * 10);
    const auto& f = typenet_net();
    const auto& u = unfused_net();
    const double r = bench::interleaved_ratio([&] { f.predict(x.data(), y.data(), n); }, [&] { u.predict(x.data(), y.data(), n); },
                                              31, n == 1 ? 2000 : 20);
    std::printf("mlp batch %-3zu fused is %.2fx faster than unfused (interleaved medians); arena %s per sample, naive %s\n", n, r,
                tn::detail::bytes_str(Mnist::workspace_bytes).c_str(), tn::detail::bytes_str(Mnist::naive_workspace_bytes).c_str());
}

int main(int argc, char** argv) {
    torch::set_num_threads(1);
    bench::after_runs.push_back([] {
        std::printf("\n");
        report_fusion(1);
        report_fusion(256);
    });
    return bench::run(argc, argv, check_agreement, Mnist::weight_bytes,
                      "reading the 437 KB of weights from L2 (the batch-1 bound)", "mlp_b1");
}

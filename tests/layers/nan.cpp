// NaN propagates as in PyTorch: relu(NaN) is NaN, a max-pool window or a maximum holding a
// NaN is NaN, a softmax row holding one is NaN throughout. (x86's maxps returns its second
// operand when either is NaN, so a plain max once turned one NaN in the MNIST MLP's input
// into a plausible uniform 0.1 softmax.) Each on the vector path and on the tail.
#include <typenet/typenet.hpp>

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <tuple>
#include <vector>

namespace tn = typenet;

namespace {
constexpr float qnan = std::numeric_limits<float>::quiet_NaN();

template <class A>
void check_activation() {
    using M = tn::Sequential<tn::Input<37>, tn::ActivationLayer<A>>;
    auto net = tn::make<M>();
    for (std::size_t at : {std::size_t(3), std::size_t(36)}) {  // in a full vector, in the tail
        std::vector<float> x(37), y(37);
        for (std::size_t i = 0; i < 37; ++i) x[i] = float(i) / 10.f - 1.8f;
        x[at] = qnan;
        net.forward(x.data(), y.data());
        INFO(A::name() << ", NaN at " << at);
        CHECK(std::isnan(y[at]));
        if constexpr (A::row_wise) {
            for (float v : y) CHECK(std::isnan(v));  // as torch.softmax: the whole row
        } else {
            for (std::size_t i = 0; i < 37; ++i)
                if (i != at) CHECK_FALSE(std::isnan(y[i]));
            CHECK(std::isnan(A::apply(qnan)));  // and the scalar form
        }
    }
}
}  // namespace

TEST_CASE("every activation propagates NaN", "[layers][nan]") {
    check_activation<tn::linear>();
    check_activation<tn::relu>();
    check_activation<tn::leaky_relu>();
    check_activation<tn::elu>();
    check_activation<tn::sigmoid>();
    check_activation<tn::tanh>();
    check_activation<tn::gelu>();
    check_activation<tn::gelu_tanh>();
    check_activation<tn::silu>();
    check_activation<tn::hard_sigmoid>();
    check_activation<tn::hard_swish>();
    check_activation<tn::relu6>();
    check_activation<tn::hardtanh_with<-1, 3, 2>>();
    check_activation<tn::softmax>();
    check_activation<tn::log_softmax>();
}

TEST_CASE("a NaN input reaches the output of the MNIST MLP (fused ReLU epilogues, softmax)", "[layers][nan]") {
    using Mnist = tn::Sequential<tn::Input<784>, tn::Dense<128, tn::relu>, tn::Dense<64, tn::relu>, tn::Dense<10, tn::softmax>>;
    auto net = tn::make<Mnist>(tn::seed{3});
    tn::Net<Mnist>::input_type x{};
    x(400) = qnan;
    const auto y = net(x);
    for (std::size_t i = 0; i < 10; ++i) CHECK(std::isnan(y(i)));
    // A batch through predict: only the poisoned sample is NaN.
    std::vector<float> xs(3 * 784, 0.25f), ys(3 * 10);
    xs[784 + 5] = qnan;
    net.predict(xs.data(), ys.data(), 3);
    for (std::size_t i = 0; i < 10; ++i) {
        CHECK_FALSE(std::isnan(ys[i]));
        CHECK(std::isnan(ys[10 + i]));
        CHECK_FALSE(std::isnan(ys[20 + i]));
    }
}

TEST_CASE("max-pool windows, global max-pool, conv+relu and Maximum keep a NaN", "[layers][nan]") {
    using Pool = tn::Sequential<tn::Input<4, 4, 19>, tn::MaxPool2D<2>>;  // 19 channels: a vector and a tail
    auto pool = tn::make<Pool>();
    for (std::size_t c : {std::size_t(2), std::size_t(18)}) {
        tn::Net<Pool>::input_type x{};
        x(3, 2, c) = qnan;  // in the window of output (1, 1)
        const auto y = pool(x);
        INFO("channel " << c);
        CHECK(std::isnan(y(1, 1, c)));
        CHECK_FALSE(std::isnan(y(0, 0, c)));
        CHECK_FALSE(std::isnan(y(1, 1, (c + 1) % 19)));
    }
    using Global = tn::Sequential<tn::Input<3, 3, 19>, tn::GlobalMaxPool2D>;
    auto global = tn::make<Global>();
    tn::Net<Global>::input_type g{};
    g(0, 0, 17) = qnan;  // the first pixel: a later max must not drop it
    const auto gy = global(g);
    CHECK(std::isnan(gy(17)));
    CHECK_FALSE(std::isnan(gy(16)));

    using Conv = tn::Sequential<tn::Input<6, 6, 3>, tn::Conv2D<20, tn::kernel<3>, tn::relu>>;
    auto conv = tn::make<Conv>(tn::seed{5});
    tn::Net<Conv>::input_type cx{};
    cx(0, 0, 0) = qnan;
    const auto cy = conv(cx);
    for (std::size_t f = 0; f < 20; ++f) CHECK(std::isnan(cy(0, 0, f)));
    CHECK_FALSE(std::isnan(cy(3, 3, 0)));

    constexpr auto maxmin = [] {
        auto a = tn::input<"a", 19>;
        auto b = tn::input<"b", 19>;
        return tn::model(tn::inputs(a, b), tn::outputs(tn::maximum(a, b), tn::minimum(b, a)));
    };
    using MaxMin = decltype(maxmin());
    auto mm = tn::make<MaxMin>();
    tn::Tensor<19> a{}, b{};
    a(1) = qnan;   // NaN in the first operand of maximum
    b(18) = qnan;  // and in the second, in the tail
    const auto [mx, mn] = mm(a, b);
    CHECK(std::isnan(mx(1)));
    CHECK(std::isnan(mx(18)));
    CHECK(std::isnan(mn(1)));
    CHECK(std::isnan(mn(18)));
    CHECK_FALSE(std::isnan(mx(0)));
}

// ReLU, ReLU6 and Hardtanh run in the GEMM and convolution micro-kernels' registers
// (kernels/dense.hpp, clamps_in_registers): the same bits as the activation as a layer of its
// own (tn::no_fusion), a NaN kept, on every row block height (batch 13 = 12 + 1) and on the
// tail of a row of outputs (37 = 2 vectors + 5 with AVX-512).
template <class A>
void check_clamp_in_registers() {
    using D = tn::Sequential<tn::Input<24>, tn::Dense<37, A>>;
    using C = tn::Sequential<tn::Input<7, 7, 5>, tn::Conv2D<37, tn::kernel<3>, tn::padding<1>, A>>;
    STATIC_REQUIRE(tn::kernels::detail::clamps_in_registers<A>.on);
    auto check = [](auto fused, auto unfused, std::size_t in, std::size_t out) {
        std::vector<float> x(13 * in), a(13 * out), b(13 * out);
        for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(int(i * 7919 % 41) - 20) / 3.f;
        x[5 * in + 2] = qnan;
        fused.predict(x.data(), a.data(), 13);
        unfused.predict(x.data(), b.data(), 13);
        INFO(A::name());
        for (std::size_t i = 0; i < a.size(); ++i) {
            if (std::isnan(b[i])) CHECK(std::isnan(a[i]));
            else CHECK(a[i] == b[i]);
            if (!std::isnan(a[i])) CHECK((a[i] >= A::apply(-1e30f) && a[i] <= A::apply(1e30f)));
        }
        CHECK(std::isnan(a[5 * out]));
    };
    check(tn::make<D>(tn::seed{3}), tn::make<D, tn::no_fusion>(tn::seed{3}), 24, 37);
    check(tn::make<C>(tn::seed{3}), tn::make<C, tn::no_fusion>(tn::seed{3}), 7 * 7 * 5, 7 * 7 * 37);
}
TEST_CASE("clamps in the kernels' registers (ReLU, ReLU6, Hardtanh) equal the activation layer and keep a NaN", "[layers][nan]") {
    check_clamp_in_registers<tn::relu>();
    check_clamp_in_registers<tn::relu6>();
    check_clamp_in_registers<tn::hardtanh_with<-1, 3, 2>>();
    STATIC_REQUIRE(!tn::kernels::detail::clamps_in_registers<tn::silu>.on);
}

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

// Stack use is bounded: every model runs forward, net(x) and predict on a thread whose whole
// stack is 64 KiB (musl's default is 128 KiB), with the same outputs as on the main thread.
// The arena is on the stack only up to TYPENET_STACK_ARENA_BYTES (16 KiB); larger ones are
// the Net's own (allocated by make) or a Workspace. A stack overflow here is a crash, so
// passing is surviving with equal numbers.
#include <resnet20.hpp>
#include <tutorial_cnn.hpp>
#include <typenet/typenet.hpp>

#include "models.hpp"
#include "../sanitized.hpp"

#include <limits.h>
#include <pthread.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <functional>
#include <vector>

namespace tn = typenet;

namespace {
using test_env::sanitized;

// Runs f on a fresh thread with a stack of `bytes` (sanitizers widen every frame: their
// builds get four times as much).
void on_small_stack(std::size_t bytes, const std::function<void()>& f) {
    if (sanitized) bytes *= 4;
    // The platform's minimum where it is larger (AArch64 glibc: 128 KiB, for 64 KiB pages).
    bytes = std::max<std::size_t>(bytes, std::size_t(PTHREAD_STACK_MIN));
    INFO("thread stack: " << bytes << " bytes");
    pthread_attr_t attr;
    REQUIRE(pthread_attr_init(&attr) == 0);
    REQUIRE(pthread_attr_setstacksize(&attr, bytes) == 0);
    pthread_t t;
    auto run = [](void* p) -> void* {
        (*static_cast<const std::function<void()>*>(p))();
        return nullptr;
    };
    REQUIRE(pthread_create(&t, &attr, run, const_cast<std::function<void()>*>(&f)) == 0);
    pthread_join(t, nullptr);
    pthread_attr_destroy(&attr);
}

template <class M>
void check_on_small_stack() {
    const auto net = tn::make<M>(tn::seed{11});
    // (A batch of 37: blocks and a remainder; 5 under the sanitizers, whose unoptimised builds
    // take a minute over the larger models' 37.)
    constexpr std::size_t in = tn::Net<M>::in_size, out = tn::Net<M>::out_size, n = sanitized ? 5 : 37;
    std::vector<float> xs(n * in), ys(n * out), ys_small(n * out), y1(out), y1_small(out);
    for (std::size_t i = 0; i < xs.size(); ++i) xs[i] = float(i % 17) / 17.f - 0.4f;
    net.predict(xs.data(), ys.data(), n);
    net.forward(xs.data(), y1.data());
    on_small_stack(64 * 1024, [&] {
        net.predict(xs.data(), ys_small.data(), n);
        net.forward(xs.data(), y1_small.data());
    });
    CHECK(ys_small == ys);
    CHECK(y1_small == y1);
}

using test_models::Mnist;
using test_models::SmallCnn;
using test_models::BigCnn;
constexpr auto two_towers = [] {
    auto x = tn::input<"x", 12, 12, 4>;
    auto a = tn::conv2d<"a", 16, tn::kernel<3>, tn::relu>(x);
    auto b = tn::conv2d<"b", 16, tn::kernel<3>, tn::relu>(x);
    auto m = tn::layer<"pool", tn::GlobalAveragePool2D>(tn::concat(tn::layer<"pa", tn::MaxPool2D<2>>(a), tn::layer<"pb", tn::MaxPool2D<2>>(b)));
    return tn::model(tn::inputs(x), tn::outputs(tn::dense<"out", 5>(m)));
};
using Graph = decltype(two_towers());
}  // namespace

TEST_CASE("the arena's place: stack up to 16 KiB, then the Net's own, then a Workspace", "[net][stack]") {
    STATIC_REQUIRE(tn::Net<Mnist>::on_stack);
    STATIC_REQUIRE(tn::Net<Mnist>::arena_bytes(1) <= TYPENET_STACK_ARENA_BYTES);
    STATIC_REQUIRE(!tn::Net<example::TutorialCnn>::on_stack);
    STATIC_REQUIRE(tn::Net<example::TutorialCnn>::owns_arena);
    STATIC_REQUIRE(!tn::Net<BigCnn>::owns_arena);
}

TEST_CASE("every model runs on a 64 KiB thread stack", "[net][stack]") {
    check_on_small_stack<Mnist>();
    check_on_small_stack<SmallCnn>();
    check_on_small_stack<example::TutorialCnn>();
    check_on_small_stack<resnet::ResNet20>();
    check_on_small_stack<BigCnn>();
    check_on_small_stack<Graph>();
    // bf16: a 1x1 convolution's tiles of pixels rounded on the stack (6 KB), whatever its channels.
    check_on_small_stack<tn::with_policy<resnet::ResNet20, tn::bf16_weights>>();
    check_on_small_stack<tn::with_policy<SmallCnn, tn::bf16_weights>>();
    check_on_small_stack<tn::Sequential<tn::Input<6, 6, 600>, tn::Conv2D<40, tn::kernel<1>, tn::bf16_weights>, tn::Flatten, tn::Dense<3>>>();
    // int8: a 1x1 convolution's map rows quantized on the stack (16 KiB) where bands and gated
    // steps compute rows alone, with the gate's products (8 KiB).
    using Gated = tn::Sequential<tn::Input<48, 40, 40>, tn::Conv2D<96, tn::kernel<1, 1>, tn::silu>,
                                 tn::DepthwiseConv2D<tn::kernel<3, 3>, tn::padding_same, tn::silu>, tn::SqueezeExcite<12, tn::silu, tn::sigmoid>,
                                 tn::Conv2D<48, tn::kernel<1, 1>>, tn::GlobalAveragePool2D>;
    STATIC_REQUIRE(tn::with_policy<Gated, tn::int8_weights>::program::gates.any());
    STATIC_REQUIRE(tn::with_policy<Gated, tn::int8_weights>::program::bands.any());
    check_on_small_stack<tn::with_policy<Gated, tn::int8_weights>>();
    // net(x): the input and output tensors are on the caller's stack too (a few KiB here).
    const auto mnist = tn::make<Mnist>();
    tn::Net<Mnist>::input_type x;
    x.fill(0.5f);
    const auto expected = mnist(x);
    tn::Net<Mnist>::output_type got;
    on_small_stack(64 * 1024, [&] { got = mnist(x); });
    CHECK(bool(got == expected));
}

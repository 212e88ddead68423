// Sequential: compile-time facts, nesting, named blocks, custom layers, fusion, memory plan.
#include "../golden.hpp"

#include <array>
#include <cstring>
#include <span>

namespace tn = typenet;

using Mnist = tn::Sequential<tn::Input<784>, tn::Dense<128, tn::relu>, tn::Dense<64, tn::relu>, tn::Dense<10, tn::softmax>>;

TEST_CASE("the Keras tutorial MLP as a type", "[sequential]") {
    STATIC_REQUIRE(Mnist::output_shape == tn::shape<10>);
    STATIC_REQUIRE(Mnist::input_shape == tn::shape<784>);
    STATIC_REQUIRE(Mnist::param_count == 109'386);
    STATIC_REQUIRE(Mnist::flops == 218'368);
    STATIC_REQUIRE(Mnist::weight_bytes == 437'544);
    // Liveness: [128] and [64] are the only intermediates, and both are live at once.
    STATIC_REQUIRE(Mnist::workspace_bytes == (128 + 64) * 4);
    STATIC_REQUIRE(Mnist::naive_workspace_bytes == (128 + 64) * 4);
    STATIC_REQUIRE(Mnist::valid);
}

TEST_CASE("the memory plan reuses buffers by liveness", "[sequential][plan]") {
    using Deep = tn::Sequential<tn::Input<16>, tn::Dense<256>, tn::ReLU, tn::Dense<32>, tn::Dense<256>, tn::Dense<32>,
                                tn::Dense<8>>;
    // Intermediates 256, 256 (relu in place), 32, 256, 32: two live at a time at most.
    STATIC_REQUIRE(Deep::workspace_bytes == (256 + 32) * 4);
    STATIC_REQUIRE(Deep::naive_workspace_bytes == (256 + 256 + 32 + 256 + 32) * 4);
}

TEST_CASE("an activation layer after a linear Dense is fused into its kernel", "[sequential][fusion]") {
    using M = tn::Sequential<tn::Input<8>, tn::Dense<4>, tn::ReLU, tn::Dense<3>, tn::Softmax>;
    // IR nodes: 0 the input, then the layers in order.
    constexpr auto& e = M::program::epilogues;
    STATIC_REQUIRE(e.activation[1] == 2);
    STATIC_REQUIRE(e.fused_away(2));
    STATIC_REQUIRE(e.activation[3] == 4);
    STATIC_REQUIRE(e.activation[2] == tn::passes::none);
    using NoFuse = tn::Sequential<tn::Input<8>, tn::Dense<4, tn::tanh>, tn::ReLU>;  // Dense already has an activation
    STATIC_REQUIRE(NoFuse::program::epilogues.activation[1] == tn::passes::none);
    const std::string s = tn::summary<M>();
    CHECK(s.find("dense+bias+relu") != std::string::npos);
    CHECK(s.find("fused into 0") != std::string::npos);
    CHECK(s.find("fused into 2") != std::string::npos);
}

struct Head : tn::Sequential<tn::Dense<31, tn::silu>, tn::Dense<17>> {};
using Nested = tn::Sequential<tn::Input<23>, Head, tn::ReLU, tn::Dense<5, tn::hard_sigmoid>>;

TEST_CASE("a Sequential nests as a layer; a named block keeps its name", "[sequential][nesting]") {
    STATIC_REQUIRE(Nested::output_shape == tn::shape<5>);
    STATIC_REQUIRE(Nested::param_count == 23 * 31 + 31 + 31 * 17 + 17 + 17 * 5 + 5);
    STATIC_REQUIRE(std::is_same_v<Head::output_shape_for<tn::Shape<23>>, tn::Shape<17>>);
    const auto& names = tn::Net<Nested>::param_infos();
    REQUIRE(names.size() == 6);
    CHECK(names[0].name == "0.0.weight");
    CHECK(names[3].name == "0.1.bias");
    CHECK(names[4].name == "2.weight");
    const std::string s = tn::summary<Nested>();
    INFO(s);
    CHECK(s.find("Head") != std::string::npos);
    CHECK(s.find("0.1") != std::string::npos);
    golden::check_model<Nested>("nested");
}

TEST_CASE("a model nests inside another model", "[sequential][nesting]") {
    using Inner = tn::Sequential<tn::Input<6>, tn::Dense<4, tn::relu>>;
    using Outer = tn::Sequential<tn::Input<6>, Inner, tn::Dense<2>>;
    STATIC_REQUIRE(Outer::output_shape == tn::shape<2>);
    STATIC_REQUIRE(Inner::accepts<tn::Shape<6>>);
    STATIC_REQUIRE(!Inner::accepts<tn::Shape<7>>);
    auto net = tn::make<Outer>(tn::seed{3});
    tn::Tensor<6> x = {1, -2, 3, -4, 5, -6};
    const auto y = net(x);
    // Same weights by hand.
    const auto w = net.get_weights();
    float h[4], ref[2];
    for (int o = 0; o < 4; ++o) {
        h[o] = w[24 + o];
        for (int k = 0; k < 6; ++k) h[o] += w[o * 6 + k] * x(k);
        h[o] = std::max(h[o], 0.f);
    }
    for (int o = 0; o < 2; ++o) {
        ref[o] = w[28 + 8 + o];
        for (int k = 0; k < 4; ++k) ref[o] += w[28 + o * 4 + k] * h[k];
    }
    CHECK(y(0) == Approx(ref[0]).epsilon(1e-5));
    CHECK(y(1) == Approx(ref[1]).epsilon(1e-5));
}

// A user-defined layer: a learnable per-feature scale and shift, y = a * x + b. It only
// states its shape rule, parameters, FLOPs and forward; Sequential, summary, init and
// weight loading work with it as with Dense.
struct ScaleShift {
    template <class In> using output_shape_for = In;
    template <class In>
    static constexpr std::array<tn::ParamSpec, 2> params_for{tn::ParamSpec{"scale", {In::size}, tn::Init::ones},
                                                            tn::ParamSpec{"shift", {In::size}}};
    template <class In> static constexpr std::size_t flops_for = 2 * In::size;
    template <class In>
    static void forward(const float* params, const float* in, float* out, std::size_t rows) {
        for (std::size_t r = 0; r < rows; ++r)
            for (std::size_t i = 0; i < In::size; ++i)
                out[r * In::size + i] = params[i] * in[r * In::size + i] + params[In::size + i];
    }
    static std::string name() { return "ScaleShift"; }
};

TEST_CASE("a user-defined layer plugs in like a built-in one", "[sequential][custom]") {
    using M = tn::Sequential<tn::Input<3>, ScaleShift, tn::Dense<2, tn::no_bias>>;
    STATIC_REQUIRE(tn::LayerOn<ScaleShift, tn::Shape<3>>);
    STATIC_REQUIRE(M::param_count == 3 + 3 + 6);
    STATIC_REQUIRE(M::flops == 6 + 12);
    auto net = tn::make<M>();
    const auto& infos = tn::Net<M>::param_infos();
    CHECK(infos[0].name == "0.scale");
    CHECK(infos[1].name == "0.shift");
    CHECK(net.get_weights()[0] == 1.f);  // Init::ones
    net.set_weights(std::vector<float>{2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 1, 0});
    const auto y = net(tn::Tensor<3>{1, 2, 3});
    CHECK(y(0) == 3.f);  // 2 * 1 + 1
    CHECK(y(1) == 5.f);  // 2 * 2 + 1
    CHECK(tn::summary<M>().find("ScaleShift") != std::string::npos);
}

TEST_CASE("summary: the Keras table with totals, memory and kernels", "[sequential][summary]") {
    const std::string s = tn::summary<Mnist>();
    INFO(s);
    CHECK(s.find("Dense<128, relu>") != std::string::npos);
    CHECK(s.find("100,480") != std::string::npos);
    CHECK(s.find("Total params: 109,386") != std::string::npos);
    CHECK(s.find("dense+bias+softmax") != std::string::npos);
    CHECK(s.find("Activation arena: 768 B") != std::string::npos);
}

TEST_CASE("initialisation is Glorot-uniform, zero bias, and reproducible from a seed", "[sequential][init]") {
    const auto a = tn::make<Mnist>(tn::seed{1}).get_weights();
    const auto b = tn::make<Mnist>(tn::seed{1}).get_weights();
    const auto c = tn::make<Mnist>(tn::seed{2}).get_weights();
    CHECK(a == b);
    CHECK(a != c);
    const float limit = std::sqrt(6.f / (784 + 128));
    float lo = 0, hi = 0;
    for (std::size_t i = 0; i < 784 * 128; ++i) lo = std::min(lo, a[i]), hi = std::max(hi, a[i]);
    CHECK(hi <= limit);
    CHECK(lo >= -limit);
    CHECK(hi > 0.95f * limit);
    for (std::size_t i = 784 * 128; i < 784 * 128 + 128; ++i) REQUIRE(a[i] == 0.f);
}

TEST_CASE("predict checks the batch's shape at run time", "[sequential]") {
    auto net = tn::make<Mnist>();
    xt::xtensor<float, 2> bad = xt::zeros<float>({3, 785});
    CHECK_THROWS_WITH(net.predict(bad), Catch::Contains("expects a batch of shape [N, 784] but got [3, 785]"));
    xt::xtensor<float, 2> good = xt::zeros<float>({3, 784});
    const auto y = net.predict(good);
    CHECK(y.shape()[0] == 3);
    CHECK(y.shape()[1] == 10);
}

TEST_CASE("net(x) takes the input tensor, or a span of exactly its size", "[sequential]") {
    using M = tn::Sequential<tn::Input<2, 2, 1>, tn::Flatten, tn::Dense<3>>;
    auto net = tn::make<M>(tn::seed{5});
    tn::Tensor<2, 2, 1> x;
    for (std::size_t i = 0; i < 4; ++i) x.data()[i] = 0.25f * float(i);
    const std::array<float, 4> raw{0.f, 0.25f, 0.5f, 0.75f};
    const auto a = net(x);
    const auto b = net(std::span<const float, 4>(raw));
    for (std::size_t i = 0; i < 3; ++i) CHECK(a(i) == b(i));
    // A tensor of another shape, or a span of another size, is one compile error in words
    // (tests/compile_fail/wrong_input_tensor.cpp).
}

#include "../golden.hpp"

#include <cmath>
#include <cstring>
#include <limits>

namespace tn = typenet;

// Each activation twice: fused into Dense (Dense<19, A>) and as its own layer after a linear
// Dense (which the model fuses back into the Dense kernel). Both must give PyTorch's numbers.
template <class A>
void check_activation(const std::string& name) {
    using Fused = tn::Sequential<tn::Input<37>, tn::Dense<19, A>>;
    using Layer = tn::Sequential<tn::Input<37>, tn::Dense<19>, tn::Activation<A>>;
    STATIC_REQUIRE(Fused::param_count == Layer::param_count);
    SECTION("fused argument") { golden::check_model<Fused>("act_" + name); }
    SECTION("activation layer") { golden::check_model<Layer>("act_" + name); }
    SECTION("activation layer on its own (no Dense to fuse into)") {
        using Alone = tn::Sequential<tn::Input<19>, tn::Activation<A>>;
        auto lin = tn::make<tn::Sequential<tn::Input<37>, tn::Dense<19>>>();
        tn::load_weights(lin, golden::path("act_" + name + ".weights.safetensors"));
        const auto d = golden::io("act_" + name);
        std::vector<float> z(d.rows * 19), y(d.rows * 19);
        lin.predict(d.input.data(), z.data(), d.rows);
        tn::make<Alone>().predict(z.data(), y.data(), d.rows);
        golden::require_close(y.data(), d.output.data(), d.rows, 19);
    }
}

TEST_CASE("activation: linear", "[activation][golden]") { check_activation<tn::linear>("linear"); }
TEST_CASE("activation: relu", "[activation][golden]") { check_activation<tn::relu>("relu"); }
TEST_CASE("activation: leaky_relu (0.01)", "[activation][golden]") { check_activation<tn::leaky_relu>("leaky_relu"); }
TEST_CASE("activation: leaky_relu_with<3, 10>", "[activation][golden]") {
    check_activation<tn::leaky_relu_with<3, 10>>("leaky_relu_3_10");
}
TEST_CASE("activation: elu", "[activation][golden]") { check_activation<tn::elu>("elu"); }
TEST_CASE("activation: sigmoid", "[activation][golden]") { check_activation<tn::sigmoid>("sigmoid"); }
TEST_CASE("activation: tanh", "[activation][golden]") { check_activation<tn::tanh>("tanh"); }
TEST_CASE("activation: gelu (erf)", "[activation][golden]") { check_activation<tn::gelu>("gelu"); }
TEST_CASE("activation: gelu_tanh", "[activation][golden]") { check_activation<tn::gelu_tanh>("gelu_tanh"); }
TEST_CASE("activation: silu / swish", "[activation][golden]") { check_activation<tn::silu>("silu"); }
TEST_CASE("activation: hard_sigmoid", "[activation][golden]") { check_activation<tn::hard_sigmoid>("hard_sigmoid"); }
TEST_CASE("activation: hard_swish", "[activation][golden]") { check_activation<tn::hard_swish>("hard_swish"); }
TEST_CASE("activation: relu6", "[activation][golden]") { check_activation<tn::relu6>("relu6"); }
TEST_CASE("activation: hardtanh", "[activation][golden]") { check_activation<tn::hardtanh>("hardtanh"); }
TEST_CASE("activation: hardtanh_with<-1, 3, 2>", "[activation][golden]") {
    check_activation<tn::hardtanh_with<-1, 3, 2>>("hardtanh_m0.5_1.5");
}
TEST_CASE("activation: the clamps' names and bounds", "[activation]") {
    STATIC_REQUIRE(tn::hardtanh_with<-1, 3, 2>::lo == -0.5f && tn::hardtanh_with<-1, 3, 2>::hi == 1.5f);
    REQUIRE(tn::relu6::name() == "relu6");
    REQUIRE(tn::hardtanh_with<0, 12, 2>::name() == "relu6");
    REQUIRE(tn::hardtanh_with<-1, 3, 2>::name() == "hardtanh(-0.5, 1.5)");
}
TEST_CASE("activation: softmax", "[activation][golden]") { check_activation<tn::softmax>("softmax"); }
TEST_CASE("activation: log_softmax", "[activation][golden]") { check_activation<tn::log_softmax>("log_softmax"); }

TEST_CASE("softmax and log_softmax are numerically stable", "[activation]") {
    float x[5] = {1000.f, 999.f, -1000.f, 0.f, 1000.f};
    tn::softmax::apply_row(x, 5);
    CHECK(x[0] == Approx(0.4223188f));
    CHECK(x[2] == 0.f);
    float y[5] = {1000.f, 999.f, -1000.f, 0.f, 1000.f};
    tn::log_softmax::apply_row(y, 5);
    CHECK(y[0] == Approx(-0.8619948f));
    CHECK(std::isfinite(y[2]));
    CHECK(y[2] == Approx(-2000.8619948f));
}

TEST_CASE("silu and its exp: within 3 and 2 ulp, and PyTorch's limits", "[activation]") {
    namespace k = tn::kernels;
    auto ulps = [](double got, double exact) { return std::abs(got - exact) / (std::abs(exact) * 0x1p-23); };
    double worst_exp = 0, worst_silu = 0;
    alignas(64) float in[k::lanes], e[k::lanes], s[k::lanes];
    for (float x0 = -87.f; x0 < 88.5f; x0 += k::lanes * 0.000731f) {
        for (std::size_t j = 0; j < k::lanes; ++j) in[j] = x0 + float(j) * 0.000731f;
        k::detail::exp_v(k::load(in)).store_aligned(e);
        tn::silu::apply(k::load(in)).store_aligned(s);
        for (std::size_t j = 0; j < k::lanes; ++j) {
            const double x = in[j], ex = std::exp(x), sx = x / (1 + std::exp(-x));
            worst_exp = std::max(worst_exp, ulps(e[j], ex));
            if (sx != 0 && std::abs(sx) > 1e-37) worst_silu = std::max(worst_silu, ulps(s[j], sx));
        }
    }
    INFO("worst: exp " << worst_exp << " ulp, silu " << worst_silu << " ulp");
    // SiLU's e^-x, taken without negating x, is exp_within(-x) bit for bit (every rounding in
    // it is symmetric), over the whole range it is written for.
    std::size_t differ = 0;
    for (float x0 = -104.f; x0 < 104.f; x0 += k::lanes * 0.00173f) {
        alignas(64) float a[k::lanes], b[k::lanes];
        for (std::size_t j = 0; j < k::lanes; ++j) in[j] = x0 + float(j) * 0.00173f;
        k::detail::exp_neg_within(k::load(in)).store_aligned(a);
        k::detail::exp_within(-k::load(in)).store_aligned(b);
        differ += std::size_t(std::memcmp(a, b, sizeof a) != 0);
    }
    CHECK(differ == 0);
    CHECK(worst_exp <= 2.0);
    CHECK(worst_silu <= 3.0);
    // Overflow, underflow and the limits: e^89 is infinite; silu(x) is x far above zero, -0
    // far below (as PyTorch's x / (1 + e^-x)), NaN at -inf and for NaN.
    auto one = [](auto f, float x) {
        alignas(64) float out[k::lanes];
        f(k::vfloat(x)).store_aligned(out);
        return out[0];
    };
    const auto exp_v = [](k::vfloat x) { return k::detail::exp_v(x); };
    const auto silu = [](k::vfloat x) { return tn::silu::apply(x); };
    const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
    CHECK(one(exp_v, 89.f) == inf);
    CHECK(one(exp_v, inf) == inf);
    CHECK(one(exp_v, -inf) >= 0.f);
    CHECK(one(exp_v, -inf) < 1e-37f);
    CHECK(std::isnan(one(exp_v, nan)));
    CHECK(one(silu, 1e30f) == 1e30f);
    CHECK(one(silu, inf) == inf);
    CHECK(one(silu, -200.f) == 0.f);
    CHECK(std::signbit(one(silu, -200.f)));
    CHECK(std::isnan(one(silu, -inf)));
    CHECK(std::isnan(one(silu, nan)));
    CHECK(one(silu, 0.f) == 0.f);
}

TEST_CASE("scalar and SIMD forms of each activation agree", "[activation]") {
    auto same = []<class A>(A) {
        for (float v = -12.f; v <= 12.f; v += 0.37f) {
            alignas(64) float out[tn::kernels::lanes];
            A::apply(tn::kernels::vfloat(v)).store_aligned(out);
            INFO(A::name() << " at " << v);
            CHECK(out[0] == Approx(A::apply(v)).margin(1e-6));
        }
    };
    same(tn::relu{}), same(tn::leaky_relu{}), same(tn::elu{}), same(tn::sigmoid{}), same(tn::tanh{});
    same(tn::gelu{}), same(tn::gelu_tanh{}), same(tn::silu{}), same(tn::hard_sigmoid{});
    same(tn::hard_swish{}), same(tn::relu6{}), same(tn::hardtanh{}), same(tn::hardtanh_with<-1, 3, 2>{});
}

#include "../golden.hpp"
#include <cmath>
#include <cstring>

namespace tn = typenet;

using Mlp = tn::Sequential<tn::Input<784>, tn::Dense<128, tn::relu>, tn::Dense<64, tn::relu>, tn::Dense<10, tn::softmax>>;
using Odd = tn::Sequential<tn::Input<37>, tn::Dense<53, tn::tanh>, tn::Dense<29, tn::gelu>, tn::Dense<11, tn::log_softmax>>;
using NoBias = tn::Sequential<tn::Input<37>, tn::Dense<19, tn::relu, tn::no_bias>>;

TEST_CASE("Dense: shape rule, parameters and FLOPs are constexpr", "[dense]") {
    STATIC_REQUIRE(Mlp::output_shape == tn::shape<10>);
    STATIC_REQUIRE(Mlp::param_count == 109'386);
    STATIC_REQUIRE(Mlp::weight_bytes == 109'386 * 4);
    STATIC_REQUIRE(Mlp::flops == 2 * (784 * 128 + 128 * 64 + 64 * 10));
    STATIC_REQUIRE(NoBias::param_count == 37 * 19);
    STATIC_REQUIRE(tn::Dense<8>::accepts<tn::Shape<5>>);
    STATIC_REQUIRE(tn::Dense<8>::accepts<tn::Shape<5, 2>>);  // a sequence: each step
    STATIC_REQUIRE(std::is_same_v<tn::Dense<8>::output_shape_for<tn::Shape<5, 2>>, tn::Shape<5, 8>>);
    STATIC_REQUIRE(!tn::Dense<8>::accepts<tn::Shape<5, 2, 3>>);
    STATIC_REQUIRE(tn::Dense<8>::params_for<tn::Shape<5>>[0].dims[1] == 5);
    CHECK(tn::layer_name<tn::Dense<10, tn::softmax>>() == "Dense<10, softmax>");
    CHECK(tn::layer_name<tn::Dense<10, tn::no_bias>>() == "Dense<10, no_bias>");
}

TEST_CASE("Dense matches PyTorch: MLP 784-128-64-10", "[dense][golden]") { golden::check_model<Mlp>("mlp"); }
TEST_CASE("Dense matches PyTorch: odd sizes 37-53-29-11 (every SIMD tail)", "[dense][golden]") {
    golden::check_model<Odd>("odd");
}
TEST_CASE("Dense matches PyTorch: no bias", "[dense][golden]") { golden::check_model<NoBias>("nobias"); }

namespace {
// Every GEMM block height 1..mr and partial panels, beyond the fixtures, the tiles of 7 rows
// (49: kernels::detail::row_step) and the last tiles of 13, 7 + 7 and 8 + 7 rows (13-15, 25-27,
// 37-39: wide_tail_rows): every row of a batch of 2 or more the same bits as in a batch of 12.
// In = gemm_kc + 76 (1100 on AVX-512): two K blocks.
template <std::size_t Out, std::size_t In = tn::kernels::gemm_kc + 76>
void check_dense_against_reference() {
    using Wide = tn::Sequential<tn::Input<In>, tn::Dense<Out, tn::leaky_relu>>;
    auto net = tn::make<Wide>(tn::seed{7});
    const std::vector<float> w = net.get_weights();
    std::vector<float> x(98 * In), y12(12 * Out);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = float((i * 37) % 101) / 50.f - 1.f;
    net.predict(x.data(), y12.data(), 12);
    for (std::size_t rows = 1; rows <= 98; rows += rows < 40 ? 1 : rows < 49 ? 9 : 49) {
        std::vector<float> y(rows * Out), ref(rows * Out);
        net.predict(x.data(), y.data(), rows);
        INFO("Out = " << Out << ", rows = " << rows);
        if (rows >= 2) CHECK(std::memcmp(y.data(), y12.data(), std::min<std::size_t>(rows, 12) * Out * sizeof(float)) == 0);
        for (std::size_t r = 0; r < rows; ++r)
            for (std::size_t o = 0; o < Out; ++o) {
                double s = w[Out * In + o];
                for (std::size_t k = 0; k < In; ++k) s += double(w[o * In + k]) * x[r * In + k];
                ref[r * Out + o] = float(s > 0 ? s : 0.01 * s);
            }
        golden::require_close(y.data(), ref.data(), rows, Out, 2e-5);
    }
}
}  // namespace

TEST_CASE("Dense kernels agree with a scalar reference for every batch height and width", "[dense][kernels]") {
    namespace k = tn::kernels;
    // 32 vector registers (mr 12): 13 x 12 + 1 rows run as 12 x 12 + 7 + 4 + 2, 2 x 12 + 2 as
    // 12 + 7 + 7, 2 x 12 + 3 as 12 + 8 + 7; 14 and 49 stay tiles of 7 (row_step).
    constexpr bool wide = k::mr == 12;
    STATIC_REQUIRE(k::detail::wide_tail_rows(169) == (wide ? 13 : 0));
    STATIC_REQUIRE(k::detail::gemm_tile_count(169) == (wide ? 16 : 29));
    STATIC_REQUIRE(k::detail::wide_tail_rows(26) == (wide ? 14 : 0));
    STATIC_REQUIRE(k::detail::gemm_tile_count(27) == (wide ? 3 : 5));
    STATIC_REQUIRE(k::detail::wide_tail_rows(14) == 0);
    STATIC_REQUIRE(k::detail::wide_tail_rows(49) == 0);
    STATIC_REQUIRE(k::detail::wide_tail_rows(12) == 0);
    check_dense_against_reference<70>();  // a last panel of 6 columns
    // Last panels of 24 and 20 columns: on AVX-512, one whole vector and half a vector or less,
    // the whole tiles paired (kernels::detail::gemm_micro_paired), the rest not: the same bits.
    check_dense_against_reference<88>();
    check_dense_against_reference<52>();
}

TEST_CASE("Dense packing: a layer larger than the caches (streamed, odd sizes) runs as a scalar reference", "[dense][kernels]") {
    // 2911 x 2901 weights: 33.8 MB, past dense_pack's streaming threshold; neither size a
    // multiple of the panel or block widths.
    using Big = tn::Sequential<tn::Input<2901>, tn::Dense<2911>>;
    STATIC_REQUIRE(tn::kernels::DensePacking{2901, 2911}.weight_floats() * sizeof(float) >= (std::size_t{32} << 20));
    auto net = tn::make<Big>(tn::seed{5});
    const std::vector<float>& w = net.get_weights();
    std::vector<float> x(2 * 2901);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = float((i * 29) % 103) / 51.f - 1.f;
    std::vector<float> y(2 * 2911), ref(2 * 2911);
    net.predict(x.data(), y.data(), 2);
    for (std::size_t r = 0; r < 2; ++r)
        for (std::size_t o = 0; o < 2911; ++o) {
            double s = w[2911 * 2901 + o];
            for (std::size_t k = 0; k < 2901; ++k) s += double(w[o * 2901 + k]) * x[r * 2901 + k];
            ref[r * 2911 + o] = float(s);
        }
    golden::require_close(y.data(), ref.data(), 2, 2911, 2e-5);
}

namespace {
// Dense<1> on each step of a 37-step sequence (two blocks of 16 rows and a partial one) against
// a scalar reference, and each step the same bits as that step alone.
template <std::size_t In>
void check_dense1_on_steps() {
    using Seq = tn::Sequential<tn::Input<37, In>, tn::Dense<1, tn::tanh>>;
    using One = tn::Sequential<tn::Input<1, In>, tn::Dense<1, tn::tanh>>;
    auto seq = tn::make<Seq>(tn::seed{In});
    auto one = tn::make<One>(tn::seed{1});
    const std::vector<float> w = seq.get_weights();
    one.set_weights(w);
    std::vector<float> x(37 * In), y(37), y1(1);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = float((i * 41) % 97) / 48.f - 1.f;
    seq.predict(x.data(), y.data(), 1);
    for (std::size_t t = 0; t < 37; ++t) {
        double s = w[In];
        for (std::size_t k = 0; k < In; ++k) s += double(w[k]) * x[t * In + k];
        INFO("In = " << In << ", step " << t);
        CHECK(std::abs(double(y[t]) - std::tanh(s)) <= 1e-5);
        one.predict(&x[t * In], y1.data(), 1);
        CHECK(std::memcmp(&y1[0], &y[t], sizeof(float)) == 0);
    }
}
}  // namespace

TEST_CASE("Dense<1> on a sequence's steps (a recurrent model's last layer) agrees with a scalar reference, each step the same bits alone",
          "[dense][kernels]") {
    check_dense1_on_steps<1>();
    check_dense1_on_steps<3>();
    check_dense1_on_steps<8>();
    check_dense1_on_steps<16>();
    check_dense1_on_steps<32>();
    check_dense1_on_steps<48>();
    check_dense1_on_steps<64>();
    check_dense1_on_steps<70>();
}

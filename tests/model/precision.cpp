// Precision policies on whole models: the int8 and bf16 convolutions compute their documented
// schemes (kernels/conv_int8.hpp, conv_bf16.hpp), the policies leave what they should in fp32, and the Keras CNN and
// ResNet-20 under bf16_weights and int8_weights stay within the bounds docs/precision-and-threads.md
// gives against fp32 (1,000 random inputs; 8 under the sanitizers, whose builds run at -O0).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <random>

#include <typenet/typenet.hpp>

#include "../../examples/resnet20.hpp"
#include "../../examples/tutorial_cnn.hpp"
#include "accuracy.hpp"
#include "int8_reference.hpp"
#include "../sanitized.hpp"

namespace tn = typenet;

namespace {
#ifdef TYPENET_TEST_SANITIZED
constexpr std::size_t samples = 8;  // -O0 with ASan: ~0.7 s a sample for the four models and two precisions
#else
constexpr std::size_t samples = 1000;
#endif

std::vector<float> uniform(std::size_t n, unsigned seed, float lo, float hi) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(lo, hi);
    std::vector<float> v(n);
    for (float& x : v) x = u(rng);
    return v;
}

// Model M (seeded weights) and the same weights under policy P, on `batch` random inputs in
// [0, 1): the largest |difference| of their outputs, and the largest |output| of M.
template <class M, class P>
std::pair<double, double> policy_difference(std::size_t batch) {
    const auto a = tn::make<M>(tn::seed{2});
    auto b = tn::make<M, P>();
    b.set_weights(a.get_weights());
    const auto x = uniform(batch * M::input_shape_type::size, 1, 0.f, 1.f);
    std::vector<float> ya(batch * M::output_shape_type::size), yb(ya.size());
    a.predict(x.data(), ya.data(), batch);
    b.predict(x.data(), yb.data(), batch);
    double scale = 0, diff = 0;
    for (std::size_t i = 0; i < ya.size(); ++i) scale = std::max(scale, double(std::abs(ya[i]))), diff = std::max(diff, double(std::abs(ya[i] - yb[i])));
    return {diff, scale};
}
}  // namespace

namespace {
// A Conv2D<Cout, k x k, stride S, padding P> with int8 weights on H x W x C, three samples,
// against conv_reference: C = 5 gathers byte rows, C % 4 == 0 runs the implicit GEMM.
template <std::size_t H, std::size_t W, std::size_t C, std::size_t K, std::size_t S, std::size_t P, std::size_t Cout>
void check_int8_conv() {
    using L = tn::Sequential<tn::Input<H, W, C>, tn::Conv2D<Cout, tn::kernel<K, K>, tn::stride<S>, tn::padding<P>, tn::int8_weights>>;
    auto net = tn::make<L>(tn::seed{5});
    std::vector<float> w = net.get_weights();
    const auto bias = uniform(Cout, 3, -1.f, 1.f);
    std::copy(bias.begin(), bias.end(), w.begin() + Cout * C * K * K);
    net.set_weights(w);
    constexpr std::size_t n = 3, in = H * W * C, oh = (H + 2 * P - K) / S + 1, ow = (W + 2 * P - K) / S + 1, out = oh * ow * Cout;
    STATIC_REQUIRE(L::output_shape_type::size == out);
    const auto x = uniform(n * in, 8, -2.f, 2.f);
    std::vector<float> y(n * out);
    net.predict(x.data(), y.data(), n);
    for (std::size_t s = 0; s < n; ++s)
        for (std::size_t oy = 0; oy < oh; ++oy)
            for (std::size_t ox = 0; ox < ow; ++ox)
                for (std::size_t o = 0; o < Cout; ++o) {
                    const float expected = int8_test::conv_reference(w.data() + o * C * K * K, x.data() + s * in, H, W, C, K, S, P, oy, ox, bias[o]);
                    INFO(H << "x" << W << "x" << C << ", sample " << s << ", pixel " << oy << "," << ox << ", channel " << o);
                    REQUIRE(std::abs(y[s * out + (oy * ow + ox) * Cout + o] - expected) <= 2.5e-7f * (std::abs(expected) + std::abs(bias[o])));
                }
}
}  // namespace

TEST_CASE("Conv2D with int8 weights computes the documented scheme", "[precision][int8][conv]") {
    check_int8_conv<9, 7, 5, 3, 2, 1, 37>();    // gathered byte rows
    check_int8_conv<11, 10, 3, 3, 1, 1, 16>();  // 3 channels padded to a quad: the implicit loop (an image's first layer)
    check_int8_conv<12, 9, 7, 5, 2, 2, 40>();   // 7 padded to 8, a 5x5 window at stride 2
    check_int8_conv<9, 7, 8, 3, 2, 1, 37>();    // implicit: a stride, rows of 4 pixels
    check_int8_conv<6, 29, 20, 3, 1, 1, 70>();  // implicit: 29 = 12 + 12 + 4 + 1, three panels
    check_int8_conv<11, 13, 12, 5, 1, 2, 16>(); // a 5x5 window, one vector of outputs
    check_int8_conv<8, 8, 64, 1, 2, 0, 24>();   // a 1x1 at stride 2 (ResNet's shortcut): the scale of its grid's pixels
    check_int8_conv<9, 7, 5, 1, 3, 0, 10>();    // the same over gathered rows (stride 3: a grid of 3 x 3)
    check_int8_conv<9, 7, 6, 1, 3, 0, 10>();    // and over 6 channels padded to 8
    check_int8_conv<9, 9, 16, 1, 2, 0, 12>();   // and in the lanes loop's layers
    check_int8_conv<7, 9, 24, 1, 1, 0, 40>();   // a 1x1 at stride 1: each row of the map its own scale
    check_int8_conv<3, 5, 6, 1, 1, 0, 17>();    // the same, channels not whole quads
    check_int8_conv<10, 14, 32, 3, 1, 1, 13>(); // lanes (AVX-512): 13 outputs, two 16-channel chunks
}

TEST_CASE("int8 Conv2D: the implicit loops give the gathered rows' outputs bitwise", "[precision][int8][conv]") {
    // The same bytes and exact integer sums, read in place (a quad per broadcast, or 16
    // channels in every 128-bit lane) or from gathered rows: with dilation, asymmetric padding,
    // a residual and its ReLU, and outputs in a wider tensor (ldo); inputs of both signs and of
    // none negative (a ReLU's). On AVX512-VNNI the implicit loop of a layer of at most 16
    // outputs is the broadcast loop (conv_int8_broadcasts: q_x the signed operand, a window sum
    // per pixel); channels that are not whole quads are padded to them (C = 3, 6, 7).
    namespace k = tn::kernels;
    using Path = k::Int8ConvPath;
    auto run_on = [](const k::ConvGeometry& g, bool relu, bool residual, float lo) {
        INFO(g.h << "x" << g.w << "x" << g.c << " k" << g.kh << "x" << g.kw << " s" << g.sh << " d" << g.dh << " -> " << g.cout
                 << ", inputs from " << lo);
        const auto w = uniform(g.cout * g.k(), 21, -1.f, 1.f), b = uniform(g.cout, 22, -0.5f, 0.5f);
        const std::size_t batch = 2, ldo = g.cout + 5, outs = batch * g.oh * g.ow * ldo;
        const auto x = uniform(batch * g.h * g.w * g.c, 23, lo, 3.f), add = uniform(outs, 24, -1.f, 1.f);
        using Aligned = std::vector<float, xsimd::aligned_allocator<float>>;  // the kernels load the weights aligned
        auto conv = [&]<Path P>(std::integral_constant<Path, P>) {
            Aligned packed(k::conv_int8_packing(g).floats()), scratch(P == Path::gathered ? k::conv_int8_gathered_scratch(g) : k::conv_int8_implicit_scratch(g));
            k::conv_pack_int8(g, w.data(), b.data(), packed.data(), P);
            std::vector<float> y(outs, 7.f);
            const float* r = residual ? add.data() : nullptr;
            if (relu) k::conv2d_int8<tn::relu, P>(g, packed.data(), x.data(), y.data(), batch, scratch.data(), r, ldo);
            else k::conv2d_int8<tn::linear, P>(g, packed.data(), x.data(), y.data(), batch, scratch.data(), r, ldo);
            CHECK(y[g.cout] == 7.f);  // past the channels: untouched
            return y;
        };
        const auto gathered = conv(std::integral_constant<Path, Path::gathered>{});
        REQUIRE(std::memcmp(conv(std::integral_constant<Path, Path::implicit>{}).data(), gathered.data(), outs * sizeof(float)) == 0);
        if (k::is_avx512 && g.c % 16 == 0 && g.cout <= 16)
            REQUIRE(std::memcmp(conv(std::integral_constant<Path, Path::lanes>{}).data(), gathered.data(), outs * sizeof(float)) == 0);
    };
    auto run = [&](const k::ConvGeometry& g, bool relu, bool residual) {
        run_on(g, relu, residual, -3.f);
        run_on(g, relu, residual, 0.f);
    };
    STATIC_REQUIRE(k::conv_int8_broadcasts(k::ConvGeometry{16, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 16, 16, 16, 1}) == k::has_int8_dot);
    STATIC_REQUIRE(k::conv_int8_broadcasts(k::ConvGeometry{32, 32, 3, 3, 3, 1, 1, 1, 1, 1, 1, 32, 32, 16, 1}) == k::has_int8_dot);
    STATIC_REQUIRE(!k::conv_int8_broadcasts(k::ConvGeometry{16, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 16, 16, 17, 1}));
    //                  h   w   c  kh kw sh sw dh dw pt pl oh  ow cout groups
    run(k::ConvGeometry{16, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 16, 16, 16, 1}, true, true);  // lanes: 16 = 6 + 6 + 4
    run(k::ConvGeometry{15, 31, 32, 3, 3, 2, 2, 1, 1, 1, 1, 8, 16, 40, 1}, true, false);
    run(k::ConvGeometry{12, 13, 32, 3, 3, 1, 1, 2, 2, 2, 2, 12, 13, 11, 1}, false, true);  // lanes: 13 = 6 + 6 + 1, 11 outputs
    run(k::ConvGeometry{12, 14, 8, 3, 3, 1, 1, 2, 2, 2, 2, 12, 14, 33, 1}, false, true);
    run(k::ConvGeometry{9, 10, 4, 2, 3, 1, 1, 1, 1, 1, 0, 9, 8, 7, 1}, false, false);
    run(k::ConvGeometry{7, 7, 64, 1, 1, 2, 2, 1, 1, 0, 0, 4, 4, 65, 1}, true, true);
    run(k::ConvGeometry{9, 11, 48, 3, 3, 2, 1, 1, 1, 1, 1, 5, 11, 16, 1}, true, true);  // lanes: three 16-channel chunks, 11 = 6 + 4 + 1
    run(k::ConvGeometry{35, 35, 16, 3, 3, 2, 2, 1, 1, 1, 1, 18, 18, 16, 1}, true, true);  // lanes at stride 2; broadcast: 18 = 16 + 2
    run(k::ConvGeometry{6, 31, 16, 3, 3, 1, 1, 1, 1, 1, 1, 6, 31, 9, 1}, false, false);   // broadcast: 31 = 16 + 8 + 4 + 2 + 1
    run(k::ConvGeometry{9, 35, 32, 1, 1, 2, 2, 1, 1, 0, 0, 5, 18, 12, 1}, true, true);    // a 1x1 at stride 2: its grid alone
    run(k::ConvGeometry{11, 9, 12, 3, 3, 1, 1, 1, 1, 1, 1, 11, 9, 5, 1}, true, false);    // broadcast: 3 words a pixel (not a 16-byte chunk)
    run(k::ConvGeometry{13, 15, 3, 3, 3, 1, 1, 1, 1, 1, 1, 13, 15, 16, 1}, true, true);   // 3 channels padded to a quad
    run(k::ConvGeometry{14, 13, 6, 3, 3, 2, 2, 2, 2, 2, 1, 7, 6, 35, 1}, false, true);    // 6 padded to 8: stride, dilation, two panels
    run(k::ConvGeometry{10, 12, 7, 1, 1, 2, 2, 1, 1, 0, 0, 5, 6, 20, 1}, true, false);    // 7 padded to 8 on a strided 1x1's grid
}

TEST_CASE("int8 1x1: each row of the map its own scale, the same bits whole, by rows and by shares", "[precision][int8][conv]") {
    // The map's rows quantized into scratch and one GEMM over their pixels, or each row
    // quantized on the stack (no scratch: a band step's rows, a thread's share): a pixel's
    // outputs depend on its row alone.
    namespace k = tn::kernels;
    using Path = k::Int8ConvPath;
    auto run = [](k::ConvGeometry g, bool residual) {
        INFO(g.h << "x" << g.w << "x" << g.c << " -> " << g.oh << "x" << g.ow << "x" << g.cout);
        STATIC_REQUIRE(k::conv_int8_path(k::ConvGeometry{4, 4, 8, 1, 1, 1, 1, 1, 1, 0, 0, 4, 4, 8, 1}) == Path::pixels);
        REQUIRE(k::conv_int8_path(g) == Path::pixels);
        const auto w = uniform(g.cout * g.c, 31, -1.f, 1.f), b = uniform(g.cout, 32, -0.5f, 0.5f);
        const std::size_t batch = 2, ldo = g.cout + 3, outs = batch * g.oh * g.ow * ldo;
        const auto x = uniform(batch * g.h * g.w * g.c, 33, -3.f, 3.f), add = uniform(outs, 34, -1.f, 1.f);
        using Aligned = std::vector<float, xsimd::aligned_allocator<float>>;
        Aligned packed(k::conv_int8_packing(g).floats()), scratch(k::conv_int8_scratch(g));
        k::conv_pack_int8(g, w.data(), b.data(), packed.data());
        const float* r = residual ? add.data() : nullptr;
        auto conv = [&](float* s, std::size_t shares, const float* in = nullptr, const float* gate = nullptr) {
            std::vector<float> y(outs, 7.f);
            for (std::size_t t = 0; t < shares; ++t)
                k::conv2d_int8<tn::relu, Path::pixels>(g, packed.data(), in ? in : x.data(), y.data(), batch, s, r, ldo, k::Share{t, shares}, gate);
            CHECK(y[g.cout] == 7.f);  // past the channels: untouched
            return y;
        };
        const auto whole = conv(scratch.data(), 1);
        REQUIRE(std::memcmp(conv(nullptr, 1).data(), whole.data(), outs * sizeof(float)) == 0);
        REQUIRE(std::memcmp(conv(nullptr, 2).data(), whole.data(), outs * sizeof(float)) == 0);
        REQUIRE(std::memcmp(conv(nullptr, 5).data(), whole.data(), outs * sizeof(float)) == 0);
        // A gate per channel taken in as the rows are quantized: the bits of the map times it.
        auto gate = uniform(g.c, 35, 0.f, 1.f);
        gate[0] = 0.f;
        std::vector<float> gated(x.size());
        for (std::size_t i = 0; i < x.size(); ++i) gated[i] = x[i] * gate[i % g.c];
        const auto times = conv(scratch.data(), 1, gated.data());
        REQUIRE(std::memcmp(conv(scratch.data(), 1, nullptr, gate.data()).data(), times.data(), outs * sizeof(float)) == 0);
        REQUIRE(std::memcmp(conv(nullptr, 3, nullptr, gate.data()).data(), times.data(), outs * sizeof(float)) == 0);
        // Against the reference, sample 1, with ReLU and the residual.
        for (std::size_t oy = 0; oy < g.oh; ++oy)
            for (std::size_t ox = 0; ox < g.ow; ++ox)
                for (std::size_t o = 0; o < g.cout; ++o) {
                    const std::size_t at = ((g.oh + oy) * g.ow + ox) * ldo + o;
                    float expected = int8_test::conv_reference(w.data() + o * g.c, x.data() + g.h * g.w * g.c, g.h, g.w, g.c, 1, 1, 0, oy, ox, b[o]);
                    if (residual) expected += add[at];
                    INFO("pixel " << oy << "," << ox << ", channel " << o);
                    REQUIRE(std::abs(whole[at] - std::max(expected, 0.f)) <= 1e-6f * (std::abs(expected) + 1.f));
                }
    };
    //                  h   w    c    kh kw sh sw dh dw pt pl oh  ow cout groups
    run(k::ConvGeometry{5, 7, 24, 1, 1, 1, 1, 1, 1, 0, 0, 5, 7, 40, 1}, true);     // 35 pixels: 12 + 12 + 11 whole, 7 a row
    run(k::ConvGeometry{3, 4, 1300, 1, 1, 1, 1, 1, 1, 0, 0, 3, 4, 20, 1}, false);  // 1300 channels: a row's 1300 quads on the stack
    run(k::ConvGeometry{6, 9, 12, 1, 1, 1, 1, 1, 1, 0, 0, 4, 5, 16, 1}, true);     // cropped: 4 rows of 5 of the map's 6 x 9
    run(k::ConvGeometry{4, 6, 7, 1, 1, 1, 1, 1, 1, 0, 0, 4, 6, 9, 1}, false);      // 7 channels: each pixel's bytes padded to 2 quads
}

TEST_CASE("the bf16 policy: which convolutions run bf16", "[precision][bf16][policy]") {
    // An image's first layer (3 channels), grouped and depthwise convolutions, and 3x3 ones
    // from 32 channels on (Winograd, fp32) keep fp32; a layer that names its precision keeps it.
    using Mixed = tn::Sequential<tn::Input<16, 16, 3>, tn::Conv2D<16, tn::kernel<3, 3>, tn::padding<1>>,  // 3 channels: fp32
                                 tn::Conv2D<32, tn::kernel<3, 3>, tn::padding<1>>,                       // 16: bf16
                                 tn::Conv2D<32, tn::kernel<3, 3>, tn::padding<1>>,                       // 32: Winograd
                                 tn::Conv2D<32, tn::kernel<3, 3>, tn::stride<2>, tn::padding<1>>,        // strided: bf16
                                 tn::DepthwiseConv2D<tn::kernel<3, 3>>, tn::Conv2D<8, tn::kernel<3, 3>, tn::groups<2>>,
                                 tn::Conv2D<8, tn::kernel<1, 1>, tn::fp32_weights>, tn::Conv2D<6, tn::kernel<1, 1>>, tn::Flatten,
                                 tn::Dense<10>>;
    using Mixed16 = tn::with_policy<Mixed, tn::bf16_weights>;
    STATIC_REQUIRE(std::is_same_v<Mixed16, tn::Sequential<tn::Input<16, 16, 3>, tn::Conv2D<16, tn::kernel<3, 3>, tn::padding<1>, tn::bf16_policy>,
                                                          tn::Conv2D<32, tn::kernel<3, 3>, tn::padding<1>, tn::bf16_policy>,
                                                          tn::Conv2D<32, tn::kernel<3, 3>, tn::padding<1>, tn::bf16_policy>,
                                                          tn::Conv2D<32, tn::kernel<3, 3>, tn::stride<2>, tn::padding<1>, tn::bf16_policy>,
                                                          tn::DepthwiseConv2D<tn::kernel<3, 3>>, tn::Conv2D<8, tn::kernel<3, 3>, tn::groups<2>>,
                                                          tn::Conv2D<8, tn::kernel<1, 1>, tn::fp32_weights>,
                                                          tn::Conv2D<6, tn::kernel<1, 1>, tn::bf16_policy>, tn::Flatten,
                                                          tn::Dense<10, tn::bf16_weights>>>);
    using C16 = tn::Conv2D<32, tn::kernel<3, 3>, tn::padding<1>, tn::bf16_policy>;
    STATIC_REQUIRE(!C16::runs_bf16<tn::Shape<16, 16, 3>>);
    STATIC_REQUIRE(C16::runs_bf16<tn::Shape<16, 16, 16>>);
    STATIC_REQUIRE(!C16::runs_bf16<tn::Shape<16, 16, 32>>);
    STATIC_REQUIRE(C16::winograd_tile<tn::Shape<16, 16, 32>> == 4);
    STATIC_REQUIRE(tn::Conv2D<32, tn::kernel<3, 3>, tn::padding<1>, tn::bf16_weights>::runs_bf16<tn::Shape<16, 16, 32>>);  // asked for
    STATIC_REQUIRE(!tn::Conv2D<32, tn::kernel<3, 3>, tn::padding<1>, tn::bf16_weights>::runs_bf16<tn::Shape<16, 16, 3>>);  // odd: fp32
    const std::string s = tn::summary<Mixed16>();
    INFO(s);
    CHECK(s.find("conv (fp32: 3 input channels)+bias") != std::string::npos);
    CHECK(s.find("conv_bf16+bias") != std::string::npos);
    CHECK(s.find("conv_winograd+bias (fp32)") == std::string::npos);
    CHECK(s.find("conv_winograd (fp32)+bias") != std::string::npos);
    CHECK(s.find("depthwise+bias") != std::string::npos);
    CHECK(s.find("dense_bf16+bias") != std::string::npos);
    // The same weights file loads into every precision; bf16 stays within its rounding of fp32.
    const auto [diff, scale] = policy_difference<Mixed, tn::bf16_weights>(2);
    CHECK(diff <= 0.02 * scale);
}

TEST_CASE("the bf16 policy on a squeeze-and-excitation: the gate taken into the bf16 weights", "[precision][bf16][gate]") {
    // EfficientNet's block: the projection after the gate runs in bf16 with the gate in its
    // weights (one step, passes/gates.hpp: where the map has over 4x the weights' floats, on
    // every instruction set here), within bf16's rounding of fp32.
    using Block = tn::Sequential<tn::Input<24, 20, 40>, tn::Conv2D<96, tn::kernel<1, 1>, tn::silu>,
                                 tn::DepthwiseConv2D<tn::kernel<3, 3>, tn::padding_same, tn::silu>, tn::SqueezeExcite<12, tn::silu, tn::sigmoid>,
                                 tn::Conv2D<48, tn::kernel<1, 1>>>;
    using Block16 = tn::with_policy<Block, tn::bf16_weights>;
    STATIC_REQUIRE([] {
        using P = Block16::program;
        std::size_t n = 0;
        for (std::size_t k = 0; k < P::K; ++k) n += P::gates.gate[k] != tn::passes::none;
        return n;
    }() == 1);
    const auto [diff, scale] = policy_difference<Block, tn::bf16_weights>(3);
    INFO("max |difference| " << diff << " of " << scale);
    CHECK(diff <= 0.02 * scale);
    CHECK(diff > 0);  // (bf16 did run)
}

TEST_CASE("the int8 policy on inverted residual blocks: 1x1s in bands, the gate in the inputs, the unfused bits", "[precision][int8][gate]") {
    // An int8 1x1 quantizes each pixel on its own (Int8ConvPath::pixels), so it computes any rows
    // alone: the expansion and projection run in the depthwise layer's bands, and the projection
    // after a squeeze-and-excitation multiplies each pixel by the gate as it quantizes it — the
    // products the gate's own pass would store. Bitwise the same model without bands and gates,
    // at batch 1 and 3, and one sample on two threads.
    using Block = tn::Sequential<tn::Input<48, 40, 40>, tn::Conv2D<96, tn::kernel<1, 1>, tn::silu>,
                                 tn::DepthwiseConv2D<tn::kernel<3, 3>, tn::padding_same, tn::silu>, tn::SqueezeExcite<12, tn::silu, tn::sigmoid>,
                                 tn::Conv2D<48, tn::kernel<1, 1>>>;
    using Inverted = tn::Sequential<tn::Input<56, 56, 24>, tn::Conv2D<144, tn::kernel<1, 1>, tn::relu6>,
                                    tn::DepthwiseConv2D<tn::kernel<3, 3>, tn::padding<1>, tn::relu6>, tn::Conv2D<32, tn::kernel<1, 1>>>;
    using Block8 = tn::with_policy<Block, tn::int8_weights>;
    using Inverted8 = tn::with_policy<Inverted, tn::int8_weights>;
    STATIC_REQUIRE(Block8::program::gates.gate[4] == 3);  // nodes: input 0, expansion 1, depthwise 2, SE 3, projection 4
    STATIC_REQUIRE(Block8::program::facts.gates_inputs[4]);
    STATIC_REQUIRE(Inverted8::program::bands.any());
    STATIC_REQUIRE(Block8::program::bands.any());
    const std::string s = tn::summary<Block8>();
    INFO(s);
    CHECK(s.find("(its inputs times the gate of 2)") != std::string::npos);
    using Plain = tn::fusion_policy<true, true, true, true, true, false, false>;
    auto check = [&]<class M>(std::type_identity<M>) {
        const auto net = tn::make<M, tn::int8_weights>(tn::seed{6});
        using Unbanded = tn::with_policy<tn::with_policy<M, tn::int8_weights>, Plain>;
        STATIC_REQUIRE(!Unbanded::program::bands.any());
        STATIC_REQUIRE(!Unbanded::program::gates.any());
        auto plain = tn::make<Unbanded>();
        plain.set_weights(net.get_weights());
        for (std::size_t rows : {1, 3}) {
            const auto x = uniform(rows * M::input_shape_type::size, 7, -1.f, 1.f);
            std::vector<float> a(rows * M::output_shape_type::size), b(a.size());
            net.predict(x.data(), a.data(), rows);
            plain.predict(x.data(), b.data(), rows);
            CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
        }
        const auto x = uniform(M::input_shape_type::size, 8, -1.f, 1.f);
        std::vector<float> a(M::output_shape_type::size), b(a.size());
        net.forward(x.data(), a.data());
        tn::ThreadPool pool(2);
        net.forward(x.data(), b.data(), pool);
        CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
    };
    check(std::type_identity<Block>{});
    check(std::type_identity<Inverted>{});
    // Within int8's rounding of fp32.
    const auto [diff, scale] = policy_difference<Inverted, tn::int8_weights>(2);
    CHECK(diff <= 0.03 * scale);
}

TEST_CASE("the int8 policy: which layers run int8", "[precision][int8][policy]") {
    using Cnn8 = tn::with_policy<example::TutorialCnn, tn::int8_weights>;
    const std::string s = tn::summary<Cnn8>();
    CHECK(s.find("conv (fp32: 1 input channels)+bias+relu") != std::string::npos);  // the first layer
    CHECK(s.find("conv_int8+bias+relu") != std::string::npos);
    CHECK(s.find("dense_int8+bias+relu") != std::string::npos);
    using Mixed = tn::Sequential<tn::Input<16, 16, 8>, tn::DepthwiseConv2D<tn::kernel<3, 3>>, tn::Conv2D<8, tn::kernel<3, 3>, tn::groups<2>>,
                                 tn::Conv2D<8, tn::kernel<1, 1>, tn::fp32_weights>, tn::Conv2D<4, tn::kernel<1, 1>>>;
    using Mixed8 = tn::with_policy<Mixed, tn::int8_weights>;
    const std::string m = tn::summary<Mixed8>();
    CHECK(m.find("depthwise+bias") != std::string::npos);  // depthwise and grouped stay fp32
    CHECK(m.find("conv_int8") != std::string::npos);
    STATIC_REQUIRE(std::is_same_v<Mixed8, tn::Sequential<tn::Input<16, 16, 8>, tn::DepthwiseConv2D<tn::kernel<3, 3>>,
                                                         tn::Conv2D<8, tn::kernel<3, 3>, tn::groups<2>>,
                                                         tn::Conv2D<8, tn::kernel<1, 1>, tn::fp32_weights>,
                                                         tn::Conv2D<4, tn::kernel<1, 1>, tn::int8_policy>>>);
    // The same weights file loads into every precision.
    const auto [diff, scale] = policy_difference<Mixed, tn::int8_weights>(2);
    CHECK(diff <= 0.03 * scale);
}

TEST_CASE("reduced precision against fp32: the Keras CNN and ResNet-20", "[precision][accuracy]") {
    auto check = [&]<class M, class P>(std::type_identity<M>, std::type_identity<P>, double max_abs, double max_rel, double agree) {
        const auto fp32 = tn::make<M>(tn::seed{2026});
        auto reduced = tn::make<M, P>();
        reduced.set_weights(fp32.get_weights());
        const auto r = accuracy::compare(fp32, reduced, samples);
        INFO(tn::layer_name<M>() << ": max abs " << r.max_abs << ", max rel " << r.max_rel << ", top-1 " << r.agree << " / " << r.n);
        CHECK(r.max_abs <= max_abs);
        CHECK(r.max_rel <= max_rel);
        CHECK(double(r.agree) >= agree * double(r.n) - 2);  // two near-ties may fall either way in a small sample
    };
    check(std::type_identity<example::TutorialCnn>{}, std::type_identity<tn::bf16_weights>{}, 2e-3, 1e-2, 0.995);
    check(std::type_identity<example::TutorialCnn>{}, std::type_identity<tn::int8_weights>{}, 5e-3, 3e-2, 0.99);
    check(std::type_identity<resnet::ResNet20>{}, std::type_identity<tn::bf16_weights>{}, 1e-2, 3e-2, 0.99);
    check(std::type_identity<resnet::ResNet20>{}, std::type_identity<tn::int8_weights>{}, 2e-2, 6e-2, 0.98);
}

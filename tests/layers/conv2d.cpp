#include "../golden.hpp"

namespace tn = typenet;

// Flatten after convolutions: the fixture's Dense weights were permuted from PyTorch's
// (c, h, w) flatten order to typenet's (h, w, c), so PyTorch's numbers come out.
using ConvBasic = tn::Sequential<tn::Input<23, 19, 3>, tn::Conv2D<7, tn::kernel<3, 3>, tn::relu>,
                                 tn::Conv2D<13, tn::kernel<3>, tn::stride<2>, tn::padding<1>>, tn::Flatten, tn::Dense<5>>;
using ConvSame = tn::Sequential<tn::Input<23, 19, 3>, tn::Conv2D<8, tn::kernel<5, 3>, tn::padding_same, tn::tanh>,
                                tn::Conv2D<6, tn::kernel<3>, tn::stride<2>, tn::padding_same>, tn::Conv2D<16, tn::kernel<1>, tn::relu>>;
using ConvDilation = tn::Sequential<tn::Input<23, 19, 3>, tn::Conv2D<5, tn::kernel<3>, tn::dilation<2>, tn::padding<2>, tn::elu>,
                                    tn::Conv2D<4, tn::kernel<3, 2>, tn::stride<2, 1>, tn::no_bias>>;
using ConvGroups = tn::Sequential<tn::Input<12, 10, 6>, tn::Conv2D<9, tn::kernel<3>, tn::groups<3>, tn::relu>,
                                  tn::DepthwiseConv2D<tn::kernel<3>, tn::padding<1>, tn::sigmoid>,
                                  tn::DepthwiseConv2D<tn::kernel<3>, tn::stride<2>, tn::depth_multiplier<2>>>;
using Cnn28 = tn::Sequential<tn::Input<28, 28, 1>, tn::Conv2D<32, tn::kernel<3, 3>, tn::relu>, tn::MaxPool2D<2>,
                             tn::Conv2D<64, tn::kernel<3, 3>, tn::relu>, tn::MaxPool2D<2>, tn::Flatten, tn::Dense<128, tn::relu>,
                             tn::Dense<10, tn::softmax>>;

TEST_CASE("Conv2D: shape rules, parameters and FLOPs are constexpr", "[conv]") {
    STATIC_REQUIRE(ConvBasic::output_shape == tn::shape<5>);
    STATIC_REQUIRE(std::is_same_v<ConvBasic::program::shape<2>, tn::Shape<11, 9, 13>>);
    // Keras 'same': ceil(23 / 2) x ceil(19 / 2)
    STATIC_REQUIRE(std::is_same_v<ConvSame::program::shape<2>, tn::Shape<12, 10, 6>>);
    STATIC_REQUIRE(std::is_same_v<ConvDilation::program::shape<1>, tn::Shape<23, 19, 5>>);
    STATIC_REQUIRE(std::is_same_v<ConvDilation::program::shape<2>, tn::Shape<11, 18, 4>>);
    STATIC_REQUIRE(ConvGroups::output_shape == tn::shape<4, 3, 18>);
    STATIC_REQUIRE(Cnn28::output_shape == tn::shape<10>);
    STATIC_REQUIRE(Cnn28::param_count == 320 + 18'496 + 1600 * 128 + 128 + 1290);
    // The Keras tutorial CNN: 5.26 MFLOP per sample in the convolutions and Dense layers, plus
    // one comparison per pooled input.
    STATIC_REQUIRE(Cnn28::flops == 5'262'080 + 13 * 13 * 32 * 4 + 5 * 5 * 64 * 4);
    STATIC_REQUIRE(tn::Conv2D<8, tn::kernel<3>>::params_for<tn::Shape<5, 5, 3>>[0].dims[1] == 3);
    STATIC_REQUIRE(tn::Conv2D<8, tn::kernel<3>, tn::groups<2>>::accepts<tn::Shape<5, 5, 4>>);
    STATIC_REQUIRE(!tn::Conv2D<8, tn::kernel<3>, tn::groups<3>>::accepts<tn::Shape<5, 5, 4>>);
    STATIC_REQUIRE(!tn::Conv2D<8, tn::kernel<7>>::accepts<tn::Shape<5, 5, 4>>);
    STATIC_REQUIRE(tn::Conv2D<8, tn::kernel<7>, tn::padding<1>>::accepts<tn::Shape<5, 5, 4>>);
    STATIC_REQUIRE(!tn::Conv2D<8, tn::kernel<3>>::accepts<tn::Shape<25>>);
    CHECK(tn::layer_name<tn::Conv2D<64, tn::kernel<3>, tn::relu, tn::padding_same, tn::stride<2>>>() ==
          "Conv2D<64, 3x3, stride<2>, same, relu>");
    CHECK(tn::layer_name<tn::Conv2D<8, tn::kernel<5, 3>, tn::dilation<2>>>() == "Conv2D<8, 5x3, dilation<2>>");
    CHECK(tn::layer_name<tn::MaxPool2D<2>>() == "MaxPool2D<2>");
    CHECK(tn::layer_name<tn::Dense<4, tn::no_bias>>() == "Dense<4, no_bias>");
}

TEST_CASE("Conv2D matches PyTorch: stride, padding, Flatten after convolutions", "[conv][golden]") {
    golden::check_model<ConvBasic>("conv_basic");
}
TEST_CASE("Conv2D matches PyTorch: Keras 'same' at strides 1 and 2, 1x1 fast path", "[conv][golden]") {
    golden::check_model<ConvSame>("conv_same");
}
TEST_CASE("Conv2D matches PyTorch: dilation, asymmetric stride, no bias", "[conv][golden]") {
    golden::check_model<ConvDilation>("conv_dilation");
}
TEST_CASE("Conv2D matches PyTorch: groups, depthwise, depth multiplier", "[conv][golden]") {
    golden::check_model<ConvGroups>("conv_groups");
}
TEST_CASE("the Keras tutorial CNN matches PyTorch", "[conv][golden]") { golden::check_model<Cnn28>("cnn28"); }

using Decoder = tn::Sequential<tn::Input<9, 7, 5>, tn::SeparableConv2D<8, tn::kernel<3>, tn::padding_same, tn::relu>,
                               tn::Conv2DTranspose<4, tn::kernel<3>, tn::stride<2>, tn::padding<1>, tn::output_padding<1>, tn::tanh>,
                               tn::Conv2DTranspose<3, tn::kernel<2>, tn::stride<2>, tn::padding_same>>;

TEST_CASE("SeparableConv2D and Conv2DTranspose: shapes and weight names", "[conv]") {
    STATIC_REQUIRE(std::is_same_v<Decoder::program::shape<3>, tn::Shape<18, 14, 4>>);  // PyTorch's rule
    STATIC_REQUIRE(Decoder::output_shape == tn::shape<36, 28, 3>);                                  // Keras 'same': x2
    const auto& p = tn::Net<Decoder>::param_infos();
    CHECK(p[0].name == "0.0.weight");
    CHECK(p[0].spec.shape_str() == "[5, 1, 3, 3]");
    CHECK(p[2].name == "0.1.bias");
    CHECK(p[3].spec.shape_str() == "[8, 4, 3, 3]");
}
TEST_CASE("SeparableConv2D and Conv2DTranspose (padding, output_padding, 'same') match PyTorch", "[conv][golden]") {
    golden::check_model<Decoder>("conv_transpose");
}

namespace {
// out[y][x][o] = relu(b[o] + sum w[o][c][ky][kx] in[y s - p + ky][x s - p + kx][c]), in double.
template <std::size_t H, std::size_t W, std::size_t C, std::size_t F, std::size_t S, std::size_t P, class Algorithm = tn::direct>
void check_against_direct_sum() {
    using M = tn::Sequential<tn::Input<H, W, C>, tn::Conv2D<F, tn::kernel<3, 3>, tn::stride<S>, tn::padding<P>, tn::relu, Algorithm>>;
    auto net = tn::make<M>(tn::seed{H * 100 + C});
    const std::vector<float> p = net.get_weights();
    constexpr std::size_t OH = (H + 2 * P - 3) / S + 1, OW = (W + 2 * P - 3) / S + 1;
    std::vector<float> x(2 * H * W * C), y(2 * OH * OW * F);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(int(i * 7919 % 23) - 11) / 8.f;
    net.predict(x.data(), y.data(), 2);
    double worst = 0;
    for (std::size_t n = 0; n < 2; ++n)
        for (std::size_t oy = 0; oy < OH; ++oy)
            for (std::size_t ox = 0; ox < OW; ++ox)
                for (std::size_t o = 0; o < F; ++o) {
                    double s = p[F * C * 9 + o];
                    for (std::size_t c = 0; c < C; ++c)
                        for (std::size_t ky = 0; ky < 3; ++ky)
                            for (std::size_t kx = 0; kx < 3; ++kx) {
                                const std::ptrdiff_t iy = std::ptrdiff_t(oy * S + ky) - std::ptrdiff_t(P);
                                const std::ptrdiff_t ix = std::ptrdiff_t(ox * S + kx) - std::ptrdiff_t(P);
                                if (iy < 0 || ix < 0 || iy >= std::ptrdiff_t(H) || ix >= std::ptrdiff_t(W)) continue;
                                s += double(p[((o * C + c) * 3 + ky) * 3 + kx]) * x[((n * H + std::size_t(iy)) * W + std::size_t(ix)) * C + c];
                            }
                    worst = std::max(worst, std::abs(std::max(s, 0.0) - y[((n * OH + oy) * OW + ox) * F + o]));
                }
    INFO(H << "x" << W << "x" << C << " -> " << F << ", stride " << S << ", padding " << P << ", " << tn::summary<M>());
    CHECK(worst < 1e-4);
    // Each sample alone gives the same bits as in the batch (Winograd's blocks of tiles take
    // both samples' tiles where they fit).
    std::vector<float> one(OH * OW * F);
    for (std::size_t n = 0; n < 2; ++n) {
        net.predict(x.data() + n * H * W * C, one.data(), 1);
        CHECK(std::equal(one.begin(), one.end(), y.begin() + std::ptrdiff_t(n * one.size())));
    }
}
}  // namespace

// Every way the implicit GEMM tiles an output row: widths that are multiples of 14 (tiles of
// 14 with AVX-512 under g++), of 12 and with a short last tile, narrower than a tile (tiles
// across the ends of rows); one to three input channels (K walked as (tap, channel) steps) and
// more; two panels of output channels and a partial one.
TEST_CASE("Conv2D's implicit GEMM tilings agree with a direct sum", "[conv][tiles]") {
    check_against_direct_sum<28, 28, 16, 40, 1, 1>();
    check_against_direct_sum<14, 14, 32, 64, 1, 1>();
    check_against_direct_sum<28, 28, 3, 32, 2, 1>();  // 14 wide
    check_against_direct_sum<26, 26, 1, 32, 1, 0>();  // 24: two tiles of 12
    check_against_direct_sum<28, 30, 8, 17, 1, 0>();  // 26 x 28
    check_against_direct_sum<9, 9, 5, 24, 1, 1>();    // narrower than a tile
    check_against_direct_sum<30, 30, 4, 8, 1, 0>();   // 28 wide, one vector of channels
    check_against_direct_sum<9, 9, 5, 16, 1, 1>();    // narrower than a tile, one vector
    // Each layer instantiates only its own loop (compile time): chosen from its geometry.
    namespace k = tn::kernels;
    STATIC_REQUIRE(k::conv_path(tn::Conv2D<8, tn::kernel<1>>::geometry<tn::Shape<9, 9, 5>>()) == k::ConvPath::pointwise);
    STATIC_REQUIRE(k::conv_path(tn::Conv2D<8, tn::kernel<3>>::geometry<tn::Shape<28, 28, 3>>()) == k::ConvPath::implicit_rows);
    STATIC_REQUIRE(k::conv_path(tn::Conv2D<8, tn::kernel<3>, tn::padding<1>>::geometry<tn::Shape<9, 9, 5>>()) ==
                   (k::mr > 9 ? k::ConvPath::implicit_gather : k::ConvPath::implicit_rows));
    STATIC_REQUIRE(k::conv_path(tn::Conv2D<8, tn::kernel<3>, tn::groups<2>>::geometry<tn::Shape<28, 28, 4>>()) == k::ConvPath::im2col);
    STATIC_REQUIRE(k::depthwise_path(tn::DepthwiseConv2D<tn::kernel<3>, tn::stride<2>>::geometry<tn::Shape<28, 28, 4>>()) == 2);
    STATIC_REQUIRE(k::depthwise_path(tn::DepthwiseConv2D<tn::kernel<3>, tn::dilation<2>>::geometry<tn::Shape<28, 28, 4>>()) == 3);
    // stride 2 onto rows narrower than its tiles of 8 pixels (AVX-512, 3x3: MobileNetV2's 14 ->
    // 7): tiles of 4; a 5x5 window's tiles are 4 pixels anyway
    STATIC_REQUIRE(k::depthwise_path(tn::DepthwiseConv2D<tn::kernel<3>, tn::stride<2>, tn::padding<1>>::geometry<tn::Shape<14, 14, 4>>()) ==
                   (k::vector_registers >= 32 ? 4 : 2));
    STATIC_REQUIRE(k::depthwise_path(tn::DepthwiseConv2D<tn::kernel<5>, tn::stride<2>, tn::padding<2>>::geometry<tn::Shape<14, 14, 4>>()) == 2);
    STATIC_REQUIRE(k::depthwise_path(tn::DepthwiseConv2D<tn::kernel<3>, tn::stride<2>, tn::padding<1>>::geometry<tn::Shape<16, 16, 4>>()) == 2);
    // and only the micro-kernel widths its panels need: whole panels two vectors, the last one
    // or two; rows of tiles of 14 alone where every row is a multiple of 14 (g++, AVX-512).
    STATIC_REQUIRE(k::panel_widths(k::lanes).one);
    STATIC_REQUIRE(!k::panel_widths(k::lanes).two);
    STATIC_REQUIRE(!k::panel_widths(3 * k::nr).one);
    STATIC_REQUIRE(k::panel_widths(3 * k::nr).two);
    STATIC_REQUIRE(k::panel_widths(k::nr + 1).one);
    STATIC_REQUIRE(k::panel_widths(k::nr + 1).two);
    STATIC_REQUIRE(!k::panel_widths(k::nr + k::lanes + 1).one);
    constexpr auto wide = k::conv_plan(tn::Conv2D<8, tn::kernel<3>>::geometry<tn::Shape<30, 30, 4>>());
    STATIC_REQUIRE(wide.path == k::ConvPath::implicit_rows);
    STATIC_REQUIRE(wide.wide_rows == (k::implicit_wide_tile == 14));
    STATIC_REQUIRE(!k::conv_plan(tn::Conv2D<8, tn::kernel<3>>::geometry<tn::Shape<28, 28, 4>>()).wide_rows);  // 26 wide
}

// Winograd F(4x4, 3x3) against the same double-precision sum: maps that are not whole tiles
// (the last row and column of tiles partly outside), channels that are not whole vectors, two
// panels of output channels and a partial one, an output smaller than one tile, and few input
// channels (asked for explicitly: by default a layer under 16 channels stays direct).
TEST_CASE("Conv2D as Winograd F(4x4, 3x3) agrees with a direct sum", "[conv][winograd]") {
    check_against_direct_sum<13, 11, 19, 37, 1, 1, tn::winograd>();
    check_against_direct_sum<28, 28, 64, 64, 1, 1, tn::winograd>();
    check_against_direct_sum<9, 9, 16, 16, 1, 0, tn::winograd>();   // 7 x 7: tiles of 4 + 3
    check_against_direct_sum<6, 5, 17, 33, 1, 1, tn::winograd>();
    check_against_direct_sum<4, 4, 16, 16, 1, 0, tn::winograd>();   // 2 x 2: one tile, mostly outside
    check_against_direct_sum<10, 10, 3, 8, 1, 1, tn::winograd>();
    check_against_direct_sum<20, 20, 16, 16, 1, 1, tn::winograd_4x4>();  // 25 tiles a sample: a block of one sample each
}
// F(2x2, 3x3), the same cases and one whose tiles all touch the edge.
TEST_CASE("Conv2D as Winograd F(2x2, 3x3) agrees with a direct sum", "[conv][winograd]") {
    check_against_direct_sum<13, 11, 19, 37, 1, 1, tn::winograd_2x2>();
    check_against_direct_sum<28, 28, 64, 64, 1, 1, tn::winograd_2x2>();
    check_against_direct_sum<9, 9, 16, 16, 1, 0, tn::winograd_2x2>();   // 7 x 7: tiles of 2 + 1
    check_against_direct_sum<6, 5, 17, 33, 1, 1, tn::winograd_2x2>();
    check_against_direct_sum<3, 3, 16, 16, 1, 0, tn::winograd_2x2>();   // 1 x 1: one tile, mostly outside
    check_against_direct_sum<10, 10, 3, 8, 1, 1, tn::winograd_2x2>();
    check_against_direct_sum<4, 4, 24, 40, 1, 1, tn::winograd_2x2>();
}

namespace {
// A 1x1 convolution or a Dense (batch > 1: the GEMM) with a ReLU capped in the micro-kernel's
// registers (ReLU6, hardtanh from 0) against the same model unfused, the activation a layer of
// its own applied to the stored outputs: the same bits, and the same NaN. Outputs below 0,
// inside and above the cap; 35 pixels (register blocks of 12, 8, 2 and 1 rows); 40 channels
// (a panel of two vectors, then one of eight columns).
template <class Act>
void check_capped_relu_in_gemm() {
    using Conv = tn::Sequential<tn::Input<7, 5, 19>, tn::Conv2D<40, tn::kernel<1>>, tn::ActivationLayer<Act>>;
    using Fc = tn::Sequential<tn::Input<19>, tn::Dense<40>, tn::ActivationLayer<Act>>;
    STATIC_REQUIRE(tn::kernels::detail::clamps_in_gemm<Act>);
    const auto check = [&]<class M>(std::size_t rows) {
        REQUIRE(tn::summary<M>().find("+bias+" + Act::name()) != std::string::npos);  // fused: the GEMM applies it
        auto fused = tn::make<M>(tn::seed{7});
        auto plain = tn::make<M, tn::no_fusion>();
        std::vector<float> w = fused.get_weights();
        for (float& v : w) v *= 6.f;  // sums well beyond the cap
        fused.set_weights(w);
        plain.set_weights(w);
        std::vector<float> x(rows * M::input_shape_type::size);
        for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(int(i * 7919 % 23) - 11) / 4.f;
        x[3 * 19 + 4] = std::numeric_limits<float>::quiet_NaN();  // pixel (or row) 3: NaN in every channel
        std::vector<float> a(rows * M::output_shape_type::size), b(a.size());
        fused.predict(x.data(), a.data(), rows);
        plain.predict(x.data(), b.data(), rows);
        std::size_t above = 0, below = 0;
        for (std::size_t i = 0; i < a.size(); ++i) {
            INFO("output " << i);
            if (std::isnan(b[i])) REQUIRE(std::isnan(a[i]));
            else REQUIRE(std::bit_cast<std::uint32_t>(a[i]) == std::bit_cast<std::uint32_t>(b[i]));
            above += a[i] == float(Act::hi);
            below += a[i] == 0.f;
        }
        for (std::size_t c = 0; c < 40; ++c) CHECK(std::isnan(a[3 * 40 + c]));
        CHECK(above > a.size() / 10);
        CHECK(below > a.size() / 10);
    };
    check.template operator()<Conv>(2);
    check.template operator()<Fc>(35);
}
}  // namespace

TEST_CASE("ReLU6 and hardtanh from 0 in the GEMM's registers: the bits of the activation applied after", "[conv][epilogue]") {
    check_capped_relu_in_gemm<tn::relu6>();
    check_capped_relu_in_gemm<tn::hardtanh_with<0, 5, 2>>();
    STATIC_REQUIRE(!tn::kernels::detail::clamps_in_gemm<tn::hardtanh>);  // from -1: applied after each tile
    STATIC_REQUIRE(tn::kernels::detail::gemm_ceiling<tn::relu>() == std::numeric_limits<float>::infinity());
}

namespace {
// DepthwiseConv2D (ReLU6, optionally its input added back: a Residual, added in the kernel's
// epilogue) against out[y][x][c] = b[c] + sum w[c][ky][kx] in[y s - p + ky d][x s - p + kx d][c],
// in double, batch 2.
template <std::size_t H, std::size_t W, std::size_t C, std::size_t K, std::size_t S, std::size_t P, std::size_t D = 1,
          bool AddInput = false>
void check_depthwise_against_direct_sum() {
    using Dw = tn::DepthwiseConv2D<tn::kernel<K>, tn::stride<S>, tn::padding<P>, tn::dilation<D>>;
    using M = std::conditional_t<AddInput, tn::Sequential<tn::Input<H, W, C>, tn::Residual<tn::Sequential<Dw>, tn::relu6>>,
                                 tn::Sequential<tn::Input<H, W, C>, Dw, tn::ReLU6>>;
    auto net = tn::make<M>(tn::seed{H * 100 + C + K});
    std::vector<float> p = net.get_weights();
    for (std::size_t i = C * K * K; i < p.size(); ++i) p[i] = float(int(i % 7) - 3) / 4.f;  // a bias that is not zero
    net.set_weights(p);
    constexpr std::size_t OH = (H + 2 * P - D * (K - 1) - 1) / S + 1, OW = (W + 2 * P - D * (K - 1) - 1) / S + 1;
    std::vector<float> x(2 * H * W * C), y(2 * OH * OW * C);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(int(i * 7919 % 23) - 11) / 4.f;
    net.predict(x.data(), y.data(), 2);
    double worst = 0;
    for (std::size_t n = 0; n < 2; ++n)
        for (std::size_t oy = 0; oy < OH; ++oy)
            for (std::size_t ox = 0; ox < OW; ++ox)
                for (std::size_t c = 0; c < C; ++c) {
                    double s = p[C * K * K + c];
                    for (std::size_t ky = 0; ky < K; ++ky)
                        for (std::size_t kx = 0; kx < K; ++kx) {
                            const std::ptrdiff_t iy = std::ptrdiff_t(oy * S + ky * D) - std::ptrdiff_t(P);
                            const std::ptrdiff_t ix = std::ptrdiff_t(ox * S + kx * D) - std::ptrdiff_t(P);
                            if (iy < 0 || ix < 0 || iy >= std::ptrdiff_t(H) || ix >= std::ptrdiff_t(W)) continue;
                            s += double(p[(c * K + ky) * K + kx]) * x[((n * H + std::size_t(iy)) * W + std::size_t(ix)) * C + c];
                        }
                    if constexpr (AddInput) s += x[((n * H + oy) * W + ox) * C + c];
                    worst = std::max(worst, std::abs(std::clamp(s, 0.0, 6.0) - y[((n * OH + oy) * OW + ox) * C + c]));
                }
    INFO(H << "x" << W << "x" << C << ", kernel " << K << ", stride " << S << ", padding " << P << ", dilation " << D
           << (AddInput ? ", input added" : ""));
    CHECK(worst < 1e-5);
}
}  // namespace

// The depthwise kernel's tiles of pixels along a row (8 or 4 with AVX-512, 4 with 16 registers
// or a 5x5 window), their bounds-checked forms at the image's edges, strides 1 and 2, a row's
// last tile overlapping the one before it (a width that is not a multiple of the tile), an odd
// row count's last band of two rows overlapping the one before it, stride 2 onto rows narrower
// than 8 in tiles of 4, channels that are not whole vectors (the last vector overlapping the
// one before; masked where there is less than one vector: 5 channels), with a residual added
// too (read again where tiles overlap), maps narrower than a tile, and the pixel-by-pixel path
// that dilation takes.
TEST_CASE("DepthwiseConv2D's tiles agree with a direct sum", "[conv][depthwise]") {
    check_depthwise_against_direct_sum<56, 56, 32, 3, 1, 1>();
    check_depthwise_against_direct_sum<23, 29, 19, 3, 1, 1>();     // 29 = 1 + 8 x 3 + 2 + 1 + 1: every tile size
    check_depthwise_against_direct_sum<28, 27, 37, 3, 2, 1>();     // stride 2, 14 wide
    check_depthwise_against_direct_sum<17, 17, 48, 3, 2, 0>();     // no padding: no edge tiles
    check_depthwise_against_direct_sum<15, 13, 72, 5, 1, 2>();     // 5x5 (EfficientNet, MobileNetV3)
    check_depthwise_against_direct_sum<14, 14, 40, 5, 2, 2>();
    check_depthwise_against_direct_sum<3, 2, 5, 3, 1, 1>();        // narrower than a tile, one vector, masked
    check_depthwise_against_direct_sum<7, 7, 16, 3, 1, 3>();       // padding wider than the window reaches
    check_depthwise_against_direct_sum<12, 12, 24, 3, 1, 2, 2>();  // dilation 2: pixel by pixel
    check_depthwise_against_direct_sum<20, 21, 24, 3, 1, 1, 1, true>();
    check_depthwise_against_direct_sum<9, 9, 17, 3, 1, 1, 1, true>();
    check_depthwise_against_direct_sum<10, 13, 5, 3, 1, 1, 1, true>();  // less than a vector (masked)
    check_depthwise_against_direct_sum<10, 13, 5, 3, 2, 1>();
    // Tiles with bounds checks at the left and right edges and in the top and bottom bands
    // (MobileNetV3's and EfficientNet's 7x7 and 14x14 maps), 4-pixel tiles of a 5x5 window at
    // stride 2, an odd width whose last pixels are single.
    check_depthwise_against_direct_sum<7, 7, 40, 5, 1, 2>();
    check_depthwise_against_direct_sum<14, 14, 24, 5, 2, 2>();
    check_depthwise_against_direct_sum<11, 13, 21, 5, 2, 2>();
    check_depthwise_against_direct_sum<6, 11, 33, 3, 2, 1>();
    check_depthwise_against_direct_sum<5, 6, 17, 5, 1, 2>();
    check_depthwise_against_direct_sum<7, 9, 33, 3, 1, 1, 1, true>();
    check_depthwise_against_direct_sum<8, 10, 16, 5, 1, 2, 1, true>();
    // Stride 2 onto rows narrower than 8 (tiles of 4, the last overlapping), one masked vector;
    // odd row counts with a residual (the last band overlapping the one before).
    check_depthwise_against_direct_sum<14, 14, 48, 3, 2, 1>();
    check_depthwise_against_direct_sum<13, 9, 20, 3, 2, 1>();
    check_depthwise_against_direct_sum<9, 9, 5, 3, 2, 1>();
    check_depthwise_against_direct_sum<7, 7, 40, 3, 1, 1, 1, true>();
    check_depthwise_against_direct_sum<5, 14, 24, 5, 1, 2, 1, true>();
}

// Which convolutions run as Winograd by default, and the ways to choose.
TEST_CASE("Conv2D chooses Winograd where it applies and pays; tn::direct keeps the direct sum", "[conv][winograd]") {
    using S56 = tn::Shape<56, 56, 64>;
    using Same = tn::Conv2D<64, tn::kernel<3>, tn::padding<1>, tn::relu>;
    STATIC_REQUIRE(Same::runs_winograd<S56>);
    STATIC_REQUIRE(Same::packed_size_for<S56> == 36 * 64 * 64 + 64);  // U: 36 matrices of 64 x 64, then the bias
    STATIC_REQUIRE(tn::Conv2D<64, tn::kernel<3>>::runs_winograd<tn::Shape<13, 13, 32>>);  // valid padding too
    STATIC_REQUIRE(!tn::Conv2D<64, tn::kernel<3>, tn::padding<1>, tn::direct>::runs_winograd<S56>);
    STATIC_REQUIRE(!tn::Conv2D<64, tn::kernel<3>, tn::stride<2>, tn::padding<1>>::runs_winograd<S56>);
    STATIC_REQUIRE(!tn::Conv2D<64, tn::kernel<3>, tn::dilation<2>, tn::padding<2>>::runs_winograd<S56>);
    STATIC_REQUIRE(!tn::Conv2D<64, tn::kernel<3>, tn::padding<1>, tn::groups<2>>::runs_winograd<S56>);
    STATIC_REQUIRE(!tn::Conv2D<64, tn::kernel<5>, tn::padding<2>>::runs_winograd<S56>);
    STATIC_REQUIRE(!tn::DepthwiseConv2D<tn::kernel<3>, tn::padding<1>>::runs_winograd<S56>);
    STATIC_REQUIRE(!tn::Conv2D<8, tn::kernel<3>, tn::padding<1>>::runs_winograd<tn::Shape<32, 32, 8>>);   // 8 channels: 0.7x
    STATIC_REQUIRE(!tn::Conv2D<64, tn::kernel<3>, tn::padding<1>>::runs_winograd<tn::Shape<56, 56, 3>>);  // an image's first layer
    STATIC_REQUIRE(tn::Conv2D<8, tn::kernel<3>, tn::padding<1>, tn::winograd>::runs_winograd<tn::Shape<32, 32, 8>>);
    // 512 -> 512: on 28x28 (49 tiles of 4x4) F(4x4); on 14x14 F(4x4)'s 38 MB of transformed
    // weights would serve 16 tiles, so F(2x2) (17 MB, 49 tiles); on 7x7 (ResNet's last stage:
    // 16 tiles of 2x2) the direct sum, unless asked.
    using Last = tn::Conv2D<512, tn::kernel<3>, tn::padding<1>>;
    using S14 = tn::Shape<14, 14, 512>;
    STATIC_REQUIRE(Last::winograd_tile<tn::Shape<28, 28, 512>> == 4);
    STATIC_REQUIRE(Last::winograd_tile<S14> == 2);
    STATIC_REQUIRE(Last::packed_size_for<S14> == 16 * 512 * 512 + 512);
    STATIC_REQUIRE(Last::winograd_tile<tn::Shape<7, 7, 512>> == 0);
    STATIC_REQUIRE(tn::Conv2D<512, tn::kernel<3>, tn::padding<1>, tn::winograd>::winograd_tile<tn::Shape<7, 7, 512>> == 2);
    STATIC_REQUIRE(tn::Conv2D<64, tn::kernel<3>, tn::padding<1>, tn::winograd_2x2>::winograd_tile<S56> == 2);
    STATIC_REQUIRE(tn::Conv2D<512, tn::kernel<3>, tn::padding<1>, tn::winograd_4x4>::winograd_tile<tn::Shape<7, 7, 512>> == 4);
    STATIC_REQUIRE(Same::winograd_tile<S56> == 4);
    // Its blocks take the tiles of several samples (the weights are read once per block): the
    // scratch grows with the batch, by one sample's tiles (on every instruction set).
    STATIC_REQUIRE(Last::scratch_size_for<S14> == 49 * 16 * (512 + 512));
    // ... up to a block's limit (at most 128 tiles: one point's V and M within 512 KB), not a
    // sample's tiles more for every sample: the arena at batch 8 is not 8 samples' worth.
    STATIC_REQUIRE(Last::scratch_most_for<S14> >= 49 * 16 * (512 + 512));
    STATIC_REQUIRE(Last::scratch_most_for<S14> <= 128 * 16 * (512 + 512));
    STATIC_REQUIRE(Last::scratch_most_for<S14> < Last::scratch_fixed_for<S14> + 3 * Last::scratch_size_for<S14>);
    // Threads share one sample's Winograd convolution by tiles where there are 16 or more and
    // the transformed weights stay in cache (64 tiles here), else by output channels where the
    // weights stream from beyond L2 (14x14x256: 16 tiles, 9.4 MB) or the layer is 64 channels
    // in and out (8x8x64: 4 tiles, 590 KB); the Keras CNN's 13x13x32 -> 64 (9 tiles) runs on
    // one thread (kernels/winograd.hpp).
    STATIC_REQUIRE(tn::kernels::winograd_shares_tiles(tn::Conv2D<16, tn::kernel<3>, tn::padding<1>>::geometry<tn::Shape<32, 32, 16>>(), 4));
    STATIC_REQUIRE(tn::Conv2D<64, tn::kernel<3>, tn::padding<1>>::shares<tn::Shape<8, 8, 64>>);
    STATIC_REQUIRE(!tn::kernels::winograd_shares_tiles(tn::Conv2D<64, tn::kernel<3>, tn::padding<1>>::geometry<tn::Shape<8, 8, 64>>(), 4));
    STATIC_REQUIRE(!tn::Conv2D<64, tn::kernel<3>>::shares<tn::Shape<13, 13, 32>>);
    STATIC_REQUIRE(tn::Conv2D<256, tn::kernel<3>, tn::padding<1>>::shares<tn::Shape<14, 14, 256>>);
    STATIC_REQUIRE(tn::Conv2D<64, tn::kernel<3>, tn::padding<1>, tn::direct>::shares<tn::Shape<8, 8, 64>>);
    // int8 convolutions are direct; a layer asking for Winograd stays fp32 under the int8 policy.
    STATIC_REQUIRE(!tn::Conv2D<64, tn::kernel<3>, tn::padding<1>, tn::int8_weights>::runs_winograd<S56>);
    using M = tn::Sequential<tn::Input<20, 20, 16>, tn::Conv2D<32, tn::kernel<3>, tn::padding<1>, tn::relu>,
                             tn::Conv2D<32, tn::kernel<3>, tn::winograd>, tn::Conv2D<16, tn::kernel<3>, tn::direct>>;
    using Direct = tn::with_policy<M, tn::direct>;
    STATIC_REQUIRE(std::is_same_v<Direct, tn::Sequential<tn::Input<20, 20, 16>, tn::Conv2D<32, tn::kernel<3>, tn::padding<1>, tn::relu, tn::direct>,
                                                         tn::Conv2D<32, tn::kernel<3>, tn::winograd>, tn::Conv2D<16, tn::kernel<3>, tn::direct>>>);
    STATIC_REQUIRE(std::is_same_v<tn::with_policy<M, tn::int8_weights>,
                                  tn::Sequential<tn::Input<20, 20, 16>, tn::Conv2D<32, tn::kernel<3>, tn::padding<1>, tn::relu, tn::int8_policy>,
                                                 tn::Conv2D<32, tn::kernel<3>, tn::winograd>, tn::Conv2D<16, tn::kernel<3>, tn::direct, tn::int8_policy>>>);
    const std::string summary = tn::summary<M>();
    INFO(summary);
    CHECK(summary.find("conv_winograd+bias+relu") != std::string::npos);
    CHECK(tn::summary<Direct>().find("conv_winograd+bias+relu") == std::string::npos);  // layer 1 asked for Winograd: it keeps it
    CHECK(tn::summary<tn::Sequential<tn::Input<14, 14, 512>, Last>>().find("conv_winograd2x2+bias") != std::string::npos);
    // The same weights both ways: the same model within Winograd's rounding.
    auto wino = tn::make<M>(tn::seed{5});
    auto direct = tn::make<M, tn::direct>(tn::seed{5});
    std::vector<float> x(3 * 20 * 20 * 16), a(3 * 16 * 16 * 16), b(a.size());
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(int(i * 7919 % 29) - 14) / 9.f;
    wino.predict(x.data(), a.data(), 3);
    direct.predict(x.data(), b.data(), 3);
    double worst = 0, largest = 0;
    for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, double(std::abs(a[i] - b[i]))), largest = std::max(largest, double(std::abs(b[i])));
    INFO("largest " << largest << ", worst difference " << worst);
    CHECK(worst <= 1e-5 * largest);
}

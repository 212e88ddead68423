// Reduced precision (kernels/dense_bf16.hpp, conv_bf16.hpp, dense_int8.hpp; the bf16_weights and int8_weights
// options and policies): each kernel computes exactly what it documents — bf16: weights and
// inputs rounded to bf16, products summed in fp32 pair by pair; int8: symmetric per-output
// weights, per-row inputs, exact int32 sums — on every instruction set (vdpbf16ps / vpdpbusd
// here, widened arithmetic elsewhere: this file runs in the AVX2, SSE4.2 and AArch64 builds
// too); a model under a policy keeps its names and files; and its error against fp32 stays
// within the bounds docs/precision-and-threads.md gives.
#include "../golden.hpp"
#include "../model/accuracy.hpp"
#include "../model/int8_reference.hpp"

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

namespace tn = typenet;

namespace {
using Mlp = tn::Sequential<tn::Input<784>, tn::Dense<128, tn::relu>, tn::Dense<64, tn::relu>, tn::Dense<10, tn::softmax>>;
using Mlp16 = tn::with_policy<Mlp, tn::bf16_weights>;
using Mlp8 = tn::with_policy<Mlp, tn::int8_weights>;

// The documented sums, one output at a time: per pair, acc += w_odd x_odd, then acc += w_even
// x_even (each an fp32 FMA of exact bf16 products), pair k in chain k % S (S = 1 for the rows
// of a batch; a row alone: S = 4 / G for a group of G < 4 panels), the chains added as a tree;
// then + add, + bias.
float reference(const float* w, const float* x, std::size_t in, float bias, float add = 0.f, std::size_t S = 1) {
    float acc[4] = {};
    auto bf = [](float v) { return tn::kernels::from_bf16(tn::kernels::to_bf16(v)); };
    for (std::size_t k = 0; k < in; k += 2) {
        float& a = acc[(k / 2) % S];
        if (k + 1 < in) a = std::fma(bf(w[k + 1]), bf(x[k + 1]), a);
        a = std::fma(bf(w[k]), bf(x[k]), a);
    }
    const float sum = S == 1 ? acc[0] : S == 2 ? acc[0] + acc[1] : (acc[0] + acc[1]) + (acc[2] + acc[3]);
    return (sum + add) + bias;
}
// The chains of output o of a layer with `out` outputs, run one row at a time.
std::size_t gemv_chains(std::size_t o, std::size_t out) {
    constexpr std::size_t nr = tn::kernels::nr;
    const std::size_t panels = (out + nr - 1) / nr, grouped = panels / 4 * 4;
    return o / nr < grouped ? 1 : std::max<std::size_t>(1, 4 / (panels - grouped));
}

// The int8 scheme, one output at a time, as kernels/dense_int8.hpp documents it.
struct Quantized {
    std::vector<int> q;
    float scale;
};
Quantized quantize(const float* v, std::size_t n) {
    float m = 0.f;
    for (std::size_t k = 0; k < n; ++k) m = std::max(m, std::abs(v[k]));
    const float inv = m > 0.f ? 127.f / m : 0.f;
    Quantized r{std::vector<int>(n), m / 127.f};
    for (std::size_t k = 0; k < n; ++k) r.q[k] = int(std::nearbyint(std::clamp(v[k] * inv, -127.f, 127.f)));
    return r;
}
float reference_int8(const float* w, const float* x, std::size_t in, float bias) {
    const Quantized qw = quantize(w, in), qx = quantize(x, in);
    long long sum = 0;
    for (std::size_t k = 0; k < in; ++k) sum += qw.q[k] * qx.q[k];
    return float(sum) * (qw.scale * qx.scale) + bias;
}

std::vector<float> uniform(std::size_t n, unsigned seed, float lo = -1.f, float hi = 1.f) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(lo, hi);
    std::vector<float> v(n);
    for (float& x : v) x = u(rng);
    return v;
}
}  // namespace

TEST_CASE("bf16 rounding: nearest, ties to even; NaN stays NaN", "[precision][bf16]") {
    using tn::kernels::from_bf16;
    using tn::kernels::to_bf16;
    STATIC_REQUIRE(to_bf16(1.0f) == 0x3f80);
    STATIC_REQUIRE(to_bf16(-2.0f) == 0xc000);
    CHECK(to_bf16(std::bit_cast<float>(0x3f808000u)) == 0x3f80);  // a tie, to even (down)
    CHECK(to_bf16(std::bit_cast<float>(0x3f818000u)) == 0x3f82);  // a tie, to even (up)
    CHECK(to_bf16(std::bit_cast<float>(0x3f808001u)) == 0x3f81);  // above the tie
    CHECK(to_bf16(std::numeric_limits<float>::infinity()) == 0x7f80);
    CHECK(to_bf16(std::numeric_limits<float>::max()) == 0x7f80);  // rounds up to infinity, as in PyTorch
    CHECK(std::isnan(from_bf16(to_bf16(std::numeric_limits<float>::quiet_NaN()))));
    CHECK(std::isnan(from_bf16(to_bf16(std::bit_cast<float>(0x7f800001u)))));  // a NaN whose payload is in the low bits
    for (float f : {0.1f, -3.7f, 1e-20f, 6.5e4f}) CHECK(std::abs(from_bf16(to_bf16(f)) - f) <= std::abs(f) * 0x1p-9f);

    // The vector conversion of inputs agrees with the scalar one, at every length.
    const auto x = uniform(67, 1, -1e3f, 1e3f);
    for (std::size_t n = 1; n <= x.size(); ++n) {
        std::vector<std::uint32_t> pairs((n + 1) / 2 + 1, 0xdeadbeefu);
        tn::kernels::to_bf16_pairs(x.data(), n, pairs.data());
        for (std::size_t k = 0; k < n; ++k) {
            const std::uint16_t h = std::uint16_t(k % 2 ? pairs[k / 2] >> 16 : pairs[k / 2] & 0xffff);
            REQUIRE(h == to_bf16(x[k]));
        }
        if (n % 2) REQUIRE((pairs[n / 2] >> 16) == 0);
        REQUIRE(pairs[(n + 1) / 2] == 0xdeadbeefu);
    }
}

// A recurrent layer's state is rounded to nearest with ties away from zero (one integer
// addition on the step's chain, kernels/recurrent.hpp): the same as to nearest even except on
// exact ties; NaN stays NaN; the vector conversion agrees with the scalar one.
TEST_CASE("bf16 rounding of a recurrent state: nearest, ties away; NaN stays NaN", "[precision][bf16]") {
    using tn::kernels::from_bf16;
    using tn::kernels::to_bf16;
    using tn::kernels::to_bf16_away;
    STATIC_REQUIRE(to_bf16_away(1.0f) == 0x3f80);
    STATIC_REQUIRE(to_bf16_away(-2.0f) == 0xc000);
    CHECK(to_bf16_away(std::bit_cast<float>(0x3f808000u)) == 0x3f81);  // a tie, away (up)
    CHECK(to_bf16_away(std::bit_cast<float>(0xbf808000u)) == 0xbf81);  // a tie, away (down)
    CHECK(to_bf16_away(std::bit_cast<float>(0x3f818000u)) == 0x3f82);
    CHECK(to_bf16_away(std::bit_cast<float>(0x3f807fffu)) == 0x3f80);  // below the tie
    CHECK(to_bf16_away(std::bit_cast<float>(0x3f7f8000u)) == 0x3f80);  // a tie into the next binade
    CHECK(to_bf16_away(std::numeric_limits<float>::infinity()) == 0x7f80);
    CHECK(to_bf16_away(std::numeric_limits<float>::max()) == 0x7f80);
    CHECK(std::isnan(from_bf16(to_bf16_away(std::numeric_limits<float>::quiet_NaN()))));
    CHECK(std::isnan(from_bf16(to_bf16_away(std::bit_cast<float>(0x7fff8000u)))));  // a NaN that the addition would carry out
    const auto x = uniform(67, 2, -1e3f, 1e3f);
    for (float f : x) {
        const std::uint32_t u = std::bit_cast<std::uint32_t>(f);
        if ((u & 0xffffu) != 0x8000u) REQUIRE(to_bf16_away(f) == to_bf16(f));
        REQUIRE(std::abs(from_bf16(to_bf16_away(f)) - f) <= std::abs(f) * 0x1p-8f);  // half a unit in the last place
    }
    std::vector<float> y(x);
    y[3] = std::bit_cast<float>(0x3f808000u), y[20] = std::numeric_limits<float>::quiet_NaN(), y[21] = std::bit_cast<float>(0x7fff8000u);
    for (std::size_t n = 1; n <= y.size(); ++n) {
        std::vector<std::uint32_t> pairs((n + 1) / 2 + 1, 0xdeadbeefu);
        tn::kernels::to_bf16_pairs_away(y.data(), n, pairs.data());
        for (std::size_t k = 0; k < n; ++k) {
            const std::uint16_t h = std::uint16_t(k % 2 ? pairs[k / 2] >> 16 : pairs[k / 2] & 0xffff);
            REQUIRE(h == to_bf16_away(y[k]));
        }
        if (n % 2) REQUIRE((pairs[n / 2] >> 16) == 0);
        REQUIRE(pairs[(n + 1) / 2] == 0xdeadbeefu);
    }
}

template <std::size_t Out>
void check_bf16_sums() {
    // 601 inputs: an odd count (the last pair half zero) and several K blocks.
    using L = tn::Sequential<tn::Input<601>, tn::Dense<Out, tn::bf16_weights>>;
    auto net = tn::make<L>(tn::seed{7});
    std::vector<float> w = net.get_weights();
    const auto bias = uniform(Out, 9);
    std::copy(bias.begin(), bias.end(), w.begin() + Out * 601);
    net.set_weights(w);
    const auto x = uniform(29 * 601, 2);
    for (std::size_t rows : {1, 2, 5, 12, 13, 29}) {
        std::vector<float> y(rows * Out);
        net.predict(x.data(), y.data(), rows);
        for (std::size_t r = 0; r < rows; ++r)
            for (std::size_t o = 0; o < Out; ++o) {
                INFO(Out << " outputs, rows " << rows << ", row " << r << ", output " << o);
                const std::size_t chains = rows == 1 ? gemv_chains(o, Out) : 1;
                REQUIRE(y[r * Out + o] == reference(w.data() + o * 601, x.data() + r * 601, 601, w[Out * 601 + o], 0.f, chains));
            }
    }
}

TEST_CASE("Dense with bf16 weights computes exactly the documented sums, for every batch height and width", "[precision][bf16]") {
    // Outputs in partial panels: one panel (a row alone in four chains), two, three, five.
    check_bf16_sums<10>();
    check_bf16_sums<40>();
    check_bf16_sums<70>();
    check_bf16_sums<150>();
    // 2.2 MB of bf16 weights (beyond L2): the batch kernel fetches each next panel ahead.
    STATIC_REQUIRE(tn::kernels::weights_stream(tn::kernels::Bf16Packing{601, 1800}.weight_words() * 4));
    check_bf16_sums<1800>();
}

TEST_CASE("bf16 Dense: activations, no bias, residual add and a Concat slice in the epilogue", "[precision][bf16]") {
    constexpr auto skip = [] {
        auto x = tn::input<"x", 40>;
        auto h = tn::dense<"h", 40, tn::bf16_weights>(x);
        auto g = tn::dense<"g", 7, tn::no_bias, tn::bf16_weights>(x);
        return tn::model(tn::inputs(x), tn::outputs(tn::concat(tn::activation<tn::tanh>(x + h), g)));
    };
    using G = decltype(skip());
    auto net = tn::make<G>(tn::seed{3});
    const std::vector<float> w = net.get_weights();
    const auto x = uniform(3 * 40, 5);
    std::vector<float> y(3 * 47);
    net.predict(x.data(), y.data(), 3);
    const auto infos = tn::Net<G>::param_infos();
    auto at = [&](std::string_view name) {
        for (const auto& p : infos)
            if (p.name == name) return w.data() + p.offset;
        FAIL("no parameter " << name);
        return w.data();
    };
    for (std::size_t r = 0; r < 3; ++r) {
        const float* xr = x.data() + r * 40;
        for (std::size_t o = 0; o < 40; ++o) {  // the sum exactly; tanh's vector and scalar forms may differ in the last bits
            const float expected = std::tanh(reference(at("h.weight") + o * 40, xr, 40, at("h.bias")[o], xr[o]));
            CHECK(std::abs(y[r * 47 + o] - expected) <= 4e-7f * std::max(1e-3f, std::abs(expected)));
        }
        for (std::size_t o = 0; o < 7; ++o) CHECK(y[r * 47 + 40 + o] == reference(at("g.weight") + o * 40, xr, 40, 0.f));
    }
}

TEST_CASE("the bf16_weights policy: every Dense, the same names and files", "[precision][bf16][policy]") {
    using Nested = tn::Sequential<tn::Input<12>, tn::Dense<8, tn::relu>, tn::Named<"block", tn::Sequential<tn::Dense<8>, tn::ReLU>>,
                                  tn::Residual<tn::Sequential<tn::Dense<8>>>, tn::Dense<3, tn::bf16_weights>>;
    using N16 = tn::with_policy<Nested, tn::bf16_weights>;
    STATIC_REQUIRE(std::is_same_v<Mlp16, tn::Sequential<tn::Input<784>, tn::Dense<128, tn::relu, tn::bf16_weights>,
                                                        tn::Dense<64, tn::relu, tn::bf16_weights>,
                                                        tn::Dense<10, tn::softmax, tn::bf16_weights>>>);
    STATIC_REQUIRE(std::is_same_v<decltype(tn::make<Mlp, tn::bf16_weights>()), tn::Net<Mlp16>>);
    STATIC_REQUIRE(N16::param_count == Nested::param_count);
    const auto a = tn::Net<Nested>::param_infos();
    const auto b = tn::Net<N16>::param_infos();
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i].name == b[i].name);
    const std::string s = tn::summary<N16>();
    CHECK(s.find("Dense<8, relu, bf16_weights>") != std::string::npos);
    CHECK(s.find("Dense<3, bf16_weights>") != std::string::npos);
    CHECK(s.find("dense_bf16+bias+relu") != std::string::npos);

    // PyTorch's file loads as it is, and the outputs stay within bf16's error of PyTorch's.
    auto net = tn::make<Mlp, tn::bf16_weights>();
    tn::load_weights(net, golden::path("mlp.weights.safetensors"), tn::from_pytorch);
    const golden::Io d = golden::io("mlp");
    std::vector<float> y(d.rows * 10);
    net.predict(d.input.data(), y.data(), d.rows);
    golden::require_close(y.data(), d.output.data(), d.rows, 10, 2e-2);
}

TEST_CASE("bf16 and int8 against fp32 on 1,000 random inputs: the MLP's error and top-1 agreement", "[precision][accuracy]") {
    const auto fp32 = tn::make<Mlp>(tn::seed{2026});
    auto bf16 = tn::make<Mlp, tn::bf16_weights>();
    auto int8 = tn::make<Mlp, tn::int8_weights>();
    bf16.set_weights(fp32.get_weights());
    int8.set_weights(fp32.get_weights());
    const auto b = accuracy::compare(fp32, bf16, 1000);
    INFO("bf16: max |difference| of the probabilities " << b.max_abs << ", top-1 agreement " << b.agree << " / 1000");
    CHECK(b.max_abs < 5e-3);
    CHECK(b.agree >= 990);
    const auto i = accuracy::compare(fp32, int8, 1000);
    INFO("int8: max |difference| " << i.max_abs << ", top-1 agreement " << i.agree << " / 1000");
    CHECK(i.max_abs < 1e-2);
    CHECK(i.agree >= 980);
}

// Out = 70: three panels of a one-row call go together; 140: four, then one alone.
template <std::size_t Out>
void check_int8_scheme() {
    using L = tn::Sequential<tn::Input<601>, tn::Dense<Out, tn::int8_weights>>;
    auto net = tn::make<L>(tn::seed{7});
    std::vector<float> w = net.get_weights();
    const auto bias = uniform(Out, 9);
    std::copy(bias.begin(), bias.end(), w.begin() + Out * 601);
    for (std::size_t k = 0; k < 601; ++k) w[5 * 601 + k] = 0.f;  // an output whose weights are all zero
    net.set_weights(w);
    auto x = uniform(29 * 601, 2, -3.f, 3.f);
    std::fill_n(x.begin() + 4 * 601, 601, 0.f);  // a row of zeros: the bias alone
    for (std::size_t rows : {1, 2, 5, 12, 13, 29}) {
        std::vector<float> y(rows * Out);
        net.predict(x.data(), y.data(), rows);
        for (std::size_t r = 0; r < rows; ++r)
            for (std::size_t o = 0; o < Out; ++o) {
                INFO("outputs " << Out << ", rows " << rows << ", row " << r << ", output " << o);
                const float expected = reference_int8(w.data() + o * 601, x.data() + r * 601, 601, w[Out * 601 + o]);
                // The integer sums are exact; the last step is one FMA (two roundings where the
                // instruction set has no FMA).
                REQUIRE(std::abs(y[r * Out + o] - expected) <= 2.5e-7f * (std::abs(expected) + std::abs(w[Out * 601 + o])));
                if (r == 4 || o == 5) REQUIRE(y[r * Out + o] == w[Out * 601 + o]);
            }
    }
}

TEST_CASE("Dense with int8 weights computes the documented scheme, for every batch height and width", "[precision][int8]") {
    check_int8_scheme<70>();
    check_int8_scheme<140>();
}

TEST_CASE("int8 inputs: the quantizer's bytes are the documented scheme's at every length", "[precision][int8]") {
    // Lengths that take each of its paths: whole groups of 64 (AVX-512), 32 (AVX2), 16 (AVX-512,
    // NEON) and the scalar rest; rows whose largest |x| is tiny (127 / m overflows to infinity:
    // the clamped path) or a power of two (values that land on .5 after scaling: ties to even).
    for (std::size_t n : {1, 3, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 601}) {
        for (int kind = 0; kind < 3; ++kind) {
            auto x = uniform(n, unsigned(n * 3 + kind), -2.f, 2.f);
            if (kind == 1)
                for (float& v : x) v *= 1e-39f;  // subnormal
            if (kind == 2) {
                for (std::size_t i = 0; i < n; ++i) x[i] = float(int(i % 9) - 4) * 0.5f;
                x[0] = 127.f;  // scale 1: x * 127 / 127
            }
            std::vector<std::uint8_t> q(n + 8, 0xee);
            const float s = tn::kernels::quantize_row(x.data(), n, q.data());
            const Quantized r = quantize(x.data(), n);
            INFO("n " << n << ", kind " << kind);
            REQUIRE(s == r.scale);
            for (std::size_t i = 0; i < n; ++i) REQUIRE(int(q[i]) - 128 == r.q[i]);
            for (std::size_t i = n; i % 4; ++i) REQUIRE(q[i] == 128);  // a quad's padding: q_x = 0
        }
    }
}

TEST_CASE("int8 Dense: a row with a NaN or an infinity gives NaN outputs, other rows are untouched", "[precision][int8][nan]") {
    using L = tn::Sequential<tn::Input<40>, tn::Dense<9, tn::int8_weights>>;
    const auto net = tn::make<L>(tn::seed{1});
    auto x = uniform(3 * 40, 4);
    x[40 + 7] = std::numeric_limits<float>::quiet_NaN();
    x[80 + 39] = std::numeric_limits<float>::infinity();
    std::vector<float> y(27), alone(9);
    net.predict(x.data(), y.data(), 3);
    net.forward(x.data(), alone.data());
    for (std::size_t o = 0; o < 9; ++o) {
        CHECK(y[o] == alone[o]);
        CHECK(std::isnan(y[9 + o]));
        CHECK(std::isnan(y[18 + o]));
    }
}

TEST_CASE("the int8_weights policy, and layers that name their precision", "[precision][int8][policy]") {
    using Ends = tn::Sequential<tn::Input<784>, tn::Dense<128, tn::relu, tn::fp32_weights>, tn::Dense<64, tn::relu>,
                                tn::Dense<10, tn::softmax, tn::bf16_weights>>;
    STATIC_REQUIRE(std::is_same_v<tn::with_policy<Ends, tn::int8_weights>,
                                  tn::Sequential<tn::Input<784>, tn::Dense<128, tn::relu, tn::fp32_weights>,
                                                 tn::Dense<64, tn::relu, tn::int8_weights>, tn::Dense<10, tn::softmax, tn::bf16_weights>>>);
    STATIC_REQUIRE(std::is_same_v<tn::with_policy<Ends, tn::bf16_weights>, tn::with_policy<Ends, tn::bf16_weights>>);
    const std::string s = tn::summary<tn::with_policy<Ends, tn::int8_weights>>();
    CHECK(s.find("dense+bias+relu") != std::string::npos);
    CHECK(s.find("dense_int8+bias+relu") != std::string::npos);
    CHECK(s.find("dense_bf16+bias+softmax") != std::string::npos);

    auto net = tn::make<Mlp, tn::int8_weights>();
    STATIC_REQUIRE(std::is_same_v<decltype(net), tn::Net<Mlp8>>);
    tn::load_weights(net, golden::path("mlp.weights.safetensors"), tn::from_pytorch);
    const golden::Io d = golden::io("mlp");
    std::vector<float> y(d.rows * 10);
    net.predict(d.input.data(), y.data(), d.rows);
    golden::require_close(y.data(), d.output.data(), d.rows, 10, 5e-2);
}
namespace {
// The bf16 scheme for one output pixel and channel (kernels/conv_bf16.hpp): weights and image
// rounded to bf16 (padding: zero), per tap (ky, kx) and pair of channels acc += w_odd x_odd,
// then acc += w_even x_even, each an fp32 FMA of exact products; then + add, + bias, the ReLU.
float conv_bf16_reference(const float* w, const float* img, const tn::kernels::ConvGeometry& g, std::size_t oy, std::size_t ox,
                          float bias, float add, bool relu) {
    auto bf = [](float v) { return tn::kernels::from_bf16(tn::kernels::to_bf16(v)); };
    float acc = 0.f;
    for (std::size_t ky = 0; ky < g.kh; ++ky)
        for (std::size_t kx = 0; kx < g.kw; ++kx) {
            const std::ptrdiff_t iy = std::ptrdiff_t(oy * g.sh + ky * g.dh) - std::ptrdiff_t(g.pad_top);
            const std::ptrdiff_t ix = std::ptrdiff_t(ox * g.sw + kx * g.dw) - std::ptrdiff_t(g.pad_left);
            const bool inside = iy >= 0 && ix >= 0 && iy < std::ptrdiff_t(g.h) && ix < std::ptrdiff_t(g.w);
            for (std::size_t ci = 0; ci < g.c; ci += 2) {
                auto x = [&](std::size_t c) { return inside ? bf(img[(std::size_t(iy) * g.w + std::size_t(ix)) * g.c + c]) : 0.f; };
                auto wt = [&](std::size_t c) { return bf(w[(c * g.kh + ky) * g.kw + kx]); };
                acc = std::fma(wt(ci + 1), x(ci + 1), acc);
                acc = std::fma(wt(ci), x(ci), acc);
            }
        }
    const float y = (acc + add) + bias;
    return relu ? std::max(y, 0.f) : y;
}
}  // namespace

TEST_CASE("Conv2D with bf16 weights computes the documented scheme, bit for bit", "[precision][bf16][conv]") {
    // The kernel alone, on every tile height and both panel widths: 1x1 at stride 1 (tiles of
    // pixels rounded on the stack, K in blocks), with a stride, padding, dilation, a 5x5 window, a residual and its ReLU, outputs in
    // a wider tensor (ldo), two samples.
    namespace k = tn::kernels;
    auto run = [](const k::ConvGeometry& g, bool relu, bool residual) {
        INFO(g.h << "x" << g.w << "x" << g.c << " k" << g.kh << "x" << g.kw << " s" << g.sh << " d" << g.dh << " -> " << g.cout);
        REQUIRE(k::conv_bf16_applies(g));
        const auto w = uniform(g.cout * g.k(), 31, -1.f, 1.f), b = uniform(g.cout, 32, -0.5f, 0.5f);
        const std::size_t batch = 2, ldo = g.cout + 3, outs = batch * g.oh * g.ow * ldo;
        const auto x = uniform(batch * g.h * g.w * g.c, 33, -3.f, 3.f), add = uniform(outs, 34, -1.f, 1.f);
        using Aligned = std::vector<float, xsimd::aligned_allocator<float>>;  // the kernels load the weights aligned
        Aligned packed(k::conv_bf16_packing(g).floats()), scratch(k::conv_bf16_scratch(g));
        k::conv_pack_bf16(g, w.data(), b.data(), packed.data());
        std::vector<float> y(outs, 7.f);
        const float* r = residual ? add.data() : nullptr;
        if (relu) k::conv2d_bf16<tn::relu>(g, packed.data(), x.data(), y.data(), batch, scratch.data(), r, ldo);
        else k::conv2d_bf16<tn::linear>(g, packed.data(), x.data(), y.data(), batch, scratch.data(), r, ldo);
        for (std::size_t s = 0; s < batch; ++s)
            for (std::size_t oy = 0; oy < g.oh; ++oy)
                for (std::size_t ox = 0; ox < g.ow; ++ox) {
                    const std::size_t at = ((s * g.oh + oy) * g.ow + ox) * ldo;
                    for (std::size_t o = 0; o < g.cout; ++o) {
                        const float expected = conv_bf16_reference(w.data() + o * g.k(), x.data() + s * g.h * g.w * g.c, g, oy, ox, b[o],
                                                                   residual ? add[at + o] : 0.f, relu);
                        INFO("sample " << s << ", pixel " << oy << "," << ox << ", channel " << o);
                        REQUIRE(y[at + o] == expected);
                    }
                    for (std::size_t o = g.cout; o < ldo; ++o) REQUIRE(y[at + o] == 7.f);  // past the channels: untouched
                }
    };
    //                  h   w   c  kh kw sh sw dh dw pt pl oh  ow cout groups
    run(k::ConvGeometry{7, 7, 24, 1, 1, 1, 1, 1, 1, 0, 0, 7, 7, 40, 1}, false, true);    // tiles of 12 pixels: 49 = 4 x 12 + 1
    run(k::ConvGeometry{2, 3, 2050, 1, 1, 1, 1, 1, 1, 0, 0, 2, 3, 5, 1}, true, true);    // K in blocks of 128 pairs: 8 + 1 pair
    run(k::ConvGeometry{5, 5, 600, 1, 1, 1, 1, 1, 1, 0, 0, 5, 5, 36, 1}, true, false);   // ... 128 + 128 + 44, two panels
    run(k::ConvGeometry{7, 9, 6, 1, 1, 1, 1, 1, 1, 0, 0, 5, 9, 10, 1}, false, true);     // a crop of rows: still one run
    run(k::ConvGeometry{7, 9, 6, 1, 1, 1, 1, 1, 1, 0, 0, 5, 6, 40, 1}, true, false);     // a crop of columns: a run per row
    run(k::ConvGeometry{7, 9, 2050, 1, 1, 1, 1, 1, 1, 0, 0, 3, 4, 3, 1}, false, false);  // ... and K in blocks
    run(k::ConvGeometry{4, 5, 6, 1, 1, 1, 1, 1, 1, 1, 1, 6, 7, 9, 1}, true, false);      // a padded 1x1: one run of the bordered image
    run(k::ConvGeometry{5, 6, 96, 1, 1, 1, 1, 1, 1, 0, 0, 5, 6, 16, 1}, true, false);    // one vector of outputs
    run(k::ConvGeometry{16, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 16, 16, 16, 1}, true, true); // rows of 12 + 4
    run(k::ConvGeometry{15, 31, 32, 3, 3, 2, 2, 1, 1, 1, 1, 8, 16, 70, 1}, true, false); // a stride, three panels
    run(k::ConvGeometry{12, 13, 8, 3, 3, 1, 1, 2, 2, 2, 2, 12, 13, 11, 1}, false, true); // dilation, 11 outputs
    run(k::ConvGeometry{11, 13, 2, 5, 5, 1, 1, 1, 1, 2, 2, 11, 13, 33, 1}, true, false); // a 5x5 window, one pair per tap
    run(k::ConvGeometry{8, 8, 64, 1, 1, 2, 2, 1, 1, 0, 0, 4, 4, 24, 1}, false, true);    // a 1x1 at stride 2 (ResNet's shortcut)
    run(k::ConvGeometry{9, 10, 4, 2, 3, 1, 1, 1, 1, 1, 0, 9, 8, 7, 1}, false, false);    // asymmetric padding
}

TEST_CASE("a gate taken into packed bf16 weights: each weight times its input's gate, rounded to bf16", "[precision][bf16][gate]") {
    // kernels::scale_packed_pairs (a squeeze-and-excitation before a bf16 1x1 convolution): an odd
    // number of inputs (the last pair's zero half), two panels, a NaN gate (its weights NaN, the
    // others exact), the bias copied; on two shares of the panels as on one.
    namespace k = tn::kernels;
    const k::Bf16Packing d{37, 40};
    const auto w = uniform(d.out * d.in, 41), b = uniform(d.out, 42);
    auto g = uniform(d.in, 43, 0.f, 1.f);
    g[5] = std::numeric_limits<float>::quiet_NaN();
    using Aligned = std::vector<float, xsimd::aligned_allocator<float>>;
    Aligned packed(d.floats()), one(d.floats(), -1.f), two(d.floats(), -1.f);
    k::dense_pack_bf16(d, w.data(), b.data(), packed.data());
    k::scale_packed_pairs(d, packed.data(), g.data(), one.data());
    for (std::size_t t = 0; t < 2; ++t) k::scale_packed_pairs(d, packed.data(), g.data(), two.data(), {t, 2});
    REQUIRE(std::memcmp(one.data(), two.data(), d.floats() * sizeof(float)) == 0);
    const auto* words = reinterpret_cast<const std::uint32_t*>(one.data());
    for (std::size_t o = 0; o < d.out; ++o)
        for (std::size_t i = 0; i < d.in; ++i) {
            const std::uint32_t word = words[((o / k::nr) * d.pairs() + i / 2) * k::nr + o % k::nr];
            const auto got = std::uint16_t(i % 2 ? word >> 16 : word & 0xffffu);
            const float expected = k::from_bf16(k::to_bf16(k::from_bf16(k::to_bf16(w[o * d.in + i])) * g[i]));
            INFO("output " << o << ", input " << i);
            if (std::isnan(expected)) REQUIRE(std::isnan(k::from_bf16(got)));
            else REQUIRE(got == k::to_bf16(expected));
        }
    for (std::size_t o = 0; o < d.out; ++o)  // the odd input's missing partner stays zero
        REQUIRE((words[((o / k::nr) * d.pairs() + d.pairs() - 1) * k::nr + o % k::nr] >> 16) == 0);
    for (std::size_t o = 0; o < d.out; ++o) REQUIRE(one[d.weight_words() + o] == b[o]);
}

TEST_CASE("Conv2D with int8 weights computes the documented scheme on this instruction set", "[precision][int8][conv]") {
    // Each loop the geometry takes here (kernels/conv_int8.hpp's conv_int8_path: byte rows
    // gathered, the implicit loop over whole quads or channels padded to them, a strided 1x1's
    // grid; on AVX512-VNNI the broadcast loop for at most 16 outputs), against the scalar scheme.
    namespace k = tn::kernels;
    auto check = [](std::size_t h, std::size_t w, std::size_t c, std::size_t kk, std::size_t stride, std::size_t pad, std::size_t cout) {
        const std::size_t oh = (h + 2 * pad - kk) / stride + 1, ow = (w + 2 * pad - kk) / stride + 1;
        const k::ConvGeometry g{h, w, c, kk, kk, stride, stride, 1, 1, pad, pad, oh, ow, cout, 1};
        INFO(h << "x" << w << "x" << c << " k" << kk << " s" << stride << " -> " << cout << ", path " << int(k::conv_int8_path(g)));
        std::mt19937 rng(31);
        std::uniform_real_distribution<float> u(-1.f, 1.f);
        std::vector<float> wt(cout * c * kk * kk), b(cout), x(2 * h * w * c);
        for (float& v : wt) v = u(rng);
        for (float& v : b) v = u(rng);
        for (float& v : x) v = 2.f * u(rng);
        using Aligned = std::vector<float, xsimd::aligned_allocator<float>>;
        Aligned packed(k::conv_int8_packing(g).floats()), scratch(k::conv_int8_scratch(g));
        k::conv_pack_int8(g, wt.data(), b.data(), packed.data());
        std::vector<float> y(2 * oh * ow * cout);
        auto run = [&]<k::Int8ConvPath P>(std::integral_constant<k::Int8ConvPath, P>) {
            k::conv2d_int8<tn::linear, P>(g, packed.data(), x.data(), y.data(), 2, scratch.data());
        };
        switch (k::conv_int8_path(g)) {
            case k::Int8ConvPath::gathered: run(std::integral_constant<k::Int8ConvPath, k::Int8ConvPath::gathered>{}); break;
            case k::Int8ConvPath::implicit: run(std::integral_constant<k::Int8ConvPath, k::Int8ConvPath::implicit>{}); break;
            case k::Int8ConvPath::lanes: run(std::integral_constant<k::Int8ConvPath, k::Int8ConvPath::lanes>{}); break;
            case k::Int8ConvPath::pixels: run(std::integral_constant<k::Int8ConvPath, k::Int8ConvPath::pixels>{}); break;
        }
        for (std::size_t s = 0; s < 2; ++s)
            for (std::size_t p = 0; p < oh * ow; ++p)
                for (std::size_t o = 0; o < cout; ++o) {
                    const float expected = int8_test::conv_reference(wt.data() + o * c * kk * kk, x.data() + s * h * w * c, h, w, c, kk, stride,
                                                                     pad, p / ow, p % ow, b[o]);
                    REQUIRE(std::abs(y[(s * oh * ow + p) * cout + o] - expected) <= 2.5e-7f * (std::abs(expected) + std::abs(b[o])));
                }
    };
    check(9, 7, 5, 3, 2, 1, 37);    // gathered byte rows
    check(11, 10, 3, 3, 1, 1, 16);  // 3 channels padded to a quad (an image's first layer), 16 outputs
    check(10, 9, 3, 5, 2, 2, 40);   // the same, 40 outputs at stride 2
    check(8, 13, 16, 3, 1, 1, 12);  // one vector of outputs (the broadcast loop with VNNI)
    check(7, 6, 12, 3, 1, 1, 20);   // 3 words a pixel
    check(8, 8, 64, 1, 2, 0, 24);   // a strided 1x1's grid
    check(5, 7, 24, 1, 1, 0, 33);   // a 1x1 at stride 1: each row its own scale
}

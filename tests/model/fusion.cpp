// Fusion passes and policies (model/fusion.hpp), epilogue residual adds (model/graph.hpp),
// the arena a caller supplies (model/net.hpp). Every golden test (golden.hpp, and the graph
// examples) also checks its model fused against tn::no_fusion.
#include <catch2/catch.hpp>

#include <cstddef>
#include <vector>

#include <typenet/typenet.hpp>

namespace tn = typenet;

namespace {

template <std::size_t C>
using Body = tn::Sequential<tn::Conv2D<C, tn::kernel<3, 3>, tn::padding<1>, tn::no_bias>, tn::BatchNorm<>, tn::ReLU,
                            tn::Conv2D<C, tn::kernel<3, 3>, tn::padding<1>, tn::no_bias>, tn::BatchNorm<>>;
using Block = tn::Residual<Body<8>, tn::relu>;
using Net1 = tn::Sequential<tn::Input<9, 7, 8>, Block, Block, tn::GlobalAveragePool2D, tn::Dense<4>>;

// x + Dense(x), then relu: the add and the relu run in the Dense's epilogue.
constexpr auto dense_skip = [] {
    auto x = tn::input<"x", 24>;
    auto h = tn::dense<"h", 24>(x);
    return tn::model(tn::inputs(x), tn::outputs(tn::activation<tn::relu>(x + h)));
};
using DenseSkip = decltype(dense_skip());

// The operand's producer is read twice: nothing to fuse.
constexpr auto shared_operand = [] {
    auto x = tn::input<"x", 24>;
    auto h = tn::dense<"h", 24>(x);
    return tn::model(tn::inputs(x), tn::outputs(x + h, tn::dense<"g", 2>(h)));
};
using SharedOperand = decltype(shared_operand());

// Concat in place: two Dense kernels and a conv block write their slices; the input x and
// the pooled map (a pool cannot write at a stride) are copied by the Concat.
constexpr auto concat_slices = [] {
    auto x = tn::input<"x", 6, 5, 3>;
    auto a = tn::conv2d<"a", 4, tn::kernel<3, 3>, tn::padding_same, tn::relu>(x);
    auto b = tn::layer<"b", tn::Sequential<tn::Conv2D<5, tn::kernel<1, 1>>, tn::BatchNorm<>, tn::ReLU>>(x);
    auto p = tn::layer<"p", tn::MaxPool2D<3, tn::stride<1>, tn::padding_same>>(x);
    auto c = tn::concat(a, x, b, p);  // 4 + 3 + 5 + 3 channels
    auto f = tn::layer<"f", tn::Flatten>(c);
    auto u = tn::dense<"u", 7, tn::tanh>(f);
    auto v = tn::dense<"v", 9, tn::softmax>(f);
    return tn::model(tn::inputs(x), tn::outputs(tn::concat(u, v), c));
};
using ConcatSlices = decltype(concat_slices());

std::vector<float> ramp(std::size_t n) {
    std::vector<float> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = 0.05f * float(int(i % 17) - 8);
    return v;
}

template <class M>
std::vector<float> run(const tn::Net<M>& net, const std::vector<float>& x, std::size_t rows) {
    std::vector<float> y(rows * tn::Net<M>::out_size);
    net.predict(x.data(), y.data(), rows);
    return y;
}

// One sample on two threads: bitwise one thread's.
template <class M>
void check_two_threads(const tn::Net<M>& net) {
    tn::ThreadPool two(2);
    const std::vector<float> x = ramp(tn::Net<M>::in_size);
    std::vector<float> shared(tn::Net<M>::out_size);
    net.forward(x.data(), shared.data(), two);
    CHECK(shared == run(net, x, 1));
}

void require_near(const std::vector<float>& a, const std::vector<float>& b, double rel) {
    REQUIRE(a.size() == b.size());
    double scale = 1e-30;
    for (float v : b) scale = std::max(scale, double(std::abs(v)));
    for (std::size_t i = 0; i < a.size(); ++i) {
        INFO("element " << i << ": " << a[i] << " vs " << b[i]);
        REQUIRE(std::abs(double(a[i]) - double(b[i])) <= rel * scale);
    }
}

}  // namespace

TEST_CASE("each pass is a compile-time predicate", "[fusion]") {
    // IR nodes: 0 the input, then the layers in order.
    using C = tn::Sequential<tn::Input<8, 8, 3>, tn::Conv2D<4, tn::kernel<3, 3>, tn::no_bias>, tn::BatchNorm<>, tn::ReLU>::program;
    STATIC_REQUIRE(C::epilogues.batchnorm[1] == 2);
    STATIC_REQUIRE(C::epilogues.activation[1] == 3);
    STATIC_REQUIRE(C::epilogues.fused_away(2));
    STATIC_REQUIRE(C::epilogues.fused_away(3));
    using U = tn::unfused<tn::Sequential<tn::Input<8, 8, 3>, tn::Conv2D<4, tn::kernel<3, 3>, tn::no_bias>, tn::BatchNorm<>, tn::ReLU>>::program;
    STATIC_REQUIRE(U::epilogues.batchnorm[1] == tn::passes::none);
    STATIC_REQUIRE(U::epilogues.activation[1] == tn::passes::none);
    STATIC_REQUIRE(!U::epilogues.fused_away(2));
    // Only the passes a policy names are off.
    using OnlyBn = tn::with_policy<tn::Sequential<tn::Input<8, 8, 3>, tn::Conv2D<4, tn::kernel<3, 3>>, tn::BatchNorm<>, tn::ReLU>,
                                   tn::fusion_policy<true, false, false>>::program;
    STATIC_REQUIRE(OnlyBn::epilogues.batchnorm[1] == 2);
    STATIC_REQUIRE(OnlyBn::epilogues.activation[1] == tn::passes::none);

    // The residual add: in the graph x + h -> relu, node h (index 1) absorbs the add (2) and the relu (3).
    using E = DenseSkip::program;
    STATIC_REQUIRE(E::epilogues.add[1] == 2);
    STATIC_REQUIRE(E::epilogues.activation[1] == 3);
    STATIC_REQUIRE(E::epilogues.fused_away(2));
    STATIC_REQUIRE(E::epilogues.fused_away(3));
    STATIC_REQUIRE(std::is_same_v<E::fused_activation<1>, tn::relu>);
    STATIC_REQUIRE(SharedOperand::program::epilogues.add[1] == tn::passes::none);
    STATIC_REQUIRE(tn::unfused<DenseSkip>::program::epilogues.add[1] == tn::passes::none);
    // Inside Residual: the body's last convolution (BatchNorm folded) absorbs the add and relu.
    // Nodes: input, conv 0, bn 1, relu 2, conv 3, bn 4, add, relu.
    using R = tn::Sequential<tn::Input<9, 7, 8>, tn::Residual<Body<8>, tn::relu>>::program;
    STATIC_REQUIRE(R::epilogues.batchnorm[4] == 5);
    STATIC_REQUIRE(R::epilogues.add[4] == 6);
    STATIC_REQUIRE(R::epilogues.activation[4] == 7);
    STATIC_REQUIRE(R::epilogues.addend[4] == 0);
    // A relu before the add would have to come after it: then the add is a kernel of its own.
    using Late = tn::Sequential<tn::Input<6>, tn::Residual<tn::Sequential<tn::Dense<6>, tn::ReLU>>>::program;
    STATIC_REQUIRE(Late::epilogues.activation[1] == 2);
    STATIC_REQUIRE(Late::epilogues.add[1] == tn::passes::none);
    STATIC_REQUIRE(!Late::epilogues.fused_away(3));
    // Identity layers between the kernel and the add (EfficientNet's stochastic depth, a
    // Dropout): computed by the kernel too. Nodes: input, conv 1, bn 2, stochastic depth 3,
    // dropout 4, add 5, relu 6.
    using Sd = tn::Sequential<tn::Input<9, 7, 8>, tn::Residual<tn::Sequential<tn::Conv2D<8, tn::kernel<1>, tn::no_bias>, tn::BatchNorm<>,
                                                                         tn::StochasticDepth<1, 10>, tn::Dropout<1, 5>>,
                                                          tn::relu>>::program;
    STATIC_REQUIRE(Sd::epilogues.add[1] == 5);
    STATIC_REQUIRE(Sd::epilogues.activation[1] == 6);
    STATIC_REQUIRE(Sd::epilogues.head[3] == 1);
    STATIC_REQUIRE(Sd::epilogues.head[4] == 1);
    STATIC_REQUIRE(Sd::epilogues.tail[1] == 6);
    // ... not when the identity's value is read elsewhere too.
    constexpr auto read_twice = [] {
        auto x = tn::input<"x", 24>;
        auto h = tn::dense<"h", 24>(x);
        auto d = tn::layer<"d", tn::Dropout<1, 5>>(h);
        return tn::model(tn::inputs(x), tn::outputs(x + d, tn::dense<"g", 2>(d)));
    };
    STATIC_REQUIRE(decltype(read_twice())::program::epilogues.add[1] == tn::passes::none);
}

TEST_CASE("fused and unfused models compute the same", "[fusion]") {
    auto fused = tn::make<Net1>(tn::seed{4});
    auto plain = tn::make<Net1, tn::no_fusion>();
    // Non-trivial BatchNorm statistics.
    std::vector<float> w = fused.get_weights();
    for (const auto& p : tn::Net<Net1>::param_infos())
        if (p.spec.rank == 1)
            for (std::size_t i = 0; i < p.spec.size(); ++i)
                w[p.offset + i] = p.name.ends_with("var") || p.name.ends_with(".weight") ? 0.7f + 0.05f * float(i % 7) : 0.1f * float(int(i % 5) - 2);
    fused.set_weights(w);
    plain.set_weights(w);
    const auto x = ramp(5 * 9 * 7 * 8);
    require_near(run(fused, x, 5), run(plain, x, 5), 1e-6);

    using SdNet = tn::Sequential<tn::Input<9, 7, 8>, tn::Residual<tn::Sequential<tn::Conv2D<8, tn::kernel<1>>, tn::StochasticDepth<1, 10>>, tn::relu>,
                                 tn::GlobalAveragePool2D>;
    auto sd = tn::make<SdNet>(tn::seed{2});
    auto sd_plain = tn::make<SdNet, tn::no_fusion>();
    sd_plain.set_weights(sd.get_weights());
    require_near(run(sd, x, 5), run(sd_plain, x, 5), 1e-6);
    CHECK(tn::summary<SdNet>().find("conv+bias +add input, then relu") != std::string::npos);

    auto ds = tn::make<DenseSkip>(tn::seed{1});
    auto ds_plain = tn::make<DenseSkip, tn::no_fusion>();
    ds_plain.set_weights(ds.get_weights());
    for (std::size_t rows : {1u, 3u, 40u}) require_near(run(ds, ramp(rows * 24), rows), run(ds_plain, ramp(rows * 24), rows), 1e-6);

    // 24 channels (on AVX-512 the GEMM's paired tiles: kernels::detail::gemm_micro_paired) with
    // the residual add and ReLU, and with ReLU6's ceiling, in the epilogue.
    using Pairs = tn::Sequential<tn::Input<9, 7, 24>, tn::Residual<tn::Sequential<tn::Conv2D<24, tn::kernel<1>>>, tn::relu>,
                                 tn::Conv2D<24, tn::kernel<1>>, tn::ReLU6>;
    auto pairs = tn::make<Pairs>(tn::seed{6});
    auto pairs_plain = tn::make<Pairs, tn::no_fusion>();
    pairs_plain.set_weights(pairs.get_weights());
    const auto x24 = ramp(5 * 9 * 7 * 24);
    require_near(run(pairs, x24, 5), run(pairs_plain, x24, 5), 1e-6);
    CHECK(tn::summary<Pairs>().find("+relu6") != std::string::npos);
}

TEST_CASE("Concat in place: producers write their slices of the output", "[fusion][concat]") {
    using E = ConcatSlices::program;
    constexpr auto& e = E::epilogues;
    // IR nodes in order: x, a, b.0 (conv), b.1 (its BatchNorm), b.2 (its relu), p,
    // concat(a, x, b, p) = 6, f, u, v, concat(u, v) = 10.
    STATIC_REQUIRE(e.into[1] == 6);
    STATIC_REQUIRE(e.into[2] == 6);  // b's conv, with its BatchNorm folded and its relu fused
    STATIC_REQUIRE(e.into[5] == tn::passes::none);  // pooling copies
    STATIC_REQUIRE(e.slice_offset[1] == 0);
    STATIC_REQUIRE(e.slice_offset[2] == 4 + 3);
    STATIC_REQUIRE(e.into[8] == 10);
    STATIC_REQUIRE(e.into[9] == 10);
    STATIC_REQUIRE(e.slice_offset[9] == 7);
    STATIC_REQUIRE(tn::passes::inputs_in_place(e, 10) == 2);
    // The Concat is the model's second output: a and b write straight into the caller's buffer.
    STATIC_REQUIRE(E::plan.where[1] == tn::passes::Where::output);
    using U = tn::unfused<ConcatSlices>::program;
    STATIC_REQUIRE(U::epilogues.into[1] == tn::passes::none);
    STATIC_REQUIRE(ConcatSlices::workspace_bytes < tn::unfused<ConcatSlices>::workspace_bytes);

    auto fused = tn::make<ConcatSlices>(tn::seed{9});
    auto plain = tn::make<ConcatSlices, tn::no_fusion>();
    plain.set_weights(fused.get_weights());
    for (std::size_t rows : {1u, 2u, 13u}) {
        const auto x = ramp(rows * 6 * 5 * 3);
        std::vector<float> y0(rows * 16), c0(rows * 6 * 5 * 15), y1(y0.size()), c1(c0.size());
        const float* ins[] = {x.data()};
        float* o0[] = {y0.data(), c0.data()};
        float* o1[] = {y1.data(), c1.data()};
        fused.predict(ins, o0, rows);
        plain.predict(ins, o1, rows);
        require_near(y0, y1, 1e-6);
        require_near(c0, c1, 1e-6);
        for (std::size_t r = 0; r < rows; ++r)  // the copied input x is channels 4..6 of c
            for (std::size_t px = 0; px < 30; ++px)
                for (std::size_t ch = 0; ch < 3; ++ch) REQUIRE(c0[(r * 30 + px) * 15 + 4 + ch] == x[(r * 30 + px) * 3 + ch]);
    }
    const std::string s = tn::summary<ConcatSlices>();
    INFO(s);
    CHECK(s.find("merge (copies 2 of 4 inputs)") != std::string::npos);
    CHECK(s.find("view (no copy: its inputs write their slices)") != std::string::npos);
    CHECK(s.find("output 1 [7:12]") != std::string::npos);  // b's slice of the second output
}

TEST_CASE("fusion_plan and summary say which layers became which kernel", "[fusion]") {
    const std::string plan = tn::fusion_plan<Net1>();
    INFO(plan);
    CHECK(plan.find("Fusion plan: 6 kernels") != std::string::npos);  // 2 per block, pool, dense
    CHECK(plan.find("conv+bias (batchnorm folded) + Add + Activation<relu>") != std::string::npos);
    const std::string plain = tn::fusion_plan<Net1, tn::no_fusion>();
    CHECK(plain.find("Fusion plan: 16 kernels") != std::string::npos);
    const std::string s = tn::summary<Net1>();
    CHECK(s.find("fused into 0.0") != std::string::npos);  // the residual add of block 0
}

TEST_CASE("the memory plan: a constexpr arena, reused by liveness", "[fusion][plan]") {
    using Mlp = tn::Sequential<tn::Input<784>, tn::Dense<128, tn::relu>, tn::Dense<64, tn::relu>, tn::Dense<10, tn::softmax>>;
    static_assert(Mlp::workspace_bytes == (128 + 64) * sizeof(float));  // two buffers alternate
    static_assert(Mlp::workspace_bytes <= Mlp::naive_workspace_bytes);
    STATIC_REQUIRE(DenseSkip::workspace_bytes == 0);  // h is written straight into the output
}

TEST_CASE("the caller can supply the arena", "[fusion][arena]") {
    using M = Net1;
    auto net = tn::make<M>(tn::seed{2});
    constexpr std::size_t bytes = tn::Net<M>::arena_bytes(1);
    alignas(64) static std::byte arena[bytes];
    const auto x = ramp(9 * 7 * 8);
    std::vector<float> a(4), b(4);
    net.forward(x.data(), a.data());
    net.forward(x.data(), b.data(), std::span<std::byte>(arena, bytes));
    REQUIRE(a == b);
    // A batch through a small arena: fewer rows per block, same numbers.
    const auto xs = ramp(20 * 9 * 7 * 8);
    std::vector<float> ya(20 * 4), yb(20 * 4);
    net.predict(xs.data(), ya.data(), 20);
    std::vector<std::byte> some(tn::Net<M>::arena_bytes(3) + 64);
    auto* aligned = reinterpret_cast<std::byte*>((reinterpret_cast<std::uintptr_t>(some.data()) + 63) / 64 * 64);
    net.predict(xs.data(), yb.data(), 20, std::span<std::byte>(aligned, tn::Net<M>::arena_bytes(3)));
    require_near(yb, ya, 1e-6);
    REQUIRE_THROWS_WITH(net.forward(x.data(), b.data(), std::span<std::byte>(arena, bytes / 2)), Catch::Contains("arena_bytes(1)"));
}

namespace {
// Convolutions that only a floor pooling reads, and what that pooling reads of them.
// (The tutorial's sizes: its second convolution, 4.5 MFLOP, is split among threads for one sample.)
using KerasCnn = tn::Sequential<tn::Input<28, 28, 1>, tn::Conv2D<32, tn::kernel<3, 3>, tn::relu>, tn::MaxPool2D<2>,
                                tn::Conv2D<64, tn::kernel<3, 3>, tn::relu>, tn::MaxPool2D<2>, tn::Flatten, tn::Dense<10, tn::softmax>>;
// Same padding, stride 2, a folded BatchNorm and a fused ReLU before a 3x3/2 average pool
// that counts its padding (none after the map, so it may crop): 15x15 -> 8x8 -> 3x3, which reads 7x7.
using Strided = tn::Sequential<tn::Input<15, 15, 5>, tn::Conv2D<20, tn::kernel<3, 3>, tn::stride<2>, tn::padding_same, tn::no_bias>,
                               tn::BatchNorm<>, tn::ReLU, tn::AveragePool2D<3, tn::stride<2>, tn::count_include_pad>, tn::Flatten, tn::Dense<3>>;
// Depthwise (9x11, the pool reads 8x10), then a same-padded convolution (4x5, read 4x4; int8
// under the policy).
using Depthwise = tn::Sequential<tn::Input<11, 13, 16>, tn::DepthwiseConv2D<tn::kernel<3, 3>, tn::relu>, tn::MaxPool2D<2>,
                                 tn::Conv2D<24, tn::kernel<3, 3>, tn::padding_same>, tn::MaxPool2D<2, tn::stride<2>>, tn::Flatten,
                                 tn::Dense<4>>;
// Read by the pooling and by something else, or by a pooling that reads it all: nothing cropped.
constexpr auto two_readers = [] {
    auto x = tn::input<"x", 9, 9, 4>;
    auto c = tn::conv2d<"c", 6, tn::kernel<3, 3>>(x);  // 7x7
    auto p = tn::layer<"p", tn::MaxPool2D<2>>(c);      // reads 6x6
    auto g = tn::layer<"g", tn::GlobalAveragePool2D>(c);
    return tn::model(tn::inputs(x), tn::outputs(tn::layer<"f", tn::Flatten>(p), g));
};
using TwoReaders = decltype(two_readers());
using Same = tn::Sequential<tn::Input<9, 9, 4>, tn::Conv2D<6, tn::kernel<3, 3>>, tn::MaxPool2D<2, tn::padding_same>, tn::Flatten>;
using CeilMode = tn::Sequential<tn::Input<9, 9, 4>, tn::Conv2D<6, tn::kernel<3, 3>>, tn::MaxPool2D<2, tn::ceil_mode>, tn::Flatten>;

// Winograd cropped: 25x25 is 7x7 tiles in blocks of 17; MaxPool2D<3> reads 24x24, 6x6 tiles in
// blocks of 18: the crop's block is larger than the whole map's (the scratch holds it).
using WinogradCrop = tn::Sequential<tn::Input<27, 27, 64>, tn::Conv2D<64, tn::kernel<3>, tn::relu>, tn::MaxPool2D<3>, tn::Flatten>;
using NoCrop = tn::fusion_policy<true, true, true, true, false>;
// A convolution whose rows are tiles of 14 pixels (kernels::conv_plan: 28 columns, the only
// row tile it instantiates on AVX-512 with g++), cropped to 27 by MaxPool2D<3>: a tile and 13
// single pixels per row. 40 channels: a panel of two vectors and one of one.
using WideRows = tn::Sequential<tn::Input<30, 30, 3>, tn::Conv2D<40, tn::kernel<3>, tn::relu>, tn::MaxPool2D<3>, tn::Flatten>;

// The model with and without the crop: bitwise the same at batch 1, 3 and 5, on one thread and
// on a pool of two (one sample split by output pixels, a batch by rows).
template <class M, class Policy = tn::fuse_all>
void check_crop_bitwise() {
    using C = tn::with_policy<M, Policy>;
    using U = tn::with_policy<C, NoCrop>;
    auto cropped = tn::make<C>(tn::seed{11});
    auto whole = tn::make<U>();
    whole.set_weights(cropped.get_weights());
    tn::ThreadPool pool(2);
    for (std::size_t rows : {1, 3, 5}) {
        INFO("batch " << rows);
        const auto x = ramp(rows * tn::Net<C>::in_size);
        const auto a = run(cropped, x, rows), b = run(whole, x, rows);
        CHECK(a == b);
        std::vector<float> t(a.size());
        cropped.predict(x.data(), t.data(), rows, pool);
        CHECK(t == a);
    }
}
}  // namespace

TEST_CASE("crop_to_readers: a convolution computes only what its floor pooling reads", "[fusion][crop]") {
    // Keras' tutorial CNN: 11x11 (node 3), of which MaxPool2D<2> (node 4) reads 10x10; the
    // 26x26 map of the first convolution is read whole.
    using P = KerasCnn::program;
    STATIC_REQUIRE(P::crops.out[3] == std::array<std::size_t, 2>{10, 10});
    STATIC_REQUIRE(P::crops.in[4] == std::array<std::size_t, 2>{10, 10});
    STATIC_REQUIRE(P::crops.out[1] == std::array<std::size_t, 2>{0, 0});
    STATIC_REQUIRE(tn::MaxPool2D<2>::input_used<tn::Shape<11, 11, 16>> == std::array<std::size_t, 2>{10, 10});
    STATIC_REQUIRE(tn::MaxPool2D<3, tn::stride<2>>::input_used<tn::Shape<8, 9, 1>> == std::array<std::size_t, 2>{7, 9});
    STATIC_REQUIRE(tn::MaxPool2D<3, tn::stride<2>, tn::padding_tblr<1, 0, 1, 0>>::input_used<tn::Shape<9, 9, 1>> ==
                   std::array<std::size_t, 2>{8, 8});
    // Through a folded BatchNorm and a fused ReLU (the conv is node 1, the pool node 4).
    STATIC_REQUIRE(Strided::program::crops.out[1] == std::array<std::size_t, 2>{7, 7});
    STATIC_REQUIRE(Strided::program::crops.in[4] == std::array<std::size_t, 2>{7, 7});
    // Depthwise, and a same-padded convolution.
    STATIC_REQUIRE(Depthwise::program::crops.out[1] == std::array<std::size_t, 2>{8, 10});
    STATIC_REQUIRE(Depthwise::program::crops.out[3] == std::array<std::size_t, 2>{4, 4});
    // Not cropped: a second reader, a pooling that pads after the map or has ceil_mode, the
    // policy without the pass, and a fusion policy with every pass off.
    STATIC_REQUIRE(!TwoReaders::program::crops.any());
    STATIC_REQUIRE(!Same::program::crops.any());
    STATIC_REQUIRE(!CeilMode::program::crops.any());
    STATIC_REQUIRE(!tn::with_policy<KerasCnn, NoCrop>::program::crops.any());
    STATIC_REQUIRE(!tn::unfused<KerasCnn>::program::crops.any());

    STATIC_REQUIRE(WinogradCrop::program::crops.out[1] == std::array<std::size_t, 2>{24, 24});
    STATIC_REQUIRE(tn::Conv2D<64, tn::kernel<3>, tn::relu>::runs_winograd<tn::Shape<27, 27, 64>>);
    STATIC_REQUIRE(WideRows::program::crops.out[1] == std::array<std::size_t, 2>{27, 27});
    STATIC_REQUIRE(!tn::Conv2D<40, tn::kernel<3>, tn::relu>::runs_winograd<tn::Shape<30, 30, 3>>);
    SECTION("bitwise the whole map's numbers") {
        check_crop_bitwise<KerasCnn>();
        check_crop_bitwise<WinogradCrop>();
        check_crop_bitwise<WideRows>();
        check_crop_bitwise<Strided>();
        check_crop_bitwise<Depthwise>();
        check_crop_bitwise<Depthwise, tn::int8_weights>();
    }
    SECTION("the summary says what is computed") {
        const std::string s = tn::summary<KerasCnn>();
        CHECK(s.find("conv_winograd+bias+relu (10x10 of 11x11 pixels: what 3 reads)") != std::string::npos);
    }
}

namespace {

// Bands (passes/bands.hpp): a 1x1 expansion only a depthwise convolution reads, on a map of at
// least 512 KB. The stem writes the expansion's input into the arena, so the band step must keep
// it alive until its last band (the memory plan) — the depthwise output may not take its place.
template <std::size_t C, std::size_t K, std::size_t S, class Act>
using Expand = tn::Sequential<tn::Conv2D<C, tn::kernel<1>, tn::no_bias>, tn::BatchNorm<>, tn::Activation<Act>,
                              tn::DepthwiseConv2D<tn::kernel<K>, tn::stride<S>, tn::padding<K / 2>, tn::no_bias>, tn::BatchNorm<>,
                              tn::Activation<Act>>;
using BandStride1 = tn::Sequential<tn::Input<40, 48, 8>, tn::Conv2D<24, tn::kernel<3>, tn::padding<1>, tn::relu>,
                                   Expand<72, 3, 1, tn::relu6>, tn::Conv2D<16, tn::kernel<1>>>;
// 5x5 in a residual block (the block's input is also the Add's), an odd number of rows.
using BandResidual = tn::Sequential<tn::Input<45, 40, 8>, tn::Conv2D<16, tn::kernel<3>, tn::padding<1>>,
                                    tn::Residual<tn::Sequential<Expand<96, 5, 1, tn::silu>, tn::Conv2D<16, tn::kernel<1>>>>>;
// Stride 2, and a layer's own activation (not a separate layer) on the depthwise one.
using BandStride2 = tn::Sequential<tn::Input<57, 56, 16>, tn::Conv2D<48, tn::kernel<1>, tn::hard_swish>,
                                   tn::DepthwiseConv2D<tn::kernel<3>, tn::stride<2>, tn::padding<1>, tn::relu>>;
// Not banded: a small map; a 1x1 convolution read twice; a depthwise layer with dilation.
using BandSmall = tn::Sequential<tn::Input<16, 16, 8>, Expand<32, 3, 1, tn::relu6>>;
constexpr auto band_two_readers = [] {
    auto x = tn::input<"x", 40, 48, 8>;
    auto e = tn::conv2d<"e", 72, tn::kernel<1>, tn::relu>(x);
    auto d = tn::layer<"d", tn::DepthwiseConv2D<tn::kernel<3>, tn::padding<1>>>(e);
    return tn::model(tn::inputs(x), tn::outputs(d, e));
};
using BandTwoReaders = decltype(band_two_readers());
using BandDilated = tn::Sequential<tn::Input<40, 48, 8>, tn::Conv2D<72, tn::kernel<1>>,
                                   tn::DepthwiseConv2D<tn::kernel<3>, tn::dilation<2>, tn::padding<2>>>;
// After the depthwise layer: the 1x1 convolution that alone reads it, on each band — with no
// expansion before it (the model's input), at stride 2 after an expansion, with an odd number
// of output rows; and not when its value has a second reader.
using BandAfter = tn::Sequential<tn::Input<64, 66, 32>, tn::DepthwiseConv2D<tn::kernel<3>, tn::padding<1>, tn::relu6>,
                                 tn::Conv2D<16, tn::kernel<1>>>;
using BandAfterStride2 = tn::Sequential<tn::Input<57, 50, 16>, Expand<96, 3, 2, tn::relu6>, tn::Conv2D<24, tn::kernel<1>, tn::no_bias>,
                                        tn::BatchNorm<>, tn::GlobalAveragePool2D>;
// Whether nodes a and b of M have arena buffers that do not overlap.
template <class M>
constexpr bool apart(std::size_t a, std::size_t b) {
    constexpr auto& plan = M::program::plan;
    constexpr auto& facts = M::program::facts;
    return plan.offset[a] + facts.floats[a] <= plan.offset[b] || plan.offset[b] + facts.floats[b] <= plan.offset[a];
}
constexpr auto band_after_two_readers = [] {
    auto x = tn::input<"x", 64, 66, 32>;
    auto d = tn::layer<"d", tn::DepthwiseConv2D<tn::kernel<3>, tn::padding<1>>>(x);
    auto q = tn::conv2d<"q", 16, tn::kernel<1>>(d);
    return tn::model(tn::inputs(x), tn::outputs(q, d));
};
using BandAfterTwoReaders = decltype(band_after_two_readers());
using NoBands = tn::fusion_policy<true, true, true, true, true, false>;

// An executor that claims three threads but runs its tasks one after another, last first: the
// leader then runs every share of the bands, in order.
struct OneByOne {
    std::size_t concurrency() const { return 3; }
    void run(std::size_t tasks, tn::TaskRef f) const {
        for (std::size_t i = tasks; i-- > 0;) f(i);
    }
};

// Banded (one thread) against the same model without the pass, and against one sample on two
// and three threads (which split each sample's bands, each share's buffers in the values the
// step never writes whole: Program::SharedBandStep): bitwise, at batch 1 and 3.
template <class M>
void check_bands_bitwise() {
    const auto net = tn::make<M>(tn::seed{9});
    auto plain = tn::make<M, NoBands>();
    plain.set_weights(net.get_weights());
    STATIC_REQUIRE(!tn::with_policy<M, NoBands>::program::bands.any());
    for (std::size_t rows : {1, 3}) {
        const std::vector<float> x = ramp(rows * tn::Net<M>::in_size);
        const std::vector<float> banded = run(net, x, rows), whole = run(plain, x, rows);
        CHECK(banded == whole);
    }
    check_two_threads(net);
    const std::vector<float> x = ramp(tn::Net<M>::in_size), one = run(net, x, 1);
    tn::ThreadPool three(3);
    OneByOne serial;
    std::vector<float> shared(tn::Net<M>::out_size);
    net.forward(x.data(), shared.data(), three);
    CHECK(shared == one);
    std::fill(shared.begin(), shared.end(), -7.f);
    net.forward(x.data(), shared.data(), serial);
    CHECK(shared == one);
}

}  // namespace

TEST_CASE("bands: a 1x1 convolution runs band by band in the depthwise layer that reads it", "[fusion][bands]") {
    // Nodes: input 0, stem 1, expansion 2 (BatchNorm 3, activation 4), depthwise 5.
    STATIC_REQUIRE(BandStride1::program::bands.producer[5] == 2);
    STATIC_REQUIRE(BandStride1::program::bands.reader[2] == 5);
    STATIC_REQUIRE(BandStride1::program::bands.count[5] == 4);  // ~192 KB of 13.5 KB rows: 10 output rows a band
    STATIC_REQUIRE(BandStride1::program::bands.held[5] == 12);
    STATIC_REQUIRE(BandResidual::program::bands.producer[5] == 2);
    STATIC_REQUIRE(BandStride2::program::bands.producer[2] == 1);
    STATIC_REQUIRE(!BandSmall::program::bands.any());
    STATIC_REQUIRE(!BandTwoReaders::program::bands.any());
    STATIC_REQUIRE(!BandDilated::program::bands.any());
    STATIC_REQUIRE(!tn::unfused<BandStride1>::program::bands.any());
    // The 1x1 convolution after: on each band (the projection; in a residual block, with the
    // block's input added in its epilogue).
    STATIC_REQUIRE(BandStride1::program::bands.consumer[5] == 8);
    STATIC_REQUIRE(BandStride1::program::bands.reader[8] == 5);
    STATIC_REQUIRE(BandResidual::program::bands.consumer[5] == 8);
    STATIC_REQUIRE(BandStride2::program::bands.consumer[2] == tn::passes::none);  // (its value is the model's output)
    STATIC_REQUIRE(BandAfter::program::bands.producer[1] == tn::passes::none);
    STATIC_REQUIRE(BandAfter::program::bands.consumer[1] == 2);
    STATIC_REQUIRE(BandAfter::program::bands.count[1] == 3);  // ~192 KB of 8.25 KB output rows: 22 rows a band
    STATIC_REQUIRE(BandAfterStride2::program::bands.producer[4] == 1);
    STATIC_REQUIRE(BandAfterStride2::program::bands.consumer[4] == 7);
    STATIC_REQUIRE(!BandAfterTwoReaders::program::bands.any());
    // Its value is written from the depthwise layer's first band on, so it may not take the
    // place of the expansion's or the depthwise layer's (the threads' path writes them).
    STATIC_REQUIRE(BandAfterStride2::program::plan.where[7] == tn::passes::Where::arena);
    STATIC_REQUIRE(apart<BandAfterStride2>(7, 1));
    STATIC_REQUIRE(apart<BandAfterStride2>(7, 4));
    // The expansion's input lives until the depthwise layer's last band.
    STATIC_REQUIRE(BandStride1::program::plan.last_use[1] == 5);
    // One sample on several threads: at most as many shares of the bands as the values the
    // step never writes whole hold buffers for — the expansion's (40 rows of 12 held) and the
    // depthwise layer's (40 rows of 10) — and the shared band step is the pass's only team phase.
    STATIC_REQUIRE(BandStride1::program::band_pieces(5) == 3);
    STATIC_REQUIRE(BandAfter::program::band_pieces(1) == 2);          // 64 rows of 22 (no expansion)
    STATIC_REQUIRE(BandAfterStride2::program::band_pieces(4) == 4);   // (at most band_pieces_most)
    STATIC_REQUIRE(BandStride1::program::band_pieces(2) == 1);        // not a band step
    STATIC_REQUIRE(BandAfter::program::any_shared);
    STATIC_REQUIRE(BandStride1::program::arena_floats(1) >=
                   BandStride1::program::plan.activation_floats + BandStride1::program::bands.held[5] * 48 * 72);

    SECTION("bitwise the unbanded numbers") {
        check_bands_bitwise<BandStride1>();
        check_bands_bitwise<BandResidual>();
        check_bands_bitwise<BandStride2>();
        check_bands_bitwise<BandAfter>();
        check_bands_bitwise<BandAfterStride2>();
    }
    SECTION("the summary and the profile say so") {
        const std::string s = tn::summary<BandStride1>();
        CHECK(s.find("conv+bias+relu6 (batchnorm folded), computed band by band by 1.3") != std::string::npos);
        CHECK(s.find("depthwise+bias+relu6 (batchnorm folded), in 4 bands of rows, each after its rows of 1.0 and before 2 on them") !=
              std::string::npos);
        CHECK(s.find("conv+bias, computed on each band of 1.3") != std::string::npos);
        CHECK(tn::summary<BandAfter>().find("in 3 bands of rows, each before 1 on them") != std::string::npos);
        const auto net = tn::make<BandStride1>();
        const tn::Profile p = tn::profile(net, 1, 3);
        std::size_t kernels = 0;
        for (const auto& r : p.rows) kernels += r.kind != tn::RowKind::block;
        CHECK(kernels == 4);  // the stem, the expansion, the depthwise, the projection (each its bands' parts)
    }
}

namespace {

// Gates into weights (passes/gates.hpp): squeeze-and-excitation that only a 1x1 convolution
// reads runs no pass of its own; the convolution takes its gate into its weights.
template <class SE, std::size_t Out>
using GatedBlock = tn::Sequential<tn::Conv2D<48, tn::kernel<1>, tn::no_bias>, tn::BatchNorm<>, tn::Activation<tn::silu>,
                                  tn::DepthwiseConv2D<tn::kernel<3>, tn::padding<1>, tn::no_bias>, tn::BatchNorm<>, tn::Activation<tn::silu>, SE,
                                  tn::Conv2D<Out, tn::kernel<1>, tn::no_bias>, tn::BatchNorm<>>;
using Gated = tn::Sequential<tn::Input<15, 13, 16>, GatedBlock<tn::SqueezeExcite<4, tn::silu, tn::sigmoid>, 24>>;
using GatedResidual = tn::Sequential<tn::Input<15, 13, 16>, tn::Residual<GatedBlock<tn::SqueezeExcite<12, tn::relu, tn::hard_sigmoid>, 16>>,
                                     tn::GlobalAveragePool2D>;
// Not gated: a map of fewer floats than the weights (scaling it is the less work); a second reader.
using GatedSmallMap = tn::Sequential<tn::Input<2, 2, 64>, tn::SqueezeExcite<8>, tn::Conv2D<128, tn::kernel<1>>>;
constexpr auto gated_two_readers = [] {
    auto x = tn::input<"x", 15, 13, 48>;
    auto s = tn::layer<"se", tn::SqueezeExcite<4>>(x);
    auto q = tn::conv2d<"q", 24, tn::kernel<1>>(s);
    return tn::model(tn::inputs(x), tn::outputs(q, s));
};
using GatedTwoReaders = decltype(gated_two_readers());
using NoGates = tn::fusion_policy<true, true, true, true, true, true, false>;

// Against the same model scaling the map (the rounding of one product per term apart), at
// batch 1 and 3; one sample on two threads bitwise one thread's.
template <class M>
void check_gated() {
    const auto net = tn::make<M>(tn::seed{4});
    auto plain = tn::make<M, NoGates>();
    plain.set_weights(net.get_weights());
    STATIC_REQUIRE(!tn::with_policy<M, NoGates>::program::gates.any());
    for (std::size_t rows : {1, 3}) {
        const std::vector<float> x = ramp(rows * tn::Net<M>::in_size);
        require_near(run(net, x, rows), run(plain, x, rows), 1e-5);
    }
    check_two_threads(net);
}

}  // namespace

TEST_CASE("gates: a squeeze-and-excitation's gate goes into the weights of the 1x1 convolution that reads it", "[fusion][gates]") {
    // Nodes: input 0, expansion 1 (BatchNorm 2, SiLU 3), depthwise 4 (5, 6), SE 7, projection 8 (BatchNorm 9).
    STATIC_REQUIRE(Gated::program::gates.applier[7] == 8);
    STATIC_REQUIRE(Gated::program::gates.gate[8] == 7);
    STATIC_REQUIRE(GatedResidual::program::gates.applier[7] == 8);
    STATIC_REQUIRE(!GatedSmallMap::program::gates.any());
    STATIC_REQUIRE(!GatedTwoReaders::program::gates.any());
    STATIC_REQUIRE(!tn::unfused<Gated>::program::gates.any());
    // Scratch holds the scaled weights, the gate and the gate's own scratch.
    STATIC_REQUIRE(Gated::program::scratch_floats(1) >= Gated::program::facts.packed[8] + 2 * 48);

    SECTION("the numbers of scaling the map") {
        check_gated<Gated>();
        check_gated<GatedResidual>();
    }
    SECTION("the summary and the profile say so") {
        const std::string s = tn::summary<Gated>();
        CHECK(s.find("no pass: its gate taken into the weights of 0.7") != std::string::npos);
        CHECK(s.find("(its weights times the gate of 0.6)") != std::string::npos);
        const auto net = tn::make<Gated>();
        const tn::Profile p = tn::profile(net, 1, 3);
        for (const auto& r : p.rows) CHECK(r.path != "0.6");  // no pass of its own
    }
}

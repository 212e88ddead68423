// Threads only when asked (runtime/threads.hpp): predict on an executor gives bitwise the
// outputs of one thread, whatever the batch and the thread count, and so does forward (one
// sample, its convolutions split across threads); the pool runs every task
// once, is shared safely by several callers, and a user's own executor works the same way.
// Built with ThreadSanitizer by tools/test.sh.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstring>
#include <memory>
#include <random>
#include <span>
#include <thread>
#include <vector>

#include <typenet/typenet.hpp>

#include "../../examples/resnet20.hpp"
#include "../../examples/tutorial_cnn.hpp"
#include "models.hpp"
#include "../sanitized.hpp"

namespace tn = typenet;

namespace {
// A user's executor: a std::jthread per task beyond the first, started per call. Slow, but
// all the interface asks for.
struct JThreads {
    std::size_t n;
    std::size_t concurrency() const { return n; }
    void run(std::size_t tasks, tn::TaskRef f) const {
        std::vector<std::jthread> threads;
        for (std::size_t i = 1; i < tasks; ++i) threads.emplace_back([f, i] { f(i); });
        f(0);
    }
};
static_assert(tn::Executor<tn::ThreadPool> && tn::Executor<tn::Inline> && tn::Executor<JThreads>);
static_assert(!tn::Executor<int> && !tn::Executor<tn::Net<test_models::Mnist>::Workspace>);

// Two inputs, two outputs.
constexpr auto two_inputs = [] {
    auto a = tn::input<"a", 12>;
    auto b = tn::input<"b", 5>;
    auto h = tn::concat(tn::dense<"h", 16, tn::relu>(a), b);
    return tn::model(tn::inputs(a, b), tn::outputs(tn::dense<"y", 3>(h), tn::dense<"z", 2>(h)));
};

// Batch sizes: the full list, or under the sanitizers (several times slower) a shorter one that
// still has a batch below the thread count and one with a remainder.
std::vector<std::size_t> batches(std::initializer_list<std::size_t> full, std::initializer_list<std::size_t> sanitized) {
    return test_env::sanitized ? std::vector<std::size_t>(sanitized) : std::vector<std::size_t>(full);
}

template <class M, class E>
void check_bitwise(E& executor, const std::vector<std::size_t>& batches) {
    const auto net = tn::make<M>(tn::seed{11});
    using N = tn::Net<M>;
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    for (const std::size_t n : batches) {
        std::vector<float> xs(n * N::in_size);
        for (auto& v : xs) v = u(rng);
        std::vector<float> one(n * N::out_size), many(n * N::out_size, -7.f);
        net.predict(xs.data(), one.data(), n);
        net.predict(xs.data(), many.data(), n, executor);
        INFO("batch " << n << ", " << executor.concurrency() << " threads");
        CHECK(std::memcmp(one.data(), many.data(), one.size() * sizeof(float)) == 0);
    }
}
}  // namespace

TEST_CASE("predict's row split: equal runs of several blocks where they leave the same rows alone", "[threads][predict]") {
    using tn::detail::RowSplit;
    auto tasks = [](const RowSplit& s) {
        std::vector<std::pair<std::size_t, std::size_t>> t;
        for (std::size_t i = 0; i < s.tasks(); ++i) t.push_back(s.task(i));
        return t;
    };
    using Tasks = std::vector<std::pair<std::size_t, std::size_t>>;
    // The Keras CNN's blocks of 12, batch 64 on two threads: 32 + 32 rows, not the blocks
    // 12, 12, 12, 12, 12, 4 taken in turn (36 + 28).
    CHECK(tasks(RowSplit(64, 12, 32)) == Tasks{{0, 32}, {32, 32}});
    CHECK(tasks(RowSplit(64, 12, 22)) == Tasks{{0, 22}, {22, 22}, {44, 20}});
    // 61 = 5 x 12 + 1: one thread runs the last row alone; so does its own task here.
    CHECK(tasks(RowSplit(61, 12, 31)) == Tasks{{0, 31}, {31, 29}, {60, 1}});
    // Blocks of 8: runs of 9 would end in a block of one row: blocks (and pieces) instead.
    CHECK(!RowSplit(18, 8, 9).spans);
    CHECK(tasks(RowSplit(18, 8, 9)) == Tasks{{0, 8}, {8, 8}, {16, 2}});
    // Blocks of 256 (the MLP), 513 on two threads: runs of 257 would end in a lone row.
    CHECK(!RowSplit(513, 256, 257).spans);
    // Runs within one block stay pieces of a block.
    CHECK(tasks(RowSplit(17, 12, 9)) == Tasks{{0, 9}, {9, 3}, {12, 5}});
    CHECK(tasks(RowSplit(5, 1, 3)) == Tasks{{0, 3}, {3, 2}});  // blocks of one row: every row alone anyway
}

// A one-sample arena above TYPENET_BLOCK_ARENA_BYTES: predict runs one sample at a time, but
// the classifier after the pooling (1.3 MB of weights) on up to tail_rows samples at once
// (Program::run_with_tail), its value kept in the arena's stash between the samples.
using LargeMapClassifier = tn::Sequential<tn::Input<96, 96, 8>, tn::Conv2D<64, tn::kernel<3, 3>, tn::padding_same, tn::relu>,
                                          tn::GlobalAveragePool2D, tn::Dense<512, tn::relu>, tn::Dropout<1, 4>, tn::Dense<600>>;
static_assert(tn::Net<LargeMapClassifier>::block_rows == 1);
static_assert(LargeMapClassifier::program::tail_begin == 3 && LargeMapClassifier::program::tail_rows >= 3);
// A sample within the block budget: predict runs blocks of samples already, and no region is
// set aside for a tail.
using SmallDenseStack = tn::Sequential<tn::Input<1280>, tn::Dense<1000, tn::relu>, tn::Dense<1000>>;
static_assert(SmallDenseStack::program::tail_begin == 2 && SmallDenseStack::program::tail_rows == 0 && tn::Net<SmallDenseStack>::block_rows > 1);

TEST_CASE("predict runs a large network's classifier on several samples at once, as one sample", "[threads][predict]") {
    const auto net = tn::make<LargeMapClassifier>(tn::seed{5});
    using N = tn::Net<LargeMapClassifier>;
    constexpr std::size_t R = LargeMapClassifier::program::tail_rows;
    std::mt19937 rng(9);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    tn::ThreadPool two(2);
    for (const std::size_t n : batches({2, 3, R - 1, R, R + 1, R + 2, 2 * R + 1, 3 * R}, {2, R + 1})) {
        std::vector<float> xs(n * N::in_size);
        for (auto& v : xs) v = u(rng);
        std::vector<float> batch(n * N::out_size, -7.f), alone(n * N::out_size), threaded(n * N::out_size, -7.f);
        net.predict(xs.data(), batch.data(), n);
        for (std::size_t r = 0; r < n; ++r) net.forward(xs.data() + r * N::in_size, alone.data() + r * N::out_size);
        net.predict(xs.data(), threaded.data(), n, two);
        INFO("batch " << n);
        float largest = 0;
        for (float v : alone) largest = std::max(largest, std::abs(v));
        for (std::size_t i = 0; i < alone.size(); ++i) REQUIRE(std::abs(batch[i] - alone[i]) <= 1e-6f * largest);
        CHECK(std::memcmp(batch.data(), threaded.data(), batch.size() * sizeof(float)) == 0);
        // The caller's arena of one sample: the same blocks.
        std::vector<std::byte> arena(N::arena_bytes(1) + tn::kernels::alignment);
        void* p = arena.data();
        std::size_t space = arena.size();
        std::span<std::byte> aligned(static_cast<std::byte*>(std::align(tn::kernels::alignment, N::arena_bytes(1), p, space)), N::arena_bytes(1));
        std::vector<float> own(n * N::out_size, -7.f);
        net.predict(xs.data(), own.data(), n, aligned);
        CHECK(std::memcmp(batch.data(), own.data(), batch.size() * sizeof(float)) == 0);
    }
}

TEST_CASE("predict on a pool gives bitwise the outputs of one thread", "[threads][predict]") {
    tn::ThreadPool two(2), three(3);
    CHECK(two.concurrency() == 2);
    CHECK(three.concurrency() == 3);
    for (tn::ThreadPool* pool : {&two, &three}) {
        check_bitwise<test_models::Mnist>(*pool, batches({1, 2, 3, 5, 13, 64, 300, 513}, {1, 3, 13, 300}));
        // Blocks of 12 (the CNN) and 8 (ResNet-20) with AVX-512: 64, 61 and 24 run as runs of
        // several blocks per thread (61: its last row alone, as on one thread), 18 block by block.
        check_bitwise<example::TutorialCnn>(*pool, batches({1, 3, 4, 17, 61, 64}, {1, 5}));
        check_bitwise<resnet::ResNet20>(*pool, batches({2, 3, 4, 9, 18, 24}, {3, 4}));
        check_bitwise<test_models::SmallCnn>(*pool, batches({7, 40}, {7}));
    }
    JThreads user{4};
    check_bitwise<example::TutorialCnn>(user, batches({1, 33}, {1, 9}));
    tn::Inline alone;
    check_bitwise<test_models::Mnist>(alone, {5});
}

namespace {
// Every way a convolution's output is used: fused activation, a residual added in its
// epilogue, a slice of a Concat, a 1x1 GEMM, strided, dilated, narrow and wide maps.
template <std::size_t F, std::size_t K>
using ConvReLU = tn::Sequential<tn::Conv2D<F, tn::kernel<K, K>, tn::padding_same>, tn::ReLU>;
using Inception = tn::Sequential<
    tn::Input<14, 14, 24>,
    tn::Branch<tn::Concat<>, ConvReLU<16, 1>, tn::Sequential<tn::Conv2D<12, tn::kernel<1, 1>>, tn::ReLU, ConvReLU<20, 3>>,
               tn::Sequential<ConvReLU<8, 5>>, tn::Sequential<tn::MaxPool2D<3, tn::stride<1>, tn::padding_same>, ConvReLU<8, 1>>>,
    tn::Residual<tn::Sequential<tn::Conv2D<52, tn::kernel<3, 3>, tn::padding_same, tn::dilation<2>>, tn::BatchNorm<>>, tn::relu>,
    tn::Conv2D<40, tn::kernel<3, 3>, tn::stride<2>, tn::tanh>, tn::GlobalAveragePool2D, tn::Dense<10>>;
// Small maps whose weights stream from beyond L2, shared by output channels: Winograd (in
// vectors), the direct sum and a 1x1 GEMM (in panels); counts that are not whole vectors or
// panels (the last share a part of one), a residual added in the epilogue, slices of a Concat.
using NarrowMaps = tn::Sequential<
    tn::Input<6, 6, 160>, tn::Conv2D<200, tn::kernel<3, 3>, tn::padding_same, tn::relu>,
    tn::Residual<tn::Sequential<tn::Conv2D<200, tn::kernel<3, 3>, tn::padding_same>, tn::BatchNorm<>>, tn::relu>,
    tn::Branch<tn::Concat<>, ConvReLU<72, 3>, ConvReLU<136, 3>>,
    tn::Conv2D<160, tn::kernel<3, 3>, tn::padding_same, tn::direct, tn::relu>, tn::Conv2D<1700, tn::kernel<1, 1>, tn::relu>,
    tn::Conv2D<40, tn::kernel<3, 3>, tn::hard_swish>, tn::GlobalAveragePool2D, tn::Dense<10>>;
// Depthwise convolutions shared by bands of output rows: an odd row count at stride 1 (the
// last row alone), stride 2 with a 5x5 window, channels that are not whole vectors, a residual
// around an inverted bottleneck, and a dilated one (not shared: one thread).
using Depthwise = tn::Sequential<
    tn::Input<41, 41, 24>,
    tn::Residual<tn::Sequential<tn::Conv2D<144, tn::kernel<1, 1>, tn::relu6>, tn::DepthwiseConv2D<tn::kernel<3, 3>, tn::padding_same, tn::relu6>,
                                tn::Conv2D<24, tn::kernel<1, 1>>>>,
    tn::Conv2D<72, tn::kernel<1, 1>, tn::hard_swish>, tn::DepthwiseConv2D<tn::kernel<5, 5>, tn::stride<2>, tn::padding<2>, tn::hard_swish>,
    tn::DepthwiseConv2D<tn::kernel<3, 3>, tn::padding_same, tn::dilation<2>>, tn::Conv2D<40, tn::kernel<1, 1>>, tn::GlobalAveragePool2D,
    tn::Dense<10>>;

// A 7x7 map (ResNet's last stage): one thread runs its 49 pixels as seven tiles of 7
// (kernels::detail::row_step), two or three threads their shares in tiles of 12 and less —
// each pixel the same chain of FMAs either way. A strided 3x3 and a 1x1 at stride 2 onto the
// 7x7 map (the gather loop), a 3x3 on it, and 1x1 GEMMs of 49 rows.
using SevenBySeven = tn::Sequential<
    tn::Input<14, 14, 48>,
    tn::Branch<tn::Concat<>, tn::Conv2D<40, tn::kernel<3, 3>, tn::stride<2>, tn::padding<1>, tn::relu>, tn::Conv2D<24, tn::kernel<1, 1>, tn::stride<2>>>,
    tn::Conv2D<56, tn::kernel<3, 3>, tn::padding_same, tn::direct, tn::relu>, tn::Conv2D<70, tn::kernel<1, 1>, tn::relu>,
    tn::Residual<tn::Sequential<tn::Conv2D<70, tn::kernel<1, 1>>, tn::BatchNorm<>>, tn::relu>, tn::GlobalAveragePool2D, tn::Dense<10>>;

// Squeeze-and-excitation taken into the weights of the 1x1 convolution after it
// (passes/gates.hpp), in a residual: on several threads the gate is the leader's, the weights
// times it are split by panels (three panels: 96 channels; 40: one and a partial one) and the
// convolution by rows of its map — an odd row count.
using Gated = tn::Sequential<
    tn::Input<23, 20, 40>, tn::Conv2D<144, tn::kernel<1, 1>, tn::silu>, tn::DepthwiseConv2D<tn::kernel<3, 3>, tn::padding_same, tn::silu>,
    tn::SqueezeExcite<12, tn::silu, tn::sigmoid>, tn::Conv2D<96, tn::kernel<1, 1>>,
    tn::Residual<tn::Sequential<tn::Conv2D<192, tn::kernel<1, 1>, tn::relu>, tn::SqueezeExcite<24, tn::relu, tn::hard_sigmoid>,
                                tn::Conv2D<96, tn::kernel<1, 1>>>>,
    tn::Conv2D<40, tn::kernel<1, 1>>, tn::GlobalAveragePool2D, tn::Dense<10>>;

// A classifier whose weights stream from memory (5.6 and 4.4 MB): on several threads each
// takes whole groups of the matrix-vector kernel's panels (35 panels: 8 groups of 4 and 3 more).
using Classifier = tn::Sequential<tn::Input<7, 7, 64>, tn::Conv2D<1280, tn::kernel<1, 1>, tn::relu>, tn::GlobalAveragePool2D,
                                  tn::Dense<1100, tn::hard_swish>, tn::Dense<1000>, tn::Dense<10, tn::softmax>>;

namespace zoo_like {
// EfficientNet-B0's last gated block on its 7x7 map: 7 rows for 5 threads.
using SevenRows = tn::Sequential<tn::Input<7, 7, 192>, tn::Conv2D<1152, tn::kernel<1, 1>, tn::silu>,
                                 tn::DepthwiseConv2D<tn::kernel<5, 5>, tn::padding_same, tn::silu>, tn::SqueezeExcite<48, tn::silu, tn::sigmoid>,
                                 tn::Conv2D<320, tn::kernel<1, 1>>>;
}  // namespace zoo_like

template <class M>
void check_shared_forward(tn::ThreadPool& pool) {
    const auto net = tn::make<M>(tn::seed{21});
    using N = tn::Net<M>;
    std::mt19937 rng(9);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    std::vector<float> x(N::in_size), one(N::out_size), many(N::out_size, -7.f);
    for (int rep = 0; rep < (test_env::sanitized ? 1 : 3); ++rep) {
        for (auto& v : x) v = u(rng);
        net.forward(x.data(), one.data());
        net.forward(x.data(), many.data(), pool);
        INFO(tn::layer_name<M>() << ", " << pool.concurrency() << " threads");
        CHECK(std::memcmp(one.data(), many.data(), one.size() * sizeof(float)) == 0);
        net.predict(x.data(), many.data(), 1, pool);  // a batch of one: the same
        CHECK(std::memcmp(one.data(), many.data(), one.size() * sizeof(float)) == 0);
    }
}
}  // namespace

TEST_CASE("one sample on a pool: the convolutions split their pixels, bitwise the outputs of one thread", "[threads][forward]") {
    using First = tn::Conv2D<200, tn::kernel<3, 3>, tn::padding_same, tn::relu>;
    using In = tn::Shape<6, 6, 160>;
    STATIC_REQUIRE(First::runs_winograd<In>);
    STATIC_REQUIRE(First::shares<In>);  // by output channels: 4 tiles are too few to split
    STATIC_REQUIRE(!tn::kernels::winograd_shares_tiles(First::geometry<In>(), First::winograd_tile<In>));
    using Dw = tn::DepthwiseConv2D<tn::kernel<3, 3>, tn::padding_same, tn::relu6>;
    STATIC_REQUIRE(Dw::shares<tn::Shape<41, 41, 144>> && Dw::share_phases<tn::Shape<41, 41, 144>> == 1);
    STATIC_REQUIRE(!tn::DepthwiseConv2D<tn::kernel<3, 3>, tn::padding_same, tn::dilation<2>>::shares<tn::Shape<21, 21, 72>>);
    STATIC_REQUIRE(tn::Dense<1100, tn::hard_swish>::shares<tn::Shape<1280>>);
    STATIC_REQUIRE([] {  // the 1x1 convolution and the two large Dense layers
        std::size_t n = 0;
        for (bool b : Classifier::program::shared) n += b;
        return n;
    }() == 3);
    STATIC_REQUIRE(tn::Dense<1000>::shares<tn::Shape<1100>>);
    STATIC_REQUIRE(!tn::Dense<10>::shares<tn::Shape<1000>>);          // (its weights stay in cache)
    STATIC_REQUIRE(!tn::Dense<512, tn::bf16_weights>::shares<tn::Shape<1024>>);
    // Both gated 1x1 convolutions of Gated share their weights and rows.
    STATIC_REQUIRE([] {
        using P = Gated::program;
        std::size_t n = 0;
        for (std::size_t k = 0; k < P::K; ++k) n += P::shares_gated(k) && P::gates.gate[k] != tn::passes::none;
        return n;
    }() == 2);
    // ... and under bf16 (the gate rounded into the bf16 weights: kernels::scale_packed_pairs).
    STATIC_REQUIRE([] {
        using P = tn::with_policy<Gated, tn::bf16_weights>::program;
        std::size_t n = 0;
        for (std::size_t k = 0; k < P::K; ++k) n += P::shares_gated(k) && P::gates.gate[k] != tn::passes::none;
        return n;
    }() == 2);
    // The inverted residual's expansion (41x41x144, 968 KB) runs in bands, which one sample
    // on several threads splits among them (Program::SharedBandStep).
    STATIC_REQUIRE([] {
        using P = Depthwise::program;
        for (std::size_t k = 0; k < P::K; ++k)
            if (P::bands.producer[k] != tn::passes::none && P::bands.consumer[k] != tn::passes::none && P::band_pieces(k) >= 2) return true;
        return false;
    }());
    // Winograd on one sample: by tiles from 16 of them (ResNet-20's 16x16x32: 8 a thread), by
    // output channels on a map of fewer that is 64 channels in and out (its 8x8x64: 4 tiles);
    // not the Keras CNN's 13x13x32 -> 64, which did not gain (kernels/winograd.hpp).
    using W32 = tn::Conv2D<32, tn::kernel<3, 3>, tn::padding<1>>;
    using W64 = tn::Conv2D<64, tn::kernel<3, 3>, tn::padding<1>>;
    STATIC_REQUIRE(W32::runs_winograd<tn::Shape<16, 16, 32>> && W32::shares<tn::Shape<16, 16, 32>>);
    STATIC_REQUIRE(tn::kernels::winograd_shares_tiles(W32::geometry<tn::Shape<16, 16, 32>>(), W32::winograd_tile<tn::Shape<16, 16, 32>>));
    STATIC_REQUIRE(W64::runs_winograd<tn::Shape<8, 8, 64>> && W64::shares<tn::Shape<8, 8, 64>>);
    STATIC_REQUIRE(!tn::kernels::winograd_shares_tiles(W64::geometry<tn::Shape<8, 8, 64>>(), W64::winograd_tile<tn::Shape<8, 8, 64>>));
    using CnnConv = tn::Conv2D<64, tn::kernel<3, 3>, tn::relu>;
    STATIC_REQUIRE(CnnConv::runs_winograd<tn::Shape<13, 13, 32>> && !CnnConv::shares<tn::Shape<13, 13, 32>>);
    // So ResNet-20 splits eighteen of its nineteen 3x3 convolutions, sixteen Winograd and two
    // strided: all but the first (under the megaflop a split needs, as are its 1x1 shortcuts).
    STATIC_REQUIRE([] {
        std::size_t n = 0;
        for (bool b : resnet::ResNet20::program::shared) n += b;
        return n;
    }() == 18);
    // bf16 convolutions share their rows (3x3: the bordered image by rows first) or tiles of
    // pixels (1x1): ResNet-20's six 3x3 convolutions of 16 channels and two strided ones, and
    // its deeper 3x3s, fp32 Winograd, as above.
    using Bf16 = tn::with_policy<resnet::ResNet20, tn::bf16_weights>;
    STATIC_REQUIRE([] {
        std::size_t n = 0;
        for (bool b : Bf16::program::shared) n += b;
        return n;
    }() == 18);
    using B3 = tn::Conv2D<16, tn::kernel<3, 3>, tn::padding<1>, tn::bf16_weights>;
    STATIC_REQUIRE(B3::shares<tn::Shape<32, 32, 16>> && B3::share_phases<tn::Shape<32, 32, 16>> == 2);
    using B1 = tn::Conv2D<96, tn::kernel<1, 1>, tn::bf16_weights>;
    STATIC_REQUIRE(B1::shares<tn::Shape<13, 13, 24>> && B1::share_phases<tn::Shape<13, 13, 24>> == 1);
    tn::ThreadPool two(2, std::chrono::microseconds(50)), three(3);
    for (tn::ThreadPool* pool : {&two, &three}) {
        check_shared_forward<Bf16>(*pool);
        check_shared_forward<tn::with_policy<Depthwise, tn::bf16_weights>>(*pool);
        check_shared_forward<tn::with_policy<Gated, tn::bf16_weights>>(*pool);
        check_shared_forward<resnet::ResNet20>(*pool);
        check_shared_forward<example::TutorialCnn>(*pool);
        check_shared_forward<test_models::SmallCnn>(*pool);
        check_shared_forward<test_models::BigCnn>(*pool);
        check_shared_forward<Inception>(*pool);
        check_shared_forward<NarrowMaps>(*pool);
        check_shared_forward<SevenBySeven>(*pool);
        check_shared_forward<Depthwise>(*pool);
        check_shared_forward<Gated>(*pool);
        check_shared_forward<Classifier>(*pool);
        check_shared_forward<test_models::Mnist>(*pool);  // nothing to split: all on the caller
    }
    // More threads than some steps have pieces (a 7-row map's shares, 8 groups of panels for 5
    // threads, at most 4 shares of bands): the empty shares do nothing.
    tn::ThreadPool five(5);
    check_shared_forward<Gated>(five);
    check_shared_forward<Classifier>(five);
    check_shared_forward<Depthwise>(five);
    check_shared_forward<zoo_like::SevenRows>(five);
}

namespace {
// An executor that claims two threads but runs its tasks one after another, last first: a
// one-sample pass must not wait for a helper that never comes (runtime/threads.hpp, Team).
struct Backwards {
    std::size_t concurrency() const { return 2; }
    void run(std::size_t tasks, tn::TaskRef f) const {
        for (std::size_t i = tasks; i-- > 0;) f(i);
    }
};
}  // namespace

TEST_CASE("one sample on executors that run tasks one after another, or on threads of their own", "[threads][forward]") {
    const auto net = tn::make<resnet::ResNet20>(tn::seed{21});
    using N = tn::Net<resnet::ResNet20>;
    std::vector<float> x(N::in_size), one(N::out_size), many(N::out_size, -7.f);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(i % 31) / 31.f - 0.4f;
    net.forward(x.data(), one.data());
    Backwards backwards;
    net.forward(x.data(), many.data(), backwards);
    CHECK(std::memcmp(one.data(), many.data(), one.size() * sizeof(float)) == 0);
    JThreads user{3};
    std::fill(many.begin(), many.end(), -7.f);
    net.forward(x.data(), many.data(), user);
    CHECK(std::memcmp(one.data(), many.data(), one.size() * sizeof(float)) == 0);
    tn::ThreadPool sleeping(2);  // no spin window: the worker joins when it wakes
    for (int rep = 0; rep < (test_env::sanitized ? 5 : 20); ++rep) {
        std::fill(many.begin(), many.end(), -7.f);
        net.forward(x.data(), many.data(), sleeping);
        REQUIRE(std::memcmp(one.data(), many.data(), one.size() * sizeof(float)) == 0);
    }
}

TEST_CASE("predict on a pool with tensors, and a graph with two inputs", "[threads][predict]") {
    using Cnn = example::TutorialCnn;
    const auto net = tn::make<Cnn>(tn::seed{2});
    tn::ThreadPool pool(2);
    tn::batch_of<tn::Net<Cnn>::input_shape_type> xs({37, 28, 28, 1});
    for (std::size_t i = 0; i < xs.size(); ++i) xs.data()[i] = float(i % 97) / 97.f;
    const auto one = net.predict(xs);
    const auto many = net.predict(xs, pool);
    REQUIRE(many.shape() == one.shape());
    CHECK(std::memcmp(one.data(), many.data(), one.size() * sizeof(float)) == 0);

    using G = decltype(two_inputs());
    const auto gnet = tn::make<G>(tn::seed{4});
    const std::size_t n = 29;
    std::vector<float> xa(n * 12), xb(n * 5), y1(n * 3), y2(n * 2), z1(n * 3), z2(n * 2);
    for (std::size_t i = 0; i < xa.size(); ++i) xa[i] = float(i % 13) * 0.1f - 0.6f;
    for (std::size_t i = 0; i < xb.size(); ++i) xb[i] = float(i % 7) * 0.2f - 0.5f;
    const float* ins[] = {xa.data(), xb.data()};
    float* one_out[] = {y1.data(), y2.data()};
    float* many_out[] = {z1.data(), z2.data()};
    gnet.predict(ins, one_out, n);
    gnet.predict(ins, many_out, n, pool);
    CHECK(y1 == z1);
    CHECK(y2 == z2);
}

TEST_CASE("the pool runs every task once, for callers sharing it", "[threads][pool]") {
    tn::ThreadPool pool(3, std::chrono::microseconds(200));
    constexpr std::size_t callers = 4, calls = test_env::sanitized ? 50 : 200, tasks = 37;
    std::vector<std::atomic<int>> hits(callers * tasks);
    std::vector<std::thread> threads;
    for (std::size_t c = 0; c < callers; ++c)
        threads.emplace_back([&, c] {
            for (std::size_t k = 0; k < calls; ++k) pool.run(tasks, [&](std::size_t i) { hits[c * tasks + i].fetch_add(1); });
        });
    for (auto& t : threads) t.join();
    for (std::size_t i = 0; i < hits.size(); ++i) REQUIRE(hits[i].load() == int(calls));

    // Several callers predicting through one pool: each gets its own outputs.
    using Cnn = example::TutorialCnn;
    const auto net = tn::make<Cnn>(tn::seed{6});
    constexpr std::size_t n = 20;
    std::vector<float> xs(callers * n * 784);
    for (std::size_t i = 0; i < xs.size(); ++i) xs[i] = float((i * 7919) % 1000) / 1000.f;
    std::vector<float> expected(callers * n * 10), got(callers * n * 10);
    net.predict(xs.data(), expected.data(), callers * n);
    threads.clear();
    for (std::size_t c = 0; c < callers; ++c)
        threads.emplace_back([&, c] {
            for (int k = 0; k < (test_env::sanitized ? 2 : 5); ++k) net.predict(xs.data() + c * n * 784, got.data() + c * n * 10, n, pool);
        });
    for (auto& t : threads) t.join();
    CHECK(std::memcmp(expected.data(), got.data(), got.size() * sizeof(float)) == 0);
}

TEST_CASE("a pool stops when destroyed before its workers first ran", "[threads][pool]") {
    // The caller can run a whole call alone before the system starts a worker thread; such a
    // worker must still see the destructor's stop (it once took the generation it first read
    // as its starting point and waited for a change that never came: 300 pools hung every
    // time on this 2-core machine).
    std::atomic<std::size_t> sum{0};
    for (int k = 0; k < 300; ++k) {
        tn::ThreadPool pool(4);
        pool.run(3, [&](std::size_t i) { sum += i; });
    }
    CHECK(sum.load() == 900);
}

TEST_CASE("a team measures how far apart its threads are, and splits only what pays at that distance, with the same bits",
          "[threads][forward]") {
    tn::TeamDistance d;
    CHECK(d.lag_ns() == 0);
    CHECK(d.plan() == 0);  // not measured yet: split every step
    d.note(tn::TeamDistance::none);  // a call in which no helper claimed a piece
    CHECK(d.lag_ns() == 0);
    d.note(2000);
    CHECK(d.lag_ns() == 2000);
    d.note(400);
    CHECK(d.lag_ns() == 1600);  // smoothed: (3 x 2000 + 400) / 4
    int probes = 0;
    for (std::uint32_t i = 0; i < 2 * tn::TeamDistance::probe_period; ++i) probes += d.plan() == 0;
    CHECK(probes == 2);  // every 64th call splits every step anyway, to measure
    for (int i = 0; i < 16; ++i) d.note(60);
    CHECK(d.lag_ns() < tn::TeamDistance::near_lag_ns);
    CHECK(d.plan() == 0);

    // The limits: ResNet-20's convolutions (2.4-4.7 MFLOP) split only when the threads are
    // near, so a call farther runs on the caller alone; a 3x3 of 231 MFLOP (ResNet-18's
    // 56x56x64) splits up to a lag of ~5.8 us.
    using P = resnet::ResNet20::program;
    STATIC_REQUIRE(P::useful_lag_ns >= tn::TeamDistance::near_lag_ns && P::useful_lag_ns < 2 * tn::TeamDistance::near_lag_ns);
    using Wide = tn::Sequential<tn::Input<56, 56, 64>, tn::Conv2D<64, tn::kernel<3, 3>, tn::padding<1>, tn::relu>>;
    STATIC_REQUIRE(Wide::program::useful_lag_ns > 5'000 && Wide::program::useful_lag_ns < 6'500);

    // A pool's teams measure it: two pieces that wait for each other run on both threads.
    tn::ThreadPool pool(2, std::chrono::microseconds(200));
    std::atomic<int> started{0};
    tn::run_team(pool, [&](tn::Team& team) {
        for (int phase = 0; phase < 3; ++phase)
            team.parallel(2, [&](std::size_t) {
                started.fetch_add(1);
                while (started.load() < 2 * (phase + 1)) std::this_thread::yield();
            });
    });
    CHECK(started.load() == 6);
    CHECK(pool.team_distance().lag_ns() > 0);
    CHECK(pool.team_distance().lag_ns() < 100'000'000);

    // ResNet-20 and a larger model at each distance (near: every step split; far: the larger
    // steps; farther: none, the caller alone): bitwise one thread's.
    const auto at_distances = [&]<class M>(M*) {
        const auto net = tn::make<M>(tn::seed{5});
        using N = tn::Net<M>;
        std::vector<float> x(N::in_size), one(N::out_size), many(N::out_size);
        for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(i % 29) / 29.f - 0.45f;
        net.forward(x.data(), one.data());
        for (const std::uint32_t lag : {10u, 1000u, 100'000u}) {
            for (int rep = 0; rep < (test_env::sanitized ? 3 : 12); ++rep) {
                for (int i = 0; i < 16; ++i) pool.team_distance().note(lag);
                std::fill(many.begin(), many.end(), -7.f);
                net.forward(x.data(), many.data(), pool);
                INFO("lag " << lag << " ns");
                REQUIRE(std::memcmp(one.data(), many.data(), one.size() * sizeof(float)) == 0);
            }
        }
    };
    at_distances(static_cast<resnet::ResNet20*>(nullptr));
    at_distances(static_cast<Wide*>(nullptr));
}

TEST_CASE("an idle pool sleeps, and stops when destroyed", "[threads][pool]") {
    // Workers that sleep cost no CPU time between calls: measured on this process's clock.
    tn::ThreadPool pool(2);
    std::atomic<std::size_t> sum{0};
    pool.run(8, [&](std::size_t i) { sum += i; });
    CHECK(sum.load() == 28);
    const std::clock_t before = std::clock();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const double busy = double(std::clock() - before) / CLOCKS_PER_SEC;
    CHECK(busy < 0.05);  // a spinning worker would have used ~0.2 s
}

// tn::profile (report/profile.hpp): a row per kernel the model runs and per block, each
// block's time the sum of its kernels', the pass's outputs those of forward.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include <typenet/typenet.hpp>

namespace tn = typenet;

namespace {

using Body = tn::Sequential<tn::Conv2D<8, tn::kernel<3, 3>, tn::padding<1>, tn::no_bias>, tn::BatchNorm<>, tn::ReLU,
                            tn::Conv2D<8, tn::kernel<1, 1>, tn::no_bias>, tn::BatchNorm<>>;
using Profiled = tn::Sequential<tn::Input<9, 7, 8>, tn::Named<"block", tn::Residual<Body, tn::relu>>,
                                tn::DepthwiseConv2D<tn::kernel<3>, tn::stride<2>, tn::padding<1>, tn::relu6>,
                                tn::GlobalAveragePool2D, tn::Named<"head", tn::Dense<4>>>;

// The IR node of the row at `path`.
std::size_t node_of(const std::vector<tn::LayerInfo>& info, const std::string& path) {
    for (const auto& i : info)
        if (i.path == path) return i.node;
    return SIZE_MAX;
}

const tn::ProfileRow* find(const tn::Profile& p, const std::string& path) {
    for (const auto& r : p.rows)
        if (r.path == path) return &r;
    return nullptr;
}

}  // namespace

TEST_CASE("profile: a row per kernel and per block, blocks summing their kernels", "[profile]") {
    const auto net = tn::make<Profiled>(tn::seed{5});
    const tn::Profile p = tn::profile(net, 2, 7);
    CHECK(p.batch == 2);
    CHECK(p.calls == 7);
    CHECK(p.seconds > 0);

    // The kernels: the summary's kernel rows; the BatchNorms, the ReLU and the Add run inside
    // the convolutions' epilogues and have no row of their own.
    std::vector<std::string> kernels;
    for (const auto& r : p.rows)
        if (r.kind != tn::RowKind::block) kernels.push_back(r.path + ": " + r.kernel);
    CHECK(kernels == std::vector<std::string>{"block.0: conv 3x3+bias+relu (batchnorm folded)",
                                              "block.3: conv 1x1+bias (batchnorm folded) +residual", "1: depthwise 3x3/2+bias+relu6",
                                              "2: GlobalAveragePool2D", "head: dense+bias"});
    for (const auto& r : p.rows) CHECK(r.seconds >= 0);

    const tn::ProfileRow* block = find(p, "block");
    const tn::ProfileRow* conv = find(p, "block.0");
    const tn::ProfileRow* pointwise = find(p, "block.3");
    REQUIRE((block && conv && pointwise));
    CHECK(block->kind == tn::RowKind::block);
    CHECK(block->seconds == conv->seconds + pointwise->seconds);
    CHECK(conv->depth == 1);
    // A kernel's FLOPs are its own and those fused into it: the 3x3 convolution's 2 x 9 x 8
    // per output, and its folded BatchNorm's and ReLU's as the summary counts them.
    std::size_t fused = 0;
    for (const auto& info : tn::runtime::describe(Profiled::program::tables))
        if (info.kind != tn::RowKind::block && info.kernel == 1) fused += info.flops;
    CHECK(conv->flops == fused);
    CHECK(conv->flops >= 9 * 7 * 8 * 2 * 9 * 8);

    // Bytes: what each kernel must move at the least, for both samples — its inputs from
    // other kernels, its packed weights, its output. The 1x1 convolution reads the 3x3's
    // output and the residual (the block's input); the depthwise layer 9x7x8 in, 5x4x8 out.
    const auto info = tn::runtime::describe(Profiled::program::tables);
    auto packed = [&](std::size_t node) {
        for (const auto& i : info)
            if (i.kind != tn::RowKind::block && i.node == node) return i.packed;
        return std::size_t{0};
    };
    const tn::ProfileRow* depthwise = find(p, "1");
    REQUIRE(depthwise);
    const std::size_t dw_packed = packed(node_of(info, "1"));
    CHECK(dw_packed >= 3 * 3 * 8 + 8);
    CHECK(depthwise->bytes == 4 * (2 * 9 * 7 * 8 + dw_packed + 2 * 5 * 4 * 8));
    CHECK(pointwise->bytes == 4 * (2 * (9 * 7 * 8 + 9 * 7 * 8) + packed(node_of(info, "block.3")) + 2 * 9 * 7 * 8));
    CHECK(block->bytes == conv->bytes + pointwise->bytes);

    // The table: every row, indented by depth, and the pass; table(0) only the outermost rows.
    const std::string table = p.table();
    CHECK(table.find("  block.0") != std::string::npos);
    CHECK(table.find("(the pass)") != std::string::npos);
    CHECK(p.table(0).find("block.0") == std::string::npos);
    CHECK(p.table(0).find("head") != std::string::npos);
    // By kernel: one line per kind, with its count.
    const std::string kinds = p.by_kernel();
    CHECK(kinds.find("depthwise 3x3/2+bias+relu6") != std::string::npos);
    CHECK(kinds.find("dense+bias") != std::string::npos);
    CHECK(kinds.find("GB/s") != std::string::npos);
}

TEST_CASE("profile: the observed pass computes what forward does", "[profile]") {
    const auto net = tn::make<Profiled>(tn::seed{5});
    std::vector<float> x(Profiled::input_shape_type::size);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = 0.03f * float(int(i % 23) - 11);
    std::vector<float> expected(4), got(4, -1.f);
    net.forward(x.data(), expected.data());
    auto arena = tn::detail::allocate_floats(tn::Net<Profiled>::arena_floats(1));
    const float* xs[] = {x.data()};
    float* ys[] = {got.data()};
    std::vector<std::size_t> order;
    net.forward_observed(xs, ys, 1, {reinterpret_cast<std::byte*>(arena.get()), tn::Net<Profiled>::arena_bytes(1)},
                         [&](std::size_t k) { order.push_back(k); });
    CHECK(got == expected);
    // One call per kernel, in the order they run.
    CHECK(order.size() == 5);
    CHECK(std::is_sorted(order.begin(), order.end()));
    // With the caller's inputs.
    CHECK(tn::profile(net, x.data(), 1, 3).rows.size() == tn::profile(net, 1, 3).rows.size());
}

namespace {
// A sample's arena above the block budget (96x96x64 floats): predict runs one sample at a
// time, the classifier after the pooling on several at once (Program::run_with_tail).
using LargeMapClassifier = tn::Sequential<tn::Input<96, 96, 8>, tn::Conv2D<64, tn::kernel<3, 3>, tn::padding_same, tn::relu>,
                                          tn::GlobalAveragePool2D, tn::Dense<512, tn::relu>, tn::Dropout<1, 4>, tn::Dense<600>>;
}  // namespace

TEST_CASE("profile at a batch times predict's schedule: samples one by one, the classifier on several", "[profile]") {
    using N = tn::Net<LargeMapClassifier>;
    using P = LargeMapClassifier::program;
    STATIC_REQUIRE(N::block_rows == 1);
    STATIC_REQUIRE(P::tail_begin == 3);
    STATIC_REQUIRE(P::tail_rows >= 3);
    const auto net = tn::make<LargeMapClassifier>(tn::seed{5});
    constexpr std::size_t n = 5;
    std::vector<float> x(n * N::in_size);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = 0.01f * float(int(i % 37) - 18);
    std::vector<float> expected(n * N::out_size), got(n * N::out_size, -1.f);
    net.predict(x.data(), expected.data(), n);
    auto arena = tn::detail::allocate_floats(N::arena_floats(1));
    const float* xs[] = {x.data()};
    float* ys[] = {got.data()};
    std::vector<std::size_t> runs(P::K, 0);
    net.predict_observed(xs, ys, n, {reinterpret_cast<std::byte*>(arena.get()), N::arena_bytes(1)}, [&](std::size_t k) { ++runs[k]; });
    CHECK(got == expected);  // predict's path, bit for bit
    // The convolution and the pooling once a sample; the two Dense layers once for the five
    // (one block of the tail: 5 <= tail_rows).
    CHECK(runs[1] == n);
    CHECK(runs[2] == n);
    CHECK(runs[3] == 1);
    CHECK(runs[5] == 1);

    const tn::Profile p = tn::profile(net, n, 2);
    CHECK(p.batch == n);
    const tn::ProfileRow* conv = find(p, "0");
    const tn::ProfileRow* head = find(p, "4");
    REQUIRE((conv && head));
    CHECK(conv->seconds > 0);
    CHECK(head->seconds > 0);
}

// One IR, one engine: every spelling of a model lowers to the same IR, so it gets the same
// passes, the same memory plan, the same kernels and the same names.
#include "../golden.hpp"

#include <cstring>
#include <string>
#include <typeinfo>

namespace tn = typenet;

namespace {

// ---- One network, spelled four ways ---------------------------------------------------------
// conv1-bn1-relu; a residual block (conv2-bn2, + its input, relu); a branch of two convs
// concatenated on channels; Flatten; fc. PyTorch's names (tools/ir_fixtures.py, OneEngine):
// conv1, bn1, block.conv2, block.bn2, branch.a, branch.b, fc.
using Conv1 = tn::Conv2D<8, tn::kernel<3>, tn::padding<1>, tn::no_bias>;
using Conv2 = tn::Conv2D<8, tn::kernel<3>, tn::padding<1>, tn::no_bias>;
using ConvA = tn::Conv2D<4, tn::kernel<1>, tn::relu>;
using ConvB = tn::Conv2D<4, tn::kernel<3>, tn::padding<1>>;

// 1. Flat: a functional graph with every layer at the top, under its full name.
constexpr auto flat = [] {
    auto x = tn::input<"x", 6, 6, 3>;
    auto r1 = tn::activation<tn::relu>(tn::layer<"bn1", tn::BatchNorm<>>(tn::layer<"conv1", Conv1>(x)));
    auto b2 = tn::layer<"block.bn2", tn::BatchNorm<>>(tn::layer<"block.conv2", Conv2>(r1));
    auto s = tn::activation<tn::relu>(r1 + b2);
    auto cat = tn::concat(tn::layer<"branch.a", ConvA>(s), tn::layer<"branch.b", ConvB>(s));
    return tn::model(tn::inputs(x), tn::outputs(tn::dense<"fc", 5>(tn::call<tn::Flatten>(cat))));
};
using Flat = decltype(flat());

// 2. A Sequential of Named layers and Named Residual/Branch blocks.
using Block = tn::Residual<tn::Sequential<tn::Named<"conv2", Conv2>, tn::Named<"bn2", tn::BatchNorm<>>>, tn::relu>;
using Split = tn::Branch<tn::Concat<>, tn::Named<"a", ConvA>, tn::Named<"b", ConvB>>;
using Nested = tn::Sequential<tn::Input<6, 6, 3>, tn::Named<"conv1", Conv1>, tn::Named<"bn1", tn::BatchNorm<>>, tn::ReLU,
                              tn::Named<"block", Block>, tn::Named<"branch", Split>, tn::Flatten, tn::Named<"fc", tn::Dense<5>>>;

// 3. A graph calling the Residual and Branch blocks as layers.
constexpr auto blocks = [] {
    auto x = tn::input<"x", 6, 6, 3>;
    auto r1 = tn::activation<tn::relu>(tn::layer<"bn1", tn::BatchNorm<>>(tn::layer<"conv1", Conv1>(x)));
    auto s = tn::layer<"branch", Split>(tn::layer<"block", Block>(r1));
    return tn::model(tn::inputs(x), tn::outputs(tn::dense<"fc", 5>(tn::call<tn::Flatten>(s))));
};
using Blocks = decltype(blocks());

// 4. Models used as layers: the block and the branch are functional graphs of their own.
constexpr auto block_model = [] {
    auto y = tn::input<"y", 6, 6, 8>;
    auto b2 = tn::layer<"bn2", tn::BatchNorm<>>(tn::layer<"conv2", Conv2>(y));
    return tn::model(tn::inputs(y), tn::outputs(tn::activation<tn::relu>(y + b2)));
};
constexpr auto branch_model = [] {
    auto y = tn::input<"y", 6, 6, 8>;
    return tn::model(tn::inputs(y), tn::outputs(tn::concat(tn::layer<"a", ConvA>(y), tn::layer<"b", ConvB>(y))));
};
using Models = tn::Sequential<tn::Input<6, 6, 3>, tn::Named<"conv1", Conv1>, tn::Named<"bn1", tn::BatchNorm<>>, tn::ReLU,
                              tn::Named<"block", decltype(block_model())>, tn::Named<"branch", decltype(branch_model())>, tn::Flatten,
                              tn::Named<"fc", tn::Dense<5>>>;

// What the fusion plan says, without the names: each kernel, and the layers it computes.
template <class M>
std::vector<std::string> kernels_of() {
    const auto rows = tn::runtime::describe(M::program::tables);
    std::vector<std::string> out;
    for (const tn::LayerInfo& r : rows) {
        if (r.kind == tn::RowKind::block || r.kind == tn::RowKind::input || r.kernel != r.node) continue;
        std::string k = r.view ? "view " + r.type : r.type;
        for (const tn::LayerInfo& f : rows)
            if (f.kind != tn::RowKind::block && f.kernel == r.node && f.node != r.node) k += " + " + f.type;
        out.push_back(k);
    }
    return out;
}

template <class M>
std::vector<float> outputs_of(const tn::Net<M>& net, const golden::Io& io) {
    std::vector<float> y(io.rows * 5);
    net.predict(io.input.data(), y.data(), io.rows);
    return y;
}

}  // namespace

TEST_CASE("four spellings of one network are one program", "[ir][fusion][plan][golden]") {
    // The same IR: one node per layer, in one order, with the same shapes.
    STATIC_REQUIRE(Flat::program::K == Nested::program::K);
    STATIC_REQUIRE(Flat::program::K == Blocks::program::K);
    STATIC_REQUIRE(Flat::program::K == Models::program::K);
    // The same arena, parameters, FLOPs.
    STATIC_REQUIRE(Flat::workspace_bytes == Nested::workspace_bytes);
    STATIC_REQUIRE(Flat::workspace_bytes == Blocks::workspace_bytes);
    STATIC_REQUIRE(Flat::workspace_bytes == Models::workspace_bytes);
    STATIC_REQUIRE(Flat::param_count == Nested::param_count);
    STATIC_REQUIRE(Flat::param_count == Models::param_count);
    STATIC_REQUIRE(Flat::flops == Blocks::flops);

    // The same fusion plan: conv1+bn1+relu, conv2+bn2+add+relu, the two branch convs writing
    // their slices of the concat (a view), fc.
    const auto plan = kernels_of<Flat>();
    INFO(tn::fusion_plan<Flat>());
    CHECK(plan == kernels_of<Nested>());
    CHECK(plan == kernels_of<Blocks>());
    CHECK(plan == kernels_of<Models>());
    REQUIRE(plan.size() == 7);  // conv1, conv2 (+ add + relu), a, b, fc, and two views: the concat, the flatten
    CHECK(plan[0] == "Conv2D<8, 3x3, padding<1, 1>, no_bias> + BatchNorm<eps=0.00001> + Activation<relu>");
    CHECK(plan[1] == "Conv2D<8, 3x3, padding<1, 1>, no_bias> + BatchNorm<eps=0.00001> + Add + Activation<relu>");
    CHECK(plan[4] == "view Concat");
    CHECK(tn::fusion_plan<Nested>().find("Fusion plan: 5 kernels for 12 layers (2 views, no copy)") != std::string::npos);

    // The same names, so the same PyTorch file loads into each; and bitwise the same outputs.
    const auto io = golden::io("one_engine");
    const auto file = golden::path("one_engine.weights.safetensors");
    auto f = tn::make<Flat>();
    auto n = tn::make<Nested>();
    auto b = tn::make<Blocks>();
    auto m = tn::make<Models>();
    tn::load_weights(f, file, tn::from_pytorch);
    tn::load_weights(n, file, tn::from_pytorch);
    tn::load_weights(b, file, tn::from_pytorch);
    tn::load_weights(m, file, tn::from_pytorch);
    const auto yf = outputs_of(f, io), yn = outputs_of(n, io), yb = outputs_of(b, io), ym = outputs_of(m, io);
    CHECK(std::memcmp(yf.data(), yn.data(), yf.size() * sizeof(float)) == 0);
    CHECK(std::memcmp(yf.data(), yb.data(), yf.size() * sizeof(float)) == 0);
    CHECK(std::memcmp(yf.data(), ym.data(), yf.size() * sizeof(float)) == 0);
    golden::require_close(yf.data(), io.output.data(), io.rows, 5);  // and PyTorch's numbers
}

TEST_CASE("each node runs through a step of its own layer's types, never one named with the model", "[ir][fusion]") {
    // Nested's nodes: 0 the input, 1 conv1, 2 bn1, 3 relu, 4 block.conv2, 5 block.bn2, 6 the
    // residual Add, 7 its relu, 8 branch.a, 9 branch.b, 10 the Concat, 11 Flatten, 12 fc.
    using P = Nested::program;
    using tn::runtime::Entry;
    STATIC_REQUIRE(P::K == 13);
    STATIC_REQUIRE(std::is_same_v<P::step<0>, tn::runtime::NoStep>);  // the input
    STATIC_REQUIRE(std::is_same_v<P::step<2>, tn::runtime::NoStep>);  // folded into conv1
    STATIC_REQUIRE(std::is_same_v<P::step<3>, tn::runtime::NoStep>);  // fused into conv1
    STATIC_REQUIRE(std::is_same_v<P::step<10>, tn::runtime::NoStep>);  // a and b write their slices
    STATIC_REQUIRE(P::layer_run[1].entry == Entry::fused);
    STATIC_REQUIRE(std::is_same_v<P::step<1>, tn::runtime::LayerStep<Conv1, tn::Shape<6, 6, 3>, tn::relu, P::layer_run[1]>>);
    STATIC_REQUIRE(P::layer_run[4].entry == Entry::add);  // conv2 + bn2 + the Add, then relu
    STATIC_REQUIRE(P::layer_run[4].other.offset == P::plan.offset[3]);  // the addend: relu's (conv1's) buffer
    STATIC_REQUIRE(std::is_same_v<P::step<4>, tn::runtime::LayerStep<Conv2, tn::Shape<6, 6, 8>, tn::relu, P::layer_run[4]>>);
    STATIC_REQUIRE(P::layer_run[8].entry == Entry::strided);  // into the Concat's buffer, its own relu
    STATIC_REQUIRE(P::layer_run[8].slice_offset == 0 && P::layer_run[9].slice_offset == 4 && P::layer_run[9].slice_width == 8);
    STATIC_REQUIRE(std::is_same_v<P::step<8>, tn::runtime::LayerStep<ConvA, tn::Shape<6, 6, 8>, tn::relu, P::layer_run[8]>>);
    STATIC_REQUIRE(std::is_same_v<P::step<9>, tn::runtime::LayerStep<ConvB, tn::Shape<6, 6, 8>, tn::linear, P::layer_run[9]>>);
    // g++ mangles every instantiated function: a step's name holds its layer, not the module.
    CHECK(std::string(typeid(P::step<4>).name()).find("Module") == std::string::npos);
    CHECK(std::string(typeid(P).name()).find("Module") != std::string::npos);
}

TEST_CASE("torchvision-style features/classifier blocks load PyTorch's state_dict as it is", "[ir][names][golden]") {
    // BatchNorm inside a Named block folds into the conv before it; the flatten permutation
    // applies across two blocks and a Dropout.
    using Model = tn::Sequential<tn::Input<14, 14, 3>,
                                 tn::Named<"features", tn::Sequential<tn::Conv2D<5, tn::kernel<3, 3>>, tn::BatchNorm<>, tn::ReLU, tn::MaxPool2D<2>>>,
                                 tn::Named<"classifier", tn::Sequential<tn::Flatten, tn::Dropout<>, tn::Dense<7>>>>;
    constexpr auto& e = Model::program::epilogues;
    STATIC_REQUIRE(e.batchnorm[1] == 2);   // features.1 into features.0
    STATIC_REQUIRE(e.activation[1] == 3);  // and features.2 too: one kernel
    const auto& infos = tn::Net<Model>::param_infos();
    CHECK(infos.front().name == "features.0.weight");
    CHECK(infos.back().name == "classifier.2.bias");
    CHECK(infos[infos.size() - 2].flattened_hwc == std::array<std::size_t, 3>{6, 6, 5});
    golden::check_model<Model>("nested_features");
}

TEST_CASE("Conv -> Flatten -> Dense in a nested block and as a graph match PyTorch", "[ir][golden]") {
    using Nested = tn::Sequential<tn::Input<4, 4, 2>, tn::Sequential<tn::Conv2D<3, tn::kernel<1>>>, tn::Flatten, tn::Dense<5>>;
    golden::check_model<Nested>("conv_flatten_dense");
    // The same network as a functional graph, named as PyTorch's nn.Sequential names it.
    constexpr auto graph = [] {
        auto x = tn::input<"x", 4, 4, 2>;
        auto c = tn::layer<"0", tn::Sequential<tn::Conv2D<3, tn::kernel<1>>>>(x);
        return tn::model(tn::inputs(x), tn::outputs(tn::dense<"2", 5>(tn::call<tn::Flatten>(c))));
    };
    using Graph = decltype(graph());
    STATIC_REQUIRE(std::is_same_v<Graph::input_shape_type, tn::Shape<4, 4, 2>>);
    golden::check_model<Graph>("conv_flatten_dense");
}

TEST_CASE("a BatchNorm under a name, or in a graph, is still folded and fused", "[ir][fusion]") {
    using Named = tn::Sequential<tn::Input<6, 6, 3>, tn::Named<"conv", tn::Conv2D<4, tn::kernel<3>>>, tn::Named<"bn1", tn::BatchNorm<>>, tn::ReLU>;
    STATIC_REQUIRE(Named::program::epilogues.batchnorm[1] == 2);
    STATIC_REQUIRE(Named::program::epilogues.activation[1] == 3);
    constexpr auto g = [] {
        auto x = tn::input<"x", 6, 6, 3>;
        auto y = tn::activation<tn::relu>(tn::layer<"bn", tn::BatchNorm<>>(tn::conv2d<"conv", 4, tn::kernel<3>>(x)));
        return tn::model(tn::inputs(x), tn::outputs(y));
    };
    using G = decltype(g());
    STATIC_REQUIRE(G::program::epilogues.batchnorm[1] == 2);
    STATIC_REQUIRE(G::program::epilogues.activation[1] == 3);
    CHECK(tn::fusion_plan<G>().find("Fusion plan: 1 kernels") != std::string::npos);
}

TEST_CASE("a shared layer's BatchNorm is not folded: folding would change both calls", "[ir][fusion]") {
    constexpr auto g = [] {
        auto a = tn::input<"a", 5, 5, 2>;
        auto b = tn::input<"b", 5, 5, 2>;
        constexpr auto conv = tn::conv2d<"conv", 3, tn::kernel<1>>;
        auto ya = tn::layer<"bn", tn::BatchNorm<>>(conv(a));
        return tn::model(tn::inputs(a, b), tn::outputs(ya, conv(b)));
    };
    using G = decltype(g());
    STATIC_REQUIRE(G::program::epilogues.batchnorm[2] == tn::passes::none);
    auto net = tn::make<G>(tn::seed{2});
    tn::Tensor<5, 5, 2> a, b;
    for (std::size_t i = 0; i < a.size(); ++i) a.data()[i] = b.data()[i] = 0.1f * float(i % 7);
    const auto out = net(a, b);
    const auto& ya = std::get<0>(out);
    const auto& yb = std::get<1>(out);
    // bn is identity at its initial statistics, so both calls see the same conv.
    for (std::size_t i = 0; i < ya.size(); ++i) REQUIRE(std::abs(ya.data()[i] - yb.data()[i]) < 1e-5f);
}

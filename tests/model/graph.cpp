// Graphs (model/graph.hpp, model/functional.hpp, layers/merge.hpp, layers/branch.hpp): the
// functional front end and the type spelling agree; nodes run in a fixed topological order
// with buffers reused by liveness; merges, shared layers, nested models, several inputs and
// outputs compute what the same layers run one by one compute. (The PyTorch golden checks of
// graphs are the examples in examples/graphs/, run as tests.)
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include <typenet/typenet.hpp>

#include "../golden.hpp"

namespace tn = typenet;

namespace {

// ---- The type spelling and the functional spelling are the same type ------------------------

constexpr auto diamond = [] {
    auto x = tn::input<"x", 6>;
    auto a = tn::dense<"a", 5, tn::relu>(x);
    auto b = tn::dense<"b", 5, tn::tanh>(x);
    auto s = a + b;
    return tn::model(tn::inputs(x), tn::outputs(tn::dense<"out", 3>(s)));
};
using Diamond = decltype(diamond());
using DX = tn::In<"x", 6>;
using DA = tn::Call<tn::Named<"a", tn::Dense<5, tn::relu>>, DX>;
using DB = tn::Call<tn::Named<"b", tn::Dense<5, tn::tanh>>, DX>;
using DiamondType = tn::Graph<tn::Inputs<DX>, tn::Outputs<tn::Call<tn::Named<"out", tn::Dense<3>>, tn::Call<tn::Add, DA, DB>>>>;

// A long skip: a is needed until the very end, while b, c, d come and go.
constexpr auto long_skip = [] {
    auto x = tn::input<"x", 7>;
    auto a = tn::dense<"a", 8, tn::relu>(x);
    auto b = tn::dense<"b", 16, tn::relu>(a);
    auto c = tn::dense<"c", 16, tn::relu>(b);
    auto d = tn::dense<"d", 8>(c);
    return tn::model(tn::inputs(x), tn::outputs(tn::concat(a, d)));
};
using LongSkip = decltype(long_skip());

template <class M>
std::vector<float> run(const tn::Net<M>& net, const std::vector<const float*>& ins, std::size_t rows, std::size_t o = 0) {
    std::vector<std::vector<float>> outs(M::n_outputs);
    std::vector<float*> ptrs;
    [&]<std::size_t... k>(std::index_sequence<k...>) {
        ((outs[k].resize(rows * M::template output_shape_at<k>::size), ptrs.push_back(outs[k].data())), ...);
    }(std::make_index_sequence<M::n_outputs>{});
    net.predict(const_cast<const float* const*>(ins.data()), ptrs.data(), rows);
    return outs[o];
}

std::vector<float> ramp(std::size_t n, float scale = 0.1f) {
    std::vector<float> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = scale * float(int(i % 13) - 6) + 0.01f * float(i % 7);
    return v;
}

// Copies the named parameters of `from` into a Net of another model, by name.
template <class To, class From>
void copy_params(tn::Net<To>& to, const tn::Net<From>& from, const std::vector<std::pair<std::string, std::string>>& names) {
    std::vector<float> w = to.get_weights();
    for (const auto& [dst, src] : names) {
        const auto& ti = tn::Net<To>::param_infos();
        const auto& fi = tn::Net<From>::param_infos();
        auto t = std::find_if(ti.begin(), ti.end(), [&](const tn::ParamInfo& p) { return p.name == dst; });
        auto f = std::find_if(fi.begin(), fi.end(), [&](const tn::ParamInfo& p) { return p.name == src; });
        REQUIRE(t != ti.end());
        REQUIRE(f != fi.end());
        REQUIRE(t->spec.size() == f->spec.size());
        std::copy_n(from.get_weights().begin() + std::ptrdiff_t(f->offset), f->spec.size(), w.begin() + std::ptrdiff_t(t->offset));
    }
    to.set_weights(std::move(w));
}

void require_near(const std::vector<float>& a, const std::vector<float>& b, float tol = 1e-6f) {
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        INFO("element " << i << ": " << a[i] << " vs " << b[i]);
        REQUIRE(std::abs(a[i] - b[i]) <= tol * std::max(1.f, std::abs(b[i])));
    }
}

}  // namespace

TEST_CASE("a graph written with the functional API is the type written by hand", "[graph]") {
    STATIC_REQUIRE(std::is_same_v<Diamond, DiamondType>);
    STATIC_REQUIRE(Diamond::valid);
    STATIC_REQUIRE(Diamond::param_count == (6 * 5 + 5) * 2 + 5 * 3 + 3);
    STATIC_REQUIRE(Diamond::output_shape == tn::shape<3>);
    STATIC_REQUIRE(Diamond::flops > 0);
    // One node per distinct type: x, a, b, add, out.
    STATIC_REQUIRE(Diamond::program::K == 5);
}

TEST_CASE("nodes run in a topological order fixed at compile time", "[graph]") {
    using E = LongSkip::program;
    STATIC_REQUIRE(E::K == 6);  // x, a, b, c, d, concat
    STATIC_REQUIRE(E::facts.kind[0] == tn::passes::Kind::input);  // inputs first
    // Each node comes after the nodes it reads.
    constexpr auto& f = E::facts;
    for (std::size_t k = 0; k < E::K; ++k)
        for (std::size_t a = f.arg_begin[k]; a < f.arg_begin[k + 1]; ++a) REQUIRE(f.args[a] < k);
}

TEST_CASE("buffers are reused by liveness, and a value lives while a reader needs it", "[graph][plan]") {
    // With the Concat copying its inputs (concat_in_place off), a and d live in the arena.
    using Copying = tn::with_policy<LongSkip, tn::fusion_policy<true, true, true, false>>;
    using E = Copying::program;
    constexpr auto& p = E::plan;
    // a (node 1) is read by the concat (node 5): alive throughout, so nothing may overlap it.
    STATIC_REQUIRE(p.last_use[1] == 5);
    for (std::size_t k = 2; k < 5; ++k) {
        const bool apart = p.offset[k] >= p.offset[1] + 8 || p.offset[k] + 16 <= p.offset[1];
        REQUIRE(apart);
    }
    // b is dead once c has run: d may take its place.
    STATIC_REQUIRE(p.last_use[2] == 3);
    // The arena holds a, and two of b, c, d at a time: less than every intermediate at once.
    STATIC_REQUIRE(Copying::workspace_bytes < Copying::naive_workspace_bytes);
    STATIC_REQUIRE(p.activation_floats == 16 + 16 + 16);  // a (8, padded to 16) + b + c; d reuses b's bytes
    // With every pass on, d writes its half of the output itself; a, read by b too, is copied.
    STATIC_REQUIRE(LongSkip::program::epilogues.into[4] == 5);
    STATIC_REQUIRE(LongSkip::program::epilogues.into[1] == tn::passes::none);

    // And the numbers are those of the layers run one by one.
    auto net = tn::make<LongSkip>(tn::seed{3});
    using A = tn::Sequential<tn::Input<7>, tn::Dense<8, tn::relu>>;
    using BCD = tn::Sequential<tn::Input<8>, tn::Dense<16, tn::relu>, tn::Dense<16, tn::relu>, tn::Dense<8>>;
    auto a = tn::make<A>();
    auto bcd = tn::make<BCD>();
    copy_params(a, net, {{"0.weight", "a.weight"}, {"0.bias", "a.bias"}});
    copy_params(bcd, net, {{"0.weight", "b.weight"}, {"0.bias", "b.bias"}, {"1.weight", "c.weight"}, {"1.bias", "c.bias"},
                           {"2.weight", "d.weight"}, {"2.bias", "d.bias"}});
    for (std::size_t rows : {1u, 5u, 300u}) {
        const auto x = ramp(rows * 7);
        std::vector<float> ya(rows * 8), yd(rows * 8), expected;
        a.predict(x.data(), ya.data(), rows);
        bcd.predict(ya.data(), yd.data(), rows);
        for (std::size_t r = 0; r < rows; ++r) {
            expected.insert(expected.end(), ya.begin() + std::ptrdiff_t(r * 8), ya.begin() + std::ptrdiff_t(r * 8 + 8));
            expected.insert(expected.end(), yd.begin() + std::ptrdiff_t(r * 8), yd.begin() + std::ptrdiff_t(r * 8 + 8));
        }
        require_near(run(net, {x.data()}, rows), expected);
    }
}

TEST_CASE("elementwise merges and operators", "[graph][merge]") {
    constexpr auto ops = [] {
        auto a = tn::input<"a", 37>;
        auto b = tn::input<"b", 37>;
        auto c = tn::input<"c", 37>;
        return tn::model(tn::inputs(a, b, c),
                         tn::outputs(a + b, a - b, a * b, tn::average(a, b, c), tn::maximum(a, b, c), tn::minimum(a, b, c),
                                     tn::abs(a), -b, tn::square(c), tn::add(a, b, c)));
    };
    using Ops = decltype(ops());
    STATIC_REQUIRE(Ops::n_inputs == 3);
    STATIC_REQUIRE(Ops::n_outputs == 10);
    STATIC_REQUIRE(Ops::param_count == 0);
    auto net = tn::make<Ops>();
    const std::size_t rows = 3, n = rows * 37;
    const auto a = ramp(n, 0.3f), b = ramp(n, -0.2f), c = ramp(n, 0.05f);
    std::vector<float> expected(n);
    auto check = [&](std::size_t o, auto f) {
        for (std::size_t i = 0; i < n; ++i) expected[i] = f(a[i], b[i], c[i]);
        INFO("output " << o);
        require_near(run(net, {a.data(), b.data(), c.data()}, rows, o), expected);
    };
    check(0, [](float x, float y, float) { return x + y; });
    check(1, [](float x, float y, float) { return x - y; });
    check(2, [](float x, float y, float) { return x * y; });
    check(3, [](float x, float y, float z) { return (x + y + z) / 3.f; });
    check(4, [](float x, float y, float z) { return std::max({x, y, z}); });
    check(5, [](float x, float y, float z) { return std::min({x, y, z}); });
    check(6, [](float x, float, float) { return std::abs(x); });
    check(7, [](float, float y, float) { return -y; });
    check(8, [](float, float, float z) { return z * z; });
    check(9, [](float x, float y, float z) { return x + y + z; });
}

TEST_CASE("Concat joins on any axis", "[graph][merge]") {
    // [2, 3, 2] and [2, 1, 2] on axis 2 (Keras' numbering: 1 is the first sample axis)
    constexpr auto cat = [] {
        auto a = tn::input<"a", 2, 3, 2>;
        auto b = tn::input<"b", 2, 1, 2>;
        return tn::model(tn::inputs(a, b), tn::outputs(tn::concat<2>(a, b)));
    };
    using Cat = decltype(cat());
    STATIC_REQUIRE(Cat::output_shape == tn::shape<2, 4, 2>);
    STATIC_REQUIRE(tn::Concat<-1>::accepts<tn::Shape<4, 4, 3>, tn::Shape<4, 4, 5>>);
    STATIC_REQUIRE(!tn::Concat<-1>::accepts<tn::Shape<4, 4, 3>, tn::Shape<2, 4, 5>>);
    STATIC_REQUIRE(tn::Concat<1>::accepts<tn::Shape<1, 4, 3>, tn::Shape<2, 4, 3>>);
    STATIC_REQUIRE(!tn::Concat<0>::accepts<tn::Shape<4>, tn::Shape<4>>);  // axis 0 is the batch
    auto net = tn::make<Cat>();
    std::vector<float> a(12), b(4);
    for (std::size_t i = 0; i < 12; ++i) a[i] = float(i);
    for (std::size_t i = 0; i < 4; ++i) b[i] = 100.f + float(i);
    const std::vector<float> expected{0, 1, 2, 3, 4, 5, 100, 101, 6, 7, 8, 9, 10, 11, 102, 103};
    REQUIRE(run(net, {a.data(), b.data()}, 1) == expected);
}

TEST_CASE("a shared layer is one set of weights", "[graph][shared]") {
    constexpr auto twice = [] {
        auto a = tn::input<"a", 9>;
        auto b = tn::input<"b", 9>;
        constexpr auto enc = tn::dense<"enc", 4, tn::tanh>;
        return tn::model(tn::inputs(a, b), tn::outputs(enc(a), enc(b)));
    };
    using Twice = decltype(twice());
    STATIC_REQUIRE(Twice::param_count == 9 * 4 + 4);
    auto net = tn::make<Twice>(tn::seed{9});
    REQUIRE(tn::Net<Twice>::param_infos().size() == 2);
    tn::Tensor<9> x;
    for (std::size_t i = 0; i < 9; ++i) x(i) = 0.1f * float(i);
    const auto [ya, yb] = net(x, x);
    REQUIRE(ya == yb);
    const auto text = tn::summary<Twice>();
    CHECK(text.find("enc[1]") != std::string::npos);
    CHECK(text.find("shares the weights of enc") != std::string::npos);
}

TEST_CASE("inputs by position or by name, outputs as a tuple or by name", "[graph]") {
    constexpr auto g = [] {
        auto left = tn::input<"left", 3>;
        auto right = tn::input<"right", 2>;
        auto both = tn::concat(left, right);
        return tn::model(tn::inputs(left, right), tn::outputs(tn::dense<"sum", 1>(both), tn::dense<"pair", 2>(both)));
    };
    using G = decltype(g());
    STATIC_REQUIRE(G::input_index<"right"> == 1);
    STATIC_REQUIRE(G::output_index<"pair"> == 1);
    auto net = tn::make<G>(tn::seed{2});
    tn::Tensor<3> l{1.f, 2.f, 3.f};
    tn::Tensor<2> r{-1.f, 0.5f};
    const auto by_position = net(l, r);
    const auto by_name = net(tn::feed<"right">(r), tn::feed<"left">(l));
    REQUIRE(by_position.get<"sum">() == by_name.get<0>());
    REQUIRE(std::get<1>(by_position) == by_name.get<"pair">());

    // Batches as xtensor containers: a tuple of batches back.
    tn::batch_of<tn::Shape<3>> ls({4, 3}, 0.5f);
    tn::batch_of<tn::Shape<2>> rs({4, 2}, -0.25f);
    const auto out = net.predict(ls, rs);
    REQUIRE(out.get<"pair">().shape()[0] == 4);
    REQUIRE(out.get<"pair">().shape()[1] == 2);
    tn::batch_of<tn::Shape<2>> short_rs({3, 2}, 0.f);
    REQUIRE_THROWS_WITH(net.predict(ls, short_rs), Catch::Contains("same number of samples"));
}

TEST_CASE("an input returned as an output, and one node returned twice", "[graph]") {
    constexpr auto g = [] {
        auto x = tn::input<"x", 5>;
        auto y = tn::dense<"y", 5, tn::relu>(x);
        return tn::model(tn::inputs(x), tn::outputs(x, y, y));
    };
    using G = decltype(g());
    auto net = tn::make<G>(tn::seed{4});
    tn::Tensor<5> x{0.1f, -0.2f, 0.3f, -0.4f, 0.5f};
    const auto [x_out, y1, y2] = net(x);
    REQUIRE(x_out == x);
    REQUIRE(y1 == y2);
}

TEST_CASE("a model used as a layer, in a Sequential and in a graph", "[graph][nested]") {
    constexpr auto encoder = [] {
        auto x = tn::input<"x", 10>;
        auto h = tn::dense<"h", 6, tn::relu>(x);
        return tn::model(tn::inputs(x), tn::outputs(tn::dense<"z", 4>(h) + tn::dense<"skip", 4>(x)));
    };
    using Encoder = decltype(encoder());
    using InSequential = tn::Sequential<tn::Input<10>, Encoder, tn::Dense<2>>;
    constexpr auto outer = [] {
        auto a = tn::input<"a", 10>;
        return tn::model(tn::inputs(a), tn::outputs(tn::dense<"head", 2>(tn::layer<"enc", Encoder>(a))));
    };
    using InGraph = decltype(outer());
    STATIC_REQUIRE(InSequential::param_count == Encoder::param_count + 4 * 2 + 2);
    STATIC_REQUIRE(InGraph::param_count == InSequential::param_count);

    auto s = tn::make<InSequential>(tn::seed{1});
    auto g = tn::make<InGraph>();
    copy_params(g, s, {{"enc.h.weight", "0.h.weight"}, {"enc.h.bias", "0.h.bias"}, {"enc.z.weight", "0.z.weight"},
                       {"enc.z.bias", "0.z.bias"}, {"enc.skip.weight", "0.skip.weight"}, {"enc.skip.bias", "0.skip.bias"},
                       {"head.weight", "1.weight"}, {"head.bias", "1.bias"}});
    const auto x = ramp(7 * 10);
    std::vector<float> ys(7 * 2);
    s.predict(x.data(), ys.data(), 7);
    require_near(run(g, {x.data()}, 7), ys);
}

TEST_CASE("Residual and Branch inside a Sequential", "[graph][branch]") {
    using Block = tn::Residual<tn::Sequential<tn::Dense<12, tn::relu>, tn::Dense<12>>, tn::relu>;
    using Proj = tn::Residual<tn::Dense<5>, tn::Projection<tn::Dense<5>>>;
    using Split = tn::Branch<tn::Concat<>, tn::Dense<3>, tn::Sequential<tn::Dense<4, tn::tanh>>, tn::Activation<tn::relu>>;
    using M = tn::Sequential<tn::Input<12>, Block, Proj, Split>;
    STATIC_REQUIRE(M::output_shape == tn::shape<3 + 4 + 5>);
    STATIC_REQUIRE(tn::Branch<tn::Add, tn::Dense<4>, tn::Dense<4>>::accepts<tn::Shape<7>>);
    STATIC_REQUIRE(std::is_same_v<tn::Branch<tn::Add, tn::Dense<4>, tn::Dense<4>>::output_shape_for<tn::Shape<7>>, tn::Shape<4>>);
    auto net = tn::make<M>(tn::seed{6});
    const auto& names = tn::Net<M>::param_infos();
    // A Residual's Sequential body is seen through, as torchvision names a block's layers.
    REQUIRE(names.front().name == "0.0.weight");
    REQUIRE(std::any_of(names.begin(), names.end(), [](const tn::ParamInfo& p) { return p.name == "1.0.weight"; }));  // a one-layer body
    REQUIRE(std::any_of(names.begin(), names.end(), [](const tn::ParamInfo& p) { return p.name == "1.downsample.weight"; }));

    // Against the same layers run one by one.
    using Body = tn::Sequential<tn::Input<12>, tn::Dense<12, tn::relu>, tn::Dense<12>>;
    auto body = tn::make<Body>();
    copy_params(body, net, {{"0.weight", "0.0.weight"}, {"0.bias", "0.0.bias"}, {"1.weight", "0.1.weight"}, {"1.bias", "0.1.bias"}});
    const std::size_t rows = 9;
    const auto x = ramp(rows * 12);
    std::vector<float> fx(rows * 12), block(rows * 12);
    body.predict(x.data(), fx.data(), rows);
    for (std::size_t i = 0; i < fx.size(); ++i) block[i] = std::max(0.f, x[i] + fx[i]);
    using Block1 = tn::Sequential<tn::Input<12>, Block>;
    auto b1 = tn::make<Block1>();
    copy_params(b1, net, {{"0.0.weight", "0.0.weight"}, {"0.0.bias", "0.0.bias"}, {"0.1.weight", "0.1.weight"}, {"0.1.bias", "0.1.bias"}});
    std::vector<float> y(rows * 12);
    b1.predict(x.data(), y.data(), rows);
    require_near(y, block);
}

TEST_CASE("summary shows the graph the Keras way, and to_dot draws it", "[graph][summary]") {
    const std::string text = tn::summary<Diamond>();
    CHECK(text.find("Connected to") != std::string::npos);
    CHECK(text.find("a, b") != std::string::npos);  // the add reads a and b
    CHECK(text.find("Activation arena") != std::string::npos);
    const std::string dot = tn::to_dot<Diamond>();
    CHECK(dot.rfind("digraph model {", 0) == 0);
    CHECK(dot.find("\"x\" -> \"a\"") != std::string::npos);
    CHECK(dot.find("\"x\" -> \"b\"") != std::string::npos);
    const std::string chain = tn::to_dot<tn::Sequential<tn::Input<3>, tn::Dense<2>, tn::ReLU>>();
    CHECK(chain.find("\"0\" -> \"1\"") != std::string::npos);
}

TEST_CASE("graphs load and save weights by their layer names", "[graph][io]") {
    auto net = tn::make<Diamond>(tn::seed{8});
    const std::string file = "graph_roundtrip.safetensors";
    tn::save_weights(net, file);
    auto other = tn::make<Diamond>(tn::seed{9});
    REQUIRE(other.get_weights() != net.get_weights());
    tn::load_weights(other, file);
    REQUIRE(other.get_weights() == net.get_weights());
    tn::save_weights(net, file, tn::to_keras);
    const auto f = tn::SafetensorsFile::read(file);
    CHECK(f.find("a/kernel") != nullptr);    // a named layer keeps its name in Keras' convention
    CHECK(f.find("out/bias") != nullptr);
    std::remove(file.c_str());
}

namespace {
// A user's merge: x [H, W, C] times a gate [C], broadcast over the pixels (squeeze-and-excitation).
struct ChannelGate : tn::MergeBase {
    template <class... S> static constexpr bool accepts = [] {
        if constexpr (sizeof...(S) != 2) return false;
        else {
            using X = std::tuple_element_t<0, std::tuple<S...>>;
            using G = std::tuple_element_t<1, std::tuple<S...>>;
            return X::rank == 3 && G::rank == 1 && G::dims[0] == X::dims[2];
        }
    }();
    template <class X, class G> using output_shape_for = X;
    template <class X, class G>
    static void merge(const float* const* in, float* out, std::size_t rows) noexcept {
        constexpr std::size_t c = X::dims[2], pixels = X::size / c;
        for (std::size_t r = 0; r < rows; ++r)
            for (std::size_t p = 0; p < pixels; ++p)
                for (std::size_t k = 0; k < c; ++k) out[(r * pixels + p) * c + k] = in[0][(r * pixels + p) * c + k] * in[1][r * c + k];
    }
    template <class Where, class... S>
    struct report {
        static_assert(accepts<S...>, "ChannelGate: an [H, W, C] map and a [C] gate");
    };
    static std::string name() { return "ChannelGate"; }
};
}  // namespace

TEST_CASE("a merge of one's own is an extension point: a squeeze-and-excitation gate", "[graph][merge]") {
    STATIC_REQUIRE(tn::Merge<ChannelGate>);
    constexpr auto se = [] {
        auto x = tn::input<"x", 4, 3, 5>;
        auto gate = tn::dense<"fc", 5, tn::sigmoid>(tn::call<tn::GlobalAveragePool2D>(x));
        return tn::model(tn::inputs(x), tn::outputs(tn::merge<ChannelGate>(x, gate)));
    };
    using Se = decltype(se());
    STATIC_REQUIRE(Se::output_shape == tn::shape<4, 3, 5>);
    auto net = tn::make<Se>(tn::seed{4});
    tn::Tensor<4, 3, 5> x;
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = 0.05f * float(int(i % 11) - 5);
    const auto y = net(x);
    // By hand: the pooled features, the gate, the product.
    using Fc = tn::Sequential<tn::Input<4, 3, 5>, tn::GlobalAveragePool2D, tn::Dense<5, tn::sigmoid>>;
    auto fc = tn::make<Fc>();
    copy_params(fc, net, {{"1.weight", "fc.weight"}, {"1.bias", "fc.bias"}});
    const auto g = fc(x);
    for (std::size_t p = 0; p < 12; ++p)
        for (std::size_t k = 0; k < 5; ++k) REQUIRE(y.data()[p * 5 + k] == Approx(x.data()[p * 5 + k] * g(k)));
    CHECK(tn::summary<Se>().find("ChannelGate") != std::string::npos);
}

// Broadcasting merges (NumPy's rule): a squeeze-and-excitation gate [C] or [1, 1, C] and a
// spatial gate [H, W, 1] on a feature map [H, W, C], against PyTorch (tools/sequence_fixtures.py).
namespace {
template <bool SeAsMap>
constexpr auto gates() {
    auto x = tn::input<"x", 8, 8, 5>;
    auto f = tn::conv2d<"conv", 16, tn::kernel<3>, tn::padding_same>(x);
    auto s = tn::dense<"fc2", 16, tn::hard_sigmoid>(tn::dense<"fc1", 4, tn::relu>(tn::call<tn::GlobalAveragePool2D>(f)));
    auto g = tn::layer<"spatial", tn::Conv2D<1, tn::kernel<1>, tn::sigmoid>>(f);
    if constexpr (SeAsMap) {
        auto s11 = tn::call<tn::Reshape<1, 1, 16>>(s);
        return tn::model(tn::inputs(x), tn::outputs(tn::subtract(tn::multiply(f, s11) * g, s11)));
    } else {
        return tn::model(tn::inputs(x), tn::outputs(tn::subtract(tn::multiply(f, s) * g, s)));
    }
}
}  // namespace

TEST_CASE("elementwise merges broadcast as NumPy's: gates [C], [1, 1, C] and [H, W, 1] match PyTorch", "[graph][merge][golden]") {
    using Gates = decltype(gates<false>());
    using GatesMap = decltype(gates<true>());
    STATIC_REQUIRE(std::is_same_v<tn::Multiply::output_shape_for<tn::Shape<8, 8, 16>, tn::Shape<16>>, tn::Shape<8, 8, 16>>);
    STATIC_REQUIRE(std::is_same_v<tn::Add::output_shape_for<tn::Shape<8, 1, 16>, tn::Shape<1, 8, 1>>, tn::Shape<8, 8, 16>>);
    STATIC_REQUIRE(std::is_same_v<tn::Subtract::output_shape_for<tn::Shape<4, 1>, tn::Shape<3>>, tn::Shape<4, 3>>);
    STATIC_REQUIRE(!tn::Multiply::accepts<tn::Shape<8, 8, 16>, tn::Shape<8>>);
    STATIC_REQUIRE(!tn::Add::accepts<tn::Shape<8, 8, 16>, tn::Shape<2, 8, 16>>);
    STATIC_REQUIRE(std::is_same_v<Gates::output_shape_type, tn::Shape<8, 8, 16>>);
    golden::check_model<Gates>("broadcast_gates", 2e-5);
    golden::check_model<GatesMap>("broadcast_gates", 2e-5);
}

// The same gate as one fused layer: SqueezeExcite is torchvision.ops.SqueezeExcitation
// (MobileNetV3's ReLU and Hardsigmoid; EfficientNet's SiLU and sigmoid), with its parameter
// names, on 20 channels (a partial vector everywhere), between two convolutions.
TEST_CASE("SqueezeExcite computes torchvision's SqueezeExcitation, with its names, in one layer", "[layers][golden]") {
    using SE = tn::SqueezeExcite<8>;
    using Model = tn::Sequential<tn::Input<7, 6, 5>, tn::Named<"conv", tn::Conv2D<20, tn::kernel<3>, tn::padding<1>>>, tn::Named<"se", SE>,
                                 tn::Named<"out", tn::Conv2D<6, tn::kernel<1>>>>;
    using ModelSiLU = tn::Sequential<tn::Input<7, 6, 5>, tn::Named<"conv", tn::Conv2D<20, tn::kernel<3>, tn::padding<1>>>,
                                     tn::Named<"se", tn::SqueezeExcite<8, tn::silu, tn::sigmoid>>, tn::Named<"out", tn::Conv2D<6, tn::kernel<1>>>>;
    STATIC_REQUIRE(std::is_same_v<SE::output_shape_for<tn::Shape<7, 6, 20>>, tn::Shape<7, 6, 20>>);
    STATIC_REQUIRE(SE::aliasing == tn::LayerAliasing::in_place);
    STATIC_REQUIRE(Model::param_count == 20 * 5 * 9 + 20 + (8 * 20 + 8) + (20 * 8 + 20) + 6 * 20 + 6);
    std::vector<std::string> names;
    for (const auto& p : tn::Net<Model>::param_infos()) names.push_back(std::string(p.name));
    CHECK(names == std::vector<std::string>{"conv.weight", "conv.bias", "se.fc1.weight", "se.fc1.bias", "se.fc2.weight", "se.fc2.bias",
                                            "out.weight", "out.bias"});
    CHECK(tn::layer_name<tn::SqueezeExcite<8, tn::silu, tn::sigmoid>>() == "SqueezeExcite<8, silu, sigmoid>");
    golden::check_model<Model>("squeeze_excite", 2e-5);
    golden::check_model<ModelSiLU>("squeeze_excite_silu", 2e-5);
}

// A batch's gates come from one GEMM over its pooled rows (blocks of SqueezeExcite::block),
// one sample's from the GEMV: every batch size up to three blocks, against the layer's
// formula in double precision from the same weights, and against one sample at a time.
TEST_CASE("SqueezeExcite gates a batch by products over its rows, as one sample at a time", "[layers]") {
    constexpr std::size_t C = 40, S = 12, P = 6;
    using SE = tn::SqueezeExcite<S, tn::silu, tn::sigmoid>;
    using Model = tn::Sequential<tn::Input<2, 3, C>, SE>;
    auto net = tn::make<Model>(tn::seed{11});
    const std::vector<float>& w = net.get_weights();  // fc1.weight [S][C], fc1.bias, fc2.weight [C][S], fc2.bias
    const float *w1 = w.data(), *b1 = w1 + S * C, *w2 = b1 + S, *b2 = w2 + C * S;
    constexpr std::size_t most = 3 * SE::block + 1;
    std::vector<float> x(most * P * C);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(int((i * 37) % 101) - 50) / 25.f;
    std::vector<double> want(x.size());
    for (std::size_t r = 0; r < most; ++r) {
        const float* xr = x.data() + r * P * C;
        double s[C] = {}, h[S], g[C];
        for (std::size_t p = 0; p < P; ++p)
            for (std::size_t c = 0; c < C; ++c) s[c] += xr[p * C + c] / double(P);
        for (std::size_t j = 0; j < S; ++j) {
            double a = b1[j];
            for (std::size_t c = 0; c < C; ++c) a += double(w1[j * C + c]) * s[c];
            h[j] = a / (1 + std::exp(-a));
        }
        for (std::size_t c = 0; c < C; ++c) {
            double a = b2[c];
            for (std::size_t j = 0; j < S; ++j) a += double(w2[c * S + j]) * h[j];
            g[c] = 1 / (1 + std::exp(-a));
        }
        for (std::size_t p = 0; p < P; ++p)
            for (std::size_t c = 0; c < C; ++c) want[(r * P + p) * C + c] = xr[p * C + c] * g[c];
    }
    std::vector<float> one(x.size());
    for (std::size_t r = 0; r < most; ++r) net.forward(x.data() + r * P * C, one.data() + r * P * C);
    for (std::size_t rows = 1; rows <= most; ++rows) {
        std::vector<float> y(rows * P * C);
        net.predict(x.data(), y.data(), rows);
        for (std::size_t i = 0; i < y.size(); ++i) {
            INFO("rows " << rows << ", float " << i);
            REQUIRE(std::abs(y[i] - want[i]) <= 2e-6 * std::max(1.0, std::abs(want[i])));
            REQUIRE(std::abs(y[i] - one[i]) <= 2e-6 * std::max(1.f, std::abs(one[i])));
        }
    }
}

// ShuffleNetV2's unit: the channels split in two (ChannelSlice), one half through a branch,
// joined and shuffled.
TEST_CASE("ChannelSlice, Concat and ChannelShuffle make ShuffleNet's unit, as PyTorch computes it", "[graph][golden]") {
    constexpr auto unit = [] {
        auto x = tn::input<"x", 6, 5, 8>;
        auto x1 = tn::call<tn::ChannelSlice<0, 4>>(x);
        auto x2 = tn::layer<"branch", tn::Conv2D<4, tn::kernel<1>, tn::relu>>(tn::call<tn::ChannelSlice<4, 8>>(x));
        return tn::model(tn::inputs(x), tn::outputs(tn::call<tn::ChannelShuffle<2>>(tn::concat(x1, x2))));
    };
    using Unit = decltype(unit());
    STATIC_REQUIRE(std::is_same_v<tn::ChannelSlice<4, 8>::output_shape_for<tn::Shape<6, 5, 8>>, tn::Shape<6, 5, 4>>);
    STATIC_REQUIRE(!tn::ChannelSlice<4, 9>::accepts<tn::Shape<6, 5, 8>>);
    golden::check_model<Unit>("shuffle_unit");
}

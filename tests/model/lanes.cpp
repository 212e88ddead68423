// The lanes schedule (runtime/lanes.hpp): a chain of narrow Dense layers and element-wise
// activations runs predict() with one sample per SIMD lane. Which models get it, and that it
// changes nothing but the speed: the same outputs as one sample at a time, whatever a row's
// place in the batch.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include <typenet/typenet.hpp>

namespace tn = typenet;

namespace {
using Tiny = tn::Sequential<tn::Input<1>, tn::Dense<8, tn::tanh>, tn::Dense<8, tn::tanh>, tn::Dense<1>>;
using Wide = tn::Sequential<tn::Input<5>, tn::Dense<32>, tn::ReLU, tn::Dropout<>, tn::Dense<12, tn::sigmoid>, tn::Activation<tn::elu>,
                            tn::Dense<3>>;
template <class M> constexpr bool lanes = tn::runtime::LanesSchedule<typename M::program>::applies;

template <class M>
void check(std::size_t n) {
    auto net = tn::make<M>(tn::seed{9});
    constexpr std::size_t F = M::input_shape_type::size, O = M::output_shape_type::size;
    std::vector<float> x(n * F), y(n * O), one(O);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.37f * float(i)) * 1.5f;
    net.predict(x.data(), y.data(), n);
    for (std::size_t r = 0; r < n; ++r) {  // one sample at a time: the row kernels
        net.forward(x.data() + r * F, one.data());
        for (std::size_t o = 0; o < O; ++o) REQUIRE(std::abs(y[r * O + o] - one[o]) <= 2e-6f * std::max(1.f, std::abs(one[o])));
    }
    // A row's output does not depend on where it sits in the batch, or on the batch's size.
    for (std::size_t start : {std::size_t{1}, std::size_t{5}, n - 3}) {
        const std::size_t m = std::min<std::size_t>(7, n - start);
        std::vector<float> part(m * O);
        net.predict(x.data() + start * F, part.data(), m);
        REQUIRE(std::equal(part.begin(), part.end(), y.begin() + std::ptrdiff_t(start * O)));
    }
}
}  // namespace

TEST_CASE("the lanes schedule: which models", "[lanes]") {
    STATIC_REQUIRE(lanes<Tiny>);
    STATIC_REQUIRE(lanes<Wide>);
    STATIC_REQUIRE(lanes<tn::with_fast_activations<Tiny>>);
    STATIC_REQUIRE(!lanes<tn::Sequential<tn::Input<4>, tn::Dense<33>, tn::Dense<1>>>);               // too wide
    STATIC_REQUIRE(!lanes<tn::Sequential<tn::Input<4>, tn::Dense<8>, tn::Dense<3, tn::softmax>>>);   // a row-wise activation
    STATIC_REQUIRE(!lanes<tn::Sequential<tn::Input<4>, tn::Dense<8>, tn::BatchNorm<>, tn::Dense<2>>>);  // not (yet) in the schedule
    STATIC_REQUIRE(!lanes<tn::Sequential<tn::Input<2, 4>, tn::Dense<8>>>);                            // a sequence
}

TEST_CASE("the lanes schedule gives the row kernels' outputs, position-independent", "[lanes]") {
    check<Tiny>(4096);
    check<Tiny>(37);
    check<Wide>(100);
    check<tn::with_fast_activations<Tiny>>(50);
}

// Merges: how branches of a graph come back together. Each takes the outputs of several
// nodes (all the same sample count) and writes one tensor:
//
//   Concat<Axis = -1>   joins along an axis; all other dims must agree. Axis counts as in
//                       Keras: -1 is the last (channels, NHWC), 1 the first sample axis
//                       (axis 0 would be the batch).
//   Add, Multiply, Average, Maximum, Minimum: elementwise over any number of inputs whose
//                       shapes broadcast as NumPy's and Keras' do (aligned on the last axis,
//                       each dimension equal or 1): [H, W, C] * [1, 1, C] or * [C] is a
//                       squeeze-and-excitation gate.
//   Subtract: a - b, exactly two inputs, broadcast alike.
//
// The merge protocol (what the graph engine asks of a merge M, over input shapes S...):
//   template <class... S> static constexpr bool accepts;
//   template <class... S> using output_shape_for = Shape<...>;
//   template <class... S> static void merge(const float* const* in, float* out, std::size_t rows);
//     (Concat: a null in[j] is an input whose kernel wrote its slice of out already)
//   template <class Where, class... S> struct report;   // static_asserts why !accepts, in words
//
// And the unary elementwise ops a graph can apply to a node (tn::abs, -x, tn::square) are
// activation functions, so they run in place or fused like any activation.
#pragma once
#include "../core/isa.hpp"
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <string>
#include <tuple>
#include <utility>

#include "../kernels/activations.hpp"
#include "../kernels/simd.hpp"
#include "../core/layer.hpp"
#include "../core/shape.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

// The words of a merge error:
//   merge_at<node<"cat">, Concat<-1>>::inputs<Shape<8, 8, 16>, Shape<4, 4, 8>>::must_agree_except_on_axis<-1>
template <class Where, class Merge>
struct merge_at {
    template <class... Shapes>
    struct inputs {
        template <int Axis> static constexpr bool must_agree_except_on_axis = false;
        template <int Axis> static constexpr bool have_no_axis = false;
        static constexpr bool must_have_equal_shapes = false;
        static constexpr bool must_broadcast_to_one_shape = false;  // NumPy's rule: aligned on the last axis, equal or 1
        static constexpr bool must_be_exactly_two = false;
        static constexpr bool must_be_at_least_one = false;
    };
};

namespace detail {
struct merge_tag {};
template <class T> concept MergeOp = std::is_base_of_v<merge_tag, T>;

template <class First, class... Rest>
inline constexpr bool all_equal_shapes = ((First{} == Rest{}) && ...);

// out = op(in[0], in[1], ...), n floats each.
template <class Op>
inline void fold_elementwise(const float* const* in, std::size_t k, float* out, std::size_t n, float scale) noexcept {
    using kernels::vfloat;
    constexpr std::size_t L = kernels::lanes;
    std::size_t i = 0;
    for (; i + L <= n; i += L) {
        vfloat acc = kernels::loadu(in[0] + i);
        for (std::size_t j = 1; j < k; ++j) acc = Op::apply(acc, kernels::loadu(in[j] + i));
        if (scale != 1.f) acc *= vfloat(scale);
        kernels::storeu(out + i, acc);
    }
    if (i < n) {  // the tail, masked
        const std::size_t m = n - i;
        vfloat acc = kernels::load_partial(in[0] + i, m, 0.f);
        for (std::size_t j = 1; j < k; ++j) acc = Op::apply(acc, kernels::load_partial(in[j] + i, m, 0.f));
        if (scale != 1.f) acc *= vfloat(scale);
        kernels::store_partial(out + i, acc, m);
    }
}

// NumPy's broadcasting of shapes S...: aligned on the last axis, each dimension equal across
// the inputs that have it or 1; the result takes the larger.
template <class... S>
struct broadcast {
    static constexpr std::size_t rank = std::max({S::rank...});
    static constexpr auto result = [] {
        std::array<std::size_t, rank> d{};
        d.fill(1);
        bool ok = true;
        auto take = [&](const auto& dims, std::size_t r) {
            for (std::size_t i = 0; i < r; ++i) {
                std::size_t& o = d[rank - r + i];
                if (o == 1) o = dims[i];
                else if (dims[i] != 1 && dims[i] != o) ok = false;
            }
        };
        (take(S::dims, S::rank), ...);
        return std::pair{ok, d};
    }();
    static constexpr bool ok = result.first;
    static constexpr std::array<std::size_t, rank> dims = result.second;
};

// out = op(in[0], in[1], ...) on the broadcast shape Out: each input read at stride 0 along
// the dimensions it broadcasts; the last axis a vector at a time (or one value, repeated,
// for an input that broadcasts along it: a [H, W, 1] mask).
template <class Op, class Out, class... S>
inline void broadcast_elementwise(const float* const* in, float* out, std::size_t rows, float scale) noexcept {
    using kernels::vfloat;
    constexpr std::size_t R = Out::rank, k = sizeof...(S), L = kernels::lanes;
    constexpr std::size_t last = Out::dims[R - 1], outer = Out::size / last;
    // stride[j][d]: how far input j moves per step of output dimension d (0: broadcast)
    static constexpr std::array<std::array<std::size_t, R>, k> stride = [] {
        std::array<std::array<std::size_t, R>, k> st{};
        std::size_t j = 0;
        auto one = [&](const auto& dims, std::size_t r) {
            std::size_t step = 1;
            for (std::size_t i = r; i-- > 0;) {
                st[j][R - r + i] = dims[i] == 1 ? 0 : step;
                step *= dims[i];
            }
            ++j;
        };
        (one(S::dims, S::rank), ...);
        return st;
    }();
    static constexpr std::array<std::size_t, k> size{S::size...};
    const float* at[k];
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t o = 0; o < outer; ++o) {
            for (std::size_t j = 0; j < k; ++j) {  // the offset of output row o in each input
                std::size_t rest = o, off = 0;
                for (std::size_t d = R - 1; d-- > 0;) {
                    off += (rest % Out::dims[d]) * stride[j][d];
                    rest /= Out::dims[d];
                }
                at[j] = in[j] + r * size[j] + off;
            }
            float* dst = out + (r * outer + o) * last;
            auto read = [&](std::size_t j, std::size_t c, std::size_t n) {
                if (stride[j][R - 1] == 0) return vfloat(at[j][0]);
                return n == L ? kernels::loadu(at[j] + c) : kernels::load_partial(at[j] + c, n, 0.f);
            };
            for (std::size_t c = 0; c < last; c += L) {
                const std::size_t n = std::min(L, last - c);
                vfloat acc = read(0, c, n);
                for (std::size_t j = 1; j < k; ++j) acc = Op::apply(acc, read(j, c, n));
                if (scale != 1.f) acc *= vfloat(scale);
                if (n == L) kernels::storeu(dst + c, acc);
                else kernels::store_partial(dst + c, acc, n);
            }
        }
}

template <class Self, class Op, bool Mean = false>
struct elementwise_merge : merge_tag {
    template <class... S> static constexpr bool accepts = [] {
        if constexpr (sizeof...(S) == 0) return false;
        else return broadcast<S...>::ok;
    }();
    template <class... S> using first = std::tuple_element_t<0, std::tuple<S...>>;
    template <class... S> using output_shape_for = shape_from_array<broadcast<S...>::dims>;
    template <class... S> static constexpr std::size_t flops_for = (sizeof...(S) - 1 + Mean) * output_shape_for<S...>::size;
    template <class... S>
    static void merge(const float* const* in, float* out, std::size_t rows) noexcept {
        constexpr std::size_t k = sizeof...(S);
        if constexpr (all_equal_shapes<S...>) fold_elementwise<Op>(in, k, out, rows * first<S...>::size, Mean ? 1.f / float(k) : 1.f);
        else broadcast_elementwise<Op, output_shape_for<S...>, S...>(in, out, rows, Mean ? 1.f / float(k) : 1.f);
    }
    template <class Where, class... S>
    struct report {
        static_assert(sizeof...(S) == 0 || merge_at<Where, Self>::template inputs<S...>::must_broadcast_to_one_shape,
                      "typenet: an elementwise merge (Add, Multiply, ...) needs shapes that broadcast as NumPy's do "
                      "(aligned on the last axis, each dimension equal or 1); the shapes it got are named in this condition");
    };
};

struct add_op {
    static float apply(float a, float b) noexcept { return a + b; }
    static kernels::vfloat apply(kernels::vfloat a, kernels::vfloat b) noexcept { return a + b; }
};
struct sub_op {
    static float apply(float a, float b) noexcept { return a - b; }
    static kernels::vfloat apply(kernels::vfloat a, kernels::vfloat b) noexcept { return a - b; }
};
struct mul_op {
    static float apply(float a, float b) noexcept { return a * b; }
    static kernels::vfloat apply(kernels::vfloat a, kernels::vfloat b) noexcept { return a * b; }
};
struct max_op {
    static float apply(float a, float b) noexcept { return a > b || a != a ? a : b; }  // NaN from either
    static kernels::vfloat apply(kernels::vfloat a, kernels::vfloat b) noexcept { return kernels::max_nan(a, b); }
};
struct min_op {
    static float apply(float a, float b) noexcept { return a < b || a != a ? a : b; }
    static kernels::vfloat apply(kernels::vfloat a, kernels::vfloat b) noexcept { return kernels::min_nan(a, b); }
};
}  // namespace detail

struct Add : detail::elementwise_merge<Add, detail::add_op> {
    static std::string name() { return "Add"; }
};
struct Multiply : detail::elementwise_merge<Multiply, detail::mul_op> {
    static std::string name() { return "Multiply"; }
};
struct Average : detail::elementwise_merge<Average, detail::add_op, true> {
    static std::string name() { return "Average"; }
};
struct Maximum : detail::elementwise_merge<Maximum, detail::max_op> {
    static std::string name() { return "Maximum"; }
};
struct Minimum : detail::elementwise_merge<Minimum, detail::min_op> {
    static std::string name() { return "Minimum"; }
};
struct Subtract : detail::elementwise_merge<Subtract, detail::sub_op> {
    template <class... S> static constexpr bool accepts = sizeof...(S) == 2 && detail::broadcast<S...>::ok;
    template <class Where, class... S>
    struct report {
        static_assert(sizeof...(S) == 2 || merge_at<Where, Subtract>::template inputs<S...>::must_be_exactly_two,
                      "typenet: Subtract takes exactly two inputs, a - b");
        static_assert(sizeof...(S) != 2 || merge_at<Where, Subtract>::template inputs<S...>::must_broadcast_to_one_shape,
                      "typenet: Subtract needs shapes that broadcast as NumPy's do (aligned on the last axis, each "
                      "dimension equal or 1); the shapes are named in this condition");
    };
    static std::string name() { return "Subtract"; }
};

template <int Axis = -1>
struct Concat : detail::merge_tag {
    // The axis within one sample (0 = the first sample dimension), or -1 if out of range.
    template <class S>
    static constexpr int sample_axis = [] {
        constexpr int r = int(S::rank);
        constexpr int a = Axis < 0 ? r + Axis : Axis - 1;
        return (a >= 0 && a < r) ? a : -1;
    }();
    template <class S0, class... S>
    static consteval bool agree() {
        constexpr int a = sample_axis<S0>;
        if constexpr (a < 0 || ((S::rank != S0::rank) || ...)) return false;
        else {
            bool ok = true;
            for (int d = 0; d < int(S0::rank); ++d)
                if (d != a) ((ok = ok && S::dims[std::size_t(d)] == S0::dims[std::size_t(d)]), ...);
            return ok;
        }
    }
    template <class... S> static constexpr bool accepts = [] {
        if constexpr (sizeof...(S) == 0) return false;
        else return agree<S...>();
    }();

    template <class S0, class... S>
    static consteval auto out_dims() {
        std::array<std::size_t, S0::rank> d = S0::dims;
        d[std::size_t(sample_axis<S0>)] = (S0::dims[std::size_t(sample_axis<S0>)] + ... + S::dims[std::size_t(sample_axis<S0>)]);
        return d;
    }
    template <class... S> using output_shape_for = shape_from_array<out_dims<S...>()>;

    // Floats of one input from its axis on: the run each input contributes per outer index.
    template <class S>
    static constexpr std::size_t inner = [] {
        std::size_t n = 1;
        for (std::size_t d = std::size_t(sample_axis<S>); d < S::rank; ++d) n *= S::dims[d];
        return n;
    }();
    template <class S0, class...>
    static constexpr std::size_t outer = S0::size / inner<S0>;

    template <class... S>
    static void merge(const float* const* in, float* out, std::size_t rows) noexcept {
        constexpr std::size_t k = sizeof...(S);
        constexpr std::array<std::size_t, k> run{inner<S>...};
        const std::size_t n = rows * outer<S...>;
        for (std::size_t o = 0; o < n; ++o)
            for (std::size_t j = 0; j < k; ++j) {
                if (in[j]) std::memcpy(out, in[j] + o * run[j], run[j] * sizeof(float));  // null: written in place
                out += run[j];
            }
    }
    template <class Where, class S0, class... S>
    struct report {
        static_assert(sample_axis<S0> >= 0 || merge_at<Where, Concat>::template inputs<S0, S...>::template have_no_axis<Axis>,
                      "typenet: Concat's axis is outside the inputs' shape (axes count as in Keras: 1 is the first "
                      "sample axis, -1 the last)");
        static_assert(sample_axis<S0> < 0 ||
                          merge_at<Where, Concat>::template inputs<S0, S...>::template must_agree_except_on_axis<Axis>,
                      "typenet: Concat needs its inputs to agree on every axis but the one it joins; the shapes and "
                      "the axis are named in this condition");
    };
    static std::string name() { return Axis == -1 ? std::string("Concat") : std::string("Concat<") + std::to_string(Axis) + ">"; }
};

// A merge of your own (a broadcast multiply, a weighted sum, ...): derive from MergeBase and
// provide what the built-in ones do (the merge protocol above): accepts<S...>,
// output_shape_for<S...>, merge<S...>(in, out, rows), report<Where, S...> (a struct whose
// static_asserts say why !accepts), and name(). Call it in a graph with tn::merge<M>(a, b, ...),
// or use it in Branch<M, Paths...>. tests/model/graph.cpp has a squeeze-and-excitation gate.
struct MergeBase : detail::merge_tag {};
template <class M>
concept Merge = detail::MergeOp<M> && requires { M::name(); };

// Unary elementwise ops between graph nodes, as activation functions.
struct absolute : detail::elementwise_activation {
    static std::string name() { return "abs"; }
    static float apply(float x) noexcept { return std::fabs(x); }
    static kernels::vfloat apply(kernels::vfloat x) noexcept { return xsimd::abs(x); }
};
struct negate : detail::elementwise_activation {
    static std::string name() { return "neg"; }
    static float apply(float x) noexcept { return -x; }
    static kernels::vfloat apply(kernels::vfloat x) noexcept { return -x; }
};
struct square : detail::elementwise_activation {
    static std::string name() { return "square"; }
    static float apply(float x) noexcept { return x * x; }
    static kernels::vfloat apply(kernels::vfloat x) noexcept { return x * x; }
};

}  // namespace typenet

// The functional front end: Keras' functional API, whose result is a type.
//
//   constexpr auto two_inputs = [] {
//       auto image   = tn::input<"image", 784>;
//       auto tabular = tn::input<"tabular", 10>;
//       auto x1 = tn::dense<"img_fc", 64, tn::relu>(image);
//       auto x2 = tn::dense<"tab_fc", 32, tn::relu>(tabular);
//       auto out = tn::dense<"head", 10, tn::softmax>(tn::concat(x1, x2));
//       return tn::model(tn::inputs(image, tabular), tn::outputs(out));
//   };
//   using TwoInputs = decltype(two_inputs());
//
// Every value here is an empty object whose type is a graph node (model/graph.hpp), so the
// lambda never runs: decltype reads the graph off its return type. Spelling the nodes as
// types directly (tn::In, tn::Call, tn::Named, tn::Graph) gives the same type.
#pragma once
#include "../core/isa.hpp"
#include <cstddef>

#include "../core/fixed_string.hpp"
#include "../layers/activation.hpp"
#include "../layers/conv2d.hpp"
#include "../layers/dense.hpp"
#include "../layers/merge.hpp"
#include "graph.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

template <fixed_string Name, std::size_t... Dims>
inline constexpr In<Name, Dims...> input{};

// A layer ready to be called on nodes. Calling it twice is sharing it: one set of weights.
template <class Op>
struct LayerCall {
    template <detail::GraphNode X>
    constexpr Call<Op, X> operator()(X) const noexcept {
        return {};
    }
};

template <fixed_string Name, class L>
inline constexpr LayerCall<Named<Name, L>> layer{};
// A layer without a name (pooling, Flatten, ...; one with weights gets its position, "#5").
template <class L>
inline constexpr LayerCall<L> call{};
template <fixed_string Name, std::size_t Units, class... Options>
inline constexpr LayerCall<Named<Name, Dense<Units, Options...>>> dense{};
template <fixed_string Name, std::size_t Filters, class... Options>
inline constexpr LayerCall<Named<Name, Conv2D<Filters, Options...>>> conv2d{};
template <class A>
inline constexpr LayerCall<ActivationLayer<A>> activation{};

// Merges.
template <int Axis = -1, detail::GraphNode... X>
constexpr Call<Concat<Axis>, X...> concat(X...) noexcept { return {}; }
template <detail::GraphNode... X> constexpr Call<Add, X...> add(X...) noexcept { return {}; }
template <detail::GraphNode... X> constexpr Call<Multiply, X...> multiply(X...) noexcept { return {}; }
template <detail::GraphNode... X> constexpr Call<Average, X...> average(X...) noexcept { return {}; }
template <detail::GraphNode... X> constexpr Call<Maximum, X...> maximum(X...) noexcept { return {}; }
template <detail::GraphNode... X> constexpr Call<Minimum, X...> minimum(X...) noexcept { return {}; }
template <detail::GraphNode A, detail::GraphNode B> constexpr Call<Subtract, A, B> subtract(A, B) noexcept { return {}; }
// Any merge, a user's own included (tn::MergeBase).
template <Merge M, detail::GraphNode... X> constexpr Call<M, X...> merge(X...) noexcept { return {}; }

// Elementwise operators between nodes.
template <detail::GraphNode A, detail::GraphNode B> constexpr Call<Add, A, B> operator+(A, B) noexcept { return {}; }
template <detail::GraphNode A, detail::GraphNode B> constexpr Call<Subtract, A, B> operator-(A, B) noexcept { return {}; }
template <detail::GraphNode A, detail::GraphNode B> constexpr Call<Multiply, A, B> operator*(A, B) noexcept { return {}; }
template <detail::GraphNode A> constexpr Call<ActivationLayer<negate>, A> operator-(A) noexcept { return {}; }
template <detail::GraphNode A> constexpr Call<ActivationLayer<absolute>, A> abs(A) noexcept { return {}; }
template <detail::GraphNode A> constexpr Call<ActivationLayer<square>, A> square(A) noexcept { return {}; }

template <detail::GraphNode... X> constexpr Inputs<X...> inputs(X...) noexcept { return {}; }
template <detail::GraphNode... X> constexpr Outputs<X...> outputs(X...) noexcept { return {}; }
template <class... I, class... O>
constexpr Graph<Inputs<I...>, Outputs<O...>> model(Inputs<I...>, Outputs<O...>) noexcept {
    return {};
}

}  // namespace typenet

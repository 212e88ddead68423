// Lowering: any spelling of a model into the IR (ir/ir.hpp).
//
//   lower<L, Path, Where>(state)   appends what layer L computes on the current node
//
// A leaf layer is one node, after its shape rule is checked (the only place a shape error is
// reported). tn::Named<"fc", L> lowers L under the path's own name. A block (Sequential,
// Residual, Branch, a graph used as a layer: anything with `is_block`) lowers itself through
// its `lower_block`, which calls lower on its parts: nested blocks are seen through, so the
// passes never meet a block boundary. The first error turns the state into ir::Failed and
// nothing after it is instantiated: one error, however deep the model.
//
// Names follow structure: a layer's path is its block's path joined with its own name (a
// tn::Named label) or, if it has none, its position in the block, as nn.Sequential names
// its children.
#pragma once
#include "../core/isa.hpp"
#include <cstddef>
#include <type_traits>

#include "../core/diagnostics.hpp"
#include "../core/fixed_string.hpp"
#include "../core/layer.hpp"
#include "ir.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::ir {

// Where an error is reported: position I in a chain (at_layer<I, L>), or a graph node
// (at_node<node<"fc">, L>). at_t<Where, L> is the type the static_assert names.
template <int I> struct at_position {};
template <class W> struct at_graph_node {};

namespace detail {

template <class E> struct is_spatial_size : std::false_type {};
template <std::size_t H, std::size_t W> struct is_spatial_size<spatial_size_at_least<H, W>> : std::true_type {};
template <class E> struct is_channels_divisible : std::false_type {};
template <std::size_t G> struct is_channels_divisible<channels_divisible_by<G>> : std::true_type {};

template <class Where> struct where_parts;
template <int I> struct where_parts<at_position<I>> {
    template <class L> using at = at_layer<I, L>;
};
template <class W> struct where_parts<at_graph_node<W>> {
    template <class L> using at = at_node<W, L>;
};
template <class L>
consteval auto invalid_options_probe() {
    if constexpr (requires { typename L::invalid_options; }) return std::type_identity<typename L::invalid_options>{};
    else return std::type_identity<void>{};
}

}  // namespace detail

template <class Where, class L> using at_t = typename detail::where_parts<Where>::template at<L>;

template <class L> using invalid_options_of = typename decltype(detail::invalid_options_probe<L>())::type;

// tn::Named<"fc", L>: L under a name of its own.
template <class L>
concept NamedLayer = requires {
    typename L::unnamed_type;
    L::label;
};
// A layer made of layers, which lowers itself.
template <class L>
concept BlockLayer = requires { L::is_block; };

template <class L> consteval auto unnamed_probe() {
    if constexpr (NamedLayer<L>) return std::type_identity<typename L::unnamed_type>{};
    else return std::type_identity<L>{};
}
template <class L> using unnamed_t = typename decltype(unnamed_probe<L>())::type;

// The path of child I of a block at Prefix: its own name, or its position.
template <fixed_string Prefix, class L, std::size_t I>
consteval auto child_path() {
    if constexpr (NamedLayer<L>) return join_path<Prefix, L::label>();
    else return join_path<Prefix, index_string<I>()>();
}

// Layer L on the current node: a block lowers itself; a leaf is one node, appended after
// its shape rule is checked (the one place a layer's shape error is reported, written out
// here so that the error is as few instantiations from the user's line as can be).
template <class L, fixed_string Path, class Where, class S, bool Named = false>
consteval auto lower(S s) {
    if constexpr (std::is_same<S, Failed>::value) {
        return Failed{};
    } else if constexpr (NamedLayer<L>) {
        return lower<typename L::unnamed_type, Path, Where, S, true>(s);
    } else if constexpr (BlockLayer<L>) {
        return L::template lower_block<L, Path, Where>(s);
    } else {
        using In = typename S::cur_shape;
        using At = typename detail::where_parts<Where>::template at<L>;
        if constexpr (!std::is_void_v<invalid_options_of<L>>) {
            static_assert(At::template has_invalid_options<invalid_options_of<L>>,
                          "typenet: invalid layer options: the reason is named in this condition");
            return Failed{};
        } else if constexpr (!core::layer_accepts<L, In>()) {
            using E = typename core::expected_input_of<L, In>::type;
            // The same condition each time; the message says the usual fix where there is one.
            if constexpr (std::is_same_v<E, shape_of_rank<1>>)
                static_assert(At::template expects_input<E>::template but_gets<In>,
                              "typenet: shape mismatch: the layer in this condition needs a rank-1 input: put Flatten (or a global "
                              "pooling layer) before it");
            else if constexpr (detail::is_spatial_size<E>::value)
                static_assert(At::template expects_input<E>::template but_gets<In>,
                              "typenet: shape mismatch: the input of the layer in this condition (with its padding) is smaller than its "
                              "window: pad it, or use a smaller kernel or pool");
            else if constexpr (detail::is_channels_divisible<E>::value)
                static_assert(At::template expects_input<E>::template but_gets<In>,
                              "typenet: shape mismatch: the groups of the layer in this condition must divide its input channels");
            else
                static_assert(At::template expects_input<E>::template but_gets<In>,
                              "typenet: shape mismatch: the layer in this condition does not accept the input shape it is given");
            return Failed{};
        } else if constexpr (!LayerOn<L, In>) {
            static_assert(At::template is_not_a_layer_on_input<In>,
                          "typenet: not a layer: a layer needs `template <class In> using output_shape_for` and "
                          "`template <class In> static void forward(const float* params, const float* in, float* out, "
                          "std::size_t rows)` (see docs/layers.md, custom layers)");
            return Failed{};
        } else if constexpr (!core::layer_sizes_fit<L, In>()) {
            static_assert(At::template on_input_has_a_size_that_overflows_size_t<In>,
                          "typenet: size overflow: a parameter or output count of the layer in this condition does not fit "
                          "std::size_t");
            return Failed{};
        } else {
            return typename S::template push<Node<L, In, typename L::template output_shape_for<In>, Path, Named, S::cur>>{};
        }
    }
}

template <class S, class Bk> using with_block_t = typename S::template with_block<Bk>;

// A chain of layers on the current node, child I named child_path<Prefix, L_I, I>: a left
// fold, so the first failure is reported and the rest pass through.
//   (ChainAcc<S, Prefix>{} | ... | ChainStep<Layers>{})
template <class S, fixed_string Prefix, std::size_t I = 0> struct ChainAcc {
    using state = S;
};
template <class L> struct ChainStep {};
template <class S, fixed_string P, std::size_t I, class L>
constexpr auto operator|(ChainAcc<S, P, I>, ChainStep<L>) {
    if constexpr (std::is_same<S, Failed>::value) return ChainAcc<Failed, P, I + 1>{};
    // (a block directly: one instantiation fewer between its error and the user's line)
    else if constexpr (BlockLayer<L> && !NamedLayer<L>) return ChainAcc<decltype(L::template lower_block<L, child_path<P, L, I>(), at_position<int(I)>>(S{})), P, I + 1>{};
    else return ChainAcc<decltype(lower<L, child_path<P, L, I>(), at_position<int(I)>>(S{})), P, I + 1>{};
}
template <fixed_string Prefix, class S, class... Ls>
using lowered_chain = typename decltype((ChainAcc<S, Prefix>{} | ... | ChainStep<Ls>{}))::state;

// A block's record, appended once its nodes are: [First, the state's size).
template <class B, fixed_string Path, std::size_t First, class S>
struct close_block {
    using type = with_block_t<S, Block<B, Path, First, S::size>>;
};
template <class B, fixed_string Path, std::size_t First>
struct close_block<B, Path, First, Failed> {
    using type = Failed;
};
template <class B, fixed_string Path, std::size_t First, class S>
using closed_block_t = typename close_block<B, Path, First, S>::type;

// A model with one input of shape In, before anything is lowered onto it.
template <class In, fixed_string Name = "input">
using start = State<list<Node<InputOp<0>, void, In, Name, true>>, list<>, 0, In>;

// What a layer does to a lone input of shape In: the protocol blocks offer their users
// (Branch<...>::accepts<Shape<7>>, Sequential<...>::output_shape_for<In>).
template <class L, class In>
using lowered_on = decltype(lower<L, fixed_string<1>{}, at_position<0>>(start<In>{}));
template <class L, class In>
inline constexpr bool lowers_on = !std::is_same<lowered_on<L, In>, Failed>::value;

}  // namespace typenet::ir

// Lowering: any spelling of a model into the IR (ir/ir.hpp).
//
//   lowered<L, Path, Where, State>::type   the state with what layer L computes on its current node
//
// A leaf layer is one node, after its shape rule is checked (the only place a shape error is
// reported). tn::Named<"fc", L> lowers L under the path's own name. A block (Sequential,
// Residual, Branch, a graph used as a layer: anything with `is_block`) lowers itself through
// its `lower_block`, which lowers its parts: nested blocks are seen through, so the
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
#include <utility>

#include "../core/diagnostics.hpp"
#include "../core/fixed_string.hpp"
#include "../core/layer.hpp"
#include "../core/type_list.hpp"
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

namespace detail {

// How layer L lowers onto a node of shape In (In void: the state failed before it): a leaf
// that takes In, the reason a leaf does not, a named layer or a block. A function of the
// layer and the shape only, never of the model lowered so far: g++ gives every function it
// instantiates a name, consteval ones too, and mangling a name that carries the model so far
// costs time growing with the square of the model's size (ARCHITECTURE.md, "What compile
// time is spent on").
enum class Lowering {
    failed_before, named, block, leaf,
    invalid_options, needs_rank_1, window_too_large, groups_do_not_divide, rejects_input, not_a_layer, size_overflows,
};
template <class L, class In>
consteval Lowering lowering_of() {
    if constexpr (std::is_void_v<In> || std::is_void_v<L>) return Lowering::failed_before;
    else if constexpr (NamedLayer<L>) return Lowering::named;
    else if constexpr (BlockLayer<L>) return Lowering::block;
    else if constexpr (!std::is_void_v<invalid_options_of<L>>) return Lowering::invalid_options;
    else if constexpr (!core::layer_accepts<L, In>()) {
        using E = typename core::expected_input_of<L, In>::type;
        if constexpr (std::is_same_v<E, shape_of_rank<1>>) return Lowering::needs_rank_1;
        else if constexpr (is_spatial_size<E>::value) return Lowering::window_too_large;
        else if constexpr (is_channels_divisible<E>::value) return Lowering::groups_do_not_divide;
        else return Lowering::rejects_input;
    } else if constexpr (!LayerOn<L, In>) return Lowering::not_a_layer;
    else if constexpr (!core::layer_sizes_fit<L, In>()) return Lowering::size_overflows;
    else return Lowering::leaf;
}
template <class S> struct shape_of_state {
    using type = typename S::cur_shape;
};
template <> struct shape_of_state<Failed> {
    using type = void;
};

// A leaf's shape error, reported: the one place a layer's shape error is reported, and the
// one function between it and the lowering that met it (so that the error is as few
// instantiations from the user's line as can be; an error inside a class's instantiation
// would also make clang drop the class from what it was computing, and report that too).
template <class L, class In, class Where, Lowering Why>
consteval auto report() {  // (deduced: decltype(report<...>()) instantiates the body)
    using At = typename where_parts<Where>::template at<L>;
    if constexpr (Why == Lowering::invalid_options)
        static_assert(At::template has_invalid_options<invalid_options_of<L>>,
                      "typenet: invalid layer options: the reason is named in this condition");
    // (The same condition each time; the message says the usual fix where there is one.)
    else if constexpr (Why == Lowering::needs_rank_1)
        static_assert(At::template expects_input<shape_of_rank<1>>::template but_gets<In>,
                      "typenet: shape mismatch: the layer in this condition needs a rank-1 input: put Flatten (or a global "
                      "pooling layer) before it");
    else if constexpr (Why == Lowering::window_too_large)
        static_assert(At::template expects_input<typename core::expected_input_of<L, In>::type>::template but_gets<In>,
                      "typenet: shape mismatch: the input of the layer in this condition (with its padding) is smaller than its "
                      "window: pad it, or use a smaller kernel or pool");
    else if constexpr (Why == Lowering::groups_do_not_divide)
        static_assert(At::template expects_input<typename core::expected_input_of<L, In>::type>::template but_gets<In>,
                      "typenet: shape mismatch: the groups of the layer in this condition must divide its input channels");
    else if constexpr (Why == Lowering::rejects_input)
        static_assert(At::template expects_input<typename core::expected_input_of<L, In>::type>::template but_gets<In>,
                      "typenet: shape mismatch: the layer in this condition does not accept the input shape it is given");
    else if constexpr (Why == Lowering::not_a_layer)
        static_assert(At::template is_not_a_layer_on_input<In>,
                      "typenet: not a layer: a layer needs `template <class In> using output_shape_for` and "
                      "`template <class In> static void forward(const float* params, const float* in, float* out, "
                      "std::size_t rows)` (see docs/layers.md, custom layers)");
    else if constexpr (Why == Lowering::size_overflows)
        static_assert(At::template on_input_has_a_size_that_overflows_size_t<In>,
                      "typenet: size overflow: a parameter or output count of the layer in this condition does not fit "
                      "std::size_t");
    return Failed{};
}
template <class L, fixed_string Path, bool Named, class S, class In = typename S::cur_shape>
using push_leaf = typename S::template push<Node<L, In, typename L::template output_shape_for<In>, Path, Named, S::cur>>;

}  // namespace detail

// lowered<L, Path, Where, S>::type: state S with what layer L computes on its current node.
// A leaf is one node, appended once its shape rule holds (else detail::report); a named
// layer (tn::Named<"fc", L>) lowers L under the path's own name; a block lowers itself (its
// lower_block). A class template specialised on detail::lowering_of, so that no function
// or variable named with the state is instantiated.
template <class L, fixed_string Path, class Where, class S, bool Named = false,
          detail::Lowering How = detail::lowering_of<L, typename detail::shape_of_state<S>::type>()>
struct lowered {  // a leaf's shape error
    using type = decltype(detail::report<L, typename S::cur_shape, Where, How>());
};
template <class L, fixed_string Path, class Where, class S, bool Named>
struct lowered<L, Path, Where, S, Named, detail::Lowering::leaf> {
    using type = detail::push_leaf<L, Path, Named, S>;
};
template <class L, fixed_string Path, class Where, class S, bool Named>
struct lowered<L, Path, Where, S, Named, detail::Lowering::failed_before> {
    using type = Failed;
};
template <class L, fixed_string Path, class Where, class S, bool Named>
struct lowered<L, Path, Where, S, Named, detail::Lowering::named> {
    using type = typename lowered<typename L::unnamed_type, Path, Where, S, true>::type;
};
template <class L, fixed_string Path, class Where, class S, bool Named>
struct lowered<L, Path, Where, S, Named, detail::Lowering::block> {
    using type = decltype(L::template lower_block<L, Path, Where>(S{}));
};
template <class S, class Bk> using with_block_t = typename S::template with_block<Bk>;

// A chain of layers on the current node, child I named child_path<Prefix, L_I, I>: a left
// fold, so the first failure is reported and the rest pass through.
//   (chain_start<S, Prefix, Layers...>{} | ... | ChainStep<Layers>{})
// ChainAcc<S, ..., I, N> is the chain with I of its N layers lowered, the I-th onto S as the
// class is instantiated (as lowered does it: the same cases, written again so that a
// layer's error is one instantiation from the chain). Its operator| is a member declared,
// not defined (the fold is an operand of decltype), and not a template: no function named
// with the state is instantiated, and no error is met inside a substitution (which clang
// would report again as a failed one).
struct ChainTick {};
template <class L> struct ChainStep : ChainTick {};
namespace detail {
template <class Table, std::size_t K, std::size_t N> struct chain_layer {
    using type = meta::pick_t<K, Table>;
};
template <class Table, std::size_t N> struct chain_layer<Table, N, N> {  // past the end: none
    using type = void;
};
}  // namespace detail
template <class S, fixed_string P, class Table, std::size_t I, std::size_t N, class L = typename detail::chain_layer<Table, I - 1, N>::type,
          detail::Lowering How = detail::lowering_of<L, typename detail::shape_of_state<S>::type>()>
struct ChainAcc {  // a leaf's shape error
    using state = decltype(detail::report<L, typename S::cur_shape, at_position<int(I - 1)>, How>());
    auto operator|(ChainTick) const -> ChainAcc<state, P, Table, I + 1, N>;
};
template <class S, fixed_string P, class Table, std::size_t I, std::size_t N, class L>
struct ChainAcc<S, P, Table, I, N, L, detail::Lowering::leaf> {
    using state = detail::push_leaf<L, child_path<P, L, I - 1>(), false, S>;
    auto operator|(ChainTick) const -> ChainAcc<state, P, Table, I + 1, N>;
};
template <class S, fixed_string P, class Table, std::size_t I, std::size_t N, class L>
struct ChainAcc<S, P, Table, I, N, L, detail::Lowering::failed_before> {
    using state = Failed;
    auto operator|(ChainTick) const -> ChainAcc<state, P, Table, I + 1, N>;
};
template <class S, fixed_string P, class Table, std::size_t I, std::size_t N, class L>
struct ChainAcc<S, P, Table, I, N, L, detail::Lowering::named> {
    using state = typename lowered<typename L::unnamed_type, child_path<P, L, I - 1>(), at_position<int(I - 1)>, S, true>::type;
    auto operator|(ChainTick) const -> ChainAcc<state, P, Table, I + 1, N>;
};
template <class S, fixed_string P, class Table, std::size_t I, std::size_t N, class L>
struct ChainAcc<S, P, Table, I, N, L, detail::Lowering::block> {
    using state = decltype(L::template lower_block<L, child_path<P, L, I - 1>(), at_position<int(I - 1)>>(S{}));
    auto operator|(ChainTick) const -> ChainAcc<state, P, Table, I + 1, N>;
};
template <class S, fixed_string P, class Table, std::size_t N>
struct ChainStart {  // none lowered yet
    using state = S;
    auto operator|(ChainTick) const -> ChainAcc<S, P, Table, 1, N>;
};
template <class S, fixed_string Prefix, class... Ls>
using chain_start = ChainStart<S, Prefix, meta::index_table<std::index_sequence_for<Ls...>, Ls...>, sizeof...(Ls)>;
template <fixed_string Prefix, class S, class... Ls>
using lowered_chain = typename decltype((chain_start<S, Prefix, Ls...>{} | ... | ChainStep<Ls>{}))::state;

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
using lowered_on = typename lowered<L, fixed_string<1>{}, at_position<0>, start<In>>::type;
template <class L, class In>
inline constexpr bool lowers_on = !std::is_same<lowered_on<L, In>, Failed>::value;

}  // namespace typenet::ir

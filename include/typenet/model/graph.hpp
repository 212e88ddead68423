// Graph<Inputs<...>, Outputs<...>>: a model that is any directed acyclic graph of layers.
//
// A node of the graph is a type, and its type says how it is computed:
//
//   InputNode<"image", Shape<784>>                       an input, tn::In<"image", 784>
//   Call<Named<"fc", Dense<64, relu>>, X>                a layer called on node X
//   Call<Concat<>, A, B>                                 a merge of nodes A and B
//
// so a node's type contains the types of everything it depends on; two calls of the same
// layer on the same node are the same node. A cycle cannot be written: a type cannot contain
// itself. Layers with the same name are one layer with one set of weights (a Siamese
// encoder called on two inputs).
//
// From the output types the graph collects every node once, in a topological order fixed at
// compile time (inputs first, then each node after the nodes it reads); gives each node a
// buffer by liveness over that order (plan below); and runs the nodes in that order.
// Structural mistakes are one compile error each, in words: an input the outputs do not use,
// an input used but not declared, two different layers with one name, a shared layer called
// on different shapes, and any shape mismatch (the node's name, its layer and both shapes).
#pragma once
#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "../diagnostics.hpp"
#include "../fixed_string.hpp"
#include "../kernels/simd.hpp"
#include "../layer.hpp"
#include "../layers/activation.hpp"
#include "../layers/merge.hpp"
#include "../shape.hpp"
#include "bound.hpp"
#include "plan.hpp"
#include "sequential.hpp"
#include "trace.hpp"

namespace typenet {

// ---- Node types -----------------------------------------------------------------------------

template <fixed_string Name, class S>
struct InputNode {
    using shape_type = S;
    static constexpr auto label = Name;
};
template <fixed_string Name, std::size_t... Dims>
using In = InputNode<Name, Shape<Dims...>>;

// A layer with a name: how graphs share it, how weight files find it ("fc.weight"), how
// summaries and errors show it. Usable inside Sequential too.
template <fixed_string Name, class L>
struct Named : L {
    static constexpr auto label = Name;
    using unnamed_type = L;
    static std::string name() { return layer_name<L>(); }
};

template <class Op, class... Args>
struct Call {
    static_assert(sizeof...(Args) > 0, "typenet: a graph node needs at least one input node");
};

template <class... Nodes> struct Inputs {};
template <class... Nodes> struct Outputs {};

template <class InputList, class OutputList>
struct Graph;

// ---- Diagnostics ----------------------------------------------------------------------------

template <fixed_string Name> struct node {};  // where an error is: the node's name
struct unnamed_node {};

template <class Where, class Layer>
struct at_node {
    template <class Expected>
    struct expects_input {
        template <class Got> static constexpr bool but_gets = false;
    };
    template <class Got> static constexpr bool is_not_a_layer_on_input = false;
    template <class Why> static constexpr bool has_invalid_options = false;
};
template <fixed_string Name>
struct graph_input {
    static constexpr bool is_used_by_no_output = false;
    static constexpr bool is_listed_twice_in_inputs = false;
    static constexpr bool is_used_but_not_listed_in_inputs = false;
};
template <fixed_string Name>
struct layer_named {
    template <class First, class Second> static constexpr bool names_two_different_layers = false;
    template <class FirstInput, class SecondInput> static constexpr bool is_shared_by_calls_on_different_shapes = false;
};

namespace detail {

template <class T> struct is_input_node : std::false_type {};
template <fixed_string N, class S> struct is_input_node<InputNode<N, S>> : std::true_type {};
template <class T> struct is_call : std::false_type {};
template <class Op, class... A> struct is_call<Call<Op, A...>> : std::true_type {};

template <class T>
concept GraphNode = is_input_node<T>::value || is_call<T>::value;

template <class Op>
consteval auto where_of() {
    if constexpr (requires { Op::label; }) return std::type_identity<node<Op::label>>{};
    else return std::type_identity<unnamed_node>{};
}
template <class Op> using where_t = typename decltype(where_of<Op>())::type;

template <class Op>
consteval auto unnamed_of() {
    if constexpr (requires { typename Op::unnamed_type; }) return std::type_identity<typename Op::unnamed_type>{};
    else return std::type_identity<Op>{};
}
template <class Op> using unnamed_t = typename decltype(unnamed_of<Op>())::type;

template <class Where, class L, class Expected, class Got>
struct report_node_shape_mismatch {
    static_assert(at_node<Where, L>::template expects_input<Expected>::template but_gets<Got>,
                  "typenet: shape mismatch: the layer at the node named in this condition does not accept its input shape");
};
template <class Where, class L, class Got>
struct report_node_not_a_layer {
    static_assert(at_node<Where, L>::template is_not_a_layer_on_input<Got>,
                  "typenet: not a layer: a layer needs `template <class In> using output_shape_for` and a forward "
                  "(see docs/layers.md, custom layers)");
};
template <class Where, class L, class Why>
struct report_node_invalid_options {
    static_assert(at_node<Where, L>::template has_invalid_options<Why>,
                  "typenet: invalid layer options: the reason is named in this condition");
};

struct BadShape {
    static constexpr std::size_t size = 0;
    static constexpr std::size_t rank = 0;
    static std::string str() { return "<invalid>"; }
};

// The shape of a node: computed once per node type, reporting at most one error; a node
// downstream of an error is BadShape silently.
template <class N> struct node_shape;
template <fixed_string Nm, class S>
struct node_shape<InputNode<Nm, S>> {
    using type = S;
};

template <class Op, class... S>
consteval auto call_shape() {
    if constexpr ((std::is_same_v<S, BadShape> || ...)) {
        return std::type_identity<BadShape>{};
    } else if constexpr (MergeOp<Op>) {
        if constexpr (Op::template accepts<S...>) {
            return std::type_identity<typename Op::template output_shape_for<S...>>{};
        } else {
            (void)typename Op::template report<where_t<Op>, S...>{};
            return std::type_identity<BadShape>{};
        }
    } else if constexpr (sizeof...(S) != 1) {
        static_assert(sizeof...(S) == 1, "typenet: a layer is called on exactly one node; merge nodes first (tn::concat, tn::add, ...)");
        return std::type_identity<BadShape>{};
    } else {
        using In = last_of<S...>;
        using L = unnamed_t<Op>;
        if constexpr (!std::is_void_v<invalid_options_of<L>>) {
            (void)report_node_invalid_options<where_t<Op>, L, invalid_options_of<L>>{};
            return std::type_identity<BadShape>{};
        } else if constexpr (!layer_accepts<Op, In>()) {
            if constexpr (!reports_own_errors<Op, In>())
                static_assert(at_node<where_t<Op>, L>::template expects_input<typename expected_input_of<Op, In>::type>::template but_gets<In>,
                              "typenet: shape mismatch: the layer at the node named in this condition does not accept its input shape");
            return std::type_identity<BadShape>{};
        } else if constexpr (!LayerOn<Op, In>) {
            (void)report_node_not_a_layer<where_t<Op>, L, In>{};
            return std::type_identity<BadShape>{};
        } else {
            return std::type_identity<typename Op::template output_shape_for<In>>{};
        }
    }
}
template <class Op, class... A>
struct node_shape<Call<Op, A...>> {
    using type = typename decltype(call_shape<Op, typename node_shape<A>::type...>())::type;
};
template <class N> using node_shape_t = typename node_shape<N>::type;

// ---- Collecting the nodes: a type list, each node once, every node after its inputs ----------

template <class... T> struct tlist {};
template <class T> struct one {};
template <class... A, class T>
constexpr auto operator+(tlist<A...>, one<T>) {
    if constexpr ((std::is_same_v<A, T> || ...)) return tlist<A...>{};
    else return tlist<A..., T>{};
}
template <class... A, class... B>
constexpr auto operator|(tlist<A...> a, tlist<B...>) {
    return (a + ... + one<B>{});
}

template <class N> struct deps;  // N and everything it reads, in a topological order
template <fixed_string Nm, class S>
struct deps<InputNode<Nm, S>> {
    using type = tlist<InputNode<Nm, S>>;
};
template <class Op, class... A>
struct deps<Call<Op, A...>> {
    using type = decltype((tlist<>{} | ... | typename deps<A>::type{}) + one<Call<Op, A...>>{});
};

template <class T, class... U>
consteval std::size_t index_in(tlist<U...>) {
    constexpr std::array<bool, sizeof...(U) + 1> same{std::is_same_v<T, U>..., true};
    std::size_t i = 0;
    while (!same[i]) ++i;
    return i;
}

template <class Op> consteval bool has_label() { return requires { Op::label; }; }

// What a node is, for the engine: its op (void for an input), its argument nodes.
template <class N> struct node_parts {
    using op = void;
    using args = tlist<>;
};
template <class Op, class... A> struct node_parts<Call<Op, A...>> {
    using op = Op;
    using args = tlist<A...>;
};

template <class N>
consteval std::string_view node_label() {
    if constexpr (is_input_node<N>::value) return N::label.view();
    else if constexpr (has_label<typename node_parts<N>::op>()) return node_parts<N>::op::label.view();
    else return {};
}

template <class N>
consteval LayerAliasing node_aliasing() {
    using Op = typename node_parts<N>::op;
    if constexpr (std::is_void_v<Op> || MergeOp<Op>) return LayerAliasing::separate;
    else return layer_aliasing<Op>();
}

// ---- The memory plan of a graph --------------------------------------------------------------
//
// Node k's value lives in one of: the caller's input buffer (inputs, and views of them), the
// caller's output buffer (outputs), or the arena. A view shares its input's buffer; an
// in-place layer shares it when every reader of that buffer has run by then. Arena buffers
// are placed by liveness: a buffer lives from the node that writes it to the last node that
// reads it, and takes the lowest offset that no buffer alive at the same time occupies.
template <std::size_t K>
struct GraphPlan {
    std::array<Where, K> where{};
    std::array<std::size_t, K> index{};   // input or output slot, for Where::input / output
    std::array<std::size_t, K> offset{};  // floats per sample into the arena, for Where::arena
    std::array<std::size_t, K> group{};   // the node whose buffer this node's value is in
    std::array<std::size_t, K> last_use{};
    std::size_t activation_floats = 0;
    std::size_t naive_floats = 0;
    std::array<std::size_t, K> scratch_per_row{}, scratch_fixed{};
    constexpr std::size_t scratch_floats(std::size_t rows) const noexcept {
        std::size_t m = 0;
        for (std::size_t i = 0; i < K; ++i) m = std::max(m, scratch_per_row[i] * rows + scratch_fixed[i]);
        return m;
    }
    constexpr std::size_t max_scratch_per_row() const noexcept { return *std::max_element(scratch_per_row.begin(), scratch_per_row.end()); }
    constexpr std::size_t max_scratch_fixed() const noexcept { return *std::max_element(scratch_fixed.begin(), scratch_fixed.end()); }
    constexpr std::size_t arena_floats(std::size_t rows = 1) const noexcept { return activation_floats * rows + scratch_floats(rows); }
};

template <std::size_t K, std::size_t A>
struct GraphFacts {
    std::array<std::size_t, K> size{};
    std::array<LayerAliasing, K> aliasing{};
    std::array<bool, K> is_input{};
    std::array<std::size_t, K> input_slot{};
    std::array<std::size_t, K> output_slot{};  // first output slot of the node, or K + 1 (none)
    std::array<std::size_t, K + 1> arg_begin{};
    std::array<std::size_t, A> args{};
    std::array<std::size_t, K> scratch_per_row{}, scratch_fixed{};
    // Epilogue fusion: nodes run as part of another node's kernel share its buffer. head[m]:
    // the node whose kernel computes m (m itself if none); tail[h]: the last node head h's
    // kernel computes (a residual Add, or the activation after it), whose buffer it writes.
    std::array<std::size_t, K> head{}, tail{};
    // Concat in place: into[m], the Concat node whose output buffer node m's kernel writes its
    // slice of (K + 1: none). The Concat then copies only its other inputs.
    std::array<std::size_t, K> into{};
};

template <std::size_t K, std::size_t A>
constexpr GraphPlan<K> plan_graph(const GraphFacts<K, A>& f) {
    constexpr std::size_t align = kernels::alignment / sizeof(float);
    constexpr std::size_t none = K + 1;
    GraphPlan<K> p;
    auto readers_done_by = [&](std::size_t g, std::size_t k) {
        for (std::size_t m = 0; m < K; ++m)
            if (p.group[m] == g && m < k)
                for (std::size_t c = m + 1; c < K; ++c)
                    for (std::size_t a = f.arg_begin[c]; a < f.arg_begin[c + 1]; ++a)
                        if (f.args[a] == m && c > k) return false;
        return true;
    };
    for (std::size_t k = 0; k < K; ++k) {
        p.last_use[k] = k;
        for (std::size_t c = k + 1; c < K; ++c)
            for (std::size_t a = f.arg_begin[c]; a < f.arg_begin[c + 1]; ++a)
                if (f.args[a] == k) p.last_use[k] = c;
    }
    for (std::size_t k = 0; k < K; ++k) {
        p.group[k] = k;
        // A Concat and the inputs that write their slices of it are one buffer, first written
        // by the first of those inputs.
        const std::size_t target = f.into[k] != none ? f.into[k] : k;
        std::size_t first_writer = none;
        for (std::size_t m = 0; m < k && first_writer == none; ++m)
            if (f.into[m] == target) first_writer = m;
        if (first_writer != none) {
            p.group[k] = p.group[first_writer];
            p.where[k] = p.where[first_writer];
            p.index[k] = p.index[first_writer];
        } else if (f.into[k] != none) {
            p.where[k] = f.output_slot[target] != none ? Where::output : Where::arena;
            p.index[k] = f.output_slot[target] != none ? f.output_slot[target] : 0;
        } else if (f.head[k] != k) {  // computed by an earlier node's kernel, into that node's buffer
            p.group[k] = p.group[f.head[k]];
            p.where[k] = p.where[f.head[k]];
            p.index[k] = p.index[f.head[k]];
        } else if (f.is_input[k]) {
            p.where[k] = Where::input;
            p.index[k] = f.input_slot[k];
        } else if (f.output_slot[f.tail[k]] != none) {  // the node itself, or the tail it writes for
            p.where[k] = Where::output;
            p.index[k] = f.output_slot[f.tail[k]];
        } else if (f.output_slot[k] != none) {
            p.where[k] = Where::output;
            p.index[k] = f.output_slot[k];
        } else {
            const std::size_t src = f.arg_begin[k + 1] - f.arg_begin[k] == 1 ? f.args[f.arg_begin[k]] : none;
            p.where[k] = Where::arena;
            if (src != none && f.aliasing[k] == LayerAliasing::view) {
                p.group[k] = p.group[src];
            } else if (src != none && f.aliasing[k] == LayerAliasing::in_place && p.where[p.group[src]] == Where::arena &&
                       readers_done_by(p.group[src], k)) {
                p.group[k] = p.group[src];
            }
            if (p.group[k] != k) {
                p.where[k] = p.where[p.group[k]];
                p.index[k] = p.index[p.group[k]];
            }
        }
        if (!f.is_input[k] && f.output_slot[k] == none) p.naive_floats += kernels::round_up(f.size[k], align);
    }
    // Live range of each arena group: from its first member to the last reader of any member.
    std::array<std::size_t, K> end{}, gsize{};
    for (std::size_t k = 0; k < K; ++k) {
        const std::size_t g = p.group[k];
        end[g] = std::max({end[g], p.last_use[k], k});
        gsize[g] = std::max(gsize[g], kernels::round_up(f.size[k], align));
    }
    std::array<bool, K> placed{};
    for (std::size_t g = 0; g < K; ++g) {
        if (p.group[g] != g || p.where[g] != Where::arena) continue;
        // Candidates: 0 and the end of every live buffer; take the lowest that fits.
        std::size_t best = std::size_t(-1);
        for (std::size_t c = 0; c <= K; ++c) {
            std::size_t at = 0;
            if (c < K) {
                if (!placed[c] || end[c] < g) continue;
                at = p.offset[c] + gsize[c];
            }
            bool fits = true;
            for (std::size_t h = 0; h < K && fits; ++h)
                if (placed[h] && end[h] >= g) fits = at + gsize[g] <= p.offset[h] || p.offset[h] + gsize[h] <= at;
            if (fits) best = std::min(best, at);
        }
        p.offset[g] = best;
        placed[g] = true;
        p.activation_floats = std::max(p.activation_floats, best + gsize[g]);
    }
    for (std::size_t k = 0; k < K; ++k) {
        p.offset[k] = p.offset[p.group[k]];
        p.scratch_per_row[k] = kernels::round_up(f.scratch_per_row[k], align);
        p.scratch_fixed[k] = kernels::round_up(f.scratch_fixed[k], align);
    }
    return p;
}

// ---- Structure checks, each one error in words ---------------------------------------------

template <class N, class... Declared>
struct report_undeclared_input {
    static_assert(graph_input<N::label>::is_used_but_not_listed_in_inputs,
                  "typenet: an output depends on an input that is not listed in the model's inputs");
};
template <class N>
struct report_unused_input {
    static_assert(graph_input<N::label>::is_used_by_no_output,
                  "typenet: a model input is not used by any output");
};
template <class N>
struct report_duplicate_input {
    static_assert(graph_input<N::label>::is_listed_twice_in_inputs, "typenet: an input is listed twice in the model's inputs");
};
template <fixed_string Name, class A, class B>
struct report_name_clash {
    static_assert(layer_named<Name>::template names_two_different_layers<A, B>,
                  "typenet: two different layers have the same name; a name is one layer with one set of weights");
};
template <fixed_string Name, class SA, class SB>
struct report_shared_shapes {
    static_assert(layer_named<Name>::template is_shared_by_calls_on_different_shapes<SA, SB>,
                  "typenet: a shared layer (one name, one set of weights) is called on inputs of different shapes");
};

}  // namespace detail

// ---- The engine over a valid graph -----------------------------------------------------------

namespace detail {

template <class NodeList, class InputList, class OutputList>
struct GraphEngine;

template <class... N, class... I, class... O>
struct GraphEngine<tlist<N...>, tlist<I...>, tlist<O...>> {
    using nodes = std::tuple<N...>;
    static constexpr std::size_t K = sizeof...(N);
    static constexpr std::size_t n_inputs = sizeof...(I);
    static constexpr std::size_t n_outputs = sizeof...(O);
    template <std::size_t k> using node_at = std::tuple_element_t<k, nodes>;
    template <std::size_t k> using shape_at = node_shape_t<node_at<k>>;
    template <std::size_t k> using op_at = typename node_parts<node_at<k>>::op;
    template <class T> static constexpr std::size_t index_of = index_in<T>(tlist<N...>{});

    static constexpr std::array<std::size_t, n_outputs> output_node{index_of<O>...};
    template <std::size_t k> static constexpr bool is_layer = !std::is_void_v<op_at<k>> && !MergeOp<op_at<k>>;
    template <std::size_t k> static constexpr bool is_merge = MergeOp<op_at<k>>;

    template <class Nd>
    static consteval std::array<std::size_t, 8> arg_indices_of() {
        return []<class... A>(tlist<A...>) {
            static_assert(sizeof...(A) <= 8, "typenet: a merge takes at most 8 inputs; merge in steps");
            return std::array<std::size_t, 8>{index_of<A>...};
        }(typename node_parts<Nd>::args{});
    }
    template <class Nd>
    static constexpr std::size_t arity_of = []<class... A>(tlist<A...>) { return sizeof...(A); }(typename node_parts<Nd>::args{});
    static constexpr std::size_t total_args = (arity_of<N> + ... + 0);

    // The in-shape of a layer node (its argument's shape); void for inputs and merges.
    template <std::size_t k>
    static consteval auto layer_in_probe() {
        if constexpr (is_layer<k>) {
            return []<class A>(tlist<A>) { return std::type_identity<node_shape_t<A>>{}; }(typename node_parts<node_at<k>>::args{});
        } else {
            return std::type_identity<Shape<1>>{};
        }
    }
    template <std::size_t k> using layer_in = typename decltype(layer_in_probe<k>())::type;
    template <std::size_t k> using bound_at = Bound<op_at<k>, layer_in<k>>;

    template <std::size_t k>
    static constexpr std::size_t scratch_per_row_of = [] {
        if constexpr (is_layer<k>) return bound_at<k>::scratch_per_row;
        else return std::size_t{0};
    }();
    template <std::size_t k>
    static constexpr std::size_t scratch_fixed_of = [] {
        if constexpr (is_layer<k>) return bound_at<k>::scratch_fixed;
        else return std::size_t{0};
    }();

    static consteval GraphFacts<K, total_args + 1> make_facts() {
        GraphFacts<K, total_args + 1> f;
        [&]<std::size_t... k>(std::index_sequence<k...>) {
            std::size_t a = 0;
            (([&] {
                 using Nd = node_at<k>;
                 f.size[k] = shape_at<k>::size;
                 f.aliasing[k] = node_aliasing<Nd>();
                 f.is_input[k] = is_input_node<Nd>::value;
                 f.input_slot[k] = k;  // inputs come first, in their declared order
                 f.output_slot[k] = K + 1;
                 for (std::size_t o = n_outputs; o-- > 0;)
                     if (output_node[o] == k) f.output_slot[k] = o;
                 f.arg_begin[k] = a;
                 const auto ai = arg_indices_of<Nd>();
                 for (std::size_t j = 0; j < arity_of<Nd>; ++j) f.args[a++] = ai[j];
                 f.scratch_per_row[k] = scratch_per_row_of<k>;
                 f.scratch_fixed[k] = scratch_fixed_of<k>;
             }()),
             ...);
            f.arg_begin[K] = a;
        }(std::make_index_sequence<K>{});
        // An input that is also an output is copied there; it keeps its input buffer.
        return f;
    }
    static constexpr auto facts = make_facts();

    // ---- Fusion across nodes: a residual Add (and an activation right after it) runs in the
    // epilogue of the kernel that produces one of its operands, when that kernel can add
    // (absorbs_add: Dense, Conv2D, or a block ending in one), the operand is read by nothing
    // else, and the other operand is ready (computed earlier in the fixed order).
    template <std::size_t k>
    static constexpr std::size_t sole_reader = [] {
        std::size_t n = 0, reader = K;
        for (std::size_t m = k + 1; m < K; ++m)
            for (std::size_t a = facts.arg_begin[m]; a < facts.arg_begin[m + 1]; ++a)
                if (facts.args[a] == k) ++n, reader = m;
        return n == 1 && facts.output_slot[k] == K + 1 ? reader : K;
    }();
    // For an Add node: the operand node whose kernel absorbs it, or K.
    template <std::size_t k>
    static consteval std::size_t add_producer() {
        if constexpr (!is_merge<k>) {
            return K;
        } else if constexpr (!std::is_same_v<unnamed_t<op_at<k>>, Add> || arity_of<node_at<k>> != 2) {
            return K;
        } else {
            constexpr auto ai = arg_indices_of<node_at<k>>();
            constexpr std::size_t j = std::max(ai[0], ai[1]);
            if constexpr (ai[0] == ai[1] || !is_layer<j>) return K;
            else if constexpr (sole_reader<j> != k) return K;
            else if constexpr (!absorbs_add<op_at<j>, layer_in<j>>()) return K;
            else return j;
        }
    }
    template <std::size_t j>
    static constexpr std::size_t absorbed_add = [] {
        std::size_t r = K;
        [&]<std::size_t... k>(std::index_sequence<k...>) { ((r = add_producer<k>() == j ? k : r), ...); }(std::make_index_sequence<K>{});
        return r;
    }();
    template <std::size_t k>
    static consteval bool is_activation_node() {
        if constexpr (k >= K) return false;
        else if constexpr (!is_layer<k>) return false;
        else return is_activation_layer<unnamed_t<op_at<k>>>::value;
    }
    // The activation fused after the add (linear if none) and the node it is.
    template <std::size_t j>
    static constexpr std::size_t absorbed_activation = [] {
        constexpr std::size_t k = absorbed_add<j>;
        if constexpr (k < K) {
            if constexpr (is_activation_node<sole_reader<k>>()) return sole_reader<k>;
            else return K;
        } else {
            return K;
        }
    }();
    template <std::size_t j>
    static consteval auto fused_activation_probe() {
        if constexpr (absorbed_activation<j> < K) return std::type_identity<typename unnamed_t<op_at<absorbed_activation<j>>>::activation>{};
        else return std::type_identity<linear>{};
    }
    template <std::size_t j> using fused_activation = typename decltype(fused_activation_probe<j>())::type;
    // The other operand of the add absorbed by node j.
    template <std::size_t j>
    static constexpr std::size_t addend = [] {
        constexpr auto ai = arg_indices_of<node_at<absorbed_add<j>>>();
        return ai[0] == j ? ai[1] : ai[0];
    }();

    // ---- Concat in place: a layer node read only by a Concat on the last axis, whose kernel can
    // write rows at a stride (writes_strided), writes its slice of the Concat's output directly.
    template <class Op> struct is_concat : std::false_type {};
    template <int A> struct is_concat<Concat<A>> : std::true_type {};
    template <std::size_t k>
    static constexpr bool is_channel_concat = [] {
        if constexpr (k >= K) return false;
        else if constexpr (!is_merge<k>) return false;
        else if constexpr (!is_concat<unnamed_t<op_at<k>>>::value) return false;
        else return unnamed_t<op_at<k>>::template sample_axis<shape_at<k>> == int(shape_at<k>::rank) - 1;
    }();
    static constexpr std::array<std::size_t, K> last_dim{node_shape_t<N>::dims[node_shape_t<N>::rank - 1]...};
    template <std::size_t j>
    static constexpr std::size_t slice_of = [] {
        if constexpr (!is_layer<j>) return K;
        else if constexpr (!is_channel_concat<sole_reader<j>>) return K;
        else if constexpr (!writes_strided<op_at<j>, layer_in<j>>()) return K;
        else return sole_reader<j>;
    }();
    // Where node j's slice starts in each row of its Concat's output.
    template <std::size_t j>
    static constexpr std::size_t slice_offset = [] {
        constexpr auto ai = arg_indices_of<node_at<slice_of<j>>>();
        std::size_t off = 0;
        for (std::size_t q = 0; ai[q] != j; ++q) off += last_dim[ai[q]];
        return off;
    }();

    static consteval auto make_fused_facts() {
        auto f = facts;
        for (std::size_t m = 0; m < K; ++m) f.head[m] = f.tail[m] = m;
        for (std::size_t m = 0; m < K; ++m) f.into[m] = K + 1;
        [&]<std::size_t... j>(std::index_sequence<j...>) {
            ((f.into[j] = slice_of<j> < K ? slice_of<j> : K + 1), ...);
        }(std::make_index_sequence<K>{});
        [&]<std::size_t... j>(std::index_sequence<j...>) {
            ([&] {
                 if constexpr (absorbed_add<j> < K) {
                     f.head[absorbed_add<j>] = j;
                     f.tail[j] = absorbed_add<j>;
                     if constexpr (absorbed_activation<j> < K) {
                         f.head[absorbed_activation<j>] = j;
                         f.tail[j] = absorbed_activation<j>;
                     }
                 }
             }(),
             ...);
        }(std::make_index_sequence<K>{});
        return f;
    }
    static constexpr auto fused_facts = make_fused_facts();
    template <std::size_t m> static constexpr bool fused_away = fused_facts.head[m] != m;
    template <std::size_t m> static constexpr bool writes_slice = fused_facts.into[m] < K;
    // How many of Concat node k's inputs write their slices themselves.
    template <std::size_t k>
    static constexpr std::size_t inputs_in_place = [] {
        std::size_t n = 0;
        for (std::size_t m = 0; m < K; ++m) n += fused_facts.into[m] == k;
        return n;
    }();
    static constexpr GraphPlan<K> plan = plan_graph(fused_facts);

    // ---- Parameters: one slot per distinct layer (a name called twice is one slot) ----
    template <std::size_t k>
    static consteval std::size_t first_call() {
        if constexpr (!is_layer<k> || !has_label<op_at<k>>()) {
            return k;
        } else {
            std::size_t first = k;
            [&]<std::size_t... j>(std::index_sequence<j...>) {
                ((first = (first == k && [] {
                      if constexpr (is_layer<j>) {
                          if constexpr (has_label<op_at<j>>()) return op_at<j>::label.view() == op_at<k>::label.view();
                          else return false;
                      } else {
                          return false;
                      }
                  }())
                      ? j
                      : first),
                 ...);
            }(std::make_index_sequence<k>{});
            return first;
        }
    }
    template <std::size_t k> static constexpr std::size_t owner = first_call<k>();

    template <std::size_t k>
    static constexpr std::size_t own_canonical = [] {
        if constexpr (is_layer<k> && owner<k> == k) return bound_at<k>::canonical_floats;
        else return std::size_t{0};
    }();
    template <std::size_t k>
    static constexpr std::size_t own_packed = [] {
        if constexpr (is_layer<k> && owner<k> == k) return bound_at<k>::packed_floats;
        else return std::size_t{0};
    }();
    static consteval std::array<std::size_t, K + 1> offsets(bool packed) {
        std::array<std::size_t, K + 1> off{};
        [&]<std::size_t... k>(std::index_sequence<k...>) {
            std::size_t at = 0;
            ((off[k] = at, at += packed ? own_packed<k> : own_canonical<k>), ...);
            off[K] = at;
        }(std::make_index_sequence<K>{});
        return off;
    }
    static constexpr auto canonical_offset = offsets(false);
    static constexpr auto packed_offset = offsets(true);
    static constexpr std::size_t canonical_floats = canonical_offset[K];
    static constexpr std::size_t packed_floats = packed_offset[K];

    template <std::size_t k>
    static constexpr std::size_t flops_of = [] {
        if constexpr (is_layer<k>) return bound_at<k>::flops;
        else if constexpr (is_merge<k>) {
            return []<class... A>(tlist<A...>) {
                if constexpr (requires { op_at<k>::template flops_for<node_shape_t<A>...>; })
                    return std::size_t{op_at<k>::template flops_for<node_shape_t<A>...>};
                else return std::size_t{0};
            }(typename node_parts<node_at<k>>::args{});
        } else return std::size_t{0};
    }();
    static constexpr std::size_t flops = [] {
        return []<std::size_t... k>(std::index_sequence<k...>) { return (std::size_t{0} + ... + flops_of<k>); }(
            std::make_index_sequence<K>{});
    }();
    template <std::size_t k>
    static constexpr std::size_t nested_naive_of = [] {
        if constexpr (is_layer<k>) return bound_at<k>::nested_naive_floats;
        else return std::size_t{0};
    }();
    // Every intermediate activation, nested blocks' included, in a buffer of its own.
    static constexpr std::size_t naive_floats = [] {
        return []<std::size_t... k>(std::index_sequence<k...>) { return (plan.naive_floats + ... + nested_naive_of<k>); }(
            std::make_index_sequence<K>{});
    }();

    // ---- Running ----
    template <std::size_t k>
    static float* location(const float* const* ins, float* const* outs, std::size_t rows, float* arena) noexcept {
        if constexpr (plan.where[k] == Where::input) return const_cast<float*>(ins[plan.index[k]]);  // read only
        else if constexpr (plan.where[k] == Where::output) return outs[plan.index[k]];
        else return arena + plan.offset[k] * rows;
    }

    template <std::size_t k>
    static void step(const float* params, const float* const* ins, float* const* outs, std::size_t rows, float* arena) {
        if constexpr (fused_away<k>) {
            // computed by node fused_facts.head[k]'s kernel
        } else if constexpr (writes_slice<k>) {
            constexpr std::size_t src = facts.args[facts.arg_begin[k]], c = slice_of<k>;
            forward_into_slice<op_at<k>, layer_in<k>>(params + packed_offset[owner<k>], location<src>(ins, outs, rows, arena),
                                                      location<c>(ins, outs, rows, arena) + slice_offset<k>, rows,
                                                      arena + plan.activation_floats * rows, last_dim[c]);
        } else if constexpr (is_merge<k> && inputs_in_place<k> == arity_of<node_at<k>>) {
            // every input wrote its slice: nothing to copy
        } else if constexpr (is_layer<k> && absorbed_add<k> < K) {
            constexpr std::size_t src = facts.args[facts.arg_begin[k]];
            float* scratch = arena + plan.activation_floats * rows;
            op_at<k>::template forward_add<layer_in<k>, fused_activation<k>>(
                params + packed_offset[owner<k>], location<src>(ins, outs, rows, arena), location<k>(ins, outs, rows, arena), rows,
                scratch, location<addend<k>>(ins, outs, rows, arena));
        } else if constexpr (is_layer<k>) {
            constexpr std::size_t src = facts.args[facts.arg_begin[k]];
            float* scratch = arena + plan.activation_floats * rows;
            bound_at<k>::forward(params + packed_offset[owner<k>], location<src>(ins, outs, rows, arena),
                                 location<k>(ins, outs, rows, arena), rows, scratch);
        } else if constexpr (is_merge<k>) {
            []<class... A>(tlist<A...>, const float* const* ins_, float* const* outs_, std::size_t rows_, float* arena_) {
                // null: that input wrote its slice already (Concat copies the others)
                const float* src[] = {(fused_facts.into[index_of<A>] == k ? nullptr : location<index_of<A>>(ins_, outs_, rows_, arena_))...};
                op_at<k>::template merge<node_shape_t<A>...>(src, location<k>(ins_, outs_, rows_, arena_), rows_);
            }(typename node_parts<node_at<k>>::args{}, ins, outs, rows, arena);
        }
    }
    // Outputs whose value is not already in their buffer: an input returned as an output, or
    // one node returned twice.
    template <std::size_t o>
    static void copy_output(const float* const* ins, float* const* outs, std::size_t rows, float* arena) {
        constexpr std::size_t k = output_node[o];
        if constexpr (!(plan.where[k] == Where::output && plan.index[k] == o)) {
            const float* src = location<k>(ins, outs, rows, arena);
            std::copy_n(src, rows * shape_at<k>::size, outs[o]);
        }
    }
    static void run(const float* params, const float* const* ins, float* const* outs, std::size_t rows, float* arena) {
        [&]<std::size_t... k>(std::index_sequence<k...>) { (step<k>(params, ins, outs, rows, arena), ...); }(
            std::make_index_sequence<K>{});
        [&]<std::size_t... o>(std::index_sequence<o...>) { (copy_output<o>(ins, outs, rows, arena), ...); }(
            std::make_index_sequence<n_outputs>{});
    }

    static void pack(const float* canonical, float* packed) {
        [&]<std::size_t... k>(std::index_sequence<k...>) {
            ([&] {
                 if constexpr (own_packed<k> > 0 || own_canonical<k> > 0)
                     bound_at<k>::pack(canonical + canonical_offset[k], packed + packed_offset[k]);
             }(),
             ...);
        }(std::make_index_sequence<K>{});
    }

    // ---- Names and descriptions ----
    // How a node is shown: its name; "name[1]" for the second call of a shared layer; "#k"
    // (its position) for an unnamed one.
    template <std::size_t k>
    static std::string node_name() {
        constexpr std::string_view l = node_label<node_at<k>>();
        if constexpr (l.empty()) {
            return std::string("#") + std::to_string(k);
        } else if constexpr (is_layer<k>) {
            if constexpr (owner<k> != k) return std::string(l) + "[" + std::to_string(call_number<k>()) + "]";
            else return std::string(l);
        } else {
            return std::string(l);
        }
    }
    template <std::size_t k>
    static constexpr std::size_t call_number() {
        return []<std::size_t... j>(std::index_sequence<j...>) {
            return (std::size_t{0} + ... + std::size_t([] {
                        if constexpr (is_layer<j>) return owner<j> == owner<k>;
                        else return false;
                    }()));
        }(std::make_index_sequence<k>{});
    }
    template <std::size_t k>
    static std::string op_name() {
        if constexpr (is_input_node<node_at<k>>::value) return "Input";
        else if constexpr (is_merge<k>) return unnamed_t<op_at<k>>::name();
        else if constexpr (bound_at<k>::composite) return block_display_name<unnamed_t<op_at<k>>>();
        else return layer_name<unnamed_t<op_at<k>>>();
    }
    template <std::size_t k>
    static std::string connected_to() {
        std::string s;
        constexpr auto ai = arg_indices_of<node_at<k>>();
        [&]<std::size_t... j>(std::index_sequence<j...>) {
            ((s += (j ? ", " : "") + node_name<ai[j]>()), ...);
        }(std::make_index_sequence<arity_of<node_at<k>>>{});
        return s;
    }
    template <std::size_t k>
    static std::string buffer_of() {
        if constexpr (writes_slice<k>)
            return buffer_of<slice_of<k>>() + " [" + std::to_string(slice_offset<k>) + ":" +
                   std::to_string(slice_offset<k> + last_dim[k]) + "]";
        else if constexpr (plan.where[k] == Where::input) return std::string("input ") + std::to_string(plan.index[k]);
        else if constexpr (plan.where[k] == Where::output) return std::string("output ") + std::to_string(plan.index[k]);
        else return std::string("arena +") + std::to_string(plan.offset[k] * sizeof(float));
    }

    static void describe(std::vector<LayerInfo>& rows, const std::string& prefix, std::size_t depth) {
        [&]<std::size_t... k>(std::index_sequence<k...>) { (describe_one<k>(rows, prefix, depth), ...); }(
            std::make_index_sequence<K>{});
    }
    template <std::size_t k>
    static void describe_one(std::vector<LayerInfo>& rows, const std::string& prefix, std::size_t depth) {
        LayerInfo info{prefix + node_name<k>(), op_name<k>(), shape_at<k>::str(), own_canonical<k>, flops_of<k>, {}, depth, {}, {}};
        info.connected_to = connected_to<k>();
        info.buffer = buffer_of<k>();
        if constexpr (fused_away<k>) {
            info.kernel = std::string("fused into ") + prefix + node_name<fused_facts.head[k]>();
        } else if constexpr (is_layer<k>) {
            using L = op_at<k>;
            if constexpr (owner<k> != k) info.kernel = std::string("shares the weights of ") + prefix + node_name<owner<k>>() + "; ";
            if constexpr (bound_at<k>::composite) info.kernel += "block";
            else if constexpr (absorbed_add<k> < K) info.kernel += kernel_name_of<L, linear>();
            else if constexpr (requires { typename L::activation; }) info.kernel += kernel_name_of<L, typename L::activation>();
            else info.kernel += kernel_name_of<L, linear>();
            if constexpr (writes_slice<k>) info.kernel += std::string(bound_at<k>::composite ? " (its last kernel" : "") + " into " +
                                                          node_name<slice_of<k>>() + (bound_at<k>::composite ? ")" : "");
            if constexpr (absorbed_add<k> < K) {
                info.kernel += bound_at<k>::composite ? " (its last kernel adds " : " +add ";
                info.kernel += node_name<addend<k>>();
                if constexpr (!std::is_same_v<fused_activation<k>, linear>) {
                    info.kernel += ", then ";
                    info.kernel += fused_activation<k>::name();
                }
                if constexpr (bound_at<k>::composite) info.kernel += ")";
            }
        } else if constexpr (is_merge<k> && inputs_in_place<k> == arity_of<node_at<k>>) {
            info.kernel = "view (no copy: its inputs write their slices)";
        } else if constexpr (is_merge<k> && inputs_in_place<k> > 0) {
            info.kernel = "merge (copies " + std::to_string(arity_of<node_at<k>> - inputs_in_place<k>) + " of " +
                          std::to_string(arity_of<node_at<k>>) + " inputs)";
        } else if constexpr (is_merge<k>) {
            info.kernel = "merge";
        }
        rows.push_back(std::move(info));
        if constexpr (is_layer<k>) {
            if constexpr (bound_at<k>::composite)
                op_at<k>::template describe<layer_in<k>>(rows, prefix + node_name<k>() + ".", depth + 1);
        }
    }

    static void params(std::vector<ParamInfo>& out, const std::string& prefix, std::size_t base) {
        [&]<std::size_t... k>(std::index_sequence<k...>) { (params_one<k>(out, prefix, base), ...); }(
            std::make_index_sequence<K>{});
    }
    template <std::size_t k>
    static void params_one(std::vector<ParamInfo>& out, const std::string& prefix, std::size_t base) {
        if constexpr (is_layer<k> && owner<k> == k) {
            using B = bound_at<k>;
            const std::string path = prefix + node_name<k>();
            if constexpr (B::composite) {
                B::layer::template param_infos<typename B::in_shape>(out, path + ".", base + canonical_offset[k]);
            } else {
                std::size_t off = base + canonical_offset[k];
                std::string_view keras_class;
                if constexpr (requires { unnamed_t<op_at<k>>::keras_class; }) keras_class = unnamed_t<op_at<k>>::keras_class;
                for (const ParamSpec& p : B::params) {
                    ParamInfo info{path + "." + std::string(p.name), p, off, path, keras_class, {}, false};
                    info.named = has_label<op_at<k>>();
                    out.push_back(std::move(info));
                    off += p.size();
                }
            }
        }
    }
};

template <class... A>
constexpr std::tuple<A...> as_tuple(tlist<A...>) { return {}; }

// Validity, checked in order; the first failure is reported and the rest not looked at.
template <class InList, class OutList>
struct GraphCheck;
template <class... I, class... O>
struct GraphCheck<tlist<I...>, tlist<O...>> {
    using node_list = decltype((tlist<I...>{} | ... | typename deps<O>::type{}));

    template <class... N>
    static constexpr auto check(tlist<N...>) {
        constexpr std::size_t ni = sizeof...(I);
        // Inputs: input nodes, declared once each.
        constexpr std::size_t dup = [] {
            std::size_t r = ni;
            [&]<std::size_t... k>(std::index_sequence<k...>) {
                ((r = (r == ni && index_in<std::tuple_element_t<k, std::tuple<I...>>>(tlist<I...>{}) != k) ? k : r), ...);
            }(std::make_index_sequence<ni>{});
            return r;
        }();
        if constexpr (!(is_input_node<I>::value && ...)) {
            static_assert((is_input_node<I>::value && ...), "typenet: tn::inputs(...) takes input nodes (tn::input<\"name\", dims...>)");
            return std::false_type{};
        } else if constexpr (dup != ni) {
            (void)report_duplicate_input<std::tuple_element_t<dup, std::tuple<I...>>>{};
            return std::false_type{};
        } else {
            using all = std::tuple<N...>;
            // Every input node reached from the outputs is declared.
            constexpr std::size_t undeclared = [] {
                std::size_t r = 0;
                [&]<std::size_t... k>(std::index_sequence<k...>) {
                    ((r = (r == 0 && k >= ni && is_input_node<std::tuple_element_t<k, all>>::value) ? k : r), ...);
                }(std::make_index_sequence<sizeof...(N)>{});
                return r;
            }();
            if constexpr (undeclared != 0) {
                (void)report_undeclared_input<std::tuple_element_t<undeclared, all>, I...>{};
                return std::false_type{};
            } else {
                // Every declared input is used.
                constexpr std::size_t unused = [] {
                    std::size_t r = ni;
                    [&]<std::size_t... k>(std::index_sequence<k...>) {
                        ((r = (r == ni && !input_used<std::tuple_element_t<k, std::tuple<I...>>>()) ? k : r), ...);
                    }(std::make_index_sequence<ni>{});
                    return r;
                }();
                if constexpr (unused != ni) {
                    (void)report_unused_input<std::tuple_element_t<unused, std::tuple<I...>>>{};
                    return std::false_type{};
                } else if constexpr (!shapes_ok<N...>()) {
                    return std::false_type{};  // reported where the shape failed
                } else {
                    return names_ok(tlist<N...>{});
                }
            }
        }
    }
    // Every node's shape, computed in topological order: each node's inputs are already known
    // when it is computed, so a shape error's backtrace is one node deep, however deep the graph.
    template <class... N>
    static consteval bool shapes_ok() {
        bool ok = true;
        (..., (ok = ok && !std::is_same_v<typename node_shape<N>::type, BadShape>));  // a left fold: clang expands it first to last
        return ok;
    }
    template <class In>
    static consteval bool input_used() {
        return ((index_in<In>(typename deps<O>::type{}) < list_size(typename deps<O>::type{})) || ...);
    }
    template <class... A>
    static consteval std::size_t list_size(tlist<A...>) { return sizeof...(A); }

    template <class Nd>
    using arg0_shape = node_shape_t<std::tuple_element_t<0, decltype(as_tuple(typename node_parts<Nd>::args{}))>>;

    // Nodes b < a that call a layer of the same name as node a, but a different layer or on
    // a different input shape.
    template <class All, std::size_t a, std::size_t b>
    static consteval bool clash_at() {
        using OpA = typename node_parts<std::tuple_element_t<a, All>>::op;
        using OpB = typename node_parts<std::tuple_element_t<b, All>>::op;
        if constexpr (b >= a || std::is_void_v<OpA> || std::is_void_v<OpB>) {
            return false;
        } else if constexpr (!has_label<OpA>() || !has_label<OpB>()) {
            return false;
        } else if constexpr (OpA::label.view() != OpB::label.view()) {
            return false;
        } else if constexpr (!std::is_same_v<OpA, OpB>) {
            return true;
        } else {
            return !(arg0_shape<std::tuple_element_t<a, All>>{} == arg0_shape<std::tuple_element_t<b, All>>{});
        }
    }
    template <class All, std::size_t a, std::size_t... b>
    static consteval std::size_t clash_row(std::index_sequence<b...>) {
        std::size_t r = std::tuple_size_v<All>;
        ((r = (r == std::tuple_size_v<All> && clash_at<All, a, b>()) ? b : r), ...);
        return r;
    }
    template <class All, std::size_t... a>
    static consteval std::pair<std::size_t, std::size_t> find_clash(std::index_sequence<a...>) {
        constexpr std::size_t K = sizeof...(a);
        std::pair<std::size_t, std::size_t> r{K, K};
        ((r = (r.first == K && clash_row<All, a>(std::make_index_sequence<K>{}) != K)
                  ? std::pair<std::size_t, std::size_t>{clash_row<All, a>(std::make_index_sequence<K>{}), a}
                  : r),
         ...);
        return r;
    }

    // Named layers: one name is one layer, called on one input shape.
    template <class... N>
    static constexpr auto names_ok(tlist<N...>) {
        using all = std::tuple<N...>;
        constexpr std::size_t K = sizeof...(N);
        constexpr auto clash = find_clash<all>(std::make_index_sequence<K>{});
        if constexpr (clash.first == K) {
            return std::true_type{};
        } else {
            using Na = std::tuple_element_t<clash.first, all>;
            using Nb = std::tuple_element_t<clash.second, all>;
            using OpA = typename node_parts<Na>::op;
            using OpB = typename node_parts<Nb>::op;
            if constexpr (!std::is_same_v<OpA, OpB>)
                (void)report_name_clash<OpA::label, unnamed_t<OpA>, unnamed_t<OpB>>{};
            else
                (void)report_shared_shapes<OpA::label, arg0_shape<Na>, arg0_shape<Nb>>{};
            return std::false_type{};
        }
    }

    // Reported while the return type is deduced (never in a constant evaluation), so that
    // every compiler prints the one static_assert and nothing after it.
    static constexpr bool valid = decltype(check(node_list{}))::value;
};

}  // namespace detail

// ---- The model ------------------------------------------------------------------------------

template <class... I, class... O>
struct Graph<Inputs<I...>, Outputs<O...>> {
    static_assert(sizeof...(I) > 0, "typenet: a graph needs at least one input");
    static_assert(sizeof...(O) > 0, "typenet: a graph needs at least one output");
    static_assert((detail::GraphNode<O> && ...), "typenet: tn::outputs(...) takes graph nodes");

  private:
    using check_type = detail::GraphCheck<detail::tlist<I...>, detail::tlist<O...>>;

  public:
    static constexpr bool valid = decltype(check_type::check(typename check_type::node_list{}))::value;
    static constexpr bool is_model = true;
    static constexpr bool is_graph = true;
    static constexpr std::size_t n_inputs = sizeof...(I);
    static constexpr std::size_t n_outputs = sizeof...(O);

    using engine_type = typename std::conditional_t<
        valid, std::type_identity<detail::GraphEngine<typename check_type::node_list, detail::tlist<I...>, detail::tlist<O...>>>,
        std::type_identity<void>>::type;

    template <class N> static consteval auto shape_or_bad() {
        if constexpr (valid) return std::type_identity<detail::node_shape_t<N>>{};
        else return std::type_identity<detail::BadShape>{};
    }
    using input_shapes = std::tuple<typename I::shape_type...>;
    using output_shapes = std::tuple<typename decltype(shape_or_bad<O>())::type...>;
    template <std::size_t i> using input_shape_at = std::tuple_element_t<i, input_shapes>;
    template <std::size_t o> using output_shape_at = std::tuple_element_t<o, output_shapes>;
    static constexpr std::array<std::string_view, n_inputs> input_names{I::label.view()...};
    static constexpr std::array<std::string_view, n_outputs> output_names{detail::node_label<O>()...};

    // Index of an input or output by name (a name that is not there does not compile).
    template <fixed_string Name>
    static constexpr std::size_t input_index = [] {
        std::size_t i = 0;
        while (i < n_inputs && input_names[i] != Name.view()) ++i;
        return i;
    }();
    template <fixed_string Name>
    static constexpr std::size_t output_index = [] {
        std::size_t i = 0;
        while (i < n_outputs && output_names[i] != Name.view()) ++i;
        return i;
    }();

    // With one input and one output, the Sequential-style names.
    using input_shape_type = input_shape_at<0>;
    using output_shape_type = output_shape_at<0>;
    static constexpr input_shape_type input_shape{};
    static constexpr output_shape_type output_shape{};

    static constexpr std::size_t param_count = [] {
        if constexpr (valid) return engine_type::canonical_floats;
        else return std::size_t{0};
    }();
    static constexpr std::size_t flops = [] {
        if constexpr (valid) return engine_type::flops;
        else return std::size_t{0};
    }();
    static constexpr std::size_t weight_bytes = param_count * sizeof(float);
    static constexpr std::size_t workspace_bytes = [] {
        if constexpr (valid) return engine_type::plan.arena_floats(1) * sizeof(float);
        else return std::size_t{0};
    }();
    static constexpr std::size_t naive_workspace_bytes = [] {
        if constexpr (valid) return engine_type::naive_floats * sizeof(float);
        else return std::size_t{0};
    }();

    // The program Net runs.
    struct program {
        static constexpr std::size_t packed_floats = engine_type::packed_floats;
        static constexpr std::size_t canonical_floats = engine_type::canonical_floats;
        static constexpr std::size_t arena_floats(std::size_t rows) { return engine_type::plan.arena_floats(rows); }
        static void run(const float* params, const float* const* ins, float* const* outs, std::size_t rows, float* arena) {
            engine_type::run(params, ins, outs, rows, arena);
        }
        static void pack(const float* c, float* p) { engine_type::pack(c, p); }
        static void params(std::vector<ParamInfo>& out, const std::string& prefix, std::size_t base) {
            engine_type::params(out, prefix, base);
        }
        static void describe(std::vector<LayerInfo>& rows, const std::string& prefix, std::size_t depth) {
            engine_type::describe(rows, prefix, depth);
        }
    };

    // A graph with one input and one output is also a layer: a nested model.
    template <class In>
    static constexpr bool accepts = n_inputs == 1 && n_outputs == 1 && In{} == input_shape_at<0>{} && valid;
    template <class In> static constexpr bool reports_own_errors = n_inputs == 1 && n_outputs == 1 && In{} == input_shape_at<0>{};
    template <class In> using expected_input = input_shape_at<0>;
    template <class In> using output_shape_for = output_shape_at<0>;
    template <class In> static constexpr std::size_t flops_for = flops;
    template <class In> static constexpr std::size_t canonical_size_for = engine_type::canonical_floats;
    template <class In> static constexpr std::size_t packed_size_for = engine_type::packed_floats;
    template <class In>
    static constexpr std::size_t scratch_size_for = engine_type::plan.activation_floats + engine_type::plan.max_scratch_per_row();
    template <class In> static constexpr std::size_t scratch_fixed_for = engine_type::plan.max_scratch_fixed();
    template <class In> static constexpr std::size_t naive_size_for = engine_type::naive_floats;
    template <class In> static void pack(const float* c, float* p) { engine_type::pack(c, p); }
    template <class In>
    static void forward(const float* params, const float* in, float* out, std::size_t rows, float* scratch) {
        const float* ins[] = {in};
        float* outs[] = {out};
        engine_type::run(params, ins, outs, rows, scratch);
    }
    template <class In>
    static void describe(std::vector<LayerInfo>& rows, const std::string& prefix, std::size_t depth) {
        engine_type::describe(rows, prefix, depth);
    }
    template <class In>
    static void param_infos(std::vector<ParamInfo>& out, const std::string& prefix, std::size_t base) {
        engine_type::params(out, prefix, base);
    }
    static std::string name() { return "Graph"; }
    static std::string block_name() { return "Graph"; }
};

}  // namespace typenet

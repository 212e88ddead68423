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
// This header is a front end only: from the output types it collects every node once, in a
// topological order fixed at compile time (inputs first, then each node after the nodes it
// reads), checks the graph's structure, and lowers the nodes in that order to the model IR
// (ir/), where the passes and the engine are the same as for every other spelling. A layer
// node's weights are named by its label ("fc.weight"), an unnamed one by its position ("#5").
// Structural mistakes are one compile error each, in words: an input the outputs do not use,
// an input used but not declared, two different layers with one name, a shared layer called
// on different shapes, and any shape mismatch (the node's name, its layer and both shapes).
#pragma once
#include "../core/isa.hpp"
#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "../core/diagnostics.hpp"
#include "../core/fixed_string.hpp"
#include "../ir/ir.hpp"
#include "../ir/lower.hpp"
#include "../core/type_list.hpp"
#include "../core/layer.hpp"
#include "../layers/merge.hpp"
#include "../core/shape.hpp"
#include "model.hpp"
#include "sequential.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

// ---- Node types -----------------------------------------------------------------------------

template <fixed_string Name, class S>
struct InputNode {
    using shape_type = S;
    static constexpr auto label = Name;
};
template <fixed_string Name, std::size_t... Dims>
using In = InputNode<Name, Shape<Dims...>>;

template <class Op, class... Args>
struct Call {
    static_assert(sizeof...(Args) > 0, "typenet: a graph node needs at least one input node");
};

template <class... Nodes> struct Inputs {};
template <class... Nodes> struct Outputs {};

template <class InputList, class OutputList>
struct Graph;

// ---- Diagnostics ----------------------------------------------------------------------------

template <fixed_string Name>
struct graph_input {
    static constexpr bool is_used_by_no_output = false;
    static constexpr bool is_listed_twice_in_inputs = false;
    static constexpr bool is_used_but_not_listed_in_inputs = false;
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

template <class N, class... Declared>
struct report_undeclared_input {
    static_assert(graph_input<N::label>::is_used_but_not_listed_in_inputs,
                  "typenet: an output depends on an input that is not listed in the model's inputs");
};
template <class N>
struct report_unused_input {
    static_assert(graph_input<N::label>::is_used_by_no_output, "typenet: a model input is not used by any output");
};
template <class N>
struct report_duplicate_input {
    static_assert(graph_input<N::label>::is_listed_twice_in_inputs, "typenet: an input is listed twice in the model's inputs");
};
// ---- Collecting the nodes: a type list, each node once, every node after its inputs ----------

template <class... T> struct tlist {};
template <class T> struct one {};
// Appends T unless it is there already: one membership test by the compiler's base-class
// lookup, not one is_same per element (that made collecting a 200-node graph quadratic in
// instantiations).
template <class... A, class T>
constexpr auto operator+(tlist<A...>, one<T>) {
    if constexpr (meta::contains<T, meta::type_set<A...>>) return tlist<A...>{};
    else return tlist<A..., T>{};
}
template <class... B>
constexpr auto operator|(tlist<>, tlist<B...> b) { return b; }
template <class A0, class... A, class... B>
constexpr auto operator|(tlist<A0, A...> a, tlist<B...>) {
    return (a + ... + one<B>{});
}

template <class N> struct deps;  // N and everything it reads, in a topological order
template <fixed_string Nm, class S>
struct deps<InputNode<Nm, S>> {
    using type = tlist<InputNode<Nm, S>>;
};
template <class Op, class A>
struct deps<Call<Op, A>> {  // one argument (a chain): N cannot be among A's dependencies
    template <class... D> static tlist<D..., Call<Op, A>> append(tlist<D...>);
    using type = decltype(append(typename deps<A>::type{}));
};
template <class Op, class A0, class A1, class... A>
struct deps<Call<Op, A0, A1, A...>> {
    using type = decltype(((typename deps<A0>::type{} | typename deps<A1>::type{}) | ... | typename deps<A>::type{}) +
                          one<Call<Op, A0, A1, A...>>{});
};

template <class T, class... U>
consteval std::size_t index_in(tlist<U...>) {
    constexpr std::array<bool, sizeof...(U) + 1> same{std::is_same_v<T, U>..., true};
    std::size_t i = 0;
    while (!same[i]) ++i;
    return i;
}
template <class... U>
consteval std::size_t list_size(tlist<U...>) { return sizeof...(U); }

template <class N>
consteval std::string_view node_label() {
    if constexpr (requires { N::label; }) return N::label.view();
    else return []<class Op, class... A>(Call<Op, A...>*) {
        if constexpr (requires { Op::label; }) return Op::label.view();
        else return std::string_view{};
    }(static_cast<N*>(nullptr));
}

// ---- Lowering: each node in topological order, its arguments mapped to IR nodes -------------

// The path of a node: its label, or "#k" (its position) when it has none.
template <fixed_string Prefix, class Op, std::size_t K>
consteval auto node_path() {
    if constexpr (requires { Op::label; }) return join_path<Prefix, Op::label>();
    else return join_path<Prefix, []{
        constexpr auto digits = index_string<K>();
        fixed_string<digits.length + 2> s;
        s.chars[0] = '#';
        for (std::size_t i = 0; i < digits.length; ++i) s.chars[i + 1] = digits.chars[i];
        return s;
    }()>();
}

// Map: the IR index of each front-end node lowered so far.
template <class S, class Map, class Topo, fixed_string Prefix, std::size_t Nested = std::size_t(-1)> struct GraphAcc {
    using state = S;
    using map = Map;
};
template <class N, std::size_t K> struct GraphStep {};

template <class S, std::size_t... M, class Topo, fixed_string P, std::size_t Nested, fixed_string Nm, class Sh, std::size_t K>
constexpr auto operator|(GraphAcc<S, ir::values<M...>, Topo, P, Nested>, GraphStep<InputNode<Nm, Sh>, K>) {
    return GraphAcc<S, ir::values<M..., Nested == std::size_t(-1) ? K : Nested>, Topo, P, Nested>{};
}
template <class... N>
consteval auto table_of(tlist<N...>) { return ir::index_table<std::index_sequence_for<N...>, N...>{}; }
// The position of node T in the topological list: one overload resolution, no instantiation per pair.
template <class T, class Topo>
consteval std::size_t topo_index() { return ir::index_of<T, decltype(table_of(Topo{}))>; }

template <class S, std::size_t... M, class Topo, fixed_string P, std::size_t Nested, class Op, class... A, std::size_t K>
constexpr auto operator|(GraphAcc<S, ir::values<M...>, Topo, P, Nested>, GraphStep<Call<Op, A...>, K>) {
    if constexpr (std::is_same<S, ir::Failed>::value) {
        return GraphAcc<ir::Failed, ir::values<M..., 0>, Topo, P, Nested>{};
    } else {
        constexpr std::array<std::size_t, sizeof...(M)> map{M...};
        using L = ir::unnamed_t<Op>;
        constexpr auto path = node_path<P, Op, K>();
        if constexpr (MergeOp<L>) {
            if constexpr (!L::template accepts<typename S::template node<map[topo_index<A, Topo>()]>::shape...>) {
                (void)typename L::template report<where_t<Op>, typename S::template node<map[topo_index<A, Topo>()]>::shape...>{};
                return GraphAcc<ir::Failed, ir::values<M..., 0>, Topo, P, Nested>{};
            } else {
                using Out = typename L::template output_shape_for<typename S::template node<map[topo_index<A, Topo>()]>::shape...>;
                using First = typename S::template node<map[topo_index<std::tuple_element_t<0, std::tuple<A...>>, Topo>()]>::shape;
                using R = typename S::template push<ir::Node<L, First, Out, path, ir::NamedLayer<Op>, map[topo_index<A, Topo>()]...>>;
                return GraphAcc<R, ir::values<M..., R::cur>, Topo, P, Nested>{};
            }
        } else {
            static_assert(sizeof...(A) == 1, "typenet: a layer is called on exactly one node; merge nodes first (tn::concat, tn::add, ...)");
            constexpr std::size_t arg = map[topo_index<std::tuple_element_t<0, std::tuple<A...>>, Topo>()];
            using R = typename ir::lowered<Op, path, ir::at_graph_node<where_t<Op>>, typename S::template at<arg>>::type;
            if constexpr (std::is_same<R, ir::Failed>::value) return GraphAcc<ir::Failed, ir::values<M..., 0>, Topo, P, Nested>{};
            else return GraphAcc<R, ir::values<M..., R::cur>, Topo, P, Nested>{};
        }
    }
}

// Lowers the nodes of Topo onto S. Inputs are IR nodes 0, 1, ... in their declared order, or,
// for a graph used as a layer, its one input is node Nested of the model using it.
template <fixed_string Prefix, std::size_t Nested, class S, class... N>
consteval auto lower_graph_nodes(S, tlist<N...>) {
    using Topo = tlist<N...>;
    return [&]<std::size_t... k>(std::index_sequence<k...>) {
        return (GraphAcc<S, ir::values<>, Topo, Prefix, Nested>{} | ... | GraphStep<N, k>{});
    }(std::index_sequence_for<N...>{});
}

// Structure, checked in order; the first failure is reported and the rest not looked at.
template <class InList, class OutList>
struct GraphCheck;
template <class... I, class... O>
struct GraphCheck<tlist<I...>, tlist<O...>> {
    using node_list = decltype((tlist<I...>{} | ... | typename deps<O>::type{}));

    template <class In>
    static consteval bool input_used() {
        return ((index_in<In>(typename deps<O>::type{}) < list_size(typename deps<O>::type{})) || ...);
    }
    template <class... N>
    static constexpr auto check(tlist<N...>) {
        constexpr std::size_t ni = sizeof...(I);
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
            using all = ir::index_table<std::index_sequence_for<N...>, N...>;
            constexpr std::size_t undeclared = [] {  // an input node reached from the outputs but not declared
                std::size_t r = 0, k = 0;
                ((r = (r == 0 && k >= ni && is_input_node<N>::value) ? k : r, ++k), ...);
                return r;
            }();
            if constexpr (undeclared != 0) {
                (void)report_undeclared_input<ir::pick_t<undeclared, all>, I...>{};
                return std::false_type{};
            } else {
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
                } else {
                    return std::true_type{};
                }
            }
        }
    }
    static constexpr bool structure_ok = decltype(check(node_list{}))::value;
};

template <class... I, class... O>
consteval auto lower_graph_impl(tlist<I...>, tlist<O...>) {
    using check = GraphCheck<tlist<I...>, tlist<O...>>;
    if constexpr (!check::structure_ok) {
        return ir::Failed{};
    } else {
        using Topo = typename check::node_list;
        constexpr std::size_t ni = sizeof...(I);
        using S0 = decltype([]<std::size_t... s>(std::index_sequence<s...>) {
            return ir::State<ir::list<ir::Node<ir::InputOp<s>, void, typename std::tuple_element_t<s, std::tuple<I...>>::shape_type,
                                               std::tuple_element_t<s, std::tuple<I...>>::label, true>...>,
                             ir::list<>, 0, typename std::tuple_element_t<0, std::tuple<I...>>::shape_type>{};
        }(std::make_index_sequence<ni>{}));
        using R = decltype(lower_graph_nodes<fixed_string<1>{}, std::size_t(-1)>(S0{}, Topo{}));
        if constexpr (std::is_same<typename R::state, ir::Failed>::value) {
            return ir::Failed{};
        } else {
            using S = typename R::state;
            constexpr auto map = []<std::size_t... m>(ir::values<m...>) { return std::array<std::size_t, sizeof...(m)>{m...}; }(typename R::map{});
            return ir::Module<typename S::nodes, typename S::blocks, ni, ir::values<map[topo_index<O, Topo>()]...>>{};
        }
    }
}

// ---- The same graph on a sequence of another length (what Net::step and Net::process run) ----
//
// Every input [T, F] becomes [Steps, F]; a nested model over a sequence follows; every other
// layer is unchanged, so the weights, their names and the state keep their places. One
// rewrite per distinct node (the compiler memoises each), linear in the graph's size.
template <class Op, std::size_t Steps>
consteval auto op_with_steps() {
    if constexpr (requires { typename Op::unnamed_type; Op::label; })
        return std::type_identity<Named<Op::label, typename decltype(op_with_steps<typename Op::unnamed_type, Steps>())::type>>{};
    else if constexpr (requires { typename Op::template with_steps<Steps>; })
        return std::type_identity<typename Op::template with_steps<Steps>>{};
    else return std::type_identity<Op>{};
}
template <class N, std::size_t Steps> struct node_with_steps { using type = N; };
template <fixed_string Nm, std::size_t T, std::size_t F, std::size_t Steps>
struct node_with_steps<InputNode<Nm, Shape<T, F>>, Steps> {
    using type = InputNode<Nm, Shape<Steps, F>>;
};
template <class Op, class... A, std::size_t Steps>
struct node_with_steps<Call<Op, A...>, Steps> {
    using type = Call<typename decltype(op_with_steps<Op, Steps>())::type, typename node_with_steps<A, Steps>::type...>;
};

}  // namespace detail

// ---- The model ------------------------------------------------------------------------------

template <class... I, class... O>
struct Graph<Inputs<I...>, Outputs<O...>>
    : detail::ModelBase<decltype(detail::lower_graph_impl(detail::tlist<I...>{}, detail::tlist<O...>{}))> {
    static_assert(sizeof...(I) > 0, "typenet: a graph needs at least one input");
    static_assert(sizeof...(O) > 0, "typenet: a graph needs at least one output");
    static_assert((detail::GraphNode<O> && ...), "typenet: tn::outputs(...) takes graph nodes");
    using base = detail::ModelBase<decltype(detail::lower_graph_impl(detail::tlist<I...>{}, detail::tlist<O...>{}))>;

    static constexpr bool is_graph = true;
    static constexpr std::size_t n_inputs = sizeof...(I);
    static constexpr std::size_t n_outputs = sizeof...(O);

    using input_shapes = std::tuple<typename I::shape_type...>;
    using output_shapes = typename base::template output_tuple<std::make_index_sequence<sizeof...(O)>>::type;
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
    static constexpr output_shape_at<0> output_shape{};

    // The same graph on a sequence of another length (one input [T, F], one output): what
    // Net::step (one step) and Net::process (blocks of steps) run.
    template <std::size_t Steps>
        requires(n_inputs == 1 && n_outputs == 1 && input_shape_type::rank == 2)
    using with_steps = Graph<Inputs<typename detail::node_with_steps<I, Steps>::type...>,
                             Outputs<typename detail::node_with_steps<O, Steps>::type...>>;

    // A graph with one input and one output is also a layer: a nested model, lowered into the
    // model that uses it (its nodes named under the path it is used at).
    static constexpr bool is_block = true;
    template <class In>
    static constexpr bool accepts = n_inputs == 1 && n_outputs == 1 && In{} == input_shape_at<0>{} && base::valid;
    template <class In> using output_shape_for = output_shape_at<0>;
    template <class Self, fixed_string Path, class Where, class S>
    static consteval auto lower_block(S s) {
        static_assert(n_inputs == 1 && n_outputs == 1, "typenet: a graph used as a layer has one input and one output");
        if constexpr (!(typename S::cur_shape{} == input_shape_at<0>{})) {
            using At = ir::at_t<Where, Self>;
            static_assert(At::template expects_input<input_shape_at<0>>::template but_gets<typename S::cur_shape>,
                          "typenet: shape mismatch: a model used as a layer takes exactly its own input shape");
            return ir::Failed{};
        } else {
            using Topo = typename detail::GraphCheck<detail::tlist<I...>, detail::tlist<O...>>::node_list;
            using R = decltype(detail::lower_graph_nodes<Path, S::cur>(s, Topo{}));
            if constexpr (std::is_same<typename R::state, ir::Failed>::value) {
                return ir::Failed{};
            } else {
                constexpr auto map = []<std::size_t... m>(ir::values<m...>) { return std::array<std::size_t, sizeof...(m)>{m...}; }(typename R::map{});
                using Out = typename R::state::template at<map[detail::topo_index<O..., Topo>()]>;
                return ir::closed_block_t<Self, Path, S::size, Out>{};
            }
        }
    }
    static std::string name() { return "Graph"; }
    static std::string block_name() { return "Graph"; }
};

}  // namespace typenet

// Typed skip and branch nodes, usable anywhere a layer is (inside Sequential, in graphs):
//
//   Residual<F, Act = linear>                 y = act(x + F(x)); F(x) must have x's shape
//   Residual<F, Projection<P>, Act = linear>  y = act(P(x) + F(x)), when F changes the shape
//   Branch<Merge, Paths...>                   every path on the same input, then merged:
//                                             Concat<Axis>, Add, Multiply, Subtract,
//                                             Average, Maximum, Minimum
//
// Each is a small graph built for the input shape it meets (model/graph.hpp), so it is
// planned, run and described like one. Weights are named by position, as a PyTorch module
// whose children are registered as "0", "1", ...: the body of a Residual is "0", its
// projection "1"; a Branch's paths are "0", "1", ... A mismatch is reported at the merge
// ("residual" or "branch") with every path's output shape.
#pragma once
#include <cstddef>
#include <string>

#include "../layer.hpp"
#include "../model/graph.hpp"
#include "activation.hpp"
#include "merge.hpp"

namespace typenet {

template <class P> struct Projection {};

namespace detail {

template <class T> struct is_projection : std::false_type {};
template <class P> struct is_projection<Projection<P>> : std::true_type {};
template <class T> struct projection_layer;
template <class P> struct projection_layer<Projection<P>> { using type = P; };

template <std::size_t I>
consteval auto index_label() {
    if constexpr (I < 10) return fixed_string<2>({char('0' + I), 0});
    else return fixed_string<3>({char('0' + I / 10), char('0' + I % 10), 0});
}

template <class Act, class X>
consteval auto activated() {
    if constexpr (std::is_same_v<Act, linear>) return std::type_identity<X>{};
    else return std::type_identity<Call<ActivationLayer<Act>, X>>{};
}

// The layer protocol of a block that is a graph for each input shape: G::graph_for<In>.
template <class G>
struct graph_block {
    template <class In> using graph = typename G::template graph_for<In>;
    template <class In> static constexpr bool accepts = graph<In>::valid;
    template <class In> static constexpr bool reports_own_errors = true;
    template <class In> using output_shape_for = typename graph<In>::output_shape_type;
    template <class In> static constexpr std::size_t flops_for = graph<In>::flops;
    template <class In> static constexpr std::size_t canonical_size_for = graph<In>::template canonical_size_for<In>;
    template <class In> static constexpr std::size_t packed_size_for = graph<In>::template packed_size_for<In>;
    template <class In> static constexpr std::size_t scratch_size_for = graph<In>::template scratch_size_for<In>;
    template <class In> static constexpr std::size_t scratch_fixed_for = graph<In>::template scratch_fixed_for<In>;
    template <class In> static constexpr std::size_t naive_size_for = graph<In>::template naive_size_for<In>;
    template <class In> static void pack(const float* c, float* p) { graph<In>::template pack<In>(c, p); }
    template <class In>
    static void forward(const float* params, const float* in, float* out, std::size_t rows, float* scratch) {
        graph<In>::template forward<In>(params, in, out, rows, scratch);
    }
    template <class In>
    static void describe(std::vector<LayerInfo>& rows, const std::string& prefix, std::size_t depth) {
        graph<In>::template describe<In>(rows, prefix, depth);
    }
    template <class In>
    static void param_infos(std::vector<ParamInfo>& out, const std::string& prefix, std::size_t base) {
        graph<In>::template param_infos<In>(out, prefix, base);
    }
};

template <class F, class Shortcut, class Act>
struct residual_graph {
    template <class In>
    static consteval auto make_graph() {
        using X = InputNode<"x", In>;
        using Body = Call<Named<"0", F>, X>;
        using Short = typename decltype([] {
            if constexpr (std::is_void_v<Shortcut>) return std::type_identity<X>{};
            else return std::type_identity<Call<Named<"1", Shortcut>, X>>{};
        }())::type;
        using Out = typename decltype(activated<Act, Call<Named<"residual", Add>, Short, Body>>())::type;
        return std::type_identity<Graph<Inputs<X>, Outputs<Out>>>{};
    }
    template <class In> using graph_for = typename decltype(make_graph<In>())::type;
};

// The residual rule, checked before the graph is built, so that a mismatch reads like any
// other layer's: at_layer<I, Residual<...>>::expects_input<shape_of_its_body_output<[F(x)]>>
// ::but_gets<[x]>. (A body that rejects x reports its own error.)
template <class F, class Shortcut, class In>
consteval auto residual_mismatch() {
    if constexpr (!layer_accepts<F, In>() || !LayerOn<F, In>) {
        return std::type_identity<void>{};
    } else {
        using Body = typename F::template output_shape_for<In>;
        if constexpr (std::is_void_v<Shortcut>) {
            if constexpr (Body{} == In{}) return std::type_identity<void>{};
            else return std::type_identity<shape_of_its_body_output<Body>>{};
        } else if constexpr (!layer_accepts<Shortcut, In>() || !LayerOn<Shortcut, In>) {
            return std::type_identity<void>{};
        } else {
            using Short = typename Shortcut::template output_shape_for<In>;
            if constexpr (Body{} == Short{}) return std::type_identity<void>{};
            else return std::type_identity<projection_output_equal_to_body_output<Short, Body>>{};
        }
    }
}

template <class F, class Shortcut, class Act>
struct ResidualBlock : graph_block<residual_graph<F, Shortcut, Act>> {
    template <class In> using mismatch = typename decltype(residual_mismatch<F, Shortcut, In>())::type;
    template <class In>
    static constexpr bool accepts = [] {
        if constexpr (!std::is_void_v<mismatch<In>>) return false;
        else return residual_graph<F, Shortcut, Act>::template graph_for<In>::valid;
    }();
    template <class In> static constexpr bool reports_own_errors = std::is_void_v<mismatch<In>>;
    template <class In> using expected_input = mismatch<In>;
    static std::string block_name() {
        std::string s = std::is_void_v<Shortcut> ? "Residual" : "Residual (projection)";
        if constexpr (!std::is_same_v<Act, linear>) {
            s += ", ";
            s += Act::name();
        }
        return s;
    }
    static std::string name() {
        std::string s = "Residual<";
        s += layer_name<F>();
        if constexpr (!std::is_void_v<Shortcut>) {
            s += ", Projection<";
            s += layer_name<Shortcut>();
            s += ">";
        }
        if constexpr (!std::is_same_v<Act, linear>) {
            s += ", ";
            s += Act::name();
        }
        return s + ">";
    }
};

template <class Shortcut, class Act>
struct residual_parts_t {
    using shortcut = Shortcut;
    using act = Act;
};
template <class Second, class Third>
consteval auto residual_parts() {
    if constexpr (is_projection<Second>::value) return residual_parts_t<typename projection_layer<Second>::type, Third>{};
    else return residual_parts_t<void, Second>{};
}

template <class Merge, class... Paths>
struct branch_graph {
    template <class In, std::size_t... I>
    static consteval auto make_graph(std::index_sequence<I...>) {
        using X = InputNode<"x", In>;
        using Out = Call<Named<"branch", Merge>, Call<Named<index_label<I>(), Paths>, X>...>;
        return std::type_identity<Graph<Inputs<X>, Outputs<Out>>>{};
    }
    template <class In> using graph_for = typename decltype(make_graph<In>(std::index_sequence_for<Paths...>{}))::type;
};

template <class Merge, class... Paths>
struct BranchBlock : graph_block<branch_graph<Merge, Paths...>> {
    static std::string block_name() { return std::string("Branch<") + Merge::name() + ">"; }
    static std::string name() {
        std::string s = std::string("Branch<") + Merge::name();
        ((s += ", ", s += layer_name<Paths>()), ...);
        return s + ">";
    }
};

}  // namespace detail

template <class F, class Second = linear, class Third = linear>
struct Residual
    : detail::ResidualBlock<F, typename decltype(detail::residual_parts<Second, Third>())::shortcut,
                            typename decltype(detail::residual_parts<Second, Third>())::act> {};

template <class Merge, class... Paths>
struct Branch : detail::BranchBlock<Merge, Paths...> {
    static_assert(sizeof...(Paths) > 0, "typenet: a Branch needs at least one path");
    static_assert(detail::MergeOp<Merge>, "typenet: Branch's first argument is the merge: Concat<>, Add, Multiply, ...");
};

}  // namespace typenet

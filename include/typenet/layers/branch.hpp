// Typed skip and branch nodes, usable anywhere a layer is (inside Sequential, in graphs):
//
//   Residual<F, Act = linear>                 y = act(x + F(x)); F(x) must have x's shape
//   Residual<F, Projection<P>, Act = linear>  y = act(P(x) + F(x)), when F changes the shape
//   Branch<Merge, Paths...>                   every path on the same input, then merged:
//                                             Concat<Axis>, Add, Multiply, Subtract,
//                                             Average, Maximum, Minimum
//
// Each lowers to the model IR (ir/): the shortcut, then the body, then the merge, so the
// body's last kernel can add the shortcut in its epilogue. Names follow PyTorch's module
// tree, as torchvision writes it: a Residual's body is seen through (a Sequential body's
// layers are the Residual's own children, "conv1", "bn1", ... or "0", "1", ...; a body that
// is one layer is "0"), and its projection is "downsample" unless it has a name of its own.
// A Branch's paths are "0", "1", ... (or their own names). A mismatch is reported at the
// Residual (both shapes) or at the merge ("branch"), with every path's output shape.
#pragma once
#include "../core/isa.hpp"
#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>

#include "../core/diagnostics.hpp"
#include "../ir/lower.hpp"
#include "../core/layer.hpp"
#include "sequential.hpp"
#include "activation.hpp"
#include "merge.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

template <class P> struct Projection {};

namespace detail {

template <class T> struct is_projection : std::false_type {};
template <class P> struct is_projection<Projection<P>> : std::true_type {};
template <class T> struct projection_layer;
template <class P> struct projection_layer<Projection<P>> { using type = P; };


// The body of a Residual, seen through: a Sequential's layers as the Residual's children.
// (Classes rather than lambdas: g++ names every instantiated function, and a lambda here is
// named with the whole lowering state.)
template <class F, fixed_string Path, class S>
struct lowered_body {
    using type = typename ir::lowered<F, ir::child_path<Path, F, 0>(), ir::at_position<0>, S>::type;
};
template <class... Ls, fixed_string Path, class S>
struct lowered_body<Sequential<Ls...>, Path, S> {
    using type = ir::lowered_chain<Path, S, Ls...>;
};

template <class Shortcut, fixed_string Path>
consteval auto shortcut_path() {
    if constexpr (ir::NamedLayer<Shortcut>) return join_path<Path, Shortcut::label>();
    else return join_path<Path, fixed_string("downsample")>();
}

template <class Shortcut, fixed_string Path, class S>
struct lowered_shortcut {
    using type = typename ir::lowered<Shortcut, shortcut_path<Shortcut, Path>(), ir::at_position<1>, S>::type;
};
template <fixed_string Path, class S>
struct lowered_shortcut<void, Path, S> {
    using type = S;
};

template <class F, class Shortcut, class Act>
struct ResidualBlock : BlockProtocol<ResidualBlock<F, Shortcut, Act>> {
    template <class Self, fixed_string Path, class Where, class S>
    static consteval auto lower_block(S) {
        constexpr std::size_t x = S::cur;
        using In = typename S::cur_shape;
        using Short = typename lowered_shortcut<Shortcut, Path, S>::type;
        if constexpr (std::is_same<Short, ir::Failed>::value) {
            return ir::Failed{};
        } else {
            using Body = typename lowered_body<F, Path, typename Short::template at<x>>::type;
            if constexpr (std::is_same<Body, ir::Failed>::value) {
                return ir::Failed{};
            } else {
                using BodyShape = typename Body::cur_shape;
                using ShortShape = typename Body::template node<Short::cur>::shape;
                if constexpr (!(BodyShape{} == ShortShape{})) {
                    using Why = std::conditional_t<std::is_void_v<Shortcut>, shape_of_its_body_output<BodyShape>,
                                                   projection_output_equal_to_body_output<ShortShape, BodyShape>>;
                    using At = ir::at_t<Where, Self>;
                    static_assert(At::template expects_input<Why>::template but_gets<In>,
                                  "typenet: shape mismatch: a Residual's shortcut and body must have one shape (named in this condition)");
                    return ir::Failed{};
                } else {
                    using Added = typename Body::template push<
                        ir::Node<Add, ShortShape, BodyShape, join_path<Path, fixed_string("residual")>(), false, Short::cur, Body::cur>>;
                    if constexpr (std::is_same_v<Act, linear>) {
                        return ir::closed_block_t<Self, Path, S::size, Added>{};
                    } else {
                        using Out = typename Added::template push<
                            ir::Node<ActivationLayer<Act>, BodyShape, BodyShape, join_path<Path, fixed_string("act")>(), false, Added::cur>>;
                        return ir::closed_block_t<Self, Path, S::size, Out>{};
                    }
                }
            }
        }
    }
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

// The paths of a Branch, each on the block's input; Outs: the node each path ends at.
template <class S, class Outs> struct PathsAcc {
    using state = S;
    using outs = Outs;
};
template <class P, std::size_t I, std::size_t X, fixed_string Path> struct PathStep {};
template <class S, std::size_t... O, class P, std::size_t I, std::size_t X, fixed_string Path>
constexpr auto operator|(PathsAcc<S, ir::values<O...>>, PathStep<P, I, X, Path>) {
    if constexpr (std::is_same<S, ir::Failed>::value) {
        return PathsAcc<ir::Failed, ir::values<O..., 0>>{};
    } else {
        using R = typename ir::lowered<P, ir::child_path<Path, P, I>(), ir::at_position<int(I)>, typename S::template at<X>>::type;
        if constexpr (std::is_same<R, ir::Failed>::value) return PathsAcc<ir::Failed, ir::values<O..., 0>>{};
        else return PathsAcc<R, ir::values<O..., R::cur>>{};
    }
}

template <class Merge, class S, fixed_string Path, std::size_t... O>
consteval auto lower_merge(S, ir::values<O...>) {
    using Where = node<join_path<Path, fixed_string("branch")>()>;
    if constexpr (!Merge::template accepts<typename S::template node<O>::shape...>) {
        (void)typename Merge::template report<Where, typename S::template node<O>::shape...>{};
        return ir::Failed{};
    } else {
        using Out = typename Merge::template output_shape_for<typename S::template node<O>::shape...>;
        using First = typename S::template node<std::get<0>(std::tuple{O...})>::shape;
        return typename S::template push<ir::Node<Merge, First, Out, join_path<Path, fixed_string("branch")>(), false, O...>>{};
    }
}

template <class Merge, class... Paths>
struct BranchBlock : BlockProtocol<BranchBlock<Merge, Paths...>> {
    template <class Self, fixed_string Path, class Where, class S>
    static consteval auto lower_block(S) {
        using R = decltype([]<std::size_t... I>(std::index_sequence<I...>) {
            return (PathsAcc<S, ir::values<>>{} | ... | PathStep<Paths, I, S::cur, Path>{});
        }(std::index_sequence_for<Paths...>{}));
        if constexpr (std::is_same<typename R::state, ir::Failed>::value) return ir::Failed{};
        else return ir::closed_block_t<Self, Path, S::size, decltype(lower_merge<Merge, typename R::state, Path>(typename R::state{}, typename R::outs{}))>{};
    }
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

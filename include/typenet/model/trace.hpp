// The shape trace: the input shape of every layer in a chain, computed by one left fold
//
//   (ShapeTrace<In>{} | ... | Step<Layers>{})
//
// Each `|` applies one layer's shape rule. The first layer that rejects its input reports
// the error (diagnostics.hpp) and turns the trace into FailedTrace, which every later `|`
// passes through untouched: the layers after a failure are never instantiated.
#pragma once
#include <cstddef>
#include <tuple>
#include <type_traits>

#include "../diagnostics.hpp"
#include "../layer.hpp"

namespace typenet::detail {

template <class... Shapes>
struct ShapeTrace {
    using shapes = std::tuple<Shapes...>;
};
struct FailedTrace {};
template <class L> struct Step {};

template <class... T>
using last_of = typename decltype((std::type_identity<T>{}, ...))::type;

// A composite layer whose own chain failed has already reported; don't report it twice.
template <class L, class In>
consteval bool reports_own_errors() {
    if constexpr (requires { L::template reports_own_errors<In>; }) return L::template reports_own_errors<In>;
    else return false;
}

// What is wrong with a layer's options (void: nothing), if it says.
template <class L>
consteval auto invalid_options_probe() {
    if constexpr (requires { typename L::invalid_options; }) return std::type_identity<typename L::invalid_options>{};
    else return std::type_identity<void>{};
}
template <class L>
using invalid_options_of = typename decltype(invalid_options_probe<L>())::type;

template <class... S, class L>
constexpr auto operator|(ShapeTrace<S...>, Step<L>) {
    using In = last_of<S...>;
    constexpr int index = int(sizeof...(S)) - 1;
    if constexpr (!std::is_void_v<invalid_options_of<L>>) {
        (void)report_invalid_options<index, L, invalid_options_of<L>>{};
        return FailedTrace{};
    } else if constexpr (!layer_accepts<L, In>()) {
        if constexpr (!reports_own_errors<L, In>())
            (void)report_shape_mismatch<index, L, typename expected_input_of<L, In>::type, In>{};
        return FailedTrace{};
    } else if constexpr (!LayerOn<L, In>) {
        (void)report_not_a_layer<index, L, In>{};
        return FailedTrace{};
    } else {
        return ShapeTrace<S..., typename L::template output_shape_for<In>>{};
    }
}

template <class L>
constexpr FailedTrace operator|(FailedTrace, Step<L>) { return {}; }

template <class In, class... Ls>
using trace_t = decltype((ShapeTrace<In>{} | ... | Step<Ls>{}));

template <class In, class... Ls>
inline constexpr bool trace_ok = !std::is_same_v<trace_t<In, Ls...>, FailedTrace>;

}  // namespace typenet::detail

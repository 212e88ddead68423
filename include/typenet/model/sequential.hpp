// Sequential<Input<D...>, Layers...>: a chain of layers on a fixed input, a model whose
// shapes, parameter count, FLOPs and memory are all constexpr. The block spelling (no Input)
// is layers/sequential.hpp; both lower to the same IR.
#pragma once
#include "../core/isa.hpp"
#include <array>
#include <cstddef>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "../core/fixed_string.hpp"
#include "../core/shape.hpp"
#include "../ir/ir.hpp"
#include "../ir/lower.hpp"
#include "../layers/input.hpp"
#include "../layers/sequential.hpp"
#include "model.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

namespace detail {
// A model's chain, lowered onto its input: the IR module, or ir::Failed.
template <class S> struct chain_module {
    using type = ir::Module<typename S::nodes, typename S::blocks, 1, ir::values<S::cur>>;
};
template <> struct chain_module<ir::Failed> {
    using type = ir::Failed;
};
}  // namespace detail

// A model: the input shape is fixed, so everything else is a constant.
template <std::size_t... D, class... Layers>
struct Sequential<Input<D...>, Layers...>
    : detail::ModelBase<typename detail::chain_module<typename decltype((ir::chain_start<ir::start<Shape<D...>>, fixed_string<1>{}, Layers...>{} | ... | ir::ChainStep<Layers>{}))::state>::type> {
    static_assert(sizeof...(Layers) > 0, "typenet: a model needs at least one layer after its Input");
    using base = typename Sequential::model_base;  // (the fold once: a class an error was reported in is not read twice)
    using input_shape_type = Shape<D...>;
    using output_shape_type = typename base::template output_shape_of<0>;
    static constexpr input_shape_type input_shape{};
    static constexpr output_shape_type output_shape{};

    static constexpr std::size_t n_inputs = 1, n_outputs = 1;
    using input_shapes = std::tuple<input_shape_type>;
    using output_shapes = std::tuple<output_shape_type>;
    template <std::size_t> using input_shape_at = input_shape_type;
    template <std::size_t> using output_shape_at = output_shape_type;

    // The same layers on a sequence of another length (a rank-2 input [T, F] only): what
    // Net::step (one step) and Net::process (blocks of steps) run.
    template <std::size_t Steps>
        requires(sizeof...(D) == 2)
    using with_steps = Sequential<Input<Steps, std::array<std::size_t, sizeof...(D)>{D...}[sizeof...(D) - 1]>, Layers...>;

    // As a layer inside another model it takes exactly its own input shape.
    static constexpr bool is_block = true;
    template <class In> static constexpr bool accepts = In{} == input_shape_type{} && base::valid;
    template <class In> using output_shape_for = output_shape_type;
    static std::string block_name() { return "Sequential"; }
    template <class Self, fixed_string Path, class Where, class S>
    static consteval auto lower_block(S) {
        if constexpr (!(typename S::cur_shape{} == input_shape_type{})) {
            using At = ir::at_t<Where, Self>;
            static_assert(At::template expects_input<input_shape_type>::template but_gets<typename S::cur_shape>,
                          "typenet: shape mismatch: a model used as a layer takes exactly its own input shape");
            return ir::Failed{};
        } else {
            return ir::closed_block_t<Self, Path, S::size, ir::lowered_chain<Path, S, Layers...>>{};
        }
    }
};

}  // namespace typenet

// Sequential<Layers...> as a block: a chain of layers whose shapes follow from where it is
// used, lowered to the model IR (ir/) so blocks nest to any depth and every pass sees
// through them. A nested block's layers are addressed "3.0.weight", or by their names
// ("features.0.weight" for Named<"features", Sequential<...>>), as in PyTorch's
// nn.Sequential. With an Input<...> first, Sequential is a model: model/sequential.hpp.
#pragma once
#include "../core/isa.hpp"
#include <cstddef>
#include <string>

#include "../core/fixed_string.hpp"
#include "../core/layer.hpp"
#include "../ir/ir.hpp"
#include "../ir/lower.hpp"
#include "input.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

// A layer with a name: how graphs share it, how weight files find it ("fc.weight"), how
// summaries and errors show it. Usable anywhere a layer is. A block named "" adds no level to
// its children's names: torchvision's Fire module holds squeeze, expand1x1 and expand3x3 as
// siblings, written Sequential<Named<"squeeze", ...>, Named<"", Branch<Concat<>, ...>>>.
template <fixed_string Name, class L>
struct Named : L {
    static constexpr auto label = Name;
    using unnamed_type = L;
    static std::string name() { return layer_name<L>(); }
};

namespace detail {

// The protocol every block offers its users: whether it accepts a shape, and what it makes
// of it (both by lowering it onto a lone input of that shape).
template <class Self>
struct BlockProtocol {
    static constexpr bool is_block = true;
    template <class In> static constexpr bool accepts = ir::lowers_on<Self, In>;
    template <class In> using output_shape_for = typename ir::lowered_on<Self, In>::cur_shape;
};

}  // namespace detail

template <class... Layers>
struct Sequential : detail::BlockProtocol<Sequential<Layers...>> {
    static_assert(sizeof...(Layers) > 0, "typenet: Sequential needs at least one layer");
    static constexpr bool is_model = false;
    static std::string block_name() { return "Sequential"; }

    // (Declared only: lowering reads its type in decltype, and no function named with the
    // state is instantiated: ir/lower.hpp.)
    template <class Self, fixed_string Path, class Where, class S>
    static auto lower_block(S) -> ir::closed_block_t<Self, Path, S::size, ir::lowered_chain<Path, S, Layers...>>;
};

// The model spelling, defined by model/sequential.hpp (declared here so that no block
// header can mistake an Input for a layer).
template <std::size_t... D, class... Layers>
struct Sequential<Input<D...>, Layers...>;

}  // namespace typenet

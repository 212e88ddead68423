// Sequential<Layers...>: a chain of layers. With an Input<...> first it is a model whose
// shapes, parameter count, FLOPs and memory are all constexpr; without one it is a block
// whose shapes follow from where it is used. Either way it is itself a layer, so blocks nest
// (a nested block's layers are addressed "3.0.weight", as in PyTorch's nn.Sequential).
#pragma once
#include <array>
#include <cstddef>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "../layer.hpp"
#include "../layers/activation.hpp"
#include "../layers/batch_norm.hpp"
#include "../layers/dropout.hpp"
#include "../layers/flatten.hpp"
#include "../layers/input.hpp"
#include "../shape.hpp"
#include "bound.hpp"
#include "plan.hpp"
#include "trace.hpp"

namespace typenet {

// One row of a model's description (summary, weight files): a layer or a parameter.
struct LayerInfo {
    std::string path;         // "2", "3.0"
    std::string type;         // "Dense<128, relu>"
    std::string output_shape; // "[128]"
    std::size_t params = 0;
    std::size_t flops = 0;
    std::string kernel;       // "dense+bias+relu", "fused into 2", "view"
    std::size_t depth = 0;
    std::string connected_to; // graphs: the nodes this one reads
    std::string buffer;       // graphs: where its value lives ("arena +256", "output 0")
};
struct ParamInfo {
    std::string name;         // "2.weight"
    ParamSpec spec;
    std::size_t offset;       // into the canonical parameter vector
    std::string layer_path;   // "2"
    std::string_view keras_class;  // "dense", for Keras' default layer names; empty if unknown
    // For the weight of a Dense that reads a Flatten of an [H, W, C] map: {H, W, C}. typenet
    // flattens (h, w, c); PyTorch (c, h, w), so loading from PyTorch permutes its columns.
    std::array<std::size_t, 3> flattened_hwc{};
    bool named = false;  // the layer has a name of its own (tn::Named): Keras files use it as is
};

namespace detail {

// The fusion predicate: a linear Dense (or any layer exposing forward_with) directly followed
// by an activation layer runs that activation in its own epilogue.
template <class L, class Next>
inline constexpr bool fuses_activation = [] {
    if constexpr (is_activation_layer<Next>::value && requires { L::absorbs_activation; }) return L::absorbs_activation;
    else return false;
}();

template <class L, class Act>
std::string kernel_name_of() {
    if constexpr (requires { L::template kernel_name<Act>(); }) return L::template kernel_name<Act>();
    else if constexpr (layer_aliasing<L>() == LayerAliasing::view) return "view (no copy)";
    else if constexpr (layer_aliasing<L>() == LayerAliasing::in_place) return "in place";
    else return "own kernel";
}

template <class L>
consteval auto own_activation_of() {
    if constexpr (requires { typename L::activation; }) return std::type_identity<typename L::activation>{};
    else return std::type_identity<linear>{};
}
// act(L(in)) into a slice: out's rows (its last axis) ldo floats apart. Act is the activation
// fused into the kernel (void: the layer's own). A block runs its own fusions.
template <class L, class In, class Act = void>
void forward_into_slice(const float* params, const float* in, float* out, std::size_t rows, float* scratch, std::size_t ldo) {
    if constexpr (requires { L::template forward_strided<In>(params, in, out, rows, scratch, ldo); }) {
        L::template forward_strided<In>(params, in, out, rows, scratch, ldo);
    } else {
        using A = typename std::conditional_t<std::is_void_v<Act>, decltype(own_activation_of<L>()), std::type_identity<Act>>::type;
        L::template forward_strided<In, A>(params, in, out, rows, scratch, ldo);
    }
}

// A chain whose shapes are all known and valid: the execution and memory machinery.
template <class In, class... Ls>
struct Chain {
    using shapes = typename trace_t<In, Ls...>::shapes;  // N + 1 shapes
    using layers = std::tuple<Ls...>;
    static constexpr std::size_t size = sizeof...(Ls);
    using chain_type = Chain;
    template <std::size_t I> using bound = Bound<std::tuple_element_t<I, layers>, std::tuple_element_t<I, shapes>>;
    using out_shape = std::tuple_element_t<size, shapes>;

    template <std::size_t I> using layer = std::tuple_element_t<I, layers>;

    // Fusion, decided per layer by named predicates:
    //   folds_bn<I>:   layer I is a linear Conv/Dense and I + 1 a BatchNorm; the BatchNorm is
    //                  folded into layer I's weights and bias when they are packed.
    //   fuses_next<I>: layer I runs the activation layer that follows it (after a folded
    //                  BatchNorm, if any) in its epilogue.
    //   fused_away<J>: layer J costs nothing: it was folded or fused into an earlier layer.
    template <std::size_t I>
    static constexpr bool folds_bn = [] {
        if constexpr (I + 1 < size) {
            if constexpr (is_batch_norm<layer<I + 1>>::value && requires { layer<I>::absorbs_batchnorm; })
                return layer<I>::absorbs_batchnorm;
            else
                return false;
        } else {
            return false;
        }
    }();
    template <std::size_t I>
    static constexpr std::size_t absorbed_activation = [] {
        constexpr std::size_t j = I + 1 + (folds_bn<I> ? 1 : 0);
        if constexpr (j < size) return fuses_activation<layer<I>, layer<j>> ? j : size;
        else return size;
    }();
    template <std::size_t I> static constexpr bool fuses_next = absorbed_activation<I> < size;
    template <std::size_t J>
    static constexpr bool fused_away = [] {
        if constexpr (J == 0) return false;
        else if constexpr (folds_bn<J - 1> || absorbed_activation<J - 1> == J) return true;
        else if constexpr (J >= 2) return absorbed_activation<J - 2> == J;
        else return false;
    }();

    template <std::size_t... I>
    static consteval auto make_plan(std::index_sequence<I...>) {
        return plan_memory<size>(std::array<std::size_t, size + 1>{In::size, bound<I>::out_shape::size...},
                                 std::array<LayerAliasing, size>{bound<I>::aliasing...},
                                 std::array<std::size_t, size>{bound<I>::scratch_per_row...},
                                 std::array<std::size_t, size>{bound<I>::scratch_fixed...});
    }
    static constexpr MemoryPlan<size> plan = make_plan(std::make_index_sequence<size>{});

    template <std::size_t... I>
    static consteval auto make_offsets(std::index_sequence<I...>, bool packed) {
        std::array<std::size_t, size + 1> off{};
        std::size_t k = 0;
        ((off[I] = k, k += packed ? bound<I>::packed_floats : bound<I>::canonical_floats), ...);
        off[size] = k;
        return off;
    }
    static constexpr auto packed_offset = make_offsets(std::make_index_sequence<size>{}, true);
    static constexpr auto canonical_offset = make_offsets(std::make_index_sequence<size>{}, false);
    static constexpr std::size_t packed_floats = packed_offset[size];
    static constexpr std::size_t canonical_floats = canonical_offset[size];
    static constexpr std::size_t flops = [] {
        return [&]<std::size_t... I>(std::index_sequence<I...>) { return (std::size_t{0} + ... + bound<I>::flops); }(
            std::make_index_sequence<size>{});
    }();
    // Every intermediate activation, nested blocks' included, in a buffer of its own.
    static constexpr std::size_t naive_floats = [] {
        return [&]<std::size_t... I>(std::index_sequence<I...>) {
            return (plan.naive_floats + ... + bound<I>::nested_naive_floats);
        }(std::make_index_sequence<size>{});
    }();

    // Runs the chain on `rows` samples. `arena` holds plan.arena_floats(rows) floats.
    static void run(const float* params, const float* in, float* out, std::size_t rows, float* arena) {
        [&]<std::size_t... I>(std::index_sequence<I...>) { (step<I>(params, in, out, rows, arena), ...); }(
            std::make_index_sequence<size>{});
    }

    template <std::size_t J>
    static float* location(const float* in, float* out, std::size_t rows, float* arena) noexcept {
        if constexpr (plan.where[J] == Where::input) return const_cast<float*>(in);  // only views alias the input
        else if constexpr (plan.where[J] == Where::output) return out;
        else return arena + plan.offset[J] * rows;
    }

    template <std::size_t I>
    static void step(const float* params, const float* in, float* out, std::size_t rows, float* arena) {
        if constexpr (!fused_away<I>) {
            const float* src = location<I>(in, out, rows, arena);
            float* dst = location<I + 1>(in, out, rows, arena);
            using B = bound<I>;
            float* scratch = arena + plan.activation_floats * rows;
            if constexpr (fuses_next<I>) {
                using Act = typename layer<absorbed_activation<I>>::activation;
                using L = typename B::layer;
                using S = typename B::in_shape;
                if constexpr (requires { L::template forward_with<S, Act>(params, src, dst, rows, scratch); })
                    L::template forward_with<S, Act>(params + packed_offset[I], src, dst, rows, scratch);
                else
                    L::template forward_with<S, Act>(params + packed_offset[I], src, dst, rows);
            } else {
                B::forward(params + packed_offset[I], src, dst, rows, scratch);
            }
        }
    }

    // The layer whose kernel writes the chain's output: the last layer, or the layer it was
    // folded or fused into. When that kernel can add a residual in its epilogue (and has no
    // activation fused already, which would have to come after the add), so can the chain.
    template <std::size_t J>
    static constexpr std::size_t absorber_index() {
        if constexpr (fused_away<J>) return absorber_of<J>();
        else return J;
    }
    static constexpr std::size_t producer = absorber_index<size - 1>();
    static constexpr bool can_absorb_add = [] {
        if constexpr (fuses_next<producer>) return false;
        else return absorbs_add<layer<producer>, typename bound<producer>::in_shape>();
    }();
    // run, with the producer adding `add` and applying Act in its epilogue.
    template <class Act>
    static void run_add(const float* params, const float* in, float* out, std::size_t rows, float* arena, const float* add) {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            ([&] {
                 if constexpr (I == producer) {
                     using B = bound<I>;
                     B::layer::template forward_add<typename B::in_shape, Act>(params + packed_offset[I], location<I>(in, out, rows, arena),
                                                                               location<I + 1>(in, out, rows, arena), rows,
                                                                               arena + plan.activation_floats * rows, add);
                 } else {
                     step<I>(params, in, out, rows, arena);
                 }
             }(),
             ...);
        }(std::make_index_sequence<size>{});
    }

    // The chain can write its output into a slice (rows ldo floats apart) when its producer can
    // and writes the chain's output buffer directly (everything after it is fused away).
    static constexpr bool can_write_strided = [] {
        if constexpr (!writes_strided<layer<producer>, typename bound<producer>::in_shape>()) return false;
        else return plan.where[producer + 1] == Where::output;
    }();
    static void run_strided(const float* params, const float* in, float* out, std::size_t rows, float* arena, std::size_t ldo) {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            ([&] {
                 if constexpr (I == producer) {
                     using B = bound<I>;
                     using Act = typename decltype([] {
                         if constexpr (fuses_next<I>) return std::type_identity<typename layer<absorbed_activation<I>>::activation>{};
                         else return std::type_identity<void>{};
                     }())::type;
                     forward_into_slice<typename B::layer, typename B::in_shape, Act>(params + packed_offset[I], location<I>(in, out, rows, arena),
                                                                                    out, rows, arena + plan.activation_floats * rows, ldo);
                 } else {
                     step<I>(params, in, out, rows, arena);
                 }
             }(),
             ...);
        }(std::make_index_sequence<size>{});
    }

    static void pack(const float* canonical, float* packed) {
        [&]<std::size_t... I>(std::index_sequence<I...>) { (pack_one<I>(canonical, packed), ...); }(
            std::make_index_sequence<size>{});
    }
    template <std::size_t I>
    static void pack_one(const float* canonical, float* packed) {
        bound<I>::pack(canonical + canonical_offset[I], packed + packed_offset[I]);
        if constexpr (folds_bn<I>) {
            // W'[o] = W[o] * scale[o], b'[o] = b[o] * scale[o] + shift[o]; weight is the first
            // parameter, its leading axis the output channels.
            using L = layer<I>;
            using S = typename bound<I>::in_shape;
            constexpr std::size_t channels = L::template out_channels<S>;
            constexpr std::size_t wsize = bound<I>::params[0].size(), row = wsize / channels;
            const float* w = canonical + canonical_offset[I];
            const float* b = bound<I>::params.size() > 1 ? w + wsize : nullptr;
            std::vector<float> scale(channels), shift(channels), fw(w, w + wsize), fb(channels);
            layer<I + 1>::scale_shift(canonical + canonical_offset[I + 1], channels, scale.data(), shift.data());
            for (std::size_t o = 0; o < channels; ++o) {
                for (std::size_t k = 0; k < row; ++k) fw[o * row + k] *= scale[o];
                fb[o] = (b ? b[o] : 0.f) * scale[o] + shift[o];
            }
            L::template pack_with_bias<S>(fw.data(), fb.data(), packed + packed_offset[I]);
        }
    }

    static void describe(std::vector<LayerInfo>& rows, const std::string& prefix, std::size_t depth) {
        [&]<std::size_t... I>(std::index_sequence<I...>) { (describe_one<I>(rows, prefix, depth), ...); }(
            std::make_index_sequence<size>{});
    }
    template <std::size_t J>
    static constexpr std::size_t absorber_of() {
        if constexpr (J >= 2) {
            if constexpr (absorbed_activation<J - 2> == J) return J - 2;
        }
        return J - 1;
    }
    template <std::size_t I>
    static void describe_one(std::vector<LayerInfo>& rows, const std::string& prefix, std::size_t depth) {
        using B = bound<I>;
        using L = typename B::layer;
        LayerInfo info{prefix + segment<I>(), B::composite ? block_display_name<L>() : layer_name<L>(), B::out_shape::str(), B::canonical_floats, B::flops, {}, depth, {}, {}};
        if constexpr (fused_away<I>) info.kernel = "fused into " + prefix + std::to_string(absorber_of<I>());
        else if constexpr (fuses_next<I>) info.kernel = kernel_name_of<L, typename layer<absorbed_activation<I>>::activation>();
        else if constexpr (requires { L::activation; } || requires { typename L::activation; }) info.kernel = kernel_name_of<L, typename L::activation>();
        else info.kernel = kernel_name_of<L, linear>();
        if constexpr (folds_bn<I>) info.kernel += " (batchnorm folded)";
        if constexpr (B::composite) info.kernel = "block";
        rows.push_back(std::move(info));
        if constexpr (B::composite) L::template describe<typename B::in_shape>(rows, prefix + segment<I>() + ".", depth + 1);
    }

    static void params(std::vector<ParamInfo>& out, const std::string& prefix, std::size_t base) {
        [&]<std::size_t... I>(std::index_sequence<I...>) { (params_one<I>(out, prefix, base), ...); }(
            std::make_index_sequence<size>{});
    }
    // Whether a spatial layer (convolution, pooling, ...) comes before layer I: after one, a
    // PyTorch model's activations are channels-first.
    template <std::size_t I>
    static constexpr bool spatial_before = [] {
        return [&]<std::size_t... J>(std::index_sequence<J...>) { return (requires { layer<J>::spatial; } || ...); }(
            std::make_index_sequence<I>{});
    }();
    // The Flatten whose output reaches layer I through nothing but Dropouts, or I if none.
    template <std::size_t I>
    static constexpr std::size_t flatten_feeding() {
        std::size_t found = I;
        [&]<std::size_t... J>(std::index_sequence<J...>) {
            bool through = true;  // walking back from I - 1
            ((through = through && (found == I) && [&] {
                  constexpr std::size_t k = I - 1 - J;
                  if constexpr (std::is_same_v<layer<k>, Flatten>) {
                      found = k;
                      return false;
                  } else {
                      return is_dropout<layer<k>>::value;
                  }
              }()),
             ...);
        }(std::make_index_sequence<I>{});
        return found;
    }
    // A layer's path segment: its own name (tn::Named) or its index, as nn.Sequential does.
    template <std::size_t I>
    static std::string segment() {
        if constexpr (requires { layer<I>::label; }) return layer<I>::label.str();
        else return std::to_string(I);
    }
    template <std::size_t I>
    static void params_one(std::vector<ParamInfo>& out, const std::string& prefix, std::size_t base) {
        using B = bound<I>;
        const std::string path = prefix + segment<I>() + ".";
        if constexpr (B::composite) {
            B::layer::template param_infos<typename B::in_shape>(out, path, base + canonical_offset[I]);
        } else {
            std::size_t off = base + canonical_offset[I];
            std::string_view keras_class;
            if constexpr (requires { B::layer::keras_class; }) keras_class = B::layer::keras_class;
            for (const ParamSpec& p : B::params) {
                out.push_back(ParamInfo{path + std::string(p.name), p, off, prefix + segment<I>(), keras_class, {},
                                        requires { layer<I>::label; }});
                off += p.size();
            }
            if constexpr (B::params.size() > 0 && B::params[0].keras_layout == KerasLayout::transpose) {
                constexpr std::size_t f = flatten_feeding<I>();
                if constexpr (f < I) {
                    using Flat = bound<f>;
                    if constexpr (Flat::in_shape::rank == 3 && spatial_before<f>)
                        out[out.size() - B::params.size()].flattened_hwc = {Flat::in_shape::dims[0], Flat::in_shape::dims[1],
                                                                             Flat::in_shape::dims[2]};
                }
            }
        }
    }
};

// The layer protocol of a chain, for any input shape it accepts.
template <class... Ls>
struct ChainLayer {
    static std::string block_name() { return "Sequential"; }
    template <class In> static constexpr bool accepts = trace_ok<In, Ls...>;
    template <class In> static constexpr bool reports_own_errors = true;
    template <class In> using output_shape_for = typename Chain<In, Ls...>::out_shape;
    template <class In> static constexpr std::size_t flops_for = Chain<In, Ls...>::flops;
    template <class In> static constexpr std::size_t canonical_size_for = Chain<In, Ls...>::canonical_floats;
    template <class In> static constexpr std::size_t packed_size_for = Chain<In, Ls...>::packed_floats;
    // Its arena, as an upper bound of the form per_row * rows + fixed.
    template <class In>
    static constexpr std::size_t scratch_size_for =
        Chain<In, Ls...>::plan.activation_floats + Chain<In, Ls...>::plan.max_scratch_per_row();
    template <class In> static constexpr std::size_t scratch_fixed_for = Chain<In, Ls...>::plan.max_scratch_fixed();
    template <class In> static void pack(const float* c, float* p) { Chain<In, Ls...>::pack(c, p); }
    template <class In>
    static void forward(const float* params, const float* in, float* out, std::size_t rows, float* scratch) {
        Chain<In, Ls...>::run(params, in, out, rows, scratch);
    }
    template <class In> static constexpr bool absorbs_add_for = Chain<In, Ls...>::can_absorb_add;
    template <class In> static constexpr std::size_t naive_size_for = Chain<In, Ls...>::naive_floats;
    template <class In> static constexpr bool writes_strided_for = Chain<In, Ls...>::can_write_strided;
    template <class In>
    static void forward_strided(const float* params, const float* in, float* out, std::size_t rows, float* scratch, std::size_t ldo) {
        Chain<In, Ls...>::run_strided(params, in, out, rows, scratch, ldo);
    }
    template <class In, class Act>
    static void forward_add(const float* params, const float* in, float* out, std::size_t rows, float* scratch, const float* add) {
        Chain<In, Ls...>::template run_add<Act>(params, in, out, rows, scratch, add);
    }
    template <class In>
    static void describe(std::vector<LayerInfo>& rows, const std::string& prefix, std::size_t depth) {
        Chain<In, Ls...>::describe(rows, prefix, depth);
    }
    template <class In>
    static void param_infos(std::vector<ParamInfo>& out, const std::string& prefix, std::size_t base) {
        Chain<In, Ls...>::params(out, prefix, base);
    }
};

struct no_chain {
    using chain_type = void;
};

struct invalid_shape {
    static std::string str() { return "<invalid>"; }
    static constexpr std::size_t size = 0;
};

}  // namespace detail

template <class... Layers>
struct Sequential : detail::ChainLayer<Layers...> {
    static_assert(sizeof...(Layers) > 0, "typenet: Sequential needs at least one layer");
    static constexpr bool is_model = false;
};

// A model: the input shape is fixed, so everything else is a constant.
template <std::size_t... D, class... Layers>
struct Sequential<Input<D...>, Layers...> : detail::ChainLayer<Layers...> {
    static_assert(sizeof...(Layers) > 0, "typenet: a model needs at least one layer after its Input");
    using input_shape_type = Shape<D...>;
    static constexpr bool is_model = true;
    // The shape trace, right here in the class body: a shape error is reported with as few
    // instantiation notes between it and the user's line as possible.
    using trace_type = decltype((detail::ShapeTrace<input_shape_type>{} | ... | detail::Step<Layers>{}));
    static constexpr bool valid = !std::is_same_v<trace_type, detail::FailedTrace>;

    // As a layer inside another model, it takes exactly its own input shape.
    template <class In> static constexpr bool accepts = In{} == input_shape_type{} && detail::trace_ok<In, Layers...>;
    template <class In> static constexpr bool reports_own_errors = In{} == input_shape_type{};
    template <class In> using expected_input = input_shape_type;

    using chain_type = typename std::conditional_t<valid, detail::Chain<input_shape_type, Layers...>, detail::no_chain>::chain_type;  // void when invalid
    using output_shape_type = typename decltype([] {
        if constexpr (valid) return std::type_identity<typename chain_type::out_shape>{};
        else return std::type_identity<detail::invalid_shape>{};
    }())::type;

    static constexpr input_shape_type input_shape{};
    static constexpr output_shape_type output_shape{};

    static constexpr std::size_t param_count = [] {
        if constexpr (valid) return chain_type::canonical_floats;
        else return std::size_t{0};
    }();
    static constexpr std::size_t flops = [] {
        if constexpr (valid) return chain_type::flops;
        else return std::size_t{0};
    }();
    static constexpr std::size_t weight_bytes = param_count * sizeof(float);
    // Activation workspace of one sample: the arena the memory plan needs.
    static constexpr std::size_t workspace_bytes = [] {
        if constexpr (valid) return chain_type::plan.arena_floats(1) * sizeof(float);
        else return std::size_t{0};
    }();
    // What it would take with every intermediate activation in its own buffer.
    static constexpr std::size_t naive_workspace_bytes = [] {
        if constexpr (valid) return chain_type::naive_floats * sizeof(float);
        else return std::size_t{0};
    }();

    // The program Net runs: one input, one output.
    static constexpr std::size_t n_inputs = 1, n_outputs = 1;
    using input_shapes = std::tuple<input_shape_type>;
    using output_shapes = std::tuple<output_shape_type>;
    template <std::size_t> using input_shape_at = input_shape_type;
    template <std::size_t> using output_shape_at = output_shape_type;
    struct program {
        static constexpr std::size_t packed_floats = chain_type::packed_floats;
        static constexpr std::size_t canonical_floats = chain_type::canonical_floats;
        static constexpr std::size_t arena_floats(std::size_t rows) { return chain_type::plan.arena_floats(rows); }
        static void run(const float* params, const float* const* ins, float* const* outs, std::size_t rows, float* arena) {
            chain_type::run(params, ins[0], outs[0], rows, arena);
        }
        static void pack(const float* c, float* p) { chain_type::pack(c, p); }
        static void params(std::vector<ParamInfo>& out, const std::string& prefix, std::size_t base) {
            chain_type::params(out, prefix, base);
        }
        static void describe(std::vector<LayerInfo>& rows, const std::string& prefix, std::size_t depth) {
            chain_type::describe(rows, prefix, depth);
        }
    };
};

}  // namespace typenet

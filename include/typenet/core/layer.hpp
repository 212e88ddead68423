// The Layer role. A layer is a type L that, for an input shape In, provides:
//
//   template <class In> using output_shape_for = Shape<...>;                  // the shape rule
//   template <class In> static void forward(const float* params,              // packed weights
//                                           const float* in, float* out,      // rows x In::size
//                                           std::size_t rows);                // -> rows x Out::size
//
// and optionally (defaults in brackets):
//
//   template <class In> static constexpr std::array<ParamSpec, K> params_for  [none]
//   template <class In> static constexpr std::size_t flops_for                [0]
//   template <class In> static constexpr bool accepts                         [true]
//   template <class In> using expected_input = ...       what to say when !accepts [In]
//   template <class In> static constexpr std::size_t packed_size_for  [sum of params]
//   template <class In> static void pack(const float* canonical, float* packed)    [copy]
//   template <class In> static constexpr std::size_t scratch_size_for  per-sample scratch [0]
//   template <class In> static constexpr std::size_t scratch_fixed_for per-call scratch   [0]
//   template <class In> static constexpr std::size_t scratch_most_for  the scratch never
//     exceeds this, whatever the rows (per row x rows + fixed grows without end) [no bound]
//     (with scratch, forward takes a fifth argument: float* scratch)
//   static constexpr LayerAliasing aliasing                                    [separate]
//   static std::string name()                                         [the type's name]
//   template <class In> static constexpr std::size_t state_size_for   streamed state per row [0]
//     (with state, forward takes a sixth argument: float* state, rows x state_size_for
//     floats holding the state before the call and left holding the state after it: a
//     recurrent layer's hidden vectors, a causal convolution's past inputs; zeros are the
//     initial state of a whole sequence. It must not depend on the sequence's length.)
//   template <class In> static constexpr bool streams_for              [false]
//     (the layer computes each time step of a sequence [T, ...] from that step and its state
//     alone, the same for any T: it can run one step, or a block of steps, at a time)
//
// This is typenet's analogue of Keras subclassing: a user type that satisfies it plugs into
// Sequential, summaries, initialisation and weight loading exactly like Dense does.
#pragma once
#include <array>
#include <concepts>
#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>

#include "shape.hpp"
#include "type_name.hpp"

namespace typenet {

enum class Init { zeros, ones, glorot_uniform };

// How a parameter is laid out in Keras, relative to typenet's canonical (PyTorch) layout.
enum class KerasLayout {
    same,            // biases, BatchNorm vectors
    transpose,       // Dense kernel: Keras [in, out], canonical [out, in]
    conv,            // Conv2D kernel: Keras [kh, kw, in/g, out], canonical [out, in/g, kh, kw]
    depthwise,       // DepthwiseConv2D: Keras [kh, kw, in, mult], canonical [in * mult, 1, kh, kw]
    conv_transpose,  // Conv2DTranspose: Keras [kh, kw, out, in], canonical [in, out, kh, kw]
    conv1d,          // Conv1D kernel: Keras [k, in/g, out], canonical [out, in/g, k]
    depthwise1d,     // DepthwiseConv1D: Keras [k, in, mult], canonical [in * mult, 1, k]
    gates,           // recurrent kernels: Keras [in, G*U], canonical [G*U, in]; gates reordered
    gate_vector,     // recurrent biases: Keras [R, G*U] (R = keras_rows > 1) or [G*U]; gates reordered
};

// One learnable tensor of a layer, in the canonical (PyTorch) layout: Dense's weight is
// [out, in]. `name` is local ("weight"); the model prefixes the layer's path ("2.weight").
struct ParamSpec {
    std::string_view name;
    std::array<std::size_t, 4> dims{};
    std::size_t rank = 0;
    Init init = Init::zeros;
    std::string_view keras_name;  // "kernel", "gamma", ...; empty: the same as name
    KerasLayout keras_layout = KerasLayout::same;
    std::size_t depth_multiplier = 1;  // KerasLayout::depthwise(1d): the M of [kh, kw, C, M] or [k, C, M]
    // Recurrent layers (KerasLayout::gates / gate_vector): G gates, and whether Keras orders
    // the first two the other way round (GRU: Keras z, r, h; PyTorch r, z, n). Keras' bias
    // may hold several canonical vectors: the parameter is row keras_row of a [keras_rows,
    // G*U] tensor, and a parameter whose row an earlier one of the layer already takes is
    // not in the file: loading sets it to zero, saving adds it into that row (Keras' LSTM
    // bias is PyTorch's bias_ih + bias_hh).
    std::size_t keras_gates = 0;
    bool keras_swap_gates = false;
    std::size_t keras_rows = 1, keras_row = 0;

    constexpr ParamSpec(std::string_view n, std::initializer_list<std::size_t> d, Init i = Init::zeros,
                        std::string_view kn = {}, KerasLayout kl = KerasLayout::same)
        : name(n), rank(d.size()), init(i), keras_name(kn.empty() ? n : kn), keras_layout(kl) {
        std::size_t k = 0;
        for (std::size_t v : d) dims[k++] = v;
    }
    constexpr std::size_t size() const noexcept {
        std::size_t s = 1;
        for (std::size_t k = 0; k < rank; ++k) s = core::checked_mul(s, dims[k]);
        return s;
    }
    std::string shape_str() const {
        std::string s = "[";
        for (std::size_t k = 0; k < rank; ++k) s += (k ? ", " : "") + std::to_string(dims[k]);
        return s + "]";
    }
};

// How a layer's output may share memory with its input.
//   separate: out never aliases in (Dense).
//   in_place: forward is correct with out == in; it rewrites the values (activations).
//   view:     out is the same bytes reinterpreted (Flatten, Reshape, Dropout); forward only
//             copies when out != in. A view may even alias the model's read-only input.
enum class LayerAliasing { separate, in_place, view };

template <class L, class In>
concept LayerOn = ShapeType<In> &&
    requires { typename L::template output_shape_for<In>; } &&
    ShapeType<typename L::template output_shape_for<In>> &&
    (requires(const float* p, const float* i, float* o, std::size_t r) { L::template forward<In>(p, i, o, r); } ||
     requires(const float* p, const float* i, float* o, std::size_t r, float* s) { L::template forward<In>(p, i, o, r, s); } ||
     requires(const float* p, const float* i, float* o, std::size_t r, float* s, float* st) { L::template forward<In>(p, i, o, r, s, st); });

namespace core {

template <class L, class In>
consteval bool layer_accepts() {
    if constexpr (requires { { L::template accepts<In> } -> std::convertible_to<bool>; }) return L::template accepts<In>;
    else return true;
}

template <class L, class In>
struct expected_input_of { using type = In; };
template <class L, class In>
    requires requires { typename L::template expected_input<In>; }
struct expected_input_of<L, In> { using type = typename L::template expected_input<In>; };

template <class L, class In>
consteval auto layer_params() {
    if constexpr (requires { L::template params_for<In>; }) return L::template params_for<In>;
    else return std::array<ParamSpec, 0>{};
}

// Whether every size of layer L on In fits std::size_t: each parameter's element count,
// their sum, and the output's element count (checked once, where the layer is lowered, so
// that an overflow is one error in words rather than a wrapped number).
template <class L, class In>
consteval bool layer_sizes_fit() {
    std::size_t total = 0;
    for (const ParamSpec& p : layer_params<L, In>()) {
        std::size_t n = 1;
        for (std::size_t k = 0; k < p.rank; ++k)
            if (__builtin_mul_overflow(n, p.dims[k], &n)) return false;
        if (__builtin_add_overflow(total, n, &total)) return false;
    }
    return [&]<std::size_t... D>(Shape<D...>*) {
        std::size_t n = 1;
        return (!__builtin_mul_overflow(n, D, &n) && ...);
    }(static_cast<typename L::template output_shape_for<In>*>(nullptr));
}

template <class L>
consteval LayerAliasing layer_aliasing() {
    if constexpr (requires { { L::aliasing } -> std::convertible_to<LayerAliasing>; }) return L::aliasing;
    else return LayerAliasing::separate;
}

}  // namespace core

// ---- Capabilities: what a layer may offer the passes ------------------------------------------
//
// Each capability is a flag the layer sets (so that a policy can switch it off) and the
// members the flag promises. A flag set without the members is a compile error in words
// (passes/facts.hpp: protocol_of<L>::..._but_lacks_...), never a silently skipped pass.
//
//   folds a following BatchNorm   absorbs_batchnorm = true;  out_channels<In>;
//                                 pack_with_bias<In>(const float* weight, const float* bias, float* packed)
//   runs an activation it is      absorbs_activation = true;
//   followed by, in its epilogue  forward_with<In, Act>(params, in, out, rows[, scratch])
//   adds a residual (and then an  absorbs_add = true;
//   activation) in its epilogue   forward_add<In, Act>(params, in, out, rows, scratch, const float* add)
//   writes rows at a stride (its  writes_strided = true;
//   slice of a Concat's output)   forward_strided<In, Act>(params, in, out, rows, scratch, std::size_t ldo)
//   computes a crop of its output crops_output = true;
//   (only what its reader reads)  forward_cropped<In, Act>(params, in, out, rows, scratch, std::size_t oh, std::size_t ow):
//                                 the first oh x ow pixels of each output map, stored oh x ow
//   computes any run of rows of   computes_rows<In> = true (a 1x1 convolution: each output row from
//   its map alone                 its input row); forward_rows<In, Act>(params, in, out, std::size_t n, scratch,
//                                 const float* add = nullptr): n rows of the map (In's width and channels), plus
//                                 `add` (laid out like them) before Act, the same bits as the whole map's
//   computes a band of output     reads_rows<In>: a RowWindow {kh, stride, pad_top, unit, oh} (kh 0: not);
//   rows from its input rows held forward_band<In, Act>(params, const float* rows, std::size_t first, std::size_t n,
//   apart                         std::size_t oy0, std::size_t oy1, float* out): output rows [oy0, oy1) (whole
//                                 units of `unit` rows, or the map's end) from input rows [first, first + n)
//                                 at `rows`, written from out on
//   reads only a top-left part    input_used<In>: std::array{rows, cols} it reads (less than In's when
//   of its input map              a floor pooling's last stride leaves some out);
//                                 forward_on_crop<In>(params, in, out, rows, std::size_t h, std::size_t w):
//                                 the same output from an input stored as that h x w crop
//   reads a flattened feature     the first parameter has KerasLayout::transpose (Dense): loading
//   map (PyTorch's flatten order) from PyTorch permutes its columns when a Flatten of a spatial map feeds it
//   is spatial                    spatial = true (Conv2D, pooling): PyTorch holds its output channels-first
//   runs in place / is a view     aliasing = LayerAliasing::in_place / view
//   needs scratch                 scratch_size_for<In> (per row), scratch_fixed_for<In> (per call)
//   has a Keras layout            ParamSpec::keras_name / keras_layout, keras_class
template <class L, class In>
concept FoldsBatchNorm = requires {
    { L::absorbs_batchnorm } -> std::convertible_to<bool>;
    { L::template out_channels<In> } -> std::convertible_to<std::size_t>;
} && L::absorbs_batchnorm && requires(const float* w, const float* b, float* p) { L::template pack_with_bias<In>(w, b, p); };

template <class L, class In, class Act>
concept FusesActivation = requires { { L::absorbs_activation } -> std::convertible_to<bool>; } && L::absorbs_activation &&
    (requires(const float* p, const float* i, float* o, std::size_t r) { L::template forward_with<In, Act>(p, i, o, r); } ||
     requires(const float* p, const float* i, float* o, std::size_t r, float* s) { L::template forward_with<In, Act>(p, i, o, r, s); } ||
     requires(const float* p, const float* i, float* o, std::size_t r, float* s, float* st) { L::template forward_with<In, Act>(p, i, o, r, s, st); });

template <class L, class In, class Act>
concept AddsInEpilogue = requires { { L::absorbs_add } -> std::convertible_to<bool>; } && L::absorbs_add &&
    requires(const float* p, const float* i, float* o, std::size_t r, float* s, const float* a) { L::template forward_add<In, Act>(p, i, o, r, s, a); };

template <class L, class In, class Act>
concept WritesStrided = requires { { L::writes_strided } -> std::convertible_to<bool>; } && L::writes_strided &&
    requires(const float* p, const float* i, float* o, std::size_t r, float* s, std::size_t ldo) { L::template forward_strided<In, Act>(p, i, o, r, s, ldo); };

template <class L, class In, class Act>
concept CropsOutput = requires { { L::crops_output } -> std::convertible_to<bool>; } && L::crops_output &&
    requires(const float* p, const float* i, float* o, std::size_t r, float* s, std::size_t h, std::size_t w) {
        L::template forward_cropped<In, Act>(p, i, o, r, s, h, w);
    };

// The input rows a band of output rows reads (passes/bands.hpp): output row y reads rows
// y * stride - pad_top + [0, kh); bands are whole multiples of `unit` rows; oh output rows.
struct RowWindow {
    std::size_t kh = 0, stride = 1, pad_top = 0, unit = 1, oh = 0;
};

template <class L, class In, class Act>
concept ComputesRows = requires { { L::template computes_rows<In> } -> std::convertible_to<bool>; } && L::template computes_rows<In> &&
    requires(const float* p, const float* i, float* o, std::size_t n, float* s) { L::template forward_rows<In, Act>(p, i, o, n, s); };

template <class L, class In, class Act>
concept ReadsRowWindow = requires { { L::template reads_rows<In> } -> std::convertible_to<RowWindow>; } &&
    (L::template reads_rows<In>.kh > 0) &&
    requires(const float* p, const float* i, std::size_t n, float* o) { L::template forward_band<In, Act>(p, i, n, n, n, n, o); };

// A gate per channel from the whole input, the input times it (squeeze-and-excitation):
// gate<In>(params, in, g, scratch) for one sample. And a layer that takes such a gate into its
// weights: gate_weights<In>(packed, g, out), its packed weights with input channel k's times g[k];
// or, where gates_inputs<In> (int8: it quantizes its input as it reads it anyway), no weights of
// its own: forward_rows_gated<In, Act>(packed, g, in, out, n, add, scratch), its input times the
// gate as it quantizes each row (scratch: its own, or null).
template <class L, class In>
concept ScalesChannels = requires { { L::scales_channels } -> std::convertible_to<bool>; } && L::scales_channels &&
    requires(const float* p, const float* i, float* g, float* s) { L::template gate<In>(p, i, g, s); };
template <class L, class In>
concept TakesInputGate = requires { { L::template takes_input_gate<In> } -> std::convertible_to<bool>; } && L::template takes_input_gate<In> &&
    requires(const float* p, const float* g, float* o) { L::template gate_weights<In>(p, g, o); };
template <class L, class In>
concept GatesInputs = TakesInputGate<L, In> && requires { { L::template gates_inputs<In> } -> std::convertible_to<bool>; } && L::template gates_inputs<In>;

template <class L, class In>
concept ReadsInputCrop = requires {
    { L::template input_used<In>[0] } -> std::convertible_to<std::size_t>;
    { L::template input_used<In>[1] } -> std::convertible_to<std::size_t>;
} && requires(const float* p, const float* i, float* o, std::size_t r, std::size_t h, std::size_t w) {
    L::template forward_on_crop<In>(p, i, o, r, h, w);
};

template <class L>
concept SpatialLayer = requires { L::spatial; };

// Carries state from one call to the next (recurrent layers, causal convolutions).
template <class L, class In>
concept StatefulLayer = requires { { L::template state_size_for<In> } -> std::convertible_to<std::size_t>; } &&
    requires(const float* p, const float* i, float* o, std::size_t r, float* s, float* st) { L::template forward<In>(p, i, o, r, s, st); };

namespace core {
template <class L, class In>
consteval std::size_t layer_state_size() {
    if constexpr (StatefulLayer<L, In>) return L::template state_size_for<In>;
    else return 0;
}
template <class L, class In>
consteval bool layer_streams() {
    if constexpr (requires { { L::template streams_for<In> } -> std::convertible_to<bool>; }) return L::template streams_for<In>;
    else return false;
}

// A type as written, without "typenet::": one function for every layer (the string work in a
// template's body is compiled again for each type it names).
[[gnu::noinline]] inline std::string written_type(std::string_view type) {
    std::string s(type);
    for (std::size_t p; (p = s.find("typenet::")) != std::string::npos;) s.erase(p, 9);
    return s;
}
}  // namespace core

// Display name of a layer: its own name() if it has one, else the type as written.
template <class L>
std::string layer_name() {
    if constexpr (requires { { L::name() } -> std::convertible_to<std::string>; }) return L::name();
    else return core::written_type(type_name<L>());
}

// How a block (a layer made of layers) is shown in a summary, above its own rows: a named
// struct by its name (struct Stem : Sequential<...> {} is "Stem"), else its short kind
// ("Sequential", "Residual", "Branch<Concat>"), since its layers follow on rows of their own.
template <class L>
std::string block_display_name() {
    if constexpr (type_name<L>().find('<') == std::string_view::npos) return core::written_type(type_name<L>());
    else if constexpr (requires { { L::block_name() } -> std::convertible_to<std::string>; }) return L::block_name();
    else return layer_name<L>();
}

}  // namespace typenet

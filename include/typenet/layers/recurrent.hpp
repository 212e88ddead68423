// Recurrent layers on a sequence Input<T, F> (time by features, channels-last):
//
//   SimpleRNN<Units, Options...>   h = act(W_ih x + b_ih + W_hh h + b_hh), act tanh (or relu)
//   GRU<Units, Options...>         PyTorch's nn.GRU: gates r, z, n, the reset gate applied
//                                  after the hidden product ("linear before reset"; Keras'
//                                  reset_after=True)
//   LSTM<Units, Options...>        PyTorch's nn.LSTM: gates i, f, g, o
//
// Options: tn::return_sequences (output [T, Units] instead of the last step's [Units]),
// tn::num_layers<N> (N stacked layers, as PyTorch's num_layers), tn::bidirectional (both
// directions, concatenated: [T, 2 Units]; the last step is the final state of each direction,
// PyTorch's h_n, as Keras' Bidirectional returns it), tn::no_bias; SimpleRNN also takes relu;
// GRU takes tn::reset_before (Keras' reset_after=False: the reset gate multiplies h before
// the hidden product, n = tanh(W_in x + W_hn (r * h) + b_in + b_hn)).
//
// Parameters are PyTorch's, by the names of its state_dict: weight_ih_l{k}, weight_hh_l{k},
// bias_ih_l{k}, bias_hh_l{k}, with _reverse for the backward direction; a file with tensors
// the type does not have (a two-layer file for a one-layer type) is refused, naming them.
// Keras files (tn::from_keras) name them kernel [F, G*U], recurrent_kernel [U, G*U] and bias,
// gates in Keras' order (GRU z, r, h; LSTM i, f, c, o): the GRU's bias is [2, 3U] (input and
// recurrent rows) with reset_after and [3U] without, the LSTM's and SimpleRNN's one vector,
// PyTorch's two biases summed. A bidirectional layer's are under forward_<cls>/ and
// backward_<cls>/; layer k >= 1 of num_layers<N> (no Keras counterpart) has the suffix _l<k>.
//
// State (what a stream carries from one call to the next): PyTorch's h_n [layers x dirs,
// Units] and, for the LSTM, c_n after it. A whole sequence starts from zeros unless a state
// is given. One-directional layers stream (net.step, net.process); a bidirectional one reads
// the whole sequence and does not.
#pragma once
#include "../core/isa.hpp"
#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "../core/diagnostics.hpp"
#include "../core/layer.hpp"
#include "../core/shape.hpp"
#include "../kernels/activations.hpp"
#include "../kernels/recurrent.hpp"
#include "dense.hpp"
#include "options.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

struct return_sequences {};
struct bidirectional {};
struct reset_before {};  // GRU: Keras' reset_after=False
// The gates' sigmoid and tanh by a fast approximation (kernels/recurrent.hpp: within 1.5e-6
// absolute, against 3 ulp exact); also a policy, tn::make<M, tn::fast_activations>().
struct fast_activations {};
template <std::size_t N> struct num_layers {
    static_assert(N >= 1, "typenet: num_layers<N> needs N >= 1");
    static constexpr std::size_t value = N;
};

namespace detail {
template <class T> struct is_num_layers : std::false_type {};
template <std::size_t N> struct is_num_layers<num_layers<N>> : std::true_type {};

// "weight_ih_l3_reverse" and friends (PyTorch), "backward_gru/recurrent_kernel_l3" and
// friends (Keras), in static storage for ParamSpec's string_views: per layer and direction,
// the four PyTorch names, then the four Keras ones (both biases are "bias").
template <std::size_t Layers, std::size_t Dirs, kernels::Cell C>
struct recurrent_names {
    static constexpr std::size_t width = 48;
    static constexpr auto table = [] {
        std::array<std::array<char, width>, 8 * Layers * Dirs> t{};
        constexpr std::string_view stems[8] = {"weight_ih_l", "weight_hh_l", "bias_ih_l", "bias_hh_l",
                                               "kernel",      "recurrent_kernel", "bias", "bias"};
        constexpr std::string_view cls = C == kernels::Cell::gru ? "gru" : C == kernels::Cell::lstm ? "lstm" : "simple_rnn";
        for (std::size_t l = 0; l < Layers; ++l)
            for (std::size_t d = 0; d < Dirs; ++d)
                for (std::size_t p = 0; p < 8; ++p) {
                    auto& s = t[(l * Dirs + d) * 8 + p];
                    std::size_t n = 0;
                    auto put = [&](std::string_view v) {
                        for (char ch : v) s[n++] = ch;
                    };
                    auto put_number = [&](std::size_t v) {
                        char digits[20];
                        std::size_t nd = 0;
                        do digits[nd++] = char('0' + v % 10), v /= 10;
                        while (v);
                        while (nd) s[n++] = digits[--nd];
                    };
                    if (p < 4) {
                        put(stems[p]);
                        put_number(l);
                        if (d == 1) put("_reverse");
                    } else {
                        if (Dirs == 2) {
                            put(d == 0 ? "forward_" : "backward_");
                            put(cls);
                            put("/");
                        }
                        put(stems[p]);
                        if (l > 0) {
                            put("_l");
                            put_number(l);
                        }
                    }
                }
        return t;
    }();
    static constexpr std::string_view name(std::size_t i) {
        std::size_t n = 0;
        while (table[i][n]) ++n;
        return {table[i].data(), n};
    }
};
}  // namespace detail

template <kernels::Cell C, std::size_t Units, class... Options>
struct Recurrent {
    static_assert(Units > 0, "typenet: a recurrent layer needs at least one unit");
    static constexpr kernels::Cell cell = C;
    static constexpr std::size_t units = Units;
    static constexpr std::size_t layers = detail::find_option_t<detail::is_num_layers, num_layers<1>, Options...>::value;
    static constexpr std::size_t dirs = detail::has_option<bidirectional, Options...> ? 2 : 1;
    static constexpr bool sequences = detail::has_option<return_sequences, Options...>;
    static constexpr bool bias = !detail::has_option<no_bias, Options...>;
    using activation = typename detail::activation_option<tanh, Options...>::type;
    static_assert(C == kernels::Cell::rnn || std::is_same_v<activation, tanh>,
                  "typenet: GRU and LSTM have their own activations; only SimpleRNN takes one (tanh or relu)");
    static_assert(std::is_same_v<activation, tanh> || std::is_same_v<activation, relu>,
                  "typenet: SimpleRNN's activation is tanh or relu, as PyTorch's nn.RNN nonlinearity");
    static constexpr std::size_t G = kernels::cell_gates<C>;
    static constexpr std::size_t state_vectors = C == kernels::Cell::lstm ? 2 : 1;  // h, and c
    static constexpr bool reset_after = !detail::has_option<reset_before, Options...>;
    static constexpr bool fast = detail::has_option<fast_activations, Options...>;
    static_assert(reset_after || C == kernels::Cell::gru, "typenet: reset_before is an option of GRU only");
    // bf16_weights: W_hh in bf16 (the hidden product of every step streams half the bytes, and
    // with vdpbf16ps issues half the instructions); W_ih, biases and the state stay fp32. Only
    // layers of at least min_bf16_units: a smaller one (an LSTM's gates packed two to a vector)
    // waits on its gates' latency, not on its few products.
    static constexpr std::size_t min_bf16_units = 16;
    static constexpr bool bf16 = detail::has_option<bf16_weights, Options...>;
    static constexpr bool names_precision = bf16 || detail::has_option<fp32_weights, Options...>;
    // Checked where the model is composed, so that the error is reported once, in words.
    using invalid_options = std::conditional_t<
        detail::has_option<int8_weights, Options...> || (bf16 && detail::has_option<fp32_weights, Options...>),
        recurrent_layers_take_bf16_or_fp32_weights,
        std::conditional_t<bf16 && Units < min_bf16_units, bf16_weights_is_for_recurrent_layers_of_16_units_or_more, void>>;
    static constexpr std::string_view keras_class = dirs == 2                   ? "bidirectional"
                                                    : C == kernels::Cell::gru  ? "gru"
                                                    : C == kernels::Cell::lstm ? "lstm"
                                                                               : "simple_rnn";

    template <class In> static constexpr bool accepts = In::rank == 2;
    template <class In> using expected_input = shape_of_rank<2>;
    template <class In> static constexpr std::size_t steps = In::dims[0];
    template <class In> static constexpr std::size_t features = In::dims[In::rank - 1];
    template <class In> struct out_shape { using type = Shape<dirs * Units>; };
    template <class In> requires(sequences && In::rank == 2) struct out_shape<In> { using type = Shape<In::dims[0], dirs * Units>; };
    template <class In> using output_shape_for = typename out_shape<In>::type;

    // Inputs of layer l: the sequence's features, then the layer below's outputs.
    template <class In> static constexpr std::size_t layer_in(std::size_t l) { return l == 0 ? features<In> : dirs * Units; }

    template <class In>
    static constexpr auto params_for = []<std::size_t... I>(std::index_sequence<I...>) {
        using names = detail::recurrent_names<layers, dirs, C>;
        constexpr std::size_t per = bias ? 4 : 2;  // tensors per layer and direction
        auto spec = [](std::size_t i) {
            const std::size_t ld = i / per, which = i % per, l = ld / dirs;
            const std::string_view name = names::name(ld * 8 + which), keras = names::name(ld * 8 + 4 + which);
            ParamSpec p = which == 0   ? ParamSpec{name, {G * Units, layer_in<In>(l)}, Init::glorot_uniform, keras, KerasLayout::gates}
                          : which == 1 ? ParamSpec{name, {G * Units, Units}, Init::glorot_uniform, keras, KerasLayout::gates}
                                       : ParamSpec{name, {G * Units}, Init::zeros, keras, KerasLayout::gate_vector};
            p.keras_gates = G;
            p.keras_swap_gates = C == kernels::Cell::gru;
            if (which >= 2 && C == kernels::Cell::gru && reset_after) p.keras_rows = 2, p.keras_row = which - 2;
            return p;
        };
        return std::array<ParamSpec, sizeof...(I)>{spec(I)...};
    }(std::make_index_sequence<(bias ? 4 : 2) * layers * dirs>{});
    template <class In>
    static constexpr std::size_t flops_for = [] {
        std::size_t f = 0;
        for (std::size_t l = 0; l < layers; ++l) f += dirs * 2 * G * Units * (layer_in<In>(l) + Units);
        return f * steps<In>;
    }();

    // Packed: one block per layer and direction, each starting on a cache line.
    template <class In, std::size_t L>
    using packing = kernels::RecurrentPacking<C, (L == 0 ? features<In> : dirs * Units), Units>;
    template <class In>
    static constexpr auto packed_offsets = [] {
        std::array<std::size_t, layers * dirs + 1> off{};
        std::size_t at = 0;
        [&]<std::size_t... L>(std::index_sequence<L...>) {
            (([&] {
                 for (std::size_t d = 0; d < dirs; ++d) {
                     off[L * dirs + d] = at;
                     at += kernels::round_up(packing<In, L>::floats, kernels::alignment / sizeof(float));
                 }
             }()),
             ...);
        }(std::make_index_sequence<layers>{});
        off[layers * dirs] = at;
        return off;
    }();
    template <class In> static constexpr std::size_t packed_size_for = packed_offsets<In>[layers * dirs];

    template <class In>
    static void pack(const float* canonical, float* packed) noexcept {
        [&]<std::size_t... L>(std::index_sequence<L...>) {
            (([&] {
                 for (std::size_t d = 0; d < dirs; ++d) {
                     const float* w_ih = canonical;
                     const float* w_hh = w_ih + G * Units * layer_in<In>(L);
                     const float* b_ih = bias ? w_hh + G * Units * Units : nullptr;
                     const float* b_hh = bias ? b_ih + G * Units : nullptr;
                     kernels::recurrent_pack<C, (L == 0 ? features<In> : dirs * Units), Units, reset_after, bf16>(w_ih, w_hh, b_ih, b_hh,
                                                                                              packed + packed_offsets<In>[L * dirs + d]);
                     canonical = w_hh + G * Units * Units + (bias ? 2 * G * Units : 0);
                 }
             }()),
             ...);
        }(std::make_index_sequence<layers>{});
    }

    // State per sequence: h [layers * dirs][Units], then c (LSTM) likewise.
    template <class In> static constexpr std::size_t state_size_for = state_vectors * layers * dirs * Units;
    template <class In> static constexpr bool streams_for = dirs == 1;

    // Scratch: the projection of a chunk; with stacked layers, the sequences between them.
    template <class In> static constexpr std::size_t between = layers > 1 ? steps<In> * dirs * Units : 0;
    template <class In>
    static constexpr std::size_t scratch_fixed_for = kernels::round_up(kernels::recurrent_scratch<C, Units>, 16) + 2 * between<In>;

    template <class In>
    static void forward(const float* params, const float* in, float* out, std::size_t rows, float* scratch, float* state) noexcept {
        using Out = output_shape_for<In>;
        constexpr std::size_t T = steps<In>, D = dirs, hd = layers * dirs * Units;
        float* xp = scratch;
        float* buf[2] = {scratch + kernels::round_up(kernels::recurrent_scratch<C, Units>, 16), nullptr};
        buf[1] = buf[0] + between<In>;
        for (std::size_t r = 0; r < rows; ++r) {
            const float* x = in + r * In::size;
            float* y = out + r * Out::size;
            float* h = state + r * state_size_for<In>;
            float* c = C == kernels::Cell::lstm ? h + hd : nullptr;
            [&]<std::size_t... L>(std::index_sequence<L...>) {
                (([&] {
                     constexpr std::size_t Fl = L == 0 ? features<In> : D * Units;
                     const float* src = L == 0 ? x : buf[(L - 1) % 2];
                     float* dst = L + 1 < layers ? buf[L % 2] : (sequences ? y : nullptr);
                     for (std::size_t d = 0; d < D; ++d) {
                         const std::size_t s = (L * D + d) * Units;
                         kernels::recurrent_run<C, Fl, Units, activation, reset_after, fast, bf16>(params + packed_offsets<In>[L * D + d], src, T, Fl,
                                                                          dst ? dst + d * Units : nullptr, D * Units, h + s,
                                                                          c ? c + s : nullptr, d == 1, xp);
                     }
                 }()),
                 ...);
            }(std::make_index_sequence<layers>{});
            if constexpr (!sequences) std::copy_n(h + (layers - 1) * D * Units, D * Units, y);  // the last layer's h_n
        }
    }

    static std::string name() {
        std::string s = C == kernels::Cell::gru ? "GRU<" : C == kernels::Cell::lstm ? "LSTM<" : "SimpleRNN<";
        s += std::to_string(Units);
        if constexpr (C == kernels::Cell::rnn && std::is_same_v<activation, relu>) s += ", relu";
        if constexpr (sequences) s += ", return_sequences";
        if constexpr (layers > 1) s += ", num_layers<" + std::to_string(layers) + ">";
        if constexpr (dirs == 2) s += ", bidirectional";
        if constexpr (!reset_after) s += ", reset_before";
        if constexpr (fast) s += ", fast_activations";
        if constexpr (bf16) s += ", bf16_weights";
        if constexpr (!bias) s += ", no_bias";
        return s + ">";
    }
    template <class Act = linear>
    static std::string kernel_name() {
        return std::string(C == kernels::Cell::gru ? "gru" : C == kernels::Cell::lstm ? "lstm" : "rnn") + (bf16 ? "_bf16" : "");
    }
};

// Types of their own (not aliases), so that diagnostics and summaries name them as written.
template <std::size_t Units, class... Options> struct SimpleRNN : Recurrent<kernels::Cell::rnn, Units, Options...> {};
template <std::size_t Units, class... Options> struct GRU : Recurrent<kernels::Cell::gru, Units, Options...> {};
template <std::size_t Units, class... Options> struct LSTM : Recurrent<kernels::Cell::lstm, Units, Options...> {};

}  // namespace typenet

// Layers torchvision's models use that move or pass values without arithmetic:
//
//   ChannelShuffle<G>   ShuffleNet's channel shuffle (torch.nn.ChannelShuffle(G), torchvision's
//                       channel_shuffle): the C channels as G groups of C / G, transposed, so
//                       output channel j G + g is input channel g (C / G) + j.
//   ChannelSlice<B, E>  channels B .. E - 1 of the last axis (ShuffleNet's x.chunk(2, dim=1):
//                       ChannelSlice<0, C/2> and ChannelSlice<C/2, C> on the same node).
//   Identity            nn.Identity (a classifier head removed, a skipped block).
//   StochasticDepth<..> torchvision's StochasticDepth(p, mode): the identity at inference, kept
//                       as a layer so that a model reads as it was trained (like Dropout).
#pragma once
#include "../core/isa.hpp"
#include <algorithm>
#include <cstddef>
#include <string>

#include "../core/diagnostics.hpp"
#include "../core/layer.hpp"
#include "../core/shape.hpp"
#include "../kernels/activations.hpp"
#include "view.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

template <std::size_t G>
struct ChannelShuffle {
    static_assert(G > 0, "typenet: ChannelShuffle<0> has no groups");
    template <class In> static constexpr std::size_t channels = In::dims[In::rank - 1];
    template <class In> static constexpr bool accepts = In::rank >= 1 && channels<In> % G == 0;
    template <class In> using expected_input = channels_divisible_by<G>;
    template <class In> using output_shape_for = In;
    template <class In> static constexpr bool streams_for = true;  // within each step
    template <class In>
    static void forward(const float*, const float* in, float* out, std::size_t rows) noexcept {
        constexpr std::size_t C = channels<In>, per = C / G;
        const std::size_t pixels = rows * (In::size / C);
        for (std::size_t p = 0; p < pixels; ++p, in += C, out += C) {
            if constexpr (G == 2) {  // ShuffleNet's: the two halves interleaved
                kernels::interleave_pairs(in, in + per, out, per);
            } else {
                for (std::size_t g = 0; g < G; ++g)
                    for (std::size_t j = 0; j < per; ++j) out[j * G + g] = in[g * per + j];
            }
        }
    }
    static std::string name() { return "ChannelShuffle<" + std::to_string(G) + ">"; }
};

// (The error names the slice and the channels it needs: at_layer<...>::expects_input<channels_at_least<E>>.)
template <std::size_t E> struct channels_at_least {};

template <std::size_t Begin, std::size_t End>
struct ChannelSlice {
    static_assert(Begin < End, "typenet: ChannelSlice<Begin, End> needs Begin < End");
    template <class In> static constexpr bool accepts = In::rank >= 1 && In::dims[In::rank - 1] >= End;
    template <class In> using expected_input = channels_at_least<End>;
    template <class In>
    static constexpr auto out_dims = [] {
        auto d = In::dims;
        d[In::rank - 1] = End - Begin;
        return d;
    }();
    template <class In> using output_shape_for = shape_from_array<out_dims<In>>;
    template <class In> static constexpr bool streams_for = true;
    template <class In>
    static void forward(const float*, const float* in, float* out, std::size_t rows) noexcept {
        constexpr std::size_t C = In::dims[In::rank - 1], n = End - Begin;
        const std::size_t pixels = rows * (In::size / C);
        for (std::size_t p = 0; p < pixels; ++p, in += C, out += n) std::copy_n(in + Begin, n, out);
    }
    static std::string name() { return "ChannelSlice<" + std::to_string(Begin) + ", " + std::to_string(End) + ">"; }
};

struct Identity {
    static constexpr LayerAliasing aliasing = LayerAliasing::view;
    template <class In> using output_shape_for = In;
    template <class In> static constexpr bool streams_for = true;
    template <class In>
    static void forward(const float*, const float* in, float* out, std::size_t rows) noexcept {
        detail::view_forward<In::size>(in, out, rows);
    }
    static std::string name() { return "Identity"; }
};

// The drop probability as a ratio (StochasticDepth<1, 5> is p = 0.2); it changes nothing here.
template <long Num = 0, long Den = 1>
struct StochasticDepth : Identity {
    static_assert(Den > 0 && Num >= 0 && Num < Den, "typenet: StochasticDepth's p must be in [0, 1)");
    static std::string name() { return "StochasticDepth<" + detail::float_str(float(Num) / float(Den)) + ">"; }
};

}  // namespace typenet

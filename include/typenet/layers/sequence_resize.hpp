// Layers that change a sequence's length [T, C] (Keras' names; each repeats, adds or removes
// whole time steps, channels untouched):
//   UpSampling1D<S>           each step S times (Keras' UpSampling1D(size=S), PyTorch's
//                             nn.Upsample(scale_factor=S, mode='nearest') on [C, T])
//   ZeroPadding1D<L, R = L>   L zero steps before, R after (Keras' ZeroPadding1D((L, R)))
//   Cropping1D<L, R = L>      L steps removed at the start, R at the end; one must remain
// They read the whole sequence: a model with one of them runs whole sequences, not steps.
#pragma once
#include "../core/isa.hpp"
#include <cstddef>
#include <string>

#include "../core/diagnostics.hpp"
#include "../core/layer.hpp"
#include "../kernels/pool.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

template <std::size_t S>
struct UpSampling1D {
    static_assert(S > 0, "typenet: UpSampling1D's factor must be at least 1");
    template <class In> static constexpr bool accepts = In::rank == 2;
    template <class In> using expected_input = shape_of_rank<2>;
    template <class In> using output_shape_for = Shape<In::dims[0] * S, In::dims[1]>;
    template <class In>
    static void forward(const float*, const float* in, float* out, std::size_t rows) noexcept {
        kernels::upsample_nearest(In::dims[0], 1, In::dims[1], S, 1, in, out, rows);
    }
    static std::string name() { return "UpSampling1D<" + std::to_string(S) + ">"; }
};

template <std::size_t L, std::size_t R = L>
struct ZeroPadding1D {
    template <class In> static constexpr bool accepts = In::rank == 2;
    template <class In> using expected_input = shape_of_rank<2>;
    template <class In> using output_shape_for = Shape<In::dims[0] + L + R, In::dims[1]>;
    template <class In>
    static void forward(const float*, const float* in, float* out, std::size_t rows) noexcept {
        kernels::place2d(In::dims[0], 1, In::dims[1], In::dims[0] + L + R, 1, std::ptrdiff_t(L), 0, in, out, rows);
    }
    static std::string name() { return "ZeroPadding1D<" + std::to_string(L) + ", " + std::to_string(R) + ">"; }
};

template <std::size_t L, std::size_t R = L>
struct Cropping1D {
    template <class In>
    static consteval bool accepts_impl() {
        if constexpr (In::rank != 2) return false;
        else return In::dims[0] > L + R;
    }
    template <class In> static constexpr bool accepts = accepts_impl<In>();
    template <class In> using expected_input = std::conditional_t<In::rank == 2, sequence_length_at_least<L + R + 1>, shape_of_rank<2>>;
    template <class In> using output_shape_for = Shape<In::dims[0] - L - R, In::dims[1]>;
    template <class In>
    static void forward(const float*, const float* in, float* out, std::size_t rows) noexcept {
        kernels::place2d(In::dims[0], 1, In::dims[1], In::dims[0] - L - R, 1, -std::ptrdiff_t(L), 0, in, out, rows);
    }
    static std::string name() { return "Cropping1D<" + std::to_string(L) + ", " + std::to_string(R) + ">"; }
};

}  // namespace typenet

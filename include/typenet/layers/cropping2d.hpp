// Cropping2D<Top, Bottom, Left, Right> removes rows and columns at the edges (Keras'
// Cropping2D(((top, bottom), (left, right)))). Something must remain.
#pragma once
#include "../core/isa.hpp"
#include <cstddef>
#include <string>

#include "../core/diagnostics.hpp"
#include "../kernels/pool.hpp"
#include "../core/layer.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

template <std::size_t Top, std::size_t Bottom = Top, std::size_t Left = Top, std::size_t Right = Left>
struct Cropping2D {
    static constexpr bool spatial = true;  // PyTorch holds its output channels-first
    template <class In>
    static consteval bool accepts_impl() {
        if constexpr (In::rank != 3) return false;
        else return In::dims[0] > Top + Bottom && In::dims[1] > Left + Right;
    }
    template <class In> static constexpr bool accepts = accepts_impl<In>();
    template <class In>
    using expected_input = std::conditional_t<In::rank == 3, spatial_size_at_least<Top + Bottom + 1, Left + Right + 1>, shape_of_rank<3>>;
    template <class In> using output_shape_for = Shape<In::dims[0] - Top - Bottom, In::dims[1] - Left - Right, In::dims[2]>;
    template <class In>
    static void forward(const float*, const float* in, float* out, std::size_t rows) noexcept {
        using O = output_shape_for<In>;
        kernels::place2d(In::dims[0], In::dims[1], In::dims[2], O::dims[0], O::dims[1], -std::ptrdiff_t(Top),
                         -std::ptrdiff_t(Left), in, out, rows);
    }
    static std::string name() {
        return "Cropping2D<" + std::to_string(Top) + ", " + std::to_string(Bottom) + ", " + std::to_string(Left) + ", " +
               std::to_string(Right) + ">";
    }
};

}  // namespace typenet

// ZeroPadding2D<Top, Bottom, Left, Right> adds zero rows and columns (Keras'
// ZeroPadding2D(((top, bottom), (left, right))); ZeroPadding2D<1, 1, 1, 1> for padding=1).
#pragma once
#include "../core/isa.hpp"
#include <cstddef>
#include <string>

#include "../core/diagnostics.hpp"
#include "../kernels/pool.hpp"
#include "../core/layer.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

template <std::size_t Top, std::size_t Bottom = Top, std::size_t Left = Top, std::size_t Right = Left>
struct ZeroPadding2D {
    static constexpr bool spatial = true;  // PyTorch holds its output channels-first
    template <class In> static constexpr bool accepts = In::rank == 3;
    template <class In> using expected_input = shape_of_rank<3>;
    template <class In> using output_shape_for = Shape<In::dims[0] + Top + Bottom, In::dims[1] + Left + Right, In::dims[2]>;
    template <class In>
    static void forward(const float*, const float* in, float* out, std::size_t rows) noexcept {
        using O = output_shape_for<In>;
        kernels::place2d(In::dims[0], In::dims[1], In::dims[2], O::dims[0], O::dims[1], Top, Left, in, out, rows);
    }
    static std::string name() {
        return "ZeroPadding2D<" + std::to_string(Top) + ", " + std::to_string(Bottom) + ", " + std::to_string(Left) + ", " +
               std::to_string(Right) + ">";
    }
};

}  // namespace typenet

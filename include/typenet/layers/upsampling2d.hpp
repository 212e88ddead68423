// UpSampling2D<SH, SW>: nearest-neighbour upsampling (Keras' default interpolation, PyTorch's
// nn.Upsample(scale_factor, mode='nearest')).
#pragma once
#include "../core/isa.hpp"
#include <cstddef>
#include <string>

#include "../core/diagnostics.hpp"
#include "../kernels/pool.hpp"
#include "../core/layer.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

template <std::size_t SH, std::size_t SW = SH>
struct UpSampling2D {
    static constexpr bool spatial = true;  // PyTorch holds its output channels-first
    static_assert(SH > 0 && SW > 0, "typenet: UpSampling2D factors must be at least 1");
    template <class In> static constexpr bool accepts = In::rank == 3;
    template <class In> using expected_input = shape_of_rank<3>;
    template <class In> using output_shape_for = Shape<In::dims[0] * SH, In::dims[1] * SW, In::dims[2]>;
    template <class In>
    static void forward(const float*, const float* in, float* out, std::size_t rows) noexcept {
        kernels::upsample_nearest(In::dims[0], In::dims[1], In::dims[2], SH, SW, in, out, rows);
    }
    static std::string name() { return "UpSampling2D<" + std::to_string(SH) + ", " + std::to_string(SW) + ">"; }
};

}  // namespace typenet

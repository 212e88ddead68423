// Flatten: any shape to [size], in row-major (channels-last, NHWC) order, as Keras does.
#pragma once
#include "../core/isa.hpp"
#include <cstddef>
#include <string>

#include "../core/layer.hpp"
#include "view.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

struct Flatten {
    static constexpr LayerAliasing aliasing = LayerAliasing::view;
    template <class In> using output_shape_for = flat_shape<In>;
    template <class In>
    static void forward(const float*, const float* in, float* out, std::size_t rows) noexcept {
        detail::view_forward<In::size>(in, out, rows);
    }
    static std::string name() { return "Flatten"; }
};

}  // namespace typenet

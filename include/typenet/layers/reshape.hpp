// Reshape<Dims...>: same elements, new shape (row-major, as numpy/PyTorch reshape and Keras
// Reshape). The element counts must agree; that is checked where the model is composed.
#pragma once
#include "../core/isa.hpp"
#include <cstddef>
#include <string>

#include "../core/diagnostics.hpp"
#include "../core/layer.hpp"
#include "view.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

template <std::size_t... Dims>
struct Reshape {
    using target = Shape<Dims...>;
    static constexpr LayerAliasing aliasing = LayerAliasing::view;
    template <class In> static constexpr bool accepts = In::size == target::size;
    template <class In> using expected_input = shape_with_size<target::size>;
    template <class In> using output_shape_for = target;
    template <class In>
    static void forward(const float*, const float* in, float* out, std::size_t rows) noexcept {
        detail::view_forward<In::size>(in, out, rows);
    }
    static std::string name() { return "Reshape<" + target::str().substr(1, target::str().size() - 2) + ">"; }
};

}  // namespace typenet

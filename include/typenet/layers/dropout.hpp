// Dropout<Num, Den>: rate Num/Den (Dropout<> is 0.5, Dropout<1, 4> is 0.25); identity at inference (PyTorch eval mode, Keras training=False). Kept as a
// layer so models read as they were trained and weight indices line up with the source.
#pragma once
#include "../core/isa.hpp"
#include <cstddef>
#include <string>

#include "../kernels/activations.hpp"
#include "../core/layer.hpp"
#include "view.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

template <long Num = 1, long Den = 2>
struct Dropout {
    static constexpr float Rate = float(Num) / float(Den);
    static_assert(Rate >= 0.f && Rate < 1.f, "typenet: Dropout rate must be in [0, 1)");
    static constexpr LayerAliasing aliasing = LayerAliasing::view;
    template <class In> using output_shape_for = In;
    template <class In> static constexpr bool streams_for = true;  // per time step
    template <class In>
    static void forward(const float*, const float* in, float* out, std::size_t rows) noexcept {
        detail::view_forward<In::size>(in, out, rows);
    }
    static std::string name() { return "Dropout<" + detail::float_str(Rate) + ">"; }
};

namespace detail {
template <class T> struct is_dropout : std::false_type {};
template <long N, long D> struct is_dropout<Dropout<N, D>> : std::true_type {};
}  // namespace detail

}  // namespace typenet

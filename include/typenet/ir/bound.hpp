// Bound<L, In>: a leaf layer applied to a known input shape, with the Layer protocol's optional
// members filled in by their defaults. Everything the model machinery asks of a layer, it
// asks through here, so the defaults live in one place.
#pragma once
#include "../core/isa.hpp"
#include <algorithm>
#include <cstddef>
#include <type_traits>

#include "../kernels/simd.hpp"
#include "../core/layer.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::detail {

// Every layer's packed parameters start on a cache line.
inline constexpr std::size_t param_align_floats = kernels::alignment / sizeof(float);

template <class L, class In>
struct Bound {
    using layer = L;
    using in_shape = In;
    using out_shape = typename L::template output_shape_for<In>;

    static constexpr LayerAliasing aliasing = core::layer_aliasing<L>();
    static constexpr auto params = core::layer_params<L, In>();

    static constexpr std::size_t canonical_floats = [] {
        std::size_t n = 0;
        for (const auto& p : params) n = core::checked_add(n, p.size());
        return n;
    }();
    static constexpr std::size_t packed_floats = kernels::round_up(
        [] {
            if constexpr (requires { L::template packed_size_for<In>; }) return std::size_t{L::template packed_size_for<In>};
            else return canonical_floats;
        }(),
        param_align_floats);
    static constexpr std::size_t flops = [] {
        if constexpr (requires { L::template flops_for<In>; }) return std::size_t{L::template flops_for<In>};
        else return std::size_t{0};
    }();
    static constexpr std::size_t scratch_per_row = [] {
        if constexpr (requires { L::template scratch_size_for<In>; }) return std::size_t{L::template scratch_size_for<In>};
        else return std::size_t{0};
    }();
    static constexpr std::size_t scratch_fixed = [] {
        if constexpr (requires { L::template scratch_fixed_for<In>; }) return std::size_t{L::template scratch_fixed_for<In>};
        else return std::size_t{0};
    }();
    static constexpr std::size_t scratch_most = [] {
        if constexpr (requires { L::template scratch_most_for<In>; }) return std::size_t{L::template scratch_most_for<In>};
        else return std::size_t(-1);
    }();

    static constexpr std::size_t state_per_row = core::layer_state_size<L, In>();
    static constexpr bool streams = core::layer_streams<L, In>();

    static void pack(const float* canonical, float* packed) noexcept {
        if constexpr (requires { L::template pack<In>(canonical, packed); }) L::template pack<In>(canonical, packed);
        else std::copy_n(canonical, canonical_floats, packed);
    }
    static void forward(const float* params_, const float* in, float* out, std::size_t rows, float* scratch, float* state) {
        if constexpr (StatefulLayer<L, In>)
            L::template forward<In>(params_, in, out, rows, scratch, state);
        else if constexpr (requires { L::template forward<In>(params_, in, out, rows, scratch); })
            L::template forward<In>(params_, in, out, rows, scratch);
        else
            L::template forward<In>(params_, in, out, rows);
    }
};

}  // namespace typenet::detail

// Seedable initialisation of canonical parameters, Keras' defaults: Glorot-uniform kernels,
// zero biases. The generator and the float conversion are spelled out so that a seed gives
// the same weights with every standard library.
#pragma once
#include "../core/isa.hpp"
#include <cmath>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "../core/layer.hpp"
#include "../passes/records.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

struct seed {
    std::uint32_t value = 0;
};

namespace detail {
inline void init_param(const ParamSpec& p, float* out, std::mt19937& rng) {
    switch (p.init) {
        case Init::zeros: std::fill_n(out, p.size(), 0.f); break;
        case Init::ones: std::fill_n(out, p.size(), 1.f); break;
        case Init::glorot_uniform: {
            // fan_out = dims[0] * receptive field, fan_in = dims[1] * receptive field
            std::size_t receptive = 1;
            for (std::size_t k = 2; k < p.rank; ++k) receptive *= p.dims[k];
            const double fan_out = double(p.dims[0]) * receptive;
            const double fan_in = p.rank > 1 ? double(p.dims[1]) * receptive : fan_out;
            const float limit = float(std::sqrt(6.0 / (fan_in + fan_out)));
            for (std::size_t i = 0; i < p.size(); ++i) {
                const float u = float(rng() >> 8) * (1.f / 16777216.f);  // [0, 1), 24 bits
                out[i] = (2.f * u - 1.f) * limit;
            }
            break;
        }
    }
}
}  // namespace detail

// Fills canonical parameters (in ParamInfo order) from the seed.
inline void initialize(std::span<const ParamInfo> params, std::span<float> canonical, seed s) {
    std::mt19937 rng(s.value);
    for (const ParamInfo& p : params) detail::init_param(p.spec, canonical.data() + p.offset, rng);
}

}  // namespace typenet

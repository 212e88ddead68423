// The int8 convolution's scheme, one output at a time (kernels/conv_int8.hpp): shared by the
// model tests and the per-instruction-set layer tests.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>

namespace int8_test {
// The scheme for one output pixel and channel: the image quantized with one scale (a 1x1 at
// stride 1: each row of the map with its own; at a larger stride, the scale of the pixels on
// its grid), the receptive field's bytes (padding: zero), the weights per output channel,
// exact sums.
inline float conv_reference(const float* w, const float* img, std::size_t h, std::size_t wd, std::size_t c, std::size_t k, std::size_t stride,
                     std::size_t pad, std::size_t oy, std::size_t ox, float bias) {
    const bool per_row = k == 1 && stride == 1 && pad == 0, grid = k == 1 && stride > 1 && pad == 0;
    const float* scaled = per_row ? img + oy * wd * c : img;
    float mx = 0.f;
    for (std::size_t i = 0; i < (per_row ? wd * c : h * wd * c); ++i) {
        const std::size_t y = i / (wd * c), x = i / c % wd;
        if (!grid || (y % stride == 0 && x % stride == 0))  // (every such pixel is read: a 1x1 without padding)
            mx = std::max(mx, std::abs(scaled[i]));
    }
    float mw = 0.f;
    for (std::size_t i = 0; i < c * k * k; ++i) mw = std::max(mw, std::abs(w[i]));
    auto q = [](float v, float m) { return m > 0.f ? int(std::nearbyint(std::clamp(v * (127.f / m), -127.f, 127.f))) : 0; };
    long long sum = 0;
    for (std::size_t ci = 0; ci < c; ++ci)
        for (std::size_t ky = 0; ky < k; ++ky)
            for (std::size_t kx = 0; kx < k; ++kx) {
                const std::ptrdiff_t iy = std::ptrdiff_t(oy * stride + ky) - std::ptrdiff_t(pad);
                const std::ptrdiff_t ix = std::ptrdiff_t(ox * stride + kx) - std::ptrdiff_t(pad);
                if (iy < 0 || ix < 0 || iy >= std::ptrdiff_t(h) || ix >= std::ptrdiff_t(wd)) continue;
                sum += q(w[(ci * k + ky) * k + kx], mw) * q(img[(std::size_t(iy) * wd + std::size_t(ix)) * c + ci], mx);
            }
    return float(sum) * ((mw / 127.f) * (mx / 127.f)) + bias;
}

}  // namespace int8_test

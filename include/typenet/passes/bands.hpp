// Bands: a 1x1 convolution whose value only a depthwise convolution reads (MobileNet's and
// EfficientNet's expansion, then their depthwise layer) runs band by band inside the
// depthwise layer's step: the rows of its map that a band of the depthwise output reads are
// computed into a buffer of a few rows, and the band is computed from there while they are in
// L2; the rows two bands share stay in the buffer (moved to its top). On a map larger than L2
// the expanded map otherwise goes out to memory and comes back (112x112x96 floats are 4.8 MB:
// its 1x1 convolution and the depthwise one after it ran 1.6x slower with their caches cold
// than warm, in a network whose weights evict them on every pass).
//
// Every pixel is computed by the same kernel with the same sums as over the whole map: the
// 1x1 convolution's rows by the GEMM, the depthwise's output rows by the tiles of a thread's
// share (kernels/share.hpp). Only for kernels that write plainly (no residual add, slice or
// crop), whose own activation is not a pass of its own; one sample on several threads
// (run_shared) runs the two layers whole, each split among the threads.
#pragma once
#include "../core/isa.hpp"
#include <algorithm>
#include <array>
#include <cstddef>

#include "../kernels/simd.hpp"
#include "crop_to_readers.hpp"
#include "epilogue.hpp"
#include "facts.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::passes {

// A map smaller than this stays in L2 (1 MB on Zen 4) between the two layers anyway.
#ifndef TYPENET_BAND_MIN_BYTES
#define TYPENET_BAND_MIN_BYTES (std::size_t{512} << 10)
#endif
// The input rows a band holds, about: with the 1x1 convolution's input rows and the band's
// output, well within L2.
#ifndef TYPENET_BAND_BYTES
#define TYPENET_BAND_BYTES (std::size_t{192} << 10)
#endif
inline constexpr std::size_t band_min_bytes = TYPENET_BAND_MIN_BYTES;
inline constexpr std::size_t band_bytes = TYPENET_BAND_BYTES;

template <std::size_t K>
struct Bands {
    std::array<std::size_t, K> producer{};  // a depthwise node: the 1x1 kernel it runs band by band (none: not)
    std::array<std::size_t, K> count{};     // its bands per sample: the shares of its output rows
    std::array<std::size_t, K> held{};      // the most input rows a band reads: its buffer's rows
    std::array<std::size_t, K> reader{};    // a 1x1 kernel: the depthwise node that runs it band by band (none: not)
    std::size_t floats = 0;                 // the largest buffer
    constexpr bool any() const noexcept { return floats > 0; }
};

template <std::size_t K, std::size_t A>
constexpr Bands<K> band_rows(const Facts<K, A>& f, const Epilogues<K>& e, const Crops<K>& c) {
    constexpr std::size_t align = kernels::alignment / sizeof(float);
    Bands<K> b;
    b.producer.fill(none);
    b.reader.fill(none);
    auto writes_plainly = [&](std::size_t k) {
        return e.add[k] == none && e.into[k] == none && c.out[k][0] == 0 && c.in[k][0] == 0 && !f.separate_activation[k];
    };
    for (std::size_t d = 0; d < K; ++d) {
        const RowWindow w = f.row_window[d];
        if (f.kind[d] != Kind::layer || w.kh == 0 || e.head[d] != d || f.arity(d) != 1 || !writes_plainly(d)) continue;
        const std::size_t t = f.arg(d), p = e.head[t];
        if (f.kind[p] != Kind::layer || !f.computes_rows[p] || e.tail[p] != t || !only_for(f, e, t, d) || !writes_plainly(p)) continue;
        if (f.scratch_per_row[p] || f.scratch_fixed[p] || f.scratch_per_row[d] || f.scratch_fixed[d]) continue;
        const std::size_t h = f.in_hwc[d][0], row = f.in_hwc[d][1] * f.in_hwc[d][2];
        if (h * row * sizeof(float) < band_min_bytes) continue;
        // Output rows per band: as many as read about band_bytes of input rows, whole units.
        const std::size_t rows_in = std::max(band_bytes / (row * sizeof(float)), w.kh + w.stride);
        const std::size_t rows_out = std::max(w.unit, ((rows_in - w.kh) / w.stride + 1) / w.unit * w.unit);
        const std::size_t units = (w.oh + w.unit - 1) / w.unit;
        const std::size_t n = std::min(units, (w.oh + rows_out - 1) / rows_out);
        if (n < 2) continue;
        const std::size_t most = (units + n - 1) / n * w.unit;  // output rows of the largest band
        b.producer[d] = p, b.reader[p] = d, b.count[d] = n;
        b.held[d] = std::min(h, (most - 1) * w.stride + w.kh);
        b.floats = std::max(b.floats, kernels::round_up(b.held[d] * row, align));
    }
    return b;
}

}  // namespace typenet::passes

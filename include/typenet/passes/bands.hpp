// Bands: a depthwise convolution runs band by band of its output rows, with the 1x1
// convolutions beside it inside its step — the one whose value only it reads (MobileNet's and
// EfficientNet's expansion), and the one that alone reads its value (their projection):
// the rows of the expanded map that a band reads are computed into a buffer of a few rows, the
// band's output rows into a second one, and the projection of those rows straight into its
// map, while they are in L2; the rows two bands share stay in the first buffer (moved to its
// top). On a map larger than L2 the expanded map otherwise goes out to memory and comes back
// (112x112x96 floats are 4.8 MB: its 1x1 convolution and the depthwise one after it ran 1.6x
// slower with their caches cold than warm, in a network whose weights evict them on every
// pass), and so does the depthwise output (56x56x144 floats, 1.8 MB, in MobileNetV2), each
// line of it first read from memory to be written (the cache allocates on a write).
//
// Every pixel is computed by the same kernel with the same sums as over the whole map: the
// 1x1 convolutions' rows by the GEMM, the depthwise's output rows by its tiles over the
// band's rows. Only for kernels that write plainly (no slice or crop; the projection may add a
// residual), whose own activation is not a pass of its own; one sample on several threads
// (run_shared) splits each sample's bands among the threads (Program::SharedBandStep).
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
    std::array<std::size_t, K> producer{};  // a depthwise node: the 1x1 kernel it runs band by band before it (none: not)
    std::array<std::size_t, K> consumer{};  // a depthwise node: the 1x1 kernel it runs on each band after it (none: not)
    std::array<std::size_t, K> count{};     // a depthwise node run in bands: its bands per sample (the shares of its output rows)
    std::array<std::size_t, K> held{};      // with a producer: the most input rows a band reads (its buffer's rows)
    std::array<std::size_t, K> out_rows{};  // with a consumer: the most output rows a band has (the second buffer's rows)
    std::array<std::size_t, K> reader{};    // a 1x1 kernel: the depthwise node that runs it (none: not)
    std::size_t floats = 0;                 // the largest pair of buffers
    constexpr bool any() const noexcept { return floats > 0; }
    constexpr bool runs_bands(std::size_t d) const noexcept { return count[d] > 0; }
    // Where a band's output rows go in scratch: after the input rows, aligned.
    constexpr std::size_t out_at(std::size_t d, std::size_t row_in) const noexcept {
        return kernels::round_up(held[d] * row_in, kernels::alignment / sizeof(float));
    }
};

template <std::size_t K, std::size_t A>
constexpr Bands<K> band_rows(const Facts<K, A>& f, const Epilogues<K>& e, const Crops<K>& c) {
    constexpr std::size_t align = kernels::alignment / sizeof(float);
    Bands<K> b;
    b.producer.fill(none);
    b.consumer.fill(none);
    b.reader.fill(none);
    auto writes_plainly = [&](std::size_t k) { return e.add[k] == none && plain_kernel(f, e, c, k); };
    auto rows_kernel = [&](std::size_t k) { return f.kind[k] == Kind::layer && f.computes_rows[k] && e.head[k] == k && f.arity(k) == 1; };
    for (std::size_t d = 0; d < K; ++d) {
        const RowWindow w = f.row_window[d];
        if (f.kind[d] != Kind::layer || w.kh == 0 || e.head[d] != d || f.arity(d) != 1 || !writes_plainly(d)) continue;
        // Before: the 1x1 kernel whose value only d reads.
        const std::size_t t = f.arg(d), p = e.head[t];
        const bool before = rows_kernel(p) && e.tail[p] == t && only_for(f, e, t, d) && writes_plainly(p);
        // After: the 1x1 kernel that alone reads d's value (its residual, if any, is another's).
        const std::size_t r = e.sole_reader[e.tail[d]];
        const bool q_ok = r != none && only_for(f, e, e.tail[d], r) && rows_kernel(r) && f.arg(r) == e.tail[d] && plain_kernel(f, e, c, r);
        const std::size_t q = q_ok ? r : none;
        const std::size_t h = f.in_hwc[d][0], row = f.in_hwc[d][1] * f.in_hwc[d][2], out_row = f.floats[d] / w.oh;
        const bool big_in = before && h * row * sizeof(float) >= band_min_bytes;
        const bool big_out = q != none && w.oh * out_row * sizeof(float) >= band_min_bytes;
        if (!big_in && !big_out) continue;
        // Output rows per band: as many as read about band_bytes of input rows (or, with no
        // 1x1 kernel before it, write about band_bytes), whole units.
        const std::size_t rows_in = std::max(band_bytes / (row * sizeof(float)), w.kh + w.stride);
        const std::size_t rows_out = big_in ? std::max(w.unit, ((rows_in - w.kh) / w.stride + 1) / w.unit * w.unit)
                                            : std::max(w.unit, band_bytes / (out_row * sizeof(float)) / w.unit * w.unit);
        const std::size_t units = (w.oh + w.unit - 1) / w.unit;
        const std::size_t n = std::min(units, (w.oh + rows_out - 1) / rows_out);
        if (n < 2) continue;
        const std::size_t most = (units + n - 1) / n * w.unit;  // output rows of the largest band
        b.count[d] = n;
        if (big_in) b.producer[d] = p, b.reader[p] = d, b.held[d] = std::min(h, (most - 1) * w.stride + w.kh);
        if (q != none) b.consumer[d] = q, b.reader[q] = d, b.out_rows[d] = std::min(w.oh, most);
        b.floats = std::max(b.floats, b.out_at(d, row) + kernels::round_up(b.out_rows[d] * out_row, align));
    }
    return b;
}

}  // namespace typenet::passes

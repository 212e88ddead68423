// tn::profile(net): where a forward pass spends its time — each kernel the model runs (a
// layer with what is fused into it, a merge that copies), each block's total, and the time
// per kind of kernel. The rows are the summary's (their paths follow the model's module
// tree); the times are medians over the calls.
//
//     const auto p = tn::profile(net);        // one sample, random inputs, 30 calls
//     std::cout << p;                         // blocks and kernels, indented
//     std::cout << p.by_kernel();             // "conv 1x1 gemm+bias+relu6: 61%"
//
// Beside GFLOP/s, each row's GB/s: the bytes its kernels must move at the least — every input
// they read from another kernel, their packed weights and their output, each once — over its
// time. Where a kernel reads much more (windows that overlap, weights read again per tile) or
// much less (a map still in cache from the kernel before), the figure says so against the
// machine's cache and memory bandwidths.
//
// It runs predict's blocks of samples through Program::run_observed (Net::predict_observed),
// which reads the clock after each kernel (~20 ns each), so a model of microseconds reads
// slower than predict does; predict's lanes of samples (runtime/lanes.hpp, small models at
// a batch) and threads are not what it times.
#pragma once
#include "../core/isa.hpp"
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "../passes/records.hpp"
#include "../model/net.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

// One row of a profile: a block (its nodes' total) or a kernel (a node that runs one; the
// nodes fused into it are in its time).
struct ProfileRow {
    std::string path;
    std::string kernel;  // the kernel it runs ("conv 3x3/2+bias+relu6"), or the block's type
    std::string output_shape;
    RowKind kind = RowKind::layer;
    std::size_t depth = 0;
    std::size_t flops = 0;  // a kernel: its own and those of the nodes fused into it
    std::size_t bytes = 0;  // the least it moves: inputs from other kernels, packed weights, output (all samples)
    double seconds = 0;     // median over the calls
};

struct Profile {
    std::vector<ProfileRow> rows;
    double seconds = 0;  // the whole pass: the median of the calls' totals
    std::size_t batch = 1, calls = 0;

    // The table: each row's path (indented by its blocks), kernel, time, share of the pass,
    // GFLOP/s and GB/s; rows deeper than max_depth are left out (0: the outermost only).
    std::string table(std::size_t max_depth = SIZE_MAX) const;
    // The kernels' times summed by what they run, largest first.
    std::string by_kernel() const;
    friend std::ostream& operator<<(std::ostream& o, const Profile& p) { return o << p.table(); }
};

namespace detail {
inline std::string profile_number(const char* format, double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, format, v);
    return buf;
}
inline std::string profile_gflops(std::size_t flops, double seconds, std::size_t batch) {
    return flops && seconds > 0 ? profile_number("%.1f", double(flops) * double(batch) / seconds * 1e-9) : "";
}
inline std::string profile_gbytes(std::size_t bytes, double seconds) {
    return bytes && seconds > 0 ? profile_number("%.1f", double(bytes) / seconds * 1e-9) : "";
}
// The bytes each kernel must move at the least (by the node that heads it): every input it
// reads from a node of another kernel, the packed weights of its nodes (a BatchNorm folded
// into them has none of its own) and the output of its last node, each once, for `batch`
// samples.
inline std::vector<std::size_t> kernel_bytes(const std::vector<LayerInfo>& info, std::size_t nodes, std::size_t batch) {
    std::vector<const LayerInfo*> node(nodes, nullptr);
    for (const LayerInfo& r : info)
        if (r.kind != RowKind::block) node[r.node] = &r;
    std::vector<std::size_t> bytes(nodes, 0), tail(nodes, SIZE_MAX);
    for (const LayerInfo* r : node) {
        if (!r || r->kind == RowKind::input || r->view) continue;  // a view moves nothing
        const std::size_t h = r->kernel;
        if (!r->folded_into_weights) bytes[h] += sizeof(float) * r->packed;
        for (std::size_t a : r->args)
            if (node[a] && node[a]->kernel != h) bytes[h] += sizeof(float) * batch * node[a]->output_floats;
        tail[h] = r->node;  // nodes come in order: the kernel's last one wins
    }
    for (std::size_t h = 0; h < nodes; ++h)
        if (tail[h] != SIZE_MAX) bytes[h] += sizeof(float) * batch * node[tail[h]]->output_floats;
    return bytes;
}
// Columns left-aligned (the first n_left) or right-aligned, two spaces apart.
inline std::string profile_columns(const std::vector<std::vector<std::string>>& cells, std::size_t n_left) {
    std::vector<std::size_t> width;
    for (const auto& r : cells)
        for (std::size_t c = 0; c < r.size(); ++c) width.resize(std::max(width.size(), r.size())), width[c] = std::max(width[c], r[c].size());
    std::string s;
    for (const auto& r : cells) {
        std::string line;
        for (std::size_t c = 0; c < r.size(); ++c) {
            const std::string pad(width[c] - r[c].size(), ' ');
            line += c ? "  " : "";
            line += c < n_left ? r[c] + pad : pad + r[c];
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        s += line + '\n';
    }
    return s;
}
// "conv+bias" of a "Conv2D<96, 1x1, ...>" as "conv 1x1+bias", of a stride-2 one "conv
// 3x3/2+bias": the type's first window (digits x digits) and stride, after the first word.
inline std::string profile_kernel(const std::string& name, const std::string& type) {
    std::string window;
    for (std::size_t i = 0; i < type.size() && window.empty(); ++i) {
        if (!std::isdigit(static_cast<unsigned char>(type[i])) || (i && std::isdigit(static_cast<unsigned char>(type[i - 1])))) continue;
        std::size_t j = i;
        while (j < type.size() && std::isdigit(static_cast<unsigned char>(type[j]))) ++j;
        if (j + 1 >= type.size() || type[j] != 'x' || !std::isdigit(static_cast<unsigned char>(type[j + 1]))) continue;
        std::size_t e = j + 1;
        while (e < type.size() && std::isdigit(static_cast<unsigned char>(type[e]))) ++e;
        if (e < type.size() && (type[e] == ',' || type[e] == '>')) window = type.substr(i, e - i);
    }
    if (window.empty()) return name;
    if (const std::size_t at = type.find("stride<"); at != std::string::npos)
        window += "/" + type.substr(at + 7, type.find_first_of(",>", at + 7) - at - 7);
    const std::size_t word = name.find_first_of("+ ");
    return word == std::string::npos ? name + " " + window : name.substr(0, word) + " " + window + name.substr(word);
}
// The profile's rows from the summary's and each node's median time (one function for every
// model: the template below only runs the calls).
inline Profile make_profile(const std::vector<LayerInfo>& info, const std::vector<double>& node_seconds, const std::vector<bool>& ran,
                            double total, std::size_t batch, std::size_t calls) {
    Profile p;
    p.seconds = total, p.batch = batch, p.calls = calls;
    std::vector<std::size_t> kernel_flops(node_seconds.size(), 0);  // each kernel's and those fused into it
    for (const LayerInfo& r : info)
        if (r.kind != RowKind::block) kernel_flops[r.kernel] += r.flops;
    const std::vector<std::size_t> bytes = kernel_bytes(info, node_seconds.size(), batch);
    for (const LayerInfo& r : info) {
        ProfileRow row{r.path, {}, r.output_shape, r.kind, r.depth, 0, 0, 0};
        if (r.kind == RowKind::block) {
            row.kernel = r.type;
            row.flops = r.flops;
            for (std::size_t k = r.first; k <= r.node; ++k) row.seconds += node_seconds[k], row.bytes += ran[k] ? bytes[k] : 0;
        } else {
            if (!ran[r.node] || r.view) continue;  // an input, a view, a node fused into another's kernel
            row.kernel = r.kernel_name.empty() ? r.type : profile_kernel(r.kernel_name, r.type);
            if (r.adds_residual) row.kernel += " +residual";
            row.seconds = node_seconds[r.node];
            row.flops = kernel_flops[r.node];
            row.bytes = bytes[r.node];
        }
        p.rows.push_back(std::move(row));
    }
    return p;
}
}  // namespace detail

inline std::string Profile::table(std::size_t max_depth) const {
    std::vector<std::vector<std::string>> cells{{"Path", "Kernel", "Output shape", "us", "%", "GFLOP/s", "GB/s"}};
    for (const ProfileRow& r : rows) {
        if (r.depth > max_depth) continue;
        cells.push_back({std::string(2 * r.depth, ' ') + r.path, r.kernel, r.output_shape, detail::profile_number("%.1f", r.seconds * 1e6),
                         detail::profile_number("%.1f", seconds > 0 ? 100 * r.seconds / seconds : 0),
                         detail::profile_gflops(r.flops, r.seconds, batch), detail::profile_gbytes(r.bytes, r.seconds)});
    }
    std::size_t flops = 0, bytes = 0;
    for (const ProfileRow& r : rows)
        if (r.kind != RowKind::block) flops += r.flops, bytes += r.bytes;
    cells.push_back({"(the pass)", "batch " + std::to_string(batch) + ", median of " + std::to_string(calls) + " calls", "",
                     detail::profile_number("%.1f", seconds * 1e6), "100.0", detail::profile_gflops(flops, seconds, batch),
                     detail::profile_gbytes(bytes, seconds)});
    return detail::profile_columns(cells, 3);
}

inline std::string Profile::by_kernel() const {
    struct Sum {
        double seconds = 0;
        std::size_t flops = 0, bytes = 0, count = 0;
    };
    std::map<std::string, Sum> sums;
    for (const ProfileRow& r : rows) {
        if (r.kind == RowKind::block) continue;
        Sum& s = sums[r.kernel];
        s.seconds += r.seconds, s.flops += r.flops, s.bytes += r.bytes, ++s.count;
    }
    std::vector<std::pair<std::string, Sum>> sorted(sums.begin(), sums.end());
    std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second.seconds > b.second.seconds; });
    std::vector<std::vector<std::string>> cells{{"Kernel", "count", "us", "%", "GFLOP/s", "GB/s"}};
    for (const auto& [name, s] : sorted)
        cells.push_back({name, std::to_string(s.count), detail::profile_number("%.1f", s.seconds * 1e6),
                         detail::profile_number("%.1f", seconds > 0 ? 100 * s.seconds / seconds : 0),
                         detail::profile_gflops(s.flops, s.seconds, batch), detail::profile_gbytes(s.bytes, s.seconds)});
    return detail::profile_columns(cells, 1);
}

// Times `calls` passes of `batch` samples (after one untimed), kernel by kernel, as predict
// runs them: in blocks of at most Net::block_rows samples, a model whose one-sample arena is
// above the block budget one sample at a time with its classifier on several
// (Program::run_with_tail); each kernel's time summed over the blocks.
// xs: one pointer per input, each to batch samples. Allocates; not for a real-time thread.
template <class M>
Profile profile(const Net<M, true>& net, const float* const* xs, std::size_t batch = 1, std::size_t calls = 30) {
    using program = typename M::program;
    constexpr std::size_t K = program::K;
    batch = std::max<std::size_t>(batch, 1), calls = std::max<std::size_t>(calls, 1);
    std::vector<std::vector<float>> out_buffers;
    std::vector<float*> ys;
    [&]<std::size_t... o>(std::index_sequence<o...>) {
        (out_buffers.emplace_back(batch * M::template output_shape_at<o>::size), ...);
    }(std::make_index_sequence<M::n_outputs>{});
    for (auto& b : out_buffers) ys.push_back(b.data());
    // predict's arena: blocks of at most block_rows samples.
    const std::size_t block = std::min(batch, Net<M, true>::block_rows);
    const detail::aligned_floats arena = detail::allocate_floats(std::max<std::size_t>(Net<M, true>::arena_floats(block), 1));
    const std::span<std::byte> arena_bytes(reinterpret_cast<std::byte*>(arena.get()), Net<M, true>::arena_bytes(block));

    using clock = std::chrono::steady_clock;
    std::vector<double> times(calls * K, 0.0), totals(calls);
    std::vector<bool> ran(K, false);
    for (std::size_t c = 0; c <= calls; ++c) {  // call 0 warms the caches and is not counted
        double* t = c ? &times[(c - 1) * K] : nullptr;
        clock::time_point last = clock::now();
        const clock::time_point start = last;
        net.predict_observed(xs, ys.data(), batch, arena_bytes, [&](std::size_t k) {
            const clock::time_point now = clock::now();
            if (t) t[k] += std::chrono::duration<double>(now - last).count();  // (a kernel run in bands or blocks: each part)
            ran[k] = true;
            last = now;
        });
        if (c) totals[c - 1] = std::chrono::duration<double>(clock::now() - start).count();
    }
    auto median = [](std::vector<double> v) {
        std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
        return v[v.size() / 2];
    };
    std::vector<double> node_seconds(K, 0.0), column(calls);
    for (std::size_t k = 0; k < K; ++k) {
        if (!ran[k]) continue;
        for (std::size_t c = 0; c < calls; ++c) column[c] = times[c * K + k];
        node_seconds[k] = median(column);
    }
    return detail::make_profile(runtime::describe(program::tables), node_seconds, ran, median(totals), batch, calls);
}

// The same, for a model of one input: x holds batch samples.
template <class M>
Profile profile(const Net<M, true>& net, const float* x, std::size_t batch = 1, std::size_t calls = 30) {
    static_assert(M::n_inputs == 1, "typenet: profile(net, x, ...) is for a model of one input; give one pointer per input");
    return profile(net, &x, batch, calls);
}

// The same on inputs drawn uniformly from [-1, 1] (a fixed seed): a kernel's time does not
// depend on its values.
template <class M>
Profile profile(const Net<M, true>& net, std::size_t batch = 1, std::size_t calls = 30) {
    batch = std::max<std::size_t>(batch, 1);
    std::vector<std::vector<float>> in_buffers;
    std::uint32_t state = 12345u;
    auto uniform = [&] {
        state = state * 1664525u + 1013904223u;
        return float(state >> 8) * (2.f / 16777216.f) - 1.f;
    };
    [&]<std::size_t... i>(std::index_sequence<i...>) {
        (in_buffers.emplace_back(batch * M::template input_shape_at<i>::size), ...);
    }(std::make_index_sequence<M::n_inputs>{});
    std::vector<const float*> xs;
    for (auto& b : in_buffers) {
        for (float& v : b) v = uniform();
        xs.push_back(b.data());
    }
    return profile(net, xs.data(), batch, calls);
}

}  // namespace typenet

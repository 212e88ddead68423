// Program<Module>: the one engine. It runs the passes over a lowered model (ir/), in this
// order, each a constexpr function of its own header under passes/:
//
//   gather_facts          one record per node (passes/facts.hpp)
//   param_owners          one parameter slot per path: shared layers share it
//   fold_batchnorm        BatchNorm into the kernel before it, at pack time
//   fuse_residual_add     an Add into the epilogue of the kernel computing its later operand
//   fuse_activation       an activation into the epilogue of the kernel before it
//   concat_in_place       kernels write their slices of a Concat's output
//   plan_memory           every node's buffer, by liveness
//   flatten_permutation   which weights PyTorch's flatten order permutes
//
// and then runs the nodes in their fixed order, packs weights, names parameters and
// describes itself, all from those results. Every spelling of a model (Sequential, nested
// blocks, Residual/Branch, functional graphs) is this same program once lowered.
#pragma once
#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "../ir/bound.hpp"
#include "../ir/ir.hpp"
#include "../kernels/simd.hpp"
#include "../layer.hpp"
#include "../passes/concat_in_place.hpp"
#include "../passes/epilogue.hpp"
#include "../passes/facts.hpp"
#include "../passes/flatten_permutation.hpp"
#include "../passes/fold_batchnorm.hpp"
#include "../passes/fuse_activation.hpp"
#include "../passes/fuse_residual_add.hpp"
#include "../passes/memory_plan.hpp"
#include "../passes/param_owners.hpp"
#include "../passes/records.hpp"

namespace typenet::runtime {

using passes::Kind;
using passes::none;
using passes::Where;

template <class L, class Act>
std::string kernel_name_of() {
    if constexpr (requires { L::template kernel_name<Act>(); }) return L::template kernel_name<Act>();
    else if constexpr (typenet::detail::layer_aliasing<L>() == LayerAliasing::view) return "view (no copy)";
    else if constexpr (typenet::detail::layer_aliasing<L>() == LayerAliasing::in_place) return "in place";
    else return "own kernel";
}

template <class M>
struct Program {
    static constexpr std::size_t K = M::size;
    template <std::size_t k> using node = typename M::template node<k>;
    template <std::size_t k> using op = typename node<k>::op;
    template <std::size_t k> using in_shape = typename node<k>::in_shape;
    template <std::size_t k> using shape = typename node<k>::shape;
    template <std::size_t k> using bound = typenet::detail::Bound<op<k>, in_shape<k>>;

    // ---- The passes ----
    static constexpr auto facts = passes::gather_facts<M>();
    static constexpr auto owner = passes::param_owners(facts);
    static constexpr auto epilogues = passes::concat_in_place(
        facts, passes::fuse_activation(facts, passes::fuse_residual_add(facts, passes::fold_batchnorm(facts, owner, passes::unfused_epilogues(facts)))));
    static constexpr auto plan = passes::plan_memory(facts, epilogues);
    static constexpr auto flattened_hwc = passes::flatten_permutation(facts);

    // ---- Parameters: one slot per owner ----
    static consteval std::array<std::size_t, K + 1> offsets(bool packed) {
        std::array<std::size_t, K + 1> off{};
        std::size_t at = 0;
        for (std::size_t k = 0; k < K; ++k) {
            off[k] = at;
            if (owner[k] == k) at += packed ? facts.packed[k] : facts.canonical[k];
        }
        off[K] = at;
        for (std::size_t k = 0; k < K; ++k) off[k] = off[owner[k]];
        return off;
    }
    static constexpr auto canonical_offset = offsets(false);
    static constexpr auto packed_offset = offsets(true);
    static constexpr std::size_t canonical_floats = canonical_offset[K];
    static constexpr std::size_t packed_floats = packed_offset[K];
    static constexpr std::size_t flops = [] {
        std::size_t n = 0;
        for (std::size_t k = 0; k < K; ++k) n += facts.flops[k];
        return n;
    }();
    static constexpr std::size_t arena_floats(std::size_t rows) { return plan.arena_floats(rows); }
    static constexpr std::size_t naive_floats = plan.naive_floats;

    // ---- Running ----
    template <std::size_t k>
    static float* location(const float* const* ins, float* const* outs, std::size_t rows, float* arena) noexcept {
        if constexpr (plan.where[k] == Where::input) return const_cast<float*>(ins[plan.index[k]]);  // read only: views alone alias it
        else if constexpr (plan.where[k] == Where::output) return outs[plan.index[k]];
        else return arena + plan.offset[k] * rows;
    }
    // The activation kernel k runs in its epilogue: the fused activation node's, or linear.
    template <std::size_t k>
    static consteval auto fused_activation_probe() {
        if constexpr (epilogues.activation[k] != none) return std::type_identity<typename op<epilogues.activation[k]>::activation>{};
        else return std::type_identity<linear>{};
    }
    template <std::size_t k> using fused_activation = typename decltype(fused_activation_probe<k>())::type;
    // Writing a slice runs the layer's own activation unless one is fused.
    template <std::size_t k>
    static consteval auto slice_activation_probe() {
        if constexpr (epilogues.activation[k] != none) return fused_activation_probe<k>();
        else if constexpr (requires { typename op<k>::activation; }) return std::type_identity<typename op<k>::activation>{};
        else return std::type_identity<linear>{};
    }

    template <std::size_t k>
    static void step(const float* params, const float* const* ins, float* const* outs, std::size_t rows, float* arena) {
        constexpr auto& e = epilogues;
        float* scratch = arena + plan.activation_floats * rows;
        if constexpr (facts.kind[k] == Kind::input || e.head[k] != k) {
            // an input, or computed by kernel e.head[k]
        } else if constexpr (facts.kind[k] == Kind::merge) {
            if constexpr (passes::inputs_in_place(e, k) < facts.arity(k)) {
                [&]<std::size_t... j>(std::index_sequence<j...>) {
                    // null: that input's kernel wrote its slice already (a Concat copies the others)
                    const float* src[] = {(e.into[e.head[node<k>::args[j]]] == k ? nullptr
                                                                                  : location<node<k>::args[j]>(ins, outs, rows, arena))...};
                    op<k>::template merge<shape<node<k>::args[j]>...>(src, location<k>(ins, outs, rows, arena), rows);
                }(std::make_index_sequence<node<k>::arity>{});
            }
        } else {
            using L = op<k>;
            using In = in_shape<k>;
            const float* p = params + packed_offset[k];
            const float* src = location<facts.arg(k)>(ins, outs, rows, arena);
            float* dst = location<k>(ins, outs, rows, arena);
            if constexpr (e.into[k] != none) {
                using Act = typename decltype(slice_activation_probe<k>())::type;
                L::template forward_strided<In, Act>(p, src, location<e.into[k]>(ins, outs, rows, arena) + e.slice_offset[k], rows, scratch,
                                                     facts.last_dim[e.into[k]]);
            } else if constexpr (e.add[k] != none) {
                L::template forward_add<In, fused_activation<k>>(p, src, dst, rows, scratch, location<e.addend[k]>(ins, outs, rows, arena));
            } else if constexpr (e.activation[k] != none) {
                if constexpr (requires { L::template forward_with<In, fused_activation<k>>(p, src, dst, rows, scratch); })
                    L::template forward_with<In, fused_activation<k>>(p, src, dst, rows, scratch);
                else
                    L::template forward_with<In, fused_activation<k>>(p, src, dst, rows);
            } else {
                bound<k>::forward(p, src, dst, rows, scratch);
            }
        }
    }
    // Outputs whose value is not already in their buffer: an input returned as an output, or
    // one node returned twice.
    template <std::size_t o>
    static void copy_output(const float* const* ins, float* const* outs, std::size_t rows, float* arena) {
        constexpr std::size_t k = M::outputs[o];
        if constexpr (!(plan.where[k] == Where::output && plan.index[k] == o))
            std::copy_n(location<k>(ins, outs, rows, arena), rows * shape<k>::size, outs[o]);
    }
    // Runs the model on `rows` samples; `arena` holds arena_floats(rows) floats.
    static void run(const float* params, const float* const* ins, float* const* outs, std::size_t rows, float* arena) {
        [&]<std::size_t... k>(std::index_sequence<k...>) { (step<k>(params, ins, outs, rows, arena), ...); }(std::make_index_sequence<K>{});
        [&]<std::size_t... o>(std::index_sequence<o...>) { (copy_output<o>(ins, outs, rows, arena), ...); }(
            std::make_index_sequence<M::n_outputs>{});
    }

    // ---- Packing: canonical weights into the kernels' layouts (a folded BatchNorm included) ----
    template <std::size_t k>
    static void pack_one(const float* canonical, float* packed) {
        if constexpr (facts.kind[k] == Kind::layer && owner[k] == k && (facts.packed[k] > 0 || facts.canonical[k] > 0)) {
            if constexpr (epilogues.batchnorm[k] != none) {
                // W'[o] = W[o] * scale[o], b'[o] = b[o] * scale[o] + shift[o]; weight is the first
                // parameter, its leading axis the output channels.
                using L = op<k>;
                using In = in_shape<k>;
                constexpr std::size_t b = epilogues.batchnorm[k];
                constexpr std::size_t channels = L::template out_channels<In>;
                constexpr std::size_t wsize = bound<k>::params[0].size(), row = wsize / channels;
                const float* w = canonical + canonical_offset[k];
                const float* bias = bound<k>::params.size() > 1 ? w + wsize : nullptr;
                std::vector<float> scale(channels), shift(channels), fw(w, w + wsize), fb(channels);
                op<b>::scale_shift(canonical + canonical_offset[b], channels, scale.data(), shift.data());
                for (std::size_t o = 0; o < channels; ++o) {
                    for (std::size_t i = 0; i < row; ++i) fw[o * row + i] *= scale[o];
                    fb[o] = (bias ? bias[o] : 0.f) * scale[o] + shift[o];
                }
                L::template pack_with_bias<In>(fw.data(), fb.data(), packed + packed_offset[k]);
            } else {
                bound<k>::pack(canonical + canonical_offset[k], packed + packed_offset[k]);
            }
        }
    }
    static void pack(const float* canonical, float* packed) {
        [&]<std::size_t... k>(std::index_sequence<k...>) { (pack_one<k>(canonical, packed), ...); }(std::make_index_sequence<K>{});
    }

    // ---- Names: each owner's parameters under its path ----
    template <std::size_t k>
    static void params_one(std::vector<ParamInfo>& out) {
        if constexpr (facts.kind[k] == Kind::layer && owner[k] == k) {
            const std::string path(facts.path[k]);
            std::string_view keras_class;
            if constexpr (requires { op<k>::keras_class; }) keras_class = op<k>::keras_class;
            std::size_t off = canonical_offset[k];
            for (std::size_t i = 0; i < bound<k>::params.size(); ++i) {
                const ParamSpec& p = bound<k>::params[i];
                ParamInfo info{path + "." + std::string(p.name), p, off, path, keras_class, {}, node<k>::named};
                if (i == 0) info.flattened_hwc = flattened_hwc[k];
                out.push_back(std::move(info));
                off += p.size();
            }
        }
    }
    static void params(std::vector<ParamInfo>& out) {
        [&]<std::size_t... k>(std::index_sequence<k...>) { (params_one<k>(out), ...); }(std::make_index_sequence<K>{});
    }

    // ---- Description: a typed row per node (report/ formats them) ----
    template <std::size_t k>
    static std::string op_name() {
        if constexpr (facts.kind[k] == Kind::input) return "Input";
        else return layer_name<op<k>>();
    }
    template <std::size_t k>
    static std::string buffer_of() {
        if constexpr (epilogues.into[k] != none) {
            constexpr std::size_t c = epilogues.into[k], at = epilogues.slice_offset[k];
            return buffer_of<c>() + " [" + std::to_string(at) + ":" + std::to_string(at + facts.last_dim[epilogues.tail[k]]) + "]";
        } else if constexpr (plan.where[k] == Where::input) {
            return "input " + std::to_string(plan.index[k]);
        } else if constexpr (plan.where[k] == Where::output) {
            return "output " + std::to_string(plan.index[k]);
        } else {
            return "arena +" + std::to_string(plan.offset[k] * sizeof(float));
        }
    }
    static std::string path_of(std::size_t k) { return std::string(facts.path[k]); }
    template <std::size_t k>
    static std::string kernel_text() {
        constexpr auto& e = epilogues;
        if constexpr (facts.kind[k] == Kind::input) {
            return {};
        } else if constexpr (e.head[k] != k) {
            return "fused into " + path_of(e.head[k]);
        } else if constexpr (facts.kind[k] == Kind::merge) {
            constexpr std::size_t in_place = passes::inputs_in_place(e, k);
            if constexpr (in_place == facts.arity(k)) return "view (no copy: its inputs write their slices)";
            else if constexpr (in_place > 0)
                return "merge (copies " + std::to_string(facts.arity(k) - in_place) + " of " + std::to_string(facts.arity(k)) + " inputs)";
            else return "merge";
        } else {
            using L = op<k>;
            std::string s;
            if constexpr (owner[k] != k) s = "shares the weights of " + path_of(owner[k]) + "; ";
            if constexpr (e.add[k] != none) s += kernel_name_of<L, linear>();
            else if constexpr (e.activation[k] != none) s += kernel_name_of<L, fused_activation<k>>();
            else if constexpr (requires { typename L::activation; }) s += kernel_name_of<L, typename L::activation>();
            else s += kernel_name_of<L, linear>();
            if constexpr (e.batchnorm[k] != none) s += " (batchnorm folded)";
            if constexpr (e.into[k] != none) s += " into " + path_of(e.into[k]);
            if constexpr (e.add[k] != none) {
                s += " +add " + path_of(e.addend[k]);
                if constexpr (e.activation[k] != none) s += ", then " + fused_activation<k>::name();
            }
            return s;
        }
    }
    template <std::size_t k>
    static void describe_one(std::vector<LayerInfo>& rows) {
        LayerInfo r;
        r.path = path_of(k);
        if constexpr (owner[k] != k) {  // the n-th call of a shared layer: "enc[1]"
            std::size_t n = 0;
            for (std::size_t j = 0; j < k; ++j) n += owner[j] == owner[k];
            r.path += "[" + std::to_string(n) + "]";
        }
        r.type = op_name<k>();
        r.output_shape = shape<k>::str();
        r.params = owner[k] == k ? facts.canonical[k] : 0;
        r.flops = facts.flops[k];
        r.kind = facts.kind[k] == Kind::input ? RowKind::input : facts.kind[k] == Kind::merge ? RowKind::merge : RowKind::layer;
        r.node = k;
        r.kernel = epilogues.head[k];
        r.view = (facts.aliasing[k] == LayerAliasing::view && epilogues.head[k] == k) ||
                 (facts.kind[k] == Kind::merge && passes::inputs_in_place(epilogues, k) == facts.arity(k));
        r.extra_pass = facts.separate_activation[k];
        r.folded = epilogues.batchnorm[k] != none;
        r.kernel_text = kernel_text<k>();
        for (std::size_t j = 0; j < facts.arity(k); ++j) r.args.push_back(facts.arg(k, j));
        r.buffer = buffer_of<k>();
        rows.push_back(std::move(r));
    }
    // Every node, with its blocks' rows before their first node, outermost first.
    static std::vector<LayerInfo> describe() {
        std::vector<LayerInfo> nodes;
        [&]<std::size_t... k>(std::index_sequence<k...>) { (describe_one<k>(nodes), ...); }(std::make_index_sequence<K>{});
        struct Span {
            std::size_t first, end, order;
            LayerInfo row;
        };
        std::vector<Span> blocks;
        [&]<class... B>(std::tuple<B...>) {
            (([&] {
                 LayerInfo r;
                 r.path = B::path.str();
                 r.type = block_display_name<typename B::block>();
                 r.kind = RowKind::block;
                 r.node = r.kernel = B::end - 1;
                 r.output_shape = nodes[B::end - 1].output_shape;
                 r.kernel_text = "block";
                 for (std::size_t k = B::first; k < B::end; ++k) r.params += nodes[k].params, r.flops += nodes[k].flops;
                 blocks.push_back({B::first, B::end, blocks.size(), std::move(r)});
             }()),
             ...);
        }(typename M::blocks{});
        // Outer blocks first: records are made as blocks close, so of two with one range the
        // later is the outer.
        std::sort(blocks.begin(), blocks.end(), [](const Span& a, const Span& b) {
            if (a.first != b.first) return a.first < b.first;
            if (a.end != b.end) return a.end > b.end;
            return a.order > b.order;
        });
        for (std::size_t i = 0; i < blocks.size(); ++i)
            for (std::size_t j = 0; j < i; ++j)
                if (blocks[j].first <= blocks[i].first && blocks[i].end <= blocks[j].end) ++blocks[i].row.depth;
        std::vector<LayerInfo> rows;
        std::size_t b = 0;
        for (std::size_t k = 0; k < K; ++k) {
            for (; b < blocks.size() && blocks[b].first == k; ++b) rows.push_back(blocks[b].row);
            LayerInfo r = nodes[k];
            for (const Span& s : blocks)
                if (s.first <= k && k < s.end) ++r.depth;
            rows.push_back(std::move(r));
        }
        return rows;
    }
};

}  // namespace typenet::runtime

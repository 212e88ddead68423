// Program<Module>: the one engine. It runs the passes over a lowered model (ir/), in this
// order, each a constexpr function of its own header under passes/:
//
//   gather_facts          one record per node (passes/facts.hpp)
//   param_owners          one parameter slot per path: shared layers share it
//   fold_batchnorm        BatchNorm into the kernel before it, at pack time
//   fuse_residual_add     an Add into the epilogue of the kernel computing its later operand
//   fuse_activation       an activation into the epilogue of the kernel before it
//   concat_in_place       kernels write their slices of a Concat's output
//   crop_to_readers       a convolution computes only the part of its map a pooling reads
//   plan_memory           every node's buffer, by liveness
//   flatten_permutation   which weights PyTorch's flatten order permutes
//
// and then runs the nodes in their fixed order, packs weights, names parameters and
// describes itself, all from those results. Every spelling of a model (Sequential, nested
// blocks, Residual/Branch, functional graphs) is this same program once lowered.
#pragma once
#include "../core/isa.hpp"
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
#include "../kernels/share.hpp"
#include "../kernels/simd.hpp"
#include "../core/layer.hpp"
#include "threads.hpp"
#include "../passes/concat_in_place.hpp"
#include "../passes/crop_to_readers.hpp"
#include "../passes/epilogue.hpp"
#include "../passes/facts.hpp"
#include "../passes/flatten_permutation.hpp"
#include "../passes/fold_batchnorm.hpp"
#include "../passes/fuse_activation.hpp"
#include "../passes/fuse_residual_add.hpp"
#include "../passes/memory_plan.hpp"
#include "../passes/param_owners.hpp"
#include "../passes/records.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::runtime {

using passes::Kind;
using passes::none;
using passes::Where;

template <class L, class Act, class In = void>
std::string kernel_name_of() {
    if constexpr (requires { L::template kernel_name_on<Act, In>(); }) return L::template kernel_name_on<Act, In>();  // depends on the input
    else if constexpr (requires { L::template kernel_name<Act>(); }) return L::template kernel_name<Act>();
    else if constexpr (core::layer_aliasing<L>() == LayerAliasing::view) return "view (no copy)";
    else if constexpr (core::layer_aliasing<L>() == LayerAliasing::in_place) return "in place";
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
    static constexpr auto& facts = passes::facts_of<M>;
    static constexpr auto& owner = passes::owners_of<M>;
    static constexpr auto epilogues = passes::concat_in_place(
        facts, passes::fuse_activation(facts, passes::fuse_residual_add(facts, passes::fold_batchnorm(facts, owner, passes::unfused_epilogues(facts)))));
    static constexpr auto crops = passes::crop_to_readers(facts, epilogues);
    static constexpr auto plan = passes::plan_memory(facts, epilogues);
    static constexpr auto flattened_hwc = passes::flatten_permutation(facts);

    // ---- Parameters: one slot per owner ----
    static consteval std::array<std::size_t, K + 1> offsets(bool packed) {
        std::array<std::size_t, K + 1> off{};
        std::size_t at = 0;
        for (std::size_t k = 0; k < K; ++k) {
            off[k] = at;
            if (owner[k] == k) at = core::checked_add(at, packed ? facts.packed[k] : facts.canonical[k]);
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
        for (std::size_t k = 0; k < K; ++k) n = core::checked_add(n, facts.flops[k]);
        return n;
    }();
    // ---- Streamed state: one slot per node (a shared recurrent layer has a state per use) ----
    static constexpr auto state_offset = [] {
        std::array<std::size_t, K + 1> off{};
        std::size_t at = 0;
        for (std::size_t k = 0; k < K; ++k) off[k] = at, at = core::checked_add(at, facts.state_per_row[k]);
        off[K] = at;
        return off;
    }();
    static constexpr std::size_t state_floats = state_offset[K];  // per row
    // The first node that cannot run a time step at a time (K if none): streaming needs none.
    static constexpr std::size_t first_not_streaming = [] {
        for (std::size_t k = 0; k < K; ++k)
            if (!facts.streams[k]) return k;
        return K;
    }();
    // The activations and scratch, then (when the caller gives no state) a zero state.
    static constexpr std::size_t arena_floats(std::size_t rows) {
        return plan.arena_floats(rows) + (state_floats ? kernels::round_up(state_floats * rows, param_align) : 0);
    }
    static constexpr std::size_t param_align = typenet::detail::param_align_floats;
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
    static void step(const float* params, const float* const* ins, float* const* outs, std::size_t rows, float* arena, float* state) {
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
            if constexpr (crops.out[k][0] != 0) {
                using Act = typename decltype(slice_activation_probe<k>())::type;
                L::template forward_cropped<In, Act>(p, src, dst, rows, scratch, crops.out[k][0], crops.out[k][1]);
            } else if constexpr (crops.in[k][0] != 0) {
                L::template forward_on_crop<In>(p, src, dst, rows, crops.in[k][0], crops.in[k][1]);
            } else if constexpr (e.into[k] != none) {
                using Act = typename decltype(slice_activation_probe<k>())::type;
                L::template forward_strided<In, Act>(p, src, location<e.into[k]>(ins, outs, rows, arena) + e.slice_offset[k], rows, scratch,
                                                     facts.last_dim[e.into[k]]);
            } else if constexpr (e.add[k] != none) {
                L::template forward_add<In, fused_activation<k>>(p, src, dst, rows, scratch, location<e.addend[k]>(ins, outs, rows, arena));
            } else if constexpr (e.activation[k] != none) {
                if constexpr (StatefulLayer<L, In>)
                    L::template forward_with<In, fused_activation<k>>(p, src, dst, rows, scratch, state + state_offset[k] * rows);
                else if constexpr (requires { L::template forward_with<In, fused_activation<k>>(p, src, dst, rows, scratch); })
                    L::template forward_with<In, fused_activation<k>>(p, src, dst, rows, scratch);
                else
                    L::template forward_with<In, fused_activation<k>>(p, src, dst, rows);
            } else {
                bound<k>::forward(p, src, dst, rows, scratch, state + state_offset[k] * rows);
            }
        }
    }
    // ---- One sample on several threads: the convolutions split their output pixels ----
    //
    // Node k runs shared when its kernel takes a share (a layer's forward_shared: Conv2D on the
    // implicit GEMM or a 1x1 GEMM) with an elementwise activation; every other node runs on the
    // calling thread alone (the team's leader). Each shared node is one or two team phases (a
    // barrier each).
    static constexpr std::size_t min_shared_flops = 1'000'000;

    static consteval bool any_shared() {
        return []<std::size_t... k>(std::index_sequence<k...>) { return (runs_shared<k>() || ...); }(std::make_index_sequence<K>{});
    }
    template <std::size_t k>
    static consteval bool runs_shared() {
        if constexpr (facts.kind[k] == Kind::input || facts.kind[k] == Kind::merge || epilogues.head[k] != k) {
            return false;
        } else {
            using L = op<k>;
            using In = in_shape<k>;
            using Act = typename decltype(shared_activation_probe<k>())::type;
            // At least a megaflop (~5 us on one core): a split costs one or two barriers
            // (bench/threads.cpp), which a smaller layer does not win back.
            if constexpr (requires { L::template shares<In>; L::template share_phases<In>; } && !requires { L::separate_activation; })
                return L::template shares<In> && !Act::row_wise && !StatefulLayer<L, In> && facts.flops[k] >= min_shared_flops;
            else
                return false;
        }
    }
    template <std::size_t k>
    static consteval auto shared_activation_probe() {
        if constexpr (epilogues.into[k] != none) return slice_activation_probe<k>();
        else if constexpr (epilogues.add[k] != none || epilogues.activation[k] != none) return fused_activation_probe<k>();
        else if constexpr (requires { typename op<k>::activation; }) return std::type_identity<typename op<k>::activation>{};
        else return std::type_identity<linear>{};
    }
    template <std::size_t k>
    static void step_shared(const float* params, const float* const* ins, float* const* outs, float* arena, kernels::Share share) {
        constexpr auto& e = epilogues;
        using L = op<k>;
        using In = in_shape<k>;
        using Act = typename decltype(shared_activation_probe<k>())::type;
        const float* p = params + packed_offset[k];
        const float* src = location<facts.arg(k)>(ins, outs, 1, arena);
        float* scratch = arena + plan.activation_floats;
        if constexpr (e.into[k] != none)
            L::template forward_shared<In, Act>(p, src, location<e.into[k]>(ins, outs, 1, arena) + e.slice_offset[k], scratch, nullptr,
                                                facts.last_dim[e.into[k]], share);
        else if constexpr (e.add[k] != none)
            L::template forward_shared<In, Act>(p, src, location<k>(ins, outs, 1, arena), scratch, location<e.addend[k]>(ins, outs, 1, arena), 0,
                                                share);
        else if constexpr (crops.out[k][0] != 0)
            L::template forward_shared<In, Act>(p, src, location<k>(ins, outs, 1, arena), scratch, nullptr, 0, share, crops.out[k][0],
                                                crops.out[k][1]);
        else
            L::template forward_shared<In, Act>(p, src, location<k>(ins, outs, 1, arena), scratch, nullptr, 0, share);
    }
    // One sample; `arena` holds arena_floats(1) floats. The outputs are bitwise run's.
    template <class E>
    static void run_shared(const float* params, const float* const* ins, float* const* outs, float* arena, E& executor) {
        if constexpr (state_floats > 0) {
            run(params, ins, outs, 1, arena);  // streamed state: one thread
        } else {
            // One team for the whole pass (runtime/threads.hpp): the leader runs the nodes in
            // order, and the helpers join each shared node's phases.
            const std::size_t n = std::max<std::size_t>(executor.concurrency(), 1);  // (a user executor saying 0: one thread)
            auto nodes = [&](auto&& phases) {
                [&]<std::size_t... k>(std::index_sequence<k...>) {
                    (
                        [&] {
                            if constexpr (runs_shared<k>()) {
                                if constexpr (op<k>::template share_phases<in_shape<k>> == 2)
                                    phases(n, [&](std::size_t t) { step_shared<k>(params, ins, outs, arena, {t, n, 0}); });
                                phases(n, [&](std::size_t t) { step_shared<k>(params, ins, outs, arena, {t, n, 1}); });
                            } else {
                                step<k>(params, ins, outs, 1, arena, nullptr);
                            }
                        }(),
                        ...);
                }(std::make_index_sequence<K>{});
            };
            if constexpr (any_shared())
                run_team(executor, [&](Team& team) { nodes([&](std::size_t pieces, TaskRef f) { team.parallel(pieces, f); }); });
            else
                nodes([](std::size_t, TaskRef) {});
            [&]<std::size_t... o>(std::index_sequence<o...>) { (copy_output<o>(ins, outs, 1, arena), ...); }(
                std::make_index_sequence<M::n_outputs>{});
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
    // Runs the model on `rows` samples; `arena` holds arena_floats(rows) floats. `state`, when
    // given, holds rows x state_floats floats: the streamed state before the call, and after
    // it (node k's at state_offset[k] * rows); without it every sequence starts from zeros.
    static void run(const float* params, const float* const* ins, float* const* outs, std::size_t rows, float* arena,
                    float* state = nullptr) {
        if constexpr (state_floats > 0)
            if (!state) {
                state = arena + plan.arena_floats(rows);
                std::fill_n(state, state_floats * rows, 0.f);
            }
        [&]<std::size_t... k>(std::index_sequence<k...>) { (step<k>(params, ins, outs, rows, arena, state), ...); }(std::make_index_sequence<K>{});
        [&]<std::size_t... o>(std::index_sequence<o...>) { (copy_output<o>(ins, outs, rows, arena), ...); }(
            std::make_index_sequence<M::n_outputs>{});
    }

    // ---- Per-node functions, instantiated per layer type, not per node: nodes with equal
    // layers share them, and the loops below are ordinary run-time loops over the passes'
    // constexpr results. (Compile time grows with the distinct layers, not the node count.)
    struct NodeFns {
        std::string (*type)();
        std::string (*shape)();
        std::string (*kernel)();        // the kernel's name with the activation it applies
        std::string (*kernel_plain)();  // without one (an Add comes first)
        std::string (*activation)();    // the fused activation's name
        void (*pack)(const float*, float*);
        void (*pack_folded)(const float* weights, const float* batchnorm, float* packed);
        const ParamSpec* params;
        std::size_t n_params;
        std::string_view keras_class;
        bool names_kernel;  // the layer names its kernel (kernel_name<Act>())
        LayerTraits (*traits)();
    };
    static LayerTraits no_traits() { return {}; }
    template <class L, class In>
    static LayerTraits traits_of() {
        LayerTraits t;
        if constexpr (requires { typename L::activation; } && !requires { L::cell; })  // a cell's own functions are not an output's
            if constexpr (!std::is_same_v<typename L::activation, linear>) t.activation = L::activation::name();
        if constexpr (requires { L::epsilon; }) t.epsilon = double(L::epsilon);
        if constexpr (requires { L::K; L::S; L::D; L::template G<In>; L::causal; }) {
            t.kernel = L::K, t.stride = L::S, t.dilation = L::D, t.groups = L::template G<In>;
            t.causal = L::causal;
        }
        return t;
    }
    static std::string input_name() { return "Input"; }
    static std::string no_name() { return {}; }
    static void no_pack(const float*, float*) {}
    static void no_fold(const float*, const float*, float*) {}
    template <class L, class Act, class In>
    static std::string kernel_name() { return kernel_name_of<L, Act, In>(); }
    template <class A>
    static std::string activation_name() { return A::name(); }
    // W'[o] = W[o] * scale[o], b'[o] = b[o] * scale[o] + shift[o]: the weight is the first
    // parameter, its leading axis the output channels.
    template <class L, class In, class BN>
    static void pack_folded(const float* w, const float* bn, float* packed) {
        using B = typenet::detail::Bound<L, In>;
        constexpr std::size_t channels = L::template out_channels<In>;
        constexpr std::size_t wsize = B::params[0].size(), row = wsize / channels;
        const float* bias = B::params.size() > 1 ? w + wsize : nullptr;
        std::vector<float> scale(channels), shift(channels), fw(w, w + wsize), fb(channels);
        BN::scale_shift(bn, channels, scale.data(), shift.data());
        for (std::size_t o = 0; o < channels; ++o) {
            for (std::size_t i = 0; i < row; ++i) fw[o * row + i] *= scale[o];
            fb[o] = (bias ? bias[o] : 0.f) * scale[o] + shift[o];
        }
        L::template pack_with_bias<In>(fw.data(), fb.data(), packed);
    }
    template <std::size_t k>
    static constexpr NodeFns fns_of() {
        if constexpr (facts.kind[k] == Kind::input) {
            return {&input_name, &shape<k>::str, &no_name, &no_name, &no_name, &no_pack, &no_fold, nullptr, 0, {}, false, &no_traits};
        } else if constexpr (facts.kind[k] == Kind::merge) {
            return {&layer_name<op<k>>, &shape<k>::str, &no_name, &no_name, &no_name, &no_pack, &no_fold, nullptr, 0, {}, false, &no_traits};
        } else {
            using L = op<k>;
            using Own = typename decltype(slice_activation_probe<k>())::type;  // the fused activation, or the layer's own
            std::string_view keras_class;
            if constexpr (requires { L::keras_class; }) keras_class = L::keras_class;
            void (*fold)(const float*, const float*, float*) = &no_fold;
            if constexpr (epilogues.batchnorm[k] != none) fold = &pack_folded<L, in_shape<k>, op<epilogues.batchnorm[k]>>;
            return {&layer_name<L>, &shape<k>::str, &kernel_name<L, Own, in_shape<k>>, &kernel_name<L, linear, in_shape<k>>, &activation_name<fused_activation<k>>,
                    &bound<k>::pack, fold, bound<k>::params.data(), bound<k>::params.size(), keras_class,
                    requires { L::template kernel_name<linear>(); }, &traits_of<L, in_shape<k>>};
        }
    }
    static constexpr auto fns = []<std::size_t... k>(std::index_sequence<k...>) {
        return std::array<NodeFns, K>{fns_of<k>()...};
    }(std::make_index_sequence<K>{});

    // ---- Packing: canonical weights into the kernels' layouts (a folded BatchNorm included) ----
    static void pack(const float* canonical, float* packed) {
        for (std::size_t k = 0; k < K; ++k) {
            if (facts.kind[k] != Kind::layer || owner[k] != k || (facts.packed[k] == 0 && facts.canonical[k] == 0)) continue;
            if (epilogues.batchnorm[k] != none)
                fns[k].pack_folded(canonical + canonical_offset[k], canonical + canonical_offset[epilogues.batchnorm[k]], packed + packed_offset[k]);
            else
                fns[k].pack(canonical + canonical_offset[k], packed + packed_offset[k]);
        }
    }

    // ---- Names: each owner's parameters under its path ----
    static void params(std::vector<ParamInfo>& out) {
        for (std::size_t k = 0; k < K; ++k) {
            if (facts.kind[k] != Kind::layer || owner[k] != k) continue;
            const std::string path(facts.path[k]);
            std::size_t off = canonical_offset[k];
            for (std::size_t i = 0; i < fns[k].n_params; ++i) {
                const ParamSpec& p = fns[k].params[i];
                ParamInfo info{path + "." + std::string(p.name), p, off, path, fns[k].keras_class, {}, named[k]};
                if (i == 0) info.flattened_hwc = flattened_hwc[k];
                out.push_back(std::move(info));
                off += p.size();
            }
        }
    }
    static constexpr auto named = []<std::size_t... k>(std::index_sequence<k...>) {
        return std::array<bool, K>{node<k>::named...};
    }(std::make_index_sequence<K>{});

    // ---- Description: a typed row per node (report/ formats them) ----
    static std::string path_of(std::size_t k) { return std::string(facts.path[k]); }
    static std::string buffer_of(std::size_t k) {
        if (epilogues.into[k] != none) {
            const std::size_t at = epilogues.slice_offset[k];
            return buffer_of(epilogues.into[k]) + " [" + std::to_string(at) + ":" + std::to_string(at + facts.last_dim[epilogues.tail[k]]) + "]";
        }
        if (plan.where[k] == Where::input) return "input " + std::to_string(plan.index[k]);
        if (plan.where[k] == Where::output) return "output " + std::to_string(plan.index[k]);
        return "arena +" + std::to_string(plan.offset[k] * sizeof(float));
    }
    static std::string hw_text(std::size_t h, std::size_t w) { return std::to_string(h) + "x" + std::to_string(w); }
    static std::string kernel_text(std::size_t k) {
        const auto& e = epilogues;
        if (facts.kind[k] == Kind::input) return {};
        if (e.head[k] != k) return "fused into " + path_of(e.head[k]);
        if (facts.kind[k] == Kind::merge) {
            const std::size_t in_place = passes::inputs_in_place(e, k);
            if (in_place == facts.arity(k)) return "view (no copy: its inputs write their slices)";
            if (in_place > 0)
                return "merge (copies " + std::to_string(facts.arity(k) - in_place) + " of " + std::to_string(facts.arity(k)) + " inputs)";
            return "merge";
        }
        std::string s;
        if (owner[k] != k) s = "shares the weights of " + path_of(owner[k]) + "; ";
        s += e.add[k] != none ? fns[k].kernel_plain() : fns[k].kernel();
        if (e.batchnorm[k] != none) s += " (batchnorm folded)";
        if (crops.out[k][0] != 0) {
            const auto& whole = facts.in_hwc[e.sole_reader[e.tail[k]]];
            s += " (" + hw_text(crops.out[k][0], crops.out[k][1]) + " of " + hw_text(whole[0], whole[1]) + " pixels: what " +
                 path_of(e.sole_reader[e.tail[k]]) + " reads)";
        }
        if (e.into[k] != none) s += " into " + path_of(e.into[k]);
        if (e.add[k] != none) {
            s += " +add " + path_of(e.addend[k]);
            if (e.activation[k] != none) s += ", then " + fns[k].activation();
        }
        return s;
    }
    static LayerInfo describe_node(std::size_t k) {
        LayerInfo r;
        r.path = path_of(k);
        if (owner[k] != k) {  // the n-th call of a shared layer: "enc[1]"
            std::size_t n = 0;
            for (std::size_t j = 0; j < k; ++j) n += owner[j] == owner[k];
            r.path += "[" + std::to_string(n) + "]";
        }
        r.type = fns[k].type();
        r.output_shape = fns[k].shape();
        r.params = owner[k] == k ? facts.canonical[k] : 0;
        r.flops = facts.flops[k];
        r.kind = facts.kind[k] == Kind::input ? RowKind::input : facts.kind[k] == Kind::merge ? RowKind::merge : RowKind::layer;
        r.node = k;
        r.kernel = epilogues.head[k];
        r.view = (facts.aliasing[k] == LayerAliasing::view && epilogues.head[k] == k) ||
                 (facts.kind[k] == Kind::merge && passes::inputs_in_place(epilogues, k) == facts.arity(k));
        r.extra_pass = facts.separate_activation[k];
        r.folded = epilogues.batchnorm[k] != none;
        r.kernel_text = kernel_text(k);
        if (facts.kind[k] == Kind::layer && epilogues.head[k] == k && fns[k].names_kernel)
            r.kernel_name = (epilogues.add[k] != none ? fns[k].kernel_plain() : fns[k].kernel()) +
                            (epilogues.batchnorm[k] != none ? " (batchnorm folded)" : "");
        r.adds_residual = epilogues.add[k] != none;
        r.folded_into_weights = facts.is_batchnorm[k] && epilogues.head[k] != k;
        for (std::size_t j = 0; j < facts.arity(k); ++j) r.args.push_back(facts.arg(k, j));
        r.buffer = buffer_of(k);
        r.traits = fns[k].traits();
        return r;
    }
    // Every node, with its blocks' rows before their first node, outermost first.
    static std::vector<LayerInfo> describe() {
        std::vector<LayerInfo> nodes;
        for (std::size_t k = 0; k < K; ++k) nodes.push_back(describe_node(k));
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

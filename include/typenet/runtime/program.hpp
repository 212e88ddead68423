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
//   band_rows             a 1x1 convolution only a depthwise one reads runs band by band in it
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
#include "../passes/bands.hpp"
#include "../passes/gates.hpp"
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

#ifndef TYPENET_BLOCK_ARENA_BYTES
// How much arena one block of predict() rows may use in a Workspace: about a core's L2. More
// rows per block only help GEMMs (the MLP needs 8); past the L2, large feature maps slow down
// (Inception 3a at batch 64: 172 ms in blocks of 1-2 rows, 196 ms in blocks of 16).
#define TYPENET_BLOCK_ARENA_BYTES (2 * 1024 * 1024)
#endif

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

// ---- Running a node ----
//
// Each node runs through a class template of its layer's types and one constant value (its
// buffers, parameter offset and entry point), never through a member of Program<M>: g++
// names (mangles) every instantiated function, and a member's name carries the whole
// model's type, so per-node members made mangling a third of a large model's compile time.

// Where a node's value lives, from the memory plan. `skip`: a merge input whose kernel wrote
// its slice of the output already (the merge reads nullptr for it).
struct Loc {
    Where where = Where::arena;
    std::size_t index = 0, offset = 0;
    bool skip = false;
};
template <Loc L>
float* locate(const float* const* ins, float* const* outs, std::size_t rows, float* arena) noexcept {
    if constexpr (L.skip) return nullptr;
    else if constexpr (L.where == Where::input) return const_cast<float*>(ins[L.index]);  // read only: views alone alias it
    else if constexpr (L.where == Where::output) return outs[L.index];
    else return arena + L.offset * rows;
}

// A layer node's entry point: its output cropped to what its reader uses, its input a crop,
// its output a slice of a Concat's, a residual Add or an activation in its epilogue, or plain.
enum class Entry : unsigned char { plain, cropped, on_crop, strided, add, fused };
struct LayerRun {
    Entry entry = Entry::plain;
    std::size_t params = 0;  // its offset in the packed parameters
    Loc src, dst;
    Loc other;  // strided: the Concat's buffer; add: the addend
    std::size_t slice_offset = 0, slice_width = 0;
    std::size_t crop_h = 0, crop_w = 0;
    std::size_t state = 0;  // its offset in a row of the streamed state
};

// Act: the activation its epilogue applies (entries cropped, strided, add, fused).
template <class L, class In, class Act, LayerRun R>
struct LayerStep {
    static void run(const float* params, const float* const* ins, float* const* outs, std::size_t rows, float* arena, float* scratch,
                    float* state) {
        const float* p = params + R.params;
        const float* src = locate<R.src>(ins, outs, rows, arena);
        float* dst = locate<R.dst>(ins, outs, rows, arena);
        if constexpr (R.entry == Entry::cropped) {
            L::template forward_cropped<In, Act>(p, src, dst, rows, scratch, R.crop_h, R.crop_w);
        } else if constexpr (R.entry == Entry::on_crop) {
            L::template forward_on_crop<In>(p, src, dst, rows, R.crop_h, R.crop_w);
        } else if constexpr (R.entry == Entry::strided) {
            L::template forward_strided<In, Act>(p, src, locate<R.other>(ins, outs, rows, arena) + R.slice_offset, rows, scratch,
                                                 R.slice_width);
        } else if constexpr (R.entry == Entry::add) {
            L::template forward_add<In, Act>(p, src, dst, rows, scratch, locate<R.other>(ins, outs, rows, arena));
        } else if constexpr (R.entry == Entry::fused) {
            if constexpr (StatefulLayer<L, In>)
                L::template forward_with<In, Act>(p, src, dst, rows, scratch, state + R.state * rows);
            else if constexpr (requires { L::template forward_with<In, Act>(p, src, dst, rows, scratch); })
                L::template forward_with<In, Act>(p, src, dst, rows, scratch);
            else
                L::template forward_with<In, Act>(p, src, dst, rows);
        } else {
            typenet::detail::Bound<L, In>::forward(p, src, dst, rows, scratch, state + R.state * rows);
        }
    }
};
// A merge that copies: its inputs at Args (of shapes Shapes...), its output at Dst.
template <class Op, Loc Dst, auto Args, class... Shapes>
struct MergeStep {
    static void run(const float*, const float* const* ins, float* const* outs, std::size_t rows, float* arena, float*, float*) {
        [&]<std::size_t... j>(std::index_sequence<j...>) {
            const float* src[] = {locate<Args[j]>(ins, outs, rows, arena)...};
            Op::template merge<Shapes...>(src, locate<Dst>(ins, outs, rows, arena), rows);
        }(std::index_sequence_for<Shapes...>{});
    }
};
// An input, a node another kernel computes, or a merge its inputs wrote in place.
struct NoStep {
    static void run(const float*, const float* const*, float* const*, std::size_t, float*, float*, float*) noexcept {}
};

// The observer of a plain run: none.
struct NoObserver {
    constexpr void operator()(std::size_t) const noexcept {}
};

// A depthwise convolution (D) band by band of its output rows (passes/bands.hpp), with the
// 1x1 convolution whose value only it reads (P) and the one that alone reads its value (Q),
// either or both: each band's input rows are computed by P into the buffer at the start of
// scratch (rows the band before it read too are moved to its top, not computed again), the
// band's output rows by D (into the second buffer when Q follows, else at their places in its
// map), then Q's rows from there. The observer is called after each part, with the node that
// ran it (Program::run_observed).
struct BandPlan {
    std::size_t p = 0, d = 0, q = 0;            // the nodes (none: no P / no Q)
    std::size_t bands = 0, h = 0, row = 0;      // bands per sample; D's input rows and floats per row
    std::size_t p_row = 0;                      // floats per row of P's input
    std::size_t in_floats = 0, out_floats = 0;  // per sample: the step's input (P's or D's), its output (D's or Q's)
    std::size_t out_at = 0;                     // with Q: D's band rows in scratch, from here
    std::size_t d_row = 0, q_row = 0;           // floats per output row of D and of Q
    RowWindow window;
};
// The layers' entries, and an observer (none: call null), for the one loop below.
struct BandParts {
    void (*rows)(const float* params, const float* in, float* out, std::size_t n) = nullptr;
    void (*band)(const float* params, const float* rows, std::size_t first, std::size_t n, std::size_t oy0, std::size_t oy1, float* out) = nullptr;
    void (*project)(const float* params, const float* in, float* out, std::size_t n, const float* add) = nullptr;
    void* observer = nullptr;
    void (*observe)(void* observer, std::size_t node) = nullptr;
};
// One function for every model and set of layers: the entries come as pointers (compile
// time: a band step is a few small entries per depthwise layer, not a loop for each).
// x: the step's input (P's, or D's without P); y: its output (Q's, or D's without Q); add: Q's
// residual, laid out like y (or null). The buffers: the input rows at `scratch`, D's band rows
// after them (or at `out`). `share`: this call's part of each sample's bands (a thread's, in
// run_shared: its first band computes all its input rows, which the band before it computed
// too — with the same sums, so the same bits).
[[gnu::noinline]] inline void run_bands(const BandPlan& b, const BandParts& f, const float* pp, const float* pd, const float* pq,
                                        const float* x, float* y, const float* add, std::size_t rows, float* scratch,
                                        kernels::Share share = {}, float* out = nullptr) {
    const RowWindow& w = b.window;
    float* held = scratch;
    float* band_out = out ? out : scratch + b.out_at;
    const auto [band0, band1] = share.range(b.bands);
    for (std::size_t s = 0; s < rows; ++s) {
        std::size_t have0 = 0, have1 = 0;  // the map's rows in the buffer: [have0, have1) from its top
        for (std::size_t band = band0; band < band1; ++band) {
            const auto [oy0, oy1] = kernels::Share{band, b.bands}.range(w.oh, w.unit);
            if (oy0 == oy1) continue;
            const std::size_t iy0 = oy0 * w.stride > w.pad_top ? oy0 * w.stride - w.pad_top : 0;
            const std::size_t last = (oy1 - 1) * w.stride + w.kh;  // (one past the band's last input row, padding counted)
            const std::size_t iy1 = std::min(b.h, last > w.pad_top ? last - w.pad_top : 0);
            const float* in_rows = x + s * b.in_floats + iy0 * b.row;
            if (f.rows) {
                std::size_t from = iy0;
                if (iy0 < have1) {  // rows the band before read too
                    std::copy(held + (iy0 - have0) * b.row, held + (have1 - have0) * b.row, held);
                    from = have1;
                }
                if (from < iy1) f.rows(pp, x + s * b.in_floats + from * b.p_row, held + (from - iy0) * b.row, iy1 - from);
                if (f.observe) f.observe(f.observer, b.p);
                in_rows = held;
                have0 = iy0, have1 = iy1;
            }
            float* d_out = f.project ? band_out : y + s * b.out_floats + oy0 * b.d_row;
            f.band(pd, in_rows, iy0, iy1 - iy0, oy0, oy1, d_out);
            if (f.observe) f.observe(f.observer, b.d);
            if (f.project) {
                const std::size_t at = s * b.out_floats + oy0 * b.q_row;
                f.project(pq, band_out, y + at, oy1 - oy0, add ? add + at : nullptr);
                if (f.observe) f.observe(f.observer, b.q);
            }
        }
    }
}
// P, D and Q: a layer, its input shape, activation and run (P or Q void: none).
template <class L, class In, class Act, LayerRun R>
struct BandLayer {};
template <class P, class D, class Q, BandPlan B>
struct BandStep;
template <class LP, class InP, class ActP, LayerRun RP, class LD, class InD, class ActD, LayerRun RD, class LQ, class InQ, class ActQ,
          LayerRun RQ, BandPlan B>
struct BandStep<BandLayer<LP, InP, ActP, RP>, BandLayer<LD, InD, ActD, RD>, BandLayer<LQ, InQ, ActQ, RQ>, B> {
    static void pointwise(const float* params, const float* in, float* out, std::size_t n) {
        LP::template forward_rows<InP, ActP>(params, in, out, n, nullptr);
    }
    static void depthwise(const float* params, const float* in, std::size_t first, std::size_t n, std::size_t oy0, std::size_t oy1,
                          float* out) {
        LD::template forward_band<InD, ActD>(params, in, first, n, oy0, oy1, out);
    }
    static void project(const float* params, const float* in, float* out, std::size_t n, const float* add) {
        LQ::template forward_rows<InQ, ActQ>(params, in, out, n, nullptr, add);
    }
    template <class After>
    static void run(const float* params, const float* const* ins, float* const* outs, std::size_t rows, float* arena, float* scratch,
                    After& after, kernels::Share share = {}, float* out = nullptr) {
        BandParts f;
        f.band = &depthwise;
        if constexpr (!std::is_void_v<LP>) f.rows = &pointwise;
        if constexpr (!std::is_void_v<LQ>) f.project = &project;
        if constexpr (!std::is_same_v<std::remove_cvref_t<After>, NoObserver>)
            f.observer = &after, f.observe = [](void* a, std::size_t k) { (*static_cast<std::remove_reference_t<After>*>(a))(k); };
        const float* x = nullptr;
        float* y = nullptr;
        const float* add = nullptr;
        if constexpr (std::is_void_v<LP>) x = locate<RD.src>(ins, outs, rows, arena);
        else x = locate<RP.src>(ins, outs, rows, arena);
        if constexpr (std::is_void_v<LQ>) {
            y = locate<RD.dst>(ins, outs, rows, arena);
        } else {
            y = locate<RQ.dst>(ins, outs, rows, arena);
            if constexpr (RQ.entry == Entry::add) add = locate<RQ.other>(ins, outs, rows, arena);
        }
        run_bands(B, f, params + RP.params, params + RD.params, params + RQ.params, x, y, add, rows, scratch, share, out);
    }
};
// A band step of one sample on several threads (Program::run_shared): its bands in at most
// Pieces shares, share t's input rows at Held + t * HeldFloats in the arena and its band rows
// at Out + t * OutFloats — in the values the step computes but never writes whole (P's, and
// D's when Q follows), which the memory plan keeps apart from every value alive beside them.
// One team phase, no barrier between the three layers, and each thread's rows stay in its L2.
template <class S, std::size_t Held, std::size_t HeldFloats, std::size_t Out, std::size_t OutFloats, std::size_t Pieces>
struct SharedBandStep {
    static void run(Team* team, std::size_t n, const float* params, const float* const* ins, float* const* outs, float* arena,
                    float* scratch) {
        NoObserver none;
        const std::size_t m = std::min(n, Pieces);  // (more shares than threads: more rows computed twice, no faster)
        if (team == nullptr || m <= 1) return S::run(params, ins, outs, 1, arena, scratch, none);
        team->parallel(m, [&](std::size_t t) {
            S::run(params, ins, outs, 1, arena, arena + Held + t * HeldFloats, none, {t, m}, arena + Out + t * OutFloats);
        });
    }
};
// A squeeze-and-excitation (S: a layer, its input shape and run) and the 1x1 convolution that
// alone reads it (Q), one step (passes/gates.hpp): per sample, S's gate from the unscaled map,
// Q's packed weights times it into scratch (or, GatesInputs, Q's inputs as it quantizes them,
// Q's own scratch in their place; WeightFloats, then the gate and its scratch of
// Channels floats, then the gate's own scratch: a row of S's), and Q on the unscaled map with them.
template <class LS, class InS, LayerRun RS, class LQ, class InQ, class ActQ, LayerRun RQ, std::size_t WeightFloats, std::size_t Channels>
struct GatedStep {
    using OutQ = typename LQ::template output_shape_for<InQ>;
    // S's input (Q's too), Q's output and Q's residual (or null), for `rows` samples.
    struct Operands {
        const float* x;
        float* y;
        const float* add;
    };
    static Operands operands(const float* const* ins, float* const* outs, std::size_t rows, float* arena) {
        const float* add = nullptr;
        if constexpr (RQ.entry == Entry::add) add = locate<RQ.other>(ins, outs, rows, arena);
        return {locate<RS.src>(ins, outs, rows, arena), locate<RQ.dst>(ins, outs, rows, arena), add};
    }
    static void run(const float* params, const float* const* ins, float* const* outs, std::size_t rows, float* arena, float* scratch,
                    float*) {
        const Operands o = operands(ins, outs, rows, arena);
        float* weights = scratch;
        float* gate = scratch + WeightFloats;
        for (std::size_t r = 0; r < rows; ++r) {
            LS::template gate<InS>(params + RS.params, o.x + r * InS::size, gate, gate + Channels);
            const float* add = o.add ? o.add + r * OutQ::size : nullptr;
            if constexpr (GatesInputs<LQ, InQ>) {
                LQ::template forward_rows_gated<InQ, ActQ>(params + RQ.params, gate, o.x + r * InS::size, o.y + r * OutQ::size, InQ::dims[0],
                                                           add, weights);  // (its scratch, where the weights would be)
            } else {
                LQ::template gate_weights<InQ>(params + RQ.params, gate, weights);
                LQ::template forward_rows<InQ, ActQ>(weights, o.x + r * InS::size, o.y + r * OutQ::size, InQ::dims[0], nullptr, add);
            }
        }
    }
    // One sample on a team (Program::run_shared): the gate on the leader, then the weights
    // times it split by panels, then the convolution by rows of its map (a barrier after
    // each). A pixel's sums are the GEMM's row chain whatever rows are computed with it: the
    // bits of one thread.
    static void run_shared(Team* team, std::size_t n, const float* params, const float* const* ins, float* const* outs, float* arena,
                           float* scratch) {
        const Operands o = operands(ins, outs, 1, arena);
        float* weights = scratch;
        float* gate = scratch + WeightFloats;
        LS::template gate<InS>(params + RS.params, o.x, gate, gate + Channels);
        constexpr bool by_inputs = GatesInputs<LQ, InQ>;
        if constexpr (!by_inputs)
            team->parallel(n, [&](std::size_t t) { LQ::template gate_weights<InQ>(params + RQ.params, gate, weights, {t, n}); });
        constexpr std::size_t h = InQ::dims[0], in_row = InQ::size / h, out_row = OutQ::size / h;
        team->parallel(n, [&](std::size_t t) {
            const auto [r0, r1] = kernels::Share{t, n}.range(h);
            if (r0 >= r1) return;
            const float* add = o.add ? o.add + r0 * out_row : nullptr;
            if constexpr (by_inputs)
                LQ::template forward_rows_gated<InQ, ActQ>(params + RQ.params, gate, o.x + r0 * in_row, o.y + r0 * out_row, r1 - r0, add);
            else
                LQ::template forward_rows<InQ, ActQ>(weights, o.x + r0 * in_row, o.y + r0 * out_row, r1 - r0, nullptr, add);
        });
    }
};
// A GatedStep of one sample on several threads (GatedStep::run_shared).
template <class S>
struct SharedGatedStep {
    static void run(Team* team, std::size_t n, const float* params, const float* const* ins, float* const* outs, float* arena,
                    float* scratch) {
        if (team == nullptr || n <= 1) return S::run(params, ins, outs, 1, arena, scratch, nullptr);
        S::run_shared(team, n, params, ins, outs, arena, scratch);
    }
};

template <class S> inline constexpr bool is_band_step = false;
template <class P, class D, class Q, BandPlan B>
inline constexpr bool is_band_step<BandStep<P, D, Q, B>> = true;

// Node k's step S, then the observer's call (Program::run_observed). A class template of the
// step alone, and the observer of run a type of its own: nothing per node is named with the
// whole model (see above).
template <class S>
struct Observed {
    template <class After>
    static void run(std::size_t k, const float* params, const float* const* ins, float* const* outs, std::size_t rows, float* arena,
                    float* scratch, float* state, After& after) {
        if constexpr (is_band_step<S>) {
            S::run(params, ins, outs, rows, arena, scratch, after);
        } else if constexpr (!std::is_same_v<S, NoStep>) {
            S::run(params, ins, outs, rows, arena, scratch, state);
            after(k);
        }
    }
};

// One sample's node on a team (runtime/threads.hpp). A layer whose kernel takes a share (its
// forward_shared: Conv2D on the implicit GEMM or a 1x1 GEMM) with an elementwise activation
// runs its output pixels in n pieces, one or two team phases (a barrier each); every other
// node runs on the calling thread alone (the team's leader).
template <class L, class In, class Act>
constexpr bool takes_share() {
    if constexpr (requires { L::template shares<In>; L::template share_phases<In>; } && !requires { L::separate_activation; })
        return L::template shares<In> && !Act::row_wise && !StatefulLayer<L, In>;
    else
        return false;
}
template <class L, class In, class Act, LayerRun R>
struct SharedStep {
    static void piece(const float* params, const float* const* ins, float* const* outs, float* arena, float* scratch, kernels::Share share) {
        const float* p = params + R.params;
        const float* src = locate<R.src>(ins, outs, 1, arena);
        float* dst = locate<R.dst>(ins, outs, 1, arena);
        if constexpr (R.entry == Entry::strided)
            L::template forward_shared<In, Act>(p, src, locate<R.other>(ins, outs, 1, arena) + R.slice_offset, scratch, nullptr, R.slice_width,
                                                share);
        else if constexpr (R.entry == Entry::add)
            L::template forward_shared<In, Act>(p, src, dst, scratch, locate<R.other>(ins, outs, 1, arena), 0, share);
        else if constexpr (R.entry == Entry::cropped)
            L::template forward_shared<In, Act>(p, src, dst, scratch, nullptr, 0, share, R.crop_h, R.crop_w);
        else
            L::template forward_shared<In, Act>(p, src, dst, scratch, nullptr, 0, share);
    }
    static void run(Team* team, std::size_t n, const float* params, const float* const* ins, float* const* outs, float* arena,
                    float* scratch) {
        for (int phase = L::template share_phases<In> == 2 ? 0 : 1; phase < 2; ++phase)
            team->parallel(n, [&](std::size_t t) { piece(params, ins, outs, arena, scratch, {t, n, phase}); });
    }
};
template <class Step>
struct LeaderStep {
    static void run(Team*, std::size_t, const float* params, const float* const* ins, float* const* outs, float* arena, float* scratch) {
        Step::run(params, ins, outs, 1, arena, scratch, nullptr);
    }
};

// The activation a layer applies itself, or linear.
template <class L> struct own_activation {
    using type = linear;
};
template <class L>
    requires requires { typename L::activation; }
struct own_activation<L> {
    using type = typename L::activation;
};

// The per-node functions Program's table points at. They live outside Program so that their
// symbols name the layer, not the whole model: as members, each carried the model's type in
// its mangled name (46 KB each for EfficientNet-B0), which made the object file and the
// assembler's input tens of megabytes.
namespace node_fns {

inline LayerTraits no_traits() { return {}; }
template <class L, class In>
LayerTraits traits_of() {
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
inline std::string input_name() { return "Input"; }
inline std::string no_name() { return {}; }
inline void no_pack(const float*, float*) {}
inline void no_fold(const float*, const float*, float*) {}
template <class A>
std::string activation_name() { return A::name(); }
// W'[o] = W[o] * scale[o], b'[o] = b[o] * scale[o] + shift[o]: the weight is the first
// parameter, its leading axis the output channels.
// (One function for every folded layer; the template gives the sizes and the two functions.)
using ScaleShift = void (*)(const float*, std::size_t, float*, float*) noexcept;
using PackWithBias = void (*)(const float*, const float*, float*);
[[gnu::noinline]] inline void fold_and_pack(const float* w, const float* bias, std::size_t channels, std::size_t row,
                                            const float* bn, ScaleShift scale_shift, PackWithBias pack, float* packed) {
    std::vector<float> scale(channels), shift(channels), fw(w, w + channels * row), fb(channels);
    scale_shift(bn, channels, scale.data(), shift.data());
    for (std::size_t o = 0; o < channels; ++o) {
        for (std::size_t i = 0; i < row; ++i) fw[o * row + i] *= scale[o];
        fb[o] = (bias ? bias[o] : 0.f) * scale[o] + shift[o];
    }
    pack(fw.data(), fb.data(), packed);
}
template <class L, class In, class BN>
void pack_folded(const float* w, const float* bn, float* packed) {
    using B = typenet::detail::Bound<L, In>;
    constexpr std::size_t channels = L::template out_channels<In>;
    constexpr std::size_t wsize = B::params[0].size(), row = wsize / channels;
    const float* bias = B::params.size() > 1 ? w + wsize : nullptr;
    fold_and_pack(w, bias, channels, row, bn, &BN::scale_shift,
                  [](const float* fw, const float* fb, float* p) { L::template pack_with_bias<In>(fw, fb, p); }, packed);
}

// A block (a layer made of layers) over the node range [first, end), as its row shows it:
// a table made at compile time (ordered, nested), so that describing a model of 80 blocks
// compiles to one loop rather than 80 inlined rows and a sort of them.
struct BlockRecord {
    std::string_view path;
    std::string (*type)();
    std::size_t first = 0, end = 0;
};
// The records in the order their rows come: by first node, the outer block first. Records
// are made as blocks close (inner before outer), so of two with one range the later is the
// outer, and the sort moves each block past its own inner ones only.
template <std::size_t N>
constexpr std::array<BlockRecord, N> nest_blocks(std::array<BlockRecord, N> r) {
    auto outer_first = [](const BlockRecord& a, std::size_t ia, const BlockRecord& b, std::size_t ib) {
        if (a.first != b.first) return a.first < b.first;
        if (a.end != b.end) return a.end > b.end;
        return ia > ib;
    };
    std::array<std::size_t, N> order{};
    for (std::size_t i = 0; i < N; ++i) order[i] = i;
    for (std::size_t i = 1; i < N; ++i)  // (insertion sort: a few dozen blocks, at compile time)
        for (std::size_t j = i; j > 0 && outer_first(r[order[j]], order[j], r[order[j - 1]], order[j - 1]); --j)
            std::swap(order[j], order[j - 1]);
    std::array<BlockRecord, N> sorted{};
    for (std::size_t i = 0; i < N; ++i) sorted[i] = r[order[i]];
    return sorted;
}
// A block's row of the description (one function for every block); depth: the blocks around it.
[[gnu::noinline]] inline LayerInfo block_row(const BlockRecord& b, std::size_t depth, const std::vector<LayerInfo>& nodes) {
    LayerInfo r;
    r.path = std::string(b.path);
    r.type = b.type();
    r.kind = RowKind::block;
    r.depth = depth;
    r.node = r.kernel = b.end - 1;
    r.first = b.first;
    r.output_shape = nodes[b.end - 1].output_shape;
    r.kernel_text = "block";
    for (std::size_t k = b.first; k < b.end; ++k) r.params += nodes[k].params, r.flops += nodes[k].flops;
    return r;
}

// A node's row of Program's table: what describing, packing and naming it call.
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
template <class Shape>
struct InputFns {
    static constexpr NodeFns value() {
        return {&input_name, &Shape::str, &no_name, &no_name, &no_name, &no_pack, &no_fold, nullptr, 0, {}, false, &no_traits};
    }
};
template <class Op, class Shape>
struct MergeFns {
    static constexpr NodeFns value() {
        return {&layer_name<Op>, &Shape::str, &no_name, &no_name, &no_name, &no_pack, &no_fold, nullptr, 0, {}, false, &no_traits};
    }
};
// Own: the activation a slice or cropped output applies (the fused one, or the layer's own);
// Fused: the fused activation (linear if none); BN: the BatchNorm folded into it, or void.
template <class L, class In, class Shape, class Own, class Fused, class BN>
struct LayerFns {
    static constexpr NodeFns value() {
        using B = typenet::detail::Bound<L, In>;
        std::string_view keras_class;
        if constexpr (requires { L::keras_class; }) keras_class = L::keras_class;
        void (*fold)(const float*, const float*, float*) = &no_fold;
        if constexpr (!std::is_void_v<BN>) fold = &pack_folded<L, In, BN>;
        return {&layer_name<L>,
                &Shape::str,
                &kernel_name_of<L, Own, In>,
                &kernel_name_of<L, linear, In>,
                &activation_name<Fused>,
                &B::pack,
                fold,
                B::params.data(),
                B::params.size(),
                keras_class,
                requires { L::template kernel_name<linear>(); },
                &traits_of<L, In>};
    }
};

}  // namespace node_fns

// ---- What the run-time loops over a model's nodes read ----
//
// Packing weights, naming parameters, describing the model and sizing its arena loop over the
// nodes at run time, reading the passes' results. They are functions of one constant of
// this type (Program::tables), not members of Program<Module>: g++ names every member
// function a program runs, and every static member one reads, with the whole module
// (EfficientNet-B0's is 46 KB long), and mangling a name that long takes it ~0.1 s (for each
// part of the name it scans the parts named so far). This type is named by three numbers.
template <std::size_t K, std::size_t A, std::size_t B>
struct Tables {
    passes::Facts<K, A> facts;
    std::array<std::size_t, K> owner;
    passes::Epilogues<K> epilogues;
    passes::Crops<K> crops;
    passes::Bands<K> bands;
    passes::Gates<K> gates;
    passes::MemoryPlan<K> plan;
    std::array<std::array<std::size_t, 3>, K> flattened_hwc;
    std::array<std::size_t, K + 1> canonical_offset, packed_offset, state_offset;
    std::array<node_fns::NodeFns, K> fns;
    std::array<bool, K> named;             // the node's path is a name the user gave
    std::array<node_fns::BlockRecord, B> blocks;  // in the order of their rows (node_fns::nest_blocks)
    // The arena beyond the plan's activations and scratch: the streamed state (per row), and
    // the tail of a batch (Program::run_with_tail: its first node, its values per row, its rows).
    std::size_t state_floats = 0, tail_begin = K, tail_floats_per_row = 0, tail_rows = 0;
};

// ---- The arena: activations and scratch (the layers', the bands', the gates'), then (when
// the caller gives no state) a zero state, then the region of a batch's tail ----
template <class T>
constexpr std::size_t scratch_floats(const T& t, std::size_t rows) {
    return std::max({t.plan.scratch_floats(rows), t.bands.floats, t.gates.floats});
}
template <class T>
constexpr std::size_t working_floats(const T& t, std::size_t rows) {
    return t.plan.activation_floats * rows + scratch_floats(t, rows);
}
template <class T>
constexpr std::size_t tail_scratch(const T& t, std::size_t rows) {
    std::size_t m = 0;
    for (std::size_t k = t.tail_begin; k < t.facts.size; ++k)
        m = std::max(m, std::min(t.plan.scratch_per_row[k] * rows + t.plan.scratch_fixed[k], t.plan.scratch_most[k]));
    return m;
}
template <class T>
constexpr std::size_t tail_floats(const T& t, std::size_t rows) {
    return kernels::round_up(t.tail_floats_per_row * rows, typenet::detail::param_align_floats) + tail_scratch(t, rows);
}
template <class T>
constexpr std::size_t arena_floats(const T& t, std::size_t rows) {
    return working_floats(t, rows) + (t.state_floats ? kernels::round_up(t.state_floats * rows, typenet::detail::param_align_floats) : 0) +
           (t.tail_rows ? tail_floats(t, t.tail_rows) : 0);
}

// ---- Packing: canonical weights into the kernels' layouts (a folded BatchNorm included) ----
template <class T>
void pack(const T& t, const float* canonical, float* packed) {
    const auto& f = t.facts;
    for (std::size_t k = 0; k < f.size; ++k) {
        if (f.kind[k] != Kind::layer || t.owner[k] != k || (f.packed[k] == 0 && f.canonical[k] == 0)) continue;
        if (t.epilogues.batchnorm[k] != none)
            t.fns[k].pack_folded(canonical + t.canonical_offset[k], canonical + t.canonical_offset[t.epilogues.batchnorm[k]],
                                 packed + t.packed_offset[k]);
        else
            t.fns[k].pack(canonical + t.canonical_offset[k], packed + t.packed_offset[k]);
    }
}

// ---- Names: each owner's parameters under its path ----
template <class T>
void param_infos(const T& t, std::vector<ParamInfo>& out) {
    const auto& f = t.facts;
    for (std::size_t k = 0; k < f.size; ++k) {
        if (f.kind[k] != Kind::layer || t.owner[k] != k) continue;
        const std::string path(f.path[k]);
        std::size_t off = t.canonical_offset[k];
        for (std::size_t i = 0; i < t.fns[k].n_params; ++i) {
            const ParamSpec& p = t.fns[k].params[i];
            ParamInfo info{path + "." + std::string(p.name), p, off, path, t.fns[k].keras_class, {}, t.named[k]};
            if (i == 0) info.flattened_hwc = t.flattened_hwc[k];
            out.push_back(std::move(info));
            off += p.size();
        }
    }
}

// ---- Description: a typed row per node (report/ formats them) ----
namespace describing {
inline std::string hw_text(std::size_t h, std::size_t w) { return std::to_string(h) + "x" + std::to_string(w); }
template <class T>
std::string buffer_of(const T& t, std::size_t k) {
    const auto& e = t.epilogues;
    if (e.into[k] != none) {
        const std::size_t at = e.slice_offset[k];
        return buffer_of(t, e.into[k]) + " [" + std::to_string(at) + ":" + std::to_string(at + t.facts.last_dim[e.tail[k]]) + "]";
    }
    if (t.plan.where[k] == Where::input) return "input " + std::to_string(t.plan.index[k]);
    if (t.plan.where[k] == Where::output) return "output " + std::to_string(t.plan.index[k]);
    return "arena +" + std::to_string(t.plan.offset[k] * sizeof(float));
}
template <class T>
std::string kernel_text(const T& t, std::size_t k) {
    const auto& e = t.epilogues;
    const auto& facts = t.facts;
    const auto& bands = t.bands;
    auto path_of = [&](std::size_t j) { return std::string(facts.path[j]); };
    if (facts.kind[k] == Kind::input) return {};
    if (e.head[k] != k) return "fused into " + path_of(e.head[k]);
    if (facts.kind[k] == Kind::merge) {
        const std::size_t in_place = passes::inputs_in_place(e, k);
        if (in_place == facts.arity(k)) return "view (no copy: its inputs write their slices)";
        if (in_place > 0)
            return "merge (copies " + std::to_string(facts.arity(k) - in_place) + " of " + std::to_string(facts.arity(k)) + " inputs)";
        return "merge";
    }
    if (t.gates.applier[k] != none)
        return std::string("no pass: its gate taken into the ") + (facts.gates_inputs[t.gates.applier[k]] ? "inputs" : "weights") + " of " +
               path_of(t.gates.applier[k]);
    std::string s;
    if (t.owner[k] != k) s = "shares the weights of " + path_of(t.owner[k]) + "; ";
    s += e.add[k] != none ? t.fns[k].kernel_plain() : t.fns[k].kernel();
    if (e.batchnorm[k] != none) s += " (batchnorm folded)";
    if (t.crops.out[k][0] != 0) {
        const auto& whole = facts.in_hwc[e.sole_reader[e.tail[k]]];
        s += " (" + hw_text(t.crops.out[k][0], t.crops.out[k][1]) + " of " + hw_text(whole[0], whole[1]) + " pixels: what " +
             path_of(e.sole_reader[e.tail[k]]) + " reads)";
    }
    if (e.into[k] != none) s += " into " + path_of(e.into[k]);
    if (t.gates.gate[k] != none)
        s += std::string(facts.gates_inputs[k] ? " (its inputs times the gate of " : " (its weights times the gate of ") + path_of(t.gates.gate[k]) +
             ")";
    if (bands.reader[k] != none)
        s += (bands.producer[bands.reader[k]] == k ? ", computed band by band by " : ", computed on each band of ") + path_of(bands.reader[k]);
    if (bands.runs_bands(k)) {
        s += ", in " + std::to_string(bands.count[k]) + " bands of rows";
        if (bands.producer[k] != none) s += ", each after its rows of " + path_of(bands.producer[k]);
        if (bands.consumer[k] != none) s += (bands.producer[k] != none ? " and before " : ", each before ") + path_of(bands.consumer[k]) + " on them";
    }
    if (e.add[k] != none) {
        s += " +add " + path_of(e.addend[k]);
        if (e.activation[k] != none) s += ", then " + t.fns[k].activation();
    }
    return s;
}
template <class T>
LayerInfo describe_node(const T& t, std::size_t k) {
    const auto& facts = t.facts;
    const auto& e = t.epilogues;
    LayerInfo r;
    r.path = std::string(facts.path[k]);
    if (t.owner[k] != k) {  // the n-th call of a shared layer: "enc[1]"
        std::size_t n = 0;
        for (std::size_t j = 0; j < k; ++j) n += t.owner[j] == t.owner[k];
        r.path += "[" + std::to_string(n) + "]";
    }
    r.type = t.fns[k].type();
    r.output_shape = t.fns[k].shape();
    r.params = t.owner[k] == k ? facts.canonical[k] : 0;
    r.flops = facts.flops[k];
    r.output_floats = facts.floats[k];
    r.packed = facts.packed[k];
    r.kind = facts.kind[k] == Kind::input ? RowKind::input : facts.kind[k] == Kind::merge ? RowKind::merge : RowKind::layer;
    r.node = r.first = k;
    r.kernel = e.head[k];
    r.view = (facts.aliasing[k] == LayerAliasing::view && e.head[k] == k) ||
             (facts.kind[k] == Kind::merge && passes::inputs_in_place(e, k) == facts.arity(k));
    r.extra_pass = facts.separate_activation[k];
    r.folded = e.batchnorm[k] != none;
    r.kernel_text = kernel_text(t, k);
    if (facts.kind[k] == Kind::layer && e.head[k] == k && t.fns[k].names_kernel)
        r.kernel_name = (e.add[k] != none ? t.fns[k].kernel_plain() : t.fns[k].kernel()) + (e.batchnorm[k] != none ? " (batchnorm folded)" : "");
    r.adds_residual = e.add[k] != none;
    r.folded_into_weights = facts.is_batchnorm[k] && e.head[k] != k;
    for (std::size_t j = 0; j < facts.arity(k); ++j) r.args.push_back(facts.arg(k, j));
    r.buffer = buffer_of(t, k);
    r.traits = t.fns[k].traits();
    return r;
}
}  // namespace describing

// Every node, with its blocks' rows before their first node, outermost first; a row's depth
// is the blocks around it: a stack of the open ones (blocks nest or are disjoint).
template <class T>
std::vector<LayerInfo> describe(const T& t) {
    const std::size_t K = t.facts.size;
    std::vector<LayerInfo> nodes;
    for (std::size_t k = 0; k < K; ++k) nodes.push_back(describing::describe_node(t, k));
    std::vector<LayerInfo> rows;
    std::vector<std::size_t> open;  // ends of the blocks around node k
    std::size_t b = 0;
    for (std::size_t k = 0; k < K; ++k) {
        while (!open.empty() && open.back() <= k) open.pop_back();
        for (; b < t.blocks.size() && t.blocks[b].first == k; ++b) {
            rows.push_back(node_fns::block_row(t.blocks[b], open.size(), nodes));
            open.push_back(t.blocks[b].end);
        }
        rows.push_back(std::move(nodes[k]));
        rows.back().depth = open.size();
    }
    return rows;
}

template <class M>
struct Program {
    static constexpr std::size_t K = M::size;
    template <std::size_t k> using node = typename M::template node<k>;
    template <std::size_t k> using op = typename node<k>::op;
    template <std::size_t k> using in_shape = typename node<k>::in_shape;
    template <std::size_t k> using shape = typename node<k>::shape;

    // ---- The passes ----
    static constexpr auto& facts = passes::facts_of<M>;
    static constexpr auto& owner = passes::owners_of<M>;
    static constexpr auto epilogues = passes::concat_in_place(
        facts, passes::fuse_activation(facts, passes::fuse_residual_add(facts, passes::fold_batchnorm(facts, owner, passes::unfused_epilogues(facts)))));
    static constexpr auto crops = passes::crop_to_readers(facts, epilogues);
    static constexpr auto bands = passes::band_rows(facts, epilogues, crops);
    static constexpr auto gates = passes::gate_into_weights(facts, epilogues, crops);
    static constexpr auto plan = passes::plan_memory(facts, epilogues, bands, gates);
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
    // The arena's parts (runtime::arena_floats; at run time, callers ask the free functions
    // of `tables`, below, not these members: see Tables).
    static constexpr std::size_t scratch_floats(std::size_t rows) { return runtime::scratch_floats(tables, rows); }
    static constexpr std::size_t working_floats(std::size_t rows) { return runtime::working_floats(tables, rows); }
    static constexpr std::size_t param_align = typenet::detail::param_align_floats;

    static constexpr std::size_t naive_floats = plan.naive_floats;

    // ---- Running ----
    static constexpr Loc loc(std::size_t k) { return {plan.where[k], plan.index[k], plan.offset[k]}; }
    // The activation kernel k runs in its epilogue: the fused activation node's, or linear.
    template <std::size_t k>
    using fused_activation = std::conditional_t<epilogues.activation[k] != none,
                                                typename own_activation<op<epilogues.activation[k] != none ? epilogues.activation[k] : k>>::type, linear>;
    // Writing a slice (or a cropped output) runs the layer's own activation unless one is fused.
    template <std::size_t k>
    using slice_activation = std::conditional_t<epilogues.activation[k] != none, fused_activation<k>, typename own_activation<op<k>>::type>;

    // How each layer node that runs its own kernel runs (the others: a default LayerRun).
    static constexpr std::array<LayerRun, K> layer_run = [] {
        std::array<LayerRun, K> runs{};
        const auto& e = epilogues;
        for (std::size_t k = 0; k < K; ++k) {
            if (facts.kind[k] != Kind::layer || e.head[k] != k) continue;
            LayerRun& r = runs[k];
            r.params = packed_offset[k], r.src = loc(facts.arg(k)), r.dst = loc(k), r.state = state_offset[k];
            if (crops.out[k][0] != 0) r.entry = Entry::cropped, r.crop_h = crops.out[k][0], r.crop_w = crops.out[k][1];
            else if (crops.in[k][0] != 0) r.entry = Entry::on_crop, r.crop_h = crops.in[k][0], r.crop_w = crops.in[k][1];
            else if (e.into[k] != none)
                r.entry = Entry::strided, r.other = loc(e.into[k]), r.slice_offset = e.slice_offset[k], r.slice_width = facts.last_dim[e.into[k]];
            else if (e.add[k] != none) r.entry = Entry::add, r.other = loc(e.addend[k]);
            else if (e.activation[k] != none) r.entry = Entry::fused;
        }
        return runs;
    }();
    template <std::size_t k>
    using step_activation = std::conditional_t<layer_run[k].entry == Entry::cropped || layer_run[k].entry == Entry::strided, slice_activation<k>,
                                               fused_activation<k>>;
    // The activation a kernel that calls forward_with for every entry (shares, bands) applies.
    template <std::size_t k>
    using own_or_fused_activation =
        std::conditional_t<layer_run[k].entry == Entry::plain, typename own_activation<op<k>>::type, step_activation<k>>;
    // Nodes with nothing to run: inputs, nodes another kernel computes, merges whose inputs
    // wrote their slices.
    static constexpr std::array<bool, K> idle = [] {
        std::array<bool, K> r{};
        for (std::size_t k = 0; k < K; ++k)
            r[k] = facts.kind[k] == Kind::input || epilogues.head[k] != k ||
                   (facts.kind[k] == Kind::merge && passes::inputs_in_place(epilogues, k) == facts.arity(k));
        return r;
    }();
    // Argument a of merge k (skipped: that input's kernel wrote its slice already).
    static constexpr Loc arg_loc(std::size_t k, std::size_t a) { return epilogues.into[epilogues.head[a]] == k ? Loc{.skip = true} : loc(a); }
    // Node k's step: a LayerStep, a MergeStep, a GatedStep or a NoStep, chosen by step_kind
    // before any of them is named, so that a node forms only its own step's type (a
    // std::conditional_t over all four formed a MergeStep's locations and a LayerStep's
    // activation for every node). (Only members that are types: g++ gives a symbol to each
    // used static member of a class, named with the whole model.)
    enum class StepKind { none, gated, merge, layer };
    static constexpr StepKind step_kind(std::size_t k) {
        if (idle[k] || gates.applier[k] != passes::none) return StepKind::none;
        if (gates.gate[k] != passes::none) return StepKind::gated;
        return facts.kind[k] == Kind::merge ? StepKind::merge : StepKind::layer;
    }
    template <std::size_t k, StepKind = step_kind(k)>
    struct StepOf {
        using type = NoStep;
    };
    // A 1x1 convolution taking a squeeze-and-excitation's gate into its weights (passes/gates.hpp).
    template <std::size_t k, std::size_t s = gates.gate[k]>
    struct GatedStepOf {
        using type = GatedStep<op<s>, in_shape<s>, layer_run[s], op<k>, in_shape<k>, own_or_fused_activation<k>, layer_run[k],
                               passes::Gates<K>::weights_floats(facts.packed[k], facts.gates_inputs[k], facts.scratch_fixed[k]),
                               kernels::round_up(facts.last_dim[s], kernels::alignment / sizeof(float))>;
    };
    template <std::size_t k>
    struct StepOf<k, StepKind::gated> : GatedStepOf<k> {};
    template <std::size_t k, class = std::make_index_sequence<node<k>::arity>>
    struct MergeStepOf;
    template <std::size_t k, std::size_t... j>
    struct MergeStepOf<k, std::index_sequence<j...>> {
        using type = MergeStep<op<k>, loc(k), std::array<Loc, sizeof...(j)>{arg_loc(k, node<k>::args[j])...}, shape<node<k>::args[j]>...>;
    };
    template <std::size_t k>
    struct StepOf<k, StepKind::merge> : MergeStepOf<k> {};
    template <std::size_t k>
    struct StepOf<k, StepKind::layer> {
        using type = LayerStep<op<k>, in_shape<k>, step_activation<k>, layer_run[k]>;
    };
    template <std::size_t k> using step = typename StepOf<k>::type;

    // The steps run (one thread) runs: a depthwise convolution run in bands is a BandStep with
    // the 1x1 convolutions beside it (passes/bands.hpp), which have no step of their own.
    template <std::size_t k, std::size_t p = bands.producer[k], std::size_t q = bands.consumer[k]>
    static constexpr BandPlan band_plan() {
        const std::size_t oh = facts.row_window[k].oh, row = facts.in_hwc[k][1] * facts.in_hwc[k][2];
        BandPlan b{p, k, q, bands.count[k], facts.in_hwc[k][0], row, 0, 0, shape<k>::size, bands.out_at(k, row), facts.floats[k] / oh, 0,
                   facts.row_window[k]};
        if constexpr (p != none) b.p_row = facts.in_hwc[p][1] * facts.in_hwc[p][2], b.in_floats = shape<facts.arg(p)>::size;
        else b.in_floats = shape<facts.arg(k)>::size;
        if constexpr (q != none) b.out_floats = facts.floats[q], b.q_row = facts.floats[q] / oh;
        return b;
    }
    template <std::size_t k, bool = (k != none)>
    struct BandLayerOf {
        using type = BandLayer<op<k>, in_shape<k>, own_or_fused_activation<k>, layer_run[k]>;
    };
    template <std::size_t k>
    struct BandLayerOf<k, false> {
        using type = BandLayer<void, void, void, LayerRun{}>;
    };
    template <std::size_t k> using band_layer = typename BandLayerOf<k>::type;
    template <std::size_t k, bool = bands.runs_bands(k)>
    struct RunStepOf {
        using type = std::conditional_t<bands.reader[k] != none, NoStep, step<k>>;
    };
    template <std::size_t k>
    struct RunStepOf<k, true> {
        using type = BandStep<band_layer<bands.producer[k]>, band_layer<k>, band_layer<bands.consumer[k]>, band_plan<k>()>;
    };
    template <std::size_t k> using run_step = typename RunStepOf<k>::type;

    // ---- A batch's tail on several samples at once ----
    //
    // Net::predict runs a network whose one-sample arena is above TYPENET_BLOCK_ARENA_BYTES
    // one sample at a time, so its classifier — Dense layers on a pooled vector, megabytes of
    // weights — would stream its weights from L3 or memory once a sample. The tail: the last
    // nodes, a chain of layers, each reading the one before (at most tail_input_floats a
    // sample) and read by nothing else, the last the model's one output (written where the
    // caller's output is), with weights beyond L2
    // (kernels::weights_stream). run_with_tail runs the nodes before it sample by sample, puts
    // the value the tail reads (node tail_begin - 1) in a region of its own after the working
    // floats, and runs the tail on tail_rows samples at once there: its values laid out anew,
    // each buffer of the plan at an offset of its own (tail_layout), its scratch after them.
    static constexpr std::size_t tail_input_floats = 32768;
    static constexpr std::size_t tail_begin = [] {
        if constexpr (M::n_inputs != 1 || M::n_outputs != 1) return K;
        else {
            if (M::outputs[0] != K - 1 || plan.where[K - 1] != Where::output || state_floats > 0) return K;
            std::size_t t = K;
            for (; t > 2; --t) {  // may node t - 1 join the tail?
                const std::size_t k = t - 1;
                if (facts.kind[k] != Kind::layer || facts.arity(k) != 1 || facts.arg(k) != k - 1 || epilogues.readers[k - 1] != 1 ||
                    facts.floats[k - 1] > tail_input_floats || facts.kind[k - 1] != Kind::layer)
                    break;
                if (bands.runs_bands(k) || bands.reader[k] != none || gates.gate[k] != none || gates.applier[k] != none) break;
                if (!idle[k] && layer_run[k].entry != Entry::plain && layer_run[k].entry != Entry::fused) break;
            }
            // Nothing the tail computes may be another kernel's epilogue from before it, nor the
            // value it reads one from within it.
            while (t < K && (epilogues.head[t] < t || epilogues.tail[epilogues.head[t - 1]] >= t || plan.where[t - 1] != Where::arena)) ++t;
            std::size_t weights = 0;
            for (std::size_t k = t; k < K; ++k) weights += facts.packed[k];
            return t < K && kernels::weights_stream(weights * sizeof(float)) ? t : K;
        }
    }();
    // The tail's values (and the one it reads) per sample: each offset of the plan they use
    // (values in place share one) gets a region of its own, as large as the largest of them.
    struct TailLayout {
        std::array<std::size_t, K> old{}, at{};  // the plan's offsets and theirs here, `count` of them
        std::size_t count = 0, floats = 0;
        constexpr std::size_t of(std::size_t plan_offset) const {
            for (std::size_t j = 0; j < count; ++j)
                if (old[j] == plan_offset) return at[j];
            return 0;
        }
    };
    static constexpr TailLayout tail_layout = [] {
        TailLayout t;
        if (tail_begin == K) return t;
        std::array<std::size_t, K> size{};
        for (std::size_t k = tail_begin - 1; k < K; ++k) {
            if (plan.where[k] != Where::arena) continue;
            std::size_t j = 0;
            while (j < t.count && t.old[j] != plan.offset[k]) ++j;
            if (j == t.count) t.old[t.count++] = plan.offset[k];
            size[j] = std::max(size[j], kernels::round_up(facts.floats[k], param_align));
        }
        for (std::size_t j = 0; j < t.count; ++j) t.at[j] = t.floats, t.floats += size[j];
        return t;
    }();
    static constexpr Loc tail_loc(Loc l) { return l.where == Where::arena && !l.skip ? Loc{l.where, l.index, tail_layout.of(l.offset)} : l; }
    static constexpr LayerRun tail_run(std::size_t k) {
        LayerRun r = layer_run[k];
        r.src = tail_loc(r.src), r.dst = tail_loc(r.dst), r.other = tail_loc(r.other);
        return r;
    }
    template <std::size_t k>
    using tail_step = std::conditional_t<idle[k], NoStep, LayerStep<op<k>, in_shape<k>, step_activation<k>, tail_run(k)>>;
    static constexpr std::size_t arena_floats(std::size_t rows) { return runtime::arena_floats(tables, rows); }

    // ---- One sample on several threads: the convolutions split their output pixels ----
    //
    // Node k runs shared when its kernel takes a share (a layer's forward_shared: Conv2D on the
    // implicit GEMM or a 1x1 GEMM) with an elementwise activation; every other node runs on the
    // calling thread alone (the team's leader). Each shared node is one or two team phases (a
    // barrier each).
    static constexpr std::size_t min_shared_flops = 1'000'000;
    template <std::size_t k>
    using shared_activation = own_or_fused_activation<k>;
    // (At least a megaflop, ~5 us on one core: a split costs one or two barriers, which a
    // smaller layer does not win back; bench/threads.cpp.)
    static constexpr std::array<bool, K> shared = []<std::size_t... k>(std::index_sequence<k...>) {
        return std::array<bool, K>{(facts.kind[k] == Kind::layer && epilogues.head[k] == k && facts.flops[k] >= min_shared_flops &&
                                    gates.gate[k] == passes::none &&
                                    takes_share<op<k>, in_shape<k>, shared_activation<k>>())...};
    }(std::make_index_sequence<K>{});
    // The lag (runtime/threads.hpp's TeamDistance) under which a team splits node k's step.
    // Near (a lag under TeamDistance::near_lag_ns), every step splits: the rules above were
    // measured there. Farther, only a step of enough work: its half at a nominal 500 GFLOP/s
    // at least 40 lags. So ResNet-20's 4.7-MFLOP convolutions (~10 us) split only under a
    // lag of ~120 ns — on a VM whose two vCPUs were 430-580 ns apart (lags of 120-390 ns)
    // they made ResNet-20 on two threads 0.92-0.96x one thread — while ResNet-18's 3x3s
    // (116-231 MFLOP) split up to lags of 2.9-5.8 us, a MobileNet band step (30 MFLOP and
    // up) up to 750 ns.
    static constexpr std::size_t flops_per_lag_ns = 500 * 2 * 40;
    static constexpr std::array<std::uint32_t, K> split_limit_ns = [] {
        std::array<std::uint32_t, K> limit{};
        for (std::size_t k = 0; k < K; ++k) {
            std::size_t work = facts.flops[k];
            if (bands.runs_bands(k)) {
                if (bands.producer[k] != none) work += facts.flops[bands.producer[k]];
                if (bands.consumer[k] != none) work += facts.flops[bands.consumer[k]];
            }
            limit[k] = std::uint32_t(std::clamp<std::size_t>(work / flops_per_lag_ns, TeamDistance::near_lag_ns, TeamDistance::none - 1));
        }
        return limit;
    }();
    // A depthwise layer run in bands runs them shared, the 1x1 convolutions beside it inside
    // (SharedBandStep): each thread a run of bands, its input rows in the expansion's value and
    // its band rows in the depthwise layer's (values this step never writes whole), at most
    // band_pieces_most shares and as many as those values hold buffers for. Against each layer
    // whole, split among the threads (two more barriers a block, and the expanded map out to
    // memory and back): MobileNetV2 at batch 1 on two threads ~7% faster, MobileNetV3-Large ~5%
    // (tools/ab.sh HEAD threads). A band step with room for one share keeps that older path.
    static constexpr std::size_t band_pieces_most = 4;
    static constexpr std::size_t band_held_floats(std::size_t k) {
        return kernels::round_up(bands.held[k] * facts.in_hwc[k][1] * facts.in_hwc[k][2], param_align);
    }
    static constexpr std::size_t band_out_floats(std::size_t k) {
        return kernels::round_up(bands.out_rows[k] * (facts.floats[k] / facts.row_window[k].oh), param_align);
    }
    static constexpr std::size_t band_pieces(std::size_t k) {
        if (!bands.runs_bands(k)) return 1;
        std::size_t m = std::min(band_pieces_most, bands.count[k]);
        auto room = [&](std::size_t node, std::size_t per) {  // shares a spare value holds buffers for
            if (node != none) m = plan.where[node] == Where::arena ? std::min(m, facts.floats[node] / per) : 1;
        };
        room(bands.producer[k], band_held_floats(k));
        room(bands.consumer[k] != none ? k : none, band_out_floats(k));
        return m;
    }
    static constexpr bool shares_bands(std::size_t k) { return bands.runs_bands(k) && band_pieces(k) > 1; }
    // A 1x1 convolution that a shared band step runs: no step of its own.
    static constexpr bool inside_shared_bands(std::size_t k) { return bands.reader[k] != none && shares_bands(bands.reader[k]); }
    // A 1x1 convolution that takes a squeeze-and-excitation's gate into its weights: the gate
    // on the leader, the weights and the rows shared (GatedStep::run_shared).
    static constexpr bool shares_gated(std::size_t k) { return gates.gate[k] != none && !idle[k] && facts.flops[k] >= min_shared_flops; }
    static constexpr bool splits_step(std::size_t k) { return shares_bands(k) || shares_gated(k) || (shared[k] && !inside_shared_bands(k)); }
    static constexpr bool any_shared = [] {
        for (std::size_t k = 0; k < K; ++k)
            if (splits_step(k)) return true;
        return false;
    }();
    // The least lag at which no step splits: a call that goes by it runs on the caller alone.
    static constexpr std::uint32_t useful_lag_ns = [] {
        std::uint32_t most = 0;
        for (std::size_t k = 0; k < K; ++k)
            if (splits_step(k)) most = std::max(most, split_limit_ns[k]);
        return most;
    }();
    template <std::size_t k, bool = shares_bands(k)>
    struct SharedStepOf {
        using type = std::conditional_t<
            inside_shared_bands(k), LeaderStep<NoStep>,
            std::conditional_t<shares_gated(k), SharedGatedStep<step<k>>,
                               std::conditional_t<shared[k], SharedStep<op<k>, in_shape<k>, shared_activation<k>, layer_run[k]>,
                                                  LeaderStep<step<k>>>>>;
    };
    template <std::size_t k>
    struct SharedStepOf<k, true> {
        using type = SharedBandStep<run_step<k>, bands.producer[k] != none ? plan.offset[bands.producer[k]] : 0, band_held_floats(k),
                                    plan.offset[k], band_out_floats(k), band_pieces(k)>;
    };
    template <std::size_t k>
    using shared_step = typename SharedStepOf<k>::type;

    // One sample; `arena` holds arena_floats(1) floats. The outputs are bitwise run's.
    template <class E>
    static void run_shared(const float* params, const float* const* ins, float* const* outs, float* arena, E& executor) {
        if constexpr (state_floats > 0) {
            run(params, ins, outs, 1, arena);  // streamed state: one thread
        } else {
            // One team for the whole pass (runtime/threads.hpp): the leader runs the nodes in
            // order, and the helpers join each shared node's phases.
            const std::size_t n = std::max<std::size_t>(executor.concurrency(), 1);  // (a user executor saying 0: one thread)
            float* scratch = arena + plan.activation_floats;
            auto nodes = [&](Team* team) {
                [&]<std::size_t... k>(std::index_sequence<k...>) {
                    (shared_step<k>::run(team, team && team->splits(split_limit_ns[k]) ? n : 1, params, ins, outs, arena, scratch), ...);
                }(std::make_index_sequence<K>{});
            };
            if constexpr (any_shared)
                run_team(executor, [&](Team& team) { nodes(&team); }, useful_lag_ns);
            else
                nodes(nullptr);
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
            std::copy_n(locate<loc(k)>(ins, outs, rows, arena), rows * shape<k>::size, outs[o]);
    }
    static constexpr bool copies_outputs = []<std::size_t... o>(std::index_sequence<o...>) {
        return (... || !(plan.where[M::outputs[o]] == Where::output && plan.index[M::outputs[o]] == o));
    }(std::make_index_sequence<M::n_outputs>{});
    // Runs the model on `rows` samples; `arena` holds arena_floats(rows) floats. `state`, when
    // given, holds rows x state_floats floats: the streamed state before the call, and after
    // it (node k's at state_offset[k] * rows); without it every sequence starts from zeros.
    static void run(const float* params, const float* const* ins, float* const* outs, std::size_t rows, float* arena,
                    float* state = nullptr) {
        run_observed(params, ins, outs, rows, arena, state, NoObserver{});
    }
    // run, calling after(k) when node k's step has run, for each node that runs one (not the
    // inputs, the nodes fused into another's kernel or the views): tn::profile times the
    // kernels by it.
    template <class After>
    static void run_observed(const float* params, const float* const* ins, float* const* outs, std::size_t rows, float* arena,
                             float* state, After&& after) {
        if constexpr (state_floats > 0)
            if (!state) {
                state = arena + runtime::working_floats(tables, rows);
                std::fill_n(state, state_floats * rows, 0.f);
            }
        run_nodes(std::make_index_sequence<K>{}, params, ins, outs, rows, arena, arena + plan.activation_floats * rows, state, after);
        if constexpr (copies_outputs)
            [&]<std::size_t... o>(std::index_sequence<o...>) { (copy_output<o>(ins, outs, rows, arena), ...); }(
                std::make_index_sequence<M::n_outputs>{});
    }

    // Nodes k... on `rows` samples, their scratch at `scratch`, after(k) for each that ran. (A
    // function of the index sequence, not a lambda in one: each is a symbol named with the
    // whole module; see Tables.)
    template <std::size_t... k, class After>
    static void run_nodes(std::index_sequence<k...>, const float* params, const float* const* ins, float* const* outs, std::size_t rows,
                          float* arena, float* scratch, float* state, After& after) {
        (Observed<run_step<k>>::run(k, params, ins, outs, rows, arena, scratch, state, after), ...);
    }
    // n >= 2 samples (x: n inputs, y: n outputs), the tail on up to tail_rows at once; `arena`
    // holds arena_floats(1) floats. A run of one sample would take the tail's matrix-vector
    // kernels, whose sums may round otherwise than a block's: the blocks are cut so that none
    // has one sample (17 -> 15 + 2 for blocks of 16), and each row's bits are the same
    // whatever the blocks (the GEMM's rows are: kernels/dense.hpp), so a batch split among
    // threads gives the bits of one thread.
    // after(k) as node k's step ends, as in run_observed (tn::profile at a batch: predict's schedule).
    template <class After = NoObserver>
    // (Called only where tail_rows > 0.)
    static void run_with_tail(const float* params, const float* x, float* y, std::size_t n, float* arena, After&& after = {}) {
        constexpr std::size_t c = tail_begin - 1, cut = shape<c>::size, in = shape<0>::size, out = shape<K - 1>::size;
        constexpr std::size_t working = working_floats(1), value_at = tail_layout.of(plan.offset[c]);
        float* region = arena + working;
        for (std::size_t i = 0; i < n;) {
            std::size_t m = std::min(tail_rows, n - i);
            if (n - i - m == 1) --m;
            float* value = region + value_at * m;  // the value the tail reads, m rows
            for (std::size_t r = 0; r < m; ++r) {
                const float* xr = x + (i + r) * in;
                float* yr = y + (i + r) * out;
                run_nodes(std::make_index_sequence<tail_begin>{}, params, &xr, &yr, 1, arena, arena + plan.activation_floats, nullptr, after);
                std::copy_n(locate<loc(c)>(&xr, &yr, 1, arena), cut, value + r * cut);
            }
            const float* xb = x + i * in;
            float* yb = y + i * out;
            float* scratch = region + kernels::round_up(tail_layout.floats * m, param_align);
            [&]<std::size_t... k>(std::index_sequence<k...>) {
                (Observed<tail_step<tail_begin + k>>::run(tail_begin + k, params, &xb, &yb, m, region, scratch, nullptr, after), ...);
            }(std::make_index_sequence<K - tail_begin>{});
            i += m;
        }
    }

    // ---- Per-node functions, instantiated per layer type, not per node: nodes with equal
    // layers share them, and the loops below are ordinary run-time loops over the passes'
    // constexpr results. (Compile time grows with the distinct layers, not the node count.)
    template <std::size_t k>
    using fns_of = std::conditional_t<
        facts.kind[k] == Kind::input, node_fns::InputFns<shape<k>>,
        std::conditional_t<facts.kind[k] == Kind::merge, node_fns::MergeFns<op<k>, shape<k>>,
                           node_fns::LayerFns<op<k>, in_shape<k>, shape<k>, slice_activation<k>, fused_activation<k>,
                                              std::conditional_t<epilogues.batchnorm[k] != none,
                                                                 op<epilogues.batchnorm[k] != none ? epilogues.batchnorm[k] : k>, void>>>>;
    static constexpr auto fns = []<std::size_t... k>(std::index_sequence<k...>) {
        return std::array<node_fns::NodeFns, K>{fns_of<k>::value()...};
    }(std::make_index_sequence<K>{});

    static constexpr auto named = []<std::size_t... k>(std::index_sequence<k...>) {
        return std::array<bool, K>{node<k>::named...};
    }(std::make_index_sequence<K>{});

    // The blocks, in the order of their rows (node_fns::nest_blocks).
    static constexpr auto blocks = []<class... B>(meta::list<B...>) {
        return node_fns::nest_blocks(std::array<node_fns::BlockRecord, sizeof...(B)>{
            node_fns::BlockRecord{B::path.view(), &block_display_name<typename B::block>, B::first, B::end}...});
    }(typename M::blocks{});
    // What the run-time loops read (Tables), and the tail's rows: samples per tail run (0: no
    // tail, or a sample fits a block's budget, so that predict runs blocks of several already):
    // up to two register blocks, with the region at most an eighth of the one-sample working floats.
    static constexpr Tables<K, facts.args.size(), blocks.size()> tables = [] {
        Tables<K, facts.args.size(), blocks.size()> t{facts,         owner,         epilogues,     crops, bands, gates, plan, flattened_hwc,
                                                      canonical_offset, packed_offset, state_offset, fns,   named, blocks};
        t.state_floats = state_floats, t.tail_begin = tail_begin, t.tail_floats_per_row = tail_layout.floats;
        const std::size_t working = runtime::working_floats(t, 1);
        if (tail_begin == K || working * sizeof(float) <= TYPENET_BLOCK_ARENA_BYTES) return t;
        std::size_t r = 2 * kernels::mr;
        while (r >= 3 && 8 * runtime::tail_floats(t, r) > working) --r;
        t.tail_rows = r >= 3 ? r : 0;
        return t;
    }();
    static constexpr std::size_t tail_rows = tables.tail_rows;
};

}  // namespace typenet::runtime

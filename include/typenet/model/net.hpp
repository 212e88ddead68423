// Net<Model>: a model with its weights. Built by tn::make<Model>(); all memory is allocated
// there (the packed weights, once). The forward pass allocates nothing: activations live in
// a stack arena whose size the memory plan fixed at compile time, so const forward is safe
// to call from many threads at once.
#pragma once
#include "../core/isa.hpp"
#include <algorithm>
#include <ranges>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <span>
#include <string_view>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "../kernels/simd.hpp"
#include "../runtime/tensor.hpp"
#include "../runtime/lanes.hpp"
#include "../runtime/threads.hpp"
#include "init.hpp"
#include "../core/fixed_string.hpp"
#include "../core/diagnostics.hpp"
#include "model.hpp"

#ifndef TYPENET_STACK_ARENA_BYTES
// Largest activation arena a forward pass puts on the caller's stack: small enough for a
// 64 KiB thread stack (musl's default is 128 KiB), enough for the MNIST MLP's 768 bytes.
#define TYPENET_STACK_ARENA_BYTES (16 * 1024)
#endif
#ifndef TYPENET_NET_ARENA_BYTES
// A model whose one-sample arena is at most this owns its arena: allocated by make() with
// the weights, used by forward and predict, so they never allocate. (128 KiB until
// 2026-12-03, when Winograd's scratch — V and M of a block of tiles — took the Keras CNN from
// 106 to 252 KiB and ResNet-20 from 264 to 552.)
#define TYPENET_NET_ARENA_BYTES (1024 * 1024)
#endif

namespace typenet::inline TYPENET_ISA_NAMESPACE {

namespace detail {
// Asks for transparent huge pages on the 2 MiB-aligned part of a large buffer, before it is
// first written: a 100 MB weight buffer then costs ~50 page faults instead of ~25 000.
inline void advise_huge_pages([[maybe_unused]] void* p, [[maybe_unused]] std::size_t bytes) noexcept {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    constexpr std::uintptr_t huge = std::uintptr_t{2} << 20;
    if (bytes < 2 * huge) return;
    const std::uintptr_t begin = (reinterpret_cast<std::uintptr_t>(p) + huge - 1) & ~(huge - 1);
    const std::uintptr_t end = (reinterpret_cast<std::uintptr_t>(p) + bytes) & ~(huge - 1);
    if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#endif
}

struct aligned_free {
    void operator()(float* p) const noexcept { ::operator delete[](p, std::align_val_t{kernels::alignment}); }
};
using aligned_floats = std::unique_ptr<float[], aligned_free>;
// Uninitialised: packing writes every value a kernel reads, and the arena is written before
// it is read. (Zeroing 100 MB of fresh pages costs as much as loading them.)
inline aligned_floats allocate_floats(std::size_t n) {
    const std::size_t bytes = std::max<std::size_t>(n, 1) * sizeof(float);
    auto* p = static_cast<float*>(::operator new[](bytes, std::align_val_t{kernels::alignment}));
    advise_huge_pages(p, bytes);
    return aligned_floats(p);
}
}  // namespace detail

namespace detail {
// Tensors returned by a model with several outputs: a std::tuple (structured bindings and
// std::get work) whose elements can also be fetched by the output's name, out.get<"main">().
template <class Model, class... T>
struct NamedOutputs : std::tuple<T...> {
    using std::tuple<T...>::tuple;
    template <std::size_t I> auto& get() & { return std::get<I>(static_cast<std::tuple<T...>&>(*this)); }
    template <std::size_t I> const auto& get() const& { return std::get<I>(static_cast<const std::tuple<T...>&>(*this)); }
    template <fixed_string Name> auto& get() & {
        static_assert(Model::template output_index<Name> < Model::n_outputs, "typenet: the model has no output of this name");
        return std::get<Model::template output_index<Name>>(static_cast<std::tuple<T...>&>(*this));
    }
    template <fixed_string Name> const auto& get() const& {
        static_assert(Model::template output_index<Name> < Model::n_outputs, "typenet: the model has no output of this name");
        return std::get<Model::template output_index<Name>>(static_cast<const std::tuple<T...>&>(*this));
    }
};
}  // namespace detail

// An input passed by name: net(tn::feed<"tabular">(t), tn::feed<"image">(x)), in any order.
template <fixed_string Name, class T>
struct Feed {
    static constexpr auto name = Name;
    const T& value;
};
template <fixed_string Name, class T>
Feed<Name, T> feed(const T& v) noexcept {
    return {v};
}
namespace detail {
// How predict splits n rows among threads so that every row is computed as one thread
// computes it. One thread runs blocks of `block` rows; a row's arithmetic does not depend on
// the rows beside it, except that a block of one row runs the one-vector kernels (a GEMV
// splits its sums differently from the GEMM): on one thread a row is alone exactly when
// block is 1, or when n % block == 1 and it is the last row.
//
// Where a share `per` spans more than one block, the tasks are runs of `per` rows (the last
// takes the rest), each in blocks of `block` from its first row, so that the threads get equal
// rows (blocks of 12 as tasks gave batch 64 as 36 and 28 rows on two threads: 1.72-1.76x one
// thread, against 1.77-1.84x as 32 and 32, alternating in one process). A row that one thread runs alone (the last, when
// n % block == 1) is a task of its own; the runs cover the rest and must leave no row alone:
// neither per nor the last run's length is 1 modulo block. Otherwise each block is cut into
// pieces of `target` rows, at least two (a batch of 3 on 3 threads is one piece, not three),
// a last piece of one row joins the piece before it, and a block of one row stays alone — as
// it is on one thread.
struct RowSplit {
    std::size_t n, block, target;
    bool spans = false;  // runs of `target` rows over the first n - lone rows, each several blocks
    std::size_t lone = 0;  // 1: the last row is a task of its own
    RowSplit(std::size_t rows, std::size_t block_rows, std::size_t per)
        : n(rows), block(std::max<std::size_t>(block_rows, 1)), target(std::clamp<std::size_t>(per, std::min<std::size_t>(2, block), block)) {
        if (per <= block) return;
        const std::size_t alone = block > 1 && n % block == 1 ? 1 : 0, m = n - alone;
        if (per >= m) return;
        const std::size_t last = m - (m - 1) / per * per;
        if (block == 1 || (per % block != 1 && last % block != 1)) spans = true, target = per, lone = alone;
    }
    std::size_t pieces(std::size_t len) const noexcept {
        if (len <= 1) return len;
        const std::size_t q = (len + target - 1) / target;
        return len - (q - 1) * target == 1 ? q - 1 : q;
    }
    std::size_t runs() const noexcept { return (n - lone + target - 1) / target; }
    std::size_t tasks() const noexcept { return spans ? runs() + lone : n / block * pieces(block) + pieces(n % block); }
    // Task t: its first row and its number of rows.
    std::pair<std::size_t, std::size_t> task(std::size_t t) const noexcept {
        if (spans) return t < runs() ? std::pair{t * target, std::min(target, n - lone - t * target)} : std::pair{n - 1, std::size_t(1)};
        const std::size_t per_block = pieces(block), b = t / per_block, k = t % per_block;
        const std::size_t len = std::min(block, n - b * block), q = pieces(len);
        return {b * block + k * target, k + 1 == q ? len - k * target : target};
    }
};

// Anything with a shape (an xtensor container, view, xarray): predict takes only the model's
// batch types, and says so in words for anything else of this kind.
template <class X>
concept TensorLike = requires(const X& x) {
    x.shape();
    x.dimension();
};
template <class T> struct is_feed : std::false_type {};
template <fixed_string N, class T> struct is_feed<Feed<N, T>> : std::true_type {};
}  // namespace detail

namespace detail {
// What a Net of an invalid model is: the error has been reported once already; this accepts
// every use a program makes of a Net (running it, loading and saving weights, its summary
// and fusion plan print "<invalid model>"), so that no second error follows.
struct InvalidNet {
    using model_type = void;
    template <class... A> InvalidNet operator()(A&&...) const { return {}; }
    template <class... A> InvalidNet predict(A&&...) const { return {}; }
    template <class... A> void forward(A&&...) const {}
    InvalidNet make_state() const { return {}; }
    template <class... A> InvalidNet step(A&&...) const { return {}; }
    template <class... A> void process(A&&...) const {}
    void reset() {}
    template <class... A> void set_weights(A&&...) {}
    std::vector<float> get_weights() const { return {}; }
    static std::vector<ParamInfo> param_infos() { return {}; }
    static constexpr std::size_t param_count = 0;
    template <class I> InvalidNet operator[](I) const { return {}; }
    operator float() const { return 0.f; }
    template <std::size_t> InvalidNet get() const { return {}; }
    const float* data() const { return nullptr; }
    std::array<std::size_t, 1> shape() const { return {}; }
    std::size_t size() const { return 0; }
};
// Whether Net<M> is the real one: M is a model and lowered without error.
template <class Model>
consteval bool net_ready() {
    if constexpr (requires { Model::valid; }) return Model::valid;
    else return false;
}
}  // namespace detail

// Net<M> of a valid model is the one below; of an invalid model (its error already reported)
// a stand-in that accepts every use, so that `tn::Net<M> net;`, `tn::Net<M>::input_type`
// and everything done with them add no second error.
template <class Model, bool Ready = detail::net_ready<Model>()>
class Net;

template <class Model>
class Net<Model, false> : public detail::InvalidNet {
    static_assert(Model::is_model, "typenet: Net<M> needs a model: a Sequential whose first element is tn::Input<...>, or a Graph");

  public:
    using model_type = Model;
    using input_type = detail::InvalidNet;
    using output_type = detail::InvalidNet;
    using result_type = detail::InvalidNet;
    Net() = default;
    explicit Net(seed) {}
};

template <class Model>
class Net<Model, true> {
    static_assert(Model::is_model, "typenet: Net<M> needs a model: a Sequential whose first element is tn::Input<...>, or a Graph");
    using program = typename Model::program;
    static constexpr std::size_t n_in = Model::n_inputs;
    static constexpr std::size_t n_out = Model::n_outputs;
    template <std::size_t i> using in_shape = typename Model::template input_shape_at<i>;
    template <std::size_t o> using out_shape = typename Model::template output_shape_at<o>;

  public:
    using model_type = Model;
    using input_shape_type = in_shape<0>;
    using output_shape_type = out_shape<0>;
    using input_type = tensor_of<input_shape_type>;
    using output_type = tensor_of<output_shape_type>;
    static constexpr std::size_t in_size = input_shape_type::size;
    static constexpr std::size_t out_size = output_shape_type::size;
    // Everything the forward pass returns: one tensor, or a tuple of them (by name too).
    using result_type = decltype([]<std::size_t... o>(std::index_sequence<o...>) {
        if constexpr (sizeof...(o) == 1) return output_type{};
        else return detail::NamedOutputs<Model, tensor_of<out_shape<o>>...>{};
    }(std::make_index_sequence<n_out>{}));

    // Activation memory, in this order of preference:
    //   - the caller's: a Workspace or an arena passed to forward/predict;
    //   - one sample of a small model (arena(1) <= TYPENET_STACK_ARENA_BYTES, 16 KiB) on the
    //     caller's stack;
    //   - the Net's own arena, for a model whose arena(1) is at most TYPENET_NET_ARENA_BYTES
    //     (1 MiB): allocated by make(), taken by one call at a time with an atomic flag
    //     (a concurrent call falls back to its thread's Workspace);
    //   - a Workspace per thread, allocated by that thread's first call.
    // So stack use is bounded by 16 KiB of arena, and a model with an own arena never
    // allocates after make().
    static constexpr std::size_t arena_floats(std::size_t rows) { return runtime::arena_floats(program::tables, rows); }
    static constexpr bool on_stack = arena_floats(1) * sizeof(float) <= TYPENET_STACK_ARENA_BYTES;
    static constexpr bool owns_arena = arena_floats(1) * sizeof(float) <= TYPENET_NET_ARENA_BYTES;
    // Samples per block in predict(): a multiple of the GEMM's register block, at most 256,
    // whose arena fits TYPENET_BLOCK_ARENA_BYTES. The Net's own arena (models that own one)
    // holds a block too: blocks of one sample would run every Dense as a matrix-vector
    // product, streaming its weights once per sample (the Keras CNN, 105 KiB a sample: batch
    // 64 in blocks of 1 took 1.17x the time of blocks of 12).
    static constexpr std::size_t block_rows = [] {
        const std::size_t budget = TYPENET_BLOCK_ARENA_BYTES;
        std::size_t r = 256;
        while (r > 1 && arena_floats(r) * sizeof(float) > budget) r = r > kernels::mr ? (r - 1) / kernels::mr * kernels::mr : r - 1;
        return r;
    }();

    class Workspace {
      public:
        Workspace() : buffer_(detail::allocate_floats(arena_floats(block_rows))) {}
        float* data() const noexcept { return buffer_.get(); }

      private:
        detail::aligned_floats buffer_;
    };

    explicit Net(seed s = {}) : params_(detail::allocate_floats(program::packed_floats)), own_(make_own_arena()) {
        std::vector<float> canonical(program::canonical_floats);
        initialize(param_infos(), canonical, s);
        set_weights(std::move(canonical));
    }

    // One sample: net(x), or net(x1, x2) for a model with two inputs, or by name.
    result_type operator()(const input_type& x) const
        requires(n_in == 1)
    {
        result_type y;
        const float* ins[] = {x.data()};
        forward_all(ins, y);
        return y;
    }
    // Or a span of exactly the input's size (a span of another size does not convert).
    result_type operator()(std::span<const float, in_size> x) const
        requires(n_in == 1)
    {
        result_type y;
        const float* ins[] = {x.data()};
        forward_all(ins, y);
        return y;
    }
    // Anything else for a one-input model is one error in words: no implicit conversion from
    // another tensor (whose shape check xtensor makes only in debug builds) gets through.
    template <class X>
        requires(n_in == 1 && !std::is_same_v<std::remove_cvref_t<X>, input_type> && !detail::is_feed<std::remove_cvref_t<X>>::value &&
                 !std::is_convertible_v<const X&, std::span<const float, in_size>>)
    result_type operator()(const X&) const {
        static_assert(net_takes<input_shape_type>::template but_is_called_with<X>,
                      "typenet: net(x) takes a tensor of exactly the model's input shape (Net::input_type, tn::Tensor<dims...>); "
                      "for raw memory use net.forward(x, y)");
        return {};
    }
    template <class... X>
        requires(n_in > 1 && sizeof...(X) == n_in && !(detail::is_feed<std::remove_cvref_t<X>>::value || ...))
    result_type operator()(const X&... xs) const {
        result_type y;
        const float* ins[] = {xs.data()...};
        [&]<std::size_t... i>(std::index_sequence<i...>) {
            static_assert((std::is_same_v<std::remove_cvref_t<X>, tensor_of<in_shape<i>>> && ...),
                          "typenet: each input tensor must have its input's shape (Model::input_shape_at<i>)");
        }(std::make_index_sequence<n_in>{});
        forward_all(ins, y);
        return y;
    }
    template <class... F>
        requires(sizeof...(F) == n_in && (detail::is_feed<F>::value && ...))
    result_type operator()(const F&... feeds) const {
        static_assert(((Model::template input_index<F::name> < n_in) && ...), "typenet: the model has no input of this name");
        std::array<const float*, n_in> ins{};
        ((ins[Model::template input_index<F::name>] = feeds.value.data()), ...);
        result_type y;
        forward_all(ins.data(), y);
        return y;
    }

    // Raw buffers: one sample, x -> y (one input, one output), or arrays of pointers.
    void forward(const float* x, float* y) const { forward(&x, &y); }
    void forward(const float* x, float* y, const Workspace& ws) const { program::run(params_.get(), &x, &y, 1, ws.data()); }
    void forward(const float* const* xs, float* const* ys) const {
        if constexpr (on_stack) {
            alignas(kernels::alignment) float arena[std::max<std::size_t>(arena_floats(1), 1)];
            program::run(params_.get(), xs, ys, 1, arena);
        } else {
            const Lease lease(*this);
            program::run(params_.get(), xs, ys, 1, lease.arena);
        }
    }

    // One pass of `rows` samples through the caller's arena (arena_bytes(rows)), calling
    // after(k) as each node's kernel ends (Program::run_observed): tn::profile times by it.
    template <class After>
    void forward_observed(const float* const* xs, float* const* ys, std::size_t rows, std::span<std::byte> arena, After&& after) const {
        program::run_observed(params_.get(), xs, ys, rows, checked_arena(arena, rows), nullptr, after);
    }

    // With an arena the caller owns (any memory: a static buffer, a pool, a span of an
    // mmap'd region): at least arena_bytes(1) bytes for one sample, 64-byte aligned.
    // predict uses as many rows per block as the arena holds (at most block_rows).
    static constexpr std::size_t arena_bytes(std::size_t rows) { return arena_floats(rows) * sizeof(float); }
    void forward(const float* x, float* y, std::span<std::byte> arena) const {
        program::run(params_.get(), &x, &y, 1, checked_arena(arena, 1));
    }
    void forward(const float* const* xs, float* const* ys, std::span<std::byte> arena) const {
        program::run(params_.get(), xs, ys, 1, checked_arena(arena, 1));
    }
    void predict(const float* xs, float* ys, std::size_t n, std::span<std::byte> arena) const { predict(&xs, &ys, n, arena); }
    void predict(const float* const* xs, float* const* ys, std::size_t n, std::span<std::byte> arena) const {
        predict_observed(xs, ys, n, arena, runtime::NoObserver{});
    }
    // predict's blocks of samples (and a batched tail where the model has one), calling
    // after(k) as each node's kernel ends: tn::profile at a batch times this schedule.
    template <class After>
    void predict_observed(const float* const* xs, float* const* ys, std::size_t n, std::span<std::byte> arena, After&& after) const {
        float* a = checked_arena(arena, 1);
        std::size_t rows = block_rows;
        while (rows > 1 && arena_bytes(rows) > arena.size()) --rows;
        run_blocks(xs, ys, n, a, rows, after);
    }

    // n samples, row-major: xs is n x in_size, ys is n x out_size (one input, one output).
    void predict(const float* xs, float* ys, std::size_t n) const { predict(&xs, &ys, n); }
    void predict(const float* xs, float* ys, std::size_t n, const Workspace& ws) const { run_blocks(&xs, &ys, n, ws.data()); }
    // Several inputs or outputs: one pointer per input (n x its size) and per output.
    void predict(const float* const* xs, float* const* ys, std::size_t n) const {
        const Lease lease(*this);
        run_blocks(xs, ys, n, lease.arena);
    }

    // On several threads: an Executor (runtime/threads.hpp: a tn::ThreadPool, or the caller's
    // own pool behind the two-function interface). The batch is split into one run of rows per
    // thread (equal runs where a share spans several blocks; within a block, whole GEMM row
    // blocks where a share holds more than one; at least two rows, so a batch of 2 or 3 runs on
    // one thread), each run in its thread's Workspace; the outputs are
    // bitwise those of one thread (detail::RowSplit). Each thread's Workspace is allocated by
    // the first task it runs (not the Net's own arena: which thread takes it would vary from
    // call to call); after that a call allocates nothing.
    template <Executor E>
    void predict(const float* xs, float* ys, std::size_t n, E& executor) const {
        predict(&xs, &ys, n, executor);
    }
    template <Executor E>
    void predict(const float* const* xs, float* const* ys, std::size_t n, E& executor) const {
        const std::size_t threads = executor.concurrency();
        if (n == 1) return forward(xs, ys, executor);
        // Rows per task: an equal share, in whole register blocks once a share exceeds one.
        // (Shares larger than a block stay equal: each runs in blocks anyway.)
        std::size_t per = threads <= 1 ? n : (n + threads - 1) / threads;
        if (per > kernels::mr && per <= block_rows) per = std::min(kernels::round_up(per, kernels::mr), block_rows);
        const detail::RowSplit split(n, block_rows, per);
        if (split.tasks() <= 1) return predict(xs, ys, n);
        executor.run(split.tasks(), [&](std::size_t t) {
            const auto [i, rows] = split.task(t);
            const RowPointers at(xs, ys, i);
            run_blocks(at.ins.data(), at.outs.data(), rows, thread_workspace().data());
        });
    }

    // One sample on several threads: each convolution splits its output pixels among the
    // executor's threads (whole register tiles: the same bits as one thread), with a barrier
    // per layer; the other layers run on the calling thread. Each layer is a few tens of
    // microseconds at most, so give a tn::ThreadPool a spin window (its workers then answer
    // within a microsecond instead of a futex wake-up). A pool splits a layer only where its
    // threads are near enough for the layer's work (runtime/threads.hpp, TeamDistance), and
    // runs a call with nothing worth splitting on the caller alone. The arena is the one
    // forward uses.
    template <Executor E>
    void forward(const float* x, float* y, E& executor) const {
        forward(&x, &y, executor);
    }
    template <Executor E>
    void forward(const float* const* xs, float* const* ys, E& executor) const {
        if (executor.concurrency() <= 1) return forward(xs, ys);
        if constexpr (on_stack) {
            alignas(kernels::alignment) float arena[std::max<std::size_t>(arena_floats(1), 1)];
            program::run_shared(params_.get(), xs, ys, arena, executor);
        } else {
            const Lease lease(*this);
            program::run_shared(params_.get(), xs, ys, lease.arena, executor);
        }
    }

    // Tensors: exactly the model's batch types, batch_of<Shape> = xt::xtensor<float, rank + 1>
    // (row-major, contiguous, [N, dims...]). Anything else — a view, a column-major tensor, an
    // xarray, another rank — is one compile error in words, never an implicit conversion:
    // pass data pointers and a count for other memory.
    // Into a caller's tensor: allocates nothing when ys already has the right shape.
    template <class X, class Y>
        requires(n_in == 1 && n_out == 1 && detail::TensorLike<X> && !Executor<Y>)
    void predict(const X& xs, Y& ys) const {
        if constexpr (!std::is_same_v<X, batch_of<input_shape_type>>) {
            static_assert(predict_takes<batch_of<input_shape_type>>::template but_is_called_with<X>,
                          "typenet: predict takes the model's batch type (the condition names it and what it got), or "
                          "pointers and a count");
        } else if constexpr (!std::is_same_v<Y, batch_of<output_shape_type>>) {
            static_assert(predict_takes<batch_of<output_shape_type>>::template but_is_called_with<Y>,
                          "typenet: predict writes into the model's output batch type (the condition names it and what it "
                          "got), or pointers and a count");
        } else {
            check_batch<input_shape_type>(xs);
            resize_batch<output_shape_type>(ys, xs.shape()[0]);
            predict(xs.data(), ys.data(), xs.shape()[0]);
        }
    }
    template <class X>
        requires(n_in == 1 && n_out == 1 && detail::TensorLike<X>)
    batch_of<output_shape_type> predict(const X& xs) const {
        batch_of<output_shape_type> ys;
        predict(xs, ys);
        return ys;
    }
    template <class X, Executor E>
        requires(n_in == 1 && n_out == 1 && detail::TensorLike<X>)
    void predict(const X& xs, batch_of<output_shape_type>& ys, E& executor) const {
        static_assert(std::is_same_v<X, batch_of<input_shape_type>>,
                      "typenet: predict takes the model's batch type, batch_of<Shape>, or pointers and a count");
        check_batch<input_shape_type>(xs);
        resize_batch<output_shape_type>(ys, xs.shape()[0]);
        predict(xs.data(), ys.data(), xs.shape()[0], executor);
    }
    template <class X, Executor E>
        requires(n_in == 1 && n_out == 1 && detail::TensorLike<X>)
    batch_of<output_shape_type> predict(const X& xs, E& executor) const {
        batch_of<output_shape_type> ys;
        predict(xs, ys, executor);
        return ys;
    }
    // Several inputs (one batch each, the same N) -> one batch, or a tuple of batches.
    template <class... X>
        requires(sizeof...(X) == n_in && (n_in > 1 || n_out > 1) && (detail::TensorLike<X> && ...))
    auto predict(const X&... xs) const {
        constexpr bool exact = []<std::size_t... i>(std::index_sequence<i...>) {
            return (std::is_same_v<X, batch_of<in_shape<i>>> && ...);
        }(std::make_index_sequence<n_in>{});
        if constexpr (!exact) {
            static_assert(predict_takes<std::tuple<batch_of<in_shape<0>>>>::template but_is_called_with<std::tuple<X...>>,
                          "typenet: predict takes one batch of each input's batch type, batch_of<Shape> (the condition names "
                          "the first and what it got), or pointers and a count");
            return detail::InvalidNet{};
        } else {
            std::size_t n = 0;
            [&]<std::size_t... i>(std::index_sequence<i...>) {
                (check_batch<in_shape<i>>(xs), ...);
                n = std::get<0>(std::tie(xs...)).shape()[0];
                if (((xs.shape()[0] != n) || ...))
                    throw std::invalid_argument("typenet: predict: every input batch must have the same number of samples");
            }(std::make_index_sequence<n_in>{});
            const float* ins[] = {xs.data()...};
            return [&]<std::size_t... o>(std::index_sequence<o...>) {
                std::tuple<batch_of<out_shape<o>>...> ys;
                (resize_batch<out_shape<o>>(std::get<o>(ys), n), ...);
                float* outs[] = {std::get<o>(ys).data()...};
                predict(ins, outs, n);
                if constexpr (sizeof...(o) == 1) return std::move(std::get<0>(ys));
                else return detail::NamedOutputs<Model, batch_of<out_shape<o>>...>(std::move(std::get<o>(ys))...);
            }(std::make_index_sequence<n_out>{});
        }
    }

    // ---- Streams: a state carried from call to call ------------------------------------------
    //
    // A model over a sequence Input<T, F> whose layers run a time step at a time (recurrent
    // layers, causal convolutions, Dense on each step, activations, ...) streams:
    //
    //   auto st = net.make_state();          // zeros; owns its working memory
    //   y = net.step(x, st);                 // one time step: x [F] -> y
    //   net.process(xs, ys, n, st);          // n steps, row-major
    //   st.reset();
    //
    // step and process never allocate, lock or throw: what they need lives in the State, which
    // the caller owns (one per stream; a const Net serves any number of them at once).
    // Stepping, blocks of any size and the whole sequence give bitwise the same outputs.
    static constexpr std::size_t state_floats = program::state_floats;

  private:
    static consteval bool on_one_sequence() {
        if constexpr (requires { typename Model::template with_steps<1>; }) return true;
        else return false;
    }
    // Streams when every node of the model runs a time step at a time (decided on the model
    // as written, so that a model that does not stream is never lowered at one step).
    static consteval bool streams() { return on_one_sequence() && program::first_not_streaming == program::K; }
    template <std::size_t Steps>
    static consteval auto stream_program_probe() {
        if constexpr (streams()) return std::type_identity<typename Model::template with_steps<Steps>::program>{};
        else return std::type_identity<program>{};
    }
    static constexpr std::size_t stream_block = 32;  // time steps per call of process's block program
    // Alias templates, so that the model is lowered at 1 and 32 steps only when a program
    // streams (a Net that only runs whole sequences costs no more to compile).
    template <std::size_t Steps> using stream_program = typename decltype(stream_program_probe<Steps>())::type;
    template <class P>
    static consteval bool same_layout() {
        return std::ranges::equal(P::packed_offset, program::packed_offset) && std::ranges::equal(P::state_offset, program::state_offset);
    }
    static consteval std::size_t step_in_floats() { return streams() ? input_shape_type::dims[input_shape_type::rank - 1] : 0; }
    static consteval std::size_t step_out_floats() {
        if constexpr (streams()) return Model::template with_steps<1>::output_shape_type::size;
        else return 0;
    }
    // process runs whole blocks through the block program when each of its outputs is a time
    // step's (the last layer returns sequences); otherwise one step at a time.
    static consteval bool blocked() {
        if constexpr (streams()) {
            using S = typename Model::template with_steps<1>::output_shape_type;
            using B = typename Model::template with_steps<stream_block>::output_shape_type;
            return S::rank == 2 && B::rank == 2 && S::dims[0] == 1 && B::dims[0] == stream_block && S::dims[1] == B::dims[1];
        } else return false;
    }
    static consteval bool check_streaming() {
        if constexpr (!on_one_sequence()) {
            static_assert(streaming_needs_one_input_T_by_F_and_one_output<Model>::value,
                          "typenet: step/process need a model (Sequential or graph) with one sequence input Input<T, F> and one output");
            return false;
        } else if constexpr (!streams()) {
            static_assert(streaming_runs_one_step_at_a_time<typename program::template op<program::first_not_streaming>>::
                              but_this_layer_reads_the_whole_sequence,
                          "typenet: step/process run one time step at a time; the layer in this condition needs the whole sequence "
                          "(a bidirectional layer, a non-causal Conv1D, pooling or Flatten over time): run the whole sequence "
                          "with net(x) or net.forward(x, y, state)");
            return false;
        } else {
            static_assert(same_layout<stream_program<1>>() && same_layout<stream_program<stream_block>>(),
                          "typenet: this model's weights or state depend on the sequence length, so it cannot stream");
            return true;
        }
    }
    static consteval std::size_t stream_arena_floats() {
        if constexpr (streams()) return std::max(stream_program<1>::arena_floats(1), stream_program<stream_block>::arena_floats(1));
        else return 0;
    }

  public:
    // Whether step and process exist for this model (every layer runs a step at a time).
    static consteval bool streamable() { return streams(); }
    static constexpr std::size_t step_input_floats = step_in_floats(), step_output_floats = step_out_floats();
    using step_input_type = tensor_of<Shape<std::max<std::size_t>(step_in_floats(), 1)>>;
    using step_output_type = tensor_of<Shape<std::max<std::size_t>(step_out_floats(), 1)>>;

    // The streamed state of every stateful layer (hidden and cell vectors, past inputs of
    // causal convolutions), and the working memory of step and process. A value: copying it
    // forks the stream. Only make_state, copies and assignment allocate.
    class State {
      public:
        static constexpr std::size_t floats = state_floats;
        State() : values_(detail::allocate_floats(floats)), work_(detail::allocate_floats(stream_arena_floats())) { reset(); }
        State(const State& o) : State() { std::copy_n(o.values_.get(), floats, values_.get()); }
        State& operator=(const State& o) {
            if (this != &o) std::copy_n(o.values_.get(), floats, values_.get());
            return *this;
        }
        State(State&&) noexcept = default;
        State& operator=(State&&) noexcept = default;
        void reset() noexcept { std::fill_n(values_.get(), floats, 0.f); }
        // Every state value, node by node in the model's order.
        std::span<float> values() noexcept { return {values_.get(), floats}; }
        std::span<const float> values() const noexcept { return {values_.get(), floats}; }
        // One layer's state by its path ("0", "rnn", "encoder.gru"): a recurrent layer's h_n
        // [layers x dirs, units] (then c_n for an LSTM), as PyTorch returns and takes them.
        std::span<float> of(std::string_view path) {
            const std::size_t k = find(path);
            return {values_.get() + program::tables.state_offset[k], program::tables.facts.state_per_row[k]};
        }
        std::span<const float> of(std::string_view path) const { return const_cast<State&>(*this).of(path); }
        // The paths of the layers that have state.
        static std::vector<std::string> layers() {
            std::vector<std::string> v;
            for (std::size_t k = 0; k < program::K; ++k)
                if (program::tables.facts.state_per_row[k]) v.emplace_back(program::tables.facts.path[k]);
            return v;
        }

      private:
        friend class Net;
        static std::size_t find(std::string_view path) {
            for (std::size_t k = 0; k < program::K; ++k)
                if (program::tables.facts.state_per_row[k] && program::tables.facts.path[k] == path) return k;
            std::string known;
            for (const auto& l : layers()) known += (known.empty() ? "" : ", ") + l;
            throw std::out_of_range("typenet: State::of: no layer with state at \"" + std::string(path) + "\" (layers with state: " +
                                    (known.empty() ? std::string("none") : known) + ")");
        }
        detail::aligned_floats values_, work_;
    };
    State make_state() const { return State{}; }

    // The whole sequence from the state st (left holding the state after it).
    void forward(const float* x, float* y, State& st) const {
        const Lease lease(*this);
        program::run(params_.get(), &x, &y, 1, lease.arena, st.values_.get());
    }

    // One time step: x holds F floats, y the step's outputs.
    void step(const float* x, float* y, State& st) const noexcept {
        if constexpr (check_streaming()) stream_program<1>::run(params_.get(), &x, &y, 1, st.work_.get(), st.values_.get());
    }
    step_output_type step(const step_input_type& x, State& st) const {
        step_output_type y;
        step(x.data(), y.data(), st);
        return y;
    }
    // n time steps: xs is n x F, ys n x the step's outputs.
    void process(const float* xs, float* ys, std::size_t n, State& st) const noexcept {
        if constexpr (check_streaming()) {
            constexpr std::size_t fi = step_in_floats(), fo = step_out_floats();
            std::size_t i = 0;
            if constexpr (blocked())
                for (; i + stream_block <= n; i += stream_block) {
                    const float* x = xs + i * fi;
                    float* y = ys + i * fo;
                    stream_program<stream_block>::run(params_.get(), &x, &y, 1, st.work_.get(), st.values_.get());
                }
            // The rest a step at a time, walking pointers (an index times the width lets g++
            // derive a bogus iteration bound and warn under -Waggressive-loop-optimizations).
            float* y = ys + i * fo;
            for (const float *x = xs + i * fi, *end = xs + n * fi; x != end; x += fi, y += fo) {
                const float* xp = x;
                float* yp = y;
                stream_program<1>::run(params_.get(), &xp, &yp, 1, st.work_.get(), st.values_.get());
            }
        }
    }

    // Parameters by name, in the canonical (PyTorch) layout.
    static const std::vector<ParamInfo>& param_infos() {
        static const std::vector<ParamInfo> infos = [] {
            std::vector<ParamInfo> v;
            runtime::param_infos(program::tables, v);
            return v;
        }();
        return infos;
    }
    static constexpr std::size_t param_count = program::canonical_floats;

    // The weights as they were given (canonical layout). Net keeps them beside the packed
    // copy that runs, because packing is not always invertible (a BatchNorm folded into the
    // convolution before it).
    const std::vector<float>& get_weights() const noexcept { return canonical_; }
    // Packs into a fresh buffer and swaps it in: the model is never left half-written.
    void set_weights(std::span<const float> canonical) { set_weights(std::vector<float>(canonical.begin(), canonical.end())); }
    void set_weights(std::vector<float>&& canonical) {
        if (canonical.size() != program::canonical_floats)
            throw std::invalid_argument("typenet: set_weights: expected " + std::to_string(program::canonical_floats) +
                                        " floats, got " + std::to_string(canonical.size()));
        auto fresh = detail::allocate_floats(program::packed_floats);
        runtime::pack(program::tables, canonical.data(), fresh.get());
        params_ = std::move(fresh);
        canonical_ = std::move(canonical);
    }

    // Rewrites the canonical weights in place (fill gets a pointer to all param_count of them)
    // and repacks them into the running buffer in place: no allocation. For a caller that has
    // checked everything fill will write (load_weights does); fill must not throw.
    template <class Fill>
    void update_weights(Fill&& fill) {
        fill(canonical_.data());
        runtime::pack(program::tables, canonical_.data(), params_.get());
    }

    Net(const Net& other)
        : params_(detail::allocate_floats(program::packed_floats)), canonical_(other.canonical_), own_(make_own_arena()) {
        std::copy_n(other.params_.get(), program::packed_floats, params_.get());
    }
    Net& operator=(const Net& other) {
        if (this != &other) *this = Net(other);
        return *this;
    }
    Net(Net&&) noexcept = default;
    Net& operator=(Net&&) noexcept = default;

  private:
    void forward_all(const float* const* ins, result_type& y) const {
        if constexpr (n_out == 1) {
            float* outs[] = {y.data()};
            forward(ins, outs);
        } else {
            [&]<std::size_t... o>(std::index_sequence<o...>) {
                float* outs[] = {std::get<o>(y).data()...};
                forward(ins, outs);
            }(std::make_index_sequence<n_out>{});
        }
    }
    static float* checked_arena(std::span<std::byte> arena, std::size_t rows) {
        if (arena.size() < arena_bytes(rows) || reinterpret_cast<std::uintptr_t>(arena.data()) % kernels::alignment != 0)
            throw std::invalid_argument("typenet: the arena must hold Net::arena_bytes(" + std::to_string(rows) +
                                        ") = " + std::to_string(arena_bytes(rows)) + " bytes, 64-byte aligned; got " +
                                        std::to_string(arena.size()) + " bytes");
        return reinterpret_cast<float*>(arena.data());
    }
    // after(k) as node k's step ends (Program::run_observed), for tn::profile; lanes of samples
    // (runtime/lanes.hpp) interleave the nodes of several samples and are not observed: with an
    // observer, such a model runs its blocks.
    template <class After = runtime::NoObserver>
    void run_blocks(const float* const* xs, float* const* ys, std::size_t n, float* arena, std::size_t block = block_rows,
                    After&& after = {}) const {
        constexpr bool observed = !std::is_same_v<std::remove_cvref_t<After>, runtime::NoObserver>;
        if constexpr (!observed && n_in == 1 && n_out == 1 && runtime::LanesSchedule<program>::applies) {  // runtime/lanes.hpp
            runtime::LanesSchedule<program>::run(params_.get(), xs[0], ys[0], n);
            return;
        }
        if constexpr (program::tail_rows > 0)  // one sample at a time: the classifier on several (Program::run_with_tail)
            if (block == 1 && n > 1) return program::run_with_tail(params_.get(), xs[0], ys[0], n, arena, after);
        for (std::size_t i = 0; i < n; i += block) {
            const RowPointers at(xs, ys, i);
            program::run_observed(params_.get(), at.ins.data(), at.outs.data(), std::min(block, n - i), arena, nullptr, after);
        }
    }
    // Every input's and output's pointer at row i of a batch.
    struct RowPointers {
        std::array<const float*, n_in> ins;
        std::array<float*, n_out> outs;
        RowPointers(const float* const* xs, float* const* ys, std::size_t i) {
            [&]<std::size_t... k>(std::index_sequence<k...>) { ((ins[k] = xs[k] + i * in_shape<k>::size), ...); }(
                std::make_index_sequence<n_in>{});
            [&]<std::size_t... k>(std::index_sequence<k...>) { ((outs[k] = ys[k] + i * out_shape<k>::size), ...); }(
                std::make_index_sequence<n_out>{});
        }
    };
    static const Workspace& thread_workspace() {
        thread_local const Workspace ws;
        return ws;
    }
    // The Net's own arena (models that own one), with the flag that gives it to one call.
    struct OwnArena {
        detail::aligned_floats buffer = detail::allocate_floats(arena_floats(block_rows));
        std::atomic<bool> busy{false};
    };
    static std::unique_ptr<OwnArena> make_own_arena() {
        if constexpr (owns_arena) return std::make_unique<OwnArena>();
        else return nullptr;
    }
    // For one call: the own arena if it is free (one atomic exchange, no waiting), otherwise
    // this thread's Workspace.
    struct Lease {
        explicit Lease(const Net& net) {
            if (net.own_ && !net.own_->busy.exchange(true, std::memory_order_acquire)) own = net.own_.get(), arena = own->buffer.get();
            else arena = thread_workspace().data();
        }
        ~Lease() {
            if (own) own->busy.store(false, std::memory_order_release);
        }
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        OwnArena* own = nullptr;
        float* arena = nullptr;
    };

    template <class S, class Y>
    static void resize_batch(Y& ys, std::size_t n) {
        std::array<std::size_t, S::rank + 1> shape{};
        shape[0] = n;
        std::copy(S::dims.begin(), S::dims.end(), shape.begin() + 1);
        if (!std::equal(shape.begin(), shape.end(), ys.shape().begin())) ys.resize(shape);
    }
    template <class S, class X>
    static void check_batch(const X& xs) {
        bool ok = xs.dimension() == S::rank + 1;
        for (std::size_t k = 0; ok && k < S::rank; ++k) ok = xs.shape()[k + 1] == S::dims[k];
        if (!ok) {
            std::string got = "[";
            for (std::size_t k = 0; k < xs.dimension(); ++k) {
                if (k) got += ", ";
                got += std::to_string(xs.shape()[k]);
            }
            std::string msg = "typenet: predict expects a batch of shape [N, ";
            msg += S::str().substr(1);
            msg += " but got ";
            msg += got;
            msg += "]";
            throw std::invalid_argument(msg);
        }
    }

    detail::aligned_floats params_;
    std::vector<float> canonical_;
    std::unique_ptr<OwnArena> own_;
};


template <class Model>
auto make(seed s = {}) {
    if constexpr (!Model::is_model) {
        static_assert(make_needs_a_model_with_input<Model>::value,
                      "typenet: make<M>() needs a model: a Sequential whose first element is tn::Input<...>");
        return detail::InvalidNet{};
    } else if constexpr (!Model::valid) {
        return Net<Model>{};
    } else {
        return Net<Model>(s);
    }
}

}  // namespace typenet

template <class M, class... T>
struct std::tuple_size<typenet::detail::NamedOutputs<M, T...>> : std::integral_constant<std::size_t, sizeof...(T)> {};
template <std::size_t I, class M, class... T>
struct std::tuple_element<I, typenet::detail::NamedOutputs<M, T...>> : std::tuple_element<I, std::tuple<T...>> {};

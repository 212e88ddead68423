// Net<Model>: a model with its weights. Built by tn::make<Model>(); all memory is allocated
// there (the packed weights, once). The forward pass allocates nothing: activations live in
// a stack arena whose size the memory plan fixed at compile time, so const forward is safe
// to call from many threads at once.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "../kernels/simd.hpp"
#include "../tensor.hpp"
#include "init.hpp"
#include "sequential.hpp"

#ifndef TYPENET_STACK_ARENA_BYTES
// Largest activation arena the forward pass puts on the caller's stack.
#define TYPENET_STACK_ARENA_BYTES (128 * 1024)
#endif

namespace typenet {

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

template <class Model>
class Net {
    static_assert(Model::is_model, "typenet: Net<M> needs a model: a Sequential whose first element is tn::Input<...>");
    using chain = typename Model::chain_type;

  public:
    using model_type = Model;
    using input_shape_type = typename Model::input_shape_type;
    using output_shape_type = typename Model::output_shape_type;
    using input_type = tensor_of<input_shape_type>;
    using output_type = tensor_of<output_shape_type>;
    static constexpr std::size_t in_size = input_shape_type::size;
    static constexpr std::size_t out_size = output_shape_type::size;

    // Activation memory. Small models use an arena on the caller's stack (at most
    // TYPENET_STACK_ARENA_BYTES); larger ones a Workspace: pass your own (allocated once, by
    // you, before the real-time part starts), or let the call use one per thread, allocated
    // by that thread's first call.
    static constexpr std::size_t arena_floats(std::size_t rows) { return chain::plan.arena_floats(rows); }
    static constexpr bool on_stack = arena_floats(1) * sizeof(float) <= TYPENET_STACK_ARENA_BYTES;
    // Samples per block in predict(): a multiple of the GEMM's register block, at most 256,
    // within the stack budget (stack models) or 8 MiB (workspace models).
    static constexpr std::size_t block_rows = [] {
        const std::size_t budget = on_stack ? TYPENET_STACK_ARENA_BYTES : std::size_t{8} << 20;
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

    explicit Net(seed s = {}) : params_(detail::allocate_floats(chain::packed_floats)) {
        std::vector<float> canonical(chain::canonical_floats);
        initialize(param_infos(), canonical, s);
        set_weights(std::move(canonical));
    }

    // One sample.
    output_type operator()(const input_type& x) const {
        output_type y;
        forward(x.data(), y.data());
        return y;
    }
    void forward(const float* x, float* y) const {
        if constexpr (on_stack) {
            alignas(kernels::alignment) float arena[std::max<std::size_t>(arena_floats(1), 1)];
            chain::run(params_.get(), x, y, 1, arena);
        } else {
            forward(x, y, thread_workspace());
        }
    }
    void forward(const float* x, float* y, const Workspace& ws) const { chain::run(params_.get(), x, y, 1, ws.data()); }

    // n samples, row-major: xs is n x in_size, ys is n x out_size.
    void predict(const float* xs, float* ys, std::size_t n) const {
        if constexpr (on_stack) {
            alignas(kernels::alignment) float arena[std::max<std::size_t>(arena_floats(block_rows), 1)];
            run_blocks(xs, ys, n, arena);
        } else {
            run_blocks(xs, ys, n, thread_workspace().data());
        }
    }
    void predict(const float* xs, float* ys, std::size_t n, const Workspace& ws) const { run_blocks(xs, ys, n, ws.data()); }

    // Into a caller's tensor: allocates nothing when ys already has the right shape.
    void predict(const batch_of<input_shape_type>& xs, batch_of<output_shape_type>& ys) const {
        check_batch(xs);
        std::array<std::size_t, output_shape_type::rank + 1> shape{};
        shape[0] = xs.shape()[0];
        std::copy(output_shape_type::dims.begin(), output_shape_type::dims.end(), shape.begin() + 1);
        if (!std::equal(shape.begin(), shape.end(), ys.shape().begin())) ys.resize(shape);
        predict(xs.data(), ys.data(), shape[0]);
    }
    batch_of<output_shape_type> predict(const batch_of<input_shape_type>& xs) const {
        batch_of<output_shape_type> ys;
        predict(xs, ys);
        return ys;
    }

    // Parameters by name, in the canonical (PyTorch) layout.
    static const std::vector<ParamInfo>& param_infos() {
        static const std::vector<ParamInfo> infos = [] {
            std::vector<ParamInfo> v;
            chain::params(v, "", 0);
            return v;
        }();
        return infos;
    }
    static constexpr std::size_t param_count = chain::canonical_floats;

    // The weights as they were given (canonical layout). Net keeps them beside the packed
    // copy that runs, because packing is not always invertible (a BatchNorm folded into the
    // convolution before it).
    const std::vector<float>& get_weights() const noexcept { return canonical_; }
    // Packs into a fresh buffer and swaps it in: the model is never left half-written.
    void set_weights(std::span<const float> canonical) { set_weights(std::vector<float>(canonical.begin(), canonical.end())); }
    void set_weights(std::vector<float>&& canonical) {
        if (canonical.size() != chain::canonical_floats)
            throw std::invalid_argument("typenet: set_weights: expected " + std::to_string(chain::canonical_floats) +
                                        " floats, got " + std::to_string(canonical.size()));
        auto fresh = detail::allocate_floats(chain::packed_floats);
        chain::pack(canonical.data(), fresh.get());
        params_ = std::move(fresh);
        canonical_ = std::move(canonical);
    }

    Net(const Net& other) : params_(detail::allocate_floats(chain::packed_floats)), canonical_(other.canonical_) {
        std::copy_n(other.params_.get(), chain::packed_floats, params_.get());
    }
    Net& operator=(const Net& other) {
        if (this != &other) *this = Net(other);
        return *this;
    }
    Net(Net&&) noexcept = default;
    Net& operator=(Net&&) noexcept = default;

  private:
    void run_blocks(const float* xs, float* ys, std::size_t n, float* arena) const {
        for (std::size_t i = 0; i < n; i += block_rows) {
            const std::size_t rows = std::min(block_rows, n - i);
            chain::run(params_.get(), xs + i * in_size, ys + i * out_size, rows, arena);
        }
    }
    static const Workspace& thread_workspace() {
        thread_local const Workspace ws;
        return ws;
    }

    template <class X>
    static void check_batch(const X& xs) {
        bool ok = xs.dimension() == input_shape_type::rank + 1;
        for (std::size_t k = 0; ok && k < input_shape_type::rank; ++k) ok = xs.shape()[k + 1] == input_shape_type::dims[k];
        if (!ok) {
            std::string got = "[";
            for (std::size_t k = 0; k < xs.dimension(); ++k) got += (k ? ", " : "") + std::to_string(xs.shape()[k]);
            throw std::invalid_argument("typenet: predict expects a batch of shape [N, " +
                                        input_shape_type::str().substr(1) + " but got " + got + "]");
        }
    }

    detail::aligned_floats params_;
    std::vector<float> canonical_;
};

namespace detail {
// What make<M>() returns when M's shapes are invalid: the shape error has been reported
// once already; this accepts any use silently so that no second error follows.
struct InvalidNet {
    template <class... A> InvalidNet operator()(A&&...) const { return {}; }
    template <class... A> InvalidNet predict(A&&...) const { return {}; }
};
}  // namespace detail

template <class Model>
auto make(seed s = {}) {
    if constexpr (!Model::is_model) {
        static_assert(make_needs_a_model_with_input<Model>::value,
                      "typenet: make<M>() needs a model: a Sequential whose first element is tn::Input<...>");
        return detail::InvalidNet{};
    } else if constexpr (!Model::valid) {
        return detail::InvalidNet{};
    } else {
        return Net<Model>(s);
    }
}

}  // namespace typenet

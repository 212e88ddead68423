// The forward pass allocates nothing: a counting global operator new proves it. (Its own
// executable, since it replaces operator new for the whole program.) Also: const forward is
// safe from many threads at once.
#include <catch2/catch.hpp>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include <typenet/typenet.hpp>

#include "models.hpp"

#include "../counting_new.hpp"
#include "../sanitized.hpp"

namespace {
std::atomic<std::size_t> allocations{0};
}  // namespace
void on_allocation(std::size_t) noexcept { ++allocations; }

// Below operator new: malloc and its family themselves, trapped on the calling thread while a
// real-time section runs (glibc exports the allocator as __libc_*; a definition here takes
// precedence for the whole program). Not under the sanitizers, whose runtimes own malloc.
#if defined(__GLIBC__) && !defined(TYPENET_TEST_SANITIZED)
#define TYPENET_TRAPS_MALLOC 1
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
}
namespace {
thread_local bool in_realtime = false;
thread_local std::size_t trapped = 0;
inline void trap() noexcept {
    if (in_realtime) ++trapped;
}
}  // namespace
extern "C" {
void* malloc(std::size_t n) {
    trap();
    return __libc_malloc(n);
}
void* calloc(std::size_t k, std::size_t n) {
    trap();
    return __libc_calloc(k, n);
}
void* realloc(void* p, std::size_t n) {
    trap();
    return __libc_realloc(p, n);
}
void* aligned_alloc(std::size_t a, std::size_t n) {
    trap();
    return __libc_memalign(a, n);
}
void* memalign(std::size_t a, std::size_t n) {
    trap();
    return __libc_memalign(a, n);
}
int posix_memalign(void** p, std::size_t a, std::size_t n) {
    trap();
    *p = __libc_memalign(a, n);
    return *p ? 0 : ENOMEM;
}
}
// Runs f with malloc trapped on this thread; the number of calls it made to the allocator.
template <class F>
std::size_t mallocs_in(F&& f) {
    trapped = 0;
    in_realtime = true;
    f();
    in_realtime = false;
    return trapped;
}
#endif

namespace tn = typenet;
using test_models::Mnist;
using Mixed = tn::Sequential<tn::Input<4, 5, 3>, tn::Flatten, tn::Dense<24>, tn::GELU, tn::Reshape<2, 12>, tn::LogSoftmax,
                             tn::Flatten, tn::Sequential<tn::Dense<9, tn::elu>, tn::Dropout<>>, tn::Dense<7, tn::sigmoid>>;

template <class M>
void check_no_allocation() {
    auto net = tn::make<M>(tn::seed{5});
    typename tn::Net<M>::input_type x;
    x.fill(0.25f);
    std::vector<float> xs(300 * tn::Net<M>::in_size, 0.5f), ys(300 * tn::Net<M>::out_size);
    const std::size_t before = allocations.load();
    for (int i = 0; i < 10; ++i) {
        auto y = net(x);
        net.forward(x.data(), y.data());
        net.predict(xs.data(), ys.data(), 300);
        net.predict(xs.data(), ys.data(), 1);
    }
    CHECK(allocations.load() == before);
}

TEST_CASE("forward and predict allocate nothing", "[net][realtime]") {
    check_no_allocation<Mnist>();
    check_no_allocation<Mixed>();
}

using test_models::SmallCnn;
using test_models::BigCnn;

TEST_CASE("convolutional models allocate nothing in forward: stack arena, or a Workspace", "[net][realtime][conv]") {
    STATIC_REQUIRE(tn::Net<SmallCnn>::owns_arena);  // allocated by make(), with the weights
    STATIC_REQUIRE(!tn::Net<BigCnn>::owns_arena);  // 96x96x32 activations: a Workspace
    check_no_allocation<SmallCnn>();
    // Reduced precision: the int8 image and bf16 image in the arena's scratch, a bf16 1x1's
    // tiles on the stack.
    using Reduced = tn::Sequential<tn::Input<12, 12, 4>, tn::Conv2D<8, tn::kernel<3>, tn::padding<1>, tn::relu>,
                                   tn::Conv2D<6, tn::kernel<1>>, tn::GlobalAveragePool2D, tn::Dense<3>>;
    check_no_allocation<tn::with_policy<Reduced, tn::bf16_weights>>();
    check_no_allocation<tn::with_policy<Reduced, tn::int8_weights>>();
    check_no_allocation<tn::with_policy<SmallCnn, tn::bf16_weights>>();
    const auto net = tn::make<BigCnn>();
    const tn::Net<BigCnn>::Workspace ws;
    std::vector<float> x(3 * 96 * 96 * 3, 0.5f), y(3 * 4);
    net.forward(x.data(), y.data(), ws);
    const std::size_t before = allocations.load();
    for (int i = 0; i < (test_env::sanitized ? 1 : 3); ++i) {
        net.forward(x.data(), y.data(), ws);
        net.predict(x.data(), y.data(), 3, ws);
    }
    CHECK(allocations.load() == before);
    // Without a Workspace, each thread's first call makes one; later calls allocate nothing.
    net.forward(x.data(), y.data());
    const std::size_t after_first = allocations.load();
    net.predict(x.data(), y.data(), 3);
    CHECK(allocations.load() == after_first);
}

TEST_CASE("predict into an existing tensor allocates nothing", "[net][realtime]") {
    auto net = tn::make<Mnist>();
    xt::xtensor<float, 2> xs = xt::ones<float>({64, 784});
    xt::xtensor<float, 2> ys = xt::zeros<float>({64, 10});
    const std::size_t before = allocations.load();
    net.predict(xs, ys);
    CHECK(allocations.load() == before);
}

TEST_CASE("predict on a thread pool allocates nothing after each thread's first call", "[net][threads]") {
    tn::ThreadPool pool(2);
    auto check = [&]<class M>(std::type_identity<M>, std::size_t n) {
        const auto net = tn::make<M>(tn::seed{3});
        std::vector<float> xs(n * tn::Net<M>::in_size, 0.5f), ys(n * tn::Net<M>::out_size), warm(2 * ys.size());
        // Each thread's Workspace, once: a task on each thread (they wait for each other), each
        // predicting alone (the pool is busy, so the inner call runs its tasks itself).
        std::atomic<int> arrived{0};
        pool.run(2, [&](std::size_t i) {
            ++arrived;
            while (arrived.load() < 2) std::this_thread::yield();
            net.predict(xs.data(), warm.data() + i * ys.size(), n, pool);
        });
        const std::size_t before = allocations.load();
        for (int i = 0; i < (test_env::sanitized ? 3 : 20); ++i) net.predict(xs.data(), ys.data(), n, pool);
        CHECK(allocations.load() == before);
    };
    check(std::type_identity<Mnist>{}, 300);
    check(std::type_identity<BigCnn>{}, test_env::sanitized ? 5 : 24);
}

TEST_CASE("const forward is safe from many threads at once", "[net][threads]") {
    const auto net = tn::make<Mnist>(tn::seed{11});
    std::vector<float> xs(64 * 784);
    for (std::size_t i = 0; i < xs.size(); ++i) xs[i] = float(i % 97) / 97.f;
    std::vector<float> expected(64 * 10);
    net.predict(xs.data(), expected.data(), 64);
    std::atomic<int> mismatches{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            std::vector<float> y(64 * 10), one(10);
            for (int it = 0; it < (test_env::sanitized ? 10 : 50); ++it) {
                net.predict(xs.data(), y.data(), 64);
                if (y != expected) ++mismatches;
                const std::size_t r = std::size_t(t * 13 + it) % 64;
                net.forward(xs.data() + r * 784, one.data());
                for (int o = 0; o < 10; ++o)
                    if (std::abs(one[o] - expected[r * 10 + o]) > 1e-6f) ++mismatches;
            }
        });
    for (auto& th : threads) th.join();
    CHECK(mismatches.load() == 0);
}

// Streaming is the real-time path of an audio plugin: step and process allocate nothing (the
// State made beforehand holds everything they need), for recurrent layers, a causal Conv1D
// stack and Dense on each step.
TEST_CASE("step and process never allocate", "[no_allocation][streaming]") {
    using Amp = tn::Sequential<tn::Input<1, 1>, tn::LSTM<16, tn::return_sequences, tn::num_layers<2>>, tn::Dense<1>>;
    using Tcn = tn::Sequential<tn::Input<64, 2>, tn::Conv1D<8, tn::kernel<3>, tn::dilation<2>, tn::padding_causal, tn::relu>,
                               tn::GRU<12, tn::return_sequences>, tn::Dense<3, tn::tanh>>;
    auto amp = tn::make<Amp>(tn::seed{1});
    auto tcn = tn::make<Tcn>(tn::seed{2});
    auto sa = amp.make_state();
    auto st = tcn.make_state();
    std::vector<float> x(1000 * 2, 0.25f), y(1000 * 3);
    const std::size_t before = allocations.load();
    for (std::size_t i = 0; i < 300; ++i) amp.step(&x[i], &y[i], sa);
    amp.process(x.data(), y.data(), 1000, sa);
    for (std::size_t i = 0; i < 300; ++i) tcn.step(&x[2 * i], &y[3 * i], st);
    tcn.process(x.data(), y.data(), 1000, st);
    tcn.process(x.data(), y.data(), 7, st);
    sa.reset();
    CHECK(allocations.load() == before);
#ifdef TYPENET_TRAPS_MALLOC
    CHECK(mallocs_in([&] { std::vector<float> v(3); }) == 1);  // the trap springs
    CHECK(mallocs_in([&] {
              for (std::size_t i = 0; i < 300; ++i) amp.step(&x[i], &y[i], sa);
              amp.process(x.data(), y.data(), 1000, sa);
              tcn.process(x.data(), y.data(), 1000, st);
          }) == 0);
#endif
}

TEST_CASE("AnyModel's process never allocates", "[no_allocation][streaming][any_model]") {
    using Gru = tn::Sequential<tn::Input<1, 1>, tn::GRU<8, tn::return_sequences>, tn::Dense<1>>;
    using Lstm = tn::Sequential<tn::Input<1, 1>, tn::LSTM<12, tn::return_sequences>, tn::Dense<1>>;
    tn::AnyModel<Gru, Lstm> amp;
    auto source = tn::make<Lstm>(tn::seed{3});
    const std::string file = (std::filesystem::temp_directory_path() / "typenet_any_model_no_allocation.safetensors").string();
    tn::save_weights(source, file);
    tn::load_weights(amp, file);
    REQUIRE(amp.index() == 1);
    std::vector<float> x(512, 0.5f), y(512);
    const std::size_t before = allocations.load();
    amp.process(x.data(), y.data(), 512);
    amp.step(x.data(), y.data());
    amp.reset();
    CHECK(allocations.load() == before);
#ifdef TYPENET_TRAPS_MALLOC
    CHECK(mallocs_in([&] { amp.process(x.data(), y.data(), 512); }) == 0);
#endif
}

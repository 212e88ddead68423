// Hot swap (runtime/hot_swap.hpp): a loader thread loads new weights into a second Net and
// publishes it while a real-time thread runs forward continuously. Every output the real-time
// thread computes is exactly the old model's or the new one's, never a mixture. Built with
// ThreadSanitizer by tools/test.sh.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include <typenet/runtime/hot_swap.hpp>
#include <typenet/typenet.hpp>

namespace tn = typenet;

namespace {
using Model = tn::Sequential<tn::Input<16>, tn::Dense<32, tn::relu>, tn::Dense<8>>;
}

TEST_CASE("a real-time thread sees the old model or the new one, never a half-loaded one", "[threads][hot_swap]") {
    auto a = tn::make<Model>(tn::seed{1});
    auto b = tn::make<Model>(tn::seed{2});
    const auto weights_a = a.get_weights(), weights_b = b.get_weights();
    tn::Tensor<16> x;
    for (std::size_t i = 0; i < 16; ++i) x(i) = 0.1f * float(i) - 0.7f;
    const auto ya = a(x), yb = b(x);
    REQUIRE(std::memcmp(ya.data(), yb.data(), sizeof(float) * 8) != 0);

    tn::HotSwap<tn::Net<Model>> swap(&a);
    std::atomic<bool> stop{false};
    std::atomic<std::size_t> seen_a{0}, seen_b{0}, mixed{0};
    std::thread audio([&] {
        std::array<float, 8> y{};
        while (!stop.load(std::memory_order_relaxed)) {
            const auto& net = *swap.acquire();
            net.forward(x.data(), y.data());
            if (std::memcmp(y.data(), ya.data(), sizeof y) == 0) ++seen_a;
            else if (std::memcmp(y.data(), yb.data(), sizeof y) == 0) ++seen_b;
            else ++mixed;
        }
    });
    // The loader: load the other weights into the spare Net, offer it, reclaim the old one.
    tn::Net<Model>* spare = &b;
    for (int swaps = 0; swaps < 200; ++swaps) {
        spare->set_weights(swaps % 2 == 0 ? weights_b : weights_a);
        while (!swap.offer(spare)) std::this_thread::yield();
        tn::Net<Model>* old = nullptr;
        while (!(old = swap.reclaim())) std::this_thread::yield();
        spare = old;
    }
    stop = true;
    audio.join();
    CHECK(mixed == 0);
    CHECK(seen_a > 0);
    CHECK(seen_b > 0);
}

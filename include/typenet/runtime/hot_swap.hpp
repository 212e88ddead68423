// HotSwap<T>: hands a newly loaded model to a real-time thread without locks, allocation or
// waiting on that thread: the pattern for an audio plugin that loads a new model while its
// audio thread runs.
//
//   tn::Net<M> a, b;                    // two Nets, made before the real-time work starts
//   tn::HotSwap<tn::Net<M>> swap(&a);
//   // audio thread, at the start of each block:
//   const auto& net = *swap.acquire();  // the Net to use for the whole block
//   // loader thread (may block, allocate, throw):
//   tn::load_weights(b, path);          // into the Net the audio thread is not using
//   swap.offer(&b);                     // taken at the audio thread's next acquire()
//   while (!(spare = swap.reclaim())) sleep a little;   // a is free again: the next spare
//
// The real-time thread sees the old model or the new one, never a half-loaded one, because it
// never reads a Net that a load writes. (load_weights on a Net that another thread is running
// is a data race: it repacks the weights in place, and a concurrent forward may read some old
// and some new values. Always load into a second Net.) One reader thread and one loader.
#pragma once
#include "../core/isa.hpp"
#include <atomic>

namespace typenet::inline TYPENET_ISA_NAMESPACE {

template <class T>
class HotSwap {
  public:
    explicit HotSwap(T* initial) noexcept : active_(initial) {}

    // Reader (real-time) thread: the object to use until its next call. Takes an offered
    // object if there is one. Never blocks, allocates or throws.
    T* acquire() noexcept {
        if (T* next = pending_.exchange(nullptr, std::memory_order_acquire)) {
            retired_.store(active_, std::memory_order_release);
            active_ = next;
        }
        return active_;
    }

    // Loader thread: offers a fully loaded object. False while an earlier offer is not taken
    // yet or the object it replaced not reclaimed yet (reclaim first, then offer again).
    bool offer(T* next) noexcept {
        if (retired_.load(std::memory_order_acquire) != nullptr) return false;
        T* none = nullptr;
        return pending_.compare_exchange_strong(none, next, std::memory_order_release, std::memory_order_relaxed);
    }

    // Loader thread: the object the reader stopped using at its last acquire(), now free to
    // load into or destroy; null if there is none yet.
    T* reclaim() noexcept { return retired_.exchange(nullptr, std::memory_order_acq_rel); }

  private:
    std::atomic<T*> pending_{nullptr};
    std::atomic<T*> retired_{nullptr};
    T* active_;  // the reader's alone
};

}  // namespace typenet

// Threads, only when asked: an executor interface and a pool that sleeps when idle.
//
// typenet never starts a thread of its own. `predict` runs on the calling thread unless it is
// given an executor: anything with
//
//   std::size_t concurrency() const;          // threads that may run tasks, the caller's included
//   void run(std::size_t n, tn::TaskRef f);   // f(0) ... f(n - 1), each once, on any of them;
//                                             // returns when all have returned
//
// so a user can back it with their own pool, TBB or std::jthreads. `tn::ThreadPool` is one:
// n - 1 workers plus the calling thread, which works too. Its workers sleep on a condition
// variable between calls — no CPU time while idle — unless given a spin window, the time a
// worker keeps polling for the next call before it sleeps (for callers that call again within
// microseconds and would otherwise pay a wake-up each time).
//
// run() allocates nothing and never throws (the tasks must not throw); it takes the pool's
// mutex only to wake a sleeping thread (none sleeps while a spin window lasts). One
// call uses the pool at a time: a caller that finds it busy runs its own tasks itself, so
// several threads may share one pool and none waits for another's call. Which thread runs a
// task never changes its result: each task computes its own rows, the same way.
#pragma once
#include "../core/isa.hpp"
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#include <immintrin.h>
#endif

namespace typenet::inline TYPENET_ISA_NAMESPACE {

// A reference to a callable taking a task index: two pointers, no allocation. The callable
// must outlive the call it is passed to (a lambda written in the call's argument list does).
class TaskRef {
  public:
    template <class F>
        requires(!std::is_same_v<std::remove_cvref_t<F>, TaskRef> && std::is_invocable_v<F&, std::size_t>)
    TaskRef(F&& f) noexcept  // NOLINT(google-explicit-constructor): passed where a task is expected
        : object_(const_cast<void*>(static_cast<const void*>(&f))),
          call_([](void* o, std::size_t i) { (*static_cast<std::remove_reference_t<F>*>(o))(i); }) {}
    void operator()(std::size_t i) const { call_(object_, i); }

  private:
    void* object_;
    void (*call_)(void*, std::size_t);
};

template <class E>
concept Executor = requires(E& e, const E& ce, std::size_t n, TaskRef f) {
    { ce.concurrency() } -> std::convertible_to<std::size_t>;
    e.run(n, f);
};

namespace detail {
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
    _mm_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}
}  // namespace detail

// The calling thread alone: what predict does without an executor, as an executor.
struct Inline {
    static constexpr std::size_t concurrency() noexcept { return 1; }
    static void run(std::size_t n, TaskRef f) {
        for (std::size_t i = 0; i < n; ++i) f(i);
    }
};

class ThreadPool {
  public:
    // `threads` in all, the caller's included (0: one per hardware thread); `spin`: how long
    // an idle worker polls before it sleeps (zero: it sleeps at once).
    explicit ThreadPool(std::size_t threads = 0, std::chrono::microseconds spin = {}) : spin_(spin) {
        if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
        workers_.reserve(threads - 1);
        // A worker starts from generation 0, not from whatever it reads when the system gets
        // round to running it: by then a call (or the destructor) may have moved it on, and a
        // worker that took that as its starting point would wait for the next change forever.
        for (std::size_t i = 1; i < threads; ++i) workers_.emplace_back([this] { work(0); });
    }
    ~ThreadPool() {
        stop_.store(true, std::memory_order_seq_cst);
        generation_.fetch_add(1, std::memory_order_seq_cst);
        wake(work_cv_);
        for (auto& t : workers_) t.join();
    }
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    std::size_t concurrency() const noexcept { return workers_.size() + 1; }

    void run(std::size_t n, TaskRef f) noexcept {
        if (n == 0) return;
        if (n == 1 || n > max_tasks || workers_.empty() || busy_.exchange(true, std::memory_order_acquire)) {
            for (std::size_t i = 0; i < n; ++i) f(i);  // alone, or the pool is another caller's
            return;
        }
        Job job{f, std::uint32_t(n), this};
        job_.store(&job, std::memory_order_seq_cst);
        generation_.fetch_add(1, std::memory_order_seq_cst);
        wake(work_cv_);
        job.take();
        // The caller has run out of tasks: wait for the last ones (polling through the spin
        // window first: a wake-up costs tens of microseconds), then for every worker that may
        // still hold a pointer to `job` (they find no task left and let go at once).
        auto finished = [&] { return job.done.load(std::memory_order_seq_cst) >= n; };
        if (spin_.count() > 0) {
            const auto until = std::chrono::steady_clock::now() + spin_;
            while (!finished() && std::chrono::steady_clock::now() < until)
                for (int i = 0; i < 8 && !finished(); ++i) detail::cpu_relax();
        }
        sleep_until(done_cv_, finished);
        job_.store(nullptr, std::memory_order_seq_cst);
        while (active_.load(std::memory_order_seq_cst) != 0) detail::cpu_relax();
        busy_.store(false, std::memory_order_release);
    }

  private:
    // Sleeping: a condition variable under the pool's mutex, entered only after the condition
    // was seen false, with the count of sleepers announced first; a waker changes the state
    // (sequentially consistent, as are the sleepers' reads of it), then takes the mutex (only
    // when someone may sleep) before notifying, so no wake-up is lost and an idle worker
    // makes no system call at all until the next call.
    template <class Ready>
    void sleep_until(std::condition_variable& cv, Ready ready) {
        if (ready()) return;
        sleepers_.fetch_add(1, std::memory_order_seq_cst);
        {
            std::unique_lock lock(mutex_);
            cv.wait(lock, ready);
        }
        sleepers_.fetch_sub(1, std::memory_order_seq_cst);
    }
    void wake(std::condition_variable& cv) {
        if (sleepers_.load(std::memory_order_seq_cst) == 0) return;
        { const std::lock_guard lock(mutex_); }
        cv.notify_all();
    }

    static constexpr std::size_t max_tasks = std::size_t{1} << 30;
    struct Job {
        TaskRef task;
        std::uint32_t n;
        ThreadPool* pool;
        std::atomic<std::uint32_t> next{0}, done{0};
        void take() noexcept {
            for (std::uint32_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < n;) {
                task(i);
                if (done.fetch_add(1, std::memory_order_seq_cst) + 1 == n) pool->wake(pool->done_cv_);
            }
        }
    };

    void work(std::uint32_t seen) noexcept {
        for (;;) {
            if (spin_.count() > 0) {
                const auto until = std::chrono::steady_clock::now() + spin_;
                while (generation_.load(std::memory_order_acquire) == seen && std::chrono::steady_clock::now() < until)
                    for (int i = 0; i < 8 && generation_.load(std::memory_order_relaxed) == seen; ++i) detail::cpu_relax();
            }
            sleep_until(work_cv_, [&] { return generation_.load(std::memory_order_seq_cst) != seen; });
            seen = generation_.load(std::memory_order_seq_cst);
            if (stop_.load(std::memory_order_seq_cst)) return;
            // Announce first, then look: run() waits for active_ == 0 after clearing job_, so
            // a job seen here outlives its use.
            active_.fetch_add(1, std::memory_order_seq_cst);
            if (Job* job = job_.load(std::memory_order_seq_cst)) job->take();
            active_.fetch_sub(1, std::memory_order_seq_cst);
        }
    }

    std::chrono::microseconds spin_;
    std::atomic<bool> busy_{false}, stop_{false};
    std::atomic<std::uint32_t> generation_{0};  // wraps around: only equality is compared
    std::atomic<Job*> job_{nullptr};
    std::atomic<std::size_t> active_{0}, sleepers_{0};
    std::mutex mutex_;
    std::condition_variable work_cv_, done_cv_;
    std::vector<std::thread> workers_;
};

// A team for one sample's forward pass: many short parallel phases (each convolution's padded
// copy, then its products) with serial work between them. A call to the executor per phase
// would pay a wake-up and a handshake each time; a team pays them once. `run_team(executor,
// body)` runs body(team) once, on whichever task the executor starts first (the leader); the
// other tasks stand by, and inside body `team.parallel(n, f)` runs f(0) ... f(n - 1) on the
// leader and the helpers present, returning when all n are done.
//
// Nothing waits for a helper to arrive: pieces are claimed, so an executor that runs the
// tasks one after another (`Inline`, or a busy pool) just has the leader do every piece, and
// the later tasks find the work finished. The claim word holds the phase, its piece count and
// the next piece, so a helper that claims a piece knows that piece's phase is still running
// (the leader waits for it) and reads the phase's function safely.
class Team {
  public:
    void parallel(std::size_t n, TaskRef f) noexcept {
        if (n == 0) return;
        if (n == 1 || n > max_pieces) {
            for (std::size_t i = 0; i < n; ++i) f(i);
            return;
        }
        task_ = &f;
        done_.store(0, std::memory_order_relaxed);
        ++phase_;
        claim_.store(std::uint64_t(phase_) << 32 | std::uint64_t(n) << 16, std::memory_order_release);
        while (take()) {
        }
        while (done_.load(std::memory_order_acquire) < n) detail::cpu_relax();
    }

    template <Executor E, class Body>
    friend void run_team(E& executor, Body&& body);

  private:
    static constexpr std::size_t max_pieces = 0xffff;
    // Claims and runs one piece of the current phase; false when none is left.
    bool take() noexcept {
        std::uint64_t s = claim_.load(std::memory_order_acquire);
        for (;;) {
            const std::uint64_t next = s & 0xffff, count = s >> 16 & 0xffff;
            if (next >= count) return false;
            if (claim_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel, std::memory_order_acquire)) {
                (*task_)(next);
                done_.fetch_add(1, std::memory_order_release);
                return true;
            }
        }
    }
    void help() noexcept {
        for (std::uint32_t idle = 0; !finished_.load(std::memory_order_acquire);) {
            if (take()) {
                idle = 0;
            } else if (++idle % 1024 == 0) {
                std::this_thread::yield();  // more tasks than free cores: let the leader run
            } else {
                detail::cpu_relax();
            }
        }
    }

    const TaskRef* task_ = nullptr;
    std::uint32_t phase_ = 0;
    std::atomic<std::uint64_t> claim_{0};  // phase << 32 | pieces << 16 | next piece
    std::atomic<std::uint32_t> done_{0};
    std::atomic<bool> leader_{false}, finished_{false};
};

template <Executor E, class Body>
void run_team(E& executor, Body&& body) {
    Team team;
    // (An executor that reports no threads still runs the body: one task, the leader.)
    executor.run(std::max<std::size_t>(executor.concurrency(), 1), [&](std::size_t) {
        if (!team.leader_.exchange(true, std::memory_order_acq_rel)) {
            body(team);
            team.finished_.store(true, std::memory_order_release);
        } else {
            team.help();
        }
    });
}

}  // namespace typenet::inline TYPENET_ISA_NAMESPACE

// Threads, only when asked: an executor interface and a pool that sleeps when idle.
//
// typenet never starts a thread of its own. `predict` runs on the calling thread unless it is
// given an executor: anything with
//
//   std::size_t concurrency() const;          // threads that may run tasks, the caller's included
//   void run(std::size_t n, tn::TaskRef f);   // f(0) ... f(n - 1), each once, on any of them;
//                                             // returns when all have returned
//
// so a user can back it with their own pool, TBB or std::jthreads (and, optionally,
// `tn::TeamDistance& team_distance()`, which lets one sample's pass split only what pays at
// the distance between its threads: below). `tn::ThreadPool` is one:
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
#include <concepts>
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

// How far apart an executor's threads are, as its teams see it (run_team, below): the lag
// from a leader publishing a phase to a waiting helper claiming a piece of it, the least over
// a call's phases, smoothed over calls. On a VM it moves within minutes: the host puts the two
// vCPUs of this machine on cores that share a cache (a cache-line round trip of 90-110 ns: a
// lag of 50-70 ns), on cores that do not (430-580 ns: lags of 120-390), or keeps the second
// waiting for a core (lags of tens of microseconds). ResNet-20's one sample on two threads
// measured 1.65-1.73x one thread in the first case, 0.92-0.97x in the second and 0.5x in the
// third. So a team splits a step only where the lag is under that step's limit
// (Program::split_limit_ns: every step when near, only those of enough work farther), and a
// call in which no step would split runs on the caller alone. While the lag is not near, every
// 64th call splits every step anyway, so that a team whose splits are all off still measures.
// Only how the work is divided depends on it, never a result.
class TeamDistance {
  public:
    // Under this lag every step splits (the split rules were measured there).
    static constexpr std::uint32_t near_lag_ns = 100;
    // While the lag is not near, every probe_period-th call splits every step (to measure).
    static constexpr std::uint32_t probe_period = 64;
    static constexpr std::uint32_t none = UINT32_MAX;
    // The lag this call's splits go by (0: split every step).
    std::uint32_t plan() noexcept {
        const std::uint32_t lag = lag_ns_.load(std::memory_order_relaxed);
        if (lag < near_lag_ns) return 0;
        return calls_.fetch_add(1, std::memory_order_relaxed) % probe_period == probe_period - 1 ? 0 : lag;
    }
    // A call's least lag (none: no helper claimed a piece while waiting).
    void note(std::uint32_t least_ns) noexcept {
        if (least_ns == none) return;
        const std::uint32_t old = lag_ns_.load(std::memory_order_relaxed);
        lag_ns_.store(old == 0 ? std::max<std::uint32_t>(least_ns, 1) : std::uint32_t((3 * std::uint64_t(old) + least_ns) / 4),
                      std::memory_order_relaxed);
    }
    std::uint32_t lag_ns() const noexcept { return lag_ns_.load(std::memory_order_relaxed); }

  private:
    std::atomic<std::uint32_t> lag_ns_{0}, calls_{0};  // 0: not measured yet
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
    // How far apart this pool's threads are (run_team measures it on every call).
    TeamDistance& team_distance() noexcept { return distance_; }

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
    TeamDistance distance_;
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
//
// Where the executor measures its threads' distance (`team_distance()`: ThreadPool does), the
// team notes each helper's lag and goes by the executor's TeamDistance: `team.splits(limit)`
// says whether a step whose split pays under a lag of `limit` ns is split in this call, and
// `useful_ns`, the least lag at which no step of the body would split, lets a call run the
// body on the caller alone, without the executor.
class Team;
template <Executor E, class Body>
void run_team(E& executor, Body&& body, std::uint32_t useful_ns = TeamDistance::none);

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
        if (timed_) published_ns_.store(now_ns(), std::memory_order_relaxed);
        claim_.store(std::uint64_t(phase_) << 32 | std::uint64_t(n) << 16, std::memory_order_release);
        while (take(nullptr)) {
        }
        while (done_.load(std::memory_order_acquire) < n) detail::cpu_relax();
    }
    // Whether this call splits a step whose split pays under a lag of limit_ns
    // (TeamDistance; every step, where the executor does not measure it).
    bool splits(std::uint32_t limit_ns) const noexcept { return lag_ < limit_ns; }

    template <Executor E, class Body>
    friend void run_team(E& executor, Body&& body, std::uint32_t useful_ns);

  private:
    static constexpr std::size_t max_pieces = 0xffff;
    static std::int64_t now_ns() noexcept {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
    }
    // Claims and runs one piece of the current phase; false when none is left. A helper
    // passes the last phase it claimed in (`seen`): its first piece of a phase notes its lag.
    bool take(std::uint32_t* seen) noexcept {
        std::uint64_t s = claim_.load(std::memory_order_acquire);
        for (;;) {
            const std::uint64_t next = s & 0xffff, count = s >> 16 & 0xffff;
            if (next >= count) return false;
            if (claim_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel, std::memory_order_acquire)) {
                if (seen && timed_ && *seen != std::uint32_t(s >> 32)) {
                    *seen = std::uint32_t(s >> 32);
                    note_lag(now_ns() - published_ns_.load(std::memory_order_relaxed));
                }
                (*task_)(next);
                done_.fetch_add(1, std::memory_order_release);
                return true;
            }
        }
    }
    void note_lag(std::int64_t ns) noexcept {
        const auto lag = std::uint32_t(std::clamp<std::int64_t>(ns, 0, TeamDistance::none - 1));
        for (std::uint32_t least = least_lag_.load(std::memory_order_relaxed);
             lag < least && !least_lag_.compare_exchange_weak(least, lag, std::memory_order_relaxed);) {
        }
    }
    void help() noexcept {
        std::uint32_t seen = 0;
        for (std::uint32_t idle = 0; !finished_.load(std::memory_order_acquire);) {
            if (take(&seen)) {
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
    std::uint32_t lag_ = 0;  // the lag this call goes by
    bool timed_ = false;
    std::atomic<std::uint64_t> claim_{0};  // phase << 32 | pieces << 16 | next piece
    std::atomic<std::uint32_t> done_{0};
    std::atomic<std::int64_t> published_ns_{0};
    std::atomic<std::uint32_t> least_lag_{TeamDistance::none};
    std::atomic<bool> leader_{false}, finished_{false};
};

template <Executor E, class Body>
void run_team(E& executor, Body&& body, std::uint32_t useful_ns) {
    Team team;
    TeamDistance* distance = nullptr;
    if constexpr (requires { { executor.team_distance() } -> std::same_as<TeamDistance&>; }) distance = &executor.team_distance();
    if (distance) {
        team.lag_ = distance->plan(), team.timed_ = true;
        if (team.lag_ >= useful_ns) return body(team);
    }
    // (An executor that reports no threads still runs the body: one task, the leader.)
    executor.run(std::max<std::size_t>(executor.concurrency(), 1), [&](std::size_t) {
        if (!team.leader_.exchange(true, std::memory_order_acq_rel)) {
            body(team);
            team.finished_.store(true, std::memory_order_release);
        } else {
            team.help();
        }
    });
    if (distance) distance->note(team.least_lag_.load(std::memory_order_relaxed));
}

}  // namespace typenet::inline TYPENET_ISA_NAMESPACE

// xgrad's thread pool (include/xgrad/threads.hpp, lib/parallel.hpp): a few
// workers that take the chunks of one job at a time from an atomic counter,
// spin briefly after a job (ops come in quick succession), yielding the core
// on every turn, and then sleep, so that OpenBLAS's threads find the cores
// free during a gemm.
#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "parallel.hpp"
#include "xgrad/error.hpp"
#include "xgrad/threads.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define XG_PAUSE() _mm_pause()
#else
#define XG_PAUSE() std::this_thread::yield()
#endif

namespace xg {
namespace detail {
namespace {

/// The CPUs this process may run on.
std::size_t cpus() {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        const int n = CPU_COUNT(&set);
        if (n > 0) return std::size_t(n);
    }
    const unsigned h = std::thread::hardware_concurrency();
    return h ? h : 1;
}

/// True in a process that an MPI launcher started (Open MPI, MPICH, PMIx).
bool under_mpi() {
    for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"}) {
        if (std::getenv(v)) return true;
    }
    return false;
}

/// threads() when set_threads() did not choose: XGRAD_NUM_THREADS, 1 under
/// MPI, the CPU count otherwise.
std::size_t default_threads() {
    if (const char* env = std::getenv("XGRAD_NUM_THREADS")) {
        const std::string s(env);
        std::size_t n = 0;
        bool ok = !s.empty() && s.size() <= 6;
        for (const char ch : s) {
            if (ch < '0' || ch > '9') ok = false;
            else n = n * 10 + std::size_t(ch - '0');
        }
        if (!ok || n == 0) {
            throw ValueError("XGRAD_NUM_THREADS=\"" + s + "\": expected a positive integer (the number of threads of "
                             "xgrad's loops)");
        }
        return n;
    }
    return under_mpi() ? 1 : cpus();
}

/// Set in the child of a fork(): the pool's workers stayed in the parent,
/// so the child runs every job on its calling thread.
std::atomic<bool> forked_child{false};

class Pool {
public:
    Pool() {
        pthread_atfork(nullptr, nullptr, [] { forked_child.store(true, std::memory_order_relaxed); });
    }

    std::size_t threads() {
        std::lock_guard<std::mutex> lock(config_);
        if (!chosen_) {
            wanted_ = default_threads();
            chosen_ = true;
        }
        return wanted_;
    }

    void set(std::size_t n) {
        std::lock_guard<std::mutex> lock(config_);
        if (n == 0) {
            chosen_ = false;  // the default again, read at the next use
            return;
        }
        wanted_ = n;
        chosen_ = true;
    }

    void run(std::size_t tasks, void (*task)(void*, std::size_t), void* ctx) {
        const std::size_t n = threads();
        // One job at a time: a nested call (from inside a task) or a call
        // from another thread while a job runs takes the serial path.
        std::unique_lock<std::mutex> busy(busy_, std::try_to_lock);
        if (n < 2 || tasks < 2 || tasks > 0xffffffffu || !busy.owns_lock() ||
            forked_child.load(std::memory_order_relaxed)) {
            for (std::size_t t = 0; t < tasks; ++t) task(ctx, t);
            return;
        }
        if (workers_.size() != n - 1) resize(n);
        Job job{task, ctx, tasks, 0};
        {
            std::lock_guard<std::mutex> lock(m_);
            job.tag = ++tag_;
            job_ = job;
            done_.store(0, std::memory_order_relaxed);
            claim_.store(std::uint64_t(job.tag) << 32, std::memory_order_release);
            generation_.store(job.tag, std::memory_order_release);
        }
        cv_.notify_all();
        work(job);
        // Wait for the chunks the workers took.
        for (unsigned spin = 0; done_.load(std::memory_order_acquire) != tasks; ++spin) {
            if (spin < 4096) XG_PAUSE();
            else std::this_thread::yield();
        }
    }

private:
    struct Job {
        void (*task)(void*, std::size_t);
        void* ctx;
        std::size_t tasks;
        std::uint32_t tag;  // claim_'s high half while the job runs
    };

    // Claims and runs chunks of `job` until none is left. A worker that
    // wakes late for a finished job claims nothing: the counter carries the
    // job's tag.
    void work(const Job& job) {
        std::size_t ran = 0;
        std::uint64_t c = claim_.load(std::memory_order_acquire);
        for (;;) {
            if (std::uint32_t(c >> 32) != job.tag) break;
            const std::size_t t = std::size_t(c & 0xffffffffu);
            if (t >= job.tasks) break;
            if (!claim_.compare_exchange_weak(c, c + 1, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
            job.task(job.ctx, t);
            ++ran;
            c = claim_.load(std::memory_order_acquire);
        }
        if (ran) done_.fetch_add(ran, std::memory_order_acq_rel);
    }

    // A worker; `seen` is the generation when it was started (a job published
    // after that, even before the thread runs, is one it takes part in).
    void worker(std::uint32_t seen) {
        for (;;) {
            // Spin for a short while (the next op's job comes soon), then sleep.
            // The spin yields the core on each turn rather than pausing on it:
            // between two elementwise jobs there is often a gemm, whose
            // OpenBLAS threads need every core (pausing here cost the LSTM
            // step 15% and the M step 5–10% on 2 cores; docs/performance.md).
            const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(50);
            for (unsigned spin = 0; generation_.load(std::memory_order_acquire) == seen; ++spin) {
                if (stop_.load(std::memory_order_relaxed)) return;
                std::this_thread::yield();
                if ((spin & 63) == 63 && std::chrono::steady_clock::now() > until) break;
            }
            Job job;
            {
                std::unique_lock<std::mutex> lock(m_);
                cv_.wait(lock, [&] {
                    return stop_.load(std::memory_order_relaxed) || generation_.load(std::memory_order_relaxed) != seen;
                });
                if (stop_.load(std::memory_order_relaxed)) return;
                job = job_;
                seen = job.tag;
            }
            work(job);
        }
    }

    // Stops the workers and starts n − 1 new ones (none for n = 1). Called
    // with busy_ held.
    void resize(std::size_t n) {
        {
            std::lock_guard<std::mutex> lock(m_);
            stop_.store(true, std::memory_order_relaxed);
        }
        cv_.notify_all();
        for (std::thread& t : workers_) t.join();
        workers_.clear();
        stop_.store(false, std::memory_order_relaxed);
        // A worker that cannot be started leaves the pool smaller; the
        // chunks still all run (the calling thread takes what is left).
        try {
            const std::uint32_t now = generation_.load(std::memory_order_acquire);
            for (std::size_t k = 1; k < n; ++k) workers_.emplace_back([this, now] { worker(now); });
        } catch (const std::system_error&) {
        }
    }

    std::mutex config_;
    std::size_t wanted_ = 1;
    bool chosen_ = false;

    std::mutex busy_;  // held by the job that owns the workers
    std::mutex m_;
    std::condition_variable cv_;
    std::vector<std::thread> workers_;
    std::atomic<bool> stop_{false};
    Job job_{};                              // the current job (under m_)
    std::uint32_t tag_ = 0;                  // the last job's tag (under m_)
    std::atomic<std::uint32_t> generation_{0};
    std::atomic<std::uint64_t> claim_{0};    // tag << 32 | next chunk
    std::atomic<std::size_t> done_{0};       // chunks of the current job finished
};

// Never destroyed: sleeping workers need no joining at exit, and a forked
// child (whose copy holds no threads) never joins them.
Pool& pool() {
    static Pool* p = new Pool;
    return *p;
}

}  // namespace

void run_tasks(std::size_t tasks, void (*task)(void*, std::size_t), void* ctx) { pool().run(tasks, task, ctx); }

}  // namespace detail

std::size_t threads() { return detail::pool().threads(); }

void set_threads(std::size_t n) { detail::pool().set(n); }

}  // namespace xg

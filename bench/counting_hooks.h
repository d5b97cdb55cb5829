// Per-thread counts of heap allocations and lock acquisitions, for
// benchmarks that prove the decision path makes none.
//
// counting_hooks.cc replaces the global operator new and interposes the
// POSIX mutex, read-write lock and spin lock entry points of the binary it
// is linked into. Every call increments the calling thread's counter and
// then does the real work. Locks that bypass pthreads (absl::Mutex's fast
// path, the spin lock of std::atomic<std::shared_ptr>) are not counted, so
// the benchmarks also compare one-thread and two-thread cost.

#ifndef VERDICT_BENCH_COUNTING_HOOKS_H_
#define VERDICT_BENCH_COUNTING_HOOKS_H_

#include <cstdint>

namespace verdict::bench {

// Calls to operator new (all forms) on this thread so far.
uint64_t ThreadAllocations();
// Calls to pthread_mutex_lock/trylock, pthread_rwlock_rdlock/wrlock and
// pthread_spin_lock on this thread so far.
uint64_t ThreadLocks();

}  // namespace verdict::bench

#endif  // VERDICT_BENCH_COUNTING_HOOKS_H_

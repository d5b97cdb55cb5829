// Counting replacements for operator new and the pthread lock functions.
// Link this file into an executable only: the definitions take precedence
// over the C++ runtime's and glibc's for the whole process.

#include "bench/counting_hooks.h"

#include <dlfcn.h>
#include <pthread.h>

#include <cstdlib>
#include <new>

namespace {

thread_local uint64_t allocations = 0;
thread_local uint64_t locks = 0;

void* CountedAllocate(size_t size) {
  ++allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}

void* CountedAllocateAligned(size_t size, std::align_val_t alignment) {
  ++allocations;
  size_t align = static_cast<size_t>(alignment);
  size_t rounded = (size + align - 1) / align * align;
  if (void* p = std::aligned_alloc(align, rounded == 0 ? align : rounded)) {
    return p;
  }
  throw std::bad_alloc();
}

// Looks up glibc's definition of `name`, the next one after this file's.
template <typename Function>
Function Next(const char* name) {
  void* symbol = dlsym(RTLD_NEXT, name);
  if (symbol == nullptr) std::abort();
  return reinterpret_cast<Function>(symbol);
}

}  // namespace

namespace verdict::bench {
uint64_t ThreadAllocations() { return allocations; }
uint64_t ThreadLocks() { return locks; }
}  // namespace verdict::bench

void* operator new(size_t size) { return CountedAllocate(size); }
void* operator new[](size_t size) { return CountedAllocate(size); }
void* operator new(size_t size, const std::nothrow_t&) noexcept {
  ++allocations;
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](size_t size, const std::nothrow_t&) noexcept {
  ++allocations;
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new(size_t size, std::align_val_t alignment) {
  return CountedAllocateAligned(size, alignment);
}
void* operator new[](size_t size, std::align_val_t alignment) {
  return CountedAllocateAligned(size, alignment);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, size_t, std::align_val_t) noexcept {
  std::free(p);
}

extern "C" {

int pthread_mutex_lock(pthread_mutex_t* mutex) {
  static auto next = Next<int (*)(pthread_mutex_t*)>("pthread_mutex_lock");
  ++locks;
  return next(mutex);
}

int pthread_mutex_trylock(pthread_mutex_t* mutex) {
  static auto next = Next<int (*)(pthread_mutex_t*)>("pthread_mutex_trylock");
  ++locks;
  return next(mutex);
}

int pthread_rwlock_rdlock(pthread_rwlock_t* lock) {
  static auto next = Next<int (*)(pthread_rwlock_t*)>("pthread_rwlock_rdlock");
  ++locks;
  return next(lock);
}

int pthread_rwlock_wrlock(pthread_rwlock_t* lock) {
  static auto next = Next<int (*)(pthread_rwlock_t*)>("pthread_rwlock_wrlock");
  ++locks;
  return next(lock);
}

int pthread_spin_lock(pthread_spinlock_t* lock) {
  static auto next = Next<int (*)(pthread_spinlock_t*)>("pthread_spin_lock");
  ++locks;
  return next(lock);
}

}  // extern "C"

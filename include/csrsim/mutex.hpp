// mutex: the project's locks, annotated for clang's thread-safety analysis.
//
// A member that a mutex protects is declared CSRSIM_GUARDED_BY(mu_); a private
// method that expects the caller to hold the lock is CSRSIM_REQUIRES(mu_).
// Built with clang, -Wthread-safety (CMakeLists.txt; an error there) then
// rejects any read or write of such a member without the lock, at compile
// time. With gcc the annotations compile to nothing.
//
//   Mutex mu_;
//   int count_ CSRSIM_GUARDED_BY(mu_) = 0;
//   void Add() { MutexLock lock(mu_); ++count_; }
//
// Waiting on a condition: write the predicate as a loop in the function that
// holds the lock (a lambda is analysed as a function of its own, without it):
//
//   MutexLock lock(mu_);
//   while (!ready_) lock.Wait(ready_cv_);
//
// Thread-safety: these are the thread-safety primitives; Mutex and
// SharedMutex are safe to use from any thread, a lock object belongs to the
// thread that made it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <shared_mutex>

#if defined(__clang__)
#define CSRSIM_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define CSRSIM_THREAD_ANNOTATION(x)
#endif

#define CSRSIM_CAPABILITY(name) CSRSIM_THREAD_ANNOTATION(capability(name))
#define CSRSIM_SCOPED_CAPABILITY CSRSIM_THREAD_ANNOTATION(scoped_lockable)
#define CSRSIM_GUARDED_BY(mu) CSRSIM_THREAD_ANNOTATION(guarded_by(mu))
#define CSRSIM_PT_GUARDED_BY(mu) CSRSIM_THREAD_ANNOTATION(pt_guarded_by(mu))
#define CSRSIM_REQUIRES(...) CSRSIM_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define CSRSIM_REQUIRES_SHARED(...) CSRSIM_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))
#define CSRSIM_EXCLUDES(...) CSRSIM_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define CSRSIM_ACQUIRE(...) CSRSIM_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define CSRSIM_ACQUIRE_SHARED(...) CSRSIM_THREAD_ANNOTATION(acquire_shared_capability(__VA_ARGS__))
#define CSRSIM_RELEASE(...) CSRSIM_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define CSRSIM_RELEASE_SHARED(...) CSRSIM_THREAD_ANNOTATION(release_shared_capability(__VA_ARGS__))
#define CSRSIM_TRY_ACQUIRE(...) CSRSIM_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
#define CSRSIM_RELEASE_GENERIC(...) CSRSIM_THREAD_ANNOTATION(release_generic_capability(__VA_ARGS__))
#define CSRSIM_ASSERT_CAPABILITY(x) CSRSIM_THREAD_ANNOTATION(assert_capability(x))
#define CSRSIM_RETURN_CAPABILITY(x) CSRSIM_THREAD_ANNOTATION(lock_returned(x))
#define CSRSIM_NO_THREAD_SAFETY_ANALYSIS CSRSIM_THREAD_ANNOTATION(no_thread_safety_analysis)

namespace csrsim {

// std::mutex with the capability attribute. lock() first retries for a few
// microseconds before it sleeps: the sections these guard are short, and on a
// busy machine (two cores, a thread per connection) a thread that sleeps on
// a lock its holder is about to release waits a whole round of the run queue
// for its wake-up, which is what set the serving p99 (bench/results/latest.md).
class CSRSIM_CAPABILITY("mutex") Mutex {
 public:
  void lock() CSRSIM_ACQUIRE() {
    for (int spin = 0; spin < kSpins; ++spin) {
      if (mu_.try_lock()) return;
      Pause();
    }
    mu_.lock();
  }
  void unlock() CSRSIM_RELEASE() { mu_.unlock(); }
  bool try_lock() CSRSIM_TRY_ACQUIRE(true) { return mu_.try_lock(); }
  std::mutex& native() { return mu_; }

 private:
  static constexpr int kSpins = 100;
  static void Pause() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
  std::mutex mu_;
};

// std::shared_mutex with the capability attribute: many readers or one writer.
class CSRSIM_CAPABILITY("mutex") SharedMutex {
 public:
  void lock() CSRSIM_ACQUIRE() { mu_.lock(); }
  void unlock() CSRSIM_RELEASE() { mu_.unlock(); }
  void lock_shared() CSRSIM_ACQUIRE_SHARED() { mu_.lock_shared(); }
  void unlock_shared() CSRSIM_RELEASE_SHARED() { mu_.unlock_shared(); }

 private:
  std::shared_mutex mu_;
};

// Holds a Mutex for its scope; can wait on a condition variable (which
// releases and retakes the lock) and be released early with Unlock().
class CSRSIM_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) CSRSIM_ACQUIRE(mu) : lock_(Locked(mu), std::adopt_lock) {}
  ~MutexLock() CSRSIM_RELEASE() {}
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  void Wait(std::condition_variable& cv) { cv.wait(lock_); }
  // False when `deadline` passed first.
  template <class Clock, class Duration>
  bool WaitUntil(std::condition_variable& cv, const std::chrono::time_point<Clock, Duration>& deadline) {
    return cv.wait_until(lock_, deadline) == std::cv_status::no_timeout;
  }
  void Unlock() CSRSIM_RELEASE() { lock_.unlock(); }
  void Lock() CSRSIM_ACQUIRE() { lock_.lock(); }

 private:
  static std::mutex& Locked(Mutex& mu) CSRSIM_NO_THREAD_SAFETY_ANALYSIS {
    mu.lock();
    return mu.native();
  }
  std::unique_lock<std::mutex> lock_;
};

// Holds a SharedMutex exclusively for its scope, or until Unlock().
class CSRSIM_SCOPED_CAPABILITY WriterLock {
 public:
  explicit WriterLock(SharedMutex& mu) CSRSIM_ACQUIRE(mu) : mu_(mu) { mu_.lock(); }
  ~WriterLock() CSRSIM_RELEASE() {
    if (locked_) mu_.unlock();
  }
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

  void Unlock() CSRSIM_RELEASE() {
    mu_.unlock();
    locked_ = false;
  }

 private:
  SharedMutex& mu_;
  bool locked_ = true;
};

// Holds a SharedMutex shared (with other readers) for its scope.
class CSRSIM_SCOPED_CAPABILITY ReaderLock {
 public:
  explicit ReaderLock(SharedMutex& mu) CSRSIM_ACQUIRE_SHARED(mu) : mu_(mu) { mu_.lock_shared(); }
  ~ReaderLock() CSRSIM_RELEASE() { mu_.unlock_shared(); }
  ReaderLock(const ReaderLock&) = delete;
  ReaderLock& operator=(const ReaderLock&) = delete;

 private:
  SharedMutex& mu_;
};

}  // namespace csrsim

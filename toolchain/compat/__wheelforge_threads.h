// wheelforge's single-thread <mutex>, <condition_variable> and <thread> for wasm32 WASI (see
// docs/toolchain.md, "C++ threads").
//
// The target's libc++ is built without threads (_LIBCPP_HAS_THREADS is 0), so <mutex>,
// <condition_variable> and <thread> declare nothing, and C++ libraries that lock a mutex or
// size a worker pool from std::thread::hardware_concurrency() fail to compile. A side module
// runs in one thread, so:
// - mutexes are no-ops (nobody else can hold one);
// - std::thread::hardware_concurrency() is 1, so pools sized from it start no workers;
// - starting a thread, or waiting on a condition variable whose condition is false (nothing
//   else could ever make it true), reports what was asked and aborts.
#ifndef WHEELFORGE_THREADS_H
#define WHEELFORGE_THREADS_H

#include <__config>

#if !_LIBCPP_HAS_THREADS

// libc++'s internal headers only: <mutex> is included from inside <ios>, and the public
// <chrono> or <functional> would include <locale> again before it is complete.
#include <__chrono/duration.h>
#include <__chrono/time_point.h>
#include <__cstddef/size_t.h>
#include <__functional/hash.h>
#include <__mutex/unique_lock.h>

extern "C" __attribute__((__noreturn__)) void __wheelforge_no_threads(const char *what);

_LIBCPP_BEGIN_NAMESPACE_STD

class mutex {
public:
  constexpr mutex() noexcept = default;
  mutex(const mutex &) = delete;
  mutex &operator=(const mutex &) = delete;
  void lock() {}
  bool try_lock() noexcept { return true; }
  void unlock() noexcept {}
};

class recursive_mutex {
public:
  recursive_mutex() noexcept = default;
  recursive_mutex(const recursive_mutex &) = delete;
  recursive_mutex &operator=(const recursive_mutex &) = delete;
  void lock() {}
  bool try_lock() noexcept { return true; }
  void unlock() noexcept {}
};

enum class cv_status { no_timeout, timeout };

class condition_variable {
public:
  condition_variable() noexcept = default;
  condition_variable(const condition_variable &) = delete;
  condition_variable &operator=(const condition_variable &) = delete;
  void notify_one() noexcept {}
  void notify_all() noexcept {}
  void wait(unique_lock<mutex> &) {
    __wheelforge_no_threads("std::condition_variable::wait (no other thread can notify)");
  }
  template <class _Predicate> void wait(unique_lock<mutex> &__lock, _Predicate __pred) {
    if (!__pred())
      wait(__lock);
  }
  template <class _Rep, class _Period>
  cv_status wait_for(unique_lock<mutex> &, const chrono::duration<_Rep, _Period> &) {
    return cv_status::timeout;
  }
  template <class _Rep, class _Period, class _Predicate>
  bool wait_for(unique_lock<mutex> &, const chrono::duration<_Rep, _Period> &, _Predicate __pred) {
    return __pred();
  }
  template <class _Clock, class _Duration>
  cv_status wait_until(unique_lock<mutex> &, const chrono::time_point<_Clock, _Duration> &) {
    return cv_status::timeout;
  }
  template <class _Clock, class _Duration, class _Predicate>
  bool wait_until(unique_lock<mutex> &, const chrono::time_point<_Clock, _Duration> &,
                  _Predicate __pred) {
    return __pred();
  }
};

class thread {
public:
  class id {
  public:
    id() noexcept = default;
    friend bool operator==(id, id) noexcept { return true; }
    friend bool operator!=(id, id) noexcept { return false; }
    friend bool operator<(id, id) noexcept { return false; }
  };
  thread() noexcept = default;
  template <class _Fp, class... _Args> explicit thread(_Fp &&, _Args &&...) {
    __wheelforge_no_threads("std::thread (wasm32 WASI side modules run in one thread)");
  }
  thread(thread &&) noexcept = default;
  thread &operator=(thread &&) noexcept = default;
  bool joinable() const noexcept { return false; }
  void join() { __wheelforge_no_threads("std::thread::join of a thread never started"); }
  void detach() { __wheelforge_no_threads("std::thread::detach of a thread never started"); }
  id get_id() const noexcept { return id(); }
  static unsigned hardware_concurrency() noexcept { return 1; }
};

template <> struct hash<thread::id> {
  size_t operator()(thread::id) const noexcept { return 0; }
};

namespace this_thread {
inline void yield() noexcept {}
inline thread::id get_id() noexcept { return thread::id(); }
template <class _Rep, class _Period> void sleep_for(const chrono::duration<_Rep, _Period> &) {}
} // namespace this_thread

_LIBCPP_END_NAMESPACE_STD

#endif // !_LIBCPP_HAS_THREADS
#endif // WHEELFORGE_THREADS_H

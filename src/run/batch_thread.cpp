// BatchThread: one thread a pass, handed each batch and waited for.
#include "batch_thread.hpp"

#include <malloc.h>

namespace tessera::run {

BatchThread::BatchThread() : thread_([this] { loop(); }) {}

BatchThread::~BatchThread() {
  {
    const std::lock_guard lock(mutex_);
    quit_ = true;
  }
  changed_.notify_all();
  thread_.join();
  // The thread's buffers are freed by now; those below malloc's mmap threshold went back to its
  // arenas, which keep the pages unless trimmed.
  malloc_trim(0);
}

void BatchThread::run(const std::function<void()>& work) {
  std::unique_lock lock(mutex_);
  work_ = &work;
  failure_ = nullptr;
  changed_.notify_all();
  changed_.wait(lock, [&] { return work_ == nullptr; });
  if (failure_) std::rethrow_exception(failure_);
}

void BatchThread::loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return work_ != nullptr || quit_; });
    if (work_ == nullptr) return;
    lock.unlock();
    std::exception_ptr failure;
    try {
      (*work_)();
    } catch (...) {
      failure = std::current_exception();
    }
    lock.lock();
    failure_ = failure;
    work_ = nullptr;
    changed_.notify_all();
  }
}

}  // namespace tessera::run

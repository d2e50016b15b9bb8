// The thread a streaming pass computes its batches on, which ends with the pass.
#pragma once

#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

namespace tessera::run {

/// Runs a pass's batches of tiles (each an OpenMP parallel loop it starts) on a thread of the
/// pass's own, so that what ops keep per thread from one tile to the next (thread_local buffers,
/// allocated once a thread) goes when the pass ends instead of staying held through the passes
/// after it: when this thread ends, so do the threads of its OpenMP team, with their buffers, and
/// malloc then gives back to the system the pages freed. The main thread waits while a batch
/// runs, so MPI is still called from it alone.
class BatchThread {
 public:
  BatchThread();
  /// Ends the thread (after the batch it runs) and trims malloc's free pages.
  ~BatchThread();
  BatchThread(const BatchThread&) = delete;
  BatchThread& operator=(const BatchThread&) = delete;
  /// Runs `work` on the thread and returns when it has; rethrows what it threw.
  void run(const std::function<void()>& work);

 private:
  void loop();

  std::mutex mutex_;
  std::condition_variable changed_;
  const std::function<void()>* work_ = nullptr;  ///< the batch to run, until it has run
  std::exception_ptr failure_;
  bool quit_ = false;
  std::thread thread_;
};

}  // namespace tessera::run

// The streaming executor: ranks claim tiles, threads process them, rank 0 writes them in order.
#include "tessera/run/executor.hpp"

#include <omp.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <map>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/core.h>

#include "tessera/core/error.hpp"
#include "tessera/io/geotiff.hpp"
#include "tessera/io/raster_source.hpp"
#include "tessera/par/agreement.hpp"
#include "tessera/par/environment.hpp"
#include "tessera/par/tile_counter.hpp"
#include "tessera/par/tile_mail.hpp"
#include "tile_worker.hpp"

namespace tessera::run {

namespace {

using Clock = std::chrono::steady_clock;
using Bytes = std::vector<std::byte>;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// GDAL's block cache per rank: enough for the halo rows tiles share, bounded whatever the raster.
constexpr int64_t gdal_cache_bytes = 64LL << 20;

/// Rank 0's side of the output: puts band-tiles in sequence order and writes each as soon as
/// all before it are written, so the file is the same byte for byte whoever computed what.
class OrderedWriter {
 public:
  OrderedWriter(const plan::Plan& plan, const BandSlots& slots) : slots_(slots) {
    for (const auto& output : plan.outputs)
      writers_.push_back(std::make_unique<io::GeoTiffWriter>(output.spec));
  }

  /// Files `bytes` under `key` and writes what has become writable. Returns spent buffers.
  void add(int64_t key, Bytes bytes, std::vector<Bytes>& spent) {
    waiting_.emplace(key, std::move(bytes));
    for (auto it = waiting_.begin(); it != waiting_.end() && it->first == next_;) {
      const auto [output, band] = slots_.at(next_ % slots_.bands());
      writers_[output]->write_tile(band, next_ / slots_.bands(), it->second);
      spent.push_back(std::move(it->second));
      it = waiting_.erase(it);
      ++next_;
    }
  }

  int64_t written() const { return next_; }
  void commit() {
    for (auto& writer : writers_) writer->commit();
  }

 private:
  const BandSlots& slots_;
  std::vector<std::unique_ptr<io::GeoTiffWriter>> writers_;
  std::map<int64_t, Bytes> waiting_;
  int64_t next_ = 0;
};

/// Seconds spent on the main thread outside tile processing.
struct MainTimes {
  double communicate = 0;
  double write = 0;
  double wait = 0;
};

/// One rank's run of the streaming pass. Only the main thread calls MPI.
class StreamingPass {
 public:
  StreamingPass(const plan::Plan& plan, int threads)
      : plan_(plan), slots_(plan), threads_(threads), rank_(par::world_rank()) {
    for (int t = 0; t < threads; ++t) workers_.push_back(std::make_unique<TileWorker>(plan));
    encoded_.resize(static_cast<size_t>(threads),
                    std::vector<Bytes>(static_cast<size_t>(slots_.bands())));
  }

  void open_outputs() {
    if (rank_ == 0) writer_ = std::make_unique<OrderedWriter>(plan_, slots_);
  }

  /// Processes tiles until none are left or some rank failed; returns this rank's failure.
  std::exception_ptr run(par::TileCounter& counter);
  /// Rank 0: checks every band-tile was written, then puts the outputs in place.
  void commit() {
    if (!writer_) return;
    if (writer_->written() != plan_.grid.count() * slots_.bands())
      throw Error("internal error: tiles are missing from the output");
    writer_->commit();
  }

  int64_t tiles() const { return tiles_; }
  PhaseTimes thread_times() const;
  const MainTimes& main_times() const { return main_; }

 private:
  void process_batch(int64_t first, int64_t count);
  Bytes fresh_buffer();
  void deliver(int64_t first, int64_t count);
  void take(int64_t key, Bytes bytes);
  void drain(bool block);

  const plan::Plan& plan_;
  BandSlots slots_;
  int threads_;
  int rank_;
  std::vector<std::unique_ptr<TileWorker>> workers_;
  std::vector<std::vector<Bytes>> encoded_;  // per batch slot, per band slot
  std::unique_ptr<OrderedWriter> writer_;
  std::unique_ptr<par::Inbox> inbox_;
  par::Outbox outbox_;
  std::vector<Bytes> spare_;
  std::exception_ptr failure_;
  int64_t tiles_ = 0;
  MainTimes main_;
};

PhaseTimes StreamingPass::thread_times() const {
  PhaseTimes sum;
  for (const auto& w : workers_) {
    sum.read += w->times().read;
    sum.compute += w->times().compute;
    sum.encode += w->times().encode;
  }
  return sum;
}

void StreamingPass::process_batch(int64_t first, int64_t count) {
  std::vector<std::exception_ptr> failures(static_cast<size_t>(count));
#pragma omp parallel for num_threads(threads_) schedule(dynamic, 1)
  for (int64_t i = 0; i < count; ++i) {
    try {
      workers_[static_cast<size_t>(omp_get_thread_num())]->process(
          first + i, encoded_[static_cast<size_t>(i)]);
    } catch (...) {
      failures[static_cast<size_t>(i)] = std::current_exception();
    }
  }
  for (auto& failure : failures)
    if (failure) std::rethrow_exception(failure);
  tiles_ += count;
}

Bytes StreamingPass::fresh_buffer() {
  if (rank_ != 0) return outbox_.take_buffer();
  if (spare_.empty()) return inbox_->take_buffer();
  Bytes buffer = std::move(spare_.back());
  spare_.pop_back();
  return buffer;
}

void StreamingPass::deliver(int64_t first, int64_t count) {
  const int64_t bands = slots_.bands();
  for (int64_t i = 0; i < count; ++i) {
    auto& encoded = encoded_[static_cast<size_t>(i)];
    for (int64_t b = 0; b < bands; ++b) {
      Bytes bytes = std::exchange(encoded[static_cast<size_t>(b)], fresh_buffer());
      take((first + i) * bands + b, std::move(bytes));
    }
  }
}

void StreamingPass::take(int64_t key, Bytes bytes) {
  const auto start = Clock::now();
  if (rank_ != 0) {
    outbox_.send(key, std::move(bytes));
    main_.communicate += seconds_since(start);
    return;
  }
  if (!failure_) writer_->add(key, std::move(bytes), spare_);
  main_.write += seconds_since(start);
}

void StreamingPass::drain(bool block) {
  if (rank_ != 0 || !inbox_) return;
  while (true) {
    const auto start = Clock::now();
    auto parcel = block ? inbox_->wait() : inbox_->poll();
    (block ? main_.wait : main_.communicate) += seconds_since(start);
    if (!parcel) return;
    try {
      take(parcel->key, std::move(parcel->bytes));
    } catch (...) {
      if (!failure_) failure_ = std::current_exception();
    }
    for (auto& spent : spare_) inbox_->recycle(std::move(spent));
    spare_.clear();
  }
}

std::exception_ptr StreamingPass::run(par::TileCounter& counter) {
  if (rank_ == 0) inbox_ = std::make_unique<par::Inbox>(par::world_size() - 1);
  while (!failure_) {
    auto start = Clock::now();
    const int64_t first = counter.claim(threads_);
    main_.communicate += seconds_since(start);
    if (first >= counter.total()) break;
    const int64_t count = std::min<int64_t>(threads_, counter.total() - first);
    try {
      process_batch(first, count);
      deliver(first, count);
    } catch (...) {
      failure_ = std::current_exception();
    }
    if (failure_) counter.cancel();
    drain(false);
  }
  if (rank_ != 0) {
    const auto start = Clock::now();
    outbox_.close();
    main_.wait += seconds_since(start);
  }
  drain(true);
  return failure_;
}

int64_t peak_rss_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;
}

void print_summary(const plan::Plan& plan, const StreamingPass& pass, int threads,
                   double wall) {
  const PhaseTimes t = pass.thread_times();
  const MainTimes& m = pass.main_times();
  const auto tiles = par::all_gather(static_cast<double>(pass.tiles()));
  const auto rss = par::all_gather(static_cast<double>(peak_rss_bytes()) / 1e6);
  const auto read = par::all_gather(t.read);
  const auto compute = par::all_gather(t.compute);
  const auto encode = par::all_gather(t.encode);
  const auto communicate = par::all_gather(m.communicate);
  const auto write = par::all_gather(m.write);
  const auto waits = par::all_gather(m.wait);
  if (par::world_rank() != 0) return;
  fmt::print("tessera: {} x {} cells, {} tiles of {} x {}, {} ranks x {} threads, {:.2f} s\n",
             plan.grid.raster().width, plan.grid.raster().height, plan.grid.count(),
             plan.grid.tile_width(), plan.grid.tile_height(), tiles.size(), threads, wall);
  fmt::print("  rank  tiles   read  compute  encode  comm  write   wait  peak RSS (thread seconds)\n");
  for (size_t r = 0; r < tiles.size(); ++r)
    fmt::print("  {:4} {:6.0f} {:6.2f} {:8.2f} {:7.2f} {:5.2f} {:6.2f} {:6.2f} {:6.1f} MB\n", r,
               tiles[r], read[r], compute[r], encode[r], communicate[r], write[r], waits[r],
               rss[r]);
}

}  // namespace

int choose_threads(int requested, int ranks_on_node) {
  if (requested > 0) return requested;
  if (const char* env = std::getenv("OMP_NUM_THREADS"); env != nullptr && std::atoi(env) > 0)
    return std::atoi(env);
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::max(1, cores / std::max(1, ranks_on_node));
}

plan::Plan prepare(const job::JobSpec& job) {
  plan::Plan result;
  par::agreed([&] {
    io::init_gdal(gdal_cache_bytes);
    std::vector<RasterInfo> inputs;
    for (const auto& input : job.inputs) inputs.push_back(io::probe(input.path, input.band));
    result = plan::make_plan(job, inputs);
  });
  return result;
}

void execute(const plan::Plan& plan, const RunOptions& options) {
  const auto start = Clock::now();
  const int threads = choose_threads(options.threads, options.ranks_on_node);
  StreamingPass pass(plan, threads);
  par::agreed([&] { pass.open_outputs(); });
  {
    par::TileCounter counter(plan.grid.count());
    par::agree(pass.run(counter));
  }
  par::agreed([&] { pass.commit(); });
  if (!options.quiet) print_summary(plan, pass, threads, seconds_since(start));
}

}  // namespace tessera::run

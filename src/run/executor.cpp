// The streaming executor: ranks claim tiles, threads process them, rank 0 writes compressed tiles
// in order (or, for an uncompressed GeoTIFF on one node, every rank writes its own tiles in place)
// and every rank writes its own tiles of uncompressed HDF5 outputs in lock-step rounds.
#include "tessera/run/executor.hpp"

#include <omp.h>
#include <unistd.h>

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

#include "progress.hpp"
#include "tessera/core/error.hpp"
#include "tessera/io/geotiff.hpp"
#include "tessera/io/hdf5.hpp"
#include "tessera/io/raster_source.hpp"
#include "tessera/io/temporary_files.hpp"
#include "tessera/par/agreement.hpp"
#include "tessera/par/environment.hpp"
#include "tessera/par/mpi_io.hpp"
#include "tessera/par/tile_counter.hpp"
#include "tessera/par/tile_mail.hpp"
#include "tessera/run/probe.hpp"
#include "tessera/run/report.hpp"
#include "tile_source.hpp"
#include "tile_worker.hpp"

namespace tessera::run {

namespace {

using Clock = std::chrono::steady_clock;
using Bytes = std::vector<std::byte>;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// How the band-tiles of an output reach its file.
enum class Route {
  Ordered,  ///< GeoTIFF, compressed HDF5: encoded by their thread, sent to rank 0, written in
            ///< tile order
  InPlace,  ///< uncompressed GeoTIFF, all ranks on one node: each rank writes its own in place
  Hdf5,     ///< uncompressed HDF5: every rank writes its own in lock-step rounds
};

/// The route of `spec`'s tiles in a run whose ranks are all on one node or not.
Route route_of(const OutputSpec& spec, bool one_node) {
  // Compressed HDF5 goes the GeoTIFF way: HDF5 would deflate on one thread of each rank.
  if (spec.format == OutputFormat::Hdf5)
    return spec.options.compression == Compression::None ? Route::Hdf5 : Route::Ordered;
  return one_node && spec.options.compression == Compression::None ? Route::InPlace
                                                                   : Route::Ordered;
}

/// The band slots whose outputs take `route`, in slot order.
std::vector<int64_t> slots_of(const plan::Plan& plan, const BandSlots& slots, Route route,
                              bool one_node) {
  std::vector<int64_t> chosen;
  for (int64_t slot = 0; slot < slots.bands(); ++slot)
    if (route_of(plan.outputs[slots.at(slot).first].spec, one_node) == route)
      chosen.push_back(slot);
  return chosen;
}

/// The most tiles one thread takes from a claim: plan::tiles_per_run, fewer if the band-tiles it
/// holds until the run ends (all but those written in place) would pass run_bytes_per_thread.
int64_t longest_run(const plan::Plan& plan, const BandSlots& slots,
                    const std::vector<int64_t>& in_place_slots) {
  int64_t held = 0;
  for (int64_t slot = 0; slot < slots.bands(); ++slot)
    if (std::find(in_place_slots.begin(), in_place_slots.end(), slot) == in_place_slots.end())
      held += plan.grid.tile_width() * plan.grid.tile_height() *
              static_cast<int64_t>(size_of(plan.outputs[slots.at(slot).first].spec.type));
  if (held == 0) return plan::tiles_per_run;
  return std::clamp<int64_t>(1 + plan::run_bytes_per_thread / held, 1, plan::tiles_per_run);
}

/// Rank 0's file of one ordered output: a GeoTIFF, or an HDF5 file of compressed chunks.
class OrderedFile {
 public:
  explicit OrderedFile(const OutputSpec& spec) {
    if (spec.format == OutputFormat::Hdf5)
      hdf5_ = std::make_unique<io::Hdf5ChunkWriter>(spec);
    else
      tiff_ = std::make_unique<io::GeoTiffWriter>(spec);
  }
  void write_tile(int band, int64_t tile, std::span<const std::byte> bytes) {
    tiff_ ? tiff_->write_tile(band, tile, bytes) : hdf5_->write_tile(band, tile, bytes);
  }
  void commit() { tiff_ ? tiff_->commit() : hdf5_->commit(); }

 private:
  std::unique_ptr<io::GeoTiffWriter> tiff_;
  std::unique_ptr<io::Hdf5ChunkWriter> hdf5_;
};

/// Rank 0's side of the ordered outputs: puts band-tiles in sequence order (key = tile *
/// ordered slots + index among them) and writes each as soon as all before it are written, so
/// the file is the same byte for byte whoever computed what.
class OrderedWriter {
 public:
  OrderedWriter(const plan::Plan& plan, const BandSlots& slots, std::vector<int64_t> ordered_slots)
      : slots_(slots), ordered_slots_(std::move(ordered_slots)), writers_(plan.outputs.size()) {
    for (int64_t slot : ordered_slots_) {
      const size_t output = slots_.at(slot).first;
      if (!writers_[output])
        writers_[output] = std::make_unique<OrderedFile>(plan.outputs[output].spec);
    }
  }

  /// Files `bytes` under `key` and writes what has become writable. Returns spent buffers.
  void add(int64_t key, Bytes bytes, std::vector<Bytes>& spent) {
    const auto per_tile = static_cast<int64_t>(ordered_slots_.size());
    waiting_.emplace(key, std::move(bytes));
    for (auto it = waiting_.begin(); it != waiting_.end() && it->first == next_;) {
      const auto [output, band] = slots_.at(ordered_slots_[static_cast<size_t>(next_ % per_tile)]);
      writers_[output]->write_tile(band, next_ / per_tile, it->second);
      spent.push_back(std::move(it->second));
      it = waiting_.erase(it);
      ++next_;
    }
  }

  int64_t written() const { return next_; }
  void commit() {
    for (auto& writer : writers_)
      if (writer) writer->commit();
  }

 private:
  const BandSlots& slots_;
  std::vector<int64_t> ordered_slots_;
  std::vector<std::unique_ptr<OrderedFile>> writers_;
  std::map<int64_t, Bytes> waiting_;
  int64_t next_ = 0;
};

/// Seconds spent on the main thread outside tile processing.
struct MainTimes {
  double communicate = 0;
  double write = 0;
  double wait = 0;
};

/// Tiles [first, first + count) claimed and processed by this rank.
struct Batch {
  int64_t first = 0;
  int64_t count = 0;
};

/// One rank's run of the streaming pass. Only the main thread calls MPI (and HDF5).
class StreamingPass {
 public:
  StreamingPass(const plan::Plan& plan, int threads, bool one_node, const SourceFactory& make)
      : plan_(plan),
        slots_(plan),
        ordered_slots_(slots_of(plan, slots_, Route::Ordered, one_node)),
        in_place_slots_(slots_of(plan, slots_, Route::InPlace, one_node)),
        hdf5_slots_(slots_of(plan, slots_, Route::Hdf5, one_node)),
        threads_(threads),
        rank_(par::world_rank()),
        run_(longest_run(plan, slots_, in_place_slots_)) {
    for (int t = 0; t < threads; ++t) {
      workers_.push_back(make());
      outs_.emplace_back(direct_);
    }
    encoded_.resize(static_cast<size_t>(threads * run_),
                    std::vector<Bytes>(static_cast<size_t>(slots_.bands())));
  }

  /// Collective: every rank opens the uncompressed HDF5 outputs together, then rank 0 the others.
  void open_outputs() {
    hdf5_.resize(plan_.outputs.size());
    for (int64_t slot : hdf5_slots_) {
      const size_t output = slots_.at(slot).first;
      if (!hdf5_[output])
        hdf5_[output] = std::make_unique<io::Hdf5Writer>(plan_.outputs[output].spec);
    }
    if (rank_ == 0) writer_ = std::make_unique<OrderedWriter>(plan_, slots_, ordered_slots_);
    in_place_.resize(plan_.outputs.size());
    if (rank_ != 0) return;
    for (int64_t slot : in_place_slots_) {
      InPlaceOutput& out = in_place_[slots_.at(slot).first];
      if (out.writer) continue;
      out.writer = std::make_unique<io::GeoTiffWriter>(plan_.outputs[slots_.at(slot).first].spec);
      out.layout = out.writer->reserve_tiles();
    }
  }

  /// Collective, after open_outputs: rank 0's layout of each in-place output reaches every rank,
  /// which then opens the file for its own tiles (a step of its own, so failures are agreed).
  void share_layouts() {
    const int64_t pid = par::broadcast_from_root(static_cast<int64_t>(getpid()));
    for (int64_t slot : in_place_slots_) {
      const size_t output = slots_.at(slot).first;
      InPlaceOutput& out = in_place_[output];
      if (!out.path.empty()) continue;  // an earlier band of the same output
      out.layout.first = par::broadcast_from_root(out.layout.first);
      out.layout.tile_bytes = par::broadcast_from_root(out.layout.tile_bytes);
      out.layout.tiles_per_band = par::broadcast_from_root(out.layout.tiles_per_band);
      out.path = io::temporary_path(plan_.outputs[output].spec.path, pid);
    }
  }
  void open_in_place_files() {
    for (size_t output = 0; output < in_place_.size(); ++output) {
      InPlaceOutput& out = in_place_[output];
      if (!out.path.empty())
        out.file =
            std::make_unique<io::TileFile>(out.path, plan_.outputs[output].spec.path, out.layout);
    }
    direct_.assign(static_cast<size_t>(slots_.bands()), {});
    for (int64_t slot : in_place_slots_) {
      const auto [output, band] = slots_.at(slot);
      direct_[static_cast<size_t>(slot)] = {in_place_[output].file.get(), band};
    }
  }

  /// Processes tiles until none are left or some rank failed; returns this rank's failure.
  std::exception_ptr run(par::TileCounter& counter, Progress& progress);
  /// Collective: closes the HDF5 outputs; then rank 0 checks every ordered band-tile was
  /// written. Every output is then renamed into place. Counted as writing.
  void commit() {
    const auto start = Clock::now();
    commit_outputs();
    main_.write += seconds_since(start);
  }

  /// This rank's figures for the run report.
  RankReport report() const;

 private:
  void commit_outputs() {
    for (auto& writer : hdf5_)
      if (writer) writer->commit();
    for (auto& out : in_place_) {
      out.file.reset();
      if (out.writer) out.writer->commit();
    }
    if (!writer_) return;
    const auto per_tile = static_cast<int64_t>(ordered_slots_.size());
    if (writer_->written() != plan_.grid.count() * per_tile)
      throw Error("internal error: tiles are missing from the output");
    writer_->commit();
  }

  Batch next_batch(par::TileCounter& counter);
  void process_batch(int64_t first, int64_t count);
  bool write_rounds(Batch batch);
  void write_hdf5(int64_t slot, const Batch& batch, int64_t round);
  Bytes fresh_buffer();
  void deliver(int64_t first, int64_t count);
  void take(int64_t key, Bytes bytes);
  void drain(bool block);
  void note_progress();

  /// An output whose tiles every rank writes in place: rank 0 holds the writer, every rank a
  /// TileFile into the writer's temporary file.
  struct InPlaceOutput {
    std::unique_ptr<io::GeoTiffWriter> writer;  // rank 0
    io::TileLayout layout;
    std::string path;  // the writer's temporary file, once shared; empty for other outputs
    std::unique_ptr<io::TileFile> file;
  };

  const plan::Plan& plan_;
  BandSlots slots_;
  std::vector<int64_t> ordered_slots_;   // sent to rank 0, encoded
  std::vector<int64_t> in_place_slots_;  // written in place by this rank
  std::vector<int64_t> hdf5_slots_;      // kept raw, written by this rank
  int threads_;
  int rank_;
  int64_t run_;  // the most tiles a thread takes from one claim
  std::vector<std::unique_ptr<TileSource>> workers_;
  std::vector<BandTiles::InPlace> direct_;   // per band slot: where workers write it in place
  std::vector<BandTiles> outs_;              // per thread
  std::vector<std::vector<Bytes>> encoded_;  // per batch slot, per band slot
  std::vector<std::unique_ptr<io::Hdf5Writer>> hdf5_;  // per output; null for the others
  std::unique_ptr<OrderedWriter> writer_;
  std::vector<InPlaceOutput> in_place_;  // per output; empty entries for the others
  std::unique_ptr<par::Inbox> inbox_;
  par::Outbox outbox_;
  std::vector<Bytes> spare_;
  std::exception_ptr failure_;
  int64_t tiles_ = 0;
  MainTimes main_;
  int64_t bytes_sent_ = 0;
  int64_t bytes_received_ = 0;
  int64_t bytes_written_ = 0;
  int64_t claimed_ = 0;  // tiles claimed by all ranks, as of this rank's last claim
  Progress* progress_ = nullptr;
};

RankReport StreamingPass::report() const {
  RankReport r;
  for (const auto& w : workers_) {
    r.read += w->times().read;
    r.compute += w->times().compute;
    r.encode += w->times().encode;
    r.bytes_read += w->bytes_read();
  }
  r.tiles = tiles_;
  r.communicate = main_.communicate;
  r.write = main_.write;
  for (const auto& out : outs_) r.write += out.write_seconds();
  r.wait = main_.wait;
  r.bytes_sent = bytes_sent_;
  r.bytes_received = bytes_received_;
  r.bytes_written = bytes_written_;
  for (const auto& out : outs_) r.bytes_written += out.bytes_written();
  r.peak_rss_mb = peak_rss_mb();
  return r;
}

/// Rank 0's count of tiles done: those written, or claimed by all ranks when it saw more.
void StreamingPass::note_progress() {
  if (!progress_) return;
  const auto per_tile = std::max<int64_t>(1, static_cast<int64_t>(ordered_slots_.size()));
  const int64_t written = writer_ ? writer_->written() / per_tile : 0;
  progress_->update(std::max(written, claimed_));
}

void StreamingPass::process_batch(int64_t first, int64_t count) {
  std::vector<std::exception_ptr> failures(static_cast<size_t>(count));
  const int64_t run = (count + threads_ - 1) / threads_;  // each thread one run of neighbours
#pragma omp parallel for num_threads(threads_) schedule(static, run)
  for (int64_t i = 0; i < count; ++i) {
    try {
      const auto thread = static_cast<size_t>(omp_get_thread_num());
      outs_[thread].use(encoded_[static_cast<size_t>(i)]);
      workers_[thread]->process(first + i, outs_[thread]);
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

/// Hands the ordered band-tiles of a batch on to the writer; the workers wrote the in-place
/// ones, and HDF5 ones stay in encoded_.
void StreamingPass::deliver(int64_t first, int64_t count) {
  const auto per_tile = static_cast<int64_t>(ordered_slots_.size());
  for (int64_t i = 0; i < count; ++i) {
    auto& encoded = encoded_[static_cast<size_t>(i)];
    for (int64_t k = 0; k < per_tile; ++k) {
      auto& slot = encoded[static_cast<size_t>(ordered_slots_[static_cast<size_t>(k)])];
      take((first + i) * per_tile + k, std::exchange(slot, fresh_buffer()));
    }
  }
}

/// HDF5 outputs, collective: one write per round and HDF5 band, as many rounds as the rank
/// with most tiles in this batch has; a rank with fewer (or none left) joins with empty
/// selections. Returns false, on every rank, once all ranks are done or one has failed.
bool StreamingPass::write_rounds(Batch batch) {
  auto start = Clock::now();
  const par::RoundVote vote = par::vote_rounds(batch.count, failure_ != nullptr);
  main_.wait += seconds_since(start);
  if (vote.failed || vote.rounds == 0) return false;
  start = Clock::now();
  for (int64_t round = 0; round < vote.rounds; ++round)
    for (int64_t slot : hdf5_slots_) write_hdf5(slot, batch, round);
  main_.write += seconds_since(start);
  return true;
}

/// This rank's part of one collective write; after a failure it keeps joining (empty) so the
/// other ranks are not left waiting in the round.
void StreamingPass::write_hdf5(int64_t slot, const Batch& batch, int64_t round) {
  const auto [output, band] = slots_.at(slot);
  io::Hdf5Writer& writer = *hdf5_[output];
  try {
    if (round < batch.count && !failure_) {
      const auto& cells = encoded_[static_cast<size_t>(round)][static_cast<size_t>(slot)];
      writer.write_tile(band, batch.first + round, cells);
      bytes_written_ += static_cast<int64_t>(cells.size());
    } else {
      writer.join_round(band);
    }
  } catch (...) {
    if (!failure_) failure_ = std::current_exception();
  }
}

void StreamingPass::take(int64_t key, Bytes bytes) {
  const auto start = Clock::now();
  if (rank_ != 0) {
    bytes_sent_ += static_cast<int64_t>(bytes.size());
    outbox_.send(key, std::move(bytes));
    main_.communicate += seconds_since(start);
    return;
  }
  bytes_written_ += static_cast<int64_t>(bytes.size());
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
    bytes_received_ += static_cast<int64_t>(parcel->bytes.size());
    try {
      take(parcel->key, std::move(parcel->bytes));
    } catch (...) {
      if (!failure_) failure_ = std::current_exception();
    }
    for (auto& spent : spare_) inbox_->recycle(std::move(spent));
    spare_.clear();
    note_progress();
  }
}

/// Claims and processes the next batch; an empty batch when no tiles are left or this rank
/// has failed. A batch gives each thread a run of up to run_ neighbouring tiles; runs
/// shorten as the tiles left (as of this rank's last claim) run out, so that ranks finish
/// together.
Batch StreamingPass::next_batch(par::TileCounter& counter) {
  if (failure_) return {};
  const int64_t left = counter.total() - claimed_;
  const int64_t run = std::clamp<int64_t>(left / (2 * threads_ * par::world_size()), 1, run_);
  const auto start = Clock::now();
  const int64_t first = counter.claim(threads_ * run);
  main_.communicate += seconds_since(start);
  if (first >= counter.total()) return {};
  const Batch batch{first, std::min<int64_t>(threads_ * run, counter.total() - first)};
  claimed_ = std::max(claimed_, batch.first + batch.count);
  try {
    process_batch(batch.first, batch.count);
    deliver(batch.first, batch.count);
    note_progress();
  } catch (...) {
    failure_ = std::current_exception();
    counter.cancel();
    return {};
  }
  return batch;
}

std::exception_ptr StreamingPass::run(par::TileCounter& counter, Progress& progress) {
  if (rank_ == 0) {
    inbox_ = std::make_unique<par::Inbox>(par::world_size() - 1);
    progress_ = &progress;
  }
  bool more = true;
  while (more) {
    const Batch batch = next_batch(counter);
    more = hdf5_slots_.empty() ? batch.count > 0 : write_rounds(batch);
    if (batch.count > 0 || failure_) drain(false);
  }
  if (rank_ != 0) {
    const auto start = Clock::now();
    outbox_.close();
    main_.wait += seconds_since(start);
  }
  drain(true);
  return failure_;
}

/// Rank 0 prints the summary unless quiet; the JSON report goes to options.report_path if set.
void report_run(const plan::Plan& plan, const StreamingPass& pass, int threads, double start,
                double wall, const RunOptions& options) {
  RankReport mine = pass.report();
  mine.start = start;
  const auto ranks = gather_reports(mine);
  if (par::world_rank() != 0) return;
  const RunFacts facts{plan.grid.raster(),
                       plan.grid.tile_width(),
                       plan.grid.tile_height(),
                       plan.grid.count(),
                       threads,
                       wall};
  if (!options.quiet) fmt::print("{}", summary_table(facts, ranks));
  if (!options.report_path.empty()) write_text_file(options.report_path, report_json(facts, ranks));
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
  const std::vector<RasterInfo> inputs = probe_inputs(job);
  plan::Plan result;
  par::agreed([&] { result = plan::make_plan(job, inputs); });
  return result;
}

void execute(const plan::Plan& plan, const RunOptions& options) {
  execute_sources(plan, options, [&] { return plan_tiles(plan); });
}

void execute_sources(const plan::Plan& plan, const RunOptions& options, const SourceFactory& make) {
  const double before = seconds_since_process_start();
  const auto start = Clock::now();
  const int threads = choose_threads(options.threads, options.ranks_on_node);
  StreamingPass pass(plan, threads, options.ranks_on_node == par::world_size(), make);
  par::agreed([&] { pass.open_outputs(); });
  pass.share_layouts();
  par::agreed([&] { pass.open_in_place_files(); });
  Progress progress(plan.grid.count(), plan.grid.raster().cells(),
                    !options.quiet && par::world_rank() == 0);
  {
    par::TileCounter counter(plan.grid.count());
    par::agree(pass.run(counter, progress));
  }
  progress.finish();
  par::agreed([&] { pass.commit(); });
  par::agreed([&] { report_run(plan, pass, threads, before, seconds_since(start), options); });
}

}  // namespace tessera::run

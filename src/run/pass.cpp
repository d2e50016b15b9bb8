// The streaming pass: claims from the shared counter, threads over a batch, sinks after it.
#include "pass.hpp"

#include <omp.h>

#include <algorithm>
#include <limits>

#include <unistd.h>

#include "stopwatch.hpp"
#include "tessera/core/error.hpp"
#include "tessera/io/temporary_files.hpp"
#include "tessera/par/agreement.hpp"
#include "tessera/par/environment.hpp"
#include "tessera/par/mpi_io.hpp"

namespace tessera::run {

void TileOutlet::put(size_t output, int band, const void* cells) {
  Timed timed(seconds_);
  (*sinks_)[output]->encode(place_, band, cells);
}

int64_t longest_run(int64_t held_bytes_per_tile) {
  if (held_bytes_per_tile == 0) return plan::tiles_per_run;
  return std::clamp<int64_t>(1 + plan::run_bytes_per_thread / held_bytes_per_tile, 1,
                             plan::tiles_per_run);
}

namespace {

/// Bit i of v to bit 2i.
uint64_t spread(uint64_t v) {
  uint64_t out = 0;
  for (int bit = 0; bit < 32; ++bit) out |= ((v >> bit) & 1u) << (2 * bit);
  return out;
}

/// The tiles of `grid` sorted by key(column, row).
template <class Key>
TileOrder sorted_tiles(const TileGrid& grid, Key key) {
  std::vector<std::pair<uint64_t, int64_t>> keyed;
  keyed.reserve(static_cast<size_t>(grid.count()));
  for (int64_t t = 0; t < grid.count(); ++t)
    keyed.emplace_back(
        key(static_cast<uint64_t>(t % grid.across()), static_cast<uint64_t>(t / grid.across())), t);
  std::sort(keyed.begin(), keyed.end());
  TileOrder order;
  for (const auto& [k, tile] : keyed) order.tiles.push_back(tile);
  return order;
}

}  // namespace

TileOrder z_order(const TileGrid& grid) {
  return sorted_tiles(grid, [](uint64_t x, uint64_t y) { return spread(x) | (spread(y) << 1); });
}

TileOrder block_rows(const TileGrid& grid) {
  const auto blocks_across = static_cast<uint64_t>((grid.across() + 3) / 4);
  TileOrder order = sorted_tiles(grid, [&](uint64_t x, uint64_t y) {
    const uint64_t block = (y / 4) * blocks_across + x / 4;
    return (block << 4) | spread(x % 4) | (spread(y % 4) << 1);
  });
  order.block_rows = true;
  return order;
}

StreamingPass::StreamingPass(const TileGrid& grid, int threads, const SourceFactory& make,
                             Sinks& sinks, PassJournal journal)
    : grid_(grid),
      threads_(threads),
      sinks_(sinks),
      courier_(par::world_rank(), par::world_size()),
      journal_(journal),
      last_checkpoint_(Clock::now()) {
  int64_t held = 0;
  bool blocks = false;
  bool rows = true;
  for (const auto& sink : sinks_) {
    held += sink->held_bytes_per_tile();
    lockstep_ = lockstep_ || sink->lockstep();
    blocks = blocks || sink->wants_blocks();
    rows = rows && (!sink->wants_blocks() || sink->takes_block_rows());
  }
  if (blocks) {
    order_ = rows ? block_rows(grid_) : z_order(grid_);
    claim_unit_ = kBlockTiles;
  }
  run_ = longest_run(held);
  for (int t = 0; t < threads; ++t) {
    sources_.push_back(make());
    outlets_.emplace_back(sinks_, t);
  }
}

void StreamingPass::open() {
  Journal* journal = journal_.journal;
  const int64_t id = journal ? journal->id() : par::broadcast_from_root<int64_t>(getpid());
  for (size_t i = 0; i < sinks_.size(); ++i) {
    SinkSetup setup{threads_, round_up(threads_ * run_), &courier_, &order_, id, nullptr};
    if (journal && journal->resuming()) setup.resume = &journal->records(journal_.pass, i);
    ++opened_;  // a sink that failed to open may hold what it made on some ranks
    try {
      sinks_[i]->open(setup);
    } catch (...) {
      give_up();  // a resumed run keeps what the stopped one made durable, as a kill here would
      throw;
    }
  }
  if (journal && journal->resuming()) resume_tiles();
}

/// The tiles every sink holds from the runs before: those are not computed again.
void StreamingPass::resume_tiles() {
  done_.assign(static_cast<size_t>(grid_.count()), true);
  for (const auto& sink : sinks_) {
    const std::vector<bool> held = sink->resumed_tiles(grid_.count());
    for (size_t t = 0; t < done_.size(); ++t) done_[t] = done_[t] && held[t];
  }
  resumed_ = std::count(done_.begin(), done_.end(), true);
}

/// This rank journals what its sinks made durable since the last time.
void StreamingPass::checkpoint() {
  last_checkpoint_ = Clock::now();
  if (!journal_.journal) return;
  for (size_t i = 0; i < opened_; ++i)
    journal_.journal->append(journal_.pass, i, sinks_[i]->checkpoint());
}

void StreamingPass::maybe_checkpoint() {
  if (journal_.journal && seconds_since(last_checkpoint_) >= journal_.journal->checkpoint_seconds())
    checkpoint();
}

/// Collective, after a stop on some rank: the sinks journal what they hold and keep their
/// files (or, with no journal, give them up); every rank throws Stopped.
void StreamingPass::stop() {
  const int signal = static_cast<int>(par::max_over_ranks(io::stop_signal()));
  try {
    par::agreed([&] {
      checkpoint();
      if (journal_.journal) journal_.journal->sync();
    });
  } catch (...) {
    abandon_from(0);
    throw;
  }
  if (!journal_.journal) {
    abandon_from(0);
  } else {
    for (size_t i = 0; i < opened_; ++i) sinks_[i]->suspend();
    opened_ = 0;
    journal_.journal->keep();
  }
  throw Stopped(signal, {});  // the executor names the journal
}

void StreamingPass::run(Progress& progress) {
  if (courier_.receives()) {
    progress_ = &progress;
    courier_.on_arrival([this] { note_progress(); });
  }
  std::exception_ptr failure;
  {
    par::TileCounter counter(grid_.count());
    failure = stream(counter);
  }
  batch_thread_.reset();  // the ops' buffers of every thread go with it
  try {
    par::agree(failure);
  } catch (...) {
    give_up();
    throw;
  }
  if (par::max_over_ranks(io::stop_signal()) != 0) stop();
}

/// Collective, after a failure while the pass opened its sinks or streamed. A run that resumes a
/// stopped one keeps its outputs' temporary files as a kill would leave them (each sink's resume
/// takes up such a file, trusting only the tiles the journal names, which were durable before it
/// named them) and keeps their records in the journal: the next --resume computes only the tiles
/// neither run made durable. Any other run gives its outputs up.
void StreamingPass::give_up() noexcept {
  if (journal_.journal == nullptr || !journal_.journal->resuming()) {
    abandon_from(0);
    return;
  }
  for (size_t i = 0; i < opened_; ++i) sinks_[i]->suspend();
  opened_ = 0;
  journal_.journal->keep_outputs();
}

void StreamingPass::commit() {
  Timed timed(main_.write);
  for (size_t i = 0; i < sinks_.size(); ++i) {
    try {
      sinks_[i]->commit();
    } catch (...) {
      abandon_from(i);
      throw;
    }
  }
}

void StreamingPass::abandon_from(size_t first) noexcept {
  for (size_t i = first; i < opened_; ++i) sinks_[i]->abandon();
  opened_ = first;
}

/// Claims and computes batches until no tile is left or a rank failed, writing lock-step sinks'
/// rounds after each; then the courier delivers what is still on its way. Returns this rank's
/// failure.
std::exception_ptr StreamingPass::stream(par::TileCounter& counter) {
  bool more = true;
  bool stopping = false;
  while (more) {
    if (!stopping && io::stop_signal() != 0) {
      stopping = true;
      counter.cancel();  // every rank's next claim is empty: they all stop after their batch
    }
    try {
      maybe_checkpoint();
    } catch (...) {  // a sync that failed (a full or failed disk) fails the run like a write
      if (!failure_) failure_ = std::current_exception();
      counter.cancel();
    }
    const Batch batch = next_batch(counter);
    more = lockstep_ ? write_rounds(batch) : batch.count > 0;
    if (batch.count == 0 && !failure_) continue;
    courier_.poll();
    if (!failure_ && courier_.failure()) {
      failure_ = courier_.failure();
      counter.cancel();
    }
  }
  courier_.close();
  if (!failure_) failure_ = courier_.failure();
  return failure_;
}

/// Claims and processes the next batch, then delivers it to the sinks; an empty batch when no
/// tiles are left or this rank has failed. A batch gives each thread a run of up to run_
/// neighbouring tiles; runs shorten as the tiles left (as of this rank's last claim) run out, so
/// that ranks finish together.
Batch StreamingPass::next_batch(par::TileCounter& counter) {
  if (failure_) return {};
  const int64_t left = counter.total() - claimed_;
  const int64_t run = std::clamp<int64_t>(left / (2 * threads_ * par::world_size()), 1, run_);
  const auto start = Clock::now();
  const int64_t claim = round_up(threads_ * run);
  const int64_t first = counter.claim(claim);
  main_.communicate += seconds_since(start);
  if (first >= counter.total()) return {};
  const Batch batch{first, std::min<int64_t>(claim, counter.total() - first), &order_,
                    done_.empty() ? nullptr : &done_};
  claimed_ = std::max(claimed_, batch.first + batch.count);
  try {
    process_batch(batch);
    for (auto& sink : sinks_) sink->deliver(batch);
    note_progress();
  } catch (...) {
    failure_ = std::current_exception();
    counter.cancel();
    return {};
  }
  return batch;
}

/// `tiles` rounded up to whole claim units: in Z order, every claim then starts on a block.
int64_t StreamingPass::round_up(int64_t tiles) const {
  return (tiles + claim_unit_ - 1) / claim_unit_ * claim_unit_;
}

void StreamingPass::process_batch(const Batch& batch) {
  std::vector<std::exception_ptr> failures(static_cast<size_t>(batch.count));
  const int64_t run = (batch.count + threads_ - 1) / threads_;  // a run of neighbours a thread
  if (!batch_thread_) batch_thread_ = std::make_unique<BatchThread>();
  batch_thread_->run([&] {
#pragma omp parallel for num_threads(threads_) schedule(static, run)
    for (int64_t i = 0; i < batch.count; ++i) {
      if (batch.skips(i)) continue;
      try {
        const auto thread = static_cast<size_t>(omp_get_thread_num());
        outlets_[thread].start(batch.tile(i), i);
        sources_[thread]->process(batch.tile(i), outlets_[thread]);
      } catch (...) {
        failures[static_cast<size_t>(i)] = std::current_exception();
      }
    }
  });
  for (auto& failure : failures)
    if (failure) std::rethrow_exception(failure);
  for (int64_t i = 0; i < batch.count; ++i) tiles_ += batch.skips(i) ? 0 : 1;
}

/// Lock-step sinks, collective: as many rounds as the rank with most tiles in this batch has;
/// a rank with fewer (or none left) joins with nothing. Returns false, on every rank, once all
/// ranks are done or one has failed.
bool StreamingPass::write_rounds(const Batch& batch) {
  auto start = Clock::now();
  const par::RoundVote vote = par::vote_rounds(batch.count, failure_ != nullptr);
  main_.wait += seconds_since(start);
  if (vote.failed || vote.rounds == 0) return false;
  Timed timed(main_.write);
  for (int64_t round = 0; round < vote.rounds; ++round)
    for (auto& sink : sinks_) {
      if (!sink->lockstep()) continue;
      const auto failure = sink->write_round(batch, round, failure_ != nullptr);
      if (failure && !failure_) failure_ = failure;
    }
  return true;
}

/// Rank 0's count of tiles done: those every sink that knows has written, or those claimed by
/// all ranks when it saw more.
void StreamingPass::note_progress() {
  if (!progress_) return;
  int64_t written = std::numeric_limits<int64_t>::max();
  for (const auto& sink : sinks_)
    if (const auto tiles = sink->tiles_written()) written = std::min(written, *tiles);
  if (written == std::numeric_limits<int64_t>::max()) written = 0;
  progress_->update(std::max(written, claimed_));
}

RankReport StreamingPass::report() const {
  RankReport r;
  for (const auto& source : sources_) {
    r.read += source->times().read;
    r.compute += source->times().compute;
    r.bytes_read += source->bytes_read();
  }
  for (const auto& outlet : outlets_) r.encode += outlet.seconds();
  for (const auto& sink : sinks_) {
    const SinkFigures figures = sink->figures();
    r.encode -= figures.thread_write_seconds;  // in place: written, not encoded
    r.write += figures.thread_write_seconds;
    r.encode += figures.other_encode_seconds + figures.receiver_encode_seconds;
    r.write -= figures.receiver_encode_seconds;  // inside the courier's writing
    r.encode -= figures.thread_compute_seconds;  // inside encode(), but computing
    r.compute += figures.thread_compute_seconds;
    r.bytes_written += figures.bytes_written;
  }
  const CourierTimes& courier = courier_.times();
  r.tiles = tiles_;
  r.communicate = main_.communicate + courier.communicate;
  r.write += main_.write + courier.write;
  r.wait = main_.wait + courier.wait;
  r.bytes_sent = courier_.bytes_sent();
  r.bytes_received = courier_.bytes_received();
  r.peak_rss_mb = peak_rss_mb();
  return r;
}

}  // namespace tessera::run

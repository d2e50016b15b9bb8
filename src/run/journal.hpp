// The journal of a run: what each rank has made durable, so that a run stopped by a signal, or
// killed, continues where it was (tessera run --resume) and ends with the same bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "courier.hpp"
#include "tessera/core/error.hpp"
#include "tessera/plan/plan.hpp"
#include "tessera/run/executor.hpp"

namespace tessera::run {

/// The records a sink (or a pass) journalled, in the order written: rank 0's, then rank 1's...
using Records = std::vector<Bytes>;

/// One record's bytes, put together field by field (trivially copyable values, native order).
class RecordWriter {
 public:
  template <class T>
  requires std::is_trivially_copyable_v<T> RecordWriter& put(const T& value) {
    append(&value, sizeof value);
    return *this;
  }
  template <class T>
  requires std::is_trivially_copyable_v<T> RecordWriter& put_all(const std::vector<T>& values) {
    put(static_cast<int64_t>(values.size()));
    append(values.data(), values.size() * sizeof(T));
    return *this;
  }
  Bytes take() { return std::move(bytes_); }

 private:
  void append(const void* data, size_t size);

  Bytes bytes_;
};

/// One record's fields read back in the order RecordWriter put them; a record too short throws.
class RecordReader {
 public:
  explicit RecordReader(const Bytes& bytes) : bytes_(&bytes) {}
  template <class T>
  requires std::is_trivially_copyable_v<T> T get() {
    T value{};
    if (at_ + sizeof value > bytes_->size()) throw Error("internal error: a short journal record");
    std::memcpy(&value, bytes_->data() + at_, sizeof value);
    at_ += sizeof value;
    return value;
  }
  template <class T>
  requires std::is_trivially_copyable_v<T> std::vector<T> get_all() {
    const auto count = get<int64_t>();
    if (count < 0 || static_cast<size_t>(count) > (bytes_->size() - at_) / sizeof(T))
      throw Error("internal error: a short journal record");
    std::vector<T> values(static_cast<size_t>(count));
    if (!values.empty())
      std::memcpy(values.data(), bytes_->data() + at_, values.size() * sizeof(T));
    at_ += values.size() * sizeof(T);
    return values;
  }
  bool done() const { return at_ >= bytes_->size(); }

 private:
  const Bytes* bytes_;
  size_t at_ = 0;
};

/// The files of the stage results pass `pass` writes (a job output or a scratch raster), which
/// later passes read: a run that resumes after the pass ended must find them as it left them.
std::vector<std::string> stage_files(const plan::Plan& plan, size_t pass);

/// The journal of one run: a file per rank beside the job's first output, ".NAME.journal-R"
/// (NAME shortened for a long name: hidden_stem),
/// each a header (what job, inputs and binary it is for, and the id naming the outputs'
/// temporary files) and then records, each with its length and checksum, appended as the rank
/// makes what they say durable. A record cut short by a kill is dropped, with everything after
/// it. Sinks and passes decide what their records mean (sink.hpp); the journal only keeps them.
class Journal {
 public:
  /// Collective. Finds, checks and reads the journal beside the plan's first output as
  /// options.mode says (rank 0 reads, every rank gets its records), then opens this rank's file
  /// for appending. Throws tessera::Error, on every rank, for a journal that is there unasked
  /// or that is for another job, input or binary, or whose finished passes' stage results
  /// (stage_files) changed since they were written (their size or modification time, or gone).
  Journal(const plan::Plan& plan, const JournalOptions& options);
  /// Removes this rank's file (rank 0: every rank's) unless kept: a run that fails or finishes
  /// leaves no journal.
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  /// Whether the run continues an interrupted one.
  bool resuming() const { return resuming_; }
  /// Names the outputs' temporary files: the first run's, kept by every run that continues it.
  int64_t id() const { return id_; }
  /// What sink `sink` of pass `pass` journalled in the runs before (empty when none).
  const Records& records(size_t pass, size_t sink) const;
  /// Pass `pass`'s result (a reduction's), if an earlier run journalled it.
  const Bytes* result(size_t pass) const;
  /// Whether an earlier run finished pass `pass`, its outputs committed at their paths.
  bool done(size_t pass) const { return done_.contains(pass); }
  double checkpoint_seconds() const { return checkpoint_seconds_; }
  /// rank 0's file, for messages.
  const std::string& path() const { return path_; }

  /// This rank: appends `records` of sink `sink` of pass `pass`, whose contents are durable.
  void append(size_t pass, size_t sink, const Records& records);
  /// Rank 0 (others do nothing): appends pass `pass`'s result.
  void append_result(size_t pass, const Bytes& bytes);
  /// Rank 0 (others do nothing): notes that pass `pass` is finished, its outputs committed, with
  /// the size and modification time of each file of `results` (check_done compares them).
  void append_done(size_t pass, const std::vector<std::string>& results);
  /// This rank: makes its file durable. Throws tessera::Error on failure.
  void sync();
  /// The journal stays (a stopped run).
  void keep() { kept_ = true; }
  /// This rank, after a resumed run failed (its pass's outputs given up, their temporary files
  /// removed): when the journal holds a pass's result or end (journalled before, or by this
  /// run), it stays with the header and those records and without the sinks' records, so that
  /// the next --resume continues after the last pass that ended and computes the pass that
  /// failed again; returns true. Cuts this rank's file (rank 0: also those of ranks this run has
  /// not) to its header, then writes those records again: a kill or a failure in between leaves
  /// fewer ended passes, never a record of a removed file. False, the journal left to be
  /// removed as a failed run's, when it holds nothing to continue from.
  bool keep_ended_passes() noexcept;
  /// After a resumed run failed while a pass streamed, its outputs' temporary files kept as a
  /// kill leaves them (StreamingPass): keep_ended_passes() then keeps this rank's file whole,
  /// with the sinks' records, so that the next --resume takes those files up.
  void keep_outputs() noexcept { outputs_kept_ = true; }
  bool outputs_kept() const { return outputs_kept_; }

 private:
  void open_own_file();
  void append_record(const Bytes& payload);

  std::string first_output_;
  std::string path_;
  Bytes header_;
  int64_t id_ = 0;
  bool resuming_ = false;
  bool kept_ = false;
  bool ended_work_ = false;    ///< whether this run journalled a pass's result or end
  bool outputs_kept_ = false;  ///< keep_outputs()
  double checkpoint_seconds_ = 30;
  std::map<std::pair<size_t, size_t>, Records> records_;
  std::map<size_t, Bytes> results_;
  std::map<size_t, std::vector<uint64_t>> done_;  ///< each finished pass: its results' facts
  int fd_ = -1;
};

}  // namespace tessera::run

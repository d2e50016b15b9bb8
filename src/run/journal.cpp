// The journal: one append-only file per rank beside the first output, checked against the job,
// its inputs and the binary before a run continues from it.
#include "journal.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <fmt/core.h>

#include "tessera/core/fnv1a.hpp"
#include "tessera/core/hidden_name.hpp"
#include "tessera/par/agreement.hpp"
#include "tessera/par/environment.hpp"

namespace tessera::run {

namespace {

constexpr uint64_t kMagic = 0x314c4e524a535354;  // "TSSJRNL1"
enum class Kind : uint8_t { Header = 0, Sink = 1, Result = 2, Done = 3 };

uint64_t hash_text(const std::string& text) { return fnv1a(text.data(), text.size()); }

/// The running binary's bytes, hashed: a rebuilt tessera may encode differently. Read in large
/// pieces into one reused buffer and hashed a 64-bit word at a time (then the bytes left and the
/// length): the program is megabytes and rank 0 hashes it before every run that journals, while
/// the other ranks wait (byte by byte through a stream it took 15-50 ms, 2026-12-06-floor.md).
uint64_t binary_hash() {
  uint64_t hash = fnv1a_offset;
  const int fd = ::open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return hash;
  std::vector<unsigned char> buffer(size_t{256} << 10);
  size_t held = 0;  // bytes read and not hashed yet: fewer than a word
  uint64_t length = 0;
  while (true) {
    const ssize_t got = ::read(fd, buffer.data() + held, buffer.size() - held);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    length += static_cast<uint64_t>(got);
    held += static_cast<size_t>(got);
    const size_t words = held / 8 * 8;
    for (size_t at = 0; at < words; at += 8) {
      uint64_t word = 0;
      std::memcpy(&word, buffer.data() + at, 8);
      hash = (hash ^ word) * fnv1a_prime;
    }
    std::memmove(buffer.data(), buffer.data() + words, held - words);
    held -= words;
  }
  ::close(fd);
  return fnv1a(&length, sizeof length, fnv1a(buffer.data(), held, hash));
}

/// An input of the job as the file system sees it (path, size, modification time); its name alone
/// when it is no file (a GDAL dataset name).
uint64_t input_hash(const std::string& path) {
  struct stat st {};
  uint64_t hash = hash_text(path);
  if (stat(path.c_str(), &st) != 0) return hash;
  const int64_t facts[] = {static_cast<int64_t>(st.st_size),
                           static_cast<int64_t>(st.st_mtim.tv_sec),
                           static_cast<int64_t>(st.st_mtim.tv_nsec)};
  return fnv1a(facts, sizeof facts, hash);
}

/// A stage result's file as the file system sees it (size and modification time; 0 when gone):
/// not its path, so that a stopped run's folder moved elsewhere still resumes.
uint64_t result_facts(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return 0;
  const int64_t facts[] = {static_cast<int64_t>(st.st_size),
                           static_cast<int64_t>(st.st_mtim.tv_sec),
                           static_cast<int64_t>(st.st_mtim.tv_nsec)};
  return fnv1a(facts, sizeof facts);
}

/// What a journal's header says, and what the run's would.
struct Fingerprint {
  uint64_t job = 0;
  uint64_t binary = 0;
  std::vector<uint64_t> inputs;
};

Fingerprint fingerprint_of(const plan::Plan& plan, const JournalOptions& options) {
  Fingerprint f{hash_text(options.identity), binary_hash(), {}};
  for (size_t i = 0; i < plan.inputs.size(); ++i)  // a stage result's file is the run's own
    if (!plan.is_stage_input(i)) f.inputs.push_back(input_hash(plan.inputs[i].path));
  return f;
}

Bytes header_bytes(const Fingerprint& f, int64_t id) {
  RecordWriter w;
  w.put(Kind::Header).put(kMagic).put(id).put(f.job).put(f.binary).put_all(f.inputs);
  return w.take();
}

std::string journal_name(const std::string& first_output, int rank) {
  return hidden_beside(first_output, ".journal-" + std::to_string(rank));
}

/// Every rank's file of the journal beside `first_output`, by rank.
std::map<int, std::string> journal_files(const std::string& first_output) {
  const std::filesystem::path output(first_output);
  const std::string prefix = hidden_stem(output.filename().string()) + ".journal-";
  std::filesystem::path folder = output.parent_path();
  if (folder.empty()) folder = ".";
  std::map<int, std::string> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(folder, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string rank = name.substr(prefix.size());
    if (rank.find_first_not_of("0123456789") != std::string::npos || rank.size() > 6) continue;
    files[std::stoi(rank)] = (folder / name).string();
  }
  return files;
}

/// The whole records of one file (length, checksum, payload each), up to the first that is cut
/// short or does not check; `valid` is set to the bytes they take.
std::vector<Bytes> read_records(const std::string& path, int64_t& valid) {
  std::ifstream in(path, std::ios::binary);
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<Bytes> records;
  size_t at = 0;
  while (at + 12 <= data.size()) {
    uint32_t length = 0;
    uint64_t sum = 0;
    std::memcpy(&length, data.data() + at, 4);
    std::memcpy(&sum, data.data() + at + 4, 8);
    if (at + 12 + length > data.size() || fnv1a(data.data() + at + 12, length) != sum) break;
    const auto* p = reinterpret_cast<const std::byte*>(data.data() + at + 12);
    records.emplace_back(p, p + length);
    at += 12 + length;
  }
  valid = static_cast<int64_t>(at);
  return records;
}

/// What differs between the run and a journal's header, said for the user; empty when nothing.
std::string mismatch(const Bytes& header, const Fingerprint& now, const plan::Plan& plan,
                     const JournalOptions& options) {
  RecordReader r(header);
  if (r.get<Kind>() != Kind::Header || r.get<uint64_t>() != kMagic) return "it is not a journal";
  r.get<int64_t>();
  if (r.get<uint64_t>() != now.job) return options.identity_name + " is not the one it was for";
  if (r.get<uint64_t>() != now.binary) return "it was written by another tessera binary";
  const auto inputs = r.get_all<uint64_t>();
  for (size_t i = 0; i < now.inputs.size() && i < inputs.size(); ++i)
    if (inputs[i] != now.inputs[i]) return "the input " + plan.inputs[i].path + " changed since";
  return inputs.size() == now.inputs.size() ? "" : options.identity_name + " changed since";
}

/// What rank 0 found and every rank gets.
struct Found {
  int64_t id = 0;
  bool resuming = false;
  Records payloads;  // every rank's records but the headers, rank by rank
};

/// Rank 0: reads every rank's file, checks each header against the run's, cuts each file after
/// its last whole record; a file with another header is emptied (it cannot be this run's).
Found read_journal(const std::map<int, std::string>& files, const Fingerprint& now,
                   const plan::Plan& plan, const JournalOptions& options) {
  Found found;
  const std::string& first = files.begin()->second;
  int64_t valid = 0;
  const auto head = read_records(first, valid);
  if (head.empty()) return found;  // killed before its header was whole: nothing is journalled
  if (const std::string why = mismatch(head[0], now, plan, options); !why.empty())
    throw Error(fmt::format("{}: cannot resume from its journal {}: {}; --restart starts over",
                            plan.outputs.front().spec.path, first, why));
  RecordReader r(head[0]);
  r.get<Kind>();
  r.get<uint64_t>();
  found.id = r.get<int64_t>();
  found.resuming = true;
  for (const auto& [rank, path] : files) {
    auto records = read_records(path, valid);
    if (records.empty() || records[0] != head[0]) valid = 0, records.clear();
    if (::truncate(path.c_str(), static_cast<off_t>(valid)) != 0)
      throw Error(path + ": cannot cut the journal after its last whole record");
    for (size_t i = 1; i < records.size(); ++i) found.payloads.push_back(std::move(records[i]));
  }
  return found;
}

Bytes found_bytes(const Found& found) {
  RecordWriter w;
  w.put(found.id).put(found.resuming).put(static_cast<int64_t>(found.payloads.size()));
  for (const Bytes& p : found.payloads) w.put_all(p);
  return w.take();
}

Found found_from(const Bytes& bytes) {
  RecordReader r(bytes);
  Found found;
  found.id = r.get<int64_t>();
  found.resuming = r.get<bool>();
  const auto count = r.get<int64_t>();
  for (int64_t i = 0; i < count; ++i) found.payloads.push_back(r.get_all<std::byte>());
  return found;
}

/// Rank 0's bytes on every rank.
Bytes broadcast(Bytes bytes) {
  auto size = par::broadcast_from_root(static_cast<int64_t>(bytes.size()));
  bytes.resize(static_cast<size_t>(size));
  if (size > 0) par::broadcast_bytes(bytes.data(), bytes.size());
  return bytes;
}

/// Rank 0: what the mode makes of the files found.
Found find(const plan::Plan& plan, const JournalOptions& options, const Fingerprint& now) {
  const std::string& first_output = plan.outputs.front().spec.path;
  const auto files = journal_files(first_output);
  if (options.mode == JournalMode::Restart) {
    for (const auto& [rank, path] : files) std::remove(path.c_str());
    return {};
  }
  if (files.empty()) return {};
  if (options.mode == JournalMode::Fresh)
    throw Error(fmt::format(
        "{}: an interrupted run's journal is beside it ({}): --resume continues that run, "
        "--restart starts over",
        first_output, files.begin()->second));
  Found found = read_journal(files, now, plan, options);
  if (!found.resuming)  // killed before its header was whole: nothing to continue
    for (const auto& [rank, path] : files) std::remove(path.c_str());
  return found;
}

}  // namespace

// Out of line: inlined into its callers, GCC 12 takes the vector's growth for an overflow.
[[gnu::noinline]] void RecordWriter::append(const void* data, size_t size) {
  const auto* bytes = static_cast<const std::byte*>(data);
  bytes_.insert(bytes_.end(), bytes, bytes + size);
}

Journal::Journal(const plan::Plan& plan, const JournalOptions& options)
    : first_output_(plan.outputs.front().spec.path),
      path_(journal_name(first_output_, 0)),
      checkpoint_seconds_(options.checkpoint_seconds) {
  Bytes found;
  Bytes header;
  par::agreed([&] {
    if (par::world_rank() != 0) return;
    const Fingerprint now = fingerprint_of(plan, options);
    Found f = find(plan, options, now);
    if (!f.resuming) f.id = getpid();
    found = found_bytes(f);
    header = header_bytes(now, f.id);
  });
  const Found f = found_from(broadcast(std::move(found)));
  header_ = broadcast(std::move(header));
  id_ = f.id;
  resuming_ = f.resuming;
  for (const Bytes& payload : f.payloads) {
    RecordReader r(payload);
    const auto kind = r.get<Kind>();
    const auto pass = static_cast<size_t>(r.get<uint32_t>());
    if (kind == Kind::Result) {
      results_[pass] = Bytes(payload.begin() + 5, payload.end());
    } else if (kind == Kind::Done) {
      done_[pass] = r.get_all<uint64_t>();
    } else if (kind == Kind::Sink) {
      const auto sink = static_cast<size_t>(r.get<uint32_t>());
      records_[{pass, sink}].emplace_back(payload.begin() + 9, payload.end());
    }
  }
  // The passes left read the stage results of the finished ones: as those passes left them, or
  // the outputs would mix cells of two runs. Refused as a changed input is, the journal kept.
  par::agreed([&] {
    if (par::world_rank() != 0) return;
    for (const auto& [pass, facts] : done_) {
      const std::vector<std::string> files = stage_files(plan, pass);
      for (size_t i = 0; i < files.size(); ++i)
        if (i >= facts.size() || facts[i] != result_facts(files[i]))
          throw Error(fmt::format(
              "{}: cannot resume from its journal {}: {} changed since pass {} of the run wrote "
              "it (the passes left read it); --restart starts over",
              first_output_, path_, files[i], pass + 1));
    }
  });
  try {
    par::agreed([&] { open_own_file(); });
  } catch (...) {
    // A journal begun here and not written (a full disk) would stop the next run as one to
    // resume: every rank removes its own; a resumed one keeps what it held.
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    if (!resuming_) std::remove(journal_name(first_output_, par::world_rank()).c_str());
    throw;
  }
}

void Journal::open_own_file() {
  const std::string own = journal_name(first_output_, par::world_rank());
  fd_ = ::open(own.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error(own + ": cannot write the journal: " + std::strerror(errno));
  struct stat st {};
  if (fstat(fd_, &st) == 0 && st.st_size == 0) append_record(header_);
}

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
  if (kept_) return;
  std::remove(journal_name(first_output_, par::world_rank()).c_str());
  if (par::world_rank() == 0)
    for (const auto& [rank, path] : journal_files(first_output_)) std::remove(path.c_str());
}

const Records& Journal::records(size_t pass, size_t sink) const {
  static const Records none;
  const auto it = records_.find({pass, sink});
  return it == records_.end() ? none : it->second;
}

const Bytes* Journal::result(size_t pass) const {
  const auto it = results_.find(pass);
  return it == results_.end() ? nullptr : &it->second;
}

namespace {

/// A record as the file holds it: its length, its checksum, then its bytes.
Bytes framed(const Bytes& payload) {
  Bytes framed(12 + payload.size());
  const auto length = static_cast<uint32_t>(payload.size());
  const uint64_t sum = fnv1a(payload.data(), payload.size());
  std::memcpy(framed.data(), &length, 4);
  std::memcpy(framed.data() + 4, &sum, 8);
  if (!payload.empty()) std::memcpy(framed.data() + 12, payload.data(), payload.size());
  return framed;
}

/// `bytes` appended to `fd`, the file `path`. One write: a kill cuts it at worst, and the
/// checksum then drops the record. A write the disk cuts short sets no errno: the rest is written
/// again, which says why.
void write_all(int fd, const Bytes& bytes, const std::string& path) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t wrote = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote <= 0)
      throw Error(path + ": cannot write the journal: " +
                  (wrote < 0 ? std::strerror(errno) : "nothing written"));
    done += static_cast<size_t>(wrote);
  }
}

/// The journal file `path` without its sinks' records: cut to its header, then the other records
/// written again (a kill in between leaves fewer, never a sink's record). False on failure.
bool drop_sink_records(const std::string& path) {
  int64_t valid = 0;
  const std::vector<Bytes> records = read_records(path, valid);
  if (records.empty()) return true;
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return false;
  bool done = false;
  try {
    const Bytes header = framed(records[0]);
    if (::ftruncate(fd, static_cast<off_t>(header.size())) == 0 && fdatasync(fd) == 0) {
      Bytes rest;
      for (size_t i = 1; i < records.size(); ++i) {
        if (!records[i].empty() && static_cast<Kind>(records[i][0]) == Kind::Sink) continue;
        const Bytes record = framed(records[i]);
        rest.insert(rest.end(), record.begin(), record.end());
      }
      write_all(fd, rest, path);
      done = fdatasync(fd) == 0;
    }
  } catch (const std::exception&) {
    done = false;
  }
  ::close(fd);
  return done;
}

}  // namespace

void Journal::append_record(const Bytes& payload) { write_all(fd_, framed(payload), path_); }

bool Journal::keep_ended_passes() noexcept {
  if (outputs_kept_) {  // the outputs' files stay as their records say: the file stays whole
    kept_ = true;
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    return true;
  }
  if (!ended_work_ && done_.empty() && results_.empty()) return false;  // nothing to continue from
  kept_ = true;
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  try {
    const int rank = par::world_rank();
    drop_sink_records(journal_name(first_output_, rank));
    if (rank == 0)  // the files of ranks a run before had and this one has not
      for (const auto& [r, path] : journal_files(first_output_))
        if (r >= par::world_size()) drop_sink_records(path);
  } catch (...) {
    // A file cut to its header, or to some of its records: the passes after them run again.
  }
  return true;
}

void Journal::append(size_t pass, size_t sink, const Records& records) {
  for (const Bytes& record : records) {
    RecordWriter w;
    w.put(Kind::Sink).put(static_cast<uint32_t>(pass)).put(static_cast<uint32_t>(sink));
    Bytes payload = w.take();
    payload.insert(payload.end(), record.begin(), record.end());
    append_record(payload);
  }
}

void Journal::append_result(size_t pass, const Bytes& bytes) {
  ended_work_ = true;
  if (par::world_rank() != 0) return;
  RecordWriter w;
  w.put(Kind::Result).put(static_cast<uint32_t>(pass));
  Bytes payload = w.take();
  payload.insert(payload.end(), bytes.begin(), bytes.end());
  append_record(payload);
  sync();
}

void Journal::append_done(size_t pass, const std::vector<std::string>& results) {
  ended_work_ = true;
  if (par::world_rank() != 0) return;
  std::vector<uint64_t> facts;
  for (const std::string& path : results) facts.push_back(result_facts(path));
  RecordWriter w;
  w.put(Kind::Done).put(static_cast<uint32_t>(pass)).put_all(facts);
  append_record(w.take());
  sync();
}

std::vector<std::string> stage_files(const plan::Plan& plan, size_t pass) {
  const std::vector<size_t>& outputs = plan.passes.at(pass).outputs;
  std::vector<std::string> files;
  for (const plan::StageResult& stage : plan.stages)
    if (std::find(outputs.begin(), outputs.end(), stage.output) != outputs.end())
      files.push_back(plan.inputs[stage.input].path);
  return files;
}

void Journal::sync() {
  if (fdatasync(fd_) != 0)
    throw Error(path_ + ": cannot make the journal durable: " + std::strerror(errno));
}

}  // namespace tessera::run

// Outputs in progress live under temporary names; a signal must not leave them behind.
#pragma once

#include <cstdint>
#include <string>

namespace tessera::io {

/// Installs handlers for SIGINT, SIGTERM, SIGHUP, SIGUSR1 and SIGUSR2 that remove every
/// temporary output file still registered, then end the process by the same signal (so the
/// shell and Slurm see it). Call once from the main thread, before any other thread starts;
/// signals hold_stop_signals() held are then released to the handlers.
void remove_temporaries_on_signal();

/// Blocks those signals until remove_temporaries_on_signal(): for the process's first moments,
/// before its libraries' initializers run (one sent then waits instead of ending the process).
void hold_stop_signals();

/// While a stop scope lives (a run that journals its tiles, journal.hpp), SIGTERM, SIGUSR1,
/// SIGUSR2, SIGINT and SIGHUP ask the run to stop instead: stop_signal() reports the first such
/// signal, the temporary files stay, and if the run has not ended `stop_grace_seconds` later the
/// process ends by that signal, leaving them (the journal never claims more than is on disk).
class StopScope {
 public:
  StopScope();
  ~StopScope();
  StopScope(const StopScope&) = delete;
  StopScope& operator=(const StopScope&) = delete;
};

/// Seconds a run has to stop cleanly after the first signal before it is ended by it.
inline constexpr unsigned stop_grace_seconds = 10;

/// The first signal that asked the running stop scope to stop, or 0.
int stop_signal();

/// Registers `path` for removal on a signal; returns its slot, or -1 when every slot is taken
/// (the file is then still removed on normal failure, only not on a signal).
int register_temporary(const std::string& path);
/// Forgets the registration of `slot` (the file was renamed into place or removed).
void unregister_temporary(int slot);

/// ".NAME.tmp-ID" in the folder of `path`: hidden, and never mistaken for a finished output
/// (a NAME too long for that is shortened: tessera::hidden_stem).
std::string temporary_path(const std::string& path, int64_t id);

/// Removes, in `folder`, the temporary files "START<N>.tmp-ID" (N and ID any numbers, ID not
/// `own_id`) that no live run holds: files each rank of a run names by its rank (a tile-graph
/// step's scratch files, START ".STEP.scratch-r"), which a run killed with SIGKILL on more ranks
/// than the next left behind.
void remove_stale_numbered_temporaries(const std::string& folder, const std::string& start,
                                       int64_t own_id);

/// Where one band-tile's bytes lie in a file in progress.
struct ByteRange {
  int64_t offset = 0;
  int64_t size = 0;
};

/// For a writer that makes its file anew and copies what an interrupted run wrote into it: moves
/// that run's temporary_path(path, id) aside to ".NAME.resume-ID" and returns that name, unless
/// such a file is there already (a resume that was itself cut short: it is the older and whole
/// one, and the temporary file is removed). Empty when there is neither.
std::string set_aside_for_resume(const std::string& path, int64_t id);

/// Throws tessera::Error ("out/x.tif: cannot create: no folder out") when the folder of `path`
/// does not exist, is not a folder or is not writable: the common reasons, said plainly.
void check_output_folder(const std::string& path);

/// Renames the finished file `temporary` to `path`, replacing what is there. An existing
/// regular file is first moved aside (".NAME.old-PID") and removed once the new file is in
/// place, so no rename replaces a file: ext4 (auto_da_alloc) writes back the whole new file
/// inside such a rename. Throws tessera::Error starting with `label` when the file cannot be
/// put in place; an existing file is then back at `path`. Anything at `path` but a regular file
/// (or a link) is never replaced: io::check_replaceable's error, and `temporary` stays.
void move_into_place(const std::string& temporary, const std::string& path,
                     const std::string& label);

/// Writes `text` as the whole file at `path`: under a temporary name (temporary_path()) that is
/// removed on failure or a signal, then moved into place. Throws tessera::Error
/// "<path>: cannot write <what>: <reason>".
void write_text_file(const std::string& path, const std::string& text, const std::string& what);

/// Bytes the file system holding `path` has left for this user (statvfs's f_bavail); the
/// largest value when it cannot tell.
uint64_t room_left(const std::string& path);

/// A file that is removed when destroyed, unless released, and on a signal meanwhile. Once its
/// writer has made it, hold() keeps it locked while this object lives, which marks it live: a
/// run killed with SIGKILL cannot remove its file, and the next TemporaryFile of the same output
/// (temporary_path() with another ID) removes it.
class TemporaryFile {
 public:
  explicit TemporaryFile(std::string path);
  ~TemporaryFile();
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;
  const std::string& path() const { return path_; }
  /// Marks the file, which must exist by now, as live until this object goes (made by GDAL or
  /// HDF5 first: GDAL's Create identifies an existing file's format before replacing it, which
  /// costs it PROJ's start-up, 85 million instructions, even for an empty file).
  void hold();
  /// The file has been renamed into place, or is kept for a later run: keep it.
  void release();

 private:
  std::string path_;
  int slot_;
  int lock_ = -1;  // the descriptor that holds the lock
};

}  // namespace tessera::io

// Errors tessera reports to its user: one line each, lowercase, naming what was wrong.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace tessera {

/// A mistake in what the user gave (a file, a flag, a job): printed as one line, exit status 1.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A mistake on the command line itself (unknown flag, missing argument): exit status 2.
class UsageError : public Error {
 public:
  using Error::Error;
};

/// A run that a signal stopped (SIGTERM, SIGUSR1...): its outputs stay unfinished at their
/// temporary names with the journal `journal` beside them, when it journals; exit status 75.
class Stopped : public Error {
 public:
  Stopped(int signal, std::string journal);
  int signal() const { return signal_; }
  const std::string& journal() const { return journal_; }

 private:
  int signal_;
  std::string journal_;
};

/// What the process is doing now ("computing tiles"), for messages of failures that do not say
/// where they happened, such as running out of memory. Set by the main thread for a scope.
class Phase {
 public:
  explicit Phase(const char* name);
  ~Phase();
  Phase(const Phase&) = delete;
  Phase& operator=(const Phase&) = delete;
  /// The innermost phase entered and not left, or "starting".
  static const char* current();

 private:
  const char* outer_;
};

/// The message of the exception in flight: e.what(), or "out of memory in PHASE" for
/// std::bad_alloc (whose what() says only "std::bad_alloc"). Call only inside a catch block.
std::string failure_message();

/// `text` fit to print on one line of a terminal: each control character (a newline, an escape
/// sequence's ESC, DEL) written as \xNN, so that a message echoing what the user gave can neither
/// break into lines nor drive the terminal. Other bytes (UTF-8 included) are kept.
std::string printable(std::string_view text);

}  // namespace tessera

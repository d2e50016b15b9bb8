// Messages fit for a terminal, and the message of a run a signal stopped.
#include "tessera/core/error.hpp"

#include <atomic>
#include <exception>
#include <new>
#include <utility>

namespace tessera {

namespace {

std::atomic<const char*> current_phase{"starting"};

}  // namespace

namespace {

std::string signal_name(int signal) {
  switch (signal) {
    case 1:
      return "SIGHUP";
    case 2:
      return "SIGINT";
    case 10:
      return "SIGUSR1";
    case 12:
      return "SIGUSR2";
    case 15:
      return "SIGTERM";
    default:
      return "signal " + std::to_string(signal);
  }
}

std::string stopped_message(int signal, const std::string& journal) {
  if (journal.empty()) return "stopped by " + signal_name(signal);
  return "stopped by " + signal_name(signal) + ": the finished tiles are kept with the journal " +
         journal + "; the same command with --resume continues";
}

}  // namespace

Stopped::Stopped(int signal, std::string journal)
    : Error(stopped_message(signal, journal)), signal_(signal), journal_(std::move(journal)) {}

Phase::Phase(const char* name) : outer_(current_phase.exchange(name)) {}

Phase::~Phase() { current_phase.store(outer_); }

const char* Phase::current() { return current_phase.load(); }

std::string failure_message() {
  try {
    throw;
  } catch (const std::bad_alloc&) {
    return std::string("out of memory in ") + Phase::current() +
           ": smaller tiles, fewer steps in one job or fewer threads a rank need less (tessera "
           "plan shows the estimate)";
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown failure";
  }
}

std::string printable(std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte != 0x7f) {
      out += c;
      continue;
    }
    out += "\\x";
    out += hex[byte >> 4];
    out += hex[byte & 0xf];
  }
  return out;
}

}  // namespace tessera

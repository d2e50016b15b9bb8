// Errors tessera reports to its user: one line each, lowercase, naming what was wrong.
#pragma once

#include <stdexcept>
#include <string>

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

}  // namespace tessera

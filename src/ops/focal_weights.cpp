// Window weights: r.neighbors' weights files and Gaussian weights.
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tessera/ops/focal.hpp"

namespace tessera::ops {
namespace {

[[noreturn]] void bad_line(const std::string& path, int line, const std::string& why) {
  throw Error(path + ":" + std::to_string(line) + ": " + why);
}

/// The numbers of one line of a weights file, `size` of them.
std::vector<double> numbers_of(const std::string& text, const std::string& path, int line,
                               int64_t size) {
  std::vector<double> numbers;
  std::istringstream fields(text);
  std::string field;
  while (fields >> field) {
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(field.c_str(), &end);
    if (end != field.c_str() + field.size() || errno == ERANGE || !std::isfinite(v))
      bad_line(path, line, printable(field).insert(0, 1, '\'').append("' is not a number"));
    numbers.push_back(v);
  }
  if (static_cast<int64_t>(numbers.size()) != size)
    bad_line(path, line,
             "expected " + std::to_string(size) + " weights (the window is " +
                 std::to_string(size) + " x " + std::to_string(size) + "), found " +
                 std::to_string(numbers.size()));
  return numbers;
}

/// The text of the weights file at `path` for a window `size` wide. A folder, a file that cannot
/// be read, or one longer than any file of such weights (a device that never ends, /dev/zero)
/// is an error.
std::string weights_text(const std::string& path, int64_t size) {
  std::error_code ignored;
  if (std::filesystem::is_directory(path, ignored))
    throw Error(path + ": is a folder, not a weights file");
  std::ifstream file(path, std::ios::binary);
  if (!file) throw Error("cannot open weights file '" + path + "'");
  const auto most = static_cast<size_t>(size * size) * 64 + (size_t{1} << 20);
  std::string text;
  std::vector<char> chunk(size_t{1} << 16);
  while (file.read(chunk.data(), static_cast<std::streamsize>(chunk.size())) || file.gcount() > 0) {
    text.append(chunk.data(), static_cast<size_t>(file.gcount()));
    if (text.size() > most)
      throw Error(path + ": more than " + std::to_string(most) + " bytes, longer than " +
                  std::to_string(size) + " rows of weights can be");
  }
  if (file.bad()) throw Error("cannot read weights file '" + path + "'");
  return text;
}

}  // namespace

std::vector<double> read_focal_weights(const std::string& path, int64_t size) {
  std::istringstream file(weights_text(path, size));
  std::vector<double> weights;
  std::string text;
  int line = 0, rows = 0;
  while (std::getline(file, text)) {
    ++line;
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (rows == size)
      bad_line(path, line, "more than " + std::to_string(size) + " rows of weights");
    const std::vector<double> row = numbers_of(text, path, line, size);
    weights.insert(weights.end(), row.begin(), row.end());
    ++rows;
  }
  if (rows < size)
    bad_line(
        path, line,
        "expected " + std::to_string(size) + " rows of weights, found " + std::to_string(rows));
  bool any = false;
  for (double w : weights) any = any || w != 0;
  if (!any) throw Error(path + ": every weight is 0");
  return weights;
}

std::vector<double> gaussian_weights(int64_t radius, double sigma) {
  std::vector<double> weights;
  for (int64_t dy = -radius; dy <= radius; ++dy)
    for (int64_t dx = -radius; dx <= radius; ++dx)
      weights.push_back(std::exp(-static_cast<double>(dx * dx + dy * dy) / (2 * sigma * sigma)) /
                        (2 * M_PI * sigma * sigma));
  return weights;
}

}  // namespace tessera::ops

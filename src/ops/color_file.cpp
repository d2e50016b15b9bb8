// Reading gdaldem colour files: plain "value colour" lines and GMT .cpt palettes.
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "tessera/ops/color_relief.hpp"

namespace tessera::ops {
namespace {

struct NamedColor {
  const char* name;
  float r, g, b;
};

// gdaldem's table of colour names (from GRASS 4.1), scaled by 255 and truncated.
constexpr NamedColor kNamedColors[] = {
    {"white", 1.00f, 1.00f, 1.00f},   {"black", 0.00f, 0.00f, 0.00f},
    {"red", 1.00f, 0.00f, 0.00f},     {"green", 0.00f, 1.00f, 0.00f},
    {"blue", 0.00f, 0.00f, 1.00f},    {"yellow", 1.00f, 1.00f, 0.00f},
    {"magenta", 1.00f, 0.00f, 1.00f}, {"cyan", 0.00f, 1.00f, 1.00f},
    {"aqua", 0.00f, 0.75f, 0.75f},    {"grey", 0.75f, 0.75f, 0.75f},
    {"gray", 0.75f, 0.75f, 0.75f},    {"orange", 1.00f, 0.50f, 0.00f},
    {"brown", 0.75f, 0.50f, 0.25f},   {"purple", 0.50f, 0.00f, 1.00f},
    {"violet", 0.50f, 0.00f, 1.00f},  {"indigo", 0.00f, 0.50f, 1.00f},
};

bool equal_nocase(const std::string& a, const char* b) {
  if (a.size() != std::strlen(b)) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

/// Fields separated by any run of spaces, commas, tabs or colons (CSLTokenizeStringComplex).
std::vector<std::string> fields_of(const std::string& line) {
  std::vector<std::string> fields;
  size_t i = 0;
  while (i < line.size()) {
    const size_t start = line.find_first_not_of(" ,\t:", i);
    if (start == std::string::npos) break;
    const size_t end = line.find_first_of(" ,\t:", start);
    fields.push_back(line.substr(start, end == std::string::npos ? end : end - start));
    i = end == std::string::npos ? line.size() : end;
  }
  return fields;
}

[[noreturn]] void bad_file(const std::string& path, const std::string& why) {
  throw OptionError("color_file", "color file '" + path + "': " + why);
}

double number_of(const std::string& text) { return std::strtod(text.c_str(), nullptr); }

/// The colour of a plain line's fields 1.. (R G B [A], or a name [A]).
void read_color(const std::string& path, const std::vector<std::string>& f, ColorEntry& e) {
  if (f.size() >= 4) {
    e.r = std::atoi(f[1].c_str());
    e.g = std::atoi(f[2].c_str());
    e.b = std::atoi(f[3].c_str());
    e.a = f.size() >= 5 ? std::atoi(f[4].c_str()) : 255;
    return;
  }
  for (const auto& c : kNamedColors) {
    if (!equal_nocase(f[1], c.name)) continue;
    e.r = static_cast<int>(255.0 * c.r);
    e.g = static_cast<int>(255.0 * c.g);
    e.b = static_cast<int>(255.0 * c.b);
    e.a = f.size() >= 3 ? std::atoi(f[2].c_str()) : 255;
    return;
  }
  bad_file(path, "unknown color '" + f[1] + "'");
}

/// A plain line "value colour": value is a number, nv or a percentage.
ColorEntry plain_entry(const std::string& path, const std::vector<std::string>& f) {
  ColorEntry e;
  if (equal_nocase(f[0], "nv")) {
    e.kind = ColorEntry::Kind::NoData;
  } else if (f[0].size() > 1 && f[0].back() == '%') {
    e.kind = ColorEntry::Kind::Percent;
    e.value = number_of(f[0]) / 100.0;
    if (e.value < 0.0 || e.value > 1.0) bad_file(path, "wrong value for a percentage: " + f[0]);
  } else {
    e.value = number_of(f[0]);
  }
  read_color(path, f, e);
  return e;
}

/// The entries of one line of a GMT palette: "z0 R G B z1 R G B" or "N R G B" for nodata.
void add_cpt_entries(const std::vector<std::string>& f, std::vector<ColorEntry>& out) {
  const auto rgb = [&](size_t at, ColorEntry e) {
    e.r = std::atoi(f[at].c_str());
    e.g = std::atoi(f[at + 1].c_str());
    e.b = std::atoi(f[at + 2].c_str());
    out.push_back(e);
  };
  if (f.size() == 8) {
    rgb(1, ColorEntry{ColorEntry::Kind::Value, number_of(f[0])});
    rgb(5, ColorEntry{ColorEntry::Kind::Value, number_of(f[4])});
  } else if (f.size() == 4 && equal_nocase(f[0], "N")) {
    rgb(1, ColorEntry{ColorEntry::Kind::NoData, 0.0});
  }
}

}  // namespace

std::vector<ColorEntry> read_color_file(const std::string& path) {
  std::ifstream file(path);
  if (!file) bad_file(path, "cannot open it");
  std::vector<ColorEntry> entries;
  bool cpt = false;
  std::string line;
  while (std::getline(file, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
    if (!line.empty() && line[0] == '#' && line.find("COLOR_MODEL") != std::string::npos) {
      if (line.find("COLOR_MODEL = RGB") == std::string::npos)
        bad_file(path, "only COLOR_MODEL = RGB is supported");
      cpt = true;
    }
    const auto f = fields_of(line);
    if (f.empty() || f[0][0] == '#' || f[0][0] == '/') continue;
    if (cpt)
      add_cpt_entries(f, entries);
    else if (f.size() >= 2)
      entries.push_back(plain_entry(path, f));
  }
  if (file.bad()) bad_file(path, "read error");
  return entries;
}

bool color_file_uses_percent(const std::string& path) {
  for (const auto& e : read_color_file(path))
    if (e.kind == ColorEntry::Kind::Percent) return true;
  return false;
}

}  // namespace tessera::ops

// Telling GDAL's special dataset names from plain paths, and resolving the files inside them.
#include "tessera/core/dataset_name.hpp"

#include <array>
#include <cctype>
#include <filesystem>

namespace tessera {
namespace {

/// The file-backed virtual file systems, whose next path component is a file.
constexpr std::array<std::string_view, 5> kArchiveSystems{"/vsizip/", "/vsigzip/", "/vsitar/",
                                                          "/vsi7z/", "/vsirar/"};

/// The length of a driver prefix ("NETCDF:" is 7), or 0 when `name` has none.
size_t driver_prefix(std::string_view name) {
  size_t n = 0;
  while (n < name.size() && (std::isalnum(static_cast<unsigned char>(name[n])) || name[n] == '_'))
    ++n;
  return n >= 2 && n < name.size() && name[n] == ':' ? n + 1 : 0;
}

/// A plain path against `base_dir`: absolute ones as they are.
std::string resolve_plain(const std::string& base_dir, const std::string& path) {
  const std::filesystem::path p(path);
  if (p.is_absolute()) return path;
  if (base_dir.empty()) return p.lexically_normal().string();
  return (std::filesystem::path(base_dir) / p).lexically_normal().string();
}

/// /vsizip/rel.zip/x.tif with the archive resolved; "" when `name` is no such name.
std::string resolve_archive(const std::string& base_dir, const std::string& name) {
  for (std::string_view system : kArchiveSystems) {
    if (name.rfind(system, 0) != 0) continue;
    const std::string rest = name.substr(system.size());
    if (rest.empty() || rest[0] == '/' || rest[0] == '{') return name;
    return std::string(system) + resolve_plain(base_dir, rest);
  }
  return "";
}

/// DRIVER:"FILE"REST and GTIFF_DIR:N:FILE with FILE resolved; the name as it is otherwise.
std::string resolve_driver_name(const std::string& base_dir, const std::string& name,
                                size_t prefix) {
  if (name.size() > prefix && name[prefix] == '"') {
    const size_t close = name.find('"', prefix + 1);
    if (close == std::string::npos) return name;
    const std::string file = name.substr(prefix + 1, close - prefix - 1);
    return name.substr(0, prefix + 1) + resolve_dataset_name(base_dir, file) + name.substr(close);
  }
  if (name.rfind("GTIFF_DIR:", 0) != 0) return name;
  const size_t colon = name.find(':', prefix);
  if (colon == std::string::npos) return name;
  return name.substr(0, colon + 1) + resolve_dataset_name(base_dir, name.substr(colon + 1));
}

}  // namespace

bool is_gdal_dataset_name(std::string_view name) {
  return name.rfind("/vsi", 0) == 0 || driver_prefix(name) != 0;
}

std::string resolve_dataset_name(const std::string& base_dir, const std::string& name) {
  if (name.rfind("/vsi", 0) == 0) {
    const std::string archive = resolve_archive(base_dir, name);
    return archive.empty() ? name : archive;
  }
  if (const size_t prefix = driver_prefix(name)) return resolve_driver_name(base_dir, name, prefix);
  return resolve_plain(base_dir, name);
}

}  // namespace tessera

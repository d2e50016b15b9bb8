// CF names and coordinates from a geotransform and a WKT: pure text and arithmetic, no HDF5.
#include "tessera/io/cf_layout.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>

namespace tessera::io::cf {

namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

/// The quoted name after the last (or first) `keyword` in `wkt`, e.g. UNIT["metre",1] -> metre.
std::string quoted_after(const std::string& wkt, const std::string& keyword, bool last) {
  const size_t at = last ? wkt.rfind(keyword) : wkt.find(keyword);
  if (at == std::string::npos) return "";
  const size_t open = wkt.find('"', at);
  const size_t close = open == std::string::npos ? open : wkt.find('"', open + 1);
  if (close == std::string::npos) return "";
  return wkt.substr(open + 1, close - open - 1);
}

/// The projection method: WKT1 PROJECTION["Transverse_Mercator"], WKT2 METHOD["Transverse
/// Mercator"].
std::string projection_method(const std::string& wkt) {
  std::string name = quoted_after(wkt, "PROJECTION[", false);
  if (name.empty()) name = quoted_after(wkt, "METHOD[", false);
  std::replace(name.begin(), name.end(), ' ', '_');
  return lower(name);
}

std::string linear_units(const std::string& wkt) {
  const std::string name = lower(quoted_after(wkt, "UNIT[", true));
  if (name == "metre" || name == "meter") return "m";
  if (name == "us survey foot" || name == "foot_us") return "US_survey_foot";
  if (name == "foot") return "ft";
  return "";
}

}  // namespace

std::vector<double> cell_centres(double origin, double step, int64_t count) {
  std::vector<double> centres(static_cast<size_t>(std::max<int64_t>(count, 0)));
  for (size_t i = 0; i < centres.size(); ++i)
    centres[i] = origin + (static_cast<double>(i) + 0.5) * step;
  return centres;
}

std::string geotransform_text(const std::array<double, 6>& geotransform) {
  std::string text;
  for (double value : geotransform) {
    std::array<char, 32> digits{};
    const auto end = std::to_chars(digits.data(), digits.data() + digits.size(), value).ptr;
    if (!text.empty()) text += ' ';
    text.append(digits.data(), end);
  }
  return text;
}

bool is_geographic(const std::string& wkt) {
  const size_t start = wkt.find_first_not_of(" \t\r\n");
  if (start == std::string::npos) return false;
  return wkt.compare(start, 7, "GEOGCS[") == 0 || wkt.compare(start, 8, "GEOGCRS[") == 0;
}

std::string grid_mapping_name(const std::string& wkt) {
  if (is_geographic(wkt)) return "latitude_longitude";
  static const std::map<std::string, std::string> cf_names{
      {"albers_conic_equal_area", "albers_conical_equal_area"},
      {"lambert_conformal_conic_1sp", "lambert_conformal_conic"},
      {"lambert_conformal_conic_2sp", "lambert_conformal_conic"},
      {"lambert_conic_conformal_(1sp)", "lambert_conformal_conic"},
      {"lambert_conic_conformal_(2sp)", "lambert_conformal_conic"},
      {"mercator_1sp", "mercator"},
      {"mercator_2sp", "mercator"},
      {"mercator_(variant_a)", "mercator"},
      {"mercator_(variant_b)", "mercator"},
      {"oblique_stereographic", "oblique_stereographic"},
      {"polar_stereographic", "polar_stereographic"},
      {"polar_stereographic_(variant_a)", "polar_stereographic"},
      {"polar_stereographic_(variant_b)", "polar_stereographic"},
  };
  const std::string method = projection_method(wkt);
  const auto found = cf_names.find(method);
  return found != cf_names.end() ? found->second : method;
}

Axis x_axis(const std::string& wkt) {
  if (is_geographic(wkt)) return {"longitude", "longitude", "degrees_east"};
  return {"projection_x_coordinate", "x coordinate of projection", linear_units(wkt)};
}

Axis y_axis(const std::string& wkt) {
  if (is_geographic(wkt)) return {"latitude", "latitude", "degrees_north"};
  return {"projection_y_coordinate", "y coordinate of projection", linear_units(wkt)};
}

}  // namespace tessera::io::cf

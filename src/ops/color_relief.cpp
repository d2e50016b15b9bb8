// gdaldem color-relief: gdaldem's colour table preparation and look-up, and the op adapter.
#include "tessera/ops/color_relief.hpp"

#include <algorithm>
#include <array>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <list>
#include <mutex>
#include <span>

#include "option_reader.hpp"
#include "simd_avx2.hpp"
#include "simd_avx512.hpp"

namespace tessera::ops {
namespace {

using Kind = ColorEntry::Kind;

/// gdaldem's order: NaN first, then ascending; stable for equal values.
void sort_entries(std::vector<ColorEntry>& v) {
  std::stable_sort(v.begin(), v.end(), [](const ColorEntry& a, const ColorEntry& b) {
    return (std::isnan(a.value) && !std::isnan(b.value)) || a.value < b.value;
  });
}

/// Spreads a run of equal values [first, i) apart by a few DBL_EPSILON, as gdaldem does, when
/// the gap to the neighbours allows it.
void spread_equal_run(std::vector<ColorEntry>& v, size_t repeated, size_t i) {
  const double prev = v[i - 1].value;
  double total = 0.0;
  double left = 0.0;
  if (repeated >= 2) {
    total = v[i].value - v[repeated - 2].value;
    left = prev - v[repeated - 2].value;
  } else {
    total = v[i].value - prev;
  }
  const auto count = static_cast<double>(i - repeated + 1);
  if (!(total > std::abs(prev) * count * DBL_EPSILON)) return;
  double multiplier = 0.5 - count * left / total;
  for (size_t j = repeated - 1; j < i; ++j) {
    v[j].value += (std::abs(prev) * multiplier) * DBL_EPSILON;
    multiplier += 1.0;
  }
}

/// GDALColorReliefProcessColors: sort, keep nodata's neighbours apart from it, spread runs.
void process_colors(std::vector<ColorEntry>& v, bool has_nodata, double nodata) {
  sort_entries(v);
  const size_t n = v.size();
  size_t repeated = 0;
  bool added = false;
  for (size_t i = 1; i < n; ++i) {
    const ColorEntry prev = v[i - 1];
    const ColorEntry cur = v[i];
    if (has_nodata && cur.value == nodata) {
      const double below = cur.value - std::abs(cur.value) * DBL_EPSILON;
      if (below > prev.value) {
        v.push_back(prev);
        v.back().value = below;
        added = true;
      }
    } else if (has_nodata && prev.value == nodata) {
      const double above = prev.value + std::abs(prev.value) * DBL_EPSILON;
      if (above < cur.value) {
        v.push_back(cur);
        v.back().value = above;
        added = true;
      }
    } else if (repeated == 0 && cur.value == prev.value) {
      repeated = i;
    } else if (repeated != 0 && cur.value != prev.value) {
      spread_equal_run(v, repeated, i);
      repeated = 0;
    }
  }
  if (added) sort_entries(v);
}

struct Rgba {
  int c[4];
};

Rgba rgba_of(const ColorEntry& e) { return {{e.r, e.g, e.b, e.a}}; }

/// The index of the first entry not below `value` (gdaldem's binary search), from `lower`.
size_t first_not_below(const std::vector<ColorEntry>& t, size_t lower, double value) {
  size_t upper = t.size() - 1;
  while (true) {
    const size_t mid = (lower + upper) / 2;
    if (upper - lower <= 1) {
      if (value <= t[lower].value) return lower;
      if (value <= t[upper].value) return upper;
      return upper + 1;
    }
    if (t[mid].value >= value)
      upper = mid;
    else
      lower = mid;
  }
}

int blend(int lo, int hi, double ratio) {
  const int v = static_cast<int>(0.45 + lo + ratio * (hi - lo));
  return std::clamp(v, 0, 255);
}

/// The entry index gdaldem's binary search finds for `value` (first_not_below), remembering it
/// in `hint`: a DEM's neighbouring cells mostly fall between the same two entries, and where
/// t[hint - 1] < value <= t[hint] the search can only end at hint (t is sorted).
size_t entry_index(const std::vector<ColorEntry>& t, size_t lower, double value, size_t& hint) {
  if (hint > lower && hint < t.size() && t[hint - 1].value < value && value <= t[hint].value)
    return hint;
  hint = first_not_below(t, lower, value);
  return hint;
}

/// GDALColorReliefGetRGBA.
[[gnu::always_inline]] inline Rgba lookup(const std::vector<ColorEntry>& t, double value,
                                          ColorMatch match, size_t& hint) {
  size_t lower = 0;
  if (std::isnan(t[0].value)) {
    if (std::isnan(value)) return rgba_of(t[0]);
    lower = 1;
  }
  const size_t i = entry_index(t, lower, value, hint);
  if (i == 0 || i == t.size()) {
    const ColorEntry& e = t[i == 0 ? 0 : i - 1];
    if (match == ColorMatch::Exact && e.value != value) return {{0, 0, 0, 0}};
    return rgba_of(e);
  }
  const ColorEntry& lo = t[i - 1];
  const ColorEntry& hi = t[i];
  if (match == ColorMatch::Exact && lo.value != value) return {{0, 0, 0, 0}};
  if (match == ColorMatch::Nearest && lo.value != value)
    return rgba_of(value - lo.value < hi.value - value ? lo : hi);
  if (lo.value == value) return rgba_of(lo);
  if (std::isnan(lo.value)) return rgba_of(hi);
  const double ratio = (value - lo.value) / (hi.value - lo.value);
  return {{blend(lo.r, hi.r, ratio), blend(lo.g, hi.g, ratio), blend(lo.b, hi.b, ratio),
           blend(lo.a, hi.a, ratio)}};
}

#if defined(TESSERA_HAVE_AVX2_PATHS)
/// Four cells as doubles.
__attribute__((target("avx2"))) inline __m256d four_values(const float* v) {
  return _mm256_cvtps_pd(_mm_loadu_ps(v));
}
__attribute__((target("avx2"))) inline __m256d four_values(const int32_t* v) {
  return _mm256_cvtepi32_pd(_mm_loadu_si128(reinterpret_cast<const __m128i*>(v)));
}

/// lookup() of eight cells that all lie between entries lo and hi (lo.value < v <= hi.value, lo
/// not the NaN entry), lane by lane in lookup's double operations, so the same bytes: with
/// Exact none matches lo (black, transparent); with Nearest each takes lo's or hi's colour by
/// lookup's comparison; otherwise the ratio and blend (at v == hi.value the ratio is 1 and the
/// blend gives hi's colour, as lookup). Returns false, writing nothing, unless every cell lies
/// there.
template <class T>
__attribute__((target("avx2"))) bool color_eight(const ColorEntry& lo, const ColorEntry& hi,
                                                 ColorMatch match, const T* cells,
                                                 uint8_t* const* rows, size_t n_bands, int64_t x) {
  const __m256d v[2] = {four_values(cells + x), four_values(cells + x + 4)};
  const __m256d below = _mm256_set1_pd(lo.value), top = _mm256_set1_pd(hi.value);
  const __m256d inside = _mm256_and_pd(
      _mm256_and_pd(_mm256_cmp_pd(below, v[0], _CMP_LT_OQ), _mm256_cmp_pd(v[0], top, _CMP_LE_OQ)),
      _mm256_and_pd(_mm256_cmp_pd(below, v[1], _CMP_LT_OQ), _mm256_cmp_pd(v[1], top, _CMP_LE_OQ)));
  if (_mm256_movemask_pd(inside) != 0xF) return false;
  const int from[4] = {lo.r, lo.g, lo.b, lo.a}, to[4] = {hi.r, hi.g, hi.b, hi.a};
  __m256d ratio[2];
  __m128i nearer_hi[2];  // -1 where lookup takes hi's colour
  for (int h = 0; h < 2; ++h) {
    ratio[h] = _mm256_div_pd(_mm256_sub_pd(v[h], below), _mm256_sub_pd(top, below));
    nearer_hi[h] = _mm256_cvtpd_epi32(_mm256_andnot_pd(
        _mm256_cmp_pd(_mm256_sub_pd(v[h], below), _mm256_sub_pd(top, v[h]), _CMP_LT_OQ),
        _mm256_set1_pd(-1.0)));
  }
  for (size_t b = 0; b < n_bands; ++b) {
    __m128i c[2];
    for (int h = 0; h < 2; ++h) {
      if (match == ColorMatch::Exact) {
        c[h] = _mm_setzero_si128();
      } else if (match == ColorMatch::Nearest) {
        c[h] = _mm_blendv_epi8(_mm_set1_epi32(from[b]), _mm_set1_epi32(to[b]), nearer_hi[h]);
      } else {
        const __m256d start = _mm256_set1_pd(0.45 + from[b]);
        const __m256d span = _mm256_set1_pd(static_cast<double>(to[b] - from[b]));
        c[h] = _mm256_cvttpd_epi32(_mm256_add_pd(start, _mm256_mul_pd(ratio[h], span)));
        c[h] = _mm_min_epi32(_mm_max_epi32(c[h], _mm_setzero_si128()), _mm_set1_epi32(255));
      }
    }
    const __m128i words = _mm_packs_epi32(c[0], c[1]);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(rows[b] + x), _mm_packus_epi16(words, words));
  }
  return true;
}

/// lookup() of eight cells that all lie above the last entry: its colour, or with Exact black
/// and transparent (none equals it). Returns false, writing nothing, unless every cell does.
template <class T>
__attribute__((target("avx2"))) bool beyond_last_eight(const ColorEntry& last, ColorMatch match,
                                                       const T* cells, uint8_t* const* rows,
                                                       size_t n_bands, int64_t x) {
  const __m256d top = _mm256_set1_pd(last.value);
  const __m256d above = _mm256_and_pd(_mm256_cmp_pd(four_values(cells + x), top, _CMP_GT_OQ),
                                      _mm256_cmp_pd(four_values(cells + x + 4), top, _CMP_GT_OQ));
  if (_mm256_movemask_pd(above) != 0xF) return false;
  const int color[4] = {last.r, last.g, last.b, last.a};
  for (size_t b = 0; b < n_bands; ++b)
    std::memset(rows[b] + x, match == ColorMatch::Exact ? 0 : color[b], 8);
  return true;
}
#endif

#if defined(TESSERA_HAVE_AVX2_PATHS)
/// Eight cells as doubles, on AVX-512.
__attribute__((target(TESSERA_AVX512_TARGET), always_inline)) inline __m512d eight_values(
    const float* v) {
  return _mm512_cvtps_pd(_mm256_loadu_ps(v));
}
__attribute__((target(TESSERA_AVX512_TARGET), always_inline)) inline __m512d eight_values(
    const int32_t* v) {
  return _mm512_cvtepi32_pd(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(v)));
}

/// color_eight of sixteen cells on AVX-512, eight doubles a vector: the same double operations,
/// each rounded on its own (explicitly rounded intrinsics, which the compiler does not fuse),
/// so the same bytes. Returns false, writing nothing, unless every cell lies between lo and hi.
template <class T>
__attribute__((target(TESSERA_AVX512_TARGET))) bool color_sixteen(const ColorEntry& lo,
                                                                  const ColorEntry& hi,
                                                                  ColorMatch match, const T* cells,
                                                                  uint8_t* const* rows,
                                                                  size_t n_bands, int64_t x) {
  constexpr int kRound = _MM_FROUND_CUR_DIRECTION;
  const __m512d v[2] = {eight_values(cells + x), eight_values(cells + x + 8)};
  const __m512d below = _mm512_set1_pd(lo.value), top = _mm512_set1_pd(hi.value);
  const __mmask8 inside =
      _mm512_cmp_pd_mask(below, v[0], _CMP_LT_OQ) & _mm512_cmp_pd_mask(v[0], top, _CMP_LE_OQ) &
      _mm512_cmp_pd_mask(below, v[1], _CMP_LT_OQ) & _mm512_cmp_pd_mask(v[1], top, _CMP_LE_OQ);
  if (inside != 0xFF) return false;
  const int from[4] = {lo.r, lo.g, lo.b, lo.a}, to[4] = {hi.r, hi.g, hi.b, hi.a};
  __m512d ratio[2];
  __mmask8 nearer_hi[2];  // lanes where lookup takes hi's colour
  for (int h = 0; h < 2; ++h) {
    const __m512d up = _mm512_sub_round_pd(v[h], below, kRound);
    ratio[h] = _mm512_div_round_pd(up, _mm512_sub_round_pd(top, below, kRound), kRound);
    nearer_hi[h] = static_cast<__mmask8>(
        ~_mm512_cmp_pd_mask(up, _mm512_sub_round_pd(top, v[h], kRound), _CMP_LT_OQ));
  }
  for (size_t b = 0; b < n_bands; ++b) {
    __m256i c[2];
    for (int h = 0; h < 2; ++h) {
      if (match == ColorMatch::Exact) {
        c[h] = _mm256_setzero_si256();
      } else if (match == ColorMatch::Nearest) {
        c[h] = _mm256_mask_blend_epi32(nearer_hi[h], _mm256_set1_epi32(from[b]),
                                       _mm256_set1_epi32(to[b]));
      } else {
        const __m512d start = _mm512_set1_pd(0.45 + from[b]);
        const __m512d span = _mm512_set1_pd(static_cast<double>(to[b] - from[b]));
        c[h] = _mm512_cvttpd_epi32(
            _mm512_add_round_pd(start, _mm512_mul_round_pd(ratio[h], span, kRound), kRound));
        c[h] = _mm256_min_epi32(_mm256_max_epi32(c[h], _mm256_setzero_si256()),
                                _mm256_set1_epi32(255));
      }
    }
    // Both halves in 0..255 (colours are bytes): narrowing keeps them.
    const __m512i both = _mm512_inserti64x4(_mm512_castsi256_si512(c[0]), c[1], 1);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(rows[b] + x), _mm512_cvtepi32_epi8(both));
  }
  return true;
}

/// beyond_last_eight of sixteen cells on AVX-512.
template <class T>
__attribute__((target(TESSERA_AVX512_TARGET))) bool beyond_last_sixteen(const ColorEntry& last,
                                                                        ColorMatch match,
                                                                        const T* cells,
                                                                        uint8_t* const* rows,
                                                                        size_t n_bands, int64_t x) {
  const __m512d top = _mm512_set1_pd(last.value);
  const __mmask8 above = _mm512_cmp_pd_mask(eight_values(cells + x), top, _CMP_GT_OQ) &
                         _mm512_cmp_pd_mask(eight_values(cells + x + 8), top, _CMP_GT_OQ);
  if (above != 0xFF) return false;
  const int color[4] = {last.r, last.g, last.b, last.a};
  for (size_t b = 0; b < n_bands; ++b)
    std::memset(rows[b] + x, match == ColorMatch::Exact ? 0 : color[b], 16);
  return true;
}
#endif

/// One row: sixteen (color_sixteen, AVX-512) or eight cells at a time through color_eight where
/// they share the entries the last look-up found (a DEM's neighbours mostly do), or through
/// beyond_last_eight where they all lie above the last entry as the last look-up's value did; the
/// others through lookup.
template <class T>
void color_row(const T* cells, int64_t width, uint8_t* const* rows, size_t n_bands,
               const std::vector<ColorEntry>& table, ColorMatch match) {
  size_t hint = 0;
  const auto one = [&](int64_t x) {
    const Rgba c = lookup(table, static_cast<double>(cells[x]), match, hint);
    for (size_t b = 0; b < n_bands; ++b) rows[b][x] = static_cast<uint8_t>(c.c[b]);
  };
  int64_t x = 0;
#if defined(TESSERA_HAVE_AVX2_PATHS)
  if (simd::have_avx2()) {
    const size_t first = std::isnan(table[0].value) ? 2 : 1;  // lo never the NaN entry
    const auto eight = [&](int64_t at) {
      if (hint >= first && hint < table.size() &&
          color_eight(table[hint - 1], table[hint], match, cells, rows, n_bands, at))
        return;
      if (hint == table.size() && hint >= first &&
          beyond_last_eight(table.back(), match, cells, rows, n_bands, at))
        return;
      for (int k = 0; k < 8; ++k) one(at + k);
    };
    // Sixteen at a time where the CPU has AVX-512; a sixteen that does not share the entries
    // goes by its two eights.
    if (simd::have_avx512())
      for (; x + 16 <= width; x += 16) {
        if (hint >= first && hint < table.size() &&
            color_sixteen(table[hint - 1], table[hint], match, cells, rows, n_bands, x))
          continue;
        if (hint == table.size() && hint >= first &&
            beyond_last_sixteen(table.back(), match, cells, rows, n_bands, x))
          continue;
        eight(x);
        eight(x + 8);
      }
    for (; x + 8 <= width; x += 8) eight(x);
  }
#endif
  for (; x < width; ++x) one(x);
}

template <class T>
void color_cells(ConstView<T> cells, Window owned, int64_t halo,
                 std::span<const View<uint8_t>> bands, const std::vector<ColorEntry>& table,
                 ColorMatch match) {
  const size_t n_bands = bands.size();
  uint8_t* rows[4] = {};
  for (int64_t y = 0; y < owned.height; ++y) {
    for (size_t b = 0; b < n_bands; ++b) rows[b] = &bands[b](0, y);
    color_row(cells.row(y + halo) + halo, owned.width, rows, n_bands, table, match);
  }
}

class ColorReliefOp : public Op {
 public:
  explicit ColorReliefOp(ColorReliefParams p) : p_(std::move(p)) {}
  int64_t halo() const override { return 0; }
  PixelType output_type() const override { return PixelType::Byte; }
  int output_bands() const override { return p_.alpha ? 4 : 3; }
  std::optional<double> output_nodata() const override { return std::nullopt; }
  void run(const TileIn& in, const TileOut& out) const override {
    std::array<View<uint8_t>, 4> bands;
    for (size_t b = 0; b < out.bands.size(); ++b) bands.at(b) = out.bands[b].as<uint8_t>();
    color_relief(in, std::span(bands).first(out.bands.size()), table_for(in.nodata), p_.match);
  }

 private:
  /// The table for this nodata, built once and shared by every thread.
  const std::vector<ColorEntry>& table_for(std::optional<double> nodata) const {
    const std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [key, table] : tables_)
      if (key.has_value() == nodata.has_value() &&
          (!key || std::memcmp(&*key, &*nodata, sizeof(double)) == 0))
        return table;
    tables_.emplace_back(nodata, color_table(p_, nodata));
    return tables_.back().second;
  }

  ColorReliefParams p_;
  mutable std::mutex mutex_;
  mutable std::list<std::pair<std::optional<double>, std::vector<ColorEntry>>>
      tables_;  // stable addresses
};

}  // namespace

ColorReliefParams color_relief_params(const Options& options) {
  OptionReader r("color-relief", options,
                 {"color_file", "alpha", "exact_color_entry", "nearest_color_entry", "source_min",
                  "source_max"});
  ColorReliefParams p;
  if (!r.has("color_file")) throw OptionError("color_file", "option 'color_file' is required");
  p.color_file = r.text("color_file", "");
  p.alpha = r.flag("alpha", false);
  const bool exact = r.flag("exact_color_entry", false);
  const bool nearest = r.flag("nearest_color_entry", false);
  if (r.has("source_min")) p.source_min = r.number("source_min", 0);
  if (r.has("source_max")) p.source_max = r.number("source_max", 0);
  r.finish();
  // gdaldem lets the last of -exact_color_entry and -nearest_color_entry win; a job has no order.
  if (exact && nearest)
    throw OptionError(
        "nearest_color_entry",
        "options 'exact_color_entry' and 'nearest_color_entry' cannot be used together");
  p.match = exact ? ColorMatch::Exact : nearest ? ColorMatch::Nearest : ColorMatch::Interpolate;
  p.entries = read_color_file(p.color_file);
  const bool percent = std::any_of(p.entries.begin(), p.entries.end(),
                                   [](const ColorEntry& e) { return e.kind == Kind::Percent; });
  if (percent && !(p.source_min && p.source_max))
    throw OptionError("color_file", "color file '" + p.color_file +
                                        "' uses percentages: options 'source_min' and "
                                        "'source_max' are required");
  if (std::none_of(p.entries.begin(), p.entries.end(),
                   [](const ColorEntry& e) { return e.kind != Kind::NoData; }))
    throw OptionError("color_file", "color file '" + p.color_file + "' has no color entries");
  return p;
}

std::vector<ColorEntry> color_table(const ColorReliefParams& p, std::optional<double> nodata) {
  std::vector<ColorEntry> table;
  for (ColorEntry e : p.entries) {
    if (e.kind == Kind::NoData) {
      if (!nodata) continue;  // gdaldem warns and ignores 'nv' without a nodata value
      e.value = *nodata;
    } else if (e.kind == Kind::Percent) {
      e.value = *p.source_min + e.value * (*p.source_max - *p.source_min);
    }
    e.kind = Kind::Value;
    table.push_back(e);
  }
  process_colors(table, nodata.has_value(), nodata.value_or(0.0));
  return table;
}

void color_relief(const TileIn& in, std::span<const View<uint8_t>> bands,
                  const std::vector<ColorEntry>& table, ColorMatch match) {
  if (const auto* ints = std::get_if<ConstView<int32_t>>(&in.cells))
    color_cells(*ints, in.owned, in.halo, bands, table, match);
  else
    color_cells(std::get<ConstView<float>>(in.cells), in.owned, in.halo, bands, table, match);
}

std::unique_ptr<Op> make_color_relief(const Options& options) {
  return std::make_unique<ColorReliefOp>(color_relief_params(options));
}

}  // namespace tessera::ops

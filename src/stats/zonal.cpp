// ZoneTable's per-cell loop (one instance per zone type and values type), its exact merges and
// serialisation, and each zone's numbers.
#include "tessera/stats/zonal.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "float_blocks.hpp"
#include "order_key.hpp"
#include "tessera/core/error.hpp"

namespace tessera::stats {

namespace {

constexpr std::pair<ZoneStat, std::string_view> kNames[] = {
    {ZoneStat::Count, "count"},       {ZoneStat::Nodata, "nodata"},
    {ZoneStat::Sum, "sum"},           {ZoneStat::Mean, "mean"},
    {ZoneStat::Min, "min"},           {ZoneStat::Max, "max"},
    {ZoneStat::Range, "range"},       {ZoneStat::Std, "std"},
    {ZoneStat::Variance, "variance"}, {ZoneStat::Median, "median"},
    {ZoneStat::Majority, "majority"}, {ZoneStat::Minority, "minority"},
    {ZoneStat::Variety, "variety"},
};

template <class Term, class V>
void add_term(std::vector<Term>& terms, int32_t key, V value) {
  for (auto& [k, v] : terms)
    if (k == key) {
      v += value;
      return;
    }
  terms.push_back({key, value});
}

template <class T>
void put(std::vector<std::byte>& out, const T& value) {
  const size_t at = out.size();
  out.resize(at + sizeof(T));
  std::memcpy(out.data() + at, &value, sizeof(T));
}

template <class T>
T get(std::span<const std::byte>& in) {
  if (in.size() < sizeof(T)) throw Error("internal error: zone table cut short");
  T value;
  std::memcpy(&value, in.data(), sizeof(T));
  in = in.subspan(sizeof(T));
  return value;
}

template <class T>
bool is_nodata(T v, bool has, T nodata) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(v)) return true;
  }
  return has && v == nodata;
}

/// The nodata value as the band's type, and whether it marks any cell.
template <class T>
std::pair<bool, T> nodata_as(std::optional<double> nodata) {
  if (!nodata || std::isnan(*nodata)) return {false, T{}};
  const double v = *nodata;
  if constexpr (std::is_integral_v<T>) {
    if (v != std::floor(v) || v < double(std::numeric_limits<T>::min()) ||
        v > double(std::numeric_limits<T>::max()))
      return {false, T{}};
  }
  return {true, static_cast<T>(v)};
}

/// numpy.percentile (linear) of the values counted in `counts`.
/// Adds the value `v` of one cell to the zone `tally`.
template <class V>
inline void fold(ZoneTally& tally, V v, bool value_has, V value_nodata, bool value_counts,
                 int64_t& pairs) {
  if (is_nodata(v, value_has, value_nodata)) {
    ++tally.nodata;
    return;
  }
  const auto d = static_cast<double>(v) + 0.0;  // -0 as 0: minima and maxima in any order
  if (tally.count == 0 || d < tally.min) tally.min = d;
  if (tally.count == 0 || d > tally.max) tally.max = d;
  ++tally.count;
  if constexpr (std::is_same_v<V, float>)
    tally.sums.add(v);
  else
    tally.sums.add(d);
  if (value_counts) {
    const auto [at, added] = tally.values.try_emplace(d + 0.0, 0);  // + 0.0: -0 and 0 are one
    ++at->second;
    pairs += added ? 1 : 0;
  }
}

/// The sums of the block `b` scanned: an exponent at a time when its valid cells span a few, in
/// windows of exponents when they span more; otherwise in pieces of 64 cells (values along a row
/// change slowly, so most pieces do), cell by cell in the pieces that do not.
void add_sums(CompactSum& sums, const detail::FloatBlock& b, const float* v, int64_t n, bool has,
              float nodata) {
  constexpr int64_t kPiece = 64;
  const auto add = [&](uint32_t e, int64_t mantissas, uint64_t squares) {
    sums.add_floats(static_cast<int32_t>(e), mantissas, squares);
  };
  if (detail::sum_by_exponent(b, v, n, has, nodata, add)) return;
  const auto add_window = [&](uint32_t first, const detail::WindowSums& w) {
    sums.add_window(static_cast<int32_t>(first), w.mantissas, w.high, w.middle, w.low);
  };
  if (detail::sum_by_windows(b, v, n, has, nodata, add_window)) return;
  if (n > kPiece) {
    for (int64_t start = 0; start < n; start += kPiece) {
      const int64_t m = std::min(kPiece, n - start);
      detail::FloatBlock piece;
      detail::scan(piece, v + start, m, has, nodata);
      if (piece.valid > 0) add_sums(sums, piece, v + start, m, has, nodata);
    }
  } else {
    for (int64_t k = 0; k < n; ++k)
      if (detail::valid_float(v[k], has, nodata)) sums.add(v[k]);
  }
}

/// fold() of `n` Float32 cells of one zone, without value counts, in blocks: the count, minimum
/// and maximum of a block, then its sums, in 64-bit integers for cells that share an exponent;
/// exact sums agree in any grouping, so these are fold()'s numbers. With AVX2 where the
/// processor has it.
void fold_floats(ZoneTally& tally, const float* cells, int64_t n, bool has, float nodata) {
  for (int64_t start = 0; start < n; start += detail::kFloatBlock) {
    const float* v = cells + start;
    const int64_t m = std::min(detail::kFloatBlock, n - start);
    detail::FloatBlock b;
    detail::scan(b, v, m, has, nodata);
    tally.nodata += m - b.valid;
    if (b.valid == 0) continue;
    if (tally.count == 0 || b.lo < tally.min) tally.min = b.lo;
    if (tally.count == 0 || b.hi > tally.max) tally.max = b.hi;
    tally.count += b.valid;
    add_sums(tally.sums, b, v, m, has, nodata);
  }
}

/// The end of the run of cells of `row` from `x` that hold the zone id row[x]: eight bytes of
/// the row at a time, the first cell that differs found from the lowest byte that differs.
template <class Z>
int64_t run_end(const Z* row, int64_t x, int64_t width) {
  static_assert(std::endian::native == std::endian::little);
  using Bits = std::make_unsigned_t<Z>;
  constexpr int64_t kPerWord = 8 / sizeof(Z);
  const Z zone = row[x];
  uint64_t pattern = 0;
  for (int64_t k = 0; k < kPerWord; ++k)
    pattern |= static_cast<uint64_t>(static_cast<Bits>(zone)) << (8 * sizeof(Z) * k);
  int64_t end = x + 1;
  for (; end + kPerWord <= width; end += kPerWord) {
    uint64_t word;
    std::memcpy(&word, row + end, sizeof(word));
    if (const uint64_t differ = word ^ pattern; differ != 0)
      return end + std::countr_zero(differ) / (8 * static_cast<int>(sizeof(Z)));
  }
  while (end < width && row[end] == zone) ++end;
  return end;
}

double percentile_of(const std::map<double, int64_t>& counts, int64_t n, double p) {
  const double index = static_cast<double>(n - 1) * (p / 100);
  const double below = index >= static_cast<double>(n - 1) ? -1.0 : std::floor(index);
  const int64_t lo = below < 0 ? n - 1 : static_cast<int64_t>(below);
  const int64_t hi = below < 0 ? n - 1 : lo + 1;
  double a = 0;
  double b = 0;
  int64_t seen = 0;
  for (const auto& [value, count] : counts) {
    if (lo >= seen && lo < seen + count) a = static_cast<double>(value);
    if (hi >= seen && hi < seen + count) {
      b = static_cast<double>(value);
      break;
    }
    seen += count;
  }
  return detail::numpy_lerp(a, b, static_cast<double>(n), p);
}

}  // namespace

std::string name_of(const ZoneStatistic& stat) {
  if (stat.stat == ZoneStat::Percentile) return fmt::format("percentile_{}", stat.percentile);
  for (const auto& [s, name] : kNames)
    if (s == stat.stat) return std::string(name);
  return "?";
}

ZoneStatistic parse_zone_stat(std::string_view name) {
  constexpr std::string_view prefix = "percentile_";
  if (name.starts_with(prefix)) {
    const std::string number(name.substr(prefix.size()));
    double q = 0;
    const auto [end, failed] = std::from_chars(number.data(), number.data() + number.size(), q);
    if (failed != std::errc() || end != number.data() + number.size() || number.empty())
      throw Error("'" + std::string(name) + "': expected percentile_Q with Q a number");
    if (!(q >= 0 && q <= 100))
      throw Error("'" + std::string(name) + "': " + number + " is not between 0 and 100");
    return {ZoneStat::Percentile, q};
  }
  std::string known;
  for (const auto& [s, n] : kNames) {
    if (n == name) return {s, 0};
    known += (known.empty() ? "" : ", ") + std::string(n);
  }
  throw Error("unknown statistic '" + std::string(name) + "' (expected " + known +
              " or percentile_Q)");
}

bool needs_value_counts(const ZoneStatistic& stat) {
  using S = ZoneStat;
  return stat.stat == S::Median || stat.stat == S::Percentile || stat.stat == S::Majority ||
         stat.stat == S::Minority || stat.stat == S::Variety;
}

void CompactSum::start_run(int32_t k) {
  if (run_k_ >= 0) {
    if (run_sum_ != 0) add_term(sum_, run_k_, run_sum_);
    if (run_high_ != 0) add_term(squares_, 2 * run_k_ + 53, run_high_);
    if (run_low_ != 0) add_term(squares_, 2 * run_k_, run_low_);
  }
  run_k_ = k;
  run_sum_ = 0;
  run_high_ = 0;
  run_low_ = 0;
}

void CompactSum::start_float_run(int32_t k) {
  if (float_k_ >= 0) {
    // (m << 29) at k for the sum; (m << 29)^2 = (m^2 << 5) * 2^53 at 2k, all of it at 2k + 53.
    if (float_sum_ != 0) add_term(sum_, float_k_, float_sum_ * (Int128{1} << 29));
    if (float_squares_ != 0) add_term(squares_, 2 * float_k_ + 53, float_squares_ << 5);
  }
  float_k_ = k;
  float_sum_ = 0;
  float_squares_ = 0;
}

void CompactSum::add_window(int32_t first, int64_t mantissas, uint64_t high, uint64_t middle,
                            uint64_t low) {
  // As start_float_run: the window's unit 2^(first - 150) is (1 << 29) at k = first + 895; its
  // squares' 2^(2 first - 300) is position 2 (first + 924), hi^2 2^24 above it, hi * lo 2^13.
  const int32_t k = first + 895;
  const int32_t square = 2 * (first + 924);
  if (mantissas != 0) add_term(sum_, k, Int128{mantissas} * (Int128{1} << 29));
  if (high != 0) add_term(squares_, square + 24, UInt128{high});
  if (middle != 0) add_term(squares_, square + 13, UInt128{middle});
  if (low != 0) add_term(squares_, square, UInt128{low});
}

CompactSum CompactSum::settled() const {
  CompactSum copy = *this;
  copy.start_run(-1);
  copy.start_float_run(-1);
  return copy;
}

void CompactSum::merge(const CompactSum& other) {
  const CompactSum settled_other = other.settled();
  for (const auto& [k, v] : settled_other.sum_) add_term(sum_, k, v);
  for (const auto& [k, v] : settled_other.squares_) add_term(squares_, k, v);
}

BigInt CompactSum::sum() const {
  BigInt total;
  for (const auto& [k, v] : settled().sum_) {
    if (v > 0) total.add(static_cast<UInt128>(v), k);
    if (v < 0) total.subtract(-static_cast<UInt128>(v), k);
  }
  return total;
}

BigInt CompactSum::sum_of_squares() const {
  BigInt total;
  for (const auto& [k, v] : settled().squares_) total.add(v, k);
  return total;
}

void CompactSum::append_bytes(std::vector<std::byte>& out) const {
  const CompactSum s = settled();
  put(out, static_cast<uint32_t>(s.sum_.size()));
  for (const auto& [k, v] : s.sum_) {
    put(out, k);
    put(out, v);
  }
  put(out, static_cast<uint32_t>(s.squares_.size()));
  for (const auto& [k, v] : s.squares_) {
    put(out, k);
    put(out, v);
  }
}

void CompactSum::take_bytes(std::span<const std::byte>& in) {
  CompactSum other;
  other.sum_.resize(get<uint32_t>(in));
  for (auto& [k, v] : other.sum_) {
    k = get<int32_t>(in);
    v = get<Int128>(in);
  }
  other.squares_.resize(get<uint32_t>(in));
  for (auto& [k, v] : other.squares_) {
    k = get<int32_t>(in);
    v = get<UInt128>(in);
  }
  merge(other);
}

ZoneTable::ZoneTable(PixelType zone_type, std::optional<double> zone_nodata, BandKind values,
                     bool value_counts)
    : zone_type_(zone_type),
      zone_nodata_(zone_nodata),
      values_(values),
      value_counts_(value_counts) {
  if (!is_integer(zone_type))
    throw Error(std::string("zone ids must be integers, not ") +
                std::string(tessera::name_of(zone_type)));
}

template <class Z, class V>
void ZoneTable::add_cells(const CellBlock& zones, const CellBlock& values) {
  const auto [zone_has, zone_nodata] = nodata_as<Z>(zone_nodata_);
  const auto [value_has, value_nodata] = nodata_as<V>(values_.nodata);
  ZoneTally* tally = nullptr;
  int64_t last = 0;
  for (int64_t y = 0; y < zones.height; ++y) {
    const Z* zrow = reinterpret_cast<const Z*>(zones.cells) + y * zones.stride;
    const V* vrow = reinterpret_cast<const V*>(values.cells) + y * values.stride;
    // A run of cells of one zone at a time.
    for (int64_t x = 0, end = 0; x < zones.width; x = end) {
      const Z zone = zrow[x];
      end = run_end(zrow, x, zones.width);
      if (is_nodata(zone, zone_has, zone_nodata)) continue;
      const auto id = static_cast<int64_t>(zone);
      if (tally == nullptr || id != last) {
        tally = &zones_[id];
        last = id;
      }
      fold_run(id, *tally, vrow + x, end - x, value_has, value_nodata);
    }
  }
}

template <class V>
void ZoneTable::fold_run(int64_t id, ZoneTally& tally, const V* cells, int64_t n, bool value_has,
                         V value_nodata) {
  if (request_) return count_digits(id, tally, cells, n, value_has, value_nodata);
  if constexpr (std::is_same_v<V, float>) {
    if (!value_counts_) return fold_floats(tally, cells, n, value_has, value_nodata);
  }
  for (int64_t x = 0; x < n; ++x)
    fold(tally, cells[x], value_has, value_nodata, value_counts_, value_pairs_);
}

template <class V>
void ZoneTable::add_masked_cells(int64_t id, ZoneTally& tally, const CellBlock& values,
                                 const uint8_t* mask, int64_t mask_stride) {
  const auto [value_has, value_nodata] = nodata_as<V>(values_.nodata);
  for (int64_t y = 0; y < values.height; ++y) {
    const V* vrow = reinterpret_cast<const V*>(values.cells) + y * values.stride;
    const uint8_t* mrow = mask + y * mask_stride;
    // A run of cells inside the polygon (mask 1) or outside (0) at a time.
    for (int64_t x = 0, end = 0; x < values.width; x = end) {
      end = run_end(mrow, x, values.width);
      if (mrow[x] != 0) fold_run(id, tally, vrow + x, end - x, value_has, value_nodata);
    }
  }
}

void ZoneTable::add_masked(int64_t zone, const CellBlock& values, const uint8_t* mask,
                           int64_t mask_stride) {
  ZoneTally& tally = zones_[zone];
  visit(values_.type, [&]<class V>(std::type_identity<V>) {
    add_masked_cells<V>(zone, tally, values, mask, mask_stride);
  });
  check_pairs();
}

template <class V>
void ZoneTable::count_digits(int64_t id, ZoneTally& tally, const V* cells, int64_t n,
                             bool value_has, V value_nodata) const {
  const auto found = request_->prefixes.find(id);
  if (found == request_->prefixes.end()) return;  // no valid cell in the first sweep
  const std::vector<uint64_t>& prefixes = found->second;
  const int bits = request_->bits;
  if (tally.digits.empty()) tally.digits.assign(prefixes.size() << bits, 0);
  const int key_bits = 8 * static_cast<int>(sizeof(V));
  const int prefix_shift = key_bits - request_->known;
  const int digit_shift = prefix_shift - bits;
  const uint64_t mask = (uint64_t{1} << bits) - 1;
  for (int64_t x = 0; x < n; ++x) {
    const V v = cells[x];
    if (is_nodata(v, value_has, value_nodata)) continue;
    const uint64_t key = detail::key_of<V>(v + V{0});  // -0 as 0, as the value counts
    const uint64_t prefix = prefix_shift >= 64 ? 0 : key >> prefix_shift;
    for (size_t k = 0; k < prefixes.size(); ++k)
      if (prefixes[k] == prefix) {
        ++tally.digits[(k << bits) + ((key >> digit_shift) & mask)];
        break;
      }
  }
}

void ZoneTable::drop_counts() {
  for (auto& [id, tally] : zones_) tally.values.clear();
  value_pairs_ = 0;
  value_counts_ = false;
  dropped_ = true;
}

void ZoneTable::check_pairs() {
  if (value_pairs_ > max_value_pairs && refinable_) drop_counts();
  if (value_pairs_ > max_value_pairs)
    throw Error(fmt::format(
        "more than {} distinct values over the zones: median, percentiles, majority, minority, "
        "variety and class counts keep each distinct value of each zone; ask them of a raster "
        "of classes or of integers with fewer distinct values per zone",
        max_value_pairs));
}

void ZoneTable::add(const CellBlock& zones, const CellBlock& values) {
  visit(zone_type_, [&]<class Z>(std::type_identity<Z>) {
    if constexpr (std::is_integral_v<Z>) {
      visit(values_.type, [&]<class V>(std::type_identity<V>) { add_cells<Z, V>(zones, values); });
    }
  });
  check_pairs();
}

void ZoneTable::merge_zone(int64_t id, const ZoneTally& t) {
  ZoneTally& into = zones_[id];
  if (t.count > 0) {
    into.min = into.count == 0 ? t.min : std::min(into.min, t.min);
    into.max = into.count == 0 ? t.max : std::max(into.max, t.max);
  }
  into.count += t.count;
  into.nodata += t.nodata;
  into.sums.merge(t.sums);
  if (into.digits.empty()) into.digits.assign(t.digits.size(), 0);
  for (size_t k = 0; k < t.digits.size(); ++k) into.digits[k] += t.digits[k];
  if (dropped_) return;
  for (const auto& [value, count] : t.values) {
    const auto [at, added] = into.values.try_emplace(value, 0);
    at->second += count;
    value_pairs_ += added ? 1 : 0;
  }
}

void ZoneTable::merge(const ZoneTable& other) {
  if (other.dropped_ && !dropped_) drop_counts();
  for (const auto& [id, tally] : other.zones_) merge_zone(id, tally);
  check_pairs();
}

std::vector<std::byte> ZoneTable::to_bytes() const {
  std::vector<std::byte> out;
  put(out, static_cast<uint8_t>(dropped_ ? 1 : 0));
  put(out, static_cast<uint64_t>(zones_.size()));
  for (const auto& [id, t] : zones_) {
    put(out, id);
    put(out, t.count);
    put(out, t.nodata);
    put(out, t.min);
    put(out, t.max);
    t.sums.append_bytes(out);
    put(out, static_cast<uint64_t>(t.values.size()));
    for (const auto& [value, count] : t.values) {
      put(out, value);
      put(out, count);
    }
    put(out, static_cast<uint64_t>(t.digits.size()));
    for (const int64_t count : t.digits) put(out, count);
  }
  return out;
}

void ZoneTable::merge_bytes(std::span<const std::byte> bytes) {
  if (get<uint8_t>(bytes) != 0 && !dropped_) drop_counts();
  const auto zones = get<uint64_t>(bytes);
  for (uint64_t z = 0; z < zones; ++z) {
    const auto id = get<int64_t>(bytes);
    ZoneTally t;
    t.count = get<int64_t>(bytes);
    t.nodata = get<int64_t>(bytes);
    t.min = get<double>(bytes);
    t.max = get<double>(bytes);
    t.sums.take_bytes(bytes);
    const auto values = get<uint64_t>(bytes);
    for (uint64_t v = 0; v < values; ++v) {
      const auto value = get<double>(bytes);
      t.values[value] = get<int64_t>(bytes);
    }
    t.digits.resize(get<uint64_t>(bytes));
    for (int64_t& count : t.digits) count = get<int64_t>(bytes);
    merge_zone(id, t);
  }
  check_pairs();
}

std::vector<std::pair<int64_t, ZoneTally>> ZoneTable::take_sorted() {
  ZoneList list;
  list.reserve(zones_.size());
  for (auto& [id, tally] : zones_) list.emplace_back(id, std::move(tally));
  zones_.clear();
  value_pairs_ = 0;
  std::sort(list.begin(), list.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return list;
}

const ZoneTally* find_zone(const ZoneList& zones, int64_t id) {
  const auto at = std::lower_bound(zones.begin(), zones.end(), id,
                                   [](const auto& zone, int64_t key) { return zone.first < key; });
  return at != zones.end() && at->first == id ? &at->second : nullptr;
}

double zone_value(const ZoneTally& t, const ZoneStatistic& statistic) {
  const ZoneStat stat = statistic.stat;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (stat == ZoneStat::Count) return static_cast<double>(t.count);
  if (stat == ZoneStat::Nodata) return static_cast<double>(t.nodata);
  if (stat == ZoneStat::Variety) return static_cast<double>(t.values.size());
  if (t.count == 0) return stat == ZoneStat::Sum ? 0.0 : nan;
  const auto n = static_cast<uint64_t>(t.count);
  const auto infinite = infinite_sum(t.min, t.max);  // the exact sums hold finite values only
  if (infinite && (stat == ZoneStat::Sum || stat == ZoneStat::Mean)) return *infinite;
  if (infinite && (stat == ZoneStat::Std || stat == ZoneStat::Variance)) return nan;
  switch (stat) {
    case ZoneStat::Sum:
      return t.sums.sum().to_double(ExactMoments::sum_unit);
    case ZoneStat::Mean:
      return t.sums.sum().divided(ExactMoments::sum_unit, static_cast<double>(n));
    case ZoneStat::Min:
      return t.min;
    case ZoneStat::Max:
      return t.max;
    case ZoneStat::Range:
      return t.max - t.min;
    case ZoneStat::Std:
    case ZoneStat::Variance: {
      BigInt spread = t.sums.sum_of_squares().times(n);
      spread.subtract(t.sums.sum().squared());
      const double n2 = static_cast<double>(n) * static_cast<double>(n);
      if (stat == ZoneStat::Std) return spread.root_of_quotient(ExactMoments::square_unit, n2);
      return std::max(0.0, spread.to_double(ExactMoments::square_unit) / n2);
    }
    case ZoneStat::Median:
    case ZoneStat::Percentile: {
      const double p = stat == ZoneStat::Median ? 50.0 : statistic.percentile;
      const auto refined = t.refined.find(p);
      if (refined != t.refined.end()) return refined->second;
      return percentile_of(t.values, t.count, p);
    }
    case ZoneStat::Majority:
    case ZoneStat::Minority: {
      const bool most = stat == ZoneStat::Majority;
      auto best = t.values.begin();
      for (auto it = t.values.begin(); it != t.values.end(); ++it)
        if (most ? it->second > best->second : it->second < best->second) best = it;
      return static_cast<double>(best->first);
    }
    default:
      break;
  }
  return nan;
}

std::vector<std::byte> DigitRequest::to_bytes() const {
  std::vector<std::byte> out;
  put(out, static_cast<int32_t>(known));
  put(out, static_cast<int32_t>(bits));
  // By increasing zone, so that every rank builds the same map from the same bytes.
  std::vector<int64_t> ids;
  for (const auto& [id, p] : prefixes) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  put(out, static_cast<uint64_t>(ids.size()));
  for (const int64_t id : ids) {
    const std::vector<uint64_t>& p = prefixes.at(id);
    put(out, id);
    put(out, static_cast<uint32_t>(p.size()));
    for (const uint64_t prefix : p) put(out, prefix);
  }
  return out;
}

DigitRequest DigitRequest::from_bytes(std::span<const std::byte> bytes) {
  DigitRequest r;
  r.known = get<int32_t>(bytes);
  r.bits = get<int32_t>(bytes);
  const auto zones = get<uint64_t>(bytes);
  r.prefixes.reserve(zones);
  for (uint64_t z = 0; z < zones; ++z) {
    const auto id = get<int64_t>(bytes);
    std::vector<uint64_t>& p = r.prefixes[id];
    p.resize(get<uint32_t>(bytes));
    for (uint64_t& prefix : p) prefix = get<uint64_t>(bytes);
  }
  return r;
}

ZoneSelection::ZoneSelection(PixelType type, const ZoneList& zones, std::vector<double> percentiles)
    : type_(type),
      key_bits_(8 * static_cast<int>(size_of(type))),
      percentiles_(std::move(percentiles)) {
  for (const auto& [id, tally] : zones) {
    if (tally.count == 0) continue;
    const auto n = static_cast<double>(tally.count);
    std::vector<Target> targets;
    for (const double p : percentiles_) {
      // numpy: virtual index (n - 1) * q, its floor and the next index, clipped to the last.
      const double index = (n - 1) * (p / 100);
      const auto below =
          std::min<int64_t>(static_cast<int64_t>(std::floor(index)), tally.count - 1);
      targets.push_back({below, 0});
      targets.push_back({std::min<int64_t>(below + 1, tally.count - 1), 0});
    }
    zones_[id] = {tally.count, std::move(targets)};
  }
}

DigitRequest ZoneSelection::request() const {
  DigitRequest r;
  r.known = known_;
  size_t entries = 0;
  for (const auto& [id, zone] : zones_) {
    std::vector<uint64_t> p;
    for (const Target& t : zone.second) p.push_back(t.prefix);
    std::sort(p.begin(), p.end());
    p.erase(std::unique(p.begin(), p.end()), p.end());
    entries += p.size();
    r.prefixes[id] = std::move(p);
  }
  // A table's counts: entries << bits, at most 2^22 (32 MiB); at least one bit a sweep.
  int bits = 16;
  while (bits > 1 && (entries << bits) > (size_t{1} << 22)) --bits;
  r.bits = std::min(bits, key_bits_ - known_);
  return r;
}

void ZoneSelection::refine(const DigitRequest& request, const ZoneList& counted) {
  for (auto& [id, zone] : zones_) {
    const ZoneTally* tally = find_zone(counted, id);
    const std::vector<uint64_t>& prefixes = request.prefixes.at(id);
    for (Target& t : zone.second) {
      const auto at = static_cast<size_t>(
          std::lower_bound(prefixes.begin(), prefixes.end(), t.prefix) - prefixes.begin());
      int64_t before = 0;
      bool found = false;
      for (uint64_t digit = 0; tally != nullptr && digit < (uint64_t{1} << request.bits); ++digit) {
        const int64_t count = tally->digits.at((at << request.bits) + digit);
        if (t.rank < before + count) {
          t.prefix = (t.prefix << request.bits) | digit;
          t.rank -= before;
          found = true;
          break;
        }
        before += count;
      }
      if (!found)
        throw Error("internal error: zone " + std::to_string(id) +
                    ": a percentile's rank beyond the cells counted");
    }
  }
  known_ += request.bits;
}

void ZoneSelection::fill(ZoneList& zones) const {
  for (auto& [id, tally] : zones) {
    const auto found = zones_.find(id);
    if (found == zones_.end()) continue;
    const auto n = static_cast<double>(found->second.first);
    const std::vector<Target>& targets = found->second.second;
    for (size_t i = 0; i < percentiles_.size(); ++i) {
      const double a = detail::value_of_key(type_, targets[2 * i].prefix) + 0.0;
      const double b = detail::value_of_key(type_, targets[2 * i + 1].prefix) + 0.0;
      tally.refined[percentiles_[i]] = detail::numpy_lerp(a, b, n, percentiles_[i]);
    }
  }
}

}  // namespace tessera::stats

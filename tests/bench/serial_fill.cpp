// The serial Priority-Flood depression fills of the literature, as benchmark peers of `tessera
// hydro fill` at one core (tests/bench/suite.py, tools pf-barnes and pf-zhou):
//   original  Barnes, Lehman, Mulla 2014, Algorithm 1: every cell through one priority queue.
//   improved  the same paper's Algorithm 2: cells lower than the one that reaches them (a pit's
//             cells) through a plain first-in first-out queue instead.
//   zhou      Zhou, Sun, Fu 2016: also a rising slope's cells go through a plain queue; a slope
//             cell enters the priority queue only where a lower cell beside it is not yet
//             reached from elsewhere.
//   epsilon   Barnes, Lehman, Mulla 2014, Algorithm 3 (Priority-Flood + epsilon): Algorithm 2
//             raising each pit cell to the next Float32 above the cell that reached it; a
//             strictly draining surface, not the least one (its pit queue runs ahead of the
//             priority queue's order), so it differs from `fill --epsilon` on some cells.
//   least     Algorithm 1 with the same raise: every cell through the priority queue, so each
//             cell gets max(its key, the least key it is reached at + 1), the least strictly
//             draining surface that `tessera hydro fill --epsilon` computes (docs/hydrology.md,
//             fill's epsilon); its output equals tessera's cell for cell.
// Written from the papers' descriptions, holding the whole DEM in memory as they do. The same
// definition as tessera's fill (docs/hydrology.md): voids are NaN or nodata cells, outlets are
// valid cells on the edge or beside a void, 8 neighbours; so the outputs equal tessera's cell
// for cell, which the suite checks.
// Run: build/src/serial_fill original|improved|zhou|epsilon|least DEM.tif OUT.tif
// Prints ("steps: ...") the seconds spent reading, filling and writing, and the fill's cells a
// second.
#include <gdal.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <queue>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

struct Cell {
  float z;
  uint32_t i;
  // std::priority_queue pops the greatest: the lowest height first.
  bool operator<(const Cell& o) const { return z > o.z; }
};

/// The DEM in memory with a ring of voids around it, so that a neighbour's index needs no test.
struct Dem {
  int64_t width = 0;   // with the ring
  int64_t height = 0;  // with the ring
  std::vector<float> z;
  std::vector<uint8_t> closed;  // 1: reached (or a void)
  int offsets[8] = {};

  bool fits() const { return width * height < (int64_t{1} << 32); }
};

/// Reaches every outlet: a valid cell with a void (or the ring) among its 8 neighbours.
template <class Seed>
void seed_outlets(Dem& d, Seed&& seed) {
  for (int64_t y = 1; y + 1 < d.height; ++y) {
    for (int64_t x = 1; x + 1 < d.width; ++x) {
      const auto i = static_cast<uint32_t>(y * d.width + x);
      if (d.closed[i]) continue;
      for (int o : d.offsets) {
        if (std::isnan(d.z[i + o])) {
          d.closed[i] = 1;
          seed(i);
          break;
        }
      }
    }
  }
}

/// The height a cell reached from a cell at `level` is raised to, if lower: the level itself
/// (a fill) or the next key above it (a strictly draining surface).
float same_level(float level) { return level; }

/// The next Float32 above `z`: one key up in fill's key order, where -0 and +0 are one key
/// (written +0, as tessera writes a raised cell's key).
float key_above(float z) {
  const float up = std::nextafter(z, HUGE_VALF);
  return up == 0.0f ? 0.0f : up;
}

/// Algorithm 1: every cell through the priority queue.
template <float (*raise)(float)>
void one_queue(Dem& d) {
  std::priority_queue<Cell> open;
  seed_outlets(d, [&](uint32_t i) { open.push({d.z[i], i}); });
  while (!open.empty()) {
    const Cell c = open.top();
    open.pop();
    const float up = raise(c.z);
    for (int o : d.offsets) {
      const uint32_t n = c.i + o;
      if (d.closed[n]) continue;
      d.closed[n] = 1;
      // A cell at or above `up` keeps its height and its bits (-0 stays -0).
      if (d.z[n] < up) d.z[n] = up;
      open.push({d.z[n], n});
    }
  }
}

/// Algorithms 2 and 3: a cell at or below the level that reaches it goes through the pit queue,
/// which is emptied before the priority queue is popped again.
template <float (*raise)(float)>
void pit_queue(Dem& d) {
  std::priority_queue<Cell> open;
  std::queue<uint32_t> pit;
  seed_outlets(d, [&](uint32_t i) { open.push({d.z[i], i}); });
  while (!open.empty() || !pit.empty()) {
    uint32_t c;
    if (!pit.empty()) {
      c = pit.front();
      pit.pop();
    } else {
      c = open.top().i;
      open.pop();
    }
    const float level = d.z[c];
    for (int o : d.offsets) {
      const uint32_t n = c + o;
      if (d.closed[n]) continue;
      d.closed[n] = 1;
      if (d.z[n] <= level) {
        d.z[n] = raise(level);
        pit.push(n);
      } else {
        open.push({d.z[n], n});
      }
    }
  }
}

void original(Dem& d) { one_queue<same_level>(d); }
void improved(Dem& d) { pit_queue<same_level>(d); }
void epsilon(Dem& d) { pit_queue<key_above>(d); }
void least(Dem& d) { one_queue<key_above>(d); }

void zhou(Dem& d) {
  std::priority_queue<Cell> open;
  std::queue<uint32_t> pit;
  std::queue<uint32_t> slope;
  seed_outlets(d, [&](uint32_t i) { open.push({d.z[i], i}); });
  // A slope cell t (kept at its height) goes into the priority queue when a neighbour n not yet
  // reached is not higher than t and no reached cell beside n is lower than n: such a cell would
  // reach n itself (n is higher than it), so t need not.
  const auto needs_queue = [&](uint32_t t) {
    for (int o : d.offsets) {
      const uint32_t n = t + o;
      if (d.closed[n] || d.z[n] > d.z[t]) continue;
      bool reached_from_lower = false;
      for (int o2 : d.offsets) {
        const uint32_t m = n + o2;
        if (d.closed[m] && !std::isnan(d.z[m]) && d.z[m] < d.z[n]) {
          reached_from_lower = true;
          break;
        }
      }
      if (!reached_from_lower) return true;
    }
    return false;
  };
  const auto trace = [&]() {
    while (!slope.empty()) {
      const uint32_t t = slope.front();
      slope.pop();
      for (int o : d.offsets) {
        const uint32_t n = t + o;
        if (d.closed[n] || d.z[n] <= d.z[t]) continue;
        d.closed[n] = 1;
        slope.push(n);
      }
      if (needs_queue(t)) open.push({d.z[t], t});
    }
  };
  while (!open.empty()) {
    const Cell c = open.top();
    open.pop();
    for (int o : d.offsets) {
      const uint32_t n = c.i + o;
      if (d.closed[n]) continue;
      d.closed[n] = 1;
      if (d.z[n] <= c.z) {
        d.z[n] = c.z;
        pit.push(n);
        while (!pit.empty()) {
          const uint32_t p = pit.front();
          pit.pop();
          for (int o2 : d.offsets) {
            const uint32_t m = p + o2;
            if (d.closed[m]) continue;
            d.closed[m] = 1;
            if (d.z[m] <= c.z) {
              d.z[m] = c.z;
              pit.push(m);
            } else {
              slope.push(m);
            }
          }
        }
      } else {
        slope.push(n);
      }
      trace();
    }
  }
}

int fail(const std::string& what) {
  std::fprintf(stderr, "serial_fill: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4)
    return fail("usage: serial_fill original|improved|zhou|epsilon|least DEM.tif OUT.tif");
  const std::string algorithm = argv[1];
  void (*fill)(Dem&) = algorithm == "original"   ? original
                       : algorithm == "improved" ? improved
                       : algorithm == "zhou"     ? zhou
                       : algorithm == "epsilon"  ? epsilon
                       : algorithm == "least"    ? least
                                                 : nullptr;
  if (!fill)
    return fail("unknown algorithm " + algorithm + " (original, improved, zhou, epsilon, least)");
  GDALAllRegister();
  CPLSetErrorHandler(CPLQuietErrorHandler);

  const auto t_read = Clock::now();
  GDALDatasetH in = GDALOpen(argv[2], GA_ReadOnly);
  if (!in) return fail(std::string("cannot open ") + argv[2]);
  GDALRasterBandH band = GDALGetRasterBand(in, 1);
  const int64_t w = GDALGetRasterXSize(in);
  const int64_t h = GDALGetRasterYSize(in);
  int has_nodata = 0;
  const double nodata = GDALGetRasterNoDataValue(band, &has_nodata);
  Dem d;
  d.width = w + 2;
  d.height = h + 2;
  if (!d.fits()) return fail("the DEM has more cells than 32-bit indices reach");
  const float nan = std::nanf("");
  d.z.assign(static_cast<size_t>(d.width * d.height), nan);
  for (int64_t y = 0; y < h; ++y) {
    if (GDALRasterIO(band, GF_Read, 0, static_cast<int>(y), static_cast<int>(w), 1,
                     &d.z[static_cast<size_t>((y + 1) * d.width + 1)], static_cast<int>(w), 1,
                     GDT_Float32, 0, 0) != CE_None)
      return fail(std::string("cannot read ") + argv[2]);
  }
  const float void_value = static_cast<float>(nodata);
  d.closed.assign(d.z.size(), 0);
  for (size_t i = 0; i < d.z.size(); ++i) {
    if (has_nodata && d.z[i] == void_value) d.z[i] = nan;
    if (std::isnan(d.z[i])) d.closed[i] = 1;
  }
  const int dw = static_cast<int>(d.width);
  const int offsets[8] = {-dw - 1, -dw, -dw + 1, -1, 1, dw - 1, dw, dw + 1};
  std::memcpy(d.offsets, offsets, sizeof offsets);
  const double read_s = seconds_since(t_read);

  const auto t_fill = Clock::now();
  fill(d);
  const double fill_s = seconds_since(t_fill);

  const auto t_write = Clock::now();
  if (has_nodata) {
    for (float& v : d.z)
      if (std::isnan(v)) v = void_value;
  }
  GDALDatasetH out = GDALCreate(GDALGetDriverByName("GTiff"), argv[3], static_cast<int>(w),
                                static_cast<int>(h), 1, GDT_Float32, nullptr);
  if (!out) return fail(std::string("cannot create ") + argv[3]);
  double gt[6];
  if (GDALGetGeoTransform(in, gt) == CE_None) GDALSetGeoTransform(out, gt);
  GDALSetProjection(out, GDALGetProjectionRef(in));
  GDALRasterBandH out_band = GDALGetRasterBand(out, 1);
  if (has_nodata) GDALSetRasterNoDataValue(out_band, nodata);
  for (int64_t y = 0; y < h; ++y) {
    if (GDALRasterIO(out_band, GF_Write, 0, static_cast<int>(y), static_cast<int>(w), 1,
                     &d.z[static_cast<size_t>((y + 1) * d.width + 1)], static_cast<int>(w), 1,
                     GDT_Float32, 0, 0) != CE_None)
      return fail(std::string("cannot write ") + argv[3]);
  }
  GDALClose(out);
  GDALClose(in);
  const double write_s = seconds_since(t_write);
  // "steps: " lines are what the suite logs of a peer's own split of its time.
  std::printf(
      "steps: read %.3f s, fill %.3f s, write %.3f s; %lld cells, %.2f M cells a second "
      "filling (%s)\n",
      read_s, fill_s, write_s, static_cast<long long>(w * h),
      static_cast<double>(w * h) / fill_s / 1e6, algorithm.c_str());
  return 0;
}

// The COG sink: every thread encodes its full-resolution tiles and halves them into their shares
// of every overview level; overview tiles whose tiles all fell in one batch are assembled and
// encoded there, by the rank's threads; the others' shares go to rank 0, which finishes them.
// Rank 0's io::CogWriter writes everything.
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <utility>

#include "sinks.hpp"
#include "stopwatch.hpp"
#include "tessera/core/error.hpp"
#include "tessera/core/overview.hpp"
#include "tessera/io/geotiff.hpp"
#include "tessera/par/agreement.hpp"

namespace tessera::run {
namespace {

/// Where the shares of overview levels 1..L of one band-tile lie in its slot's buffer.
struct ShareLayout {
  std::vector<int64_t> offset;  // per level, in cells; [0] unused
  std::vector<int64_t> stride;  // per level: the tile's width halved `level` times
  int64_t cells = 0;
};

ShareLayout share_layout(int64_t tile_width, int64_t tile_height, int levels) {
  ShareLayout l{{0}, {tile_width}, 0};
  for (int k = 1; k <= levels; ++k) {
    l.offset.push_back(l.cells);
    l.stride.push_back(tile_width >> k);
    l.cells += (tile_width >> k) * (tile_height >> k);
  }
  return l;
}

/// An overview tile being put together: which level, which tile, and the batch places of the
/// tiles beneath it.
struct LocalTile {
  int level = 0;
  int64_t tile = 0;
  std::vector<int64_t> beneath;  // places in the batch
};

class CogSink final : public Sink, private Receiver {
 public:
  static constexpr int64_t kRowMajorBytes = int64_t{128} << 20;

  explicit CogSink(const OutputSpec& spec)
      : spec_(spec),
        grid_(spec.size, spec.tile_width, spec.tile_height),
        cell_(static_cast<int64_t>(size_of(spec.type))),
        tile_cells_(spec.tile_width * spec.tile_height) {}

  bool wants_blocks() const override { return true; }

  /// Rank 0 writes the full resolution row by row (GDAL's BLOCK_ORDER=ROW_MAJOR) when the tiles
  /// are claimed in rows of blocks: it holds a row of blocks' encoded tiles until the row is
  /// complete, which it does only where those tiles, at their size uncompressed, are at most
  /// kRowMajorBytes (a 512-cell tile: Byte 128 tiles across, Float32 32). Wider rasters keep
  /// Z order, which holds fewer of the coarse overview tiles rank 0 finishes.
  bool takes_block_rows() const override {
    return 4 * grid_.across() * spec_.bands * tile_cells_ * cell_ <= kRowMajorBytes;
  }

  void open(const SinkSetup& setup) override {
    courier_ = setup.courier;
    order_ = setup.order;
    row_major_ = order_->block_rows;
    threads_ = setup.threads;
    route_ = courier_->add_route(this, spec_.bands);
    par::agreed([&] {
      levels_ = overview_levels(spec_);
      for (int k = 0; k <= levels_; ++k)
        grids_.emplace_back(overview_size(spec_.size, k), spec_.tile_width, spec_.tile_height);
      for (int k = 1; k <= levels_; ++k)
        steps_.push_back(
            {overview_size(spec_.size, k - 1), overview_size(spec_.size, k), spec_.tile_width});
      layout_ = share_layout(spec_.tile_width, spec_.tile_height, levels_);
      allocate(setup);
      if (courier_->receives()) {
        writer_.emplace(spec_, levels_);
        gatherer_.emplace(spec_);
      }
    });
    overview_first_ = grid_.count();
    piece_first_ = overview_first_;
    for (int k = 1; k <= levels_; ++k) {
      level_first_.push_back(piece_first_);
      piece_first_ += grids_[static_cast<size_t>(k)].count();
    }
  }

  void encode(const TilePlace& place, int band, const void* cells) override {
    const auto bytes = encoders_[static_cast<size_t>(place.thread)].encode(cells);
    held_[slot_band(place.slot, band)].assign(bytes.begin(), bytes.end());
    Timed timed(halve_seconds_[static_cast<size_t>(place.thread)]);
    ConstCellPlane from{cells, spec_.tile_width};
    Window below = grid_.owned(place.tile);
    for (int k = 1; k <= levels_; ++k) {
      const CellPlane to{share(place.slot, band, k), layout_.stride[static_cast<size_t>(k)]};
      const Window part = share_of_tile(grid_, place.tile, k);
      const LevelStep& step = steps_[static_cast<size_t>(k - 1)];
      if (halves_exactly(step, spec_.options.resampling, spec_.type, spec_.nodata))
        halve(spec_.type, from, below.width, below.height, to, spec_.options.resampling,
              spec_.nodata);
      else
        downsample(spec_.type, step, from, below, to, part, spec_.options.resampling, spec_.nodata);
      from = {to.cells, to.stride};
      below = part;
    }
  }

  void deliver(const Batch& batch) override {
    for (int64_t i = 0; i < batch.count; ++i)
      for (int band = 0; band < spec_.bands; ++band)
        courier_->send(route_, batch.first + i, band,
                       std::exchange(held_[slot_band(i, band)], courier_->take_buffer()));
    std::vector<LocalTile> local;
    for (int k = 1; k <= levels_; ++k) sort_level(batch, k, local);
    encode_local(batch, local);
  }

  int64_t held_bytes_per_tile() const override {
    return (tile_cells_ + tile_cells_ / 3) * cell_ * spec_.bands;
  }

  std::optional<int64_t> tiles_written() const override {
    if (!courier_ || !courier_->receives()) return std::nullopt;
    return next_ / spec_.bands;
  }

  SinkFigures figures() const override {
    SinkFigures f{0, bytes_written_, 0, gather_seconds_, 0};
    for (double s : encode_seconds_) f.other_encode_seconds += s;
    for (double s : halve_seconds_) f.thread_compute_seconds += s;
    return f;
  }

  void commit() override {
    par::agreed([&] {
      if (!courier_->receives()) return;
      if (next_ != grid_.count() * spec_.bands || !gathering_.empty())
        throw Error("internal error: tiles are missing from " + spec_.path);
      writer_->commit();
    });
  }

  void abandon() noexcept override {
    writer_.reset();
    waiting_.clear();
    gathering_.clear();
  }

 private:
  /// An overview tile's cells as they arrive from the ranks, band after band (rank 0).
  struct Gathering {
    std::vector<std::byte> cells;
    int64_t shares = 0;  // band-shares received
  };

  void allocate(const SinkSetup& setup) {
    const auto slots = static_cast<size_t>(setup.batch_slots * spec_.bands);
    held_.assign(slots, Bytes());
    shares_.assign(slots * static_cast<size_t>(layout_.cells * cell_), std::byte{0});
    encoders_.clear();
    tiles_.assign(static_cast<size_t>(threads_),
                  std::vector<std::byte>(static_cast<size_t>(tile_cells_ * cell_)));
    for (int t = 0; t < threads_; ++t) encoders_.emplace_back(spec_);
    encode_seconds_.assign(static_cast<size_t>(threads_), 0.0);
    halve_seconds_.assign(static_cast<size_t>(threads_), 0.0);
  }

  size_t slot_band(int64_t slot, int band) const {
    return static_cast<size_t>(slot * spec_.bands + band);
  }

  std::byte* share(int64_t slot, int band, int level) {
    const int64_t at = static_cast<int64_t>(slot_band(slot, band)) * layout_.cells +
                       layout_.offset[static_cast<size_t>(level)];
    return shares_.data() + at * cell_;
  }

  int64_t parent(int64_t tile, int level) const {
    const int64_t x = (tile % grid_.across()) >> level;
    const int64_t y = (tile / grid_.across()) >> level;
    return y * grids_[static_cast<size_t>(level)].across() + x;
  }

  /// How many full-resolution tiles lie beneath tile `tile` of level `level`.
  int64_t beneath(int level, int64_t tile) const {
    const int64_t across = grids_[static_cast<size_t>(level)].across();
    const int64_t x = (tile % across) << level;
    const int64_t y = (tile / across) << level;
    const int64_t side = int64_t{1} << level;
    return std::min(side, grid_.across() - x) * std::min(side, grid_.down() - y);
  }

  /// Level `level`'s tiles over the batch: those whose tiles are all in it are added to
  /// `local`; the others' shares are sent to rank 0.
  void sort_level(const Batch& batch, int level, std::vector<LocalTile>& local) {
    std::map<int64_t, std::vector<int64_t>> over;  // level tile -> batch places beneath it
    for (int64_t i = 0; i < batch.count; ++i) over[parent(batch.tile(i), level)].push_back(i);
    for (auto& [tile, places] : over) {
      if (static_cast<int64_t>(places.size()) == beneath(level, tile)) {
        local.push_back({level, tile, std::move(places)});
        continue;
      }
      for (int64_t i : places) send_share(batch, i, level);
    }
  }

  void send_share(const Batch& batch, int64_t place, int level) {
    const Window w = share_of_tile(grid_, batch.tile(place), level);
    const int64_t stride = layout_.stride[static_cast<size_t>(level)];
    for (int band = 0; band < spec_.bands; ++band) {
      Bytes bytes = courier_->take_buffer();
      bytes.resize(static_cast<size_t>(w.cells() * cell_));
      const std::byte* from = share(place, band, level);
      for (int64_t row = 0; row < w.height; ++row)
        std::memcpy(bytes.data() + row * w.width * cell_, from + row * stride * cell_,
                    static_cast<size_t>(w.width * cell_));
      const int64_t key = piece_first_ + (level - 1) * grid_.count() + batch.tile(place);
      courier_->send(route_, key, band, std::move(bytes));
    }
  }

  /// Assembles and encodes `local`'s tiles on the rank's threads, then sends them.
  void encode_local(const Batch& batch, const std::vector<LocalTile>& local) {
    const auto jobs = static_cast<int64_t>(local.size()) * spec_.bands;
    std::vector<Bytes> encoded(static_cast<size_t>(jobs));
    for (auto& bytes : encoded) bytes = courier_->take_buffer();
    std::vector<std::exception_ptr> failures(static_cast<size_t>(jobs));
#pragma omp parallel for num_threads(threads_) schedule(dynamic)
    for (int64_t j = 0; j < jobs; ++j) {
      try {
        const LocalTile& t = local[static_cast<size_t>(j / spec_.bands)];
        const auto band = static_cast<int>(j % spec_.bands);
        const auto thread = static_cast<size_t>(omp_get_thread_num());
        std::byte* cells = tiles_[thread].data();
        fill_band(cells, 0);
        for (int64_t place : t.beneath)
          place_share(cells, t.level, t.tile, batch.tile(place), share(place, band, t.level),
                      layout_.stride[static_cast<size_t>(t.level)]);
        Timed timed(encode_seconds_[thread]);
        const auto bytes = encoders_[thread].encode(cells);
        encoded[static_cast<size_t>(j)].assign(bytes.begin(), bytes.end());
      } catch (...) {
        failures[static_cast<size_t>(j)] = std::current_exception();
      }
    }
    for (auto& failure : failures)
      if (failure) std::rethrow_exception(failure);
    for (int64_t j = 0; j < jobs; ++j) {
      const LocalTile& t = local[static_cast<size_t>(j / spec_.bands)];
      courier_->send(route_, level_first_[static_cast<size_t>(t.level - 1)] + t.tile,
                     static_cast<int>(j % spec_.bands), std::move(encoded[static_cast<size_t>(j)]));
    }
  }

  /// Copies the share of full-resolution tile `tile` at level `level` (`stride` cells a row)
  /// into `cells`, the cells of that level's tile `over`.
  void place_share(std::byte* cells, int level, int64_t over, int64_t tile, const std::byte* from,
                   int64_t stride) const {
    const Window w = share_of_tile(grid_, tile, level);
    const Window o = grids_[static_cast<size_t>(level)].block(over);
    for (int64_t row = 0; row < w.height; ++row)
      std::memcpy(cells + ((w.y - o.y + row) * spec_.tile_width + (w.x - o.x)) * cell_,
                  from + row * stride * cell_, static_cast<size_t>(w.width * cell_));
  }

  void accept(int64_t key, int band, Bytes bytes, std::vector<Bytes>& spent) override {
    if (key < overview_first_) {
      write_in_order(key, band, std::move(bytes), spent);
      return;
    }
    if (key < piece_first_) {
      const auto level = static_cast<int>(
          std::upper_bound(level_first_.begin(), level_first_.end(), key) - level_first_.begin());
      writer_->write_overview_tile(level, band, key - level_first_[static_cast<size_t>(level - 1)],
                                   bytes);
      bytes_written_ += static_cast<int64_t>(bytes.size());
    } else {
      gather(key - piece_first_, band, bytes);
    }
    spent.push_back(std::move(bytes));
  }

  /// Full-resolution band-tiles in the file's order: row-major, or the order they were claimed.
  void write_in_order(int64_t position, int band, Bytes bytes, std::vector<Bytes>& spent) {
    const int64_t at = row_major_ ? order_->tile(position) : position;
    waiting_.emplace(at * spec_.bands + band, std::move(bytes));
    for (auto it = waiting_.begin(); it != waiting_.end() && it->first == next_;) {
      const int64_t index = next_ / spec_.bands;
      const int64_t tile = row_major_ ? index : order_->tile(index);
      writer_->write_tile(static_cast<int>(next_ % spec_.bands), tile, it->second);
      bytes_written_ += static_cast<int64_t>(it->second.size());
      spent.push_back(std::move(it->second));
      it = waiting_.erase(it);
      ++next_;
    }
  }

  /// Rank 0: band `band` of a share (`index`: level - 1, then the tile beneath); encodes and
  /// writes the overview tile once every share of every band has come.
  void gather(int64_t index, int band, const Bytes& bytes) {
    const auto level = static_cast<int>(index / grid_.count()) + 1;
    const int64_t tile = index % grid_.count();
    const int64_t over = parent(tile, level);
    const int64_t key = level_first_[static_cast<size_t>(level - 1)] + over;
    auto [it, fresh] = gathering_.try_emplace(key);
    Gathering& g = it->second;
    if (fresh) {
      g.cells.resize(static_cast<size_t>(tile_cells_ * cell_ * spec_.bands));
      for (int b = 0; b < spec_.bands; ++b) fill_band(g.cells.data(), b);
    }
    const Window w = share_of_tile(grid_, tile, level);
    place_share(g.cells.data() + band * tile_cells_ * cell_, level, over, tile, bytes.data(),
                w.width);
    if (++g.shares < beneath(level, over) * spec_.bands) return;
    Timed timed(gather_seconds_);
    for (int b = 0; b < spec_.bands; ++b) {
      const auto encoded = gatherer_->encode(g.cells.data() + b * tile_cells_ * cell_);
      writer_->write_overview_tile(level, b, over, encoded);
      bytes_written_ += static_cast<int64_t>(encoded.size());
    }
    gathering_.erase(it);
  }

  /// Band `band` of `cells` (tiles one after the other) set to what lies past the raster's edge.
  void fill_band(std::byte* cells, int band) const {
    const double value = spec_.nodata.value_or(0.0);
    visit(spec_.type, [&]<class T>(std::type_identity<T>) {
      std::fill_n(reinterpret_cast<T*>(cells) + band * tile_cells_, tile_cells_,
                  static_cast<T>(value));
    });
  }

  OutputSpec spec_;
  TileGrid grid_;
  int64_t cell_;        // bytes a cell
  int64_t tile_cells_;  // cells a tile
  int levels_ = 0;
  std::vector<TileGrid> grids_;   // per level, 0 the full resolution
  std::vector<LevelStep> steps_;  // per level from 1: its making from the level beneath
  ShareLayout layout_;
  Courier* courier_ = nullptr;
  const TileOrder* order_ = nullptr;
  int route_ = 0;
  int threads_ = 1;
  // Courier keys: positions of full-resolution tiles, then each level's tiles (encoded), then
  // shares by level and full-resolution tile.
  int64_t overview_first_ = 0;
  std::vector<int64_t> level_first_;
  int64_t piece_first_ = 0;
  std::vector<Bytes> held_;                    // per slot and band: the encoded tile
  std::vector<std::byte> shares_;              // per slot and band: its overview shares
  std::vector<io::TileEncoder> encoders_;      // per thread
  std::vector<std::vector<std::byte>> tiles_;  // per thread: an overview tile's cells
  std::optional<io::CogWriter> writer_;        // rank 0
  std::optional<io::TileEncoder> gatherer_;    // rank 0: encodes the tiles it finishes
  std::vector<double> encode_seconds_;         // per thread: overview tiles assembled, encoded
  std::vector<double> halve_seconds_;          // per thread: tiles halved into their shares
  double gather_seconds_ = 0;                  // rank 0: the tiles it finished
  std::map<int64_t, Bytes> waiting_;           // rank 0: by (tile or position) * bands + band
  bool row_major_ = false;                     // the full resolution written row by row
  std::map<int64_t, Gathering> gathering_;     // rank 0: by courier key
  int64_t next_ = 0;
  int64_t bytes_written_ = 0;
};

}  // namespace

std::unique_ptr<Sink> cog_sink(const OutputSpec& spec) { return std::make_unique<CogSink>(spec); }

}  // namespace tessera::run

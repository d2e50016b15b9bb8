// The interface every op presents to the planner and the executor, and the op registry.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "tessera/core/error.hpp"
#include "tessera/core/geometry.hpp"
#include "tessera/core/pixel_type.hpp"
#include "tessera/core/raster_view.hpp"
#include "tessera/core/tile_buffer.hpp"
#include "tessera/expr/name_scope.hpp"
#include "tessera/ops/pass_kind.hpp"

namespace tessera::ops {

/// How an op wants its input cells: gdaldem reads Byte, Int16 and UInt16 as 32-bit integers
/// and every other type as Float32; an op that keeps a Float64 source's precision (focal) reads
/// it as Float64.
enum class CellType { Int32, Float32, Float64 };

/// The pixel type of cells of `cells`.
constexpr PixelType cell_pixel_type(CellType cells) {
  return cells == CellType::Int32     ? PixelType::Int32
         : cells == CellType::Float32 ? PixelType::Float32
                                      : PixelType::Float64;
}

/// One band that an op of named inputs (calc) reads: `name` is a job input's name or an earlier
/// step's id; an empty band means the band the input itself names (a step's only band).
struct BandRef {
  std::string name;
  std::optional<int> band;
  int column = 0;  ///< where the op's text (calc's expr) first names it, from 1; 0 if unknown
  std::string option = "expr";  ///< the option that names it (calc's expr, flowacc's weight)
};

/// The cells of one band an op of named inputs reads, over the same window as TileIn::cells
/// (grow(owned, halo)): raw cells of the band's own type, each row width * size_of(type) bytes.
/// The band is an input's or, in a chain, the output of an earlier step.
struct BandIn {
  PixelType type = PixelType::Float32;
  ConstView<std::byte> bytes;
  std::optional<double> nodata;  ///< that band's nodata value, if it has one
};

/// The input of one tile: the cells of grow(owned, halo) in a buffer whose cell (0, 0) is raster
/// cell (owned.x - halo, owned.y - halo). Only cells inside the raster hold data; the op decides
/// what lies beyond the edge (gdaldem's rules), so results never depend on how tiles were cut.
struct TileIn {
  Extent raster;
  Window owned;
  int64_t halo = 0;
  std::variant<ConstView<int32_t>, ConstView<float>, ConstView<double>> cells;
  std::optional<double> nodata;                ///< the source band's nodata value, if it has one
  PixelType source_type = PixelType::Float32;  ///< the source band's type (gdaldem ignores an
                                               ///< integer band's nodata outside its range)
  double ewres = 1.0;                          ///< geotransform[1]: cell width
  double nsres = -1.0;        ///< geotransform[5]: cell height, negative for north-up rasters
  std::vector<BandIn> bands;  ///< one per band_inputs(), in that order
};

/// A number an op needs of a whole band before its tiles run (a percentile stretch's bounds, a
/// normalisation's mean): the plan adds a reduction pass that computes it. `name` is a job input's
/// name or a step's id, as BandRef's; empty for the band the step's `in` gives.
struct StatisticRef {
  enum class Kind { Mean, Std, Min, Max, Percentile };
  std::string name;
  std::optional<int> band;
  Kind kind = Kind::Mean;
  double percentile = 0;  ///< Percentile: from 0 to 100
  int column = 0;         ///< where the op's text (calc's expr) names it, from 1; 0 if unknown
};

/// The output of one tile: one view per output band, each owned.width x owned.height cells of
/// output_type() (a kernel takes its typed view with as<T>()).
struct TileOut {
  std::vector<BandView> bands;
};

/// What a step of one input reads: its band's type and nodata, and the raster's size.
struct SourceBand {
  PixelType type = PixelType::Float32;
  std::optional<double> nodata;
  Extent size;
};

/// An op, configured. run() is const and thread-safe: many threads call it on different tiles.
class Op {
 public:
  virtual ~Op() = default;
  virtual int64_t halo() const = 0;
  virtual PixelType output_type() const = 0;
  virtual int output_bands() const { return 1; }
  virtual std::optional<double> output_nodata() const = 0;
  /// The cell type run() wants for a source of type `source`.
  virtual CellType input_cells(PixelType source) const;
  /// The bands an op of named inputs (calc) reads, each once, in the order TileIn::bands gives
  /// them. An op of one input (the step's `in`, read as TileIn::cells) may read further bands its
  /// options name (flowacc's weight, watershed's outlets); most read none.
  virtual std::vector<BandRef> band_inputs() const { return {}; }
  /// The op as it runs on `source` (the band its step reads), for an op whose output type or
  /// nodata depends on that band (focal.min keeps an Int16 source's type) or which refuses some
  /// bands; nullptr when this op serves every band as it is. Throws Error when the op does not
  /// apply to that band. The planner calls it once per step, before anything reads the op.
  virtual std::shared_ptr<const Op> for_source(const SourceBand& source) const {
    (void)source;
    return nullptr;
  }
  /// The kind of pass its step needs; the planner groups steps into passes by it.
  virtual PassKind pass_kind() const { return PassKind::Streaming; }
  /// The statistics of whole bands it needs before its tiles run; empty for most ops.
  virtual std::vector<StatisticRef> statistics() const { return {}; }
  /// The same op with the values of statistics(), in that order; run() of an op that needs
  /// statistics throws until they are given. Throws tessera::Error for an op that needs none.
  virtual std::shared_ptr<const Op> with_statistics(const std::vector<double>& values) const;
  virtual void run(const TileIn& in, const TileOut& out) const = 0;
};

/// An option value as it comes from a job file or a command line.
using OptionValue = std::variant<bool, double, std::string>;
using Options = std::map<std::string, OptionValue>;

/// A bad option: `key` names it so that a job file can point at its line and column.
class OptionError : public Error {
 public:
  OptionError(std::string key, const std::string& message) : Error(message), key_(std::move(key)) {}
  /// An error at character `column` (from 1) of the option's text value, such as calc's expr.
  OptionError(std::string key, const std::string& message, int column)
      : Error(message), key_(std::move(key)), column_(column) {}
  const std::string& key() const { return key_; }
  /// The character of the value the error points at, from 1; 0 when it names the whole option.
  int column() const { return column_; }
  /// The message without the words naming the option ("option 'scale' must not be zero" gives
  /// "must not be zero"), for a caller that names it its own way: a command line's flag.
  std::string detail() const;

 private:
  std::string key_;
  int column_ = 0;
};

/// One documented option of an op.
struct OptionSpec {
  std::string key;
  std::string help;
};

/// One entry of the registry: the op's name, its options and how to build it.
struct OpEntry {
  std::string_view name;
  std::string_view summary;
  std::vector<OptionSpec> options;
  /// Builds the op; throws OptionError for an unknown key or a bad value.
  std::unique_ptr<Op> (*make)(const Options& options);
  /// For an op of named inputs (calc), instead of make: builds it knowing the names it may read,
  /// the job's inputs and its steps.
  std::unique_ptr<Op> (*make_named)(const Options& options, const expr::NameScope& names) = nullptr;
  /// A pass the planner adds for another op (fill's epsilon's), not offered to users: left out
  /// of the lists of ops an unknown op's message gives. A job may still name it (the tests do).
  bool internal = false;
};

/// Every op tessera knows, in one explicit list.
const std::vector<OpEntry>& registry();
/// The entry named `name`, or nullptr.
const OpEntry* find_op(std::string_view name);
/// Builds op `name` from `options`; `inputs` are the job's input names and `steps` its step ids,
/// which an op of named inputs may read. Throws Error for an unknown name, OptionError for options.
std::unique_ptr<Op> make_op(std::string_view name, const Options& options,
                            const std::vector<std::string>& inputs = {},
                            const std::vector<std::string>& steps = {});
/// As above, with the names an op of named inputs may read in one scope (a job's, built once).
std::unique_ptr<Op> make_op(std::string_view name, const Options& options,
                            const expr::NameScope& names);

}  // namespace tessera::ops

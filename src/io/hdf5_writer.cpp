// The HDF5 writers: in parallel, every rank creates the file together over MPI-IO (on the
// communicator and under the name its caller agreed), writes the tiles it computed (collectively
// when HDF5 filters them), and the root renames the closed file into place; or one process alone
// makes the same file and stores chunks compressed by every rank's threads.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <utility>
#include <vector>

#include "hdf5_util.hpp"
#include "tessera/core/error.hpp"
#include "tessera/io/cf_layout.hpp"
#include "tessera/io/hdf5.hpp"
#include "tessera/io/positioned_io.hpp"
#include "tessera/io/temporary_files.hpp"

namespace tessera::io {
namespace {

/// `value` converted to `type`, in the bytes of that type (for _FillValue).
std::array<std::byte, 8> cast_to(PixelType type, double value) {
  std::array<std::byte, 8> bytes{};
  visit(type, [&]<class T>(std::type_identity<T>) {
    const auto cell = static_cast<T>(value);
    std::memcpy(bytes.data(), &cell, sizeof cell);
  });
  return bytes;
}

std::vector<hsize_t> dims(int64_t rows, int64_t columns) {
  return {static_cast<hsize_t>(rows), static_cast<hsize_t>(columns)};
}

}  // namespace

/// One HDF5 output in the netCDF-4/CF layout, open for writing its bands' tiles or chunks.
struct Hdf5File {
  struct Band {
    h5::Handle dataset;
    h5::Handle file_space;
  };

  OutputSpec spec;
  TileGrid grid;
  const std::string& label = spec.path;
  bool has_crs = false;
  bool alone = false;
  bool root = true;         // writes the coordinates and places the file
  TemporaryFile temporary;  // declared before the handles: removed after the file is closed
  h5::Handle file;
  h5::Handle transfer;
  h5::Handle memory_space;
  h5::Handle y;  // the coordinate variables, while the file is made
  h5::Handle x;
  std::vector<Band> bands;
  int fd = -1;  // this process's own descriptor on the file (own_fd)

  /// With `share` null, this process alone makes the file; otherwise every rank of
  /// share->communicator makes it together.
  Hdf5File(const OutputSpec& s, const std::string& temporary_name, const Hdf5Share* share)
      : spec(s),
        grid(s.size, s.tile_width, s.tile_height),
        has_crs(s.has_geotransform || !s.crs_wkt.empty()),
        alone(share == nullptr),
        root(alone || share->root),
        temporary(temporary_name) {
    try {
      make(share);
    } catch (...) {
      if (!alone) forsake();
      throw;
    }
  }

  /// In parallel, each step that one process may fail alone (the checks, the create, the root's
  /// reservation of the file's bytes and its writes of the coordinates) is agreed on before the
  /// next collective call.
  void make(const Hdf5Share* share) {
    const auto step = [&](const std::function<void()>& run) {
      if (alone || !share->agreed) return run();
      share->agreed(run);
    };
    h5::quiet_errors();
    step([&] {
      if (!spec.geokeys.empty() && spec.crs_wkt.empty())  // plans probe WKT for HDF5 outputs
        throw Error(label + ": the CRS is known only as GeoTIFF keys, and HDF5 needs WKT");
      check_output_folder(spec.path);
    });
    step([&] {
      const h5::Handle access_list = alone
                                         ? h5::local_access(label)
                                         : h5::mpio_access(share->communicator, share->info, label);
      file = h5::create_file(temporary.path(), access_list, label);
      temporary.hold();
    });
    // Parallel HDF5 filters chunks only in collective writes. Unfiltered chunks, allocated when
    // the file is made, take independent writes: collective ones went through MPI-IO's
    // aggregators, which filled the parts of edge chunks past the raster with whatever their
    // buffers held, so the file's bytes changed with the ranks (its cells did not).
    const bool filtered = spec.options.compression == Compression::Deflate;
    transfer =
        filtered && !alone ? h5::collective_transfer(label) : h5::independent_transfer(label);
    memory_space = h5::simple_space(dims(spec.tile_height, spec.tile_width), label);
    step([&] {
      h5::set_text(file.get(), "Conventions", "CF-1.7", label);
      y = create_axis("y", spec.size.height, cf::y_axis(spec.crs_wkt));
      x = create_axis("x", spec.size.width, cf::x_axis(spec.crs_wkt));
      if (has_crs) write_crs();
      for (int b = 0; b < spec.bands; ++b) bands.push_back(create_band(b, y.get(), x.get()));
    });
    if (!alone && share->reserve) step([&] { reserve_space(); });
    step([&] { write_axis(y.get(), 3, 5, spec.size.height); });
    step([&] { write_axis(x.get(), 0, 1, spec.size.width); });
    y.reset();
    x.reset();
  }

  /// Bytes reserved past the chunks' end when the file is made, for the metadata it allocates.
  static constexpr off_t kMetadataRoom = off_t{1} << 20;

  /// The root reserves the file's bytes on disk, its chunks allocated by now: a disk without
  /// room for them fails the run here, agreed, rather than a later write of one rank, after
  /// which HDF5's collective flush fails on that rank alone and leaves the others waiting in
  /// it. File systems without fallocate are left as they are.
  void reserve_space() {
    if (!root) return;
    int64_t end = 0;  // chunks are allocated in order: each band's last one ends highest
    for (int b = 0; b < spec.bands; ++b) {
      const ByteRange last = chunk_extent(b, grid.count() - 1);
      end = std::max(end, last.offset + last.size);
    }
    const auto size = static_cast<off_t>(end) + kMetadataRoom;
    if (::fallocate(own_fd(), 0, 0, size) == 0) return;
    if (errno == EOPNOTSUPP || errno == ENOSYS) return;
    throw Error(label + ": cannot reserve the file's " + std::to_string(size) +
                " bytes: " + std::strerror(errno));
  }

  /// A parallel file that failed while being made is left open (see Hdf5Writer's constructor);
  /// its temporary goes with `temporary`.
  void forsake() noexcept {
    for (Band& band : bands) {
      band.file_space.forsake();
      band.dataset.forsake();
    }
    bands.clear();
    x.forsake();
    y.forsake();
    memory_space.forsake();
    transfer.forsake();
    file.forsake();
  }

  /// Not committed: the file is given up (see discard()); in parallel the caller has already
  /// discarded and closed it on every rank (a close is collective).
  ~Hdf5File() {
    discard();
    close();
    if (fd >= 0) ::close(fd);
  }

  /// A file given up on has its bytes dropped before HDF5 closes it, so that the close, which
  /// writes what HDF5 holds, does not fail on the disk that failed the run (a full one): HDF5
  /// crashed at MPI_Finalize on the file it could not close, and in parallel a rank whose part
  /// of the close failed left the others waiting in it.
  void discard() noexcept {
    if (file && root) ::truncate(temporary.path().c_str(), 0);
  }
  void close() noexcept {
    bands.clear();
    memory_space.reset();
    transfer.reset();
    file.reset();
  }
  Hdf5File(const Hdf5File&) = delete;
  Hdf5File& operator=(const Hdf5File&) = delete;

  /// Coordinate variable `name` of `count` cells, a dimension scale; its values are written by
  /// write_axis (in parallel, its storage is allocated here).
  h5::Handle create_axis(const std::string& name, int64_t count, const cf::Axis& axis) {
    const h5::Handle space = h5::simple_space({static_cast<hsize_t>(count)}, label);
    h5::Handle dataset =
        h5::create_dataset(file.get(), name, H5T_NATIVE_DOUBLE, space.get(), H5P_DEFAULT, label);
    h5::set_text(dataset.get(), "standard_name", axis.standard_name, label);
    h5::set_text(dataset.get(), "long_name", axis.long_name, label);
    if (!axis.units.empty()) h5::set_text(dataset.get(), "units", axis.units, label);
    h5::make_scale(dataset.get(), name, label);
    return dataset;
  }

  /// The cell centres of coordinate variable `dataset` from geotransform terms `origin` and
  /// `step`, written by the root (in parallel, the other processes select nothing).
  void write_axis(hid_t dataset, size_t origin, size_t step, int64_t count) {
    const auto& gt = spec.geotransform;
    const std::vector<double> values = cf::cell_centres(gt[origin], gt[step], count);
    const h5::Handle selection = h5::dataset_space(dataset, label);
    if (!root) h5::select_none(selection.get(), label);
    try {
      h5::write(dataset, H5T_NATIVE_DOUBLE, selection.get(), selection.get(), transfer.get(),
                values.data(), label);
    } catch (const Error& e) {
      throw_full_disk_or(e, values.size() * sizeof(double));
    }
  }

  /// The grid-mapping variable: a scalar whose attributes carry the CRS and the geotransform.
  void write_crs() {
    const h5::Handle space = h5::scalar_space(label);
    const h5::Handle crs =
        h5::create_dataset(file.get(), "crs", H5T_NATIVE_INT32, space.get(), H5P_DEFAULT, label);
    h5::set_text(crs.get(), "grid_mapping_name", cf::grid_mapping_name(spec.crs_wkt), label);
    if (!spec.crs_wkt.empty()) {
      h5::set_text(crs.get(), "crs_wkt", spec.crs_wkt, label);
      h5::set_text(crs.get(), "spatial_ref", spec.crs_wkt, label);
    }
    if (spec.has_geotransform)
      h5::set_text(crs.get(), "GeoTransform", cf::geotransform_text(spec.geotransform), label);
  }

  Band create_band(int b, hid_t y, hid_t x) {
    const std::string name = band_name(b);
    const int level =
        spec.options.compression == Compression::Deflate ? spec.options.deflate_level : 0;
    const auto chunk = dims(std::min(spec.tile_height, spec.size.height),
                            std::min(spec.tile_width, spec.size.width));
    const h5::Handle creation = h5::chunked_creation(chunk, level, !alone, label);
    const h5::Handle space = h5::simple_space(dims(spec.size.height, spec.size.width), label);
    const hid_t type = h5::native_type(spec.type);
    Band band{h5::create_dataset(file.get(), name, type, space.get(), creation.get(), label), {}};
    const hid_t id = band.dataset.get();
    if (has_crs) h5::set_text(id, "grid_mapping", "crs", label);
    if (spec.nodata)
      h5::set_scalar(id, "_FillValue", type, cast_to(spec.type, *spec.nodata).data(), label);
    h5::attach_scale(id, y, 0, label);
    h5::attach_scale(id, x, 1, label);
    band.file_space = h5::dataset_space(id, label);
    return band;
  }

  std::string band_name(int b) const {
    const auto i = static_cast<size_t>(b);
    return i < spec.band_descriptions.size() ? spec.band_descriptions[i]
                                             : "band_" + std::to_string(b + 1);
  }

  Band& band_at(int band) {
    if (band < 0 || band >= static_cast<int>(bands.size()))
      throw Error(label + ": no band " + std::to_string(band) + " (bands count from 0)");
    return bands[static_cast<size_t>(band)];
  }

  void write_tile(int band, int64_t tile, std::span<const std::byte> cells) {
    Band& target = band_at(band);
    if (tile < 0 || tile >= grid.count())
      throw Error(label + ": no tile " + std::to_string(tile) + " (tiles count from 0)");
    const auto expected =
        static_cast<size_t>(spec.tile_width * spec.tile_height) * size_of(spec.type);
    if (cells.size() != expected)
      throw Error(label + ": tile " + std::to_string(tile) + " has " +
                  std::to_string(cells.size()) + " bytes, expected " + std::to_string(expected));
    const Window owned = grid.owned(tile);
    h5::select_block(memory_space.get(), {0, 0}, dims(owned.height, owned.width), label);
    h5::select_block(target.file_space.get(), dims(owned.y, owned.x),
                     dims(owned.height, owned.width), label);
    try {
      h5::write(target.dataset.get(), h5::native_type(spec.type), memory_space.get(),
                target.file_space.get(), transfer.get(), cells.data(), label);
    } catch (const Error& e) {
      throw_full_disk_or(e, expected);
    }
  }

  /// HDF5's MPI-IO driver does not say why a write failed; a full disk is the usual reason:
  /// `failure` says so when there is no room left for the `bytes` it wrote.
  [[noreturn]] void throw_full_disk_or(const Error& failure, size_t bytes) const {
    const std::string what = failure.what();
    if (room_left(temporary.path()) >= bytes ||
        what.find(std::strerror(ENOSPC)) != std::string::npos)
      throw failure;
    throw Error(what + ": " + std::strerror(ENOSPC));
  }

  ByteRange write_chunk(int band, int64_t tile, std::span<const std::byte> chunk) {
    Band& target = band_at(band);
    if (tile < 0 || tile >= grid.count())
      throw Error(label + ": no tile " + std::to_string(tile) + " (tiles count from 0)");
    const Window owned = grid.owned(tile);
    h5::write_chunk(target.dataset.get(), transfer.get(), dims(owned.y, owned.x), chunk, label);
    return chunk_extent(band, tile);
  }

  ByteRange chunk_extent(int band, int64_t tile) {
    const Window owned = grid.owned(tile);
    const auto [address, size] =
        h5::chunk_place(band_at(band).dataset.get(), dims(owned.y, owned.x), label);
    return {static_cast<int64_t>(address), static_cast<int64_t>(size)};
  }

  /// A descriptor of this process's own on the file, for pread, pwrite and fdatasync.
  int own_fd() {
    if (fd < 0) fd = ::open(temporary.path().c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0)
      throw Error(label + ": cannot open " + temporary.path() + ": " + std::strerror(errno));
    return fd;
  }

  void sync() {
    if (fdatasync(own_fd()) != 0)
      throw Error(label + ": cannot make the written tiles durable: " + std::strerror(errno));
  }

  /// `extent`'s bytes of the file `from` (open as `from_fd`).
  std::vector<std::byte> read_extent(int from_fd, const std::string& from, ByteRange extent) const {
    std::vector<std::byte> bytes(static_cast<size_t>(extent.size));
    const ssize_t got =
        pread(from_fd, bytes.data(), bytes.size(), static_cast<off_t>(extent.offset));
    if (got != static_cast<ssize_t>(bytes.size()))
      throw Error(label + ": cannot read the interrupted run's chunks from " + from);
    return bytes;
  }

  /// Gives back the disk space of every byte of `from` (open as `from_fd`) outside `kept`: the
  /// stopped run's file reserved its whole size, and only its chunks `kept` are read again
  /// (a kill at any moment leaves those as they were). Where holes cannot be punched, nothing.
  static void release_all_but(int from_fd, std::vector<ByteRange> kept) {
    std::sort(kept.begin(), kept.end(),
              [](const ByteRange& a, const ByteRange& b) { return a.offset < b.offset; });
    struct stat st {};
    if (fstat(from_fd, &st) != 0) return;
    int64_t at = 0;
    kept.push_back({static_cast<int64_t>(st.st_size), 0});
    for (const ByteRange& range : kept) {
      if (range.offset > at && ::fallocate(from_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, at,
                                           range.offset - at) != 0)
        return;
      at = std::max(at, range.offset + range.size);
    }
  }

  void copy_chunks(const std::string& from, const std::vector<BandTile>& chunks) {
    const int from_fd = ::open(from.c_str(), O_RDWR | O_CLOEXEC);
    if (from_fd < 0) throw Error(label + ": cannot open " + from + ": " + std::strerror(errno));
    try {
      std::vector<ByteRange> kept;
      for (const BandTile& chunk : chunks) kept.push_back(chunk_extent(chunk.band, chunk.tile));
      release_all_but(from_fd, kept);
      for (const BandTile& chunk : chunks) {
        const ByteRange extent = chunk_extent(chunk.band, chunk.tile);
        const auto bytes = read_extent(from_fd, from, extent);
        if (const int error = pwrite_all(own_fd(), bytes.data(), bytes.size(), extent.offset))
          throw Error(label +
                      ": cannot copy the interrupted run's chunks: " + std::strerror(error));
      }
    } catch (...) {
      ::close(from_fd);
      throw;
    }
    ::close(from_fd);
    sync();
  }

  /// Stores the chunks of `resume` again, read from its file, in the order they were stored.
  void replay(const Hdf5ChunkResume& resume) {
    const int from_fd = ::open(resume.from.c_str(), O_RDONLY | O_CLOEXEC);
    if (from_fd < 0)
      throw Error(label + ": cannot open " + resume.from + ": " + std::strerror(errno));
    try {
      for (size_t k = 0; k < resume.written.size(); ++k) {
        const auto key = static_cast<int64_t>(k);
        const ByteRange old = resume.written[k];
        const auto bytes = read_extent(from_fd, resume.from, old);
        const ByteRange now =
            write_chunk(static_cast<int>(key % spec.bands),
                        resume.tiles.at(static_cast<size_t>(key / spec.bands)), bytes);
        if (now.offset != old.offset || now.size != old.size)
          throw Error(label + ": the journal does not match " + resume.from);
      }
    } catch (...) {
      ::close(from_fd);
      throw;
    }
    ::close(from_fd);
    sync();
  }

  void keep() noexcept {
    close();
    if (fd >= 0) ::close(std::exchange(fd, -1));
    temporary.release();
  }

  void join_round(int band) {
    Band& target = band_at(band);
    h5::select_none(memory_space.get(), label);
    h5::select_none(target.file_space.get(), label);
    const std::byte nothing{};
    h5::write(target.dataset.get(), h5::native_type(spec.type), memory_space.get(),
              target.file_space.get(), transfer.get(), &nothing, label);
  }

  void commit() {
    if (!file) throw Error(label + ": committed twice");
    for (Band& band : bands) {
      band.file_space.reset();
      band.dataset.close_checked(label, "a dataset");
    }
    bands.clear();
    memory_space.reset();
    transfer.reset();
    file.close_checked(label, "the file");
    if (root) move_into_place(temporary.path(), spec.path, label);
    temporary.release();
  }
};

struct Hdf5Writer::Impl : Hdf5File {
  Impl(const OutputSpec& s, const Hdf5Share& share) : Hdf5File(s, share.temporary, &share) {}
};

struct Hdf5ChunkWriter::Impl : Hdf5File {
  Impl(const OutputSpec& s, const std::string& temporary) : Hdf5File(s, temporary, nullptr) {}
};

namespace {

/// The file an interrupted run left is moved aside before the new one takes its name.
std::string chunk_writer_temporary(const OutputSpec& spec, int64_t id,
                                   const Hdf5ChunkResume* resume) {
  const std::string temporary = temporary_path(spec.path, id);
  if (!resume) std::remove(temporary.c_str());  // a killed run's, of the same id: made anew
  return temporary;
}

}  // namespace

Hdf5Writer::Hdf5Writer(const OutputSpec& spec, const Hdf5Share& share)
    : impl_(std::make_unique<Impl>(spec, share)) {}
Hdf5Writer::~Hdf5Writer() = default;

void Hdf5Writer::discard() noexcept { impl_->discard(); }

void Hdf5Writer::close() noexcept { impl_->close(); }

void Hdf5Writer::write_tile(int band, int64_t tile, std::span<const std::byte> cells) {
  impl_->write_tile(band, tile, cells);
}

void Hdf5Writer::join_round(int band) { impl_->join_round(band); }

void Hdf5Writer::commit() { impl_->commit(); }

Hdf5ChunkWriter::Hdf5ChunkWriter(const OutputSpec& spec, int64_t id, const Hdf5ChunkResume* resume)
    : impl_(std::make_unique<Impl>(spec, chunk_writer_temporary(spec, id, resume))) {
  if (resume) impl_->replay(*resume);
}
Hdf5ChunkWriter::Hdf5ChunkWriter(const OutputSpec& spec) : Hdf5ChunkWriter(spec, getpid()) {}
Hdf5ChunkWriter::~Hdf5ChunkWriter() = default;

ByteRange Hdf5ChunkWriter::write_tile(int band, int64_t tile, std::span<const std::byte> chunk) {
  return impl_->write_chunk(band, tile, chunk);
}

void Hdf5ChunkWriter::sync() { impl_->sync(); }

void Hdf5ChunkWriter::keep() noexcept { impl_->keep(); }

void Hdf5Writer::copy_chunks(const std::string& from, const std::vector<BandTile>& chunks) {
  impl_->copy_chunks(from, chunks);
}

void Hdf5Writer::sync() { impl_->sync(); }

void Hdf5Writer::reserve() { impl_->reserve_space(); }

void Hdf5Writer::forsake(bool keep_file) noexcept {
  impl_->forsake();
  if (keep_file) impl_->temporary.release();
}

void Hdf5Writer::keep() noexcept { impl_->keep(); }

void Hdf5ChunkWriter::commit() { impl_->commit(); }

}  // namespace tessera::io

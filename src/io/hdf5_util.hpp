// Private to io: each HDF5 call tessera makes, wrapped once to throw tessera::Error with context,
// and an RAII handle for every kind of HDF5 identifier.
#pragma once

#include <hdf5.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "tessera/core/pixel_type.hpp"

namespace tessera::io::h5 {

/// Owns one HDF5 identifier and closes it with the function that matches its kind.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  ~Handle() { reset(); }
  Handle(Handle&& other) noexcept;
  Handle& operator=(Handle&& other) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  hid_t get() const { return id_; }
  explicit operator bool() const { return id_ >= 0; }
  /// Closes the identifier now (errors ignored: used on paths that already failed).
  void reset();
  /// Closes the identifier now; throws "<label>: cannot close <what>: <reason>" on failure.
  void close_checked(const std::string& label, const std::string& what);
  /// Lets the identifier go without closing it (HDF5 keeps it open until the library ends).
  void forsake() noexcept { id_ = H5I_INVALID_HID; }

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer closer_ = nullptr;
};

/// Makes HDF5 keep its error stack to itself (tessera reports it); once per process.
void quiet_errors();

/// The HDF5 memory type of a tessera pixel type.
hid_t native_type(PixelType type);

/// A file access list for MPI-IO over `comm`, with collective metadata reads and writes.
Handle mpio_access(MPI_Comm comm, MPI_Info info, const std::string& label);
/// A file access list for this process alone (HDF5's default POSIX driver).
Handle local_access(const std::string& label);
/// Creates (truncating) the file `path`; collective over the access list's communicator. No
/// object of a tessera file records times (HDF5 would by default), so a run's file is the same
/// bytes whenever it runs.
Handle create_file(const std::string& path, const Handle& access, const std::string& label);

/// A dataspace of `dims` (row-major, slowest first), or a scalar one.
Handle simple_space(const std::vector<hsize_t>& dims, const std::string& label);
Handle scalar_space(const std::string& label);
/// A copy of `dataset`'s file dataspace, to select in.
Handle dataset_space(hid_t dataset, const std::string& label);
/// Selects the block at `start` of size `count` in `space`, replacing any selection.
void select_block(hid_t space, const std::vector<hsize_t>& start, const std::vector<hsize_t>& count,
                  const std::string& label);
/// Selects nothing in `space`: a rank's part of a collective write when it has no data.
void select_none(hid_t space, const std::string& label);

/// A dataset creation list: chunks of `chunk`, no fill values written, and shuffle + deflate
/// at `deflate_level` unless it is 0; space allocated when the dataset is created if `early`
/// (parallel HDF5 wants it), else as each chunk is written (chunks of their compressed size).
Handle chunked_creation(const std::vector<hsize_t>& chunk, int deflate_level, bool early,
                        const std::string& label);
/// A transfer list for collective MPI-IO writes.
Handle collective_transfer(const std::string& label);
/// A transfer list with HDF5's defaults: independent writes (each process's own, in parallel).
Handle independent_transfer(const std::string& label);

/// Creates dataset `name` in `parent`; `creation` may be H5P_DEFAULT (HDF5's, without times).
Handle create_dataset(hid_t parent, const std::string& name, hid_t type, hid_t space,
                      hid_t creation, const std::string& label);
/// Stores `bytes`, already through every filter of `dataset`, as its chunk at `offset`.
/// Where the chunk at `offset` lies in the file: its address and stored size.
std::pair<haddr_t, hsize_t> chunk_place(hid_t dataset, const std::vector<hsize_t>& offset,
                                        const std::string& label);

void write_chunk(hid_t dataset, hid_t transfer, const std::vector<hsize_t>& offset,
                 std::span<const std::byte> bytes, const std::string& label);
/// Writes the selected elements of `memory_space` from `data` to those of `file_space`.
void write(hid_t dataset, hid_t type, hid_t memory_space, hid_t file_space, hid_t transfer,
           const void* data, const std::string& label);

/// Sets a text attribute (fixed-length ASCII, as netCDF writes them) on `object`.
void set_text(hid_t object, const std::string& name, const std::string& text,
              const std::string& label);
/// Sets a scalar attribute of memory and file type `type` from `value`.
void set_scalar(hid_t object, const std::string& name, hid_t type, const void* value,
                const std::string& label);

/// Makes `dataset` a dimension scale named `name`, and attaches `scale` as dimension `dim`
/// of `dataset` (HDF5 High Level dimension scales, as netCDF-4 reads them).
void make_scale(hid_t dataset, const std::string& name, const std::string& label);
void attach_scale(hid_t dataset, hid_t scale, unsigned dim, const std::string& label);

}  // namespace tessera::io::h5

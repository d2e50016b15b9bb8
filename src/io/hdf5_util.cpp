// Each HDF5 call, once: checked, with the reason HDF5 gave, and handles that close themselves.
#include "hdf5_util.hpp"

#include <H5DSpublic.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <utility>

#include "tessera/core/error.hpp"

namespace tessera::io::h5 {

namespace {

/// Keeps the description of the deepest entry of the error stack: the most specific reason.
herr_t keep_deepest(unsigned, const H5E_error2_t* entry, void* out) {
  if (entry->desc != nullptr && entry->desc[0] != '\0')
    *static_cast<std::string*>(out) = entry->desc;
  return 0;
}

/// HDF5's POSIX driver describes a failed write as "file write failed: time = ..., errno = 28,
/// error message = 'No space left on device', buf = ..."; this keeps the start and the message.
std::string without_details(const std::string& text) {
  const std::string key = "error message = '";
  const size_t at = text.find(key);
  if (at == std::string::npos) return text;
  const size_t start = at + key.size();
  const size_t end = text.find('\'', start);
  return text.substr(0, text.find(':')) + ": " + text.substr(start, end - start);
}

/// HDF5's reason for the failure just reported, in one line; clears the stack. Its MPI-IO
/// driver gives no system message, so `error` (errno as the call failed) adds the system's
/// when it is one of a failed write's.
std::string reason(int error) {
  std::string text;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, keep_deepest, &text);
  H5Eclear2(H5E_DEFAULT);
  for (char& c : text)
    if (c == '\n') c = ' ';
  text = without_details(text);
  if (text.empty()) text = "no reason given";
  const bool write_error = error == ENOSPC || error == EDQUOT || error == EIO || error == EFBIG;
  const std::string system = std::strerror(error);
  if (write_error && text.find(system) == std::string::npos) text += ": " + system;
  return text;
}

[[noreturn]] void fail(const std::string& label, const std::string& what) {
  const int error = errno;
  throw Error(label + ": " + what + ": " + reason(error));
}

void check(herr_t status, const std::string& label, const std::string& what) {
  if (status < 0) fail(label, what);
}

Handle checked(hid_t id, Handle::Closer closer, const std::string& label, const std::string& what) {
  if (id < 0) fail(label, what);
  return Handle(id, closer);
}

}  // namespace

Handle::Handle(Handle&& other) noexcept
    : id_(std::exchange(other.id_, H5I_INVALID_HID)), closer_(other.closer_) {}

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    reset();
    id_ = std::exchange(other.id_, H5I_INVALID_HID);
    closer_ = other.closer_;
  }
  return *this;
}

void Handle::reset() {
  if (id_ >= 0 && closer_ != nullptr) closer_(id_);
  id_ = H5I_INVALID_HID;
}

void Handle::close_checked(const std::string& label, const std::string& what) {
  const hid_t id = std::exchange(id_, H5I_INVALID_HID);
  if (id >= 0 && closer_ != nullptr) check(closer_(id), label, "cannot close " + what);
}

void quiet_errors() {
  static std::once_flag once;
  std::call_once(once, [] { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); });
}

hid_t native_type(PixelType type) {
  switch (type) {
    case PixelType::Byte:
      return H5T_NATIVE_UINT8;
    case PixelType::UInt16:
      return H5T_NATIVE_UINT16;
    case PixelType::Int16:
      return H5T_NATIVE_INT16;
    case PixelType::UInt32:
      return H5T_NATIVE_UINT32;
    case PixelType::Int32:
      return H5T_NATIVE_INT32;
    case PixelType::Float32:
      return H5T_NATIVE_FLOAT;
    case PixelType::Float64:
      return H5T_NATIVE_DOUBLE;
  }
  throw Error("internal error: a pixel type HDF5 has no type for");
}

Handle mpio_access(MPI_Comm comm, MPI_Info info, const std::string& label) {
  Handle access =
      checked(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, label, "cannot make a file access list");
  check(H5Pset_fapl_mpio(access.get(), comm, info), label, "cannot use MPI-IO");
  check(H5Pset_all_coll_metadata_ops(access.get(), true), label,
        "cannot make metadata reads collective");
  check(H5Pset_coll_metadata_write(access.get(), true), label,
        "cannot make metadata writes collective");
  return access;
}

Handle local_access(const std::string& label) {
  Handle access =
      checked(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, label, "cannot make a file access list");
  // The file is a temporary one only this process writes, and already marked live by its own
  // lock (stale_temporaries.hpp); HDF5's flock would only fail on file systems without locks.
  check(H5Pset_file_locking(access.get(), false, true), label, "cannot leave out file locking");
  return access;
}

Handle create_file(const std::string& path, const Handle& access, const std::string& label) {
  const Handle creation =
      checked(H5Pcreate(H5P_FILE_CREATE), H5Pclose, label, "cannot make a file creation list");
  check(H5Pset_obj_track_times(creation.get(), false), label, "cannot leave out times");
  return checked(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, creation.get(), access.get()), H5Fclose,
                 label, "cannot create " + path);
}

Handle simple_space(const std::vector<hsize_t>& dims, const std::string& label) {
  return checked(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose,
                 label, "cannot make a dataspace");
}

Handle scalar_space(const std::string& label) {
  return checked(H5Screate(H5S_SCALAR), H5Sclose, label, "cannot make a scalar dataspace");
}

Handle dataset_space(hid_t dataset, const std::string& label) {
  return checked(H5Dget_space(dataset), H5Sclose, label, "cannot get a dataset's dataspace");
}

void select_block(hid_t space, const std::vector<hsize_t>& start, const std::vector<hsize_t>& count,
                  const std::string& label) {
  check(H5Sselect_hyperslab(space, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr),
        label, "cannot select a block of cells");
}

void select_none(hid_t space, const std::string& label) {
  check(H5Sselect_none(space), label, "cannot make an empty selection");
}

Handle chunked_creation(const std::vector<hsize_t>& chunk, int deflate_level, bool early,
                        const std::string& label) {
  Handle creation = checked(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, label,
                            "cannot make a dataset creation list");
  const hid_t id = creation.get();
  check(H5Pset_chunk(id, static_cast<int>(chunk.size()), chunk.data()), label, "cannot set chunks");
  check(H5Pset_alloc_time(id, early ? H5D_ALLOC_TIME_EARLY : H5D_ALLOC_TIME_INCR), label,
        "cannot set the allocation time");
  check(H5Pset_fill_time(id, H5D_FILL_TIME_NEVER), label, "cannot turn off fill values");
  check(H5Pset_obj_track_times(id, false), label, "cannot leave out times");
  if (deflate_level > 0) {
    check(H5Pset_shuffle(id), label, "cannot add the shuffle filter");
    check(H5Pset_deflate(id, static_cast<unsigned>(deflate_level)), label,
          "cannot add the deflate filter");
  }
  return creation;
}

Handle collective_transfer(const std::string& label) {
  Handle transfer =
      checked(H5Pcreate(H5P_DATASET_XFER), H5Pclose, label, "cannot make a transfer list");
  check(H5Pset_dxpl_mpio(transfer.get(), H5FD_MPIO_COLLECTIVE), label,
        "cannot make writes collective");
  return transfer;
}

Handle independent_transfer(const std::string& label) {
  return checked(H5Pcreate(H5P_DATASET_XFER), H5Pclose, label, "cannot make a transfer list");
}

Handle create_dataset(hid_t parent, const std::string& name, hid_t type, hid_t space,
                      hid_t creation, const std::string& label) {
  Handle untimed;
  if (creation == H5P_DEFAULT) {
    untimed = checked(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, label,
                      "cannot make a dataset creation list");
    check(H5Pset_obj_track_times(untimed.get(), false), label, "cannot leave out times");
    creation = untimed.get();
  }
  return checked(H5Dcreate2(parent, name.c_str(), type, space, H5P_DEFAULT, creation, H5P_DEFAULT),
                 H5Dclose, label, "cannot create dataset '" + name + "'");
}

std::pair<haddr_t, hsize_t> chunk_place(hid_t dataset, const std::vector<hsize_t>& offset,
                                        const std::string& label) {
  unsigned filters = 0;
  haddr_t address = HADDR_UNDEF;
  hsize_t size = 0;
  check(H5Dget_chunk_info_by_coord(dataset, offset.data(), &filters, &address, &size), label,
        "cannot find a chunk");
  if (address == HADDR_UNDEF) throw Error(label + ": a chunk has no place in the file");
  return {address, size};
}

void write_chunk(hid_t dataset, hid_t transfer, const std::vector<hsize_t>& offset,
                 std::span<const std::byte> bytes, const std::string& label) {
  check(H5Dwrite_chunk(dataset, transfer, 0, offset.data(), bytes.size(), bytes.data()), label,
        "cannot write a chunk");
}

void write(hid_t dataset, hid_t type, hid_t memory_space, hid_t file_space, hid_t transfer,
           const void* data, const std::string& label) {
  check(H5Dwrite(dataset, type, memory_space, file_space, transfer, data), label,
        "cannot write cells");
}

void set_text(hid_t object, const std::string& name, const std::string& text,
              const std::string& label) {
  const std::string what = "cannot set attribute '" + name + "'";
  Handle type = checked(H5Tcopy(H5T_C_S1), H5Tclose, label, what);
  check(H5Tset_size(type.get(), text.empty() ? 1 : text.size()), label, what);
  check(H5Tset_strpad(type.get(), H5T_STR_NULLTERM), label, what);
  const Handle space = scalar_space(label);
  const Handle attribute =
      checked(H5Acreate2(object, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
              H5Aclose, label, what);
  const char empty = '\0';
  check(H5Awrite(attribute.get(), type.get(), text.empty() ? &empty : text.c_str()), label, what);
}

void set_scalar(hid_t object, const std::string& name, hid_t type, const void* value,
                const std::string& label) {
  const std::string what = "cannot set attribute '" + name + "'";
  const Handle space = scalar_space(label);
  const Handle attribute =
      checked(H5Acreate2(object, name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT),
              H5Aclose, label, what);
  check(H5Awrite(attribute.get(), type, value), label, what);
}

void make_scale(hid_t dataset, const std::string& name, const std::string& label) {
  check(H5DSset_scale(dataset, name.c_str()), label, "cannot make '" + name + "' a dimension");
}

void attach_scale(hid_t dataset, hid_t scale, unsigned dim, const std::string& label) {
  check(H5DSattach_scale(dataset, scale, dim), label, "cannot attach a dimension");
}

}  // namespace tessera::io::h5

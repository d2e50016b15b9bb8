// Checks of what is at the outputs' paths, made before any output is opened.
#pragma once

#include "tessera/job/job_spec.hpp"

namespace tessera::run {

/// Throws tessera::Error, at the place of the output's `path` when the job came from a file,
/// when an output's path names something but a regular file (a folder, a device, a fifo), is
/// the same file as an input (device and inode, however spelt: "./a.tif", a symbolic or hard
/// link), or is the same file as an earlier output. Inputs GDAL names otherwise than by a file
/// ("/vsizip/...") are not compared. Not collective: the caller agrees on the outcome.
void check_output_paths(const job::JobSpec& job);

}  // namespace tessera::run

// Checks of what is at the outputs' paths, made before any output is opened.
#pragma once

#include <string>
#include <vector>

#include "tessera/job/job_spec.hpp"
#include "tessera/plan/plan.hpp"

namespace tessera::run {

/// Throws tessera::Error, at the place of the output's `path` when the job came from a file,
/// when an output's path names something but a regular file (a folder, a device, a fifo), is
/// the same file as an input (device and inode, however spelt: "./a.tif", a symbolic or hard
/// link), or is the same file as an earlier output. Inputs GDAL names otherwise than by a file
/// ("/vsizip/...") are not compared. Not collective: the caller agrees on the outcome.
void check_output_paths(const job::JobSpec& job);

/// Throws tessera::Error ("--report x.tif: is the same file as the output x.tif; the report
/// needs a file of its own") when the run report's path `report` cannot be written (no folder,
/// not writable, not a regular file) or is the file of one of `inputs` or `outputs`, however
/// spelt: checked before any work, so that a report never replaces an input or an output, and
/// a run never fails at its end for its report. Nothing when `report` is empty. Not collective.
void check_report_path(const std::string& report, const std::vector<std::string>& inputs,
                       const std::vector<std::string>& outputs);

/// check_report_path() of the plan's inputs and outputs.
void check_report_path(const std::string& report, const plan::Plan& plan);

}  // namespace tessera::run

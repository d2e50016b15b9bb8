// Before any output is opened: an output replaces only a regular file, never an input, and no
// two outputs share a file.
#include "output_checks.hpp"

#include <map>
#include <string>

#include "tessera/core/error.hpp"
#include "tessera/io/output_paths.hpp"
#include "tessera/io/temporary_files.hpp"

namespace tessera::run {

namespace {

using job::fail_at;

/// The output's folder exists and is writable; what is at its path is a regular file or nothing.
void check_place(const job::OutputFileSpec& output) {
  try {
    io::check_output_folder(output.path);
    io::check_replaceable(output.path);
  } catch (const Error& e) {
    fail_at(output.path_where, e.what());
  }
}

void check_not_an_input(const job::OutputFileSpec& output,
                        const std::vector<job::InputSpec>& inputs) {
  const auto id = io::regular_file_id(output.path);
  if (!id) return;
  for (const job::InputSpec& input : inputs)
    if (io::regular_file_id(input.path) == id)
      fail_at(output.path_where, output.path + ": is the same file as the input " + input.path +
                                     "; an output never replaces an input");
}

/// `seen` maps the identity of each earlier output to its path.
void check_not_twice(const job::OutputFileSpec& output, std::map<std::string, std::string>& seen) {
  const auto id = io::output_identity(output.path);
  if (!id) return;
  const auto [earlier, added] = seen.emplace(*id, output.path);
  if (!added)
    fail_at(output.path_where, output.path + ": is the same file as the output " + earlier->second +
                                   "; each output needs a file of its own");
}

}  // namespace

void check_report_path(const std::string& report, const std::vector<std::string>& inputs,
                       const std::vector<std::string>& outputs) {
  if (report.empty()) return;
  try {
    io::check_output_folder(report);
    io::check_replaceable(report);
  } catch (const Error& e) {
    throw Error(std::string("--report ") + e.what());
  }
  const auto file = io::regular_file_id(report);
  for (const std::string& input : inputs)
    if (file && io::regular_file_id(input) == file)
      throw Error("--report " + report + ": is the same file as the input " + input +
                  "; the report needs a file of its own");
  const auto identity = io::output_identity(report);
  for (const std::string& output : outputs)
    if (identity && !output.empty() && io::output_identity(output) == identity)
      throw Error("--report " + report + ": is the same file as the output " + output +
                  "; the report needs a file of its own");
}

void check_report_path(const std::string& report, const plan::Plan& plan) {
  std::vector<std::string> inputs;
  for (const RasterInfo& input : plan.inputs) inputs.push_back(input.path);
  std::vector<std::string> outputs;
  for (const auto& output : plan.outputs) outputs.push_back(output.spec.path);
  check_report_path(report, inputs, outputs);
}

void check_output_paths(const job::JobSpec& job) {
  std::map<std::string, std::string> seen;
  for (const job::OutputFileSpec& output : job.outputs) {
    check_place(output);
    check_not_an_input(output, job.inputs);
    check_not_twice(output, seen);
  }
}

}  // namespace tessera::run

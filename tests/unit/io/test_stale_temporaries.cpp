// Temporary files a killed run left behind are removed by the next run of the same output; live
// ones (of this process, of another, and under a writer that has made its file) are not.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "io_test_util.hpp"
#include "tessera/io/geotiff.hpp"
#include "tessera/io/hdf5.hpp"
#include "tessera/io/temporary_files.hpp"

namespace tessera::io {
namespace {

bool exists(const std::string& path) { return std::filesystem::exists(path); }

/// A file at `path` that no process holds: what SIGKILL leaves.
void leave_file(const std::string& path) { std::ofstream(path) << "half a GeoTIFF"; }

/// A temporary file of this process, made and held as a writer makes and holds it.
struct Held {
  explicit Held(const std::string& path) : file(path) {
    leave_file(path);
    file.hold();
  }
  TemporaryFile file;
};

TEST(StaleTemporaries, ANewTemporaryRemovesTheSameOutputsStaleOnesOnly) {
  test::TempDir dir;
  const std::string out = dir.file("out.tif");
  const std::string stale = temporary_path(out, 4001);
  const std::vector<std::string> others{temporary_path(dir.file("other.tif"), 4002),
                                        dir.file(".out.tif.tmp-x1"), dir.file(".out.tif.old-4003"),
                                        dir.file("out.tif.tmp-4004"), out};
  leave_file(stale);
  for (const auto& path : others) leave_file(path);
  const Held mine(temporary_path(out, 4005));
  EXPECT_TRUE(exists(mine.file.path()));
  EXPECT_FALSE(exists(stale));
  for (const auto& path : others) EXPECT_TRUE(exists(path)) << path;
}

TEST(StaleTemporaries, ALiveTemporaryOfThisProcessStays) {
  test::TempDir dir;
  const std::string out = dir.file("out.tif");
  const Held first(temporary_path(out, 5001));
  const Held second(temporary_path(out, 5002));
  EXPECT_TRUE(exists(first.file.path()));
  EXPECT_TRUE(exists(second.file.path()));
}

TEST(StaleTemporaries, AWritersFileStaysWhileItWrites) {
  test::TempDir dir;
  OutputSpec spec;
  spec.path = dir.file("out.tif");
  spec.size = {40, 30};
  spec.tile_width = 16;
  spec.tile_height = 16;
  GeoTiffWriter writer(spec);  // GDAL has made the file under the temporary name
  const TemporaryFile other(temporary_path(spec.path, 6001));
  EXPECT_TRUE(exists(writer.temporary_path()));
  spec.path = dir.file("out.h5");
  spec.format = OutputFormat::Hdf5;
  Hdf5ChunkWriter chunks(spec);  // HDF5 has made it
  const TemporaryFile another(temporary_path(spec.path, 6002));
  EXPECT_TRUE(exists(temporary_path(spec.path, getpid())));
}

/// A child process holds a temporary file of `out` and waits; returns its pid once it holds it.
pid_t child_holding(const std::string& out, int id) {
  int ready[2];
  EXPECT_EQ(pipe(ready), 0);
  const pid_t pid = fork();
  if (pid == 0) {
    const Held held(temporary_path(out, id));
    const char byte = 1;
    if (write(ready[1], &byte, 1) != 1) _exit(1);
    pause();
    _exit(0);
  }
  char byte = 0;
  EXPECT_EQ(read(ready[0], &byte, 1), 1);
  close(ready[0]);
  close(ready[1]);
  return pid;
}

TEST(StaleTemporaries, AnotherRunsFileStaysUntilItIsKilled) {
  test::TempDir dir;
  const std::string out = dir.file("out.tif");
  const pid_t child = child_holding(out, 7001);
  const std::string theirs = temporary_path(out, 7001);
  { const TemporaryFile mine(temporary_path(out, 7002)); }
  EXPECT_TRUE(exists(theirs));  // alive: left alone
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  EXPECT_TRUE(exists(theirs));  // SIGKILL removes nothing
  { const TemporaryFile mine(temporary_path(out, 7003)); }
  EXPECT_FALSE(exists(theirs));
}

}  // namespace
}  // namespace tessera::io

// Finished outputs move into place: a file already there is replaced without a rename over it,
// is kept when the new one cannot be placed, and nothing hidden is left behind.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "io_test_util.hpp"
#include "tessera/core/error.hpp"
#include "tessera/io/temporary_files.hpp"

namespace tessera::io {
namespace {

void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

ino_t inode(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
  return st.st_ino;
}

TEST(MoveIntoPlace, NewPathTakesTheFile) {
  test::TempDir dir;
  const std::string out = dir.file("out.tif");
  const std::string temporary = temporary_path(out, 7);
  write_text(temporary, "new");
  move_into_place(temporary, out, "out.tif");
  EXPECT_EQ(read_text(out), "new");
  EXPECT_EQ(dir.entries(), 1);
}

TEST(MoveIntoPlace, ExistingFileIsReplacedAndNothingHiddenStays) {
  test::TempDir dir;
  const std::string out = dir.file("out.tif");
  const std::string temporary = temporary_path(out, 7);
  write_text(out, "old");
  write_text(temporary, "new");
  const ino_t new_inode = inode(temporary);
  move_into_place(temporary, out, "out.tif");
  EXPECT_EQ(read_text(out), "new");
  EXPECT_EQ(inode(out), new_inode);  // the file itself, not a copy
  EXPECT_EQ(dir.entries(), 1);       // neither the temporary nor the old file left aside
}

TEST(MoveIntoPlace, ExistingFileComesBackWhenTheNewOneCannotBePlaced) {
  test::TempDir dir;
  const std::string out = dir.file("out.tif");
  write_text(out, "old");
  try {
    move_into_place(dir.file(".out.tif.tmp-gone"), out, "out.tif");
    FAIL() << "placed a file that does not exist";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.rfind("out.tif: cannot rename ", 0), 0u) << message;
    EXPECT_NE(message.find(".out.tif.tmp-gone"), std::string::npos) << message;
  }
  EXPECT_EQ(read_text(out), "old");
  EXPECT_EQ(dir.entries(), 1);
}

TEST(MoveIntoPlace, AFolderAtThePathIsNotMovedAside) {
  test::TempDir dir;
  const std::string out = dir.file("out.tif");
  std::filesystem::create_directory(out);
  write_text(out + "/inside", "kept");
  const std::string temporary = temporary_path(out, 7);
  write_text(temporary, "new");
  EXPECT_THROW(move_into_place(temporary, out, "out.tif"), Error);
  EXPECT_TRUE(std::filesystem::is_directory(out));
  EXPECT_EQ(read_text(out + "/inside"), "kept");
  EXPECT_EQ(read_text(temporary), "new");  // the caller's TemporaryFile removes it
  EXPECT_EQ(dir.entries(), 2);
}

}  // namespace
}  // namespace tessera::io

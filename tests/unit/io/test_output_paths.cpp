// What is at an output's path: only regular files may be replaced, and a file is known by its
// device and inode however its path is spelt.
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "io_test_util.hpp"
#include "tessera/core/error.hpp"
#include "tessera/io/output_paths.hpp"
#include "tessera/io/temporary_files.hpp"

namespace tessera::io {
namespace {

void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(OutputPaths, KindsOfWhatIsThere) {
  test::TempDir dir;
  write_text(dir.file("a.tif"), "a");
  ASSERT_EQ(mkfifo(dir.file("fifo").c_str(), 0600), 0);
  std::filesystem::create_directory(dir.file("folder"));
  std::filesystem::create_symlink(dir.file("fifo"), dir.file("to_fifo"));
  std::filesystem::create_symlink(dir.file("gone"), dir.file("dangling"));
  EXPECT_EQ(kind_of(dir.file("a.tif")), FileKind::Regular);
  EXPECT_EQ(kind_of(dir.file("fifo")), FileKind::Fifo);
  EXPECT_EQ(kind_of(dir.file("folder")), FileKind::Folder);
  EXPECT_EQ(kind_of(dir.file("to_fifo")), FileKind::Fifo);
  EXPECT_EQ(kind_of(dir.file("dangling")), FileKind::Missing);
  EXPECT_EQ(kind_of(dir.file("nothing")), FileKind::Missing);
  EXPECT_EQ(kind_of("/dev/null"), FileKind::CharDevice);
}

TEST(OutputPaths, OnlyNothingOrARegularFileIsReplaceable) {
  test::TempDir dir;
  write_text(dir.file("a.tif"), "a");
  ASSERT_EQ(mkfifo(dir.file("fifo").c_str(), 0600), 0);
  std::filesystem::create_directory(dir.file("folder"));
  EXPECT_FALSE(replace_problem(dir.file("a.tif")));
  EXPECT_FALSE(replace_problem(dir.file("nothing.tif")));
  EXPECT_EQ(*replace_problem("/dev/null"),
            "/dev/null: is a character device, not a regular file; tessera writes only regular "
            "files");
  EXPECT_NE(replace_problem(dir.file("fifo"))->find("fifo: is a fifo (named pipe)"),
            std::string::npos);
  EXPECT_NE(replace_problem(dir.file("folder"))->find("folder: is a folder"), std::string::npos);
  EXPECT_THROW(check_replaceable(dir.file("folder")), Error);
}

TEST(OutputPaths, ARegularFileIsKnownHoweverItIsNamed) {
  test::TempDir dir;
  const std::string a = dir.file("a.tif");
  write_text(a, "a");
  write_text(dir.file("b.tif"), "b");
  std::filesystem::create_symlink(a, dir.file("link.tif"));
  std::filesystem::create_hard_link(a, dir.file("hard.tif"));
  const auto id = regular_file_id(a);
  ASSERT_TRUE(id);
  EXPECT_EQ(regular_file_id(dir.file("./a.tif")), id);
  EXPECT_EQ(regular_file_id(dir.file("link.tif")), id);
  EXPECT_EQ(regular_file_id(dir.file("hard.tif")), id);
  EXPECT_NE(regular_file_id(dir.file("b.tif")), id);
  EXPECT_FALSE(regular_file_id(dir.file("nothing.tif")));
  EXPECT_FALSE(regular_file_id("/vsizip/" + a + "/x.tif"));
  EXPECT_FALSE(regular_file_id("NETCDF:\"" + a + "\":band"));
  EXPECT_FALSE(regular_file_id("/dev/null"));
}

TEST(OutputPaths, AnOutputNotYetWrittenIsKnownByItsFolderAndName) {
  test::TempDir dir;
  std::filesystem::create_directory(dir.file("sub"));
  const auto id = output_identity(dir.file("sub/x.tif"));
  ASSERT_TRUE(id);
  EXPECT_EQ(output_identity(dir.file("sub/./x.tif")), id);
  EXPECT_EQ(output_identity(dir.file("sub/../sub/x.tif")), id);
  EXPECT_NE(output_identity(dir.file("sub/y.tif")), id);
  EXPECT_NE(output_identity(dir.file("x.tif")), id);
  EXPECT_FALSE(output_identity(dir.file("nofolder/x.tif")));
  const std::string here = std::filesystem::current_path().string();
  std::filesystem::current_path(dir.file("sub"));
  EXPECT_EQ(output_identity("x.tif"), id);
  std::filesystem::current_path(here);
}

TEST(MoveIntoPlace, NeverReplacesAFifoAndKeepsTheTemporary) {
  test::TempDir dir;
  const std::string out = dir.file("out.tif");
  ASSERT_EQ(mkfifo(out.c_str(), 0600), 0);
  const std::string temporary = temporary_path(out, 7);
  write_text(temporary, "new");
  EXPECT_THROW(move_into_place(temporary, out, "out.tif"), Error);
  EXPECT_EQ(kind_of(out), FileKind::Fifo);
  EXPECT_EQ(kind_of(temporary), FileKind::Regular);
}

TEST(MoveIntoPlace, NeverReplacesACharacterDevice) {
  if (geteuid() != 0) GTEST_SKIP() << "mknod of a character device needs root";
  test::TempDir dir;
  const std::string out = dir.file("null");
  ASSERT_EQ(mknod(out.c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
  const std::string temporary = temporary_path(out, 7);
  write_text(temporary, "new");
  EXPECT_THROW(move_into_place(temporary, out, "null"), Error);
  EXPECT_EQ(kind_of(out), FileKind::CharDevice);
}

}  // namespace
}  // namespace tessera::io

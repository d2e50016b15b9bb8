// The journal: records come back as written, a record a kill cut short is dropped, a journal
// that is there unasked or is another job's is refused, and one that is not kept goes.
#include <sys/resource.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "io/io_test_util.hpp"
#include "journal.hpp"
#include "tessera/core/error.hpp"

namespace tessera::run {
namespace {

using io::test::TempDir;

plan::Plan plan_writing(const std::string& path) {
  plan::Plan plan;
  plan::PlannedOutput output;
  output.spec.path = path;
  plan.outputs.push_back(output);
  return plan;
}

JournalOptions options(JournalMode mode, const std::string& identity = "job") {
  return {true, mode, identity, "the job file job.toml", 30};
}

Bytes bytes_of(const std::string& text) {
  Bytes bytes;
  for (char c : text) bytes.push_back(static_cast<std::byte>(c));
  return bytes;
}

std::string message_of(const plan::Plan& plan, const JournalOptions& o) {
  try {
    Journal journal(plan, o);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

/// A fresh journal of `plan` given its records by `fill` and kept, as a stopped run leaves it:
/// its path.
template <class Fill>
std::string kept_journal(const plan::Plan& plan, Fill fill) {
  Journal journal(plan, options(JournalMode::Fresh));
  fill(journal);
  journal.keep();
  return journal.path();
}

TEST(Journal, RecordsComeBackToTheRunThatResumes) {
  TempDir dir;
  const plan::Plan plan = plan_writing(dir.file("out.tif"));
  int64_t id = 0;
  {
    Journal journal(plan, options(JournalMode::Fresh));
    EXPECT_FALSE(journal.resuming());
    id = journal.id();
    journal.append(1, 0, {bytes_of("first"), bytes_of("second")});
    journal.append(1, 2, {bytes_of("other sink")});
    journal.append_result(0, bytes_of("reduced"));
    journal.keep();
  }
  Journal resumed(plan, options(JournalMode::Resume));
  EXPECT_TRUE(resumed.resuming());
  EXPECT_EQ(resumed.id(), id);  // the temporary files keep the first run's names
  ASSERT_EQ(resumed.records(1, 0).size(), 2u);
  EXPECT_EQ(resumed.records(1, 0)[1], bytes_of("second"));
  EXPECT_EQ(resumed.records(1, 2).at(0), bytes_of("other sink"));
  EXPECT_TRUE(resumed.records(0, 0).empty());
  ASSERT_NE(resumed.result(0), nullptr);
  EXPECT_EQ(*resumed.result(0), bytes_of("reduced"));
}

TEST(Journal, ARecordCutShortIsDroppedAndTheFileCutBeforeIt) {
  TempDir dir;
  const plan::Plan plan = plan_writing(dir.file("out.tif"));
  const std::string path =
      kept_journal(plan, [](Journal& journal) { journal.append(1, 0, {bytes_of("whole")}); });
  const auto whole = std::filesystem::file_size(path);
  {
    std::ofstream torn(path, std::ios::binary | std::ios::app);
    torn << std::string("\x20\x00\x00\x00garbage", 11);  // a length, then less than it says
  }
  {
    Journal resumed(plan, options(JournalMode::Resume));
    EXPECT_EQ(resumed.records(1, 0).size(), 1u);
    EXPECT_EQ(std::filesystem::file_size(path), whole);
    resumed.append(1, 0, {bytes_of("after")});
    resumed.keep();
  }
  Journal again(plan, options(JournalMode::Resume));
  ASSERT_EQ(again.records(1, 0).size(), 2u);
  EXPECT_EQ(again.records(1, 0)[1], bytes_of("after"));
}

TEST(Journal, OneThereUnaskedOrForAnotherJobIsRefused) {
  TempDir dir;
  const plan::Plan plan = plan_writing(dir.file("out.tif"));
  {
    Journal journal(plan, options(JournalMode::Fresh));
    journal.keep();
  }
  EXPECT_NE(message_of(plan, options(JournalMode::Fresh)).find("--resume continues that run"),
            std::string::npos);
  const std::string other = message_of(plan, options(JournalMode::Resume, "another job"));
  EXPECT_NE(other.find("the job file job.toml is not the one it was for"), std::string::npos);
  EXPECT_NE(other.find("--restart starts over"), std::string::npos);
  Journal restarted(plan, options(JournalMode::Restart, "another job"));
  EXPECT_FALSE(restarted.resuming());
}

TEST(Journal, AFinishedPassesStageResultChangedSinceIsRefused) {
  TempDir dir;
  // Pass 1 writes a scratch raster (a stage result) that pass 2 reads as input 0.
  plan::Plan plan = plan_writing(dir.file("out.tif"));
  const std::string stage = dir.file(".out.tif.fel.stage.tif");
  plan::PlannedOutput scratch;
  scratch.spec.path = stage;
  scratch.scratch = true;
  plan.outputs.push_back(scratch);
  RasterInfo info;
  info.path = stage;
  plan.inputs.push_back(info);
  plan.stages.push_back({0, 0, 1});
  plan.passes.resize(2);
  plan.passes[0].outputs = {1};
  plan.passes[1].outputs = {0};
  ASSERT_EQ(stage_files(plan, 0), std::vector<std::string>{stage});
  EXPECT_TRUE(stage_files(plan, 1).empty());
  std::ofstream(stage) << "the cells pass 1 wrote";
  const std::string path =
      kept_journal(plan, [&](Journal& journal) { journal.append_done(0, stage_files(plan, 0)); });
  {
    Journal resumed(plan, options(JournalMode::Resume));  // as pass 1 left it
    EXPECT_TRUE(resumed.done(0));
    resumed.keep();
  }
  std::ofstream(stage, std::ios::app) << ", and more";
  EXPECT_NE(message_of(plan, options(JournalMode::Resume))
                .find(stage + " changed since pass 1 of the run wrote it"),
            std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(path));  // kept, for the file put back or --restart
  std::filesystem::remove(stage);
  EXPECT_NE(message_of(plan, options(JournalMode::Resume)).find(stage + " changed since"),
            std::string::npos);
}

// A resumed run that failed removed the journal, and with it the passes that had ended.
TEST(Journal, AFailedResumeKeepsThePassesThatEndedAndDropsTheOutputsRecords) {
  TempDir dir;
  plan::Plan plan = plan_writing(dir.file("out.tif"));
  plan.passes.resize(4);
  const std::string path = kept_journal(plan, [](Journal& journal) {
    journal.append(0, 0, {bytes_of("a tile of pass 1")});
    journal.append_done(0, {});
    journal.append_result(1, bytes_of("reduced"));
    journal.append(2, 0, {bytes_of("a tile of pass 3")});
  });
  {
    Journal resumed(plan, options(JournalMode::Resume));
    resumed.append(2, 0, {bytes_of("another tile of pass 3")});
    resumed.append_result(3, bytes_of("solved"));
    EXPECT_TRUE(resumed.keep_ended_passes());  // pass 3's outputs, say, found a full disk
  }
  ASSERT_TRUE(std::filesystem::exists(path));
  Journal again(plan, options(JournalMode::Resume));
  EXPECT_TRUE(again.resuming());
  EXPECT_TRUE(again.done(0));
  ASSERT_NE(again.result(1), nullptr);
  EXPECT_EQ(*again.result(1), bytes_of("reduced"));
  ASSERT_NE(again.result(3), nullptr);
  EXPECT_EQ(*again.result(3), bytes_of("solved"));
  EXPECT_TRUE(again.records(0, 0).empty());  // their temporary files went with the failure
  EXPECT_TRUE(again.records(2, 0).empty());
}

TEST(Journal, AFailedResumeWithNothingEndedLeavesNothing) {
  TempDir dir;
  const plan::Plan plan = plan_writing(dir.file("out.tif"));
  const std::string path =
      kept_journal(plan, [](Journal& journal) { journal.append(0, 0, {bytes_of("a tile")}); });
  {
    Journal resumed(plan, options(JournalMode::Resume));
    EXPECT_FALSE(resumed.keep_ended_passes());
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(Journal, ARecordTheDiskCutsShortSaysWhy) {
  TempDir dir;
  const plan::Plan plan = plan_writing(dir.file("out.tif"));
  Journal journal(plan, options(JournalMode::Fresh));
  // The file may grow 5 bytes more: a record's write is cut short there, as on a disk that
  // fills, and sets no errno; the rest's write then fails with EFBIG.
  const auto size = std::filesystem::file_size(journal.path());
  rlimit before{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &before), 0);
  rlimit limit = before;
  limit.rlim_cur = size + 5;
  const auto handler = std::signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limit), 0);
  errno = ENOTTY;  // what an earlier isatty() leaves
  std::string message;
  try {
    journal.append(1, 0, {bytes_of("a record longer than five bytes")});
  } catch (const Error& e) {
    message = e.what();
  }
  setrlimit(RLIMIT_FSIZE, &before);
  std::signal(SIGXFSZ, handler);
  EXPECT_EQ(message, journal.path() + ": cannot write the journal: " + std::strerror(EFBIG));
}

TEST(Journal, OneNotKeptGoesWithItsRun) {
  TempDir dir;
  const plan::Plan plan = plan_writing(dir.file("out.tif"));
  {
    Journal journal(plan, options(JournalMode::Fresh));
    journal.append(1, 0, {bytes_of("tiles")});
  }
  EXPECT_EQ(dir.entries(), 0);
  Journal fresh(plan, options(JournalMode::Resume));  // nothing to resume: from the beginning
  EXPECT_FALSE(fresh.resuming());
}

}  // namespace
}  // namespace tessera::run

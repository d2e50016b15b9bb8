// MPI for a whole GoogleTest binary: one run of every test, alone or under mpirun.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "tessera/par/environment.hpp"

namespace tessera::test {

/// Initialises MPI before the first test and finalises it after the last: a singleton run when
/// started alone, every rank when started by mpirun.
class MpiForTests : public ::testing::Environment {
 public:
  void SetUp() override {
    int argc = 0;
    char** argv = nullptr;
    env_ = std::make_unique<par::Environment>(argc, argv);
  }
  void TearDown() override {
    env_->set_exit_status(::testing::UnitTest::GetInstance()->Passed() ? 0 : 1);
    env_.reset();
  }

 private:
  std::unique_ptr<par::Environment> env_;
};

}  // namespace tessera::test

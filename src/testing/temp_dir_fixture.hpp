#pragma once

// A GoogleTest fixture owning a fresh TempDir: `using MyTest = aloft::testing::TempDirTest;`.

#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "testing/temp_dir.hpp"

namespace aloft::testing {

class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto temp = TempDir::Create();
    ASSERT_TRUE(temp) << temp.error().ToString();
    temp_.emplace(std::move(*temp));
    dir_ = temp_->path();
  }

  // The names directly inside dir_, sorted.
  std::vector<std::string> Entries() const { return temp_->Entries(); }

  std::optional<TempDir> temp_;
  std::filesystem::path dir_;
};

}  // namespace aloft::testing

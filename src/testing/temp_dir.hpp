#pragma once

// A fresh directory for one test, removed with everything in it when the owner goes away.

#include <filesystem>
#include <string>
#include <vector>

#include "core/base/result.hpp"

namespace aloft::testing {

class TempDir {
 public:
  // Creates "$TMPDIR/aloft-test-XXXXXX" (TMPDIR defaults to /tmp), mode 0700.
  static Result<TempDir> Create();

  TempDir(TempDir&& other) noexcept : path_(std::exchange(other.path_, {})) {}
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  const std::filesystem::path& path() const noexcept { return path_; }
  // The names directly inside the directory, sorted.
  std::vector<std::string> Entries() const;

 private:
  explicit TempDir(std::filesystem::path path) : path_(std::move(path)) {}

  std::filesystem::path path_;
};

}  // namespace aloft::testing

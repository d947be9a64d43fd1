#pragma once

// The three commands of aloft-tuf-client; main.cpp only parses arguments.

#include <filesystem>
#include <string>
#include <vector>

#include "core/base/result.hpp"

namespace aloft::cli::tuf_client {

struct Options {
  std::filesystem::path metadata_dir;
  std::string metadata_url;
  std::vector<std::string> target_names;
  std::filesystem::path target_dir;
  std::string target_base_url;
  std::size_t max_root_rotations = 256;
};

// Copies the trusted root into the metadata directory; makes no network request. The root
// is parsed and checked against its own signatures first, so a broken root fails here.
Status Init(const Options& opts, const std::filesystem::path& trusted_root);
// Top-level metadata refresh (TUF §5.3–5.6).
Status Refresh(const Options& opts);
// Refresh, then for each target in order: look it up, reuse a verified cached copy or
// download, verify and store it atomically under the percent-encoded target path.
Status Download(const Options& opts);

}  // namespace aloft::cli::tuf_client

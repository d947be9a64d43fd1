#pragma once

// `aloftctl delta create OLD NEW PATCH` and `aloftctl delta apply OLD PATCH OUT`: core's delta
// engine on files, for people who build their own pipelines and for bench/delta. Both map
// their inputs read-only; apply streams the patch file and writes OUT through a temporary
// file that is fsynced and renamed only once the result has the patch's SHA-256.

#include <string>

#include "cli/aloftctl/commands/context.hpp"

namespace aloft::cli::aloftctl::commands {

struct DeltaCreateArgs {
  std::string source;  // OLD
  std::string target;  // NEW
  std::string patch;   // PATCH (written)
  int level = 19;
  int prefix_window_mib = 32;
};
int DeltaCreate(Context& ctx, const DeltaCreateArgs& args);

struct DeltaApplyArgs {
  std::string source;  // OLD
  std::string patch;   // PATCH
  std::string output;  // OUT (written)
};
int DeltaApply(Context& ctx, const DeltaApplyArgs& args);

}  // namespace aloft::cli::aloftctl::commands

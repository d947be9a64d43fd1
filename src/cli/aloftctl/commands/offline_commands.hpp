#pragma once

// The commands that work on the offline repository alone (no server): keys init/show/rotate,
// release create/sign/status/revoke and the staged release list. Each returns an exit code
// and prints a table, or JSON with --json.

#include <string>
#include <vector>

#include "cli/aloftctl/commands/context.hpp"
#include "cli/aloftctl/release/artifact.hpp"

namespace aloft::cli::aloftctl::commands {

struct KeysInitArgs {
  int root_keys = 1;
  int root_threshold = 1;
  int targets_keys = 1;
  int targets_threshold = 1;
  std::string online_keys;  // file
  int expires_days = 365;
  std::string key_type = "ed25519";
};
int KeysInit(Context& ctx, const KeysInitArgs& args);

int KeysShow(Context& ctx);

struct KeysRotateArgs {
  std::string role;   // root, targets, online
  int keys = 0;       // 0: as before
  int threshold = 0;  // 0: as before
  std::string online_keys;
  std::vector<std::string> sign_with;  // key files that sign the new root now
  int expires_days = 365;
  int targets_expires_days = 365;
};
int KeysRotate(Context& ctx, const KeysRotateArgs& args);

struct ReleaseCreateArgs {
  std::string image;
  std::string version;
  std::vector<std::string> hardware;
  std::int64_t security_counter = 0;
  std::string notes;
  std::string name;
  int zstd_level = release::ZstdSettings{}.level;
  int zstd_window_log = release::ZstdSettings{}.window_log;
  int expires_days = 365;
  // Older images to stage deltas from: staged release names or versions, or image files.
  std::vector<std::string> delta_from;
};
int ReleaseCreate(Context& ctx, const ReleaseCreateArgs& args);

struct ReleaseSignArgs {
  std::string key;   // key file
  std::string role;  // "", "root" or "targets"
};
int ReleaseSign(Context& ctx, const ReleaseSignArgs& args);

int ReleaseStatus(Context& ctx);
int ReleaseRevoke(Context& ctx, const std::string& name, int expires_days);
int ReleaseListStaged(Context& ctx);

}  // namespace aloft::cli::aloftctl::commands

#pragma once

// The commands that talk to aloftd's management API (see /api/v1 in docs/api): login, the
// online keys, uploads, releases, devices, enrollment tokens, deployments, audit and users.
// Each returns an exit code; with --json it prints the server's answer as it came.

#include <cstdint>
#include <string>
#include <vector>

#include "cli/aloftctl/commands/context.hpp"
#include "cli/aloftctl/commands/deploy_spec.hpp"

namespace aloft::cli::aloftctl::commands {

struct LoginArgs {
  std::string username;
  std::string password_file;
  std::string new_password_file;  // for the first login, which must replace the one-time password
  std::string totp;
  std::string token_name;
  std::string token_role;
  int token_days = 30;
};
int Login(Context& ctx, const LoginArgs& args);

// The online pair the offline root must name; with `rotate`, a new pair staged on the server.
int OnlineKeys(Context& ctx, const std::string& output_file, bool rotate);
int RepoUploadRoot(Context& ctx);
// The Director's root.json: the second trust anchor to provision into device images (with the
// Image repository's metadata/1.root.json).
int RepoDirectorRoot(Context& ctx, const std::string& output_file);
int ReleaseUpload(Context& ctx, bool skip_artifacts);
int ReleaseList(Context& ctx);
int ReleaseShow(Context& ctx, const std::string& name);
int ReleaseDeltas(Context& ctx);  // the deltas aloftd built itself

struct DeviceListArgs {
  std::string status, hardware, tag, after;
  int limit = 0;
};
int DeviceList(Context& ctx, const DeviceListArgs& args);
int DeviceShow(Context& ctx, const std::string& id);
// `action`: "accept", "reject" or "revoke".
int DeviceDecide(Context& ctx, const std::string& id, const std::string& action);
int DevicePreauthorize(Context& ctx, const std::string& id, const std::string& hardware,
                       const std::string& public_key_file);
int EnrollTokenCreate(Context& ctx, int uses, int valid_hours);

struct DeployCreateArgs {
  std::string release;
  DeploySelector selector;
  std::string phases = "100%";
  std::string phase_wait = "10m";
  int failure_threshold = 10;
  int min_devices = 1;
  std::string deadline = "1h";
  std::string window;
};
int DeployCreate(Context& ctx, const DeployCreateArgs& args);
int DeployList(Context& ctx, const std::string& state);
int DeployStatus(Context& ctx, const std::string& id);
// `action`: "pause", "resume" or "cancel".
int DeployAction(Context& ctx, const std::string& id, const std::string& action,
                 const std::string& reason);
int DeployPauseAll(Context& ctx, const std::string& reason);

int AuditList(Context& ctx, std::int64_t after, int limit);
int AuditVerify(Context& ctx);
int AuditExport(Context& ctx, const std::string& output_file);

int UserAdd(Context& ctx, const std::string& name, const std::string& role);
int UserList(Context& ctx);
int UserRole(Context& ctx, const std::string& name, const std::string& role);

}  // namespace aloft::cli::aloftctl::commands

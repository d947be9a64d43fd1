#pragma once

// What an operator must watch in the repositories: when each role's metadata expires, how old
// the online keys are, the offline root's thresholds and keys. The console's security page.
//
//   GET /api/v1/repo/status   releases.read

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/base/time.hpp"
#include "server/api/management_common.hpp"
#include "server/http/router.hpp"
#include "server/repo/repo_store.hpp"

namespace aloft::server::api {

// One online signing key as the server holds it.
struct OnlineKeyInfo {
  std::string name;   // "image-snapshot", ... (the key file's name)
  std::string keyid;
  std::optional<Timestamp> created_at;  // when its key file was written; unknown in memory-only setups
};

struct RepoStatusDeps {
  OperatorGate gate;
  repo::RepoStore& store;
  std::function<std::vector<OnlineKeyInfo>()> online_keys;
  const Clock& clock;
};

Status RegisterRepoStatusRoutes(http::Router& router, RepoStatusDeps& deps);

}  // namespace aloft::server::api

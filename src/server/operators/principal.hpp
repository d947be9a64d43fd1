#pragma once

// The authenticated operator behind a management request.

#include <cstdint>
#include <string>

#include "core/base/time.hpp"
#include "server/operators/roles.hpp"

namespace aloft::server::operators {

struct Principal {
  enum class Via : std::uint8_t { kSession, kToken };

  std::string username;
  Role role = Role::kViewer;       // the role in force: the user's, or the API token's
  Role user_role = Role::kViewer;  // the user's role now (a token never acts beyond it)
  Via via = Via::kSession;
  bool must_change_password = false;
  // The earlier of the idle and the absolute expiry (sessions) or the token's expiry.
  Timestamp expires{};

  std::string session_hash;  // sessions: SHA-256 of the cookie secret (never the secret)
  std::string csrf_token;    // sessions: what X-CSRF-Token must carry on non-GET requests
  std::string token_id;      // tokens

  // A token's role may have been within its owner's role when made and exceed it after the
  // owner was demoted: both must grant the permission.
  bool Can(Permission permission) const noexcept {
    return HasPermission(role, permission) && HasPermission(user_role, permission);
  }
};

}  // namespace aloft::server::operators

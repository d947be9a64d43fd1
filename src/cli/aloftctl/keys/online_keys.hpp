#pragma once

// The server's online Image repository keys, as GET /api/v1/online-keys and `aloftd repo-keys`
// print them:
//   {"snapshot": {"keyid": "...", "key": {TUF key}}, "timestamp": {...}, ...}
// The offline root must list exactly these for the snapshot and timestamp roles.

#include <string_view>

#include "core/base/result.hpp"
#include "core/codec/json.hpp"
#include "core/crypto/keys.hpp"

namespace aloft::cli::aloftctl::keys {

struct OnlinePublicKeys {
  core::crypto::PublicKey snapshot;
  core::crypto::PublicKey timestamp;
};

// Parses the document above; other members ("director") are ignored. Each "keyid" must be
// the key's TUF key id (a copy-paste mix-up is kInvalidArgument, not a silently wrong root);
// snapshot and timestamp must be different keys.
Result<OnlinePublicKeys> ParseOnlineKeys(const core::codec::Json& document);
Result<OnlinePublicKeys> ParseOnlineKeysText(std::string_view text);

}  // namespace aloft::cli::aloftctl::keys

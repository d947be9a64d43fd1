#pragma once

// The private keys aloftd signs with while it runs. Only roles that must be re-signed without
// an operator are here: the Image repository's snapshot and timestamp, and every role of the
// Director. The Image repository's root and targets keys are offline and never reach the
// server, which is what keeps a compromised server from releasing software.

#include <filesystem>

#include "core/base/result.hpp"
#include "core/crypto/keys.hpp"

namespace aloft::server::repo {

struct OnlineKeys {
  core::crypto::PrivateKey image_snapshot;
  core::crypto::PrivateKey image_timestamp;
  core::crypto::PrivateKey director_root;
  core::crypto::PrivateKey director_targets;
  core::crypto::PrivateKey director_snapshot;
  core::crypto::PrivateKey director_timestamp;

  // Reads "<name>.pem" (PKCS#8, unencrypted, mode 0600) for each key from `secrets_dir`,
  // generating an ed25519 key for each file that does not exist yet; the directory is created
  // 0700 when missing. Names: image-snapshot, image-timestamp, director-root,
  // director-targets, director-snapshot, director-timestamp.
  // Errors: a key file readable by group or others, unreadable or not a key → that error with
  // the file named (never replaced: a lost key would orphan every device's trusted root);
  // kIo/kNoSpace when a new key cannot be written.
  static Result<OnlineKeys> LoadOrCreate(const std::filesystem::path& secrets_dir);

  // Fresh keys in memory only, for tests and tools.
  static Result<OnlineKeys> Generate();
};

}  // namespace aloft::server::repo

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

  // Reads "<name>.pem" for each key from `secrets_dir` — PKCS#8 encrypted (scrypt + AES) with
  // the key-encryption key `kek`, mode 0600 — generating an ed25519 key for each file that does
  // not exist yet; the directory is created 0700 when missing. Names: image-snapshot,
  // image-timestamp, director-root, director-targets, director-snapshot, director-timestamp.
  // Envelope encryption: the KEK comes from a file or the environment chosen by the operator,
  // never from the database or the secrets directory, so a copy of the data directory (a
  // backup, a stolen disk) does not carry usable signing keys. A key file found unencrypted
  // (written by an earlier version) is re-written encrypted.
  // Errors: kInvalidArgument for a KEK shorter than 32 characters; kVerificationFailed naming
  // the file when the KEK does not decrypt it; a key file readable by group or others,
  // unreadable or not a key → that error with the file named (never replaced: a lost key
  // would orphan every device's trusted root); kIo/kNoSpace when a key cannot be written.
  static Result<OnlineKeys> LoadOrCreate(const std::filesystem::path& secrets_dir,
                                         std::string_view kek);

  // Fresh keys in memory only, for tests and tools.
  static Result<OnlineKeys> Generate();
};

}  // namespace aloft::server::repo

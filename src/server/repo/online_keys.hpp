#pragma once

// The private keys aloftd signs with while it runs. Only roles that must be re-signed without
// an operator are here: the Image repository's snapshot and timestamp, and every role of the
// Director. The Image repository's root and targets keys are offline and never reach the
// server, which is what keeps a compromised server from releasing software.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/result.hpp"
#include "core/crypto/keys.hpp"

namespace aloft::server::repo {

// The Image repository's online pair: the keys its offline root names for snapshot and
// timestamp. The pair can be rotated while aloftd runs (OnlineKeyRotation).
struct ImageOnlineKeys {
  core::crypto::PrivateKey snapshot;
  core::crypto::PrivateKey timestamp;
};

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

  ImageOnlineKeys ImagePair() const { return {image_snapshot, image_timestamp}; }
};

// Rotation of the Image repository's online pair, on disk. The next pair is staged beside the
// current one as "image-snapshot.next.pem" and "image-timestamp.next.pem", encrypted with the
// KEK like every online key, so operators can sign a root that names it; once that root is
// published, PromoteNext renames the staged files over the current ones. The rename is the
// commit point on disk: a crash before it leaves the staged pair staged, and aloftd finishes
// the promotion at its next start when it finds the published root naming that pair.
class OnlineKeyRotation {
 public:
  OnlineKeyRotation(std::filesystem::path secrets_dir, std::string kek)
      : dir_(std::move(secrets_dir)), kek_(std::move(kek)) {}

  // The staged pair; nullopt when none is staged. Errors as OnlineKeys::LoadOrCreate.
  Result<std::optional<ImageOnlineKeys>> LoadNext() const;
  // Generates and stores a new pair as the staged one. kAlreadyExists when one is staged.
  Result<ImageOnlineKeys> StageNext() const;
  // Makes the staged pair the current one on disk. kNotFound when nothing is staged.
  Status PromoteNext() const;
  // Completes a PromoteNext that a crash cut short (its timestamp key moved, its snapshot key
  // not yet). Returns whether there was one. Call before LoadNext at start-up.
  Result<bool> FinishInterruptedPromotion() const;

 private:
  std::filesystem::path dir_;
  std::string kek_;
};

}  // namespace aloft::server::repo

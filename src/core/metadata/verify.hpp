#pragma once

// The two checks everything else rests on: enough distinct keys signed (§5.3.4, §5.4.3, ...)
// and these bytes are the ones described (length and hashes, §5.5.2, §5.6.2, §5.7.3).

#include <string_view>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "core/crypto/hash.hpp"
#include "core/metadata/model.hpp"

namespace aloft::core::metadata {

// Ok() when at least `role.threshold` of `role.keyids` have a valid signature over
// `canonical`. Each key counts once: by key ID, and by key material, so one key listed under
// two IDs cannot meet a threshold of two. Unknown, unsupported or unlisted key IDs and bad
// signatures are skipped, not fatal: another signer may still meet the threshold.
// Fails with kVerificationFailed naming `role_name` and the count reached.
Status VerifyThreshold(std::string_view role_name, std::string_view canonical,
                       const std::vector<Signature>& signatures, const KeyRing& keys,
                       const RoleKeys& role);

template <class T>
Status VerifyThreshold(std::string_view role_name, const Untrusted<T>& md, const KeyRing& keys,
                       const RoleKeys& role) {
  return VerifyThreshold(role_name, md.canonical, md.signatures, keys, role);
}

// Streaming check of a payload against a length and hashes: feed with Update as bytes
// arrive; Update fails as soon as more than `length` bytes came (endless data), and Finish
// checks the exact length and every hash whose algorithm we know (at least one must be
// known). Errors are kVerificationFailed (kTooLarge for surplus bytes) and name `what`.
class PayloadVerifier {
 public:
  static Result<PayloadVerifier> Create(std::string what, std::int64_t length,
                                        const Hashes& hashes);
  Status Update(ByteView data);
  Status Finish();
  std::uint64_t received() const noexcept { return received_; }

 private:
  PayloadVerifier(std::string what, std::uint64_t length) : what_(std::move(what)), length_(length) {}
  struct Expected {
    crypto::Hasher hasher;
    Bytes digest;
    std::string algorithm;
  };
  std::string what_;
  std::uint64_t length_;
  std::uint64_t received_ = 0;
  std::vector<Expected> expected_;
};

// One-shot form for bytes already in memory.
Status VerifyLengthAndHashes(std::string_view what, ByteView data, std::int64_t length,
                             const Hashes& hashes);
// For metadata files, where length and hashes are optional (§5.5.2: only when present).
Status VerifyMetaFile(std::string_view what, ByteView data, const MetaFile& meta);

}  // namespace aloft::core::metadata

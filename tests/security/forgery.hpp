#pragma once

// What an attacker holding stolen online keys can sign: a new snapshot and timestamp over a
// targets file of their choosing, chained onto a repository's current metadata exactly as
// aloftd would have done it (versions + 1, lengths and hashes of the forged files).

#include <cstdint>
#include <map>
#include <string>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "core/codec/json.hpp"
#include "core/crypto/keys.hpp"

namespace aloft::security {

struct ForgedChain {
  std::map<std::string, Bytes> files;  // URL path → bytes ("/api/v1/director/timestamp.json")
  std::int64_t targets_version = 0;
};

// `timestamp` and `snapshot` are the repository's current files; `targets_signed` the
// "signed" object the attacker wants (its version is set here). `prefix` is the repository's
// URL path ("/api/v1/director/").
Result<ForgedChain> ForgeChain(ByteView timestamp, ByteView snapshot,
                               core::codec::Json targets_signed,
                               const core::crypto::PrivateKey& targets_key,
                               const core::crypto::PrivateKey& snapshot_key,
                               const core::crypto::PrivateKey& timestamp_key,
                               const std::string& prefix);

// An artifact of exactly `length` bytes that decompresses cleanly to `image`: a zstd frame
// (with its own valid checksum) padded with a skippable frame. Only the signed hashes can
// tell it from the real one. kInvalidArgument when `image` does not compress small enough.
Result<Bytes> ForgeArtifact(ByteView image, std::size_t length);

// The "signed" object of a metadata file.
Result<core::codec::Json> SignedPart(ByteView envelope);

}  // namespace aloft::security

#pragma once

// The repository the metadata_verify target trusts: fixed ed25519 keys (test keys, public in
// this file on purpose) and a fixed root v1, so that signed seeds in the corpus keep verifying
// from one run to the next (ed25519 signatures are deterministic). aloft_fuzz_seeds signs the
// rest of the repository (timestamp, snapshot, targets, delegations, root v2) with the same
// keys.

#include <string_view>

#include "core/base/bytes.hpp"
#include "core/base/time.hpp"
#include "core/crypto/keys.hpp"

namespace aloft::fuzz {

// The private key of a top-level role ("root", "timestamp", "snapshot", "targets") or of the
// delegated role "delegated".
const core::crypto::PrivateKey& FixedKey(std::string_view role);

// When the repository was made (2030-01-01T00:00:00Z); every role expires a year later.
Timestamp FixedRepoTime();

// The time the fuzzer verifies at: one day after FixedRepoTime().
Timestamp FixedReferenceTime();

// Root v1: one key per top-level role, threshold 1, consistent snapshots, signed by the root
// key. Byte for byte the same on every call and every run.
const Bytes& FixedTrustedRoot();

}  // namespace aloft::fuzz

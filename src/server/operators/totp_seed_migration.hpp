#pragma once

// Start-up conversion of TOTP seeds that an older aloftd stored in the clear.
//
// Choice: convert every plaintext seed once, when aloftd starts (the KEK is loaded then
// anyway), rather than on first read. After this step no plaintext seed remains in the
// database even for operators who never sign in again, and the login path only ever accepts
// sealed seeds (a plaintext seed written into the database later is refused, not trusted).

#include <cstdint>

#include "core/base/result.hpp"
#include "server/operators/operator_store.hpp"
#include "server/operators/totp_seed_cipher.hpp"

namespace aloft::server::operators {

// Seals each active and pending TOTP seed that is not yet sealed, with a compare-and-set per
// seed so a concurrent change is never overwritten. Idempotent: returns how many seeds it
// converted (0 on every run after the first). Store errors are returned; nothing is logged.
Result<std::int64_t> SealPlaintextTotpSeeds(OperatorStore& store, const TotpSeedCipher& cipher);

}  // namespace aloft::server::operators

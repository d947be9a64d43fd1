#pragma once

// TOTP seeds encrypted at rest. The server must read a seed back to check a code, so it
// cannot be hashed like a password; it is sealed instead with AES-256-GCM under a key derived
// from aloftd's key-encryption key (the KEK of the online signing keys, server/app/kek.hpp:
// a 0600 file or the environment, never the database). A copy of the database alone (a
// backup, a stolen disk) therefore carries no usable second factor.
//
//   key        = HKDF-SHA256(ikm = KEK, salt = "aloft", info = "aloft/totp-seed/v1"), 32 bytes
//   stored     = "ATS1" || nonce (12 random bytes) || ciphertext || GCM tag (16 bytes)
//   associated = "aloft/totp-seed/v1/" || username
//
// The username is bound as associated data, so a sealed seed copied onto another operator's
// row does not open. The cryptography is core::crypto's (OpenSSL's HKDF and AES-256-GCM).
//
// Thread-safety: Seal and Open are const and may run concurrently. The derived key is wiped
// when the object goes away.

#include <array>
#include <cstdint>
#include <string_view>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"

namespace aloft::server::operators {

class TotpSeedCipher {
 public:
  static constexpr std::size_t kKeyBytes = 32;
  static constexpr std::size_t kNonceBytes = 12;
  static constexpr std::size_t kTagBytes = 16;
  static constexpr std::string_view kMagic = "ATS1";

  // Derives the sealing key from `kek`. kInvalidArgument for a KEK shorter than 32
  // characters (the same floor as the online keys'); kInternal when OpenSSL fails.
  static Result<TotpSeedCipher> Create(std::string_view kek);

  TotpSeedCipher(const TotpSeedCipher& other) = default;
  TotpSeedCipher& operator=(const TotpSeedCipher& other) = default;
  ~TotpSeedCipher();

  // A fresh random nonce each call. kInvalidArgument for an empty seed.
  Result<Bytes> Seal(ByteView seed, std::string_view username) const;

  // The seed, when `stored` was sealed by Seal for this username under this KEK.
  // kVerificationFailed when it does not open: tampered, moved from another operator's row,
  // or sealed under another KEK; kCorrupt when it is not a sealed seed at all (for example a
  // plaintext seed an older aloftd wrote: SealPlaintextTotpSeeds converts those at start-up).
  Result<Bytes> Open(ByteView stored, std::string_view username) const;

  // Whether `stored` has the sealed form (magic and length); says nothing about its
  // authenticity. Plaintext seeds of older versions are 20 random bytes, never this form.
  static bool IsSealed(ByteView stored) noexcept;

 private:
  TotpSeedCipher() = default;
  std::array<std::uint8_t, kKeyBytes> key_{};
};

// Overwrites a decrypted seed before its memory is released.
void WipeSeed(Bytes& seed) noexcept;

}  // namespace aloft::server::operators

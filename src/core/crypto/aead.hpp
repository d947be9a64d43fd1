#pragma once

// Authenticated encryption and key derivation for secrets kept at rest (aloftd's operators'
// TOTP seeds): AES-256-GCM (NIST SP 800-38D) and HKDF-SHA256 (RFC 5869), both OpenSSL's.

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"

namespace aloft::core::crypto {

inline constexpr std::size_t kAes256GcmKeyBytes = 32;
inline constexpr std::size_t kAes256GcmNonceBytes = 12;
inline constexpr std::size_t kAes256GcmTagBytes = 16;

// `length` bytes (1..8160) derived from `ikm` with `salt` and `info` (RFC 5869).
Result<Bytes> HkdfSha256(ByteView ikm, ByteView salt, ByteView info, std::size_t length);

// Encrypts `plaintext` under `key` (32 bytes) with a fresh random nonce, authenticating
// `associated` too: returns nonce (12) || ciphertext || tag (16).
Result<Bytes> Aes256GcmSeal(ByteView key, ByteView plaintext, ByteView associated);

// Opens Aes256GcmSeal's output. kVerificationFailed when the tag does not match (altered
// bytes, another key or other associated data): no decrypted byte is returned then.
// kInvalidArgument for a key of the wrong size or input shorter than nonce + tag.
Result<Bytes> Aes256GcmOpen(ByteView key, ByteView sealed, ByteView associated);

// Overwrites `bytes` in a way the compiler may not optimise away.
void Cleanse(std::span<std::uint8_t> bytes) noexcept;

}  // namespace aloft::core::crypto

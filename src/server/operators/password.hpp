#pragma once

// Operator passwords: Argon2id (RFC 9106) in the PHC string format
// ("$argon2id$v=19$m=65536,t=3,p=1$<salt>$<hash>"), the password policy, and one-time
// passwords for new accounts. Only the encoded hash is ever stored; passwords are never
// logged.
//
// Thread-safety: every function is safe to call from any thread. Each hash or verify takes
// `memory_kib` of memory for its duration, so the caller bounds concurrency (login
// throttling, the HTTP server's thread count).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/base/result.hpp"

namespace aloft::server::operators {

// The cost of one hash. The defaults follow RFC 9106's second recommended option (t=3,
// 64 MiB, p=1): about 0.1-0.2 s on a server core. Tests pass cheap values.
struct PasswordHashParams {
  std::uint32_t time_cost = 3;           // passes over memory
  std::uint32_t memory_kib = 64 * 1024;  // KiB (at least 8 per lane)
  std::uint32_t parallelism = 1;         // lanes (1: no extra threads)
  std::uint32_t salt_bytes = 16;
  std::uint32_t hash_bytes = 32;
};

inline constexpr std::size_t kMinPasswordChars = 12;    // Unicode code points
inline constexpr std::size_t kMaxPasswordBytes = 1024;  // bounds the work one request can cause

// kInvalidArgument with a message the user can act on when `password` is shorter than
// kMinPasswordChars code points, longer than kMaxPasswordBytes bytes, or equal to `username`.
Status CheckPasswordPolicy(std::string_view password, std::string_view username);

// A fresh salt from the OS and the PHC-encoded Argon2id hash. kInvalidArgument for
// parameters Argon2 refuses; kUnavailable when the memory cannot be allocated.
Result<std::string> HashPassword(std::string_view password, const PasswordHashParams& params);

// true when `password` matches `encoded` (the hash comparison is constant-time inside
// libargon2), false when it does not. kCorrupt when `encoded` is not an Argon2id PHC string.
Result<bool> VerifyPassword(std::string_view password, std::string_view encoded);

// Whether `encoded` was made with other parameters than `params` (so a successful login
// should re-hash the password with the current ones).
bool NeedsRehash(std::string_view encoded, const PasswordHashParams& params);

// A random password for a new account, to hand over once: 20 characters from an alphabet
// without look-alikes (about 99 bits), grouped by 5: "k7mq2-xv9ta-...". It passes the policy.
Result<std::string> GenerateOneTimePassword();

}  // namespace aloft::server::operators

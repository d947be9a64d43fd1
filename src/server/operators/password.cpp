#include "server/operators/password.hpp"

#include <argon2.h>

#include <array>
#include <cstring>
#include <vector>

#include "core/base/bytes.hpp"
#include "core/crypto/hash.hpp"

namespace aloft::server::operators {
namespace {

// Counts UTF-8 code points (bytes that do not continue a sequence). The JSON parser already
// rejected invalid UTF-8, so this is exact for everything that reaches us.
std::size_t CodePoints(std::string_view text) {
  std::size_t n = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0u) != 0x80u) ++n;
  }
  return n;
}

std::string PhcPrefix(const PasswordHashParams& p) {
  return "$argon2id$v=" + std::to_string(ARGON2_VERSION_13) + "$m=" + std::to_string(p.memory_kib) +
         ",t=" + std::to_string(p.time_cost) + ",p=" + std::to_string(p.parallelism) + "$";
}

}  // namespace

Status CheckPasswordPolicy(std::string_view password, std::string_view username) {
  if (password.size() > kMaxPasswordBytes) {
    return Fail(Errc::kInvalidArgument,
                "password is too long (at most " + std::to_string(kMaxPasswordBytes) + " bytes)");
  }
  if (CodePoints(password) < kMinPasswordChars) {
    return Fail(Errc::kInvalidArgument, "password is too short (at least " +
                                            std::to_string(kMinPasswordChars) + " characters)");
  }
  if (password == username) {
    return Fail(Errc::kInvalidArgument, "password must not be the username");
  }
  return Ok();
}

Result<std::string> HashPassword(std::string_view password, const PasswordHashParams& params) {
  if (password.size() > kMaxPasswordBytes) {
    return Fail(Errc::kInvalidArgument, "password is too long");
  }
  Bytes salt(params.salt_bytes);
  if (Status s = core::crypto::RandomBytes(salt); !s) return Fail(s.error());
  std::vector<char> encoded(argon2_encodedlen(params.time_cost, params.memory_kib,
                                              params.parallelism, params.salt_bytes,
                                              params.hash_bytes, Argon2_id));
  int rc = argon2id_hash_encoded(params.time_cost, params.memory_kib, params.parallelism,
                                 password.data(), password.size(), salt.data(), salt.size(),
                                 params.hash_bytes, encoded.data(), encoded.size());
  if (rc == ARGON2_MEMORY_ALLOCATION_ERROR) {
    return Fail(Errc::kUnavailable, "password hashing: out of memory");
  }
  if (rc != ARGON2_OK) {
    return Fail(Errc::kInvalidArgument,
                std::string("password hashing: ") + argon2_error_message(rc));
  }
  return std::string(encoded.data());
}

Result<bool> VerifyPassword(std::string_view password, std::string_view encoded) {
  // libargon2 wants a NUL-terminated string and refuses our own hashes only when corrupt.
  if (!encoded.starts_with("$argon2id$") || encoded.find('\0') != std::string_view::npos) {
    return Fail(Errc::kCorrupt, "stored password hash is not Argon2id");
  }
  if (password.size() > kMaxPasswordBytes) return false;  // no stored hash can match it
  std::string terminated(encoded);
  int rc = argon2id_verify(terminated.c_str(), password.data(), password.size());
  if (rc == ARGON2_OK) return true;
  if (rc == ARGON2_VERIFY_MISMATCH) return false;
  if (rc == ARGON2_MEMORY_ALLOCATION_ERROR) {
    return Fail(Errc::kUnavailable, "password verification: out of memory");
  }
  return Fail(Errc::kCorrupt,
              std::string("stored password hash is unreadable: ") + argon2_error_message(rc));
}

bool NeedsRehash(std::string_view encoded, const PasswordHashParams& params) {
  return !encoded.starts_with(PhcPrefix(params));
}

Result<std::string> GenerateOneTimePassword() {
  // 31 symbols: no 0/o, 1/l/i, so it survives being read aloud or copied by hand.
  constexpr std::string_view kAlphabet = "abcdefghjkmnpqrstuvwxyz23456789";
  constexpr std::size_t kChars = 20;
  // Rejection sampling: bytes >= 248 (= 8 * 31) would bias the first symbols.
  constexpr unsigned kLimit = 256 - 256 % kAlphabet.size();
  std::string out;
  std::array<std::uint8_t, 64> pool{};
  while (true) {
    if (Status s = core::crypto::RandomBytes(pool); !s) return Fail(s.error());
    for (std::uint8_t b : pool) {
      if (b >= kLimit) continue;
      if (!out.empty() && out.size() % 6 == 5) out.push_back('-');
      out.push_back(kAlphabet[b % kAlphabet.size()]);
      if (out.size() == kChars + kChars / 5 - 1) return out;
    }
  }
}

}  // namespace aloft::server::operators

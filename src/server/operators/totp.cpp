#include "server/operators/totp.hpp"

#include <liboath/oath.h>

#include <array>

#include "core/base/percent_encode.hpp"
#include "core/crypto/hash.hpp"

namespace aloft::server::operators {
namespace {

// liboath asks for oath_init() before first use. It only sets up its bundled crypto, so it
// runs once per process and is never undone.
Status InitOath() {
  static const int rc = oath_init();
  if (rc != OATH_OK) return Fail(Errc::kInternal, std::string("liboath: ") + oath_strerror(rc));
  return Ok();
}

}  // namespace

Result<Bytes> NewTotpSecret() {
  Bytes secret(kTotpSecretBytes);
  if (Status s = core::crypto::RandomBytes(secret); !s) return Fail(s.error());
  return secret;
}

std::int64_t TotpStep(Timestamp t) noexcept {
  std::int64_t seconds = t.time_since_epoch().count();
  std::int64_t period = kTotpPeriod.count();
  // Floor division, so instants before 1970 (a badly set clock) still step consistently.
  return seconds >= 0 ? seconds / period : -((-seconds + period - 1) / period);
}

Result<std::string> TotpCode(ByteView secret, std::int64_t step) {
  if (secret.empty()) return Fail(Errc::kInvalidArgument, "TOTP secret is empty");
  if (step < 0) return Fail(Errc::kInvalidArgument, "TOTP step before the Unix epoch");
  if (Status s = InitOath(); !s) return Fail(s.error());
  std::array<char, kTotpDigits + 1> out{};
  int rc = oath_hotp_generate(reinterpret_cast<const char*>(secret.data()), secret.size(),
                              static_cast<std::uint64_t>(step), kTotpDigits, false,
                              OATH_HOTP_DYNAMIC_TRUNCATION, out.data());
  if (rc != OATH_OK) return Fail(Errc::kInternal, std::string("liboath: ") + oath_strerror(rc));
  return std::string(out.data(), kTotpDigits);
}

Result<std::optional<std::int64_t>> MatchTotp(ByteView secret, std::string_view code, Timestamp now,
                                              std::int64_t last_used_step) {
  if (code.size() != kTotpDigits) return std::optional<std::int64_t>();
  for (char c : code) {
    if (c < '0' || c > '9') return std::optional<std::int64_t>();
  }
  std::int64_t current = TotpStep(now);
  std::optional<std::int64_t> matched;
  // All three candidates are computed and compared, so the time taken does not tell which
  // (if any) matched.
  for (std::int64_t step = current - 1; step <= current + 1; ++step) {
    if (step < 0) continue;
    auto expected = TotpCode(secret, step);
    if (!expected) return Fail(expected.error());
    bool equal = core::crypto::ConstantTimeEqual(AsBytes(*expected), AsBytes(code));
    if (equal && step > last_used_step && !matched) matched = step;
  }
  return matched;
}

std::string Base32Encode(ByteView data) {
  constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  out.reserve((data.size() * 8 + 4) / 5);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (std::uint8_t byte : data) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out.push_back(kAlphabet[(buffer >> bits) & 0x1Fu]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (5 - bits)) & 0x1Fu]);
  return out;
}

std::string OtpauthUri(std::string_view issuer, std::string_view account, ByteView secret) {
  std::string encoded_issuer = PercentEncode(issuer);
  return "otpauth://totp/" + encoded_issuer + ":" + PercentEncode(account) +
         "?secret=" + Base32Encode(secret) + "&issuer=" + encoded_issuer +
         "&algorithm=SHA1&digits=" + std::to_string(kTotpDigits) +
         "&period=" + std::to_string(kTotpPeriod.count());
}

}  // namespace aloft::server::operators

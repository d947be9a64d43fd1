#include "server/auth/token_service.hpp"

#include <array>
#include <charconv>
#include <optional>

#include "core/base/base64.hpp"
#include "core/base/hex.hpp"
#include "core/codec/json.hpp"
#include "core/crypto/hash.hpp"

namespace aloft::server::auth {
namespace {

using core::codec::Json;

constexpr std::string_view kPrefix = "alt2.";
// Tokens of the previous format (JSON claims) are still accepted, so that during a rolling
// upgrade the tokens the older aloftd handed out keep working on the newer ones.
constexpr std::string_view kLegacyPrefix = "alt1.";
constexpr std::size_t kMaxTokenBytes = 2048;
constexpr char kSeparator = '\0';
constexpr std::size_t kFields = 5;  // kind, subject, id, issued at, expires

Error Forged() { return Error(Errc::kVerificationFailed, "invalid token"); }

std::optional<Timestamp> ParseUnixSeconds(std::string_view digits) {
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty() || n < 0) {
    return std::nullopt;
  }
  return Timestamp(std::chrono::seconds(n));
}

// alt2's payload: kind, subject, id, issued-at and expiry (Unix seconds, decimal), separated
// by NUL, which Issue refuses in a kind or subject.
std::optional<TokenClaims> ParseClaims(std::string_view payload) {
  std::array<std::string_view, kFields> fields;
  for (std::size_t i = 0; i < kFields; ++i) {
    const std::size_t end = payload.find(kSeparator);
    if ((end == std::string_view::npos) != (i == kFields - 1)) return std::nullopt;
    fields[i] = payload.substr(0, end);
    payload.remove_prefix(end == std::string_view::npos ? payload.size() : end + 1);
  }
  auto issued = ParseUnixSeconds(fields[3]);
  auto expires = ParseUnixSeconds(fields[4]);
  if (!issued || !expires) return std::nullopt;
  return TokenClaims{std::string(fields[0]), std::string(fields[1]), std::string(fields[2]),
                     *issued, *expires};
}

std::optional<TokenClaims> ParseLegacyClaims(std::string_view payload) {
  auto json = core::codec::ParseJson(payload);
  if (!json) return std::nullopt;
  auto kind = core::codec::GetString(*json, "kind");
  auto sub = core::codec::GetString(*json, "sub");
  auto jti = core::codec::GetString(*json, "jti");
  auto iat = core::codec::GetString(*json, "iat");
  auto exp = core::codec::GetString(*json, "exp");
  if (!kind || !sub || !jti || !iat || !exp) return std::nullopt;
  auto issued = aloft::ParseTimestamp(*iat);
  auto expires = aloft::ParseTimestamp(*exp);
  if (!issued || !expires) return std::nullopt;
  return TokenClaims{*kind, *sub, *jti, *issued, *expires};
}

}  // namespace

Result<TokenService> TokenService::Create(Bytes key, const Clock& clock,
                                          std::chrono::seconds lifetime) {
  if (key.size() < 32) return Fail(Errc::kInvalidArgument, "token key must be at least 32 bytes");
  if (lifetime.count() <= 0) return Fail(Errc::kInvalidArgument, "token lifetime must be positive");
  auto mac = core::crypto::HmacSha256Key::Create(key);
  if (!mac) return Fail(mac.error());
  return TokenService(std::move(*mac), clock, lifetime);
}

Result<std::string> TokenService::Issue(std::string_view kind, std::string_view subject) const {
  if (kind.find(kSeparator) != std::string_view::npos ||
      subject.find(kSeparator) != std::string_view::npos) {
    return Fail(Errc::kInvalidArgument, "a token's kind and subject cannot hold NUL");
  }
  Bytes jti(16);
  if (Status s = core::crypto::RandomBytes(jti); !s) return Fail(s.error());
  Timestamp now = std::chrono::floor<std::chrono::seconds>(clock_->Now());
  std::string payload;
  payload.append(kind).append(1, kSeparator).append(subject).append(1, kSeparator);
  payload.append(HexEncode(jti)).append(1, kSeparator);
  payload.append(std::to_string(now.time_since_epoch().count())).append(1, kSeparator);
  payload.append(std::to_string((now + lifetime_).time_since_epoch().count()));
  std::string signed_part = std::string(kPrefix) + Base64UrlEncode(AsBytes(payload));
  auto mac = mac_.Mac(AsBytes(signed_part));
  if (!mac) return Fail(mac.error());
  return signed_part + "." + Base64UrlEncode(*mac);
}

Result<TokenClaims> TokenService::Verify(std::string_view token,
                                         std::string_view expected_kind) const {
  if (token.size() > kMaxTokenBytes) return Fail(Forged());
  const bool legacy = token.starts_with(kLegacyPrefix);
  if (!legacy && !token.starts_with(kPrefix)) return Fail(Forged());
  std::size_t dot = token.rfind('.');
  if (dot < kPrefix.size()) return Fail(Forged());
  // The MAC covers the prefix, so a token cannot be passed off as the other format.
  std::string_view signed_part = token.substr(0, dot);
  auto mac = Base64UrlDecode(token.substr(dot + 1));
  if (!mac) return Fail(Forged());
  auto expected = mac_.Mac(AsBytes(signed_part));
  if (!expected) return Fail(expected.error());
  if (!core::crypto::ConstantTimeEqual(*mac, *expected)) return Fail(Forged());
  // Only now, with the MAC checked, is the payload ours to read.
  auto payload = Base64UrlDecode(signed_part.substr(kPrefix.size()));
  if (!payload) return Fail(Forged());
  std::optional<TokenClaims> claims =
      legacy ? ParseLegacyClaims(AsChars(*payload)) : ParseClaims(AsChars(*payload));
  if (!claims) return Fail(Forged());
  if (claims->kind != expected_kind) return Fail(Forged());
  if (claims->expires <= clock_->Now()) return Fail(Errc::kExpired, "token expired");
  return std::move(*claims);
}

}  // namespace aloft::server::auth

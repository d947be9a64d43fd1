#include "server/auth/token_service.hpp"

#include "core/base/base64.hpp"
#include "core/base/hex.hpp"
#include "core/codec/json.hpp"
#include "core/crypto/hash.hpp"

namespace aloft::server::auth {
namespace {

using core::codec::Json;

constexpr std::string_view kPrefix = "alt1.";
constexpr std::size_t kMaxTokenBytes = 2048;

Error Forged() { return Error(Errc::kVerificationFailed, "invalid token"); }

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
  Bytes jti(16);
  if (Status s = core::crypto::RandomBytes(jti); !s) return Fail(s.error());
  Timestamp now = std::chrono::floor<std::chrono::seconds>(clock_->Now());
  Json claims = Json::Object{{"exp", FormatTimestamp(now + lifetime_)},
                             {"iat", FormatTimestamp(now)},
                             {"jti", HexEncode(jti)},
                             {"kind", std::string(kind)},
                             {"sub", std::string(subject)}};
  std::string signed_part =
      std::string(kPrefix) + Base64UrlEncode(AsBytes(core::codec::CanonicalJson(claims)));
  auto mac = mac_.Mac(AsBytes(signed_part));
  if (!mac) return Fail(mac.error());
  return signed_part + "." + Base64UrlEncode(*mac);
}

Result<TokenClaims> TokenService::Verify(std::string_view token,
                                         std::string_view expected_kind) const {
  if (token.size() > kMaxTokenBytes || !token.starts_with(kPrefix)) return Fail(Forged());
  std::size_t dot = token.rfind('.');
  if (dot < kPrefix.size()) return Fail(Forged());
  std::string_view signed_part = token.substr(0, dot);
  auto mac = Base64UrlDecode(token.substr(dot + 1));
  if (!mac) return Fail(Forged());
  auto expected = mac_.Mac(AsBytes(signed_part));
  if (!expected) return Fail(expected.error());
  if (!core::crypto::ConstantTimeEqual(*mac, *expected)) return Fail(Forged());
  // Only now, with the MAC checked, is the payload ours to read.
  auto payload = Base64UrlDecode(signed_part.substr(kPrefix.size()));
  if (!payload) return Fail(Forged());
  auto json = core::codec::ParseJson(AsChars(*payload));
  if (!json) return Fail(Forged());
  TokenClaims claims;
  auto kind = core::codec::GetString(*json, "kind");
  auto sub = core::codec::GetString(*json, "sub");
  auto jti = core::codec::GetString(*json, "jti");
  auto iat = core::codec::GetString(*json, "iat");
  auto exp = core::codec::GetString(*json, "exp");
  if (!kind || !sub || !jti || !iat || !exp) return Fail(Forged());
  auto issued = aloft::ParseTimestamp(*iat);
  auto expires = aloft::ParseTimestamp(*exp);
  if (!issued || !expires) return Fail(Forged());
  if (*kind != expected_kind) return Fail(Forged());
  if (*expires <= clock_->Now()) return Fail(Errc::kExpired, "token expired");
  claims.kind = *kind;
  claims.subject = *sub;
  claims.id = *jti;
  claims.issued_at = *issued;
  claims.expires = *expires;
  return claims;
}

}  // namespace aloft::server::auth

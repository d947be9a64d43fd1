#pragma once

// Short-lived bearer tokens that aloftd hands out after a device (or, later, an operator)
// proved who it is. Stateless to check, so any aloftd behind a load balancer can verify them:
//
//   alt2.<base64url(claims)>.<base64url(HMAC-SHA256(key, "alt2." + base64url(claims)))>
//
// where the claims are kind, subject, id, issued-at and expiry (Unix seconds) joined by NUL:
// checking one is a MAC and a split, not a JSON parse (3% of a device check-in's CPU went to
// the JSON). Tokens of the earlier format, alt1 (the same with canonical JSON claims, RFC 3339
// times), are still verified, so that a rolling upgrade does not log devices out.
//
// Revocation does not wait for expiry: handlers look the subject up on every request (a
// revoked device is refused at its next request), and the lifetime is short (default 15 min).

#include <chrono>
#include <string>
#include <string_view>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "core/base/time.hpp"
#include "core/crypto/hash.hpp"

namespace aloft::server::auth {

struct TokenClaims {
  std::string kind;     // "device", "api"
  std::string subject;  // device id, token owner
  std::string id;       // random, for audit trails ("jti")
  Timestamp issued_at{};
  Timestamp expires{};
};

class TokenService {
 public:
  // `key`: at least 32 bytes of secret randomness shared by every aloftd of one deployment
  // (kept encrypted at rest by the composition root). `clock` must outlive the service.
  static Result<TokenService> Create(Bytes key, const Clock& clock, std::chrono::seconds lifetime);

  // A fresh token for `subject`.
  Result<std::string> Issue(std::string_view kind, std::string_view subject) const;
  // Checks the MAC (constant time), the kind and the expiry. Any malformed, forged or foreign
  // token is kVerificationFailed with one message, so a caller learns nothing from the
  // difference; an expired one is kExpired.
  Result<TokenClaims> Verify(std::string_view token, std::string_view expected_kind) const;

  std::chrono::seconds lifetime() const noexcept { return lifetime_; }

 private:
  TokenService(core::crypto::HmacSha256Key mac, const Clock& clock, std::chrono::seconds lifetime)
      : mac_(std::move(mac)), clock_(&clock), lifetime_(lifetime) {}
  core::crypto::HmacSha256Key mac_;  // keyed once: every authenticated request checks a MAC
  const Clock* clock_;
  std::chrono::seconds lifetime_;
};

}  // namespace aloft::server::auth

#pragma once

// What aloftd remembers about operators, behind an interface (SQLite today; PostgreSQL can
// plug in). The store holds no secrets in the clear: passwords are Argon2id hashes, session
// and API-token secrets are SHA-256 hashes, and TOTP seeds (which the server must read back)
// are sealed by OperatorService with TotpSeedCipher before they reach the store. The store
// enforces no policy and never sees a KEK; it keeps the bytes it is given.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "core/base/time.hpp"
#include "server/operators/roles.hpp"

namespace aloft::server::operators {

struct UserRow {
  std::string username;
  Role role = Role::kViewer;
  std::string password_hash;          // Argon2id PHC string
  bool must_change_password = false;  // set for one-time passwords
  Bytes totp_secret;                  // sealed seed (TotpSeedCipher); empty unless TOTP is on
  Bytes totp_pending_secret;          // sealed seed: enrolment begun, not yet confirmed
  std::int64_t totp_last_step = -1;   // last accepted TOTP step (replay guard)
  Timestamp created_at{};
  Timestamp updated_at{};
};

struct SessionRow {
  std::string secret_hash;  // hex SHA-256 of the cookie secret (the primary key)
  std::string username;
  std::string csrf_token;  // random; compared in constant time
  Timestamp created_at{};
  Timestamp last_seen_at{};
  Timestamp expires_at{};  // absolute expiry
};

struct ApiTokenRow {
  std::string id;  // public handle ("tok_..."), for listing and revoking
  std::string name;
  std::string username;  // owner
  Role role = Role::kViewer;
  std::string secret_hash;  // hex SHA-256 of the token secret
  Timestamp created_at{};
  Timestamp expires_at{};
  std::optional<Timestamp> last_used_at;
};

class OperatorStore {
 public:
  virtual ~OperatorStore() = default;

  // Users. kAlreadyExists for a taken username; kNotFound for an unknown one.
  virtual Status InsertUser(const UserRow& user) = 0;
  // Inserts only when there are no users at all (one transaction): kAlreadyExists otherwise.
  virtual Status InsertFirstUser(const UserRow& user) = 0;
  virtual Result<UserRow> GetUser(std::string_view username) = 0;
  virtual Result<std::vector<UserRow>> ListUsers() = 0;  // by username
  virtual Result<std::int64_t> CountUsersWithRole(Role role) = 0;
  // Changes the role unless that would leave no admin (kInvalidArgument), atomically.
  virtual Status SetRole(std::string_view username, Role role, Timestamp now) = 0;
  virtual Status SetPassword(std::string_view username, std::string_view password_hash,
                             bool must_change, Timestamp now) = 0;
  virtual Status SetPendingTotp(std::string_view username, ByteView secret, Timestamp now) = 0;
  // Moves the pending secret to the active one and records `step` as used; kNotFound when no
  // enrolment is pending.
  virtual Status EnableTotp(std::string_view username, std::int64_t step, Timestamp now) = 0;
  // Records `step` as the last used one if it is later than the stored one (compare-and-set,
  // so two concurrent logins cannot both use one code): false when it was not later.
  virtual Result<bool> UseTotpStep(std::string_view username, std::int64_t step) = 0;
  // Replaces the stored active (or, with `pending`, the pending) TOTP seed by `replacement`
  // only while it still equals `expected` (compare-and-set, for re-sealing old plaintext
  // seeds without losing a concurrent change): false when it did not. kNotFound for an
  // unknown user.
  virtual Result<bool> ReplaceTotpSeed(std::string_view username, bool pending,
                                       ByteView expected, ByteView replacement) = 0;

  // Sessions, by secret hash.
  virtual Status InsertSession(const SessionRow& session) = 0;
  virtual Result<SessionRow> GetSession(std::string_view secret_hash) = 0;  // kNotFound
  virtual Status TouchSession(std::string_view secret_hash, Timestamp now) = 0;
  virtual Status DeleteSession(std::string_view secret_hash) = 0;  // absent is fine
  // Deletes every session of `username` except `keep_hash` ("" keeps none).
  virtual Status DeleteSessionsOf(std::string_view username, std::string_view keep_hash) = 0;
  // Deletes sessions past their absolute expiry or idle since before `idle_before`.
  virtual Status DeleteExpiredSessions(Timestamp now, Timestamp idle_before) = 0;

  // API tokens.
  virtual Status InsertToken(const ApiTokenRow& token) = 0;
  virtual Result<ApiTokenRow> FindTokenBySecretHash(std::string_view secret_hash) = 0;
  virtual Result<ApiTokenRow> GetToken(std::string_view id) = 0;
  // Tokens of `username`, or of everyone when nullopt; by creation time.
  virtual Result<std::vector<ApiTokenRow>> ListTokens(std::optional<std::string_view> username) = 0;
  virtual Result<std::int64_t> CountTokensOf(std::string_view username) = 0;
  virtual Status DeleteToken(std::string_view id) = 0;  // kNotFound
  // Sets last_used_at = now when it is unset or before `stale_before` (so a busy token costs
  // one write a minute, not one per request).
  virtual Status TouchToken(std::string_view id, Timestamp now, Timestamp stale_before) = 0;
};

}  // namespace aloft::server::operators

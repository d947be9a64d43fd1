#pragma once

// Operator accounts, console sessions and API tokens: the business rules, without HTTP.
//
//   - Passwords are Argon2id hashes; new accounts get a one-time password and must change it
//     (Principal::must_change_password) before the API lets them do anything else.
//   - Login: username + password (+ a TOTP code once TOTP is enabled). Unknown users, wrong
//     passwords and wrong codes are indistinguishable to the caller, in answer and in time
//     (an unknown user is checked against a dummy hash). Failures are counted per username
//     and per client IP; past the budget, Login answers kThrottled with a Retry-After.
//   - Sessions: a 256-bit secret for the cookie (only its SHA-256 is stored), a CSRF token,
//     an idle expiry and an absolute one.
//   - API tokens: "alo_" + 256-bit secret, stored as SHA-256, with a role no larger than the
//     creator's, a mandatory expiry, a last-used time (written at most once a minute), and
//     revocation.
//   - TOTP seeds are sealed with TotpSeedCipher (AES-256-GCM under the KEK, bound to the
//     username) before they are stored, and opened only to check a code. A seed that does not
//     open (tampered, copied from another account, another KEK) refuses the login as invalid
//     credentials, is audited with reason "totp_seed_unreadable" and reported on stderr.
//   - Roles are read from the store on every authentication, so a role change or a revoked
//     token takes effect at the next request.
//
// Authorization (which permission a route needs) is the caller's job, with Principal::Can;
// the service checks only what is about ownership (own tokens, own password).
//
// Audit: every change and every login attempt is appended to the AuditLog (actions listed
// in audit_actions.hpp). When the record of a change cannot be written, the call fails with
// that error (and says so on stderr); a session or token whose creation cannot be audited is
// removed again, other changes stand (a new user then has a one-time password nobody saw).
//
// Thread-safe: call from any number of threads. Store, audit log and clock must outlive the
// service.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"
#include "core/base/time.hpp"
#include "server/audit/audit_log.hpp"
#include "server/operators/login_throttle.hpp"
#include "server/operators/operator_store.hpp"
#include "server/operators/password.hpp"
#include "server/operators/principal.hpp"
#include "server/operators/totp_seed_cipher.hpp"

namespace aloft::server::operators {

struct OperatorOptions {
  PasswordHashParams password_hash;
  std::chrono::seconds session_idle = std::chrono::minutes(30);
  std::chrono::seconds session_absolute = std::chrono::hours(12);
  // 5 failures in a row per username, then one more a minute; 20 per IP, then one each 30 s.
  ThrottlePolicy per_username{5, std::chrono::seconds(60), 100000};
  ThrottlePolicy per_ip{20, std::chrono::seconds(30), 100000};
  std::string totp_issuer = "Aloft";  // what authenticator apps show
  std::int64_t max_token_days = 366;
  std::int64_t max_tokens_per_user = 100;
};

struct UserInfo {
  std::string username;
  Role role = Role::kViewer;
  bool totp_enabled = false;
  bool must_change_password = false;
  Timestamp created_at{};
};

struct NewUser {
  UserInfo user;
  std::string one_time_password;  // shown once; never stored or logged
};

enum class LoginOutcome : std::uint8_t {
  kOk,
  kInvalidCredentials,  // unknown user, wrong password or wrong/replayed TOTP code
  kTotpRequired,        // password right, TOTP enabled, no code given
  kThrottled,           // too many failures for this username or IP: retry_after
};

struct LoginRequest {
  std::string_view username;
  std::string_view password;
  std::optional<std::string_view> totp;
  std::string_view client_ip;
};

struct LoginResult {
  LoginOutcome outcome = LoginOutcome::kInvalidCredentials;
  std::chrono::seconds retry_after{0};  // kThrottled
  std::string session_secret;           // kOk: for the cookie; only its hash is stored
  Principal principal;                  // kOk
};

struct ApiTokenInfo {
  std::string id;
  std::string name;
  std::string owner;
  Role role = Role::kViewer;
  Timestamp created_at{};
  Timestamp expires_at{};
  std::optional<Timestamp> last_used_at;
};

struct NewApiToken {
  ApiTokenInfo info;
  std::string secret;  // "alo_...": shown once
};

struct TotpEnrollment {
  std::string secret_base32;
  std::string otpauth_uri;
};

class OperatorService {
 public:
  // Computes the dummy hash that unknown usernames are checked against (one Argon2id hash).
  // `totp_cipher` seals and opens TOTP seeds (made from aloftd's KEK).
  static Result<std::unique_ptr<OperatorService>> Create(OperatorStore& store,
                                                         audit::AuditLog& audit, const Clock& clock,
                                                         TotpSeedCipher totp_cipher,
                                                         OperatorOptions options = {});

  // --- Accounts ---
  // A new account with a one-time password it must change at first login.
  // kInvalidArgument (username), kAlreadyExists.
  Result<NewUser> CreateUser(const Principal& actor, std::string_view username, Role role);
  // For `aloftd init`: the first admin, only while there are no users (kAlreadyExists
  // otherwise). Returns its one-time password. Audited with actor "system".
  Result<std::string> CreateFirstAdmin(std::string_view username);
  Result<std::vector<UserInfo>> ListUsers();
  // kNotFound; kInvalidArgument when it would leave no admin.
  Result<UserInfo> SetRole(const Principal& actor, std::string_view username, Role role);
  // Needs the current password (kVerificationFailed when wrong; counted like a failed login,
  // kUnavailable while throttled: see RetryAfter). kInvalidArgument for a new password that
  // breaks the policy. Clears must_change_password and ends the user's other sessions.
  Status ChangePassword(const Principal& who, std::string_view current, std::string_view next,
                        std::string_view client_ip);
  // Starts TOTP enrolment (a new pending secret each time). kAlreadyExists when TOTP is on.
  Result<TotpEnrollment> BeginTotp(const Principal& who);
  // Turns TOTP on when `code` matches the pending secret: kVerificationFailed when it does
  // not, kNotFound when no enrolment is pending or the pending seed does not decrypt (begin
  // again).
  Status ConfirmTotp(const Principal& who, std::string_view code);

  // --- Sessions ---
  // Errors are only for failures to decide (store, audit, randomness); every decision is in
  // the result.
  Result<LoginResult> Login(const LoginRequest& request);
  Status Logout(const Principal& who);  // ends the principal's session (not for tokens)
  // kVerificationFailed for an unknown or malformed secret, kExpired for an expired session
  // (which is then deleted).
  Result<Principal> AuthenticateSession(std::string_view secret);
  // kVerificationFailed for an unknown or malformed token, kExpired past its expiry.
  // Messages never contain the secret.
  Result<Principal> AuthenticateToken(std::string_view token);
  const OperatorOptions& options() const noexcept { return options_; }
  // Seconds until `username` / `client_ip` may try a password again (0: now).
  std::chrono::seconds RetryAfter(std::string_view username, std::string_view client_ip) const;

  // --- API tokens ---
  // `role` defaults to the caller's; it must be within the caller's (kVerificationFailed
  // otherwise). 1 <= expires_in_days <= max_token_days; name 1-64 printable characters
  // (kInvalidArgument); at most max_tokens_per_user live tokens (kTooLarge).
  Result<NewApiToken> CreateToken(const Principal& who, std::string_view name,
                                  std::optional<Role> role, std::int64_t expires_in_days);
  // The caller's tokens; every token for callers with users.manage.
  Result<std::vector<ApiTokenInfo>> ListTokens(const Principal& who);
  // The caller's own token, or any for users.manage; kNotFound otherwise (so nobody learns
  // which ids exist).
  Status RevokeToken(const Principal& who, std::string_view id);

 private:
  OperatorService(OperatorStore& store, audit::AuditLog& audit, const Clock& clock,
                  TotpSeedCipher totp_cipher, OperatorOptions options, std::string dummy_hash);

  Timestamp Now() const;
  // Appends an audit record; a failure is also reported on stderr (without secrets).
  Status Record(audit::AuditEvent event);
  Principal PrincipalFor(const UserRow& user) const;
  // Says on stderr that a stored TOTP seed did not open (no secret in the line).
  void ReportUnreadableSeed(std::string_view username, const Error& error) const;
  Result<NewUser> InsertNewUser(std::string_view actor, std::string_view username, Role role,
                                bool first_admin);
  Result<LoginResult> FinishLogin(const UserRow& user, std::string_view password,
                                  std::string_view client_ip);
  void CountFailure(std::string_view username_key, std::string_view client_ip);

  OperatorStore& store_;
  audit::AuditLog& audit_;
  const Clock& clock_;
  const TotpSeedCipher totp_cipher_;
  const OperatorOptions options_;
  const std::string dummy_hash_;
  LoginThrottle per_username_;
  LoginThrottle per_ip_;
};

UserInfo ToUserInfo(const UserRow& row);
ApiTokenInfo ToTokenInfo(const ApiTokenRow& row);

}  // namespace aloft::server::operators

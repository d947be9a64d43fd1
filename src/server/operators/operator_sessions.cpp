// OperatorService: login, logout and authentication of sessions and API tokens.

#include <algorithm>

#include "core/codec/json.hpp"
#include "server/operators/audit_actions.hpp"
#include "server/operators/operator_service.hpp"
#include "server/operators/secrets.hpp"
#include "server/operators/totp.hpp"
#include "server/operators/username.hpp"

namespace aloft::server::operators {

using audit::Outcome;
using core::codec::Json;

namespace {

constexpr std::string_view kTokenPrefix = "alo_";
// last_seen / last_used are written at most this often, so a busy console or script costs one
// write a minute rather than one per request. Idle expiry is exact to within this interval.
constexpr std::chrono::seconds kTouchInterval{60};

// Throttle keys: failures for invalid (malformed) usernames share one bucket, so junk names
// cannot fill the table with long keys.
std::string UsernameKey(std::string_view username) {
  return CheckUsername(username) ? std::string(username) : std::string("<invalid>");
}

}  // namespace

std::chrono::seconds OperatorService::RetryAfter(std::string_view username,
                                                 std::string_view client_ip) const {
  return std::max(per_username_.RetryAfter(UsernameKey(username)), per_ip_.RetryAfter(client_ip));
}

void OperatorService::CountFailure(std::string_view username, std::string_view client_ip) {
  per_username_.RecordFailure(UsernameKey(username));
  per_ip_.RecordFailure(client_ip);
}

Principal OperatorService::PrincipalFor(const UserRow& user) const {
  Principal p;
  p.username = user.username;
  p.role = p.user_role = user.role;
  p.must_change_password = user.must_change_password;
  return p;
}

Result<LoginResult> OperatorService::Login(const LoginRequest& request) {
  bool valid_name = static_cast<bool>(CheckUsername(request.username));
  // Only well-formed names go into the log, bounded; the rest are summarised.
  std::string target = valid_name ? std::string(request.username) : std::string();
  Json where = Json::Object{{"ip", std::string(request.client_ip.substr(0, 64))}};

  if (auto wait = RetryAfter(request.username, request.client_ip); wait.count() > 0) {
    Json details = where;
    details["reason"] = "throttled";
    (void)Record({"anonymous", std::string(actions::kLogin), target, Outcome::kDenied, details});
    LoginResult r;
    r.outcome = LoginOutcome::kThrottled;
    r.retry_after = wait;
    return r;
  }

  auto fail = [&](std::string_view reason) -> Result<LoginResult> {
    CountFailure(request.username, request.client_ip);
    Json details = where;
    details["reason"] = std::string(reason);
    (void)Record({"anonymous", std::string(actions::kLogin), target, Outcome::kFailure, details});
    return LoginResult{};  // kInvalidCredentials
  };

  std::optional<UserRow> user;
  if (valid_name) {
    auto found = store_.GetUser(request.username);
    if (found) {
      user = std::move(*found);
    } else if (found.error().code() != Errc::kNotFound) {
      return Fail(found.error());
    }
  }
  // Always one Argon2id verification, against the dummy hash when there is no such user, so
  // the answer's timing does not tell which usernames exist.
  auto matches = VerifyPassword(request.password, user ? user->password_hash : dummy_hash_);
  if (!matches) return Fail(matches.error());
  if (!user) return fail("unknown_user");
  if (!*matches) return fail("wrong_password");

  if (!user->totp_secret.empty()) {
    if (!request.totp) return LoginResult{LoginOutcome::kTotpRequired, {}, {}, {}};
    // The seed is decrypted only here, to check this code, and wiped right after.
    auto seed = totp_cipher_.Open(user->totp_secret, user->username);
    if (!seed) {
      // A seed that does not open (altered, copied from another account, another KEK) can
      // verify nothing: the login is refused like a wrong code, and the operator is told.
      ReportUnreadableSeed(user->username, seed.error());
      return fail("totp_seed_unreadable");
    }
    auto step = MatchTotp(*seed, *request.totp, clock_.Now(), user->totp_last_step);
    // Tell auditors a replayed code (someone saw it) from a mistyped one.
    auto any = step && !*step ? MatchTotp(*seed, *request.totp, clock_.Now(), -1)
                              : Result<std::optional<std::int64_t>>(std::optional<std::int64_t>());
    WipeSeed(*seed);
    if (!step) return Fail(step.error());
    if (!any) return Fail(any.error());
    if (!*step) return fail(*any ? "replayed_totp" : "wrong_totp");
    // Compare-and-set: of two logins racing with one code, only one gets it.
    auto fresh = store_.UseTotpStep(user->username, **step);
    if (!fresh) return Fail(fresh.error());
    if (!*fresh) return fail("replayed_totp");
  }
  return FinishLogin(*user, request.password, request.client_ip);
}

Result<LoginResult> OperatorService::FinishLogin(const UserRow& user, std::string_view password,
                                                 std::string_view client_ip) {
  per_username_.Clear(user.username);
  Timestamp now = Now();
  if (NeedsRehash(user.password_hash, options_.password_hash)) {
    // The verified password is at hand only now: upgrade the stored hash to the current cost.
    // Failing to do so costs nothing but the upgrade, so it does not fail the login.
    if (auto rehashed = HashPassword(password, options_.password_hash)) {
      (void)store_.SetPassword(user.username, *rehashed, user.must_change_password, now);
    }
  }
  auto secret = NewSecret();
  auto csrf = NewSecret();
  if (!secret) return Fail(secret.error());
  if (!csrf) return Fail(csrf.error());
  SessionRow session{
      SecretHash(*secret), user.username, *csrf, now, now, now + options_.session_absolute};
  // Expired sessions are swept here, not by a timer: logins are rare and there is no thread.
  if (Status s = store_.DeleteExpiredSessions(now, now - options_.session_idle); !s) {
    return Fail(s.error());
  }
  if (Status s = store_.InsertSession(session); !s) return Fail(s.error());
  Status audited =
      Record({user.username, std::string(actions::kLogin), user.username, Outcome::kSuccess,
              Json::Object{{"ip", std::string(client_ip.substr(0, 64))}}});
  if (!audited) {
    (void)store_.DeleteSession(session.secret_hash);  // no record, no session
    return Fail(audited.error());
  }
  LoginResult r;
  r.outcome = LoginOutcome::kOk;
  r.session_secret = std::move(*secret);
  r.principal = PrincipalFor(user);
  r.principal.via = Principal::Via::kSession;
  r.principal.session_hash = session.secret_hash;
  r.principal.csrf_token = session.csrf_token;
  r.principal.expires = std::min(session.expires_at, now + options_.session_idle);
  return r;
}

Status OperatorService::Logout(const Principal& who) {
  if (who.via != Principal::Via::kSession) {
    return Fail(Errc::kInvalidArgument, "not a session; revoke API tokens instead");
  }
  if (Status s = store_.DeleteSession(who.session_hash); !s) return s;
  return Record({who.username, std::string(actions::kLogout), who.username, Outcome::kSuccess,
                 Json::Object{}});
}

Result<Principal> OperatorService::AuthenticateSession(std::string_view secret) {
  if (!LooksLikeSecret(secret)) return Fail(Errc::kVerificationFailed, "invalid session");
  std::string hash = SecretHash(secret);
  auto session = store_.GetSession(hash);
  if (!session) {
    if (session.error().code() == Errc::kNotFound) {
      return Fail(Errc::kVerificationFailed, "invalid session");
    }
    return Fail(session.error());
  }
  Timestamp now = Now();
  Timestamp idle_end = session->last_seen_at + options_.session_idle;
  if (now >= session->expires_at || now >= idle_end) {
    (void)store_.DeleteSession(hash);
    return Fail(Errc::kExpired, "session expired");
  }
  auto user = store_.GetUser(session->username);
  if (!user) {
    if (user.error().code() == Errc::kNotFound) {
      return Fail(Errc::kVerificationFailed, "invalid session");
    }
    return Fail(user.error());
  }
  if (now - session->last_seen_at >= kTouchInterval) {
    if (Status s = store_.TouchSession(hash, now); !s) return Fail(s.error());
    idle_end = now + options_.session_idle;
  }
  Principal principal = PrincipalFor(*user);
  principal.via = Principal::Via::kSession;
  principal.session_hash = std::move(hash);
  principal.csrf_token = session->csrf_token;
  principal.expires = std::min(session->expires_at, idle_end);
  return principal;
}

Result<Principal> OperatorService::AuthenticateToken(std::string_view token) {
  if (!token.starts_with(kTokenPrefix) || !LooksLikeSecret(token.substr(kTokenPrefix.size()))) {
    return Fail(Errc::kVerificationFailed, "invalid token");
  }
  auto row = store_.FindTokenBySecretHash(SecretHash(token));
  if (!row) {
    if (row.error().code() == Errc::kNotFound)
      return Fail(Errc::kVerificationFailed, "invalid token");
    return Fail(row.error());
  }
  Timestamp now = Now();
  if (now >= row->expires_at) return Fail(Errc::kExpired, "token " + row->id + " expired");
  auto user = store_.GetUser(row->username);
  if (!user) {
    if (user.error().code() == Errc::kNotFound)
      return Fail(Errc::kVerificationFailed, "invalid token");
    return Fail(user.error());
  }
  if (Status s = store_.TouchToken(row->id, now, now - kTouchInterval); !s) return Fail(s.error());
  Principal principal = PrincipalFor(*user);
  principal.via = Principal::Via::kToken;
  principal.role = row->role;
  principal.token_id = row->id;
  principal.expires = row->expires_at;
  return principal;
}

}  // namespace aloft::server::operators

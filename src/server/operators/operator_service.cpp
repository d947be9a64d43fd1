// OperatorService: construction, accounts, passwords and TOTP enrolment. Sessions are in
// operator_sessions.cpp, API tokens in operator_tokens.cpp.

#include "server/operators/operator_service.hpp"

#include <iostream>

#include "core/codec/json.hpp"
#include "server/operators/audit_actions.hpp"
#include "server/operators/secrets.hpp"
#include "server/operators/totp.hpp"
#include "server/operators/username.hpp"

namespace aloft::server::operators {

using audit::AuditEvent;
using audit::Outcome;
using core::codec::Json;

UserInfo ToUserInfo(const UserRow& row) {
  return UserInfo{row.username, row.role, !row.totp_secret.empty(), row.must_change_password,
                  row.created_at};
}

Result<std::unique_ptr<OperatorService>> OperatorService::Create(OperatorStore& store,
                                                                 audit::AuditLog& audit,
                                                                 const Clock& clock,
                                                                 TotpSeedCipher totp_cipher,
                                                                 OperatorOptions options) {
  if (options.session_idle.count() <= 0 || options.session_absolute.count() <= 0) {
    return Fail(Errc::kInvalidArgument, "session lifetimes must be positive");
  }
  // Hash of a random password nobody knows, with the same parameters as real ones, so a
  // login for an unknown user costs what a wrong password costs.
  auto throwaway = NewSecret();
  if (!throwaway) return Fail(throwaway.error());
  auto dummy = HashPassword(*throwaway, options.password_hash);
  if (!dummy) return Fail(std::move(dummy).error().WithContext("password hashing parameters"));
  return std::unique_ptr<OperatorService>(
      new OperatorService(store, audit, clock, std::move(totp_cipher), std::move(options),
                          std::move(*dummy)));
}

OperatorService::OperatorService(OperatorStore& store, audit::AuditLog& audit, const Clock& clock,
                                 TotpSeedCipher totp_cipher, OperatorOptions options,
                                 std::string dummy_hash)
    : store_(store),
      audit_(audit),
      clock_(clock),
      totp_cipher_(std::move(totp_cipher)),
      options_(std::move(options)),
      dummy_hash_(std::move(dummy_hash)),
      per_username_(clock, options_.per_username),
      per_ip_(clock, options_.per_ip) {}

Timestamp OperatorService::Now() const {
  return std::chrono::floor<std::chrono::seconds>(clock_.Now());
}

Status OperatorService::Record(AuditEvent event) {
  auto appended = audit_.Append(event);
  if (appended) return Ok();
  // The record is lost, so say loudly what it was (events never carry secrets).
  Json line = Json::Object{{"level", "error"},
                           {"event", "audit_append_failed"},
                           {"action", event.action},
                           {"actor", event.actor},
                           {"target", event.target},
                           {"outcome", audit::OutcomeName(event.outcome)},
                           {"error", appended.error().ToString()}};
  std::cerr << core::codec::DumpJson(line) + "\n";
  return Fail(appended.error());
}

void OperatorService::ReportUnreadableSeed(std::string_view username, const Error& error) const {
  // The operator must hear of it (a tampered database, or a changed KEK); the message names
  // the account and the cause, never seed bytes.
  Json line = Json::Object{{"level", "error"},
                           {"event", "totp_seed_unreadable"},
                           {"username", std::string(username.substr(0, 64))},
                           {"error", error.ToString()}};
  std::cerr << core::codec::DumpJson(line) + "\n";
}

Result<NewUser> OperatorService::InsertNewUser(std::string_view actor, std::string_view username,
                                               Role role, bool first_admin) {
  if (Status s = CheckUsername(username); !s) return Fail(s.error());
  auto password = GenerateOneTimePassword();
  if (!password) return Fail(password.error());
  auto hash = HashPassword(*password, options_.password_hash);
  if (!hash) return Fail(hash.error());
  UserRow row;
  row.username = std::string(username);
  row.role = role;
  row.password_hash = std::move(*hash);
  row.must_change_password = true;
  row.created_at = row.updated_at = Now();
  Status inserted = first_admin ? store_.InsertFirstUser(row) : store_.InsertUser(row);
  if (!inserted) {
    if (inserted.error().code() == Errc::kAlreadyExists) {
      return Fail(Errc::kAlreadyExists, first_admin ? "operators already exist"
                                                    : "user '" + row.username + "' already exists");
    }
    return Fail(inserted.error());
  }
  Json details = Json::Object{{"role", RoleName(role)}};
  if (first_admin) details["first_admin"] = true;
  if (Status s = Record({std::string(actor), std::string(actions::kUserCreate), row.username,
                         Outcome::kSuccess, std::move(details)});
      !s) {
    return Fail(s.error());
  }
  return NewUser{ToUserInfo(row), std::move(*password)};
}

Result<NewUser> OperatorService::CreateUser(const Principal& actor, std::string_view username,
                                            Role role) {
  return InsertNewUser(actor.username, username, role, false);
}

Result<std::string> OperatorService::CreateFirstAdmin(std::string_view username) {
  auto user = InsertNewUser("system", username, Role::kAdmin, true);
  if (!user) return Fail(user.error());
  return std::move(user->one_time_password);
}

Result<std::vector<UserInfo>> OperatorService::ListUsers() {
  auto rows = store_.ListUsers();
  if (!rows) return Fail(rows.error());
  std::vector<UserInfo> out;
  out.reserve(rows->size());
  for (const UserRow& row : *rows) out.push_back(ToUserInfo(row));
  return out;
}

Result<UserInfo> OperatorService::SetRole(const Principal& actor, std::string_view username,
                                          Role role) {
  if (Status s = CheckUsername(username); !s) return Fail(Errc::kNotFound, "no such user");
  auto before = store_.GetUser(username);
  if (!before) return Fail(before.error());
  if (Status s = store_.SetRole(username, role, Now()); !s) return Fail(s.error());
  if (Status s = Record({actor.username, std::string(actions::kRoleChange), std::string(username),
                         Outcome::kSuccess,
                         Json::Object{{"from", RoleName(before->role)}, {"to", RoleName(role)}}});
      !s) {
    return Fail(s.error());
  }
  UserInfo info = ToUserInfo(*before);
  info.role = role;
  return info;
}

Status OperatorService::ChangePassword(const Principal& who, std::string_view current,
                                       std::string_view next, std::string_view client_ip) {
  if (RetryAfter(who.username, client_ip).count() > 0) {
    return Fail(Errc::kUnavailable, "too many failed attempts; retry later");
  }
  auto user = store_.GetUser(who.username);
  if (!user) return Fail(user.error());
  auto matches = VerifyPassword(current, user->password_hash);
  if (!matches) return Fail(matches.error());
  if (!*matches) {
    CountFailure(who.username, client_ip);
    (void)Record({who.username, std::string(actions::kPasswordChange), who.username,
                  Outcome::kFailure, Json::Object{{"reason", "wrong_current_password"}}});
    return Fail(Errc::kVerificationFailed, "the current password is wrong");
  }
  if (Status s = CheckPasswordPolicy(next, who.username); !s) return s;
  if (next == current) {
    return Fail(Errc::kInvalidArgument, "the new password must differ from the current one");
  }
  auto hash = HashPassword(next, options_.password_hash);
  if (!hash) return Fail(hash.error());
  if (Status s = store_.SetPassword(who.username, *hash, false, Now()); !s) return s;
  // Whoever else held a session (perhaps with the old password) is logged out.
  std::string keep = who.via == Principal::Via::kSession ? who.session_hash : std::string();
  if (Status s = store_.DeleteSessionsOf(who.username, keep); !s) return s;
  return Record({who.username, std::string(actions::kPasswordChange), who.username,
                 Outcome::kSuccess, Json::Object{}});
}

Result<TotpEnrollment> OperatorService::BeginTotp(const Principal& who) {
  auto user = store_.GetUser(who.username);
  if (!user) return Fail(user.error());
  if (!user->totp_secret.empty()) {
    return Fail(Errc::kAlreadyExists, "TOTP is already enabled for this account");
  }
  auto secret = NewTotpSecret();
  if (!secret) return Fail(secret.error());
  auto sealed = totp_cipher_.Seal(*secret, who.username);
  if (!sealed) {
    WipeSeed(*secret);
    return Fail(sealed.error());
  }
  if (Status s = store_.SetPendingTotp(who.username, *sealed, Now()); !s) {
    WipeSeed(*secret);
    return Fail(s.error());
  }
  TotpEnrollment enrollment{Base32Encode(*secret),
                            OtpauthUri(options_.totp_issuer, who.username, *secret)};
  WipeSeed(*secret);
  return enrollment;
}

Status OperatorService::ConfirmTotp(const Principal& who, std::string_view code) {
  auto user = store_.GetUser(who.username);
  if (!user) return Fail(user.error());
  if (!user->totp_secret.empty()) {
    return Fail(Errc::kAlreadyExists, "TOTP is already enabled for this account");
  }
  if (user->totp_pending_secret.empty()) {
    return Fail(Errc::kNotFound, "no TOTP enrolment is pending; start one first");
  }
  auto seed = totp_cipher_.Open(user->totp_pending_secret, who.username);
  if (!seed) {
    ReportUnreadableSeed(who.username, seed.error());
    return Fail(Errc::kNotFound,
                "the pending TOTP enrolment cannot be read (see the server log); start one again");
  }
  auto step = MatchTotp(*seed, code, clock_.Now(), -1);
  WipeSeed(*seed);
  if (!step) return Fail(step.error());
  if (!*step) {
    (void)Record({who.username, std::string(actions::kTotpEnable), who.username, Outcome::kFailure,
                  Json::Object{{"reason", "wrong_code"}}});
    return Fail(Errc::kVerificationFailed, "the code does not match; check the device's clock");
  }
  if (Status s = store_.EnableTotp(who.username, **step, Now()); !s) return s;
  return Record({who.username, std::string(actions::kTotpEnable), who.username, Outcome::kSuccess,
                 Json::Object{}});
}

}  // namespace aloft::server::operators

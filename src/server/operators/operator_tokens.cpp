// OperatorService: API tokens for aloftctl and scripts.

#include "core/base/hex.hpp"
#include "core/codec/json.hpp"
#include "core/crypto/hash.hpp"
#include "server/operators/audit_actions.hpp"
#include "server/operators/operator_service.hpp"
#include "server/operators/secrets.hpp"

namespace aloft::server::operators {

using audit::Outcome;
using core::codec::Json;

namespace {

constexpr std::size_t kMaxTokenNameBytes = 64;

// 1-64 bytes, no control characters (names end up in terminals and logs).
Status CheckTokenName(std::string_view name) {
  if (name.empty() || name.size() > kMaxTokenNameBytes) {
    return Fail(Errc::kInvalidArgument, "token name must be 1-64 characters");
  }
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      return Fail(Errc::kInvalidArgument, "token name must not contain control characters");
    }
  }
  return Ok();
}

Result<std::string> NewTokenId() {
  Bytes raw(8);
  if (Status s = core::crypto::RandomBytes(raw); !s) return Fail(s.error());
  return "tok_" + HexEncode(raw);
}

}  // namespace

ApiTokenInfo ToTokenInfo(const ApiTokenRow& row) {
  return ApiTokenInfo{row.id,         row.name,       row.username,    row.role,
                      row.created_at, row.expires_at, row.last_used_at};
}

Result<NewApiToken> OperatorService::CreateToken(const Principal& who, std::string_view name,
                                                 std::optional<Role> role,
                                                 std::int64_t expires_in_days) {
  if (Status s = CheckTokenName(name); !s) return Fail(s.error());
  if (expires_in_days < 1 || expires_in_days > options_.max_token_days) {
    return Fail(Errc::kInvalidArgument,
                "expires_in_days must be between 1 and " + std::to_string(options_.max_token_days));
  }
  Role wanted = role.value_or(who.role);
  // Within the role in force and within the user's own role (a token may make a token, but
  // never a larger one).
  if (!RoleWithin(wanted, who.role) || !RoleWithin(wanted, who.user_role)) {
    return Fail(Errc::kVerificationFailed, "a token's role must not exceed your own role");
  }
  auto count = store_.CountTokensOf(who.username);
  if (!count) return Fail(count.error());
  if (*count >= options_.max_tokens_per_user) {
    return Fail(Errc::kTooLarge, "too many API tokens; revoke unused ones first");
  }
  auto secret = NewSecret();
  if (!secret) return Fail(secret.error());
  auto id = NewTokenId();
  if (!id) return Fail(id.error());
  Timestamp now = Now();
  ApiTokenRow row;
  row.id = std::move(*id);
  row.name = std::string(name);
  row.username = who.username;
  row.role = wanted;
  std::string token = "alo_" + *secret;
  row.secret_hash = SecretHash(token);
  row.created_at = now;
  row.expires_at = now + std::chrono::days(expires_in_days);
  if (Status s = store_.InsertToken(row); !s) return Fail(s.error());
  if (Status s =
          Record({who.username, std::string(actions::kTokenCreate), row.id, Outcome::kSuccess,
                  Json::Object{{"name", row.name},
                               {"role", RoleName(row.role)},
                               {"expires", FormatTimestamp(row.expires_at)}}});
      !s) {
    (void)store_.DeleteToken(row.id);  // an unaudited token must not work
    return Fail(s.error());
  }
  return NewApiToken{ToTokenInfo(row), std::move(token)};
}

Result<std::vector<ApiTokenInfo>> OperatorService::ListTokens(const Principal& who) {
  auto rows = who.Can(Permission::kUsersManage)
                  ? store_.ListTokens(std::nullopt)
                  : store_.ListTokens(std::optional<std::string_view>(who.username));
  if (!rows) return Fail(rows.error());
  std::vector<ApiTokenInfo> out;
  out.reserve(rows->size());
  for (const ApiTokenRow& row : *rows) out.push_back(ToTokenInfo(row));
  return out;
}

Status OperatorService::RevokeToken(const Principal& who, std::string_view id) {
  auto row = store_.GetToken(id);
  if (!row) {
    if (row.error().code() == Errc::kNotFound) return Fail(Errc::kNotFound, "no such token");
    return Fail(row.error());
  }
  if (row->username != who.username && !who.Can(Permission::kUsersManage)) {
    return Fail(Errc::kNotFound, "no such token");
  }
  if (Status s = store_.DeleteToken(row->id); !s) return s;
  return Record({who.username, std::string(actions::kTokenRevoke), row->id, Outcome::kSuccess,
                 Json::Object{{"owner", row->username}, {"name", row->name}}});
}

}  // namespace aloft::server::operators

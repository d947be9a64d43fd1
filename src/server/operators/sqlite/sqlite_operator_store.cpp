#include "server/operators/sqlite/sqlite_operator_store.hpp"

#include <chrono>
#include <initializer_list>

namespace aloft::server::operators::sqlite {
namespace {

using platform::sqlite::Database;
using platform::sqlite::Statement;
using platform::sqlite::Transaction;

constexpr std::chrono::milliseconds kLeaseTimeout{5000};

constexpr std::string_view kUserColumns =
    "username, role, password_hash, must_change_password, totp_secret, totp_pending_secret,"
    " totp_last_step, created_at, updated_at";
constexpr std::string_view kSessionColumns =
    "secret_hash, username, csrf_token, created_at, last_seen_at, expires_at";
constexpr std::string_view kTokenColumns =
    "id, name, username, role, secret_hash, created_at, expires_at, last_used_at";

std::string Time(Timestamp t) { return FormatTimestamp(t); }

// A stored value that does not parse means the database was changed behind our back.
Error CorruptRow(std::string_view what) {
  return Error(Errc::kCorrupt, "stored " + std::string(what) + " is unreadable");
}

Status All(std::initializer_list<Status> binds) {
  for (const Status& b : binds) {
    if (!b) return b;
  }
  return Ok();
}

Status BindOptionalBlob(Statement& s, const char* name, ByteView value) {
  return value.empty() ? s.BindNull(name) : s.BindBlob(name, value);
}

Result<UserRow> ReadUser(const Statement& s) {
  UserRow u;
  u.username = s.ColumnText(0);
  auto role = ParseRole(s.ColumnText(1));
  auto created = ParseTimestamp(s.ColumnText(7));
  auto updated = ParseTimestamp(s.ColumnText(8));
  if (!role || !created || !updated) return Fail(CorruptRow("operator"));
  u.role = *role;
  u.password_hash = s.ColumnText(2);
  u.must_change_password = s.ColumnInt64(3) != 0;
  u.totp_secret = s.ColumnBlob(4);
  u.totp_pending_secret = s.ColumnBlob(5);
  u.totp_last_step = s.ColumnInt64(6);
  u.created_at = *created;
  u.updated_at = *updated;
  return u;
}

Result<SessionRow> ReadSession(const Statement& s) {
  auto created = ParseTimestamp(s.ColumnText(3));
  auto seen = ParseTimestamp(s.ColumnText(4));
  auto expires = ParseTimestamp(s.ColumnText(5));
  if (!created || !seen || !expires) return Fail(CorruptRow("session"));
  return SessionRow{s.ColumnText(0), s.ColumnText(1), s.ColumnText(2), *created, *seen, *expires};
}

Result<ApiTokenRow> ReadToken(const Statement& s) {
  ApiTokenRow t;
  t.id = s.ColumnText(0);
  t.name = s.ColumnText(1);
  t.username = s.ColumnText(2);
  auto role = ParseRole(s.ColumnText(3));
  auto created = ParseTimestamp(s.ColumnText(5));
  auto expires = ParseTimestamp(s.ColumnText(6));
  if (!role || !created || !expires) return Fail(CorruptRow("API token"));
  t.role = *role;
  t.secret_hash = s.ColumnText(4);
  t.created_at = *created;
  t.expires_at = *expires;
  if (!s.IsNull(7)) {
    auto used = ParseTimestamp(s.ColumnText(7));
    if (!used) return Fail(CorruptRow("API token"));
    t.last_used_at = *used;
  }
  return t;
}

// Steps once: the row read by `read`, or kNotFound naming `what`.
template <class Read>
auto One(Statement& s, Read read, std::string_view what) -> decltype(read(s)) {
  auto row = s.Step();
  if (!row) return Fail(row.error());
  if (!*row) return Fail(Errc::kNotFound, std::string(what) + " not found");
  return read(s);
}

// Steps to the end, collecting every row.
template <class T, class Read>
Result<std::vector<T>> Many(Statement& s, Read read) {
  std::vector<T> out;
  while (true) {
    auto row = s.Step();
    if (!row) return Fail(row.error());
    if (!*row) return out;
    auto item = read(s);
    if (!item) return Fail(item.error());
    out.push_back(std::move(*item));
  }
}

// Runs a statement that must change exactly one row; kNotFound otherwise.
Status RunOne(Database& db, Statement& s, std::string_view what) {
  if (Status r = s.Run(); !r) return r;
  if (db.Changes() == 0) return Fail(Errc::kNotFound, std::string(what) + " not found");
  return Ok();
}

Result<std::int64_t> Count(Statement& s) {
  auto row = s.Step();
  if (!row) return Fail(row.error());
  if (!*row) return Fail(Errc::kInternal, "COUNT returned no row");
  return s.ColumnInt64(0);
}

Status Insert(Database& db, const UserRow& u) {
  auto s = db.PrepareCached(
      "INSERT INTO operators (" + std::string(kUserColumns) +
      ") VALUES (:username, :role, :hash, :must_change, :totp, :pending, :step, :created,"
      " :updated)");
  if (!s) return Fail(s.error());
  if (Status b =
          All({s->BindText(":username", u.username), s->BindText(":role", RoleName(u.role)),
               s->BindText(":hash", u.password_hash),
               s->BindInt64(":must_change", u.must_change_password ? 1 : 0),
               BindOptionalBlob(*s, ":totp", u.totp_secret),
               BindOptionalBlob(*s, ":pending", u.totp_pending_secret),
               s->BindInt64(":step", u.totp_last_step), s->BindText(":created", Time(u.created_at)),
               s->BindText(":updated", Time(u.updated_at))});
      !b) {
    return b;
  }
  return s->Run();
}

}  // namespace

Status SqliteOperatorStore::InsertUser(const UserRow& user) {
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  return Insert(**db, user);
}

Status SqliteOperatorStore::InsertFirstUser(const UserRow& user) {
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  auto tx = Transaction::Begin(**db);
  if (!tx) return Fail(tx.error());
  auto s = (*db)->PrepareCached("SELECT COUNT(*) FROM operators");
  if (!s) return Fail(s.error());
  auto n = Count(*s);
  if (!n) return Fail(n.error());
  if (*n > 0) return Fail(Errc::kAlreadyExists, "operators already exist");
  if (Status i = Insert(**db, user); !i) return i;
  return tx->Commit();
}

Result<UserRow> SqliteOperatorStore::GetUser(std::string_view username) {
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached("SELECT " + std::string(kUserColumns) +
                                " FROM operators WHERE username = :username");
  if (!s) return Fail(s.error());
  if (Status b = s->BindText(":username", username); !b) return Fail(b.error());
  return One(*s, ReadUser, "user");
}

Result<std::vector<UserRow>> SqliteOperatorStore::ListUsers() {
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached("SELECT " + std::string(kUserColumns) +
                                " FROM operators ORDER BY username");
  if (!s) return Fail(s.error());
  return Many<UserRow>(*s, ReadUser);
}

Result<std::int64_t> SqliteOperatorStore::CountUsersWithRole(Role role) {
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached("SELECT COUNT(*) FROM operators WHERE role = :role");
  if (!s) return Fail(s.error());
  if (Status b = s->BindText(":role", RoleName(role)); !b) return Fail(b.error());
  return Count(*s);
}

Status SqliteOperatorStore::SetRole(std::string_view username, Role role, Timestamp now) {
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  // One transaction: two admins demoting each other at once cannot both succeed.
  auto tx = Transaction::Begin(**db);
  if (!tx) return Fail(tx.error());
  auto current = (*db)->PrepareCached("SELECT role FROM operators WHERE username = :username");
  if (!current) return Fail(current.error());
  if (Status b = current->BindText(":username", username); !b) return b;
  auto was = One(
      *current, [](const Statement& s) { return ParseRole(s.ColumnText(0)); }, "user");
  if (!was) return Fail(was.error());
  if (*was == Role::kAdmin && role != Role::kAdmin) {
    auto admins = (*db)->PrepareCached("SELECT COUNT(*) FROM operators WHERE role = 'admin'");
    if (!admins) return Fail(admins.error());
    auto n = Count(*admins);
    if (!n) return Fail(n.error());
    if (*n <= 1) {
      return Fail(Errc::kInvalidArgument, "the last admin cannot lose the admin role");
    }
  }
  auto s = (*db)->PrepareCached(
      "UPDATE operators SET role = :role, updated_at = :now WHERE username = :username");
  if (!s) return Fail(s.error());
  if (Status b = All({s->BindText(":role", RoleName(role)), s->BindText(":now", Time(now)),
                      s->BindText(":username", username)});
      !b) {
    return b;
  }
  if (Status r = RunOne(**db, *s, "user"); !r) return r;
  return tx->Commit();
}

Status SqliteOperatorStore::SetPassword(std::string_view username, std::string_view hash,
                                        bool must_change, Timestamp now) {
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached(
      "UPDATE operators SET password_hash = :hash, must_change_password = :must_change,"
      " updated_at = :now WHERE username = :username");
  if (!s) return Fail(s.error());
  if (Status b = All({s->BindText(":hash", hash), s->BindInt64(":must_change", must_change ? 1 : 0),
                      s->BindText(":now", Time(now)), s->BindText(":username", username)});
      !b) {
    return b;
  }
  return RunOne(**db, *s, "user");
}

Status SqliteOperatorStore::SetPendingTotp(std::string_view username, ByteView secret,
                                           Timestamp now) {
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached(
      "UPDATE operators SET totp_pending_secret = :secret, updated_at = :now"
      " WHERE username = :username");
  if (!s) return Fail(s.error());
  if (Status b = All({BindOptionalBlob(*s, ":secret", secret), s->BindText(":now", Time(now)),
                      s->BindText(":username", username)});
      !b) {
    return b;
  }
  return RunOne(**db, *s, "user");
}

Status SqliteOperatorStore::EnableTotp(std::string_view username, std::int64_t step,
                                       Timestamp now) {
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached(
      "UPDATE operators SET totp_secret = totp_pending_secret, totp_pending_secret = NULL,"
      " totp_last_step = :step, updated_at = :now"
      " WHERE username = :username AND totp_pending_secret IS NOT NULL");
  if (!s) return Fail(s.error());
  if (Status b = All({s->BindInt64(":step", step), s->BindText(":now", Time(now)),
                      s->BindText(":username", username)});
      !b) {
    return b;
  }
  return RunOne(**db, *s, "pending TOTP enrolment");
}

Result<bool> SqliteOperatorStore::UseTotpStep(std::string_view username, std::int64_t step) {
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached(
      "UPDATE operators SET totp_last_step = :step"
      " WHERE username = :username AND totp_last_step < :step");
  if (!s) return Fail(s.error());
  if (Status b = All({s->BindInt64(":step", step), s->BindText(":username", username)}); !b) {
    return Fail(b.error());
  }
  if (Status r = s->Run(); !r) return Fail(r.error());
  return (*db)->Changes() == 1;
}

Result<bool> SqliteOperatorStore::ReplaceTotpSeed(std::string_view username, bool pending,
                                                  ByteView expected, ByteView replacement) {
  if (expected.empty() || replacement.empty()) {
    return Fail(Errc::kInvalidArgument, "a TOTP seed replacement needs both seeds");
  }
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  // Two fixed statements (a column name is never spliced from input).
  auto s = (*db)->PrepareCached(
      pending ? "UPDATE operators SET totp_pending_secret = :replacement"
                " WHERE username = :username AND totp_pending_secret = :expected"
              : "UPDATE operators SET totp_secret = :replacement"
                " WHERE username = :username AND totp_secret = :expected");
  if (!s) return Fail(s.error());
  if (Status b = All({s->BindBlob(":replacement", replacement), s->BindBlob(":expected", expected),
                      s->BindText(":username", username)});
      !b) {
    return Fail(b.error());
  }
  if (Status r = s->Run(); !r) return Fail(r.error());
  if ((*db)->Changes() == 1) return true;
  auto exists = (*db)->PrepareCached("SELECT 1 FROM operators WHERE username = :username");
  if (!exists) return Fail(exists.error());
  if (Status b = exists->BindText(":username", username); !b) return Fail(b.error());
  auto row = exists->Step();
  if (!row) return Fail(row.error());
  if (!*row) {
    return Fail(Errc::kNotFound, "no operator '" + std::string(username.substr(0, 64)) + "'");
  }
  return false;
}

Status SqliteOperatorStore::InsertSession(const SessionRow& r) {
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached("INSERT INTO operator_sessions (" + std::string(kSessionColumns) +
                                ") VALUES (:hash, :username, :csrf, :created, :seen, :expires)");
  if (!s) return Fail(s.error());
  if (Status b =
          All({s->BindText(":hash", r.secret_hash), s->BindText(":username", r.username),
               s->BindText(":csrf", r.csrf_token), s->BindText(":created", Time(r.created_at)),
               s->BindText(":seen", Time(r.last_seen_at)),
               s->BindText(":expires", Time(r.expires_at))});
      !b) {
    return b;
  }
  return s->Run();
}

Result<SessionRow> SqliteOperatorStore::GetSession(std::string_view secret_hash) {
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached("SELECT " + std::string(kSessionColumns) +
                                " FROM operator_sessions WHERE secret_hash = :hash");
  if (!s) return Fail(s.error());
  if (Status b = s->BindText(":hash", secret_hash); !b) return Fail(b.error());
  return One(*s, ReadSession, "session");
}

Status SqliteOperatorStore::TouchSession(std::string_view secret_hash, Timestamp now) {
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached(
      "UPDATE operator_sessions SET last_seen_at = :now WHERE secret_hash = :hash");
  if (!s) return Fail(s.error());
  if (Status b = All({s->BindText(":now", Time(now)), s->BindText(":hash", secret_hash)}); !b) {
    return b;
  }
  return RunOne(**db, *s, "session");
}

Status SqliteOperatorStore::DeleteSession(std::string_view secret_hash) {
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached("DELETE FROM operator_sessions WHERE secret_hash = :hash");
  if (!s) return Fail(s.error());
  if (Status b = s->BindText(":hash", secret_hash); !b) return b;
  return s->Run();
}

Status SqliteOperatorStore::DeleteSessionsOf(std::string_view username,
                                             std::string_view keep_hash) {
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached(
      "DELETE FROM operator_sessions WHERE username = :username AND secret_hash != :keep");
  if (!s) return Fail(s.error());
  if (Status b = All({s->BindText(":username", username), s->BindText(":keep", keep_hash)}); !b) {
    return b;
  }
  return s->Run();
}

Status SqliteOperatorStore::DeleteExpiredSessions(Timestamp now, Timestamp idle_before) {
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached(
      "DELETE FROM operator_sessions WHERE expires_at <= :now OR last_seen_at <= :idle");
  if (!s) return Fail(s.error());
  if (Status b = All({s->BindText(":now", Time(now)), s->BindText(":idle", Time(idle_before))});
      !b) {
    return b;
  }
  return s->Run();
}

Status SqliteOperatorStore::InsertToken(const ApiTokenRow& t) {
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached(
      "INSERT INTO api_tokens (" + std::string(kTokenColumns) +
      ") VALUES (:id, :name, :username, :role, :hash, :created, :expires, NULL)");
  if (!s) return Fail(s.error());
  if (Status b =
          All({s->BindText(":id", t.id), s->BindText(":name", t.name),
               s->BindText(":username", t.username), s->BindText(":role", RoleName(t.role)),
               s->BindText(":hash", t.secret_hash), s->BindText(":created", Time(t.created_at)),
               s->BindText(":expires", Time(t.expires_at))});
      !b) {
    return b;
  }
  return s->Run();
}

Result<ApiTokenRow> SqliteOperatorStore::FindTokenBySecretHash(std::string_view secret_hash) {
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached("SELECT " + std::string(kTokenColumns) +
                                " FROM api_tokens WHERE secret_hash = :hash");
  if (!s) return Fail(s.error());
  if (Status b = s->BindText(":hash", secret_hash); !b) return Fail(b.error());
  return One(*s, ReadToken, "API token");
}

Result<ApiTokenRow> SqliteOperatorStore::GetToken(std::string_view id) {
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached("SELECT " + std::string(kTokenColumns) +
                                " FROM api_tokens WHERE id = :id");
  if (!s) return Fail(s.error());
  if (Status b = s->BindText(":id", id); !b) return Fail(b.error());
  return One(*s, ReadToken, "API token");
}

Result<std::vector<ApiTokenRow>> SqliteOperatorStore::ListTokens(
    std::optional<std::string_view> username) {
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached("SELECT " + std::string(kTokenColumns) +
                                " FROM api_tokens WHERE (:username IS NULL OR username = :username)"
                                " ORDER BY created_at, id");
  if (!s) return Fail(s.error());
  Status b = username ? s->BindText(":username", *username) : s->BindNull(":username");
  if (!b) return Fail(b.error());
  return Many<ApiTokenRow>(*s, ReadToken);
}

Result<std::int64_t> SqliteOperatorStore::CountTokensOf(std::string_view username) {
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached("SELECT COUNT(*) FROM api_tokens WHERE username = :username");
  if (!s) return Fail(s.error());
  if (Status b = s->BindText(":username", username); !b) return Fail(b.error());
  return Count(*s);
}

Status SqliteOperatorStore::DeleteToken(std::string_view id) {
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached("DELETE FROM api_tokens WHERE id = :id");
  if (!s) return Fail(s.error());
  if (Status b = s->BindText(":id", id); !b) return b;
  return RunOne(**db, *s, "API token");
}

Status SqliteOperatorStore::TouchToken(std::string_view id, Timestamp now, Timestamp stale_before) {
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached(
      "UPDATE api_tokens SET last_used_at = :now"
      " WHERE id = :id AND (last_used_at IS NULL OR last_used_at < :stale)");
  if (!s) return Fail(s.error());
  if (Status b = All({s->BindText(":now", Time(now)), s->BindText(":id", id),
                      s->BindText(":stale", Time(stale_before))});
      !b) {
    return b;
  }
  return s->Run();
}

}  // namespace aloft::server::operators::sqlite

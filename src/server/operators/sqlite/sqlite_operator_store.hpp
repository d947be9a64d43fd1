#pragma once

#include "platform/sqlite/connection_pool.hpp"
#include "server/operators/operator_store.hpp"

namespace aloft::server::operators::sqlite {

// Operators, sessions and API tokens in aloftd's SQLite database (migration 3: tables
// operators, operator_sessions, api_tokens). Each call leases one connection from the pool
// for its duration; calls that read and then write (InsertFirstUser, SetRole) run in one
// BEGIN IMMEDIATE transaction. Only bound parameters reach SQL. The pool must outlive the
// store and its database must be migrated (store::sqlite::ServerMigrations).
class SqliteOperatorStore final : public OperatorStore {
 public:
  explicit SqliteOperatorStore(platform::sqlite::ConnectionPool& pool) : pool_(pool) {}

  Status InsertUser(const UserRow& user) override;
  Status InsertFirstUser(const UserRow& user) override;
  Result<UserRow> GetUser(std::string_view username) override;
  Result<std::vector<UserRow>> ListUsers() override;
  Result<std::int64_t> CountUsersWithRole(Role role) override;
  Status SetRole(std::string_view username, Role role, Timestamp now) override;
  Status SetPassword(std::string_view username, std::string_view password_hash, bool must_change,
                     Timestamp now) override;
  Status SetPendingTotp(std::string_view username, ByteView secret, Timestamp now) override;
  Status EnableTotp(std::string_view username, std::int64_t step, Timestamp now) override;
  Result<bool> UseTotpStep(std::string_view username, std::int64_t step) override;
  Result<bool> ReplaceTotpSeed(std::string_view username, bool pending, ByteView expected,
                               ByteView replacement) override;

  Status InsertSession(const SessionRow& session) override;
  Result<SessionRow> GetSession(std::string_view secret_hash) override;
  Status TouchSession(std::string_view secret_hash, Timestamp now) override;
  Status DeleteSession(std::string_view secret_hash) override;
  Status DeleteSessionsOf(std::string_view username, std::string_view keep_hash) override;
  Status DeleteExpiredSessions(Timestamp now, Timestamp idle_before) override;

  Status InsertToken(const ApiTokenRow& token) override;
  Result<ApiTokenRow> FindTokenBySecretHash(std::string_view secret_hash) override;
  Result<ApiTokenRow> GetToken(std::string_view id) override;
  Result<std::vector<ApiTokenRow>> ListTokens(std::optional<std::string_view> username) override;
  Result<std::int64_t> CountTokensOf(std::string_view username) override;
  Status DeleteToken(std::string_view id) override;
  Status TouchToken(std::string_view id, Timestamp now, Timestamp stale_before) override;

 private:
  platform::sqlite::ConnectionPool& pool_;
};

}  // namespace aloft::server::operators::sqlite

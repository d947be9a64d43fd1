#pragma once

#include "core/base/time.hpp"
#include "platform/sqlite/connection_pool.hpp"
#include "server/audit/audit_log.hpp"

namespace aloft::server::audit::sqlite {

// The audit trail in aloftd's SQLite database (tables audit_log and audit_head, migration 4).
// Each Append is one BEGIN IMMEDIATE transaction that reads the head, inserts the record and
// moves the head, so appends from any number of threads and processes form one linear chain.
// Each call leases one connection from the pool for its duration. The pool and the clock must
// outlive the log.
class SqliteAuditLog final : public AuditLog {
 public:
  SqliteAuditLog(platform::sqlite::ConnectionPool& pool, const Clock& clock)
      : pool_(pool), clock_(clock) {}

  Result<AuditRecord> Append(const AuditEvent& event) override;
  Result<std::vector<AuditRecord>> List(std::int64_t after, std::size_t limit) override;
  Status Export(std::int64_t after, const std::function<bool(const AuditRecord&)>& sink) override;
  Result<VerifyReport> Verify() override;

 private:
  platform::sqlite::ConnectionPool& pool_;
  const Clock& clock_;
};

}  // namespace aloft::server::audit::sqlite

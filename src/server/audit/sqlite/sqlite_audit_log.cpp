#include "server/audit/sqlite/sqlite_audit_log.hpp"

#include <algorithm>
#include <chrono>
#include <limits>

#include "server/audit/chain_verifier.hpp"

namespace aloft::server::audit::sqlite {
namespace {

using platform::sqlite::Statement;

constexpr std::chrono::milliseconds kLeaseTimeout{5000};
constexpr std::size_t kMaxPage = 1000;

constexpr std::string_view kSelect =
    "SELECT seq, at, actor, action, target, outcome, details, prev_hash, hash FROM audit_log"
    " WHERE seq > :after ORDER BY seq";

// A row read back. Any field that does not parse means the row was edited outside aloftd.
Result<AuditRecord> ReadRecord(const Statement& s) {
  AuditRecord r;
  r.seq = s.ColumnInt64(0);
  auto at = ParseTimestamp(s.ColumnText(1));
  auto outcome = ParseOutcome(s.ColumnText(5));
  auto details = core::codec::ParseJson(s.ColumnText(6));
  if (!at || !outcome || !details || !details->IsObject()) {
    return Fail(Errc::kCorrupt, "audit record " + std::to_string(r.seq) +
                                    " is unreadable (run the audit verification)");
  }
  r.at = *at;
  r.actor = s.ColumnText(2);
  r.action = s.ColumnText(3);
  r.target = s.ColumnText(4);
  r.outcome = *outcome;
  r.details = std::move(*details);
  r.prev_hash = s.ColumnText(7);
  r.hash = s.ColumnText(8);
  return r;
}

// Reads the stored head; nullopt when its row is gone.
Result<std::optional<ChainHead>> ReadHead(platform::sqlite::Database& db) {
  auto s = db.PrepareCached("SELECT seq, hash FROM audit_head WHERE id = 1");
  if (!s) return Fail(s.error());
  auto row = s->Step();
  if (!row) return Fail(row.error());
  if (!*row) return std::optional<ChainHead>();
  return std::optional<ChainHead>(ChainHead{s->ColumnInt64(0), s->ColumnText(1)});
}

}  // namespace

Result<AuditRecord> SqliteAuditLog::Append(const AuditEvent& raw_event) {
  const AuditEvent event = WithValidUtf8(raw_event);
  if (Status s = CheckEvent(event); !s) return Fail(s.error());
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  // BEGIN IMMEDIATE: the write lock is held from reading the head to moving it, so no other
  // connection (thread or process) can append in between.
  auto tx = platform::sqlite::Transaction::Begin(**db);
  if (!tx) return Fail(tx.error());
  auto head = ReadHead(**db);
  if (!head) return Fail(head.error());
  if (!*head) {
    return Fail(Errc::kCorrupt,
                "the audit log's chain head is missing: the database was tampered with");
  }
  AuditRecord r;
  r.seq = (*head)->seq + 1;
  r.at = std::chrono::floor<std::chrono::seconds>(clock_.Now());
  r.actor = event.actor;
  r.action = event.action;
  r.target = event.target;
  r.outcome = event.outcome;
  r.details = event.details;
  r.prev_hash = (*head)->hash;
  r.hash = RecordHash(r);

  auto insert = (*db)->PrepareCached(
      "INSERT INTO audit_log (seq, at, actor, action, target, outcome, details, prev_hash, hash)"
      " VALUES (:seq, :at, :actor, :action, :target, :outcome, :details, :prev, :hash)");
  if (!insert) return Fail(insert.error());
  for (Status b :
       {insert->BindInt64(":seq", r.seq), insert->BindText(":at", FormatTimestamp(r.at)),
        insert->BindText(":actor", r.actor), insert->BindText(":action", r.action),
        insert->BindText(":target", r.target), insert->BindText(":outcome", OutcomeName(r.outcome)),
        insert->BindText(":details", core::codec::CanonicalJson(r.details)),
        insert->BindText(":prev", r.prev_hash), insert->BindText(":hash", r.hash)}) {
    if (!b) return Fail(b.error());
  }
  if (Status s = insert->Run(); !s) return Fail(s.error());
  auto move = (*db)->PrepareCached("UPDATE audit_head SET seq = :seq, hash = :hash WHERE id = 1");
  if (!move) return Fail(move.error());
  for (Status b : {move->BindInt64(":seq", r.seq), move->BindText(":hash", r.hash)}) {
    if (!b) return Fail(b.error());
  }
  if (Status s = move->Run(); !s) return Fail(s.error());
  if (Status s = tx->Commit(); !s) return Fail(s.error());
  return r;
}

Result<std::vector<AuditRecord>> SqliteAuditLog::List(std::int64_t after, std::size_t limit) {
  std::vector<AuditRecord> out;
  std::size_t cap = std::min(limit, kMaxPage);
  if (cap == 0) return out;
  Status s = Export(after, [&](const AuditRecord& r) {
    out.push_back(r);
    return out.size() < cap;
  });
  if (!s) return Fail(s.error());
  return out;
}

Status SqliteAuditLog::Export(std::int64_t after,
                              const std::function<bool(const AuditRecord&)>& sink) {
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  // Not cached: a long export keeps its statement, and List may run nested in a sink.
  auto s = (*db)->Prepare(kSelect);
  if (!s) return Fail(s.error());
  if (Status b = s->BindInt64(":after", after); !b) return b;
  while (true) {
    auto row = s->Step();
    if (!row) return Fail(row.error());
    if (!*row) return Ok();
    auto record = ReadRecord(*s);
    if (!record) return Fail(record.error());
    if (!sink(*record)) return Ok();
  }
}

Result<VerifyReport> SqliteAuditLog::Verify() {
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  // One read transaction, so the records and the head are one consistent snapshot even while
  // other connections append.
  if (Status s = (*db)->Exec("BEGIN DEFERRED"); !s) return Fail(s.error());
  struct EndRead {
    platform::sqlite::Database& db;
    ~EndRead() { (void)db.Exec("COMMIT"); }
  } end_read{**db};
  auto s = (*db)->Prepare(kSelect);
  if (!s) return Fail(s.error());
  // From the lowest possible seq: a row slipped in below 1 must be seen, not skipped.
  if (Status b = s->BindInt64(":after", std::numeric_limits<std::int64_t>::min()); !b) {
    return Fail(b.error());
  }
  ChainVerifier verifier;
  bool going = true;
  while (going) {
    auto row = s->Step();
    if (!row) return Fail(row.error());
    if (!*row) break;
    auto record = ReadRecord(*s);
    going = record ? verifier.Add(*record) : verifier.AddUnreadable(s->ColumnInt64(0));
  }
  auto head = ReadHead(**db);
  if (!head) return Fail(head.error());
  return verifier.Finish(*head);
}

}  // namespace aloft::server::audit::sqlite

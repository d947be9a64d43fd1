// The SQLite audit trail: appends form one chain (also under concurrency), pages and exports
// read it back, and Verify finds every kind of tampering done with raw SQL.

#include "server/audit/sqlite/sqlite_audit_log.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "platform/sqlite/migrator.hpp"
#include "server/store/sqlite/migrations.hpp"
#include "testing/fake_clock.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::server::audit::sqlite {
namespace {

using core::codec::Json;

// Lifts the append-only triggers, as someone with write access to the file could.
constexpr const char* kDropTriggers =
    "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;"
    " DROP TRIGGER audit_head_no_delete;";

class SqliteAuditLogTest : public aloft::testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    pool_ = OpenPool();
    auto lease = pool_->Acquire(std::chrono::seconds(1));
    ASSERT_TRUE(platform::sqlite::Migrator(store::sqlite::ServerMigrations()).Migrate(**lease));
    log_.emplace(*pool_, clock_);
  }

  std::unique_ptr<platform::sqlite::ConnectionPool> OpenPool() {
    auto pool = platform::sqlite::ConnectionPool::Open(dir_ / "aloft.db", {}, 2);
    EXPECT_TRUE(pool) << pool.error().ToString();
    return pool ? std::move(*pool) : nullptr;
  }

  static AuditEvent Event(int i) {
    return AuditEvent{"alice", "user.create", "user" + std::to_string(i), Outcome::kSuccess,
                      Json::Object{{"i", i}}};
  }

  void AppendN(int n) {
    for (int i = 1; i <= n; ++i) {
      auto r = log_->Append(Event(i));
      ASSERT_TRUE(r) << r.error().ToString();
      clock_.Advance(std::chrono::seconds(1));
    }
  }

  void Sql(const std::string& sql) {
    auto lease = pool_->Acquire(std::chrono::seconds(1));
    ASSERT_TRUE(lease);
    Status s = (*lease)->Exec(sql);
    ASSERT_TRUE(s) << s.error().ToString();
  }

  VerifyReport Verify() {
    auto report = log_->Verify();
    EXPECT_TRUE(report) << report.error().ToString();
    return report ? *report : VerifyReport{};
  }

  aloft::testing::FakeClock clock_;
  std::unique_ptr<platform::sqlite::ConnectionPool> pool_;
  std::optional<SqliteAuditLog> log_;
};

TEST_F(SqliteAuditLogTest, AppendsFormAChain) {
  auto first = log_->Append(Event(1));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->seq, 1);
  EXPECT_EQ(first->prev_hash, kGenesisHash);
  EXPECT_EQ(first->at, clock_.Now());
  EXPECT_EQ(first->hash, RecordHash(*first));
  auto second = log_->Append(Event(2));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->seq, 2);
  EXPECT_EQ(second->prev_hash, first->hash);
  VerifyReport report = Verify();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.records, 2);
  EXPECT_EQ(report.head_hash, second->hash);
}

TEST_F(SqliteAuditLogTest, AnEmptyLogVerifies) {
  VerifyReport report = Verify();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.records, 0);
  EXPECT_EQ(report.head_hash, kGenesisHash);
}

TEST_F(SqliteAuditLogTest, ListAndExportReadBackWhatWasAppended) {
  AppendN(25);
  auto page = log_->List(10, 5);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->size(), 5u);
  EXPECT_EQ((*page)[0].seq, 11);
  EXPECT_EQ((*page)[4].seq, 15);
  EXPECT_EQ((*page)[0].target, "user11");
  EXPECT_EQ((*page)[0].details, Json(Json::Object{{"i", 11}}));
  EXPECT_EQ(log_->List(0, 5000)->size(), 25u);
  EXPECT_TRUE(log_->List(25, 10)->empty());
  EXPECT_TRUE(log_->List(0, 0)->empty());

  std::vector<std::int64_t> seen;
  ASSERT_TRUE(log_->Export(20, [&](const AuditRecord& r) {
    seen.push_back(r.seq);
    return true;
  }));
  EXPECT_EQ(seen, (std::vector<std::int64_t>{21, 22, 23, 24, 25}));
  seen.clear();
  ASSERT_TRUE(log_->Export(0, [&](const AuditRecord& r) {
    seen.push_back(r.seq);
    return seen.size() < 3;
  }));
  EXPECT_EQ(seen.size(), 3u) << "the sink stops the export";
}

TEST_F(SqliteAuditLogTest, OversizeEventsAreRefusedAndChangeNothing) {
  AuditEvent e = Event(1);
  e.actor = std::string(kMaxAuditFieldBytes + 1, 'a');
  EXPECT_EQ(log_->Append(e).error().code(), Errc::kInvalidArgument);
  EXPECT_TRUE(log_->List(0, 10)->empty());
}

TEST_F(SqliteAuditLogTest, MalformedUtf8IsRepairedSoTheChainStillVerifies) {
  // What a byte-capped request path or a percent-decoded id can carry.
  AuditEvent e = Event(1);
  e.target = std::string(kMaxAuditFieldBytes - 1, 't') + "\xC3";
  e.details = core::codec::Json::Object{{"path", "/a/\xFF"}, {"k\xC0\xAF", "\xE2\x82"}};
  auto record = log_->Append(e);
  ASSERT_TRUE(record) << record.error().ToString();
  EXPECT_LE(record->target.size(), kMaxAuditFieldBytes);
  EXPECT_TRUE(core::codec::ParseJson(core::codec::DumpJson(ToJson(*record))));
  EXPECT_TRUE(Verify().ok);
  auto listed = log_->List(0, 10);
  ASSERT_TRUE(listed) << listed.error().ToString();
  EXPECT_EQ(listed->size(), 1u);
}

TEST_F(SqliteAuditLogTest, TheLogIsAppendOnlyForOrdinarySql) {
  AppendN(2);
  auto lease = pool_->Acquire(std::chrono::seconds(1));
  EXPECT_FALSE((*lease)->Exec("UPDATE audit_log SET actor = 'mallory' WHERE seq = 1"));
  EXPECT_FALSE((*lease)->Exec("DELETE FROM audit_log WHERE seq = 2"));
  EXPECT_FALSE((*lease)->Exec("DELETE FROM audit_head"));
}

TEST_F(SqliteAuditLogTest, ConcurrentAppendsFromSeveralConnectionsStayLinear) {
  // Separate pools are separate connections, as separate processes would have.
  auto other = OpenPool();
  ASSERT_TRUE(other);
  SqliteAuditLog other_log(*other, clock_);
  constexpr int kPerThread = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    AuditLog& log = t % 2 == 0 ? static_cast<AuditLog&>(*log_) : other_log;
    threads.emplace_back([&log, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto r = log.Append(AuditEvent{"thread" + std::to_string(t), "test.append",
                                       std::to_string(i), Outcome::kSuccess, Json::Object{}});
        EXPECT_TRUE(r) << r.error().ToString();
      }
    });
  }
  for (auto& th : threads) th.join();
  VerifyReport report = Verify();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.records, 4 * kPerThread);
}

TEST_F(SqliteAuditLogTest, AChangedRecordIsFound) {
  AppendN(5);
  Sql(std::string(kDropTriggers) + "UPDATE audit_log SET target = 'root' WHERE seq = 3;");
  VerifyReport report = Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 3);
}

TEST_F(SqliteAuditLogTest, ChangedDetailsAndUnreadableFieldsAreFound) {
  AppendN(4);
  Sql(std::string(kDropTriggers) + "UPDATE audit_log SET details = '{\"i\":99}' WHERE seq = 2;");
  EXPECT_EQ(Verify().first_bad_seq, 2);
  Sql("UPDATE audit_log SET details = 'not json' WHERE seq = 1;");
  VerifyReport report = Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 1);
  EXPECT_EQ(log_->List(0, 10).error().code(), Errc::kCorrupt);
}

TEST_F(SqliteAuditLogTest, AChangedAndRehashedRecordIsFoundAtTheNextLink) {
  AppendN(5);
  auto records = *log_->List(0, 10);
  AuditRecord forged = records[2];
  forged.actor = "mallory";
  forged.hash = RecordHash(forged);
  Sql(std::string(kDropTriggers) + "UPDATE audit_log SET actor = 'mallory', hash = '" +
      forged.hash + "' WHERE seq = 3;");
  EXPECT_EQ(Verify().first_bad_seq, 4);
}

TEST_F(SqliteAuditLogTest, ARemovedRecordIsFound) {
  AppendN(5);
  Sql(std::string(kDropTriggers) + "DELETE FROM audit_log WHERE seq = 2;");
  VerifyReport report = Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 2);
  EXPECT_EQ(report.problem, "record 2 is missing");
}

TEST_F(SqliteAuditLogTest, ReorderedRecordsAreFound) {
  AppendN(5);
  // Swap records 2 and 4, keeping each seq in place.
  Sql(std::string(kDropTriggers) +
      "UPDATE audit_log SET seq = -2 WHERE seq = 2;"
      "UPDATE audit_log SET seq = 2 WHERE seq = 4;"
      "UPDATE audit_log SET seq = 4 WHERE seq = -2;");
  VerifyReport report = Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 2);
}

TEST_F(SqliteAuditLogTest, RecordsCutFromTheEndAreFound) {
  AppendN(5);
  Sql(std::string(kDropTriggers) + "DELETE FROM audit_log WHERE seq > 3;");
  VerifyReport report = Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 4);
  // Appending goes on from the recorded head, so the gap stays visible.
  auto next = log_->Append(Event(6));
  ASSERT_TRUE(next);
  EXPECT_EQ(next->seq, 6);
  EXPECT_EQ(Verify().first_bad_seq, 4);
}

TEST_F(SqliteAuditLogTest, TruncatingTheWholeLogIsFound) {
  AppendN(3);
  Sql(std::string(kDropTriggers) + "DELETE FROM audit_log;");
  VerifyReport report = Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 1);
}

TEST_F(SqliteAuditLogTest, ARecordSlippedInWithoutTheHeadIsFound) {
  AppendN(2);
  auto last = log_->List(1, 1)->at(0);
  AuditRecord extra = last;
  extra.seq = 3;
  extra.prev_hash = last.hash;
  extra.hash = RecordHash(extra);
  Sql("INSERT INTO audit_log (seq, at, actor, action, target, outcome, details, prev_hash, hash)"
      " VALUES (3, '" +
      FormatTimestamp(extra.at) +
      "', 'alice', 'user.create', 'user2', 'success',"
      " '{\"i\":2}', '" +
      extra.prev_hash + "', '" + extra.hash + "');");
  VerifyReport report = Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 3);
}

TEST_F(SqliteAuditLogTest, AMissingHeadIsFoundAndStopsAppends) {
  AppendN(2);
  Sql(std::string(kDropTriggers) + "DELETE FROM audit_head;");
  EXPECT_FALSE(Verify().ok);
  EXPECT_EQ(log_->Append(Event(3)).error().code(), Errc::kCorrupt);
}

}  // namespace
}  // namespace aloft::server::audit::sqlite

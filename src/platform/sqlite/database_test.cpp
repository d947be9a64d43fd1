#include "platform/sqlite/database.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <limits>
#include <string>
#include <thread>

#include "platform/sqlite/connection_pool.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::platform::sqlite {
namespace {

using DatabaseTest = testing::TempDirTest;

Database OpenOrDie(const std::filesystem::path& path, const Options& options = {}) {
  auto db = Database::Open(path, options);
  EXPECT_TRUE(db) << db.error().ToString();
  return std::move(*db);
}

std::int64_t CountRows(Database& db, std::string_view table) {
  auto stmt = db.Prepare("SELECT count(*) FROM " + std::string(table));
  EXPECT_TRUE(stmt) << stmt.error().ToString();
  auto row = stmt->Step();
  EXPECT_TRUE(row && *row);
  return stmt->ColumnInt64(0);
}

TEST_F(DatabaseTest, RoundTripsEveryType) {
  auto db = OpenOrDie(dir_ / "db.sqlite");
  ASSERT_TRUE(db.Exec("CREATE TABLE t (i INTEGER, d REAL, s TEXT, b BLOB)"));

  const Bytes blob = {0x00, 0x01, 0x00, 0xff, 0x00};
  const std::string text("nul\0inside", 10);
  const std::int64_t extremes[] = {std::numeric_limits<std::int64_t>::min(), -1, 0,
                                   std::numeric_limits<std::int64_t>::max()};
  auto insert = db.Prepare("INSERT INTO t (i, d, s, b) VALUES (:i, :d, :s, :b)");
  ASSERT_TRUE(insert) << insert.error().ToString();
  for (std::int64_t value : extremes) {
    ASSERT_TRUE(insert->BindInt64(":i", value));
    ASSERT_TRUE(insert->BindDouble(":d", 0.5));
    ASSERT_TRUE(insert->BindText(":s", text));
    ASSERT_TRUE(insert->BindBlob(4, blob));
    ASSERT_TRUE(insert->Run());
    insert->Reset();
  }
  ASSERT_TRUE(insert->BindNull(1));
  ASSERT_TRUE(insert->BindText(3, ""));
  ASSERT_TRUE(insert->BindBlob(4, Bytes{}));
  ASSERT_TRUE(insert->Run());  // d stays NULL: Reset cleared its binding

  auto select = db.Prepare("SELECT i, d, s, b FROM t ORDER BY rowid");
  ASSERT_TRUE(select);
  EXPECT_EQ(select->ColumnCount(), 4);
  for (std::int64_t value : extremes) {
    auto row = select->Step();
    ASSERT_TRUE(row && *row);
    EXPECT_EQ(select->ColumnInt64(0), value);
    EXPECT_EQ(select->ColumnDouble(1), 0.5);
    EXPECT_EQ(select->ColumnText(2), text);
    EXPECT_EQ(select->ColumnBlob(3), blob);
    EXPECT_FALSE(select->IsNull(3));
  }
  auto row = select->Step();
  ASSERT_TRUE(row && *row);
  EXPECT_TRUE(select->IsNull(0));
  EXPECT_TRUE(select->IsNull(1));
  EXPECT_FALSE(select->IsNull(2));  // empty text is not NULL
  EXPECT_EQ(select->ColumnText(2), "");
  EXPECT_FALSE(select->IsNull(3));  // empty blob is not NULL
  EXPECT_TRUE(select->ColumnBlob(3).empty());
  row = select->Step();
  ASSERT_TRUE(row);
  EXPECT_FALSE(*row);
}

TEST_F(DatabaseTest, OpensInWalModeWithForeignKeysAndPrivateMode) {
  auto db = OpenOrDie(dir_ / "db.sqlite");
  auto mode = db.Prepare("PRAGMA journal_mode");
  ASSERT_TRUE(mode && *mode->Step());
  EXPECT_EQ(mode->ColumnText(0), "wal");
  auto fk = db.Prepare("PRAGMA foreign_keys");
  ASSERT_TRUE(fk && *fk->Step());
  EXPECT_EQ(fk->ColumnInt64(0), 1);
  auto sync = db.Prepare("PRAGMA synchronous");
  ASSERT_TRUE(sync && *sync->Step());
  EXPECT_EQ(sync->ColumnInt64(0), 1);  // NORMAL
  struct stat st {};
  ASSERT_EQ(::stat((dir_ / "db.sqlite").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(DatabaseTest, FullSynchronousAndSecureDeleteOptions) {
  Options options;
  options.synchronous = Synchronous::kFull;
  options.secure_delete = true;
  auto db = OpenOrDie(dir_ / "db.sqlite", options);
  auto sync = db.Prepare("PRAGMA synchronous");
  ASSERT_TRUE(sync && *sync->Step());
  EXPECT_EQ(sync->ColumnInt64(0), 2);  // FULL
  auto secure = db.Prepare("PRAGMA secure_delete");
  ASSERT_TRUE(secure && *secure->Step());
  EXPECT_EQ(secure->ColumnInt64(0), 1);
}

TEST_F(DatabaseTest, MissingFileWithoutCreateIsNotFound) {
  Options options;
  options.create = false;
  auto db = Database::Open(dir_ / "absent.sqlite", options);
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().code(), Errc::kNotFound);
}

TEST_F(DatabaseTest, UniqueViolationIsAlreadyExists) {
  auto db = Database::OpenInMemory();
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->Exec("CREATE TABLE t (name TEXT UNIQUE, id INTEGER PRIMARY KEY)"));
  ASSERT_TRUE(db->Exec("INSERT INTO t VALUES ('a', 1)"));
  auto dup = db->Exec("INSERT INTO t VALUES ('a', 2)");
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code(), Errc::kAlreadyExists) << dup.error().ToString();
  EXPECT_NE(dup.error().message().find("UNIQUE"), std::string::npos);

  auto stmt = db->Prepare("INSERT INTO t VALUES ('b', ?)");
  ASSERT_TRUE(stmt);
  ASSERT_TRUE(stmt->BindInt64(1, 1));
  auto pk = stmt->Run();
  ASSERT_FALSE(pk);
  EXPECT_EQ(pk.error().code(), Errc::kAlreadyExists) << pk.error().ToString();
}

TEST_F(DatabaseTest, ForeignKeyAndNotNullViolationsAreInvalidArgument) {
  auto db = Database::OpenInMemory();
  ASSERT_TRUE(db);
  ASSERT_TRUE(
      db->Exec("CREATE TABLE parent (id INTEGER PRIMARY KEY);"
               "CREATE TABLE child (id INTEGER PRIMARY KEY, "
               "  parent INTEGER NOT NULL REFERENCES parent(id));"));
  auto fk = db->Exec("INSERT INTO child VALUES (1, 42)");
  ASSERT_FALSE(fk);
  EXPECT_EQ(fk.error().code(), Errc::kInvalidArgument) << fk.error().ToString();
  EXPECT_NE(fk.error().message().find("FOREIGN KEY"), std::string::npos);

  auto null = db->Exec("INSERT INTO child VALUES (1, NULL)");
  ASSERT_FALSE(null);
  EXPECT_EQ(null.error().code(), Errc::kInvalidArgument);
}

TEST_F(DatabaseTest, MisuseIsInternal) {
  auto db = Database::OpenInMemory();
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->Exec("CREATE TABLE t (x)"));
  auto two = db->Prepare("SELECT 1; SELECT 2");
  ASSERT_FALSE(two);
  EXPECT_EQ(two.error().code(), Errc::kInternal);
  EXPECT_TRUE(db->Prepare("SELECT 1; ; \n"));

  auto empty = db->Prepare("  ");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code(), Errc::kInternal);

  auto stmt = db->Prepare("INSERT INTO t VALUES (:x)");
  ASSERT_TRUE(stmt);
  auto by_name = stmt->BindInt64(":nope", 1);
  ASSERT_FALSE(by_name);
  EXPECT_EQ(by_name.error().code(), Errc::kInternal);
  auto by_index = stmt->BindInt64(2, 1);
  ASSERT_FALSE(by_index);
  EXPECT_EQ(by_index.error().code(), Errc::kInternal) << by_index.error().ToString();

  auto syntax = db->Prepare("SELEKT 1");
  ASSERT_FALSE(syntax);
  EXPECT_EQ(syntax.error().code(), Errc::kIo);
  EXPECT_NE(syntax.error().message().find("SELEKT"), std::string::npos);
}

TEST_F(DatabaseTest, TransactionRollsBackUnlessCommitted) {
  auto db = OpenOrDie(dir_ / "db.sqlite");
  ASSERT_TRUE(db.Exec("CREATE TABLE t (x)"));
  {
    auto txn = Transaction::Begin(db);
    ASSERT_TRUE(txn) << txn.error().ToString();
    EXPECT_TRUE(db.InTransaction());
    ASSERT_TRUE(db.Exec("INSERT INTO t VALUES (1)"));
    auto nested = Transaction::Begin(db);
    ASSERT_FALSE(nested);
    EXPECT_EQ(nested.error().code(), Errc::kInternal);
  }
  EXPECT_FALSE(db.InTransaction());
  EXPECT_EQ(CountRows(db, "t"), 0);
  {
    auto txn = Transaction::Begin(db);
    ASSERT_TRUE(txn);
    ASSERT_TRUE(db.Exec("INSERT INTO t VALUES (2)"));
    ASSERT_TRUE(txn->Commit());
    EXPECT_FALSE(txn->Commit());  // already finished
  }
  EXPECT_EQ(CountRows(db, "t"), 1);
  {
    auto txn = Transaction::Begin(db);
    ASSERT_TRUE(txn);
    ASSERT_TRUE(db.Exec("INSERT INTO t VALUES (3)"));
    ASSERT_TRUE(txn->Rollback());
  }
  EXPECT_EQ(CountRows(db, "t"), 1);
}

TEST_F(DatabaseTest, DatabaseMovesWithItsStatements) {
  auto opened = Database::Open(dir_ / "db.sqlite");
  ASSERT_TRUE(opened);
  ASSERT_TRUE(opened->Exec("CREATE TABLE t (x)"));
  auto stmt = opened->Prepare("INSERT INTO t VALUES (7)");
  ASSERT_TRUE(stmt);
  Database moved = std::move(*opened);
  ASSERT_TRUE(stmt->Run());
  EXPECT_EQ(CountRows(moved, "t"), 1);
}

TEST_F(DatabaseTest, CachedStatementsAreReusedAndNestedUseGetsAFreshOne) {
  auto db = Database::OpenInMemory();
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->Exec("CREATE TABLE t (x); INSERT INTO t VALUES (1), (2)"));
  constexpr std::string_view kSql = "SELECT x FROM t ORDER BY x";
  for (int round = 0; round < 3; ++round) {
    auto outer = db->PrepareCached(kSql);
    ASSERT_TRUE(outer);
    auto row = outer->Step();
    ASSERT_TRUE(row && *row);
    EXPECT_EQ(outer->ColumnInt64(0), 1);   // the cached statement came back reset
    auto inner = db->PrepareCached(kSql);  // still lent out: a separate statement
    ASSERT_TRUE(inner);
    row = inner->Step();
    ASSERT_TRUE(row && *row);
    EXPECT_EQ(inner->ColumnInt64(0), 1);
    row = outer->Step();
    ASSERT_TRUE(row && *row);
    EXPECT_EQ(outer->ColumnInt64(0), 2);
  }
  // Bindings do not leak from one use to the next.
  {
    auto stmt = db->PrepareCached("SELECT ?1 IS NULL");
    ASSERT_TRUE(stmt);
    ASSERT_TRUE(stmt->BindInt64(1, 5));
    ASSERT_TRUE(*stmt->Step());
    EXPECT_EQ(stmt->ColumnInt64(0), 0);
  }
  auto stmt = db->PrepareCached("SELECT ?1 IS NULL");
  ASSERT_TRUE(stmt);
  ASSERT_TRUE(*stmt->Step());
  EXPECT_EQ(stmt->ColumnInt64(0), 1);
}

TEST_F(DatabaseTest, CorruptFileIsCorrupt) {
  const auto path = dir_ / "garbage.sqlite";
  std::ofstream(path, std::ios::binary) << std::string(8192, 'x');
  auto db = Database::Open(path);
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().code(), Errc::kCorrupt) << db.error().ToString();
}

TEST_F(DatabaseTest, DamagedPagesFailIntegrityCheck) {
  const auto path = dir_ / "db.sqlite";
  {
    auto db = OpenOrDie(path);
    ASSERT_TRUE(
        db.Exec("PRAGMA journal_mode=DELETE; CREATE TABLE t (x TEXT);"
                "CREATE INDEX t_x ON t(x);"));
    auto txn = Transaction::Begin(db);
    ASSERT_TRUE(txn);
    auto insert = db.Prepare("INSERT INTO t VALUES (?)");
    ASSERT_TRUE(insert);
    for (int i = 0; i < 2000; ++i) {
      ASSERT_TRUE(insert->BindText(1, "row number " + std::to_string(i)));
      ASSERT_TRUE(insert->Run());
      insert->Reset();
    }
    ASSERT_TRUE(txn->Commit());
    ASSERT_TRUE(db.CheckIntegrity());
  }
  // Scribble over the middle of the file (page 1, the header, stays intact).
  {
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(4096 * 3);
    const std::string junk(4096 * 4, '\xA5');
    file.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  auto db = Database::Open(path);
  ASSERT_TRUE(db) << db.error().ToString();
  auto check = db->CheckIntegrity();
  ASSERT_FALSE(check);
  EXPECT_EQ(check.error().code(), Errc::kCorrupt) << check.error().ToString();
}

TEST_F(DatabaseTest, ForeignKeyCheckReportsDanglingRows) {
  auto db = OpenOrDie(dir_ / "db.sqlite");
  ASSERT_TRUE(
      db.Exec("CREATE TABLE p (id INTEGER PRIMARY KEY);"
              "CREATE TABLE c (id INTEGER PRIMARY KEY, p INTEGER REFERENCES p(id));"
              "PRAGMA foreign_keys=OFF; INSERT INTO c VALUES (1, 99);"
              "PRAGMA foreign_keys=ON;"));
  auto check = db.CheckIntegrity();
  ASSERT_FALSE(check);
  EXPECT_EQ(check.error().code(), Errc::kCorrupt);
  EXPECT_NE(check.error().message().find("row 1 of c"), std::string::npos)
      << check.error().message();
}

TEST_F(DatabaseTest, BusyWriterGetsUnavailable) {
  const auto path = dir_ / "db.sqlite";
  auto first = OpenOrDie(path);
  ASSERT_TRUE(first.Exec("CREATE TABLE t (x)"));
  Options impatient;
  impatient.busy_timeout = std::chrono::milliseconds(50);
  auto second = OpenOrDie(path, impatient);

  auto txn = Transaction::Begin(first);
  ASSERT_TRUE(txn);
  ASSERT_TRUE(first.Exec("INSERT INTO t VALUES (1)"));

  auto blocked = Transaction::Begin(second);
  ASSERT_FALSE(blocked);
  EXPECT_EQ(blocked.error().code(), Errc::kUnavailable) << blocked.error().ToString();
  auto write = second.Exec("INSERT INTO t VALUES (2)");
  ASSERT_FALSE(write);
  EXPECT_EQ(write.error().code(), Errc::kUnavailable);
  // WAL: the reader is not blocked and sees the last committed state.
  EXPECT_EQ(CountRows(second, "t"), 0);

  ASSERT_TRUE(txn->Commit());
  EXPECT_TRUE(second.Exec("INSERT INTO t VALUES (2)"));
  EXPECT_EQ(CountRows(first, "t"), 2);
}

TEST_F(DatabaseTest, BusyTimeoutWaitsForTheLock) {
  const auto path = dir_ / "db.sqlite";
  auto first = OpenOrDie(path);
  ASSERT_TRUE(first.Exec("CREATE TABLE t (x)"));
  auto second = OpenOrDie(path);  // default 5 s timeout
  auto txn = Transaction::Begin(first);
  ASSERT_TRUE(txn);
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_TRUE(txn->Commit());
  });
  EXPECT_TRUE(second.Exec("INSERT INTO t VALUES (1)"));
  releaser.join();
}

TEST_F(DatabaseTest, BackupOfADatabaseBeingWrittenIsIntact) {
  const auto path = dir_ / "live.sqlite";
  {
    auto db = OpenOrDie(path);
    ASSERT_TRUE(
        db.Exec("CREATE TABLE p (id INTEGER PRIMARY KEY, v TEXT);"
                "CREATE TABLE c (id INTEGER PRIMARY KEY, p INTEGER NOT NULL "
                "  REFERENCES p(id));"));
  }
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::atomic<bool> writer_done{false};
  std::thread writer([&] {
    struct Done {
      std::atomic<bool>& flag;
      ~Done() { flag.store(true); }
    } done{writer_done};
    auto db = OpenOrDie(path);
    auto parent = db.Prepare("INSERT INTO p (v) VALUES (?)");
    auto child = db.Prepare("INSERT INTO c (p) VALUES (?)");
    ASSERT_TRUE(parent && child);
    while (!stop.load()) {
      auto txn = Transaction::Begin(db);
      ASSERT_TRUE(txn) << txn.error().ToString();
      ASSERT_TRUE(parent->BindText(1, std::string(200, 'v')));
      ASSERT_TRUE(parent->Run());
      parent->Reset();
      ASSERT_TRUE(child->BindInt64(1, db.LastInsertRowId()));
      ASSERT_TRUE(child->Run());
      child->Reset();
      ASSERT_TRUE(txn->Commit());
      written.fetch_add(1);
    }
  });
  // Stops the writer on every way out of the test, including a failed ASSERT.
  struct StopAndJoin {
    std::atomic<bool>& stop;
    std::thread& thread;
    ~StopAndJoin() {
      stop.store(true);
      thread.join();
    }
  } stopper{stop, writer};
  while (written.load() < 50 && !writer_done.load()) std::this_thread::yield();
  ASSERT_FALSE(writer_done.load()) << "the writer thread failed";

  auto source = OpenOrDie(path);
  for (int i = 0; i < 3; ++i) {
    const auto backup = dir_ / "backup.sqlite";
    auto s = BackupTo(source, backup);
    ASSERT_TRUE(s) << s.error().ToString();
    auto copy = OpenOrDie(backup);
    auto check = copy.CheckIntegrity();
    EXPECT_TRUE(check) << check.error().ToString();
    const auto parents = CountRows(copy, "p");
    EXPECT_GT(parents, 0);
    EXPECT_EQ(CountRows(copy, "c"), parents);  // one snapshot: every parent has its child
    struct stat st {};
    ASSERT_EQ(::stat(backup.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
  }
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp-"), std::string::npos) << entry.path();
  }
}

TEST_F(DatabaseTest, BackupInsideTransactionOrIntoMissingDirectoryFails) {
  auto db = OpenOrDie(dir_ / "db.sqlite");
  ASSERT_TRUE(db.Exec("CREATE TABLE t (x)"));
  auto missing = BackupTo(db, dir_ / "no" / "such" / "backup.sqlite");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Errc::kIo);
  auto txn = Transaction::Begin(db);
  ASSERT_TRUE(txn);
  auto inside = BackupTo(db, dir_ / "backup.sqlite");
  ASSERT_FALSE(inside);
  EXPECT_EQ(inside.error().code(), Errc::kInternal);
}

TEST_F(DatabaseTest, ConnectionPoolLendsEachConnectionOnce) {
  const auto path = dir_ / "db.sqlite";
  auto pool = ConnectionPool::Open(path, {}, 2);
  ASSERT_TRUE(pool) << pool.error().ToString();
  {
    auto a = (*pool)->Acquire(std::chrono::milliseconds(10));
    ASSERT_TRUE(a);
    ASSERT_TRUE((*a)->Exec("CREATE TABLE t (x)"));
    auto b = (*pool)->Acquire(std::chrono::milliseconds(10));
    ASSERT_TRUE(b);
    EXPECT_NE(&**a, &**b);
    auto c = (*pool)->Acquire(std::chrono::milliseconds(10));
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code(), Errc::kUnavailable);
    // A transaction left open by a holder is rolled back when the lease returns.
    ASSERT_TRUE((*b)->Exec("BEGIN IMMEDIATE; INSERT INTO t VALUES (1)"));
  }
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 20; ++j) {
        auto lease = (*pool)->Acquire(std::chrono::seconds(10));
        ASSERT_TRUE(lease) << lease.error().ToString();
        EXPECT_FALSE((*lease)->InTransaction());
        auto s = (*lease)->Exec("INSERT INTO t VALUES (2)");
        ASSERT_TRUE(s) << s.error().ToString();
      }
      done.fetch_add(1);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(done.load(), 4);
  auto lease = (*pool)->Acquire(std::chrono::milliseconds(10));
  ASSERT_TRUE(lease);
  EXPECT_EQ(CountRows(**lease, "t"), 80);
}

TEST_F(DatabaseTest, ReadSnapshotSeesOneStateUntilItWrites) {
  const auto path = dir_ / "db.sqlite";
  auto reader = OpenOrDie(path);
  auto writer = OpenOrDie(path);
  ASSERT_TRUE(writer.Exec("CREATE TABLE t (x)"));
  ASSERT_TRUE(writer.Exec("INSERT INTO t VALUES (1)"));

  ASSERT_TRUE(reader.BeginReadSnapshot());
  EXPECT_TRUE(reader.InReadSnapshot());
  EXPECT_EQ(CountRows(reader, "t"), 1);
  ASSERT_TRUE(writer.Exec("INSERT INTO t VALUES (2)"));
  EXPECT_EQ(CountRows(reader, "t"), 1);  // the snapshot's state, not the newer one
  EXPECT_TRUE(reader.InReadSnapshot());

  // A write would have to upgrade a stale snapshot (SQLITE_BUSY_SNAPSHOT): it ends the
  // snapshot instead, and what follows sees both the other connection's write and its own.
  auto insert = reader.Prepare("INSERT INTO t VALUES (3)");
  ASSERT_TRUE(insert);
  ASSERT_TRUE(insert->Run()) << "the write must not fail on the stale snapshot";
  EXPECT_FALSE(reader.InReadSnapshot());
  EXPECT_FALSE(reader.InTransaction());
  EXPECT_EQ(CountRows(reader, "t"), 3);

  // A Transaction and Exec() end a snapshot too; EndReadSnapshot() is idempotent.
  ASSERT_TRUE(reader.BeginReadSnapshot());
  EXPECT_EQ(CountRows(reader, "t"), 3);
  ASSERT_TRUE(writer.Exec("INSERT INTO t VALUES (4)"));
  {
    auto txn = Transaction::Begin(reader);
    ASSERT_TRUE(txn) << txn.error().ToString();
    EXPECT_FALSE(reader.InReadSnapshot());
    ASSERT_TRUE(reader.Exec("INSERT INTO t VALUES (5)"));
    ASSERT_TRUE(txn->Commit());
  }
  EXPECT_EQ(CountRows(reader, "t"), 5);
  ASSERT_TRUE(reader.BeginReadSnapshot());
  EXPECT_EQ(CountRows(reader, "t"), 5);
  ASSERT_TRUE(reader.Exec("INSERT INTO t VALUES (6)"));
  EXPECT_FALSE(reader.InReadSnapshot());
  reader.EndReadSnapshot();
  EXPECT_EQ(CountRows(reader, "t"), 6);

  // Snapshots do not nest in transactions.
  auto txn = Transaction::Begin(reader);
  ASSERT_TRUE(txn);
  auto nested = reader.BeginReadSnapshot();
  ASSERT_FALSE(nested);
  EXPECT_EQ(nested.error().code(), Errc::kInternal);
}

TEST_F(DatabaseTest, ReadScopePinsOneConnectionToItsThread) {
  auto pool = ConnectionPool::Open(dir_ / "db.sqlite", {}, 2);
  ASSERT_TRUE(pool) << pool.error().ToString();
  {
    auto setup = (*pool)->Acquire(std::chrono::milliseconds(10));
    ASSERT_TRUE(setup);
    ASSERT_TRUE((*setup)->Exec("CREATE TABLE t (x); INSERT INTO t VALUES (1)"));
  }
  auto insert_elsewhere = [&] {
    std::thread([&] {
      auto lease = (*pool)->Acquire(std::chrono::seconds(10));
      ASSERT_TRUE(lease) << lease.error().ToString();
      ASSERT_TRUE((*lease)->Exec("INSERT INTO t VALUES (2)"));
    }).join();
  };
  {
    auto scope = (*pool)->BeginReadScope(std::chrono::milliseconds(10));
    ASSERT_TRUE(scope) << scope.error().ToString();
    Database* pinned = nullptr;
    {
      auto first = (*pool)->Acquire(std::chrono::milliseconds(10));
      ASSERT_TRUE(first);
      pinned = &**first;
      EXPECT_TRUE(pinned->InReadSnapshot());
      EXPECT_EQ(CountRows(**first, "t"), 1);
    }
    insert_elsewhere();  // on another thread: the other connection, outside the snapshot
    {
      auto second = (*pool)->Acquire(std::chrono::milliseconds(10));
      ASSERT_TRUE(second);
      EXPECT_EQ(&**second, pinned) << "the scope's connection, lent again";
      EXPECT_EQ(CountRows(**second, "t"), 1) << "still the snapshot's state";
      auto joined = (*pool)->BeginReadScope(std::chrono::milliseconds(10));
      ASSERT_TRUE(joined);  // joins the open scope
    }
    EXPECT_TRUE(pinned->InReadSnapshot()) << "a joined scope ends nothing";
    // The pinned connection is out of the pool: other threads share the one left.
    std::thread([&] {
      auto left = (*pool)->Acquire(std::chrono::milliseconds(10));
      ASSERT_TRUE(left);
      EXPECT_NE(&**left, pinned);
      auto none = (*pool)->Acquire(std::chrono::milliseconds(10));
      EXPECT_FALSE(none);
    }).join();
  }
  // Ended: the connection is back, outside any transaction, and reads are current again.
  auto a = (*pool)->Acquire(std::chrono::milliseconds(10));
  auto b = (*pool)->Acquire(std::chrono::milliseconds(10));
  ASSERT_TRUE(a && b);
  EXPECT_FALSE((*a)->InTransaction());
  EXPECT_FALSE((*b)->InTransaction());
  EXPECT_EQ(CountRows(**a, "t"), 2);
  // Every connection lent: a scope cannot begin, and says so.
  auto refused = (*pool)->BeginReadScope(std::chrono::milliseconds(0));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Errc::kUnavailable);
}

}  // namespace
}  // namespace aloft::platform::sqlite

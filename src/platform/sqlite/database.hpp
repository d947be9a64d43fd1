#pragma once

// RAII access to an SQLite 3 database over the C API: Database (one connection), Statement
// (one prepared statement), Transaction (BEGIN IMMEDIATE ... COMMIT, rolled back unless
// committed). sqlite3.h is included only by the .cpp files of this folder.
//
// Thread-safety: connections are opened in SQLite's multi-thread mode (SQLITE_OPEN_NOMUTEX).
// A Database and every Statement prepared from it must be used by one thread at a time; they
// may move between threads. For concurrent work, give each thread its own connection to the
// same file (see ConnectionPool); WAL lets readers run while one writer writes.
//
// Lifetime: a Statement or Transaction must not outlive the Database it came from.
//
// Errors, chosen by what the caller should do:
//   kUnavailable      SQLITE_BUSY / SQLITE_LOCKED after busy_timeout: retry later
//   kAlreadyExists    a UNIQUE or PRIMARY KEY constraint failed: the row is already there
//   kInvalidArgument  a FOREIGN KEY, NOT NULL or CHECK constraint failed: the input is wrong
//   kNoSpace          SQLITE_FULL: the disk is full
//   kCorrupt          SQLITE_CORRUPT / SQLITE_NOTADB, failed integrity checks: fail-stop
//   kTooLarge         SQLITE_TOOBIG: a string or blob exceeds SQLite's limits
//   kCancelled        SQLITE_INTERRUPT
//   kInternal         API misuse: a bad bind index or name, several statements in Prepare,
//                     a transaction inside a transaction
//   kIo               everything else (I/O errors, SQL errors such as a missing table)
// Messages name the operation and the SQL and include SQLite's own message, which can mention
// table and column names. They are for developers' logs: the API layer must not show them to
// users.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace aloft::platform::sqlite {

enum class Synchronous : std::uint8_t {
  // WAL + NORMAL: a commit is durable once the WAL is checkpointed or the next fsync runs; a
  // power cut can lose the last transactions but never corrupts the database.
  kNormal,
  // WAL + FULL: every commit fsyncs the WAL, so a committed transaction survives power loss.
  kFull,
};

struct Options {
  // Create the file when it does not exist; otherwise a missing file is kNotFound.
  bool create = true;
  bool read_only = false;
  Synchronous synchronous = Synchronous::kNormal;
  // How long a statement waits for another connection's lock before failing kUnavailable.
  std::chrono::milliseconds busy_timeout{5000};
  // Overwrite deleted content with zeros (PRAGMA secure_delete), for tables holding secrets.
  bool secure_delete = false;
  // Statements kept by PrepareCached(); beyond this, PrepareCached() prepares uncached ones.
  std::size_t statement_cache_size = 64;
  // Bytes of the file SQLite reads through a memory map (PRAGMA mmap_size; 0: none). Reads of
  // pages outside the connection's cache then cost no pread() and no copy: at 100,000
  // devices, one device lookup per check-in otherwise missed the 2 MiB page cache about half
  // the time. Writes still go through the WAL.
  std::int64_t mmap_bytes = std::int64_t{256} << 20;
};

class Database;
// A connection's read-snapshot state (defined in database.cpp).
struct ReadSnapshot;

// A parameter of a statement, by 1-based index or by name including its prefix (":id").
class Param {
 public:
  Param(int index) : index_(index) {}              // NOLINT(google-explicit-constructor)
  Param(const char* name) : name_(name) {}         // NOLINT(google-explicit-constructor)
  Param(std::string_view name) : name_(name) {}    // NOLINT(google-explicit-constructor)
  Param(const std::string& name) : name_(name) {}  // NOLINT(google-explicit-constructor)

  int index() const noexcept { return index_; }
  std::string_view name() const noexcept { return name_; }

 private:
  int index_ = 0;
  std::string_view name_;
};

// A prepared statement. Typical use:
//   auto stmt = db.Prepare("SELECT name FROM devices WHERE id = :id");
//   if (!stmt) return ...;
//   if (Status s = stmt->BindInt64(":id", id); !s) return ...;
//   for (;;) { auto row = stmt->Step(); if (!row) return ...; if (!*row) break; ... }
// Column accessors read the current row (valid after Step() returned true) and use SQLite's
// type conversions (ColumnInt64 of a NULL is 0; use IsNull to tell). Movable, not copyable.
class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  // Finalizes the statement, or, for a cached one, resets it and hands it back to the cache.
  ~Statement();

  // Binding fails with kInternal for an unknown index or name. Text and blobs are copied.
  Status BindInt64(Param param, std::int64_t value);
  Status BindDouble(Param param, double value);
  Status BindText(Param param, std::string_view value);
  Status BindBlob(Param param, ByteView value);
  Status BindNull(Param param);

  // Runs until the next row: true when a row is available, false when the statement is done.
  Result<bool> Step();
  // Steps until done, ignoring any rows (for INSERT/UPDATE/DELETE).
  Status Run();

  int ColumnCount() const;
  bool IsNull(int column) const;
  std::int64_t ColumnInt64(int column) const;
  double ColumnDouble(int column) const;
  std::string ColumnText(int column) const;
  Bytes ColumnBlob(int column) const;

  // Rewinds the statement and clears its bindings, ready for reuse.
  void Reset() noexcept;

  // The SQL text, for messages.
  std::string_view sql() const noexcept;

 private:
  friend class Database;
  Statement(sqlite3_stmt* stmt, bool* cache_in_use, ReadSnapshot* snapshot) noexcept
      : stmt_(stmt), cache_in_use_(cache_in_use), snapshot_(snapshot) {}
  Result<int> Index(const Param& param) const;
  Status Check(int rc, const Param& param, std::string_view what);

  sqlite3_stmt* stmt_ = nullptr;
  // Non-null for a statement borrowed from the Database's cache: the flag to clear on return.
  bool* cache_in_use_ = nullptr;
  // The connection's read snapshot (see Database::BeginReadSnapshot): a statement that writes
  // ends it before it runs.
  ReadSnapshot* snapshot_ = nullptr;
};

// One connection. Movable (the handle moves; Statements stay valid), not copyable.
class Database {
 public:
  // Opens (or creates) the file at `path` and configures it: journal_mode=WAL,
  // foreign_keys=ON, synchronous per options, busy_timeout, secure_delete. A file that is not
  // an SQLite database fails here with kCorrupt.
  static Result<Database> Open(const std::filesystem::path& path, const Options& options = {});
  // A private in-memory database (journal_mode is MEMORY, not WAL), for tests.
  static Result<Database> OpenInMemory(const Options& options = {});

  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  // Runs one or more ';'-separated statements without parameters (DDL, pragmas).
  Status Exec(std::string_view sql);

  // Prepares exactly one statement; trailing text other than whitespace or ';' is kInternal.
  Result<Statement> Prepare(std::string_view sql);
  // Like Prepare, but keeps the compiled statement for the next call with the same text, which
  // saves the parse on hot paths. Meant for SQL fixed at compile time (the cache never evicts;
  // past statement_cache_size entries this behaves like Prepare). A statement already lent out
  // (e.g. a nested use of the same query) is not shared: a fresh one is prepared instead.
  Result<Statement> PrepareCached(std::string_view sql);

  // The rowid of the last successful INSERT on this connection.
  std::int64_t LastInsertRowId() const noexcept;
  // Rows changed by the last INSERT/UPDATE/DELETE on this connection.
  std::int64_t Changes() const noexcept;
  // True while a transaction is open on this connection (a read snapshot included).
  bool InTransaction() const noexcept;

  // A read snapshot: the reads that follow, up to EndReadSnapshot(), all see the database as
  // of the first of them (a deferred BEGIN), and share one lock acquisition and release
  // instead of paying them per statement as autocommit reads do (under WAL each costs a few
  // fcntl() calls; aloftd's check-in makes three reads). Anything that writes ends the
  // snapshot first and runs as it would without one: a statement that is not read-only,
  // Exec(), Transaction::Begin(). Reads after that are autocommit again and so see the write.
  // kInternal inside a transaction.
  Status BeginReadSnapshot();
  // Ends the snapshot if one is open; a no-op otherwise.
  void EndReadSnapshot() noexcept;
  bool InReadSnapshot() const noexcept;

  // PRAGMA integrity_check and foreign_key_check; kCorrupt naming the first problems found.
  Status CheckIntegrity();

  // The file this connection was opened on (empty for in-memory databases).
  const std::filesystem::path& path() const noexcept;

 private:
  friend class Transaction;
  friend Status BackupTo(Database& db, const std::filesystem::path& path);

  struct State;
  explicit Database(std::unique_ptr<State> state) noexcept;
  sqlite3* handle() const noexcept;
  static Result<Database> OpenUri(const std::string& name, int flags, const Options& options,
                                  std::filesystem::path path);

  std::unique_ptr<State> state_;
};

// A write transaction: BEGIN IMMEDIATE on creation (so the write lock is taken up front and a
// busy database fails here with kUnavailable, not halfway through), ROLLBACK on destruction
// unless Commit() succeeded. Transactions do not nest. Movable, not copyable.
class Transaction {
 public:
  static Result<Transaction> Begin(Database& db);

  Transaction(Transaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
  Transaction& operator=(Transaction&& other) noexcept;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  // COMMIT. On failure the transaction is rolled back (now or at destruction).
  Status Commit();
  // ROLLBACK now instead of at destruction.
  Status Rollback();

 private:
  explicit Transaction(sqlite3* db) noexcept : db_(db) {}

  // The connection's handle, which stays put when the Database object moves; null once
  // committed, rolled back or moved from.
  sqlite3* db_ = nullptr;
};

// Writes a consistent snapshot of `db` to `path` while other connections keep reading and
// writing: the copy appears at `path` atomically (temp file, fsync, rename, fsync directory)
// with mode 0600, replacing any file there. Must not be called inside a transaction on `db`.
// kIo / kNoSpace on failure; nothing is left at `path` or beside it.
Status BackupTo(Database& db, const std::filesystem::path& path);

}  // namespace aloft::platform::sqlite

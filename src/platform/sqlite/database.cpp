#include "platform/sqlite/database.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <map>
#include <utility>

#include "core/base/hex.hpp"
#include "core/crypto/hash.hpp"
#include "platform/posix/files.hpp"
#include "platform/posix/unique_fd.hpp"

namespace aloft::platform::sqlite {
namespace {

constexpr std::size_t kSqlInMessages = 120;

// The SQL as it appears in messages: whitespace runs folded, cut after kSqlInMessages chars.
std::string Abbreviate(std::string_view sql) {
  std::string out;
  bool space = false;
  for (char c : sql) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
    if (out.size() >= kSqlInMessages) {
      out += "...";
      break;
    }
  }
  return out;
}

Errc MapCode(int extended) {
  switch (extended) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_ROWID:
      return Errc::kAlreadyExists;
    default:
      break;
  }
  switch (extended & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Errc::kUnavailable;
    case SQLITE_CONSTRAINT:  // FOREIGN KEY, NOT NULL, CHECK: the caller's data is wrong
      return Errc::kInvalidArgument;
    case SQLITE_FULL:
      return Errc::kNoSpace;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Errc::kCorrupt;
    case SQLITE_TOOBIG:
      return Errc::kTooLarge;
    case SQLITE_INTERRUPT:
      return Errc::kCancelled;
    case SQLITE_MISUSE:
    case SQLITE_RANGE:
      return Errc::kInternal;
    default:
      return Errc::kIo;
  }
}

// "<what>: <sqlite's message>", with the code chosen from the extended result code.
Error SqliteError(int rc, std::string_view what, sqlite3* db) {
  std::string message(what);
  message += ": ";
  // sqlite3_errmsg describes the most recent failure on `db`, which is `rc` when called right
  // after the failing call; without a handle only the generic text for `rc` is known.
  message += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return Error(MapCode(rc), std::move(message));
}

Status ExecRaw(sqlite3* db, const char* sql) {
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return Fail(SqliteError(rc, "exec '" + Abbreviate(sql) + "'", db));
  return Ok();
}

// Runs a pragma that returns one text row (journal_mode) and returns that row.
Result<std::string> QueryText(sqlite3* db, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr);
  if (rc != SQLITE_OK) return Fail(SqliteError(rc, std::string("prepare '") + sql + "'", db));
  std::string text;
  rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) {
    const auto* p = sqlite3_column_text(stmt, 0);
    if (p != nullptr) text = reinterpret_cast<const char*>(p);
    rc = sqlite3_step(stmt);
  }
  if (rc != SQLITE_DONE) {
    Error error = SqliteError(rc, std::string("run '") + sql + "'", db);
    sqlite3_finalize(stmt);
    return Fail(std::move(error));
  }
  sqlite3_finalize(stmt);
  return text;
}

bool IsSpaceOrSemicolon(char c) {
  return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == ';';
}

}  // namespace

// BEGIN DEFERRED and COMMIT, prepared once per connection: a snapshot per request would
// otherwise parse both every time (sqlite3_exec prepares on each call).
struct ReadSnapshot {
  void Finalize() noexcept {
    sqlite3_finalize(std::exchange(begin, nullptr));
    sqlite3_finalize(std::exchange(commit, nullptr));
  }

  Status Begin() {
    const int rc = Step(begin, "BEGIN DEFERRED");
    if (rc != SQLITE_DONE) return Fail(SqliteError(rc, "begin a read snapshot", db));
    open = true;
    return Ok();
  }

  // COMMIT of a transaction that wrote nothing only releases its read lock; should it fail,
  // ROLLBACK does the same.
  void End() noexcept {
    if (!std::exchange(open, false) || sqlite3_get_autocommit(db) != 0) return;
    (void)Step(commit, "COMMIT");
    if (sqlite3_get_autocommit(db) == 0) (void)ExecRaw(db, "ROLLBACK");
  }

  // Runs `stmt`, prepared from `sql` on first use; SQLite's result code.
  int Step(sqlite3_stmt*& stmt, const char* sql) noexcept {
    if (stmt == nullptr) {
      const int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
      if (rc != SQLITE_OK) return rc;
    }
    const int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    return rc;
  }

  sqlite3* db = nullptr;
  bool open = false;
  sqlite3_stmt* begin = nullptr;
  sqlite3_stmt* commit = nullptr;
};

// ---------------------------------------------------------------------------------------------
// Statement

Statement::Statement(Statement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)),
      cache_in_use_(std::exchange(other.cache_in_use_, nullptr)),
      snapshot_(std::exchange(other.snapshot_, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    Statement old(std::move(*this));
    stmt_ = std::exchange(other.stmt_, nullptr);
    cache_in_use_ = std::exchange(other.cache_in_use_, nullptr);
    snapshot_ = std::exchange(other.snapshot_, nullptr);
  }
  return *this;
}

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  if (cache_in_use_ != nullptr) {
    Reset();
    *cache_in_use_ = false;
  } else {
    sqlite3_finalize(stmt_);
  }
}

std::string_view Statement::sql() const noexcept {
  const char* text = stmt_ != nullptr ? sqlite3_sql(stmt_) : nullptr;
  return text != nullptr ? text : "";
}

Result<int> Statement::Index(const Param& param) const {
  if (param.name().empty()) return param.index();
  const std::string name(param.name());
  const int index = sqlite3_bind_parameter_index(stmt_, name.c_str());
  if (index == 0) {
    return Fail(Errc::kInternal, "no parameter " + name + " in '" + Abbreviate(sql()) + "'");
  }
  return index;
}

Status Statement::Check(int rc, const Param& param, std::string_view what) {
  if (rc == SQLITE_OK) return Ok();
  std::string where =
      param.name().empty() ? std::to_string(param.index()) : std::string(param.name());
  return Fail(
      SqliteError(rc, std::string(what) + " parameter " + where + " of '" + Abbreviate(sql()) + "'",
                  sqlite3_db_handle(stmt_)));
}

Status Statement::BindInt64(Param param, std::int64_t value) {
  auto index = Index(param);
  if (!index) return Fail(std::move(index).error());
  return Check(sqlite3_bind_int64(stmt_, *index, value), param, "bind");
}

Status Statement::BindDouble(Param param, double value) {
  auto index = Index(param);
  if (!index) return Fail(std::move(index).error());
  return Check(sqlite3_bind_double(stmt_, *index, value), param, "bind");
}

Status Statement::BindText(Param param, std::string_view value) {
  auto index = Index(param);
  if (!index) return Fail(std::move(index).error());
  // A null data pointer would bind SQL NULL; an empty string_view may carry one.
  const char* data = value.data() != nullptr ? value.data() : "";
  return Check(
      sqlite3_bind_text64(stmt_, *index, data, value.size(), SQLITE_TRANSIENT, SQLITE_UTF8), param,
      "bind");
}

Status Statement::BindBlob(Param param, ByteView value) {
  auto index = Index(param);
  if (!index) return Fail(std::move(index).error());
  // sqlite3_bind_blob with a null pointer binds NULL, not an empty blob.
  if (value.empty()) return Check(sqlite3_bind_zeroblob(stmt_, *index, 0), param, "bind");
  return Check(sqlite3_bind_blob64(stmt_, *index, value.data(), value.size(), SQLITE_TRANSIENT),
               param, "bind");
}

Status Statement::BindNull(Param param) {
  auto index = Index(param);
  if (!index) return Fail(std::move(index).error());
  return Check(sqlite3_bind_null(stmt_, *index), param, "bind");
}

Result<bool> Statement::Step() {
  // A write inside a read snapshot would try to upgrade the snapshot's read transaction, which
  // fails (SQLITE_BUSY_SNAPSHOT) once another connection has written since; end it instead.
  if (snapshot_ != nullptr && snapshot_->open && sqlite3_stmt_readonly(stmt_) == 0) {
    snapshot_->End();
  }
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Fail(SqliteError(rc, "run '" + Abbreviate(sql()) + "'", sqlite3_db_handle(stmt_)));
}

Status Statement::Run() {
  for (;;) {
    auto row = Step();
    if (!row) return Fail(std::move(row).error());
    if (!*row) return Ok();
  }
}

int Statement::ColumnCount() const { return sqlite3_column_count(stmt_); }

bool Statement::IsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::int64_t Statement::ColumnInt64(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

double Statement::ColumnDouble(int column) const { return sqlite3_column_double(stmt_, column); }

std::string Statement::ColumnText(int column) const {
  // Pointer first, then length: the documented order that avoids a second conversion.
  const unsigned char* p = sqlite3_column_text(stmt_, column);
  const int n = sqlite3_column_bytes(stmt_, column);
  if (p == nullptr || n <= 0) return {};
  return std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
}

Bytes Statement::ColumnBlob(int column) const {
  const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, column));
  const int n = sqlite3_column_bytes(stmt_, column);
  if (p == nullptr || n <= 0) return {};
  return Bytes(p, p + n);
}

void Statement::Reset() noexcept {
  if (stmt_ == nullptr) return;
  // sqlite3_reset repeats the last step's error, which the caller already received.
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

// ---------------------------------------------------------------------------------------------
// Database

struct Database::State {
  struct CacheEntry {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;
  };

  ~State() {
    for (auto& [sql, entry] : cache) sqlite3_finalize(entry.stmt);
    snapshot.Finalize();
    // close_v2 defers the close while uncached Statements are still alive instead of failing.
    sqlite3_close_v2(db);
  }

  sqlite3* db = nullptr;
  std::filesystem::path path;
  std::size_t cache_limit = 0;
  // std::map: nodes never move, so the in_use flags lent to Statements stay valid.
  std::map<std::string, CacheEntry, std::less<>> cache;
  ReadSnapshot snapshot;
};

Database::Database(std::unique_ptr<State> state) noexcept : state_(std::move(state)) {}
Database::Database(Database&& other) noexcept = default;
Database& Database::operator=(Database&& other) noexcept = default;
Database::~Database() = default;

sqlite3* Database::handle() const noexcept { return state_->db; }
const std::filesystem::path& Database::path() const noexcept { return state_->path; }

Result<Database> Database::Open(const std::filesystem::path& path, const Options& options) {
  int flags = options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
  if (options.create && !options.read_only) {
    flags |= SQLITE_OPEN_CREATE;
    // SQLite would create the file 0644 (less the umask); the database may hold secrets, so
    // create it 0600 first. An existing file keeps its mode. SQLite gives the -wal and -shm
    // files the mode of the database file.
    //
    // O_EXCL matters: opening and closing a descriptor on a file this process already has open
    // through SQLite would drop every POSIX lock the process holds on it (fcntl locks belong to
    // the process, and any close releases them). Another process could then believe it is the
    // last user, checkpoint and delete the WAL under our feet: stale reads and lost writes. So
    // an existing file is never touched here.
    posix::UniqueFd fd(
        ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd.valid() && errno != EEXIST) {
      return Fail(posix::ErrnoError(errno, "create database", path));
    }
  } else {
    struct stat st {};
    if (::stat(path.c_str(), &st) < 0 && errno == ENOENT) {
      return Fail(Errc::kNotFound, "database " + path.string() + " does not exist");
    }
  }
  return OpenUri(path.string(), flags, options, path);
}

Result<Database> Database::OpenInMemory(const Options& options) {
  return OpenUri(":memory:", SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, options, {});
}

namespace {

// Once per process, before SQLite initialises itself: no memory statistics. With them on (the
// default), every sqlite3_malloc and sqlite3_free takes a process-wide mutex to keep counters
// that nothing here reads, and a check-in makes about a hundred of each. sqlite3_config fails
// harmlessly (SQLITE_MISUSE) if SQLite was initialised already; statistics then stay on.
void ConfigureSqliteOnce() {
  static const int rc = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  (void)rc;
}

}  // namespace

Result<Database> Database::OpenUri(const std::string& name, int flags, const Options& options,
                                   std::filesystem::path path) {
  ConfigureSqliteOnce();
  auto state = std::make_unique<State>();
  state->path = std::move(path);
  state->cache_limit = options.statement_cache_size;
  const std::string label = state->path.empty() ? "in-memory database" : state->path.string();

  // NOMUTEX: multi-thread mode. Each connection is used by one thread at a time (see header),
  // so SQLite's per-connection mutex would only cost time.
  const int rc = sqlite3_open_v2(name.c_str(), &state->db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    // The handle is set even on most failures and carries the message; State closes it.
    return Fail(SqliteError(rc, "open " + label, state->db));
  }
  sqlite3_extended_result_codes(state->db, 1);
  state->snapshot.db = state->db;
  const auto busy_ms = options.busy_timeout.count();
  sqlite3_busy_timeout(state->db, busy_ms > INT_MAX ? INT_MAX : static_cast<int>(busy_ms));

  sqlite3* db = state->db;
  auto configure = [&]() -> Status {
    // The first statement reads the header: a file that is not a database fails here.
    auto check = QueryText(db, "SELECT count(*) FROM sqlite_schema");
    if (!check) return Fail(std::move(check).error());
    if (!options.read_only && !state->path.empty()) {
      auto mode = QueryText(db, "PRAGMA journal_mode=WAL");
      if (!mode) return Fail(std::move(mode).error());
      if (*mode != "wal") {
        return Fail(Errc::kIo, "could not switch to WAL journal mode (got '" + *mode + "')");
      }
    }
    if (Status s = ExecRaw(db, "PRAGMA foreign_keys=ON"); !s) return s;
    const char* sync = options.synchronous == Synchronous::kFull ? "PRAGMA synchronous=FULL"
                                                                 : "PRAGMA synchronous=NORMAL";
    if (Status s = ExecRaw(db, sync); !s) return s;
    if (options.secure_delete) {
      if (Status s = ExecRaw(db, "PRAGMA secure_delete=ON"); !s) return s;
    }
    if (options.mmap_bytes > 0 && !state->path.empty()) {
      const std::string mmap = "PRAGMA mmap_size=" + std::to_string(options.mmap_bytes);
      if (Status s = ExecRaw(db, mmap.c_str()); !s) return s;
    }
    return Ok();
  };
  if (Status s = configure(); !s) return Fail(std::move(s).error().WithContext("open " + label));
  return Database(std::move(state));
}

Status Database::Exec(std::string_view sql) {
  EndReadSnapshot();
  return ExecRaw(state_->db, std::string(sql).c_str());
}

Result<Statement> Database::Prepare(std::string_view sql) {
  if (sql.size() > static_cast<std::size_t>(INT_MAX)) {
    return Fail(Errc::kTooLarge, "SQL text of " + std::to_string(sql.size()) + " bytes");
  }
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  const int rc =
      sqlite3_prepare_v3(state_->db, sql.data(), static_cast<int>(sql.size()), 0, &stmt, &tail);
  if (rc != SQLITE_OK) {
    return Fail(SqliteError(rc, "prepare '" + Abbreviate(sql) + "'", state_->db));
  }
  Statement statement(stmt, nullptr, &state_->snapshot);
  if (stmt == nullptr) {
    return Fail(Errc::kInternal, "prepare '" + Abbreviate(sql) + "': no SQL statement in it");
  }
  for (const char* p = tail; p != nullptr && p < sql.data() + sql.size(); ++p) {
    if (!IsSpaceOrSemicolon(*p)) {
      return Fail(Errc::kInternal,
                  "prepare '" + Abbreviate(sql) + "': more than one statement (use Exec)");
    }
  }
  return statement;
}

Result<Statement> Database::PrepareCached(std::string_view sql) {
  auto it = state_->cache.find(sql);
  if (it != state_->cache.end()) {
    if (it->second.in_use) return Prepare(sql);
    it->second.in_use = true;
    return Statement(it->second.stmt, &it->second.in_use, &state_->snapshot);
  }
  auto fresh = Prepare(sql);
  if (!fresh || state_->cache.size() >= state_->cache_limit) return fresh;
  State::CacheEntry& entry = state_->cache[std::string(sql)];
  entry.stmt = std::exchange(fresh->stmt_, nullptr);
  entry.in_use = true;
  return Statement(entry.stmt, &entry.in_use, &state_->snapshot);
}

std::int64_t Database::LastInsertRowId() const noexcept {
  return sqlite3_last_insert_rowid(state_->db);
}

std::int64_t Database::Changes() const noexcept { return sqlite3_changes64(state_->db); }

bool Database::InTransaction() const noexcept { return sqlite3_get_autocommit(state_->db) == 0; }

Status Database::BeginReadSnapshot() {
  if (InTransaction()) {
    return Fail(Errc::kInternal, "begin a read snapshot: a transaction is already open");
  }
  return state_->snapshot.Begin();
}

void Database::EndReadSnapshot() noexcept { state_->snapshot.End(); }

bool Database::InReadSnapshot() const noexcept { return state_->snapshot.open; }

Status Database::CheckIntegrity() {
  constexpr int kMaxReported = 5;
  auto integrity = Prepare("PRAGMA integrity_check(5)");
  if (!integrity) return Fail(std::move(integrity).error());
  std::string problems;
  for (;;) {
    auto row = integrity->Step();
    if (!row) return Fail(std::move(row).error().WithContext("integrity check"));
    if (!*row) break;
    std::string line = integrity->ColumnText(0);
    if (line == "ok") continue;
    if (!problems.empty()) problems += "; ";
    problems += line;
  }
  if (!problems.empty()) {
    return Fail(Errc::kCorrupt, "integrity check of " + path().string() + " failed: " + problems);
  }

  auto foreign = Prepare("PRAGMA foreign_key_check");
  if (!foreign) return Fail(std::move(foreign).error());
  int count = 0;
  for (;;) {
    auto row = foreign->Step();
    if (!row) return Fail(std::move(row).error().WithContext("foreign key check"));
    if (!*row) break;
    if (++count > kMaxReported) continue;
    if (!problems.empty()) problems += "; ";
    // Columns: table, rowid (NULL for WITHOUT ROWID tables), parent table, constraint index.
    problems += "row " + std::to_string(foreign->ColumnInt64(1)) + " of " + foreign->ColumnText(0) +
                " refers to a missing row of " + foreign->ColumnText(2);
  }
  if (count > 0) {
    return Fail(Errc::kCorrupt, std::to_string(count) + " foreign key violation(s) in " +
                                    path().string() + ": " + problems);
  }
  return Ok();
}

// ---------------------------------------------------------------------------------------------
// Transaction

Result<Transaction> Transaction::Begin(Database& db) {
  db.EndReadSnapshot();
  sqlite3* handle = db.handle();
  if (sqlite3_get_autocommit(handle) == 0) {
    return Fail(Errc::kInternal, "begin: a transaction is already open, and they do not nest");
  }
  if (Status s = ExecRaw(handle, "BEGIN IMMEDIATE"); !s) return Fail(std::move(s).error());
  return Transaction(handle);
}

Transaction& Transaction::operator=(Transaction&& other) noexcept {
  if (this != &other) {
    if (db_ != nullptr) (void)Rollback();
    db_ = std::exchange(other.db_, nullptr);
  }
  return *this;
}

Transaction::~Transaction() {
  if (db_ != nullptr) (void)Rollback();
}

Status Transaction::Commit() {
  if (db_ == nullptr) return Fail(Errc::kInternal, "commit of a finished transaction");
  Status s = ExecRaw(db_, "COMMIT");
  if (!s) {
    // A failed COMMIT can leave the transaction open (SQLITE_BUSY); end it so the connection is
    // usable and the outcome is definite: nothing was written.
    (void)Rollback();
  }
  db_ = nullptr;
  return s;
}

Status Transaction::Rollback() {
  sqlite3* db = std::exchange(db_, nullptr);
  if (db == nullptr) return Fail(Errc::kInternal, "rollback of a finished transaction");
  // Some errors (SQLITE_FULL, SQLITE_IOERR, ...) roll back on their own; ROLLBACK would then
  // fail with "no transaction is active".
  if (sqlite3_get_autocommit(db) != 0) return Ok();
  return ExecRaw(db, "ROLLBACK");
}

// ---------------------------------------------------------------------------------------------
// Backup

// VACUUM INTO rather than the sqlite3_backup_* API: the backup API restarts from the first page
// whenever another connection writes between two steps, so a step-wise copy of a busy server's
// database may never finish, and a single all-pages step is then just a slower VACUUM INTO.
// VACUUM INTO copies one read snapshot (under WAL it does not block writers), and it leaves out
// free pages, so rows deleted under secure_delete do not live on in backups. It does not fsync
// its output, so we do, before the rename.
Status BackupTo(Database& db, const std::filesystem::path& path) {
  const std::string where = "back up to " + path.string();
  if (db.InTransaction()) {
    return Fail(Errc::kInternal, where + ": cannot back up from inside a transaction");
  }
  const std::filesystem::path name = path.filename();
  if (name.empty() || name == "." || name == "..") {
    return Fail(Errc::kInvalidArgument, "cannot write a backup at '" + path.string() + "'");
  }
  std::filesystem::path dir = path.parent_path();
  if (dir.empty()) dir = ".";

  std::uint8_t random[8] = {};
  if (Status s = core::crypto::RandomBytes(random); !s) return s;
  const std::filesystem::path temp = dir / ("." + name.string() + ".tmp-" + HexEncode(random));
  // VACUUM INTO accepts an empty existing file, so we create it ourselves with the final mode
  // and keep the descriptor to fsync what SQLite wrote through its own.
  posix::UniqueFd fd(
      ::open(temp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) return Fail(posix::ErrnoError(errno, "create", temp));
  auto fail = [&](Error error) -> Status {
    ::unlink(temp.c_str());
    return Fail(std::move(error).WithContext(where));
  };
  if (::fchmod(fd.get(), 0600) < 0) return fail(posix::ErrnoError(errno, "chmod", temp));

  auto vacuum = db.Prepare("VACUUM INTO ?1");
  if (!vacuum) return fail(std::move(vacuum).error());
  if (Status s = vacuum->BindText(1, temp.string()); !s) return fail(std::move(s).error());
  if (Status s = vacuum->Run(); !s) return fail(std::move(s).error());

  if (::fsync(fd.get()) < 0) return fail(posix::ErrnoError(errno, "fsync", temp));
  if (fd.Close() < 0) return fail(posix::ErrnoError(errno, "close", temp));
  if (::rename(temp.c_str(), path.c_str()) < 0) {
    return fail(posix::ErrnoError(errno, "rename " + temp.string() + " to", path));
  }
  if (Status s = posix::FsyncDirectory(dir); !s) {
    return Fail(std::move(s).error().WithContext(where));
  }
  return Ok();
}

}  // namespace aloft::platform::sqlite

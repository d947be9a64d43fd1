#include "server/store/sqlite/migrations.hpp"

#include <array>

namespace aloft::server::store::sqlite {
namespace {

constexpr std::string_view kDevices = R"sql(
CREATE TABLE devices (
  id               TEXT PRIMARY KEY,
  hardware_id      TEXT NOT NULL,
  public_key       TEXT NOT NULL,
  key_id           TEXT NOT NULL UNIQUE,
  status           TEXT NOT NULL
                   CHECK (status IN ('pending', 'accepted', 'rejected', 'decommissioned')),
  created_at       TEXT NOT NULL,
  updated_at       TEXT NOT NULL,
  last_seen_at     TEXT,
  image_sha256     TEXT NOT NULL DEFAULT '',
  image_version    TEXT NOT NULL DEFAULT '',
  agent_version    TEXT NOT NULL DEFAULT '',
  security_counter INTEGER NOT NULL DEFAULT 0,
  attributes       TEXT NOT NULL DEFAULT '{}'
) STRICT;
CREATE INDEX devices_by_status ON devices (status, id);
CREATE INDEX devices_by_hardware ON devices (hardware_id, id);
CREATE INDEX devices_by_version ON devices (image_version, id);

CREATE TABLE preauthorized_keys (
  key_id      TEXT PRIMARY KEY,
  device_id   TEXT NOT NULL UNIQUE,
  hardware_id TEXT NOT NULL,
  created_at  TEXT NOT NULL
) STRICT;

CREATE TABLE enrollment_tokens (
  id         TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  expires_at TEXT NOT NULL,
  uses_left  INTEGER NOT NULL CHECK (uses_left >= 0)
) STRICT;

CREATE TABLE device_reports (
  id            TEXT NOT NULL,
  device_id     TEXT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  deployment_id TEXT NOT NULL DEFAULT '',
  state         TEXT NOT NULL,
  bytes_done    INTEGER NOT NULL,
  bytes_total   INTEGER NOT NULL,
  message       TEXT NOT NULL,
  log_tail      TEXT NOT NULL,
  at            TEXT NOT NULL,
  received_at   TEXT NOT NULL,
  seq           INTEGER PRIMARY KEY AUTOINCREMENT,
  UNIQUE (device_id, id)
) STRICT;
CREATE INDEX device_reports_by_device ON device_reports (device_id, seq);
)sql";

// The Uptane repositories (server/repo): every signed version of every role. repo is "image",
// "director" (the shared Director root) or "director/<device id>".
constexpr std::string_view kRepositories = R"sql(
CREATE TABLE repo_metadata (
  repo    TEXT NOT NULL,
  role    TEXT NOT NULL CHECK (role IN ('root', 'timestamp', 'snapshot', 'targets')),
  version INTEGER NOT NULL CHECK (version > 0),
  bytes   BLOB NOT NULL,
  expires TEXT NOT NULL,
  PRIMARY KEY (repo, role, version)
) STRICT;
)sql";

// Operator accounts (server/operators): users, console sessions and API tokens. Secrets are
// stored only as hashes (Argon2id for passwords, SHA-256 for session and token secrets); TOTP
// seeds must be readable by the server and are kept in this 0600 database only.
constexpr std::string_view kOperators = R"sql(
CREATE TABLE operators (
  username             TEXT PRIMARY KEY,
  role                 TEXT NOT NULL
                       CHECK (role IN ('admin', 'release-manager', 'operator', 'viewer', 'auditor')),
  password_hash        TEXT NOT NULL,
  must_change_password INTEGER NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1)),
  totp_secret          BLOB,
  totp_pending_secret  BLOB,
  totp_last_step       INTEGER NOT NULL DEFAULT -1,
  created_at           TEXT NOT NULL,
  updated_at           TEXT NOT NULL
) STRICT;

CREATE TABLE operator_sessions (
  secret_hash  TEXT PRIMARY KEY,
  username     TEXT NOT NULL REFERENCES operators (username) ON DELETE CASCADE,
  csrf_token   TEXT NOT NULL,
  created_at   TEXT NOT NULL,
  last_seen_at TEXT NOT NULL,
  expires_at   TEXT NOT NULL
) STRICT;
CREATE INDEX operator_sessions_by_user ON operator_sessions (username);

CREATE TABLE api_tokens (
  id           TEXT PRIMARY KEY,
  secret_hash  TEXT NOT NULL UNIQUE,
  name         TEXT NOT NULL,
  username     TEXT NOT NULL REFERENCES operators (username) ON DELETE CASCADE,
  role         TEXT NOT NULL
               CHECK (role IN ('admin', 'release-manager', 'operator', 'viewer', 'auditor')),
  created_at   TEXT NOT NULL,
  expires_at   TEXT NOT NULL,
  last_used_at TEXT
) STRICT;
CREATE INDEX api_tokens_by_user ON api_tokens (username, created_at);
)sql";

// The audit trail (server/audit): a hash chain, plus its head in a one-row table updated in
// the same transaction as each append, so removing records from the end is detectable. The
// triggers make accidental edits fail; they are no defence against someone with write access
// to the file (the chain is).
constexpr std::string_view kAudit = R"sql(
CREATE TABLE audit_log (
  seq       INTEGER PRIMARY KEY,
  at        TEXT NOT NULL,
  actor     TEXT NOT NULL,
  action    TEXT NOT NULL,
  target    TEXT NOT NULL,
  outcome   TEXT NOT NULL,
  details   TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash      TEXT NOT NULL
) STRICT;

CREATE TABLE audit_head (
  id   INTEGER PRIMARY KEY CHECK (id = 1),
  seq  INTEGER NOT NULL,
  hash TEXT NOT NULL
) STRICT;
INSERT INTO audit_head (id, seq, hash)
  VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
  BEGIN SELECT RAISE(ABORT, 'the audit head cannot be deleted'); END;
)sql";

// Timestamps are "YYYY-MM-DDTHH:MM:SSZ" text, which sorts and compares like time.
// deployment_devices.device_id has no foreign key to devices: a rollout row is history and
// outlives a deleted device.
// Deployments (server/deployments).
constexpr std::string_view kDeployments = R"sql(
CREATE TABLE deployments (
  seq                       INTEGER PRIMARY KEY AUTOINCREMENT,
  id                        TEXT NOT NULL UNIQUE,
  release                   TEXT NOT NULL,
  release_version           TEXT NOT NULL,
  target                    TEXT NOT NULL,
  hardware_ids              TEXT NOT NULL,
  image_sha256              TEXT NOT NULL,
  selector                  TEXT NOT NULL,
  phases                    TEXT NOT NULL,
  failure_threshold_percent INTEGER NOT NULL CHECK (failure_threshold_percent BETWEEN 0 AND 100),
  min_devices_for_threshold INTEGER NOT NULL CHECK (min_devices_for_threshold >= 1),
  phase_deadline_seconds    INTEGER NOT NULL CHECK (phase_deadline_seconds > 0),
  window_start_minute       INTEGER CHECK (window_start_minute BETWEEN 0 AND 1439),
  window_end_minute         INTEGER CHECK (window_end_minute BETWEEN 0 AND 1439),
  state                     TEXT NOT NULL
                            CHECK (state IN ('active', 'paused', 'completed', 'cancelled')),
  paused_reason             TEXT NOT NULL DEFAULT '',
  current_phase             INTEGER NOT NULL CHECK (current_phase >= 0),
  acknowledged_failures     INTEGER NOT NULL DEFAULT 0 CHECK (acknowledged_failures >= 0),
  created_at                TEXT NOT NULL,
  created_by                TEXT NOT NULL,
  updated_at                TEXT NOT NULL,
  CHECK ((window_start_minute IS NULL) = (window_end_minute IS NULL))
) STRICT;
CREATE INDEX deployments_by_state ON deployments (state, seq);

CREATE TABLE deployment_devices (
  deployment_id     TEXT NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
  device_id         TEXT NOT NULL,
  phase             INTEGER NOT NULL CHECK (phase >= 0),
  state             TEXT NOT NULL
                    CHECK (state IN ('pending', 'downloading', 'installing', 'rebooting',
                                     'succeeded', 'failed', 'rolled_back')),
  director_assigned INTEGER NOT NULL CHECK (director_assigned IN (0, 1)),
  assigned_at       TEXT NOT NULL,
  updated_at        TEXT NOT NULL,
  deadline          TEXT NOT NULL,
  message           TEXT NOT NULL DEFAULT '',
  log_tail          TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (deployment_id, device_id)
) STRICT, WITHOUT ROWID;
-- Counts per phase and state come from this index alone (GROUP BY, no row reads).
CREATE INDEX deployment_devices_counts ON deployment_devices (deployment_id, phase, state);
-- A device's history, read at every check-in.
CREATE INDEX deployment_devices_by_device ON deployment_devices (device_id);
-- The Director names at most one deployment's image per device.
CREATE UNIQUE INDEX deployment_devices_assigned ON deployment_devices (device_id)
  WHERE director_assigned = 1;
-- The deadline sweep visits only rows still in progress.
CREATE INDEX deployment_devices_overdue ON deployment_devices (deadline)
  WHERE state IN ('pending', 'downloading', 'installing', 'rebooting');
)sql";

// v6: the fleet's image versions over time (the console's history chart). A sample row of its
// own, so that a sample of an empty fleet is still a sample.
constexpr std::string_view kFleetHistory = R"sql(
CREATE TABLE fleet_samples (
  at TEXT PRIMARY KEY
) STRICT, WITHOUT ROWID;
CREATE TABLE fleet_sample_versions (
  at            TEXT NOT NULL REFERENCES fleet_samples (at) ON DELETE CASCADE,
  image_version TEXT NOT NULL,
  devices       INTEGER NOT NULL CHECK (devices >= 0),
  PRIMARY KEY (at, image_version)
) STRICT, WITHOUT ROWID;
)sql";

// v7: static device groups (server/groups) an operator manages, and their members. A
// deployment names a group in its selector; membership is read when a device checks in, so a
// rollout to a group writes nothing per device up front. Removing a group or a device removes
// its memberships.
constexpr std::string_view kDeviceGroups = R"sql(
CREATE TABLE device_groups (
  name       TEXT PRIMARY KEY,
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL
) STRICT, WITHOUT ROWID;
CREATE TABLE device_group_members (
  group_name TEXT NOT NULL REFERENCES device_groups (name) ON DELETE CASCADE,
  device_id  TEXT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  added_at   TEXT NOT NULL,
  PRIMARY KEY (group_name, device_id)
) STRICT, WITHOUT ROWID;
-- The groups of one device, read at check-in when a deployment targets a group.
CREATE INDEX device_group_members_by_device ON device_group_members (device_id, group_name);
)sql";

// v8: deltas aloftd builds itself (server/deltas) for releases uploaded without one, one row
// per (release, image devices run). Nothing refers to them: a row is a cache entry with a
// state, and its patch is a blob like any artifact.
constexpr std::string_view kServerDeltas = R"sql(
CREATE TABLE server_deltas (
  to_target       TEXT NOT NULL,
  from_sha256     TEXT NOT NULL,
  state           TEXT NOT NULL CHECK (state IN ('queued', 'ready', 'failed')),
  source_target   TEXT NOT NULL DEFAULT '',
  artifact_sha256 TEXT NOT NULL DEFAULT '',
  artifact_length INTEGER NOT NULL DEFAULT 0 CHECK (artifact_length >= 0),
  from_length     INTEGER NOT NULL DEFAULT 0 CHECK (from_length >= 0),
  to_sha256       TEXT NOT NULL DEFAULT '',
  to_length       INTEGER NOT NULL DEFAULT 0 CHECK (to_length >= 0),
  error           TEXT NOT NULL DEFAULT '',
  requested_at    TEXT NOT NULL,
  updated_at      TEXT NOT NULL,
  PRIMARY KEY (to_target, from_sha256)
) STRICT, WITHOUT ROWID;
-- The builder takes the oldest queued request.
CREATE INDEX server_deltas_queued ON server_deltas (requested_at) WHERE state = 'queued';
)sql";

// v9: last-seen times move to a narrow table of their own, and the per-(status, hardware,
// version) counts get a covering index.
// - Every check-in moves one last-seen time. In `devices` each update rewrote a ~300-byte row
//   on a page shared with ~12 others, so flushing a second's check-ins dirtied (and wrote to
//   the WAL, then checkpointed) about one page per device; here ~150 times share a page. Unix
//   seconds: no formatting or parsing on the hot path. A row exists once a device was seen.
// - CountDevices (/metrics at every scrape, the fleet summary, the fleet history) grouped
//   `devices` through a temporary b-tree; with the index it reads the index alone, in order.
constexpr std::string_view kDeviceLastSeen = R"sql(
CREATE TABLE device_last_seen (
  device_id TEXT PRIMARY KEY REFERENCES devices (id),
  seen_at   INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO device_last_seen (device_id, seen_at)
  SELECT id, unixepoch(last_seen_at) FROM devices WHERE last_seen_at IS NOT NULL;
ALTER TABLE devices DROP COLUMN last_seen_at;
CREATE INDEX devices_by_status_hardware_version ON devices (status, hardware_id, image_version);
)sql";

constexpr std::array<platform::sqlite::Migration, 9> kMigrations = {{
    {1, "devices_enrollment_reports", kDevices},
    {2, "repositories", kRepositories},
    {3, "operators", kOperators},
    {4, "audit_log", kAudit},
    {5, "deployments", kDeployments},
    {6, "fleet_history", kFleetHistory},
    {7, "device_groups", kDeviceGroups},
    {8, "server_deltas", kServerDeltas},
    {9, "device_last_seen", kDeviceLastSeen},
}};

}  // namespace

std::span<const platform::sqlite::Migration> ServerMigrations() { return kMigrations; }

}  // namespace aloft::server::store::sqlite

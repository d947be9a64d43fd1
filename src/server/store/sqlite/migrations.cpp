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

constexpr std::array<platform::sqlite::Migration, 2> kMigrations = {{
    {1, "devices_enrollment_reports", kDevices},
    {2, "repositories", kRepositories},
}};

}  // namespace

std::span<const platform::sqlite::Migration> ServerMigrations() { return kMigrations; }

}  // namespace aloft::server::store::sqlite

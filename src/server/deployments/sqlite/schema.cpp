#include "server/deployments/sqlite/schema.hpp"

namespace aloft::server::deployments::sqlite {
namespace {

// Timestamps are "YYYY-MM-DDTHH:MM:SSZ" text, which sorts and compares like time.
// deployment_devices.device_id has no foreign key to devices: a rollout row is history and
// outlives a deleted device.
constexpr std::string_view kSchema = R"sql(
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

}  // namespace

std::string_view DeploymentsSchemaSql() { return kSchema; }

}  // namespace aloft::server::deployments::sqlite

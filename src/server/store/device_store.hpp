#pragma once

// What aloftd remembers about devices, behind interfaces: SQLite is the embedded default, and a
// PostgreSQL implementation plugs in behind the same interfaces without touching domain code.
// Interfaces are small and per consumer (enrollment, inventory, reports), not one fat store.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"
#include "core/base/time.hpp"
#include "core/codec/json.hpp"
#include "core/wire/device_api.hpp"

namespace aloft::server::store {

struct DeviceRow {
  std::string id;
  std::string hardware_id;
  core::codec::Json public_key;  // TUF key JSON as the device sent it
  std::string key_id;            // TUF key ID of public_key (unique: one key, one device)
  core::wire::EnrollmentStatus status = core::wire::EnrollmentStatus::kPending;
  Timestamp created_at{};
  Timestamp updated_at{};
  std::optional<Timestamp> last_seen_at;
  core::wire::Inventory inventory;  // what the device last reported
};

// What a device's own requests need of its row: the status that authorises the request, and
// the hardware and inventory that decide what it should run. Read on every device request, so
// it leaves out the key and the timestamps (no JSON key to parse, no times to convert).
struct DeviceState {
  std::string id;
  std::string hardware_id;
  core::wire::EnrollmentStatus status = core::wire::EnrollmentStatus::kPending;
  core::wire::Inventory inventory;
};

// A page of devices, filtered. Keyset pagination (after_id) stays fast at any offset.
struct DeviceFilter {
  std::optional<core::wire::EnrollmentStatus> status;
  std::optional<std::string> hardware_id;
  std::optional<std::string> image_version;
  std::optional<std::string> tag;  // one of the comma-separated attributes["tags"]
  std::string after_id;       // exclusive; "" for the first page
  std::size_t limit = 100;    // capped at 1000 by the store
};

// A device seen at a time (its last check-in), for TouchDevices.
struct DeviceSeen {
  std::string id;
  Timestamp at{};
};

struct DeviceCount {
  core::wire::EnrollmentStatus status = core::wire::EnrollmentStatus::kPending;
  std::string hardware_id;
  std::string image_version;
  std::int64_t count = 0;
};

class DeviceStore {
 public:
  virtual ~DeviceStore() = default;
  // kNotFound when there is no such device.
  virtual Result<DeviceRow> GetDevice(std::string_view id) = 0;
  // The same device, narrowed to DeviceState. kNotFound when there is no such device.
  virtual Result<DeviceState> GetDeviceState(std::string_view id) = 0;
  // kAlreadyExists when the id or the key is taken.
  virtual Status InsertDevice(const DeviceRow& device) = 0;
  // kNotFound when there is no such device.
  virtual Status SetDeviceStatus(std::string_view id, core::wire::EnrollmentStatus status,
                                 Timestamp now) = 0;
  virtual Status RecordInventory(std::string_view id, const core::wire::Inventory& inventory,
                                 Timestamp now) = 0;
  virtual Status TouchDevice(std::string_view id, Timestamp now) = 0;
  // Sets the last-seen time of many devices in one transaction (one commit for a second's
  // check-ins, not one each). Ids with no device (removed meanwhile) are skipped.
  virtual Status TouchDevices(const std::vector<DeviceSeen>& seen) = 0;
  virtual Result<std::vector<DeviceRow>> ListDevices(const DeviceFilter& filter) = 0;
  // How many devices there are per (status, hardware id, image version): the fleet overview
  // and the metrics gauges. One grouped query, ordered by the three columns.
  virtual Result<std::vector<DeviceCount>> CountDevices() = 0;
  // Accepted devices last seen before `since`, or never: the overview's "not seen for long".
  virtual Result<std::int64_t> CountAcceptedNotSeenSince(Timestamp since) = 0;
  // The image digests accepted devices of `hardware_id` report, most common first, at most
  // `limit` (what deltas are worth building from).
  virtual Result<std::vector<std::string>> CommonImages(std::string_view hardware_id,
                                                        std::size_t limit) = 0;
};

// One sample of the fleet's history: how many accepted devices ran each image version at `at`.
struct VersionCount {
  std::string image_version;
  std::int64_t devices = 0;
};
struct FleetSample {
  Timestamp at{};
  std::vector<VersionCount> versions;  // by version; empty when no device was accepted
};

// The fleet's image versions over time, sampled by aloftd (the console's history chart).
class FleetHistoryStore {
 public:
  virtual ~FleetHistoryStore() = default;
  // Stores `sample` and drops samples taken before `keep_after`, in one transaction.
  // kAlreadyExists when a sample at the same time is stored already (another aloftd took it).
  virtual Status AddSample(const FleetSample& sample, Timestamp keep_after) = 0;
  // When the newest sample was taken; nullopt before the first.
  virtual Result<std::optional<Timestamp>> LatestSampleAt() = 0;
  // The samples taken at or after `since`, oldest first.
  virtual Result<std::vector<FleetSample>> SamplesSince(Timestamp since) = 0;
};

// Ways a device may join: an operator preauthorized its key, or it presents a fleet
// enrollment token (and then waits for an operator's decision).
struct PreauthorizedKey {
  std::string key_id;
  std::string device_id;
  std::string hardware_id;
  Timestamp created_at{};
};

struct EnrollmentToken {
  std::string id;          // public handle, for listing and revoking
  std::string token_hash;  // hex SHA-256 of the secret; the secret itself is never stored
  Timestamp expires_at{};
  std::int64_t uses_left = 0;
};

class EnrollmentStore {
 public:
  virtual ~EnrollmentStore() = default;
  virtual Status Preauthorize(const PreauthorizedKey& key) = 0;  // kAlreadyExists
  virtual Result<PreauthorizedKey> FindPreauthorized(std::string_view key_id) = 0;  // kNotFound
  virtual Status InsertToken(const EnrollmentToken& token) = 0;
  // Uses the token once: kNotFound if unknown, kExpired if past expiry or out of uses.
  virtual Status ConsumeToken(std::string_view token_hash, Timestamp now) = 0;
};

// Device reports, idempotent by report id.
class ReportStore {
 public:
  virtual ~ReportStore() = default;
  // false when a report with this id was stored before (a resend): nothing changes.
  virtual Result<bool> AddReport(std::string_view device_id, const core::wire::Report& report,
                                 Timestamp received_at) = 0;
  // The newest reports of a device, newest first.
  virtual Result<std::vector<core::wire::Report>> RecentReports(std::string_view device_id,
                                                                std::size_t limit) = 0;
};

}  // namespace aloft::server::store

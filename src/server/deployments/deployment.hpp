#pragma once

// Phased deployments: which devices get which release, how fast, and when to stop.
//
// A deployment names one release (an Image repository target) and a selector; devices that
// match are admitted phase by phase (1% → 10% → 100%, say). Which phase a device belongs to is
// a pure function of (deployment id, device id) (see admission.hpp), so nothing is written for
// a device until it checks in and is admitted: a rollout to a million devices costs no rows
// until devices ask. Each admitted device gets one DeviceRollout row that follows its reports.
//
// This file holds the value types and their validation; DeploymentService drives them.

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"
#include "core/base/time.hpp"
#include "core/metadata/model.hpp"

namespace aloft::server::deployments {

// Bounds applied to every spec, whether it came through JSON or from code.
inline constexpr std::size_t kMaxReleaseNameBytes = 512;
inline constexpr std::size_t kMaxSelectorDevices = 10000;
inline constexpr std::size_t kMaxSelectorTags = 32;
inline constexpr std::size_t kMaxTagBytes = 128;
inline constexpr std::size_t kMaxSelectorAttributes = 64;
inline constexpr std::size_t kMaxAttributeKeyBytes = 128;
inline constexpr std::size_t kMaxAttributeValueBytes = 1024;
inline constexpr std::size_t kMaxVersionBytes = 128;
inline constexpr std::size_t kMaxPhases = 10;
inline constexpr std::int64_t kMaxWaitSeconds = 30 * 24 * 3600;
inline constexpr std::int64_t kMinPhaseDeadlineSeconds = 60;
inline constexpr std::int64_t kMaxPhaseDeadlineSeconds = 30 * 24 * 3600;
inline constexpr std::int64_t kMaxMinDevicesForThreshold = 1'000'000'000;
inline constexpr std::size_t kMaxReasonBytes = 1024;
inline constexpr std::size_t kMaxActorBytes = 128;

enum class DeploymentState : std::uint8_t { kActive, kPaused, kCompleted, kCancelled };
std::string_view DeploymentStateName(DeploymentState s) noexcept;     // "active", ...
Result<DeploymentState> ParseDeploymentState(std::string_view name);  // kInvalidArgument

// Where one device stands in one deployment. Pending: assigned in the Director, no report yet.
// Succeeded, failed and rolled_back are final: a row never leaves them.
enum class RolloutState : std::uint8_t {
  kPending,
  kDownloading,
  kInstalling,
  kRebooting,
  kSucceeded,
  kFailed,
  kRolledBack,
};
inline constexpr std::size_t kRolloutStateCount = 7;
std::string_view RolloutStateName(RolloutState s) noexcept;     // "pending", ..., "rolled_back"
Result<RolloutState> ParseRolloutState(std::string_view name);  // kInvalidArgument
bool IsFinal(RolloutState s) noexcept;
bool IsFailure(RolloutState s) noexcept;  // failed or rolled_back

// Which devices a deployment is for. Every criterion given must hold (they are ANDed); an
// empty selector matches every device whose hardware the release supports.
struct Selector {
  std::set<std::string, std::less<>> devices;  // explicit device ids; empty: any device
  std::set<std::string, std::less<>> tags;     // the device must carry every one of these
  std::string hardware_id;                     // empty: any hardware the release supports
  std::map<std::string, std::string, std::less<>> attributes;  // exact matches
  std::string image_version;  // the version the device runs now; empty: any
  // A static group (server/groups) the device must be a member of when it checks in; empty:
  // no group criterion. Membership is read at admission (DeploymentService, GroupMembership),
  // not copied into the deployment, so devices added to the group later are admitted too.
  std::string group;

  friend bool operator==(const Selector&, const Selector&) = default;
};

struct Phase {
  std::int64_t percent = 100;        // cumulative share of matching devices, 1..100
  std::int64_t wait_seconds = 0;     // minimum time in this phase before the next one
  std::optional<Timestamp> started;  // set when the phase becomes current

  friend bool operator==(const Phase&, const Phase&) = default;
};

// A daily window (UTC) in which new devices may be admitted; start > end wraps midnight
// (22:00–04:00). Devices already installing carry on outside it.
struct MaintenanceWindow {
  int start_minute = 0;  // minutes after 00:00 UTC, 0..1439
  int end_minute = 0;    // exclusive; never equal to start_minute

  friend bool operator==(const MaintenanceWindow&, const MaintenanceWindow&) = default;
};
// "HH:MM" (00:00–23:59) ⇄ minutes after midnight.
Result<int> ParseClockTime(std::string_view text);
std::string FormatClockTime(int minute);

// What an operator asks for (POST /api/v1/deployments).
struct DeploymentSpec {
  std::string release;  // Image repository target path
  Selector selector;
  std::vector<Phase> phases;                    // `started` is ignored
  std::int64_t failure_threshold_percent = 10;  // 0..100; pause when the rate exceeds it
  std::int64_t min_devices_for_threshold = 1;   // admitted devices before the rate counts
  std::int64_t phase_deadline_seconds = 3600;   // per device, from its admission
  std::optional<MaintenanceWindow> maintenance_window;
};

// Checks every bound above; kInvalidArgument naming the field ("phases[1].percent must be
// greater than the previous phase's 10").
Status ValidateSpec(const DeploymentSpec& spec);

struct Deployment {
  std::string id;        // "dep-" + 16 hex characters
  std::int64_t seq = 0;  // creation order, assigned by the store (larger is newer)
  std::string release;   // target path
  std::string release_version;
  // What the Director assigns, captured at creation: the Image target's length and hashes,
  // the hardware the release supports, and the digest a device reports once it runs it
  // (the uncompressed payload's when the artifact is compressed).
  core::metadata::TargetFile target;
  // core::uptane::ChunkListSha256 of the release's signed chunk digests ("" if it has none):
  // the Director agrees on them for devices (core/uptane/target_custom.hpp).
  std::string chunks_sha256;
  std::vector<std::string> hardware_ids;
  std::string image_sha256;
  Selector selector;
  std::vector<Phase> phases;
  std::int64_t failure_threshold_percent = 10;
  std::int64_t min_devices_for_threshold = 1;
  std::int64_t phase_deadline_seconds = 3600;
  std::optional<MaintenanceWindow> maintenance_window;
  DeploymentState state = DeploymentState::kActive;
  std::string paused_reason;
  std::size_t current_phase = 0;  // index into phases
  // Failures an operator accepted by resuming: they no longer count towards the threshold.
  std::int64_t acknowledged_failures = 0;
  Timestamp created{};
  std::string created_by;
  Timestamp updated{};
};

// One admitted device in one deployment.
struct DeviceRollout {
  std::string deployment_id;
  std::string device_id;
  std::int64_t phase = 0;  // the phase the device's bucket belongs to (index)
  RolloutState state = RolloutState::kPending;
  // True while the Director holds this deployment's image for the device because of this
  // row. At most one row per device is assigned at a time.
  bool director_assigned = false;
  Timestamp assigned_at{};  // when the device was admitted
  Timestamp updated_at{};
  Timestamp deadline{};  // success must be reported by then, or the device counts as failed
  std::string message;
  std::string log_tail;

  friend bool operator==(const DeviceRollout&, const DeviceRollout&) = default;
};

// Rows of one deployment by state.
struct RolloutCounts {
  std::array<std::int64_t, kRolloutStateCount> by_state{};

  std::int64_t Get(RolloutState s) const { return by_state[static_cast<std::size_t>(s)]; }
  std::int64_t& At(RolloutState s) { return by_state[static_cast<std::size_t>(s)]; }
  std::int64_t Total() const;
  std::int64_t InProgress() const;  // pending..rebooting
  std::int64_t Failures() const;    // failed + rolled_back
};

// A deployment as the API shows it.
struct DeploymentView {
  Deployment deployment;
  RolloutCounts counts;
  // The first rows by device id (DeploymentService::Get); nullopt in listings.
  std::optional<std::vector<DeviceRollout>> devices;
};

}  // namespace aloft::server::deployments

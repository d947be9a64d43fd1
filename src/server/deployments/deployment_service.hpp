#pragma once

// Phased deployments: creation, operator controls, the device check-in decision, device
// reports, and the periodic evaluation that advances phases and stops bad rollouts.
//
// Life of a device in a deployment:
//   check-in  → the newest active deployment that matches it (for a selector naming a static
//               group: the device is a member of it at this check-in, GroupMembership)
//               and whose current phase admits
//               its bucket (admission.hpp), inside the maintenance window, is chosen; a row is
//               written (pending, deadline = now + phase_deadline_seconds) and the Director is
//               told to assign the image. A device already running the image is recorded as
//               succeeded at once. When the Image repository holds a delta from the image the
//               device reports (inventory image_sha256) to the release, the Director's target
//               points at it too (FindDelta); otherwise at a delta aloftd built itself, when
//               one is ready (BuiltDeltas, which queues the build when not). The device falls
//               back to the full image by itself.
//   reports   → the row follows downloading → installing → rebooting → succeeded | failed |
//               rolled_back. A final state is never left. On failure the Director assignment
//               is cleared, so the device stops retrying.
//   deadline  → a row without a final report by its deadline becomes failed ("a bricked
//               device never reports"); its assignment is cleared at its next check-in.
//
// Life of a deployment (Tick):
//   active    → paused when (failed + rolled_back − acknowledged) / admitted exceeds the
//               threshold once admitted ≥ min_devices_for_threshold, with paused_reason
//               "failure rate 12.5% exceeded threshold 10% in phase 2" (phases in messages
//               count from 1; current_phase and DeviceRollout::phase are 0-based indexes);
//             → next phase when the current phase's wait has elapsed since it started and
//               none of its admitted devices is still in progress;
//             → completed when the last phase has been current for max(its wait,
//               phase_deadline_seconds) and no admitted device is in progress. Devices admit
//               themselves only by checking in, so that time is how long stragglers may still
//               join (the deadline floor keeps a final "wait 0" from completing before anyone
//               asked): make it cover the devices' check-in interval. Devices that ask later
//               need a new deployment.
//   paused    → active on Resume: the failures so far count as acknowledged and the current
//               phase's wait starts again. Devices already assigned carry on while paused.
//   cancelled → final. Devices that had not started (pending) have their assignment cleared
//               at their next check-in; devices already installing finish.
//
// At most one deployment drives a device: while its row is in progress nothing else is
// offered. A device is never offered a deployment older than the newest one it succeeded in.
//
// Every decision is taken by this service; the Director is only told when a device's
// assignment changes, so repeated check-ins sign nothing. The service assumes it is the only
// writer of the deployment tables (one aloftd per database).
//
// Thread-safety: all methods may be called from any thread. Check-ins and reports of
// different devices run in parallel; operator actions and Tick run alone.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"
#include "core/base/time.hpp"
#include "core/wire/device_api.hpp"
#include "server/deployments/admission.hpp"
#include "server/deployments/deployment.hpp"
#include "server/deployments/deployment_store.hpp"
#include "server/deployments/ports.hpp"

namespace aloft::server::deployments {

// What a check-in decided.
struct CheckInDecision {
  enum class DirectorChange : std::uint8_t { kNone, kAssigned, kCleared };

  // The deployment the device should be installing now; "" when there is none.
  std::string deployment_id;
  // True while the device has an assignment it has not finished (pending..rebooting): it
  // should refresh its Director metadata and install.
  bool update_available = false;
  // What this call told the Director (kNone on a repeated check-in).
  DirectorChange change = DirectorChange::kNone;
  // The image given to the Director when change is kAssigned.
  std::optional<repo::AssignedImage> assigned;
};

class DeploymentService {
 public:
  // Messages written into rows; stable, so operators can search for them.
  static constexpr std::string_view kDeadlineMessage =
      "no success report within the phase deadline";
  static constexpr std::string_view kAlreadyRunningMessage = "device already runs this image";
  static constexpr std::string_view kCancelledMessage =
      "deployment cancelled before the device started";

  // Every argument must outlive the service. Without `groups`, deployments cannot target a
  // static group (Create refuses selector.group with kUnsupported).
  DeploymentService(DeploymentStore& store, ReleaseCatalog& releases, DirectorAssigner& director,
                    const Clock& clock, GroupMembership* groups = nullptr,
                    BuiltDeltas* built_deltas = nullptr);

  DeploymentService(const DeploymentService&) = delete;
  DeploymentService& operator=(const DeploymentService&) = delete;

  // Starts a deployment of `spec.release` by `actor` (the operator's name, 1-128 bytes).
  // kInvalidArgument for a spec ValidateSpec refuses, a release without a sha256 or without
  // hardware ids, or a selector hardware_id the release does not support; kNotFound for a
  // release the Image repository does not list or a selector group that does not exist.
  Result<DeploymentView> Create(const DeploymentSpec& spec, std::string_view actor);

  // One deployment with its counts and first `kDevicesShown` device rows (Tick runs first).
  // kNotFound for an unknown id.
  static constexpr std::size_t kDevicesShown = 100;
  Result<DeploymentView> Get(std::string_view id);
  // Newest first, with counts, at most `limit` (capped at 1000). Tick runs first.
  Result<std::vector<DeploymentView>> List(std::optional<DeploymentState> state,
                                           std::size_t limit = 1000);

  // Operator controls; each returns the deployment afterwards. Repeating one is harmless
  // (pausing a paused deployment keeps its first reason). kNotFound for an unknown id;
  // kInvalidArgument for a completed or cancelled deployment (cancel of a cancelled one is
  // accepted) and for a reason longer than kMaxReasonBytes.
  Result<DeploymentView> Pause(std::string_view id, std::string_view reason);
  Result<DeploymentView> Resume(std::string_view id);
  Result<DeploymentView> Cancel(std::string_view id);
  // Pauses every active deployment (the emergency stop); returns how many it paused.
  Result<std::int64_t> PauseAll(std::string_view reason);

  // Ids of the active and paused deployments whose selector names static group `group`
  // (a group must not be deleted under them: GroupService asks this).
  Result<std::vector<std::string>> TargetingGroup(std::string_view group);

  // Decides what `device` should install and tells the Director when that changed.
  // kInvalidArgument for an invalid device id; store and Director errors (the next check-in
  // retries: nothing is recorded as assigned unless the Director accepted it).
  Result<CheckInDecision> CheckIn(const DeviceView& device);

  // Applies one report of `device_id` to its row. Returns false (and changes nothing) for a
  // report without a deployment, for a deployment the device was not admitted to, and for a
  // row already final. A failure clears the device's Director assignment and is evaluated
  // against the threshold at once.
  Result<bool> OnReport(std::string_view device_id, const core::wire::Report& report);

  // Marks overdue devices failed and advances, pauses or completes active deployments.
  // Call it every few seconds to a minute; reads call it too.
  Status Tick();

 private:
  struct ActiveSet;

  Status TickLocked(Timestamp now);
  // Evaluates one active deployment: threshold, phase advance, completion.
  Status Evaluate(Deployment& deployment, Timestamp now, bool& changed);
  Result<DeploymentView> View(Deployment deployment, bool with_devices);
  Result<RolloutCounts> Counts(std::string_view deployment_id);
  // Loads, changes and stores one deployment under the exclusive lock.
  template <class Change>
  Result<DeploymentView> Control(std::string_view id, Change change);
  // The active deployments, newest first, cached until the next state change.
  Result<std::shared_ptr<const ActiveSet>> Active();
  void InvalidateActive();
  Result<CheckInDecision> CheckInLocked(const DeviceView& device, Timestamp now);
  // The Image repository's delta from the image `device` reports to `d`'s, when one exists
  // and its signed custom binds exactly those two images (core/uptane/target_custom.hpp).
  std::optional<core::uptane::DeltaRef> FindDelta(const Deployment& d, const DeviceView& device);
  Status ClearAssignment(DeviceRollout& row, Timestamp now, std::string_view message);
  std::mutex& DeviceMutex(std::string_view device_id);
  Timestamp Now() const;

  DeploymentStore& store_;
  ReleaseCatalog& releases_;
  DirectorAssigner& director_;
  const Clock& clock_;
  GroupMembership* groups_ = nullptr;
  BuiltDeltas* built_deltas_ = nullptr;

  // Exclusive: anything that changes deployments (operator actions, Tick). Shared: check-ins
  // and reports, which change only their own device's rows under DeviceMutex.
  std::shared_mutex state_mutex_;
  std::array<std::mutex, 64> device_mutexes_;
  std::mutex active_mutex_;
  std::shared_ptr<const ActiveSet> active_;  // guarded by active_mutex_; null: reload
};

}  // namespace aloft::server::deployments

#pragma once

// Where deployments and per-device rollout rows are kept. SQLite implements it
// (deployments/sqlite); the interface is what DeploymentService needs and nothing more.
//
// Thread-safety: implementations must allow calls from several threads at once. Every
// multi-row write is atomic (one transaction).
//
// Errors: kNotFound as stated per method, kAlreadyExists for duplicate keys, kCorrupt for
// stored values that do not parse, and the storage's own errors (kUnavailable when busy).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"
#include "server/deployments/deployment.hpp"

namespace aloft::server::deployments {

// Rows of one deployment in one (phase, state), from a GROUP BY.
struct RolloutCount {
  std::int64_t phase = 0;
  RolloutState state = RolloutState::kPending;
  std::int64_t count = 0;
};

// A rollout row of one device with what it needs to know about the row's deployment.
struct DeviceHistoryEntry {
  DeviceRollout rollout;
  std::int64_t deployment_seq = 0;
  DeploymentState deployment_state = DeploymentState::kActive;
};

class DeploymentStore {
 public:
  virtual ~DeploymentStore() = default;

  // Stores a new deployment and returns its creation sequence number (larger is newer; the
  // `seq` member of `deployment` is ignored). kAlreadyExists when the id is taken.
  virtual Result<std::int64_t> InsertDeployment(const Deployment& deployment) = 0;
  // kNotFound when there is no such deployment.
  virtual Result<Deployment> GetDeployment(std::string_view id) = 0;
  // Newest first, optionally only those in `state`, at most `limit`.
  virtual Result<std::vector<Deployment>> ListDeployments(std::optional<DeploymentState> state,
                                                          std::size_t limit) = 0;
  // Writes the fields that change after creation (state, paused_reason, current_phase,
  // phases, acknowledged_failures, updated) of every deployment, in one transaction.
  // kNotFound (and nothing written) when one of them does not exist.
  virtual Status UpdateDeployments(std::span<const Deployment> deployments) = 0;

  // The row of `device_id` in `deployment_id`, nullopt when the device was never admitted.
  virtual Result<std::optional<DeviceRollout>> GetRollout(std::string_view deployment_id,
                                                          std::string_view device_id) = 0;
  // Every row of one device, newest deployment first.
  virtual Result<std::vector<DeviceHistoryEntry>> DeviceHistory(std::string_view device_id) = 0;
  // Inserts or replaces each row, in order, in one transaction. At most one row per device
  // may have director_assigned set: write the row losing it before the row gaining it.
  // kInvalidArgument (nothing written) when a row breaks that rule or names an unknown
  // deployment.
  virtual Status PutRollouts(std::span<const DeviceRollout> rows) = 0;
  // Marks failed, with `message`, every row still in progress (pending..rebooting) whose
  // deadline is at or before `now`, in active and paused deployments. Returns how many.
  virtual Result<std::int64_t> FailOverdue(Timestamp now, std::string_view message) = 0;
  // Row counts of one deployment by phase and state (only non-zero groups).
  virtual Result<std::vector<RolloutCount>> CountRollouts(std::string_view deployment_id) = 0;
  // Rows of one deployment ordered by device id, starting after `after_device_id` ("" for the
  // first page), at most `limit`.
  virtual Result<std::vector<DeviceRollout>> ListRollouts(std::string_view deployment_id,
                                                          std::string_view after_device_id,
                                                          std::size_t limit) = 0;
};

}  // namespace aloft::server::deployments

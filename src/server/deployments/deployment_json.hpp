#pragma once

// The JSON of the management API's deployments (docs: /api/v1/deployments), so the route
// layer only parses the body, calls DeploymentService and writes ToJson(view).
//
// Parsing is strict: unknown members, wrong types, duplicates and out-of-range values are
// kInvalidArgument with a message naming the field ("phases[2].percent must be between 1 and
// 100, not 120"), never a crash. The body's size and depth are bounded by the caller's
// ParseJson limits.
//
// The same selector and phase mappings are what the SQLite store keeps in its JSON columns.

#include <string>
#include <vector>

#include "core/base/result.hpp"
#include "core/codec/json.hpp"
#include "server/deployments/deployment.hpp"

namespace aloft::server::deployments {

// POST /api/v1/deployments:
//   {"release", "selector": {"devices"?, "tags"?, "hardware_id"?, "attributes"?,
//    "image_version"?}, "phases": [{"percent", "wait_seconds"}], "failure_threshold_percent",
//    "min_devices_for_threshold", "phase_deadline_seconds",
//    "maintenance_window"?: {"start": "HH:MM", "end": "HH:MM"}}
// Everything but maintenance_window and the selector's members is required. The result has
// passed ValidateSpec.
Result<DeploymentSpec> ParseDeploymentSpec(const core::codec::Json& body);

// The optional {"reason"} of POST .../pause, or the required one of .../pause-all: at most
// kMaxReasonBytes; "" when absent and not required.
Result<std::string> ParseReason(const core::codec::Json& body, bool required);

// {"id", "release", "release_version", "state", "paused_reason", "created", "created_by",
//  "updated", "current_phase" (index into phases), "phases": [{"percent", "wait_seconds",
//  "started"?}], "failure_threshold_percent", "min_devices_for_threshold",
//  "phase_deadline_seconds", "maintenance_window"?, "selector", "counts": {"pending", ...,
//  "rolled_back"}, "devices"?: [device rollout]}
core::codec::Json ToJson(const DeploymentView& view);
// {"device_id", "state", "phase", "assigned", "updated", "deadline", "message"}
core::codec::Json ToJson(const DeviceRollout& rollout);
core::codec::Json ToJson(const RolloutCounts& counts);

// Selector and phases on their own (API and storage).
core::codec::Json ToJson(const Selector& selector);
Result<Selector> ParseSelector(const core::codec::Json& json);
core::codec::Json ToJson(const std::vector<Phase>& phases);
// `with_started`: accept each phase's "started" (stored phases); the API refuses it.
Result<std::vector<Phase>> ParsePhases(const core::codec::Json& json, bool with_started);

}  // namespace aloft::server::deployments

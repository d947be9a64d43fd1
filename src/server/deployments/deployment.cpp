#include "server/deployments/deployment.hpp"

#include <cstdio>

#include "core/wire/device_api.hpp"
#include "server/groups/group.hpp"

namespace aloft::server::deployments {
namespace {

constexpr std::array<std::string_view, 4> kDeploymentStateNames = {"active", "paused", "completed",
                                                                   "cancelled"};
constexpr std::array<std::string_view, kRolloutStateCount> kRolloutStateNames = {
    "pending", "downloading", "installing", "rebooting", "succeeded", "failed", "rolled_back"};

Error Bad(std::string message) { return Error(Errc::kInvalidArgument, std::move(message)); }

std::string N(std::int64_t v) { return std::to_string(v); }

Status CheckRange(std::string_view field, std::int64_t value, std::int64_t lo, std::int64_t hi) {
  if (value < lo || value > hi) {
    return Fail(Bad(std::string(field) + " must be between " + N(lo) + " and " + N(hi) + ", not " +
                    N(value)));
  }
  return Ok();
}

Status CheckSelector(const Selector& s) {
  if (s.devices.size() > kMaxSelectorDevices) {
    return Fail(Bad("selector.devices lists more than " + N(kMaxSelectorDevices) + " devices"));
  }
  for (const auto& id : s.devices) {
    if (!core::wire::IsValidId(id)) {
      return Fail(Bad("selector.devices: '" + id.substr(0, 64) +
                      "' is not a device id (1-128 characters of letters, digits and . _ : -)"));
    }
  }
  if (s.tags.size() > kMaxSelectorTags) {
    return Fail(Bad("selector.tags lists more than " + N(kMaxSelectorTags) + " tags"));
  }
  for (const auto& tag : s.tags) {
    if (tag.empty() || tag.size() > kMaxTagBytes) {
      return Fail(Bad("selector.tags: a tag must be 1-" + N(kMaxTagBytes) + " bytes"));
    }
    // Devices carry tags as one comma-separated attribute, trimmed (admission.cpp), so a
    // tag with a comma or outer spaces could never match.
    if (tag.find(',') != std::string::npos || tag.front() == ' ' || tag.back() == ' ') {
      return Fail(Bad("selector.tags: '" + tag.substr(0, 64) +
                      "' must not contain a comma or start or end with a space"));
    }
  }
  if (!s.hardware_id.empty() && !core::wire::IsValidId(s.hardware_id)) {
    return Fail(
        Bad("selector.hardware_id must be 1-128 characters of letters, digits and . _ : -"));
  }
  if (s.attributes.size() > kMaxSelectorAttributes) {
    return Fail(Bad("selector.attributes has more than " + N(kMaxSelectorAttributes) + " entries"));
  }
  for (const auto& [key, value] : s.attributes) {
    if (key.empty() || key.size() > kMaxAttributeKeyBytes) {
      return Fail(
          Bad("selector.attributes: a key must be 1-" + N(kMaxAttributeKeyBytes) + " bytes"));
    }
    if (value.size() > kMaxAttributeValueBytes) {
      return Fail(Bad("selector.attributes." + key + " is longer than " +
                      N(kMaxAttributeValueBytes) + " bytes"));
    }
  }
  if (s.image_version.size() > kMaxVersionBytes) {
    return Fail(Bad("selector.image_version is longer than " + N(kMaxVersionBytes) + " bytes"));
  }
  if (!s.group.empty()) {
    if (Status g = groups::CheckGroupName(s.group); !g) {
      return Fail(std::move(g).error().WithContext("selector.group"));
    }
  }
  return Ok();
}

Status CheckPhases(const std::vector<Phase>& phases) {
  if (phases.empty() || phases.size() > kMaxPhases) {
    return Fail(Bad("phases must list 1 to " + N(kMaxPhases) + " phases"));
  }
  std::int64_t previous = 0;
  for (std::size_t i = 0; i < phases.size(); ++i) {
    const std::string at = "phases[" + std::to_string(i) + "]";
    const Phase& p = phases[i];
    if (Status s = CheckRange(at + ".percent", p.percent, 1, 100); !s) return s;
    if (p.percent <= previous) {
      return Fail(Bad(at + ".percent must be greater than the previous phase's " + N(previous)));
    }
    if (Status s = CheckRange(at + ".wait_seconds", p.wait_seconds, 0, kMaxWaitSeconds); !s) {
      return s;
    }
    previous = p.percent;
  }
  if (previous != 100) {
    return Fail(Bad("the last phase must reach 100 percent, not " + N(previous)));
  }
  return Ok();
}

}  // namespace

std::string_view DeploymentStateName(DeploymentState s) noexcept {
  return kDeploymentStateNames[static_cast<std::size_t>(s)];
}

Result<DeploymentState> ParseDeploymentState(std::string_view name) {
  for (std::size_t i = 0; i < kDeploymentStateNames.size(); ++i) {
    if (kDeploymentStateNames[i] == name) return static_cast<DeploymentState>(i);
  }
  return Fail(Bad("unknown deployment state '" + std::string(name.substr(0, 32)) +
                  "' (active, paused, completed or cancelled)"));
}

std::string_view RolloutStateName(RolloutState s) noexcept {
  return kRolloutStateNames[static_cast<std::size_t>(s)];
}

Result<RolloutState> ParseRolloutState(std::string_view name) {
  for (std::size_t i = 0; i < kRolloutStateNames.size(); ++i) {
    if (kRolloutStateNames[i] == name) return static_cast<RolloutState>(i);
  }
  return Fail(Bad("unknown rollout state '" + std::string(name.substr(0, 32)) + "'"));
}

bool IsFinal(RolloutState s) noexcept { return s == RolloutState::kSucceeded || IsFailure(s); }

bool IsFailure(RolloutState s) noexcept {
  return s == RolloutState::kFailed || s == RolloutState::kRolledBack;
}

Result<int> ParseClockTime(std::string_view text) {
  auto digit = [&](std::size_t i) { return text[i] >= '0' && text[i] <= '9'; };
  if (text.size() != 5 || text[2] != ':' || !digit(0) || !digit(1) || !digit(3) || !digit(4)) {
    return Fail(Bad("time '" + std::string(text.substr(0, 16)) + "' is not HH:MM"));
  }
  int hours = (text[0] - '0') * 10 + (text[1] - '0');
  int minutes = (text[3] - '0') * 10 + (text[4] - '0');
  if (hours > 23 || minutes > 59) {
    return Fail(Bad("time '" + std::string(text) + "' is not between 00:00 and 23:59"));
  }
  return hours * 60 + minutes;
}

std::string FormatClockTime(int minute) {
  char out[8];
  std::snprintf(out, sizeof out, "%02d:%02d", (minute / 60) % 100, minute % 60);
  return out;
}

Status ValidateSpec(const DeploymentSpec& spec) {
  if (spec.release.empty() || spec.release.size() > kMaxReleaseNameBytes) {
    return Fail(Bad("release must be a target path of 1-" + N(kMaxReleaseNameBytes) + " bytes"));
  }
  if (Status s = CheckSelector(spec.selector); !s) return s;
  if (Status s = CheckPhases(spec.phases); !s) return s;
  if (Status s = CheckRange("failure_threshold_percent", spec.failure_threshold_percent, 0, 100);
      !s) {
    return s;
  }
  if (Status s = CheckRange("min_devices_for_threshold", spec.min_devices_for_threshold, 1,
                            kMaxMinDevicesForThreshold);
      !s) {
    return s;
  }
  if (Status s = CheckRange("phase_deadline_seconds", spec.phase_deadline_seconds,
                            kMinPhaseDeadlineSeconds, kMaxPhaseDeadlineSeconds);
      !s) {
    return s;
  }
  if (const auto& w = spec.maintenance_window) {
    if (w->start_minute < 0 || w->start_minute >= 24 * 60 || w->end_minute < 0 ||
        w->end_minute >= 24 * 60) {
      return Fail(Bad("maintenance_window times must be between 00:00 and 23:59"));
    }
    if (w->start_minute == w->end_minute) {
      return Fail(
          Bad("maintenance_window start and end must differ (omit the window to allow "
              "any time)"));
    }
  }
  return Ok();
}

std::int64_t RolloutCounts::Total() const {
  std::int64_t total = 0;
  for (std::int64_t n : by_state) total += n;
  return total;
}

std::int64_t RolloutCounts::InProgress() const {
  return Get(RolloutState::kPending) + Get(RolloutState::kDownloading) +
         Get(RolloutState::kInstalling) + Get(RolloutState::kRebooting);
}

std::int64_t RolloutCounts::Failures() const {
  return Get(RolloutState::kFailed) + Get(RolloutState::kRolledBack);
}

}  // namespace aloft::server::deployments

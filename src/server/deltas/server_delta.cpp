#include "server/deltas/server_delta.hpp"

namespace aloft::server::deltas {

std::string_view BuildStateName(BuildState state) noexcept {
  switch (state) {
    case BuildState::kQueued: return "queued";
    case BuildState::kReady: return "ready";
    case BuildState::kFailed: return "failed";
  }
  return "failed";
}

std::optional<BuildState> ParseBuildState(std::string_view name) noexcept {
  for (BuildState s : {BuildState::kQueued, BuildState::kReady, BuildState::kFailed}) {
    if (BuildStateName(s) == name) return s;
  }
  return std::nullopt;
}

core::codec::Json ToJson(const ServerDelta& d) {
  core::codec::Json j = core::codec::Json::Object{
      {"release", d.to_target},
      {"from_sha256", d.from_sha256},
      {"state", std::string(BuildStateName(d.state))},
      {"requested_at", FormatTimestamp(d.requested_at)},
      {"updated_at", FormatTimestamp(d.updated_at)}};
  if (d.state == BuildState::kReady) {
    j["source_release"] = d.source_target;
    j["artifact_sha256"] = d.artifact_sha256;
    j["artifact_length"] = d.artifact_length;
    j["from_length"] = d.from_length;
    j["to_sha256"] = d.to_sha256;
    j["to_length"] = d.to_length;
  }
  if (d.state == BuildState::kFailed) j["error"] = d.error;
  return j;
}

}  // namespace aloft::server::deltas

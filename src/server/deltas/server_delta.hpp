#pragma once

// A delta aloftd builds itself: a patch (core/delta) from an image devices run to a release
// that was uploaded without a delta from it. The offline keys never signed it, so it is only
// ever offered as a Director-signed transport for the Image-signed release
// (core/uptane/target_custom.hpp, "builtBy": "server"); devices check the slot against the
// release's signed digest whatever the patch says.
//
// One row per (release, source image digest): requested when a device on that image is
// admitted to a deployment of the release and no delta exists, then built in the background.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/result.hpp"
#include "core/base/time.hpp"
#include "core/codec/json.hpp"

namespace aloft::server::deltas {

enum class BuildState : std::uint8_t { kQueued, kReady, kFailed };

std::string_view BuildStateName(BuildState state) noexcept;  // "queued", "ready", "failed"
std::optional<BuildState> ParseBuildState(std::string_view name) noexcept;

struct ServerDelta {
  std::string to_target;    // the release (Image-repository target path)
  std::string from_sha256;  // the image it starts from, lowercase hex (what devices report)
  BuildState state = BuildState::kQueued;
  // Filled once built (kReady).
  std::string source_target;  // the release whose image is the base
  std::string artifact_sha256;
  std::int64_t artifact_length = 0;
  std::int64_t from_length = 0;
  std::string to_sha256;
  std::int64_t to_length = 0;
  std::string error;  // kFailed: why, for the operator
  Timestamp requested_at{};
  Timestamp updated_at{};
};

core::codec::Json ToJson(const ServerDelta& delta);

}  // namespace aloft::server::deltas

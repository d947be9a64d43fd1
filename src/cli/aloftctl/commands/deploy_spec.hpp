#pragma once

// Pure parsing of the rollout options of `deploy create` into the contract's request body.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"
#include "core/codec/json.hpp"

namespace aloft::cli::aloftctl::commands {

// "90" or "90s", "10m", "2h", "1d" -> seconds. kInvalidArgument otherwise (negative, empty,
// unknown unit, more than 366 days).
Result<std::int64_t> ParseDuration(std::string_view text);

// "1%,10%,100%" (the '%' is optional; each phase may carry its own wait: "1%:10m,10%:1h,100%")
// -> [{"percent":1,"wait_seconds":...},...]. Percents must rise strictly and end at 100; a
// phase without its own wait gets `default_wait`, except the last, which waits 0.
Result<core::codec::Json> ParsePhases(std::string_view spec, std::int64_t default_wait);

struct DeploySelector {
  std::vector<std::string> devices;
  std::vector<std::string> tags;
  std::string hardware_id;
  std::vector<std::string> attributes;  // "key=value"
  std::string image_version;
  std::string group;  // a static group on the server (aloftctl groups)
};

// The contract's "selector" object. kInvalidArgument when it selects nothing (no devices, tags,
// group, hardware id or attributes) or an attribute is not "key=value".
Result<core::codec::Json> MakeSelector(const DeploySelector& selector);

// "HH:MM-HH:MM" (UTC) -> {"start":"HH:MM","end":"HH:MM"}.
Result<core::codec::Json> ParseWindow(std::string_view text);

}  // namespace aloft::cli::aloftctl::commands

#pragma once

// Who a deployment is for and when: pure functions, no I/O.
//
// Phase membership is decided without storing anything per device. Each (deployment, device)
// pair hashes to a bucket in [0, 10000); a device belongs to the first phase whose cumulative
// percent covers its bucket (bucket < percent × 100). SHA-256 spreads buckets uniformly, so a
// 10% phase holds about 10% of the matching devices, a device's phase never changes during a
// deployment, and different deployments draw different canaries.
//
// The same rule applies to explicit device lists. With a short list the shares are only
// approximate (a 1% phase of 20 listed devices is most likely empty): give tiny lists a
// single 100% phase, or phases large enough to hold at least one device.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "server/deployments/deployment.hpp"

namespace aloft::server::deployments {

inline constexpr std::uint32_t kBuckets = 10000;

// What the service knows about a device when it checks in.
struct DeviceView {
  std::string id;
  std::string hardware_id;
  std::string image_sha256;  // digest of the image the device runs now
  std::string image_version;
  // Free-form attributes the device reports; "tags" holds comma-separated tags.
  std::map<std::string, std::string, std::less<>> attributes;
};

// The first 8 bytes of SHA-256(deployment_id + "/" + device_id), big-endian, mod 10000.
std::uint32_t Bucket(std::string_view deployment_id, std::string_view device_id);

// The index of the first phase with bucket < percent × 100. Phases must be valid
// (ValidateSpec: increasing, the last at 100); for invalid ones returns phases.size().
std::size_t PhaseForBucket(const std::vector<Phase>& phases, std::uint32_t bucket);

// Whether `now` (UTC) falls in the window; start is inclusive, end exclusive, and a window
// whose start is after its end wraps midnight.
bool WindowOpen(const MaintenanceWindow& window, Timestamp now);

// The device's tags: its "tags" attribute split on commas, each trimmed of spaces, empties
// dropped.
std::vector<std::string> DeviceTags(const DeviceView& device);

// Every criterion of the selector holds for the device (hardware compatibility with the
// release and membership of selector.group need lookups and are checked separately, by the
// service, after this).
bool SelectorMatches(const Selector& selector, const DeviceView& device);

}  // namespace aloft::server::deployments

#include "server/deployments/admission.hpp"

#include <algorithm>

#include "core/crypto/hash.hpp"

namespace aloft::server::deployments {

std::uint32_t Bucket(std::string_view deployment_id, std::string_view device_id) {
  std::string input;
  input.reserve(deployment_id.size() + 1 + device_id.size());
  input.append(deployment_id).append("/").append(device_id);
  const Bytes digest = core::crypto::Sha256(AsBytes(input));
  std::uint64_t prefix = 0;
  for (std::size_t i = 0; i < 8; ++i) prefix = (prefix << 8) | digest[i];
  return static_cast<std::uint32_t>(prefix % kBuckets);
}

std::size_t PhaseForBucket(const std::vector<Phase>& phases, std::uint32_t bucket) {
  for (std::size_t i = 0; i < phases.size(); ++i) {
    if (static_cast<std::int64_t>(bucket) < phases[i].percent * 100) return i;
  }
  return phases.size();
}

bool WindowOpen(const MaintenanceWindow& window, Timestamp now) {
  constexpr std::int64_t kDay = 24 * 3600;
  std::int64_t seconds = now.time_since_epoch().count() % kDay;
  if (seconds < 0) seconds += kDay;  // instants before 1970 still have a time of day
  const auto minute = static_cast<int>(seconds / 60);
  if (window.start_minute < window.end_minute) {
    return minute >= window.start_minute && minute < window.end_minute;
  }
  return minute >= window.start_minute || minute < window.end_minute;
}

std::vector<std::string> DeviceTags(const DeviceView& device) {
  std::vector<std::string> tags;
  auto it = device.attributes.find("tags");
  if (it == device.attributes.end()) return tags;
  std::string_view rest = it->second;
  while (true) {
    const std::size_t comma = rest.find(',');
    std::string_view tag = rest.substr(0, comma);
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    if (!tag.empty()) tags.emplace_back(tag);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return tags;
}

bool SelectorMatches(const Selector& selector, const DeviceView& device) {
  if (!selector.devices.empty() && !selector.devices.contains(device.id)) return false;
  if (!selector.hardware_id.empty() && selector.hardware_id != device.hardware_id) return false;
  if (!selector.image_version.empty() && selector.image_version != device.image_version) {
    return false;
  }
  for (const auto& [key, value] : selector.attributes) {
    auto it = device.attributes.find(key);
    if (it == device.attributes.end() || it->second != value) return false;
  }
  if (!selector.tags.empty()) {
    const std::vector<std::string> tags = DeviceTags(device);
    for (const auto& wanted : selector.tags) {
      if (std::find(tags.begin(), tags.end(), wanted) == tags.end()) return false;
    }
  }
  return true;
}

}  // namespace aloft::server::deployments

#include "server/devices/last_seen.hpp"

#include <vector>

namespace aloft::server::devices {

void LastSeenRecorder::Record(std::string_view device_id, Timestamp at) {
  std::lock_guard lock(mutex_);
  auto [it, inserted] = pending_.try_emplace(std::string(device_id), at);
  if (!inserted && it->second < at) it->second = at;
}

Status LastSeenRecorder::Flush() {
  std::lock_guard flushing(flush_mutex_);
  std::unordered_map<std::string, Timestamp> batch;
  {
    std::lock_guard lock(mutex_);
    batch.swap(pending_);
    // The next second's devices are likely as many as this one's: size the table for them
    // now rather than rehash it again and again as it grows under the check-ins' lock.
    pending_.reserve(batch.size());
  }
  if (batch.empty()) return Ok();
  std::vector<store::DeviceSeen> seen;
  seen.reserve(batch.size());
  for (auto& [id, at] : batch) seen.push_back(store::DeviceSeen{id, at});
  Status s = devices_.TouchDevices(seen);
  if (!s) {
    // Put them back, behind anything newer recorded meanwhile.
    std::lock_guard lock(mutex_);
    for (auto& [id, at] : batch) {
      auto [it, inserted] = pending_.try_emplace(id, at);
      if (!inserted && it->second < at) it->second = at;
    }
  }
  return s;
}

std::size_t LastSeenRecorder::Pending() const {
  std::lock_guard lock(mutex_);
  return pending_.size();
}

}  // namespace aloft::server::devices

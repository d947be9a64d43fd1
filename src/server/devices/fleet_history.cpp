#include "server/devices/fleet_history.hpp"

#include <algorithm>
#include <map>

namespace aloft::server::devices {

FleetHistory::FleetHistory(store::DeviceStore& devices, store::FleetHistoryStore& samples,
                           const Clock& clock, std::chrono::seconds interval)
    : devices_(devices),
      samples_(samples),
      clock_(clock),
      interval_(std::max(interval, std::chrono::seconds(1))) {}

Timestamp FleetHistory::IntervalStart(Timestamp t) const {
  return Timestamp(t.time_since_epoch() - t.time_since_epoch() % interval_);
}

Result<bool> FleetHistory::SampleIfDue() {
  const Timestamp at = IntervalStart(clock_.Now());
  auto latest = samples_.LatestSampleAt();
  if (!latest) return Fail(latest.error());
  if (*latest && **latest >= at) return false;

  auto counts = devices_.CountDevices();
  if (!counts) return Fail(counts.error());
  // CountDevices groups by hardware id too; the history is per version across hardware.
  std::map<std::string, std::int64_t> by_version;
  for (const store::DeviceCount& c : *counts) {
    if (c.status == core::wire::EnrollmentStatus::kAccepted) by_version[c.image_version] += c.count;
  }
  store::FleetSample sample{at, {}};
  for (auto& [version, devices] : by_version) sample.versions.push_back({version, devices});
  Status added = samples_.AddSample(sample, at - kRetention);
  if (added) return true;
  // Another aloftd sharing the database took this interval's sample first.
  if (added.error().code() == Errc::kAlreadyExists) return false;
  return Fail(added.error());
}

Result<std::vector<store::FleetSample>> FleetHistory::Recent(std::chrono::seconds span) {
  return samples_.SamplesSince(clock_.Now() - span);
}

}  // namespace aloft::server::devices

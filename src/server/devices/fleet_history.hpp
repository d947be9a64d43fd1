#pragma once

// The fleet's image versions over time. aloftd's housekeeping calls SampleIfDue() every few
// seconds; a sample is taken once per interval, at the interval's boundary (12:00, 13:00, ...
// for an hour), so samples of several aloftd processes line up and the store's uniqueness
// settles which one writes. Samples older than the retention are dropped as new ones arrive.

#include <chrono>
#include <vector>

#include "core/base/result.hpp"
#include "core/base/time.hpp"
#include "server/store/device_store.hpp"

namespace aloft::server::devices {

class FleetHistory {
 public:
  static constexpr std::chrono::hours kRetention{24 * 90};

  // Every reference must outlive the history. `interval` is at least one second.
  FleetHistory(store::DeviceStore& devices, store::FleetHistoryStore& samples, const Clock& clock,
               std::chrono::seconds interval);

  // Takes a sample of accepted devices per image version when none was taken in the current
  // interval. Returns whether it took one.
  Result<bool> SampleIfDue();

  // The samples of the last `span`, oldest first.
  Result<std::vector<store::FleetSample>> Recent(std::chrono::seconds span);

  std::chrono::seconds interval() const noexcept { return interval_; }

 private:
  Timestamp IntervalStart(Timestamp t) const;

  store::DeviceStore& devices_;
  store::FleetHistoryStore& samples_;
  const Clock& clock_;
  std::chrono::seconds interval_;
};

}  // namespace aloft::server::devices

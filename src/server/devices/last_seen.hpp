#pragma once

// When each device was last seen, written behind: a check-in records the time in memory and
// Flush() (aloftd calls it every second and at shutdown) writes all of them in one
// transaction. A check-in then costs no database write of its own: one commit a second
// replaces one per check-in. The price: a last-seen time reaches the database up to a second
// late, and a crash loses at most that second's (it is a display and metrics figure, never
// used for a security decision).

#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/base/result.hpp"
#include "core/base/time.hpp"
#include "server/store/device_store.hpp"

namespace aloft::server::devices {

class LastSeenRecorder {
 public:
  // `devices` must outlive the recorder. Thread-safe.
  explicit LastSeenRecorder(store::DeviceStore& devices) : devices_(devices) {}

  // Remembers that `device_id` was seen at `at` (the latest time wins).
  void Record(std::string_view device_id, Timestamp at);
  // Writes everything recorded so far. On failure the records are kept for the next flush
  // (unless newer ones replaced them), so a busy database delays last-seen times, no more.
  Status Flush();
  std::size_t Pending() const;

 private:
  store::DeviceStore& devices_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Timestamp> pending_;
  std::mutex flush_mutex_;  // one flush at a time, so an older batch never lands last
};

}  // namespace aloft::server::devices

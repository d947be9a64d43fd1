#pragma once

// The update machine's reports go to the on-disk outbox (report::ReportQueue), and download
// progress joins them there, throttled.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "agent/report/report_queue.hpp"
#include "agent/update/update_machine.hpp"
#include "core/base/time.hpp"

namespace aloft::agent::client {

// ReportSink over the outbox. A report whose id is already queued is accepted as it is (the
// machine re-enqueues after a crash; the outbox and the server deduplicate by id).
class QueueReportSink final : public update::ReportSink {
 public:
  explicit QueueReportSink(report::ReportQueue& queue) : queue_(queue) {}
  Status Enqueue(const core::wire::Report& report) override;

  // While on, a deployment's "failed" report goes out as "downloading", the failure in its
  // message (same id): the agent will try that deployment again (a transient failure with
  // attempts left), and "failed" is final on the server, which then stops assigning the update
  // to this device, so the retry could never happen. UpdateClient sets it around the machine
  // call that may fail.
  void SetRetrying(bool retrying) noexcept { retrying_ = retrying; }

 private:
  report::ReportQueue& queue_;
  bool retrying_ = false;
};

// Turns the installer's per-chunk progress into "downloading" reports (bytes_done of
// bytes_total artifact bytes): at most one per `interval` and only when at least one more
// percent arrived, never for the last byte (the "installed" transition says that). Progress is
// best effort: a report the outbox refuses is dropped, the install goes on.
class ProgressReporter {
 public:
  ProgressReporter(report::ReportQueue& queue, const Clock& clock, std::string deployment_id,
                   std::uint64_t total_bytes, std::chrono::milliseconds interval)
      : queue_(queue),
        clock_(clock),
        deployment_id_(std::move(deployment_id)),
        total_(total_bytes),
        interval_(interval),
        last_(clock.Monotonic()) {}

  void OnProgress(std::uint64_t artifact_bytes);
  int sent() const noexcept { return sent_; }

 private:
  report::ReportQueue& queue_;
  const Clock& clock_;
  std::string deployment_id_;
  std::uint64_t total_;
  std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point last_;
  std::int64_t last_percent_ = 0;
  int sent_ = 0;
};

}  // namespace aloft::agent::client

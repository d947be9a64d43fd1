#include "agent/client/report_sink.hpp"

namespace aloft::agent::client {

Status QueueReportSink::Enqueue(const core::wire::Report& report) {
  if (!report.id.empty() && queue_.Contains(report.id)) return Ok();
  if (retrying_ && report.state == core::wire::UpdateState::kFailed &&
      !report.deployment_id.empty()) {
    core::wire::Report retry = report;
    retry.state = core::wire::UpdateState::kDownloading;
    retry.message =
        "attempt failed, will retry: " + report.message.substr(0, core::wire::kMaxTextBytes - 32);
    auto queued = queue_.Enqueue(std::move(retry));
    if (!queued) return Fail(std::move(queued).error());
    return Ok();
  }
  auto queued = queue_.Enqueue(report);
  if (!queued) return Fail(std::move(queued).error());
  return Ok();
}

void ProgressReporter::OnProgress(std::uint64_t artifact_bytes) {
  if (total_ == 0 || artifact_bytes >= total_) return;
  const auto now = clock_.Monotonic();
  const auto percent = static_cast<std::int64_t>(artifact_bytes * 100 / total_);
  if (now - last_ < interval_ || percent <= last_percent_) return;
  core::wire::Report report;
  report.deployment_id = deployment_id_;
  report.state = core::wire::UpdateState::kDownloading;
  report.bytes_done = static_cast<std::int64_t>(artifact_bytes);
  report.bytes_total = static_cast<std::int64_t>(total_);
  report.message = "downloaded " + std::to_string(percent) + "%";
  report.at = clock_.Now();
  last_ = now;
  last_percent_ = percent;
  if (queue_.Enqueue(std::move(report))) ++sent_;
}

}  // namespace aloft::agent::client

#pragma once

// The agent's outbox of update reports: every report is on disk before Enqueue returns, and
// leaves the disk only after the server acknowledged it. So a report survives a power cut, a
// crash and a server outage, and a resend after a lost answer is harmless (the server knows
// reports by id).
//
// Layout: <dir>/<20-digit sequence>-<id>.json, one report per file, written with
// AtomicWriteFile (whole or absent, never half). The sequence increases monotonically and
// gives the sending order; it is recovered from the file names at Open.
//
// Bound: at most `max_reports` files. When a new report would exceed it, the oldest *progress*
// report is dropped: a report whose predecessor in the queue, for the same deployment, has the
// same state (it only updates byte counts, and a later report carries newer ones). State
// transitions (the first report of each state of a deployment) are never dropped: when the
// queue holds nothing but transitions, a new progress report is discarded instead, and a new
// transition fails with kNoSpace.
//
// Thread-safety: none; one queue per data directory, used from one thread.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "agent/identity/device_api_client.hpp"
#include "core/base/result.hpp"
#include "core/wire/device_api.hpp"

namespace aloft::agent::report {

struct ReportQueueOptions {
  std::size_t max_reports = 1000;
  // The largest report file read back at Open; bigger files are treated as corrupt.
  std::size_t max_file_bytes = 64 * 1024;
};

class ReportQueue {
 public:
  using Options = ReportQueueOptions;

  // Opens (creating with mode 0700) the outbox directory `dir`, usually <data_dir>/reports,
  // and reads back what an earlier run left. A file that cannot be read back as a report is
  // deleted (counted by dropped_corrupt()): one bad file must not block the outbox forever.
  // Temporary files of interrupted writes are ignored. kIo when the directory is unusable.
  static Result<ReportQueue> Open(const std::filesystem::path& dir, Options options = {});

  // Persists `report` (durable when this returns) and returns its id, generating a random
  // one (32 hex characters) when report.id is empty. Errors:
  //   kInvalidArgument  the report would not pass the server's parser (bad id, overlong text);
  //                     the same id already queued
  //   kNoSpace          the queue is full of state transitions (see Bound above), or the disk
  //   kIo               writing failed
  Result<std::string> Enqueue(core::wire::Report report);

  // Sends the queued reports, oldest first, in batches of at most kMaxReportsPerBatch, and
  // deletes exactly the files whose ids the server acknowledged. Stops at the first failed
  // call (the error is returned, everything unsent stays queued) or at a batch the server
  // only partly acknowledged. Returns the number of reports delivered and deleted.
  Result<std::size_t> Flush(identity::DeviceApiClient& api);

  // The queued reports, oldest first.
  std::vector<core::wire::Report> Pending() const;
  // Whether a report with this id is queued.
  bool Contains(std::string_view id) const noexcept;
  std::size_t size() const noexcept { return entries_.size(); }
  std::size_t dropped_progress() const noexcept { return dropped_progress_; }
  std::size_t dropped_corrupt() const noexcept { return dropped_corrupt_; }

 private:
  struct Entry {
    std::uint64_t sequence = 0;
    std::filesystem::path file;
    core::wire::Report report;
  };

  ReportQueue(std::filesystem::path dir, Options options)
      : dir_(std::move(dir)), options_(options) {}

  // Whether entries_[i] is a progress report (see Bound).
  bool IsProgress(std::size_t i) const;
  // Deletes the files of `ids` and their entries; fsyncs the directory once.
  Status Remove(const std::vector<std::string>& ids);

  std::filesystem::path dir_;
  Options options_;
  std::vector<Entry> entries_;  // in sequence order
  std::uint64_t next_sequence_ = 1;
  std::size_t dropped_progress_ = 0;
  std::size_t dropped_corrupt_ = 0;
};

}  // namespace aloft::agent::report

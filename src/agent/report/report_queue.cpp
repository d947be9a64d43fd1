#include "agent/report/report_queue.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <set>
#include <system_error>
#include <utility>

#include "core/base/hex.hpp"
#include "core/codec/json.hpp"
#include "core/crypto/hash.hpp"
#include "platform/posix/files.hpp"

namespace aloft::agent::report {
namespace {

namespace fs = std::filesystem;
namespace wire = core::wire;

constexpr std::size_t kSequenceDigits = 20;

std::string FileName(std::uint64_t sequence, const std::string& id) {
  std::array<char, kSequenceDigits + 1> digits{};
  std::snprintf(digits.data(), digits.size(), "%020llu",
                static_cast<unsigned long long>(sequence));  // NOLINT(google-runtime-int)
  return std::string(digits.data()) + "-" + id + ".json";
}

// "<20 digits>-<id>.json" → sequence; nullopt for any other name (temporary files included).
std::optional<std::uint64_t> ParseSequence(const std::string& name) {
  if (name.size() <= kSequenceDigits + 1 + 5 || !name.ends_with(".json") ||
      name[kSequenceDigits] != '-') {
    return std::nullopt;
  }
  std::uint64_t sequence = 0;
  const char* begin = name.data();
  const auto [end, ec] = std::from_chars(begin, begin + kSequenceDigits, sequence);
  if (ec != std::errc() || end != begin + kSequenceDigits) return std::nullopt;
  return sequence;
}

// Whether `report`, queued after entries[0, count), only updates the progress of the state
// its deployment's previous report already announced.
template <class Entries>
bool FollowsSameState(const Entries& entries, std::size_t count, const wire::Report& report) {
  for (std::size_t i = count; i-- > 0;) {
    const wire::Report& earlier = entries[i].report;
    if (earlier.deployment_id == report.deployment_id) return earlier.state == report.state;
  }
  return false;
}

}  // namespace

Result<ReportQueue> ReportQueue::Open(const fs::path& dir, Options options) {
  if (Status made = platform::posix::EnsurePrivateDirectory(dir); !made) {
    return Fail(std::move(made).error().WithContext("report outbox"));
  }
  ReportQueue queue(dir, options);
  std::error_code ec;
  std::vector<std::pair<std::uint64_t, fs::path>> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    auto sequence = ParseSequence(it->path().filename().string());
    if (sequence) files.emplace_back(*sequence, it->path());
  }
  if (ec) return Fail(Errc::kIo, "report outbox: listing " + dir.string() + ": " + ec.message());
  std::sort(files.begin(), files.end());

  bool removed_any = false;
  for (auto& [sequence, path] : files) {
    queue.next_sequence_ = std::max(queue.next_sequence_, sequence + 1);
    auto bytes = platform::posix::ReadFile(path, options.max_file_bytes);
    Result<wire::Report> report = Fail(Errc::kCorrupt, "unreadable");
    if (bytes) {
      core::codec::ParseLimits limits;
      limits.max_bytes = options.max_file_bytes;
      limits.max_depth = 8;
      auto json = core::codec::ParseJson(AsChars(*bytes), limits);
      if (json) report = wire::ParseReport(*json);
    } else if (bytes.error().code() != Errc::kTooLarge) {
      return Fail(std::move(bytes).error().WithContext("report outbox"));
    }
    if (!report || FileName(sequence, report->id) != path.filename().string()) {
      fs::remove(path, ec);  // a bad report must not block the outbox forever
      ++queue.dropped_corrupt_;
      removed_any = true;
      continue;
    }
    queue.entries_.push_back(Entry{sequence, path, std::move(*report)});
  }
  if (removed_any) {
    if (Status synced = platform::posix::FsyncDirectory(dir); !synced) return Fail(synced.error());
  }
  return queue;
}

bool ReportQueue::IsProgress(std::size_t i) const {
  return FollowsSameState(entries_, i, entries_[i].report);
}

Result<std::string> ReportQueue::Enqueue(wire::Report report) {
  if (report.id.empty()) {
    std::array<std::uint8_t, 16> random{};
    if (Status ok = core::crypto::RandomBytes(random); !ok) {
      return Fail(std::move(ok).error().WithContext("report outbox"));
    }
    report.id = HexEncode(random);
  }
  // The server's parser is the judge of what it accepts; a report it would refuse would sit
  // at the head of the outbox forever, so refuse it here instead.
  const core::codec::Json json = wire::ToJson(report);
  if (auto check = wire::ParseReport(json); !check) {
    return Fail(Errc::kInvalidArgument, "report outbox: report '" + report.id +
                                            "' is not acceptable: " + check.error().message());
  }
  if (!wire::IsValidId(report.id)) {
    return Fail(Errc::kInvalidArgument, "report outbox: '" + report.id + "' is not a valid id");
  }
  for (const Entry& e : entries_) {
    if (e.report.id == report.id) {
      return Fail(Errc::kInvalidArgument, "report outbox: id '" + report.id + "' already queued");
    }
  }

  const bool progress = FollowsSameState(entries_, entries_.size(), report);
  std::optional<std::size_t> drop;
  if (entries_.size() >= options_.max_reports) {
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      if (IsProgress(i)) {
        drop = i;
        break;
      }
    }
    if (!drop) {
      if (progress) {
        ++dropped_progress_;  // the newest progress report goes; a later one supersedes it
        return report.id;
      }
      return Fail(Errc::kNoSpace, "report outbox: full (" + std::to_string(entries_.size()) +
                                      " state transitions waiting for the server)");
    }
  }

  const std::uint64_t sequence = next_sequence_;
  const fs::path file = dir_ / FileName(sequence, report.id);
  const std::string text = core::codec::DumpJson(json);
  if (Status written = platform::posix::AtomicWriteFile(file, AsBytes(text), 0600); !written) {
    return Fail(std::move(written).error().WithContext("report outbox"));
  }
  ++next_sequence_;
  entries_.push_back(Entry{sequence, file, report});
  if (drop) {
    ++dropped_progress_;
    if (Status removed = Remove({entries_[*drop].report.id}); !removed)
      return Fail(removed.error());
  }
  return report.id;
}

Status ReportQueue::Remove(const std::vector<std::string>& ids) {
  const std::set<std::string> doomed(ids.begin(), ids.end());
  std::vector<Entry> kept;
  kept.reserve(entries_.size());
  Status result = Ok();
  for (Entry& e : entries_) {
    if (!doomed.contains(e.report.id)) {
      kept.push_back(std::move(e));
      continue;
    }
    std::error_code ec;
    if (!fs::remove(e.file, ec) && ec && result) {
      result = Fail(Errc::kIo, "report outbox: removing " + e.file.string() + ": " + ec.message());
    }
  }
  entries_ = std::move(kept);
  if (Status synced = platform::posix::FsyncDirectory(dir_); !synced && result) return synced;
  return result;
}

Result<std::size_t> ReportQueue::Flush(identity::DeviceApiClient& api) {
  std::size_t delivered = 0;
  while (!entries_.empty()) {
    wire::ReportBatch batch;
    const std::size_t n = std::min(entries_.size(), wire::kMaxReportsPerBatch);
    for (std::size_t i = 0; i < n; ++i) batch.reports.push_back(entries_[i].report);
    auto ack = api.PostReports(batch);
    if (!ack) return Fail(std::move(ack).error().WithContext("report outbox"));
    // Delete exactly what the server acknowledged (it may name ids we no longer hold, after
    // a resend; those are simply not found).
    const std::size_t before = entries_.size();
    if (Status removed = Remove(ack->accepted_ids); !removed) return Fail(removed.error());
    const std::size_t removed_now = before - entries_.size();
    delivered += removed_now;
    if (removed_now < n) break;  // the server stopped part-way: try the rest later
  }
  return delivered;
}

bool ReportQueue::Contains(std::string_view id) const noexcept {
  for (const Entry& e : entries_) {
    if (e.report.id == id) return true;
  }
  return false;
}

std::vector<wire::Report> ReportQueue::Pending() const {
  std::vector<wire::Report> out;
  out.reserve(entries_.size());
  for (const Entry& e : entries_) out.push_back(e.report);
  return out;
}

}  // namespace aloft::agent::report

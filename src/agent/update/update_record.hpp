#pragma once

// The update's "where am I" record: the one thing about an update that survives a power cut.
// It lives in <data_dir>/update-state.json and is only ever replaced whole through
// platform::posix::AtomicWriteFile (temp file, fsync, rename, fsync the directory), so after a
// crash at any instant the file holds the previous record or the next one, never a mix.
//
// Failure semantics of Load():
//   - no file: a device that never updated; the record is the default one (State::kIdle)
//   - a file that does not parse strictly (unknown or missing members, wrong types, unknown
//     state or slot names): kCorrupt. This is fail-stop: the agent must not guess whether a
//     slot is half written or a trial is running; it reports the error and waits for an
//     operator, exactly as for a bootloader environment it cannot read.
//
// Thread-safety: none; the UpdateMachine that owns the store is driven by one thread.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "agent/slots/slot.hpp"
#include "core/base/result.hpp"
#include "core/base/time.hpp"
#include "core/codec/json.hpp"

namespace aloft::agent::update {

// The states of one update, in the order a successful one passes them.
enum class State : std::uint8_t {
  kIdle,        // no update in progress (also: a device that never updated)
  kInstalling,  // downloading and writing the target slot: its bytes are unspecified
  kInstalled,   // the target slot holds the verified image and the trial boot is prepared
  kRebooting,   // the reboot into the trial was requested
  kVerifying,   // booted into the trial: health checks are running
  kCommitting,  // health checks passed: marking the slot good (never reported: it lasts an
                // instant, and kCommitted follows)
  kCommitted,   // the new image is committed and recorded as installed (terminal)
  kRolledBack,  // the trial failed or the bootloader fell back; the old slot boots (terminal)
  kFailed,      // the install failed or was interrupted; the old slot never stopped booting
                // (terminal)
};

// "idle", "installing", ... as written in the record file and in report ids.
std::string_view StateName(State state) noexcept;
// Inverse of StateName; anything else is kInvalidArgument.
Result<State> ParseState(std::string_view name);
// Committed, rolled back or failed: nothing left to do but report, and a new update may start.
bool IsTerminal(State state) noexcept;

// What the device runs as its committed image; copied forward from record to record, and
// replaced only when an update commits.
struct InstalledImage {
  std::string sha256;  // hex, empty when unknown (a device that never updated)
  std::string version;
  std::int64_t security_counter = 0;

  friend bool operator==(const InstalledImage&, const InstalledImage&) = default;
};

// Bound on the health-check log tail kept in the record (and sent in reports).
inline constexpr std::size_t kMaxLogTailBytes = 4096;

struct UpdateRecord {
  State state = State::kIdle;
  std::string deployment_id;
  std::string target_path;         // the target's path in the repositories
  std::string image_sha256;        // hex of the signed image digest
  std::uint64_t image_length = 0;  // signed length of the image
  std::string image_version;
  std::int64_t security_counter = 0;                // signed into the new image
  slots::SlotId target_slot = slots::SlotId::kB;    // the slot being updated
  slots::SlotId previous_slot = slots::SlotId::kA;  // the slot that ran when the update began
  std::int64_t attempt = 0;  // how many times this deployment was started here
  std::string last_error;    // why the update failed or rolled back
  std::string log_tail;      // health-check output tail (at most kMaxLogTailBytes)
  // The report for `state` is in the ReportSink. Written false together with every new state,
  // then true once the report is enqueued; Resume() re-enqueues while it is false.
  bool reported = true;
  Timestamp started_at{};
  Timestamp updated_at{};
  InstalledImage installed;

  friend bool operator==(const UpdateRecord&, const UpdateRecord&) = default;
};

// The record as JSON, and its strict inverse (kInvalidArgument naming the field; exactly the
// members ToJson writes, no more, no fewer).
core::codec::Json ToJson(const UpdateRecord& record);
Result<UpdateRecord> ParseUpdateRecord(const core::codec::Json& json);

// The record file. Save() is atomic and durable when it returns Ok.
class UpdateRecordFile {
 public:
  // Where a write hook is called: around every Save(), for crash-injection tests.
  enum class WritePoint : std::uint8_t { kBeforeWrite, kAfterWrite };
  using WriteHook = std::function<void(WritePoint, const UpdateRecord&)>;

  static constexpr std::string_view kFileName = "update-state.json";

  explicit UpdateRecordFile(std::filesystem::path data_dir)
      : path_(std::move(data_dir) / kFileName) {}

  const std::filesystem::path& path() const noexcept { return path_; }

  // The stored record; the default (kIdle) record when the file does not exist. kCorrupt for a
  // file that exists but does not parse (see above), kIo when it cannot be read.
  Result<UpdateRecord> Load() const;
  // Replaces the stored record: temp file, fsync, rename, fsync the directory. kIo/kNoSpace,
  // with the old record untouched.
  Status Save(const UpdateRecord& record);

  // Test-only: called before and after every Save's write (a crash-point injector).
  void SetWriteHookForTest(WriteHook hook) { hook_ = std::move(hook); }

 private:
  std::filesystem::path path_;
  WriteHook hook_;
};

}  // namespace aloft::agent::update

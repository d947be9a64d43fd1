#pragma once

// The update state machine: one update from "install this approved image" to "committed" or
// "rolled back", persisted at every step so that a power cut at any instant leaves the device
// running the old or the new verified image, with a record that says which, and with every
// step reported.
//
// Every transition comes from one declared table (update_machine.cpp, kTransitions):
//
//   from state × event → next state + action
//
// and runs in this order, which is what makes a crash anywhere convergent:
//   1. persist the new record (state, reported = false) atomically: the point of no return
//   2. enqueue the state's report (id "<deployment>-<state>-<attempt>", so a re-sent report
//      is a harmless duplicate), then persist reported = true
//   3. run the action; every action is idempotent and is re-run by Resume() after a crash
//
//   action     what it does                                   re-run by Resume() when
//   kNone      -
//   kReboot    Rebooter::Reboot()                             kRebooting, trial still pending
//   kCommit    Bootloader::MarkGood(), then event kCommitDone kCommitting, booted the target
//   kAbandon   MarkBad(target); reboot if the target runs     kRolledBack / kFailed
//
// An event the table does not list for the current state is a bug in the caller: kInternal,
// and nothing is written.
//
// Resume() is called once per boot, before anything else; it decides from the record and the
// bootloader (see UpdateMachine::Resume) and drives the machine to the next stable point.
//
// Thread-safety: none; one agent thread owns the machine. Errors from the record store are
// returned as they are (the record is then unchanged on disk); errors from reports and
// effects are returned after the record was persisted, so retrying Resume() converges.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "agent/install/plan.hpp"
#include "agent/slots/bootloader.hpp"
#include "agent/update/health_check.hpp"
#include "agent/update/update_record.hpp"
#include "core/base/result.hpp"
#include "core/base/time.hpp"
#include "core/uptane/image_match.hpp"
#include "core/wire/device_api.hpp"

namespace aloft::agent::update {

enum class Event : std::uint8_t {
  kStart,             // a new approved image is to be installed
  kInstallSucceeded,  // the slot holds the verified image, the trial boot is prepared
  kInstallFailed,     // the install failed or was interrupted
  kRebootRequested,   // time to boot into the trial
  kBootedIntoTrial,   // the bootloader runs the target slot on trial
  kBootedOld,         // the bootloader runs the previous slot (it fell back)
  kHealthOk,          // every health check passed
  kHealthFailed,      // a health check failed or timed out
  kCommitDone,        // the bootloader committed the target slot
};
std::string_view EventName(Event event) noexcept;

// Where reports go: the on-disk outbox in production. Enqueue must be durable when it returns
// Ok, and must accept a report whose id it already holds (at-least-once delivery; the server
// deduplicates by id).
class ReportSink {
 public:
  virtual ~ReportSink() = default;
  virtual Status Enqueue(const core::wire::Report& report) = 0;
};

// Restarts the device. In production it does not return on success; in tests it records.
class Rebooter {
 public:
  virtual ~Rebooter() = default;
  virtual Status Reboot() = 0;
};

// What to install, taken from the verified image and the install plan.
struct UpdateRequest {
  std::string deployment_id;
  std::string target_path;
  std::string image_sha256;  // hex
  std::uint64_t image_length = 0;
  std::string image_version;
  std::int64_t security_counter = 0;
  slots::SlotId target_slot = slots::SlotId::kB;
  slots::SlotId previous_slot = slots::SlotId::kA;
};
UpdateRequest MakeUpdateRequest(const core::uptane::ApprovedImage& image,
                                const install::InstallPlan& plan, slots::SlotId booted);

// The report for a record's state, or nullopt for states that are not reported (kIdle,
// kCommitting). Deterministic: id "<deployment>-<state>-<attempt>" (without a deployment:
// "local-<16 hex of the image sha256>-<start time>-<state>-<attempt>"), time
// record.updated_at, so the report re-sent after a crash is the very same report. kInstalling
// is reported as "downloading": download and install are one streaming step.
std::optional<core::wire::Report> ReportFor(const UpdateRecord& record);

// Runs the install itself (the Installer in production): Ok only when the slot holds the
// verified image and the trial boot is prepared.
using InstallFn = std::function<Status()>;

class UpdateMachine {
 public:
  struct Deps {
    UpdateRecordFile& records;
    slots::Bootloader& bootloader;
    ReportSink& reports;
    HealthChecker& health;
    Rebooter& rebooter;
    const Clock& clock;
  };

  // Loads the record. kCorrupt when it cannot be read: fail-stop, the caller reports the error
  // and waits for an operator; nothing about the update may be guessed.
  static Result<UpdateMachine> Open(Deps deps);

  const UpdateRecord& record() const noexcept { return record_; }

  // Once per boot. Re-enqueues the current state's report if it was not yet, then decides:
  //   kIdle, kCommitted                nothing
  //   kInstalling                      the slot may be half written: kInstallFailed
  //                                    ("interrupted"), which abandons the target
  //   kInstalled, kRebooting,          booted the target on trial → kBootedIntoTrial, then the
  //   kVerifying                       health checks (again, after a crash during them);
  //                                    trial still pending → kRebootRequested (reboot);
  //                                    booted the previous slot → kBootedOld (rolled back)
  //   kCommitting                      booted the target → MarkGood again, kCommitDone;
  //                                    booted the previous slot → kBootedOld
  //   kRolledBack, kFailed             MarkBad(target) again; reboot if the target runs
  // kCorrupt when the bootloader's state contradicts the record in a way no crash explains.
  Status Resume();

  // Runs one update up to the reboot into the trial: kStart, install(), then
  // kInstallSucceeded + kRebootRequested, or kInstallFailed. Returns the install's error on
  // failure (after the failure was persisted and reported).
  Status Update(const UpdateRequest& request, const InstallFn& install);

  // After kBootedIntoTrial: runs the health checks and commits or rolls back.
  Status Verify();

  // Applies one event through the transition table (see above). `reason` and `log_tail` go
  // into the record for failure events. kInternal when the table has no such transition.
  Status Fire(Event event, std::string reason = {}, std::string log_tail = {});

  // For kStart: the update to begin. Set by Update(); exposed for tests of the table.
  void SetRequestForTest(UpdateRequest request) { request_ = std::move(request); }

 private:
  enum class Action : std::uint8_t { kNone, kReboot, kCommit, kAbandon };
  struct Transition;
  static const Transition* FindTransition(State from, Event event) noexcept;

  UpdateMachine(Deps deps, UpdateRecord record) : deps_(deps), record_(std::move(record)) {}

  // Persists `next`, enqueues its report, persists reported = true.
  Status Enter(UpdateRecord next);
  Status Report();
  Status RunAction(Action action);
  Status Commit();
  Status Abandon();

  Deps deps_;
  UpdateRecord record_;
  std::optional<UpdateRequest> request_;
};

}  // namespace aloft::agent::update

#include "agent/update/update_machine.hpp"

#include <utility>

#include "core/base/hex.hpp"
#include "core/crypto/hash.hpp"

namespace aloft::agent::update {

struct UpdateMachine::Transition {
  State from;
  Event event;
  State to;
  Action action;
};

namespace {

using core::wire::UpdateState;

std::string SlotText(slots::SlotId id) { return "slot " + std::string(slots::SlotIdName(id)); }

}  // namespace

const UpdateMachine::Transition* UpdateMachine::FindTransition(State from, Event event) noexcept {
  using S = State;
  using E = Event;
  using Ac = Action;
  // The whole machine. A (state, event) pair that is not listed is a bug (kInternal). Terminal
  // states accept kStart, so the next deployment begins from the last one's record (which
  // keeps the installed image). The actions are documented in the header.
  // clang-format off
  static constexpr Transition kTransitions[] = {
    // from             event                   to               action
    {S::kIdle,          E::kStart,              S::kInstalling,  Ac::kNone},
    {S::kCommitted,     E::kStart,              S::kInstalling,  Ac::kNone},
    {S::kRolledBack,    E::kStart,              S::kInstalling,  Ac::kNone},
    {S::kFailed,        E::kStart,              S::kInstalling,  Ac::kNone},
    {S::kInstalling,    E::kInstallSucceeded,   S::kInstalled,   Ac::kNone},
    {S::kInstalling,    E::kInstallFailed,      S::kFailed,      Ac::kAbandon},
    {S::kInstalled,     E::kRebootRequested,    S::kRebooting,   Ac::kReboot},
    {S::kRebooting,     E::kRebootRequested,    S::kRebooting,   Ac::kReboot},
    {S::kInstalled,     E::kBootedIntoTrial,    S::kVerifying,   Ac::kNone},
    {S::kRebooting,     E::kBootedIntoTrial,    S::kVerifying,   Ac::kNone},
    {S::kInstalled,     E::kBootedOld,          S::kRolledBack,  Ac::kAbandon},
    {S::kRebooting,     E::kBootedOld,          S::kRolledBack,  Ac::kAbandon},
    {S::kVerifying,     E::kBootedOld,          S::kRolledBack,  Ac::kAbandon},
    {S::kCommitting,    E::kBootedOld,          S::kRolledBack,  Ac::kAbandon},
    {S::kVerifying,     E::kHealthOk,           S::kCommitting,  Ac::kCommit},
    {S::kVerifying,     E::kHealthFailed,       S::kRolledBack,  Ac::kAbandon},
    {S::kCommitting,    E::kCommitDone,         S::kCommitted,   Ac::kNone},
  };
  // clang-format on
  for (const Transition& t : kTransitions) {
    if (t.from == from && t.event == event) return &t;
  }
  return nullptr;
}

std::string_view EventName(Event event) noexcept {
  switch (event) {
    case Event::kStart:
      return "start";
    case Event::kInstallSucceeded:
      return "install-succeeded";
    case Event::kInstallFailed:
      return "install-failed";
    case Event::kRebootRequested:
      return "reboot-requested";
    case Event::kBootedIntoTrial:
      return "booted-into-trial";
    case Event::kBootedOld:
      return "booted-old";
    case Event::kHealthOk:
      return "health-ok";
    case Event::kHealthFailed:
      return "health-failed";
    case Event::kCommitDone:
      return "commit-done";
  }
  return "unknown";
}

UpdateRequest MakeUpdateRequest(const core::uptane::ApprovedImage& image,
                                const install::InstallPlan& plan, slots::SlotId booted) {
  UpdateRequest request;
  request.deployment_id = image.director.deployment_id;
  request.target_path = image.target_path;
  request.image_sha256 = HexEncode(plan.image_sha256);
  request.image_length = plan.image_length;
  request.image_version = image.image.version;
  request.security_counter = image.image.security_counter;
  request.target_slot = plan.target.id;
  request.previous_slot = booted;
  return request;
}

std::optional<core::wire::Report> ReportFor(const UpdateRecord& record) {
  core::wire::Report report;
  const auto total = static_cast<std::int64_t>(record.image_length);
  report.bytes_total = total;
  switch (record.state) {
    case State::kIdle:
    case State::kCommitting:
      return std::nullopt;
    case State::kInstalling:
      // Download and install are one streaming step: the server sees "downloading" (with
      // progress reports) until the slot holds the verified image.
      report.state = UpdateState::kDownloading;
      report.message = "downloading and installing " + record.target_path + " into " +
                       SlotText(record.target_slot);
      break;
    case State::kInstalled:
      report.state = UpdateState::kInstalling;
      report.bytes_done = total;
      report.message =
          "installed and verified; trial boot of " + SlotText(record.target_slot) + " prepared";
      break;
    case State::kRebooting:
      report.state = UpdateState::kRebooting;
      report.bytes_done = total;
      report.message = "rebooting into " + SlotText(record.target_slot);
      break;
    case State::kVerifying:
      report.state = UpdateState::kRebooting;
      report.bytes_done = total;
      report.message =
          "booted " + SlotText(record.target_slot) + " on trial; running health checks";
      break;
    case State::kCommitted:
      report.state = UpdateState::kSucceeded;
      report.bytes_done = total;
      report.message =
          "committed version " + record.image_version + " in " + SlotText(record.target_slot);
      break;
    case State::kRolledBack:
      report.state = UpdateState::kRolledBack;
      report.message = record.last_error;
      report.log_tail = record.log_tail;
      break;
    case State::kFailed:
      report.state = UpdateState::kFailed;
      report.message = record.last_error;
      report.log_tail = record.log_tail;
      break;
  }
  // An install without a deployment (an offline bundle) is named by its image and start time,
  // so two offline installs never share a report id.
  const std::string prefix =
      !record.deployment_id.empty()
          ? record.deployment_id
          : "local-" + record.image_sha256.substr(0, 16) + "-" +
                std::to_string(record.started_at.time_since_epoch().count());
  const std::string suffix =
      "-" + std::string(StateName(record.state)) + "-" + std::to_string(record.attempt);
  report.id = prefix + suffix;
  if (report.id.size() > core::wire::kMaxIdBytes) {
    // A deployment id near the 128-character limit: a digest keeps the id valid and unique.
    report.id = "d" + core::crypto::Sha256Hex(AsBytes(prefix)).substr(0, 32) + suffix;
  }
  report.deployment_id = record.deployment_id;
  report.at = record.updated_at;
  return report;
}

Result<UpdateMachine> UpdateMachine::Open(Deps deps) {
  auto record = deps.records.Load();
  if (!record) return Fail(std::move(record).error());
  return UpdateMachine(deps, std::move(*record));
}

Status UpdateMachine::Fire(Event event, std::string reason, std::string log_tail) {
  const Transition* transition = FindTransition(record_.state, event);
  if (transition == nullptr) {
    return Fail(Errc::kInternal, "update: event " + std::string(EventName(event)) +
                                     " is not allowed in state " +
                                     std::string(StateName(record_.state)));
  }
  UpdateRecord next = record_;
  const Timestamp now = deps_.clock.Now();
  if (event == Event::kStart) {
    if (!request_) return Fail(Errc::kInternal, "update: start without a request");
    const UpdateRequest& request = *request_;
    next = UpdateRecord{};
    next.deployment_id = request.deployment_id;
    next.target_path = request.target_path;
    next.image_sha256 = request.image_sha256;
    next.image_length = request.image_length;
    next.image_version = request.image_version;
    next.security_counter = request.security_counter;
    next.target_slot = request.target_slot;
    next.previous_slot = request.previous_slot;
    next.attempt = record_.deployment_id == request.deployment_id ? record_.attempt + 1 : 1;
    next.started_at = now;
    next.installed = record_.installed;
  }
  next.state = transition->to;
  next.updated_at = now;
  if (transition->to == State::kFailed || transition->to == State::kRolledBack) {
    next.last_error = std::move(reason);
    if (log_tail.size() > kMaxLogTailBytes) log_tail.erase(0, log_tail.size() - kMaxLogTailBytes);
    next.log_tail = std::move(log_tail);
  }
  if (transition->to == State::kCommitted) {
    next.installed = InstalledImage{next.image_sha256, next.image_version, next.security_counter};
  }
  // A state without a report is born reported: one write instead of two.
  next.reported = !ReportFor(next).has_value();
  if (auto entered = Enter(std::move(next)); !entered) return entered;
  return RunAction(transition->action);
}

Status UpdateMachine::Enter(UpdateRecord next) {
  if (auto saved = deps_.records.Save(next); !saved) return saved;
  record_ = std::move(next);
  return Report();
}

Status UpdateMachine::Report() {
  if (record_.reported) return Ok();
  if (auto report = ReportFor(record_)) {
    if (auto queued = deps_.reports.Enqueue(*report); !queued) {
      return Fail(std::move(queued).error().WithContext("update: enqueue report"));
    }
  }
  UpdateRecord next = record_;
  next.reported = true;
  if (auto saved = deps_.records.Save(next); !saved) return saved;
  record_ = std::move(next);
  return Ok();
}

Status UpdateMachine::RunAction(Action action) {
  switch (action) {
    case Action::kNone:
      return Ok();
    case Action::kReboot:
      return deps_.rebooter.Reboot();
    case Action::kCommit:
      return Commit();
    case Action::kAbandon:
      return Abandon();
  }
  return Fail(Errc::kInternal, "update: unknown action");
}

Status UpdateMachine::Commit() {
  if (auto good = deps_.bootloader.MarkGood(); !good) {
    return Fail(std::move(good).error().WithContext("update: commit"));
  }
  return Fire(Event::kCommitDone);
}

Status UpdateMachine::Abandon() {
  auto boot = deps_.bootloader.State();
  if (!boot) return Fail(std::move(boot).error().WithContext("update: abandon"));
  if (auto bad = deps_.bootloader.MarkBad(record_.target_slot); !bad) {
    return Fail(std::move(bad).error().WithContext("update: abandon"));
  }
  if (boot->booted == record_.target_slot) return deps_.rebooter.Reboot();
  return Ok();
}

Status UpdateMachine::Update(const UpdateRequest& request, const InstallFn& install) {
  request_ = request;
  if (auto started = Fire(Event::kStart); !started) return started;
  Status installed = install();
  if (!installed) {
    if (auto failed = Fire(Event::kInstallFailed, installed.error().message()); !failed) {
      return failed;
    }
    return installed;
  }
  if (auto done = Fire(Event::kInstallSucceeded); !done) return done;
  return Fire(Event::kRebootRequested);
}

Status UpdateMachine::Verify() {
  if (record_.state != State::kVerifying) {
    return Fail(Errc::kInternal,
                "update: verify in state " + std::string(StateName(record_.state)));
  }
  HealthOutcome outcome = deps_.health.Run();
  if (outcome.status) return Fire(Event::kHealthOk);
  return Fire(Event::kHealthFailed, "health check failed: " + outcome.status.error().message(),
              std::move(outcome.log_tail));
}

Status UpdateMachine::Resume() {
  if (auto reported = Report(); !reported) return reported;
  const UpdateRecord& r = record_;
  switch (r.state) {
    case State::kIdle:
    case State::kCommitted:
      return Ok();
    case State::kRolledBack:
    case State::kFailed:
      return Abandon();
    case State::kInstalling:
      // PrepareTrialBoot is the install's last step, so the bootloader may or may not point at
      // the target; abandoning (MarkBad, and a reboot if we run it) is right either way.
      return Fire(Event::kInstallFailed,
                  "interrupted: the install did not finish (power loss or crash)");
    case State::kInstalled:
    case State::kRebooting:
    case State::kVerifying:
    case State::kCommitting:
      break;
  }
  auto boot = deps_.bootloader.State();
  if (!boot) return Fail(std::move(boot).error().WithContext("update: resume"));
  const bool running_target = boot->booted == r.target_slot;
  if (running_target && r.state == State::kCommitting) return Commit();  // MarkGood is idempotent
  if (running_target && boot->IsTrialBoot()) {
    if (r.state != State::kVerifying) {
      if (auto entered = Fire(Event::kBootedIntoTrial); !entered) return entered;
    }
    return Verify();  // after a crash during the checks: run them again, from the start
  }
  if (!running_target && boot->TrialPending() && boot->primary == r.target_slot &&
      (r.state == State::kInstalled || r.state == State::kRebooting)) {
    return Fire(Event::kRebootRequested);  // the reboot never happened
  }
  if (!running_target && !boot->trial && boot->primary == r.previous_slot) {
    return Fire(Event::kBootedOld, "the bootloader fell back to " + SlotText(boot->booted) +
                                       " after the trial of " + SlotText(r.target_slot));
  }
  return Fail(Errc::kCorrupt, "update: record in state " + std::string(StateName(r.state)) +
                                  " for " + SlotText(r.target_slot) +
                                  " contradicts the bootloader (booted " + SlotText(boot->booted) +
                                  ", next " + SlotText(boot->primary) +
                                  (boot->trial ? ", trial)" : ")"));
}

}  // namespace aloft::agent::update

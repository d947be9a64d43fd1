#include "agent/client/update_client.hpp"

#include <utility>

#include "agent/bundle/offline_bundle.hpp"
#include "agent/client/report_sink.hpp"
#include "agent/install/plan.hpp"
#include "core/codec/json.hpp"
#include "core/crypto/hash.hpp"

namespace aloft::agent::client {
namespace {

using update::State;
namespace wire = core::wire;

// Failures that the same bytes or metadata would repeat: retrying cannot help.
bool IsPermanent(Errc code) {
  return code == Errc::kVerificationFailed || code == Errc::kRollback ||
         code == Errc::kInvalidArgument || code == Errc::kUnsupported || code == Errc::kTooLarge;
}

std::string SlotText(slots::SlotId id) { return "slot " + std::string(slots::SlotIdName(id)); }

// The digest of what the slot will hold: the payload's when the artifact is compressed.
std::string ImageSha256(const core::uptane::ApprovedImage& approved) {
  if (approved.image.payload) return approved.image.payload->sha256;
  auto it = approved.target.hashes.find("sha256");
  return it == approved.target.hashes.end() ? std::string() : it->second;
}

std::string Lower(std::string hex) {
  for (char& c : hex) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  return hex;
}

std::string ArtifactSha256(const core::uptane::ApprovedImage& approved) {
  auto it = approved.target.hashes.find("sha256");
  return it == approved.target.hashes.end() ? std::string() : it->second;
}

// A report id derived from what it is about, so a report re-made after a crash is the same.
std::string DerivedId(std::string_view kind, const Assignment& a) {
  return std::string(kind) + "-" +
         core::crypto::Sha256Hex(AsBytes(a.deployment_id + "\n" + a.target_sha256)).substr(0, 32);
}

}  // namespace

std::string_view OutcomeName(Outcome outcome) noexcept {
  switch (outcome) {
    case Outcome::kUpToDate:
      return "up-to-date";
    case Outcome::kCommitted:
      return "committed";
    case Outcome::kRebootRequested:
      return "reboot-requested";
    case Outcome::kRefused:
      return "refused";
    case Outcome::kSkipped:
      return "skipped";
    case Outcome::kFailed:
      return "failed";
    case Outcome::kRolledBack:
      return "rolled-back";
    case Outcome::kNotAccepted:
      return "not-accepted";
  }
  return "unknown";
}

UpdateClient::UpdateClient(UpdateClientDeps deps) : deps_(std::move(deps)) {
  AgentStateFile::Loaded loaded = deps_.state_file.Load();
  if (!loaded.problem.empty()) Log("agent state reset: " + loaded.problem);
  state_ = std::move(loaded.state);
}

void UpdateClient::Log(const std::string& message) const {
  if (deps_.log) deps_.log(message);
}

void UpdateClient::SaveState() {
  if (Status saved = deps_.state_file.Save(state_); !saved) Log(saved.error().message());
}

core::uptane::DeviceIdentity UpdateClient::Device() const {
  return {deps_.identity.device_id(), deps_.identity.hardware_id(),
          record().installed.security_counter};
}

Result<slots::SlotId> UpdateClient::Booted() {
  auto boot = deps_.bootloader.State();
  if (!boot) return Fail(std::move(boot).error().WithContext("bootloader state"));
  return boot->booted;
}

Result<std::optional<CheckResult>> UpdateClient::Start() {
  const State before = record().state;
  // An install cut short (power loss, a kill) fails now and is tried again: see Install().
  if (deps_.machine_reports != nullptr) {
    deps_.machine_reports->SetRetrying(before == State::kInstalling &&
                                       !record().deployment_id.empty() &&
                                       record().attempt < deps_.config.max_update_attempts);
  }
  Status resumed = deps_.machine.Resume();
  if (deps_.machine_reports != nullptr) deps_.machine_reports->SetRetrying(false);
  if (!resumed) return Fail(std::move(resumed).error().WithContext("resume"));
  const update::UpdateRecord& r = record();
  if (deps_.reboot_requested()) {
    const bool back = r.state == State::kRolledBack || r.state == State::kFailed;
    return std::optional<CheckResult>(CheckResult{
        Outcome::kRebootRequested,
        back ? "rolling back (" + r.last_error + "): reboot into " + SlotText(r.previous_slot)
             : "reboot into " + SlotText(r.target_slot) + " to try version " + r.image_version});
  }
  if (r.state == State::kCommitted && before != State::kCommitted) {
    return std::optional<CheckResult>(
        CheckResult{Outcome::kCommitted,
                    "committed version " + r.image_version + " in " + SlotText(r.target_slot)});
  }
  if (r.state == State::kRolledBack && before != State::kRolledBack) {
    return std::optional<CheckResult>(
        CheckResult{Outcome::kRolledBack, "rolled back: " + r.last_error});
  }
  if (r.state == State::kFailed && before == State::kInstalling) {
    return std::optional<CheckResult>(CheckResult{Outcome::kFailed, r.last_error});
  }
  return std::optional<CheckResult>();
}

Status UpdateClient::EnsureEnrolled(bool& accepted) {
  accepted = state_.enrolled;
  if (accepted) return Ok();
  auto status = deps_.enroller.Enroll();
  if (!status) return Fail(std::move(status).error());
  if (*status != wire::EnrollmentStatus::kAccepted) return Ok();
  accepted = true;
  state_.enrolled = true;
  state_.inventory_digest.clear();  // a (re-)enrolled device describes itself again
  SaveState();
  return Ok();
}

Result<std::size_t> UpdateClient::FlushReports() { return deps_.reports.Flush(deps_.api); }

void UpdateClient::SendInventory() {
  const update::UpdateRecord& r = record();
  wire::Inventory inventory;
  inventory.hardware_id = deps_.identity.hardware_id();
  inventory.image_sha256 = r.installed.sha256;
  inventory.image_version = r.installed.version;
  inventory.security_counter = r.installed.security_counter;
  inventory.agent_version = deps_.agent_version;
  inventory.attributes = deps_.config.attributes;
  // The outcome of the last update is part of what the server should hear about after a
  // commit or a rollback, even when the inventory itself did not change (a rollback).
  std::string marker = core::codec::CanonicalJson(wire::ToJson(inventory));
  if (update::IsTerminal(r.state)) {
    marker += "\n" + r.deployment_id + "\n" + std::string(update::StateName(r.state)) + "\n" +
              std::to_string(r.attempt);
  }
  const std::string digest = core::crypto::Sha256Hex(AsBytes(marker));
  if (digest == state_.inventory_digest) return;
  if (Status put = deps_.api.PutInventory(inventory); !put) {
    Log("inventory: " + put.error().message());
    return;
  }
  state_.inventory_digest = digest;
  SaveState();
}

bool UpdateClient::IsBlocked(const Assignment& a) const {
  if (state_.IsBlocked(a)) return true;
  const update::UpdateRecord& r = record();
  if (state_.current != a || r.deployment_id != a.deployment_id) return false;
  if (r.state == State::kRolledBack) return true;
  return r.state == State::kFailed && r.attempt >= deps_.config.max_update_attempts;
}

void UpdateClient::EnqueueOnce(wire::Report report) {
  if (deps_.reports.Contains(report.id)) return;
  if (auto queued = deps_.reports.Enqueue(std::move(report)); !queued) {
    Log("report: " + queued.error().message());
  }
}

Result<CheckResult> UpdateClient::Refuse(const Assignment& assignment, const Error& why) {
  state_.Block(assignment, why.message());
  SaveState();
  wire::Report report;
  report.id = DerivedId("refused", assignment);
  report.deployment_id = assignment.deployment_id;
  report.state = wire::UpdateState::kFailed;
  report.message = "refused: " + why.message().substr(0, wire::kMaxTextBytes - 16);
  report.at = deps_.clock.Now();
  EnqueueOnce(std::move(report));
  if (auto sent = FlushReports(); !sent) Log("reports: " + sent.error().message());
  return CheckResult{Outcome::kRefused, why.message()};
}

Result<CheckResult> UpdateClient::CheckOnce() {
  if (deps_.reboot_requested()) {
    return CheckResult{Outcome::kRebootRequested, "waiting for the requested reboot"};
  }
  // An update left between stable points (a reboot command that failed, say): drive it on.
  const State state = record().state;
  if (state != State::kIdle && !update::IsTerminal(state)) {
    if (auto started = Start(); !started)
      return Fail(std::move(started).error());
    else if (*started)
      return std::move(**started);
    if (!update::IsTerminal(record().state)) {
      return Fail(Errc::kInternal,
                  "update: still in state " + std::string(update::StateName(record().state)));
    }
  }

  bool accepted = false;
  if (Status enrolled = EnsureEnrolled(accepted); !enrolled) {
    if (enrolled.error().code() == Errc::kInvalidArgument) {
      return CheckResult{Outcome::kNotAccepted, enrolled.error().message()};
    }
    return Fail(std::move(enrolled).error().WithContext("enroll"));
  }
  if (!accepted) {
    return CheckResult{Outcome::kNotAccepted,
                       "device " + deps_.identity.device_id() +
                           " is enrolled but not accepted yet: an operator must accept it"};
  }
  if (auto sent = FlushReports(); !sent) Log("reports: " + sent.error().message());
  SendInventory();

  auto checkin = deps_.api.CheckIn();
  if (!checkin) {
    const Errc code = checkin.error().code();
    if (code == Errc::kInvalidArgument) {
      return CheckResult{Outcome::kNotAccepted, checkin.error().message()};
    }
    if (code == Errc::kVerificationFailed) {  // the server no longer knows our key: enroll again
      state_.enrolled = false;
      SaveState();
    }
    return Fail(std::move(checkin).error().WithContext("check-in"));
  }
  // A transient failure is retried by the agent itself: the server may have stopped offering
  // the update when it heard "failed".
  const update::UpdateRecord& r = record();
  const bool retry = r.state == State::kFailed && !state_.current.deployment_id.empty() &&
                     r.deployment_id == state_.current.deployment_id && !IsBlocked(state_.current);
  if (!checkin->update_available &&
      checkin->director_targets_version == state_.director_targets_version && !retry) {
    return CheckResult{Outcome::kUpToDate, "no update available"};
  }
  auto acted = Act(*checkin);
  // The Director's version counts as handled only when the check reached a decision: after a
  // transient error the next poll must look again, even if the server stops saying so.
  if (acted && acted_director_version_) {
    state_.director_targets_version = *acted_director_version_;
    SaveState();
  }
  acted_director_version_.reset();
  return acted;
}

Result<CheckResult> UpdateClient::Act(const wire::CheckInResponse& checkin) {
  auto refreshed = deps_.uptane.Refresh(Device());
  if (!refreshed) return Fail(std::move(refreshed).error());
  acted_director_version_ = refreshed->director_targets_version;
  std::optional<Assignment> named;
  if (refreshed->assignment) {
    named = Assignment{refreshed->assignment->deployment_id, refreshed->assignment->target_sha256};
    if (named->deployment_id.empty()) named->deployment_id = checkin.deployment_id;
  }
  // A failed update the Director no longer names is not retried.
  if (record().state == State::kFailed && named != state_.current) state_.current = {};
  SaveState();
  if (!named || !refreshed->image) return CheckResult{Outcome::kUpToDate, "no update assigned"};

  const Assignment assignment = *named;
  const std::string what =
      "deployment " + assignment.deployment_id + " (" + refreshed->assignment->target_path + ")";
  if (IsBlocked(assignment)) {
    return CheckResult{Outcome::kSkipped, what + " failed or rolled back before; not retried"};
  }
  Result<core::uptane::ApprovedImage>& image = *refreshed->image;
  if (!image) {
    if (IsPermanent(image.error().code())) return Refuse(assignment, image.error());
    return Fail(std::move(image).error());
  }
  const core::uptane::ApprovedImage& approved = *image;

  if (ImageSha256(approved) == record().installed.sha256) {
    if (!assignment.deployment_id.empty() &&
        state_.acknowledged_deployment != assignment.deployment_id) {
      wire::Report report;
      report.id = DerivedId("running", assignment);
      report.deployment_id = assignment.deployment_id;
      report.state = wire::UpdateState::kSucceeded;
      report.message = "already running version " + approved.image.version;
      report.at = deps_.clock.Now();
      EnqueueOnce(std::move(report));
      state_.acknowledged_deployment = assignment.deployment_id;
      SaveState();
      if (auto sent = FlushReports(); !sent) Log("reports: " + sent.error().message());
    }
    return CheckResult{Outcome::kUpToDate, "already running version " + approved.image.version};
  }

  auto booted = Booted();
  if (!booted) return Fail(std::move(booted).error());
  auto plan =
      install::MakeInstallPlan(approved.target, approved.image.payload, approved.image.chunks,
                               deps_.config.slots, *booted, approved.chunks_agreed);
  if (!plan) return Refuse(assignment, plan.error());
  const std::uint64_t max = deps_.config.limits.max_image_bytes;
  if (plan->image_length > max || static_cast<std::uint64_t>(plan->artifact_length) > max) {
    return Refuse(assignment,
                  Error(Errc::kTooLarge, "image of " + std::to_string(plan->image_length) +
                                             " bytes is above limits.max_image_bytes"));
  }
  auto url = uptane_client::TargetUrl(deps_.config.server_url, approved.target_path,
                                      approved.target.hashes);
  if (!url) return Refuse(assignment, url.error());
  const download::DownloadRequest request{*url, static_cast<std::uint64_t>(plan->artifact_length),
                                          ArtifactSha256(approved)};
  auto source = [this, &request](core::io::Writer& sink) {
    return deps_.download.Run(request, sink);
  };
  std::string why_not;
  std::optional<DeltaAttempt> delta = PlanDelta(approved, *plan, *booted, why_not);
  if (delta) {
    delta->source = [this, request = delta->request](core::io::Writer& sink) {
      return deps_.download.Run(request, sink);
    };
  } else if (!why_not.empty()) {
    ReportDeltaFallback(assignment, why_not);
  }
  return Install(approved, *plan, assignment, source, delta ? &*delta : nullptr);
}

std::optional<UpdateClient::DeltaAttempt> UpdateClient::PlanDelta(
    const core::uptane::ApprovedImage& approved, const install::InstallPlan& full,
    slots::SlotId booted, std::string& why_not) {
  if (!approved.delta) {
    if (!approved.delta_problem.empty()) why_not = "delta refused: " + approved.delta_problem;
    return std::nullopt;
  }
  const core::uptane::ApprovedDelta& offered = *approved.delta;
  // The record holds the digest this device verified when it installed what it runs.
  if (offered.info.from_sha256 != Lower(record().installed.sha256)) {
    why_not = "delta " + offered.target_path + " starts from image " +
              offered.info.from_sha256.substr(0, 16) + ", this device runs " +
              (record().installed.sha256.empty() ? std::string("an unknown image")
                                                 : Lower(record().installed.sha256).substr(0, 16));
    return std::nullopt;
  }
  auto plan =
      install::MakeDeltaInstallPlan(full, offered.target, offered.info, deps_.config.slots, booted);
  if (!plan) {
    why_not = "delta " + offered.target_path + ": " + plan.error().message();
    return std::nullopt;
  }
  auto url =
      uptane_client::TargetUrl(deps_.config.server_url, offered.target_path, offered.target.hashes);
  if (!url) {
    why_not = "delta " + offered.target_path + ": " + url.error().message();
    return std::nullopt;
  }
  DeltaAttempt attempt;
  attempt.target_path = offered.target_path;
  attempt.plan = std::move(*plan);
  attempt.request = download::DownloadRequest{
      *url, static_cast<std::uint64_t>(offered.target.length), offered.target.hashes.at("sha256")};
  return attempt;
}

void UpdateClient::ReportDeltaFallback(const Assignment& assignment, const std::string& why) {
  const std::string message =
      std::string(core::uptane::kDeltaFallbackPrefix) + why + "; installing the full image";
  Log(message);
  if (assignment.deployment_id.empty()) return;
  wire::Report report;
  report.id = DerivedId("delta-fallback", assignment);
  report.deployment_id = assignment.deployment_id;
  report.state = wire::UpdateState::kDownloading;
  report.message = message.substr(0, wire::kMaxTextBytes);
  report.at = deps_.clock.Now();
  EnqueueOnce(std::move(report));
}

Result<CheckResult> UpdateClient::Install(const core::uptane::ApprovedImage& approved,
                                          const install::InstallPlan& plan,
                                          const Assignment& assignment,
                                          const install::ArtifactSource& source,
                                          const DeltaAttempt* delta) {
  auto booted = Booted();
  if (!booted) return Fail(std::move(booted).error());
  update::UpdateRequest request = update::MakeUpdateRequest(approved, plan, *booted);
  request.deployment_id = assignment.deployment_id;
  // Written before the record's kStart, so a rolled-back or failed record can always be
  // matched to the assignment it came from.
  state_.current = assignment;
  if (Status saved = deps_.state_file.Save(state_); !saved) return Fail(saved.error());

  ProgressReporter progress(deps_.reports, deps_.clock, assignment.deployment_id,
                            static_cast<std::uint64_t>(plan.artifact_length),
                            deps_.config.download.progress_interval);
  install::Installer installer(deps_.bootloader);
  bool by_delta = false;
  Status updated = deps_.machine.Update(request, [&]() -> Status {
    if (delta != nullptr) {
      // One install step for the machine: the delta, and on any failure of it the full image.
      // The delta's base is checked before the target slot is opened, and the slot is always
      // checked against the full image's signed digest, so a bad delta costs time, never the
      // device.
      ProgressReporter delta_progress(deps_.reports, deps_.clock, assignment.deployment_id,
                                      static_cast<std::uint64_t>(delta->plan.artifact_length),
                                      deps_.config.download.progress_interval);
      Status applied = installer.Run(delta->plan, delta->source,
                                     [&delta_progress](std::uint64_t artifact, std::uint64_t) {
                                       delta_progress.OnProgress(artifact);
                                     });
      if (Status gone = deps_.download.Discard(delta->request.sha256); !gone) {
        Log(gone.error().message());
      }
      if (applied) {
        by_delta = true;
        return applied;
      }
      ReportDeltaFallback(assignment,
                          "delta " + delta->target_path + " failed: " + applied.error().message());
    }
    Status installed = installer.Run(
        plan, source,
        [&progress](std::uint64_t artifact, std::uint64_t) { progress.OnProgress(artifact); });
    // Retried below (transient, or bytes from the spool) with attempts left: not "failed" yet.
    if (!installed && deps_.machine_reports != nullptr) {
      const bool spooled = deps_.download.stats().replayed > 0;
      deps_.machine_reports->SetRetrying((!IsPermanent(installed.error().code()) || spooled) &&
                                         !assignment.deployment_id.empty() &&
                                         record().attempt < deps_.config.max_update_attempts);
    }
    return installed;
  });
  if (deps_.machine_reports != nullptr) deps_.machine_reports->SetRetrying(false);
  const std::string sha = ArtifactSha256(approved);
  if (updated) {
    if (Status gone = deps_.download.Discard(sha); !gone) Log(gone.error().message());
    if (auto sent = FlushReports(); !sent) Log("reports: " + sent.error().message());
    const std::string how = by_delta ? " by delta (" + std::to_string(delta->plan.artifact_length) +
                                           " bytes for a " + std::to_string(plan.image_length) +
                                           "-byte image)"
                                     : "";
    return CheckResult{Outcome::kRebootRequested, "installed version " + approved.image.version +
                                                      how + " into " + SlotText(plan.target.id) +
                                                      "; reboot to try it"};
  }
  if (record().state != State::kFailed) return Fail(std::move(updated).error());  // the reboot

  const Error& error = updated.error();
  // Bytes that failed verification are never used again. When some of them came from the
  // spool (written before a power cut), the spool may be what was wrong: the next attempt
  // downloads afresh instead of the assignment being blocked. A transient failure keeps the
  // spool for the next attempt to resume from.
  const bool spooled = deps_.download.stats().replayed > 0;
  if (IsPermanent(error.code())) {
    if (Status gone = deps_.download.Discard(sha); !gone) Log(gone.error().message());
  }
  if (IsPermanent(error.code()) && !spooled && !assignment.deployment_id.empty()) {
    state_.Block(assignment, error.message());
    SaveState();
  }
  if (auto sent = FlushReports(); !sent) Log("reports: " + sent.error().message());
  return CheckResult{Outcome::kFailed, "install failed: " + error.message()};
}

Result<CheckResult> UpdateClient::InstallBundle(bundle::BundleReader& reader) {
  if (deps_.reboot_requested()) {
    return Fail(Errc::kInvalidArgument, "a reboot is pending; reboot before installing");
  }
  const State state = record().state;
  if (state != State::kIdle && !update::IsTerminal(state)) {
    return Fail(Errc::kInvalidArgument, "an update is in progress (state " +
                                            std::string(update::StateName(state)) +
                                            "): reboot, commit or roll back first");
  }
  bundle::BundleOptions options;
  options.image_root = deps_.config.image_root.value_or("");
  options.image_metadata_dir = deps_.config.data_dir / "metadata" / "image";
  options.scratch_dir = deps_.config.data_dir / "bundle-metadata";
  options.max_metadata_bytes = deps_.config.limits.max_metadata_bytes;
  if (options.image_root.empty()) {
    return Fail(Errc::kInvalidArgument, "image_root is not set in the agent configuration");
  }
  auto verified = bundle::VerifyBundle(reader, options, deps_.clock, Device());
  if (!verified) {
    if (IsPermanent(verified.error().code())) {
      return CheckResult{Outcome::kRefused,
                         "bundle " + reader.Describe() + ": " + verified.error().message()};
    }
    return Fail(std::move(verified).error().WithContext("bundle " + reader.Describe()));
  }
  const core::uptane::ApprovedImage& approved = verified->image;
  if (ImageSha256(approved) == record().installed.sha256) {
    return CheckResult{Outcome::kUpToDate, "already running version " + approved.image.version};
  }
  auto booted = Booted();
  if (!booted) return Fail(std::move(booted).error());
  auto plan =
      install::MakeInstallPlan(approved.target, approved.image.payload, approved.image.chunks,
                               deps_.config.slots, *booted, approved.chunks_agreed);
  if (!plan) return CheckResult{Outcome::kRefused, plan.error().message()};
  const std::string member = verified->artifact_member;
  const std::string sha = ArtifactSha256(approved);
  const auto length = static_cast<std::uint64_t>(plan->artifact_length);
  auto source = [&reader, &member, &sha, length](core::io::Writer& sink) {
    return reader.Stream(member, length, sha, sink);
  };
  return Install(approved, *plan, Assignment{"", sha}, source, nullptr);
}

Result<CheckResult> UpdateClient::Commit() {
  const update::UpdateRecord& r = record();
  auto boot = deps_.bootloader.State();
  if (!boot) return Fail(std::move(boot).error().WithContext("bootloader state"));
  const bool trial_of_target = boot->booted == r.target_slot && boot->IsTrialBoot();
  if (r.state == State::kCommitting) {
    if (Status resumed = deps_.machine.Resume(); !resumed) return Fail(resumed.error());
  } else if (r.state == State::kVerifying ||
             ((r.state == State::kInstalled || r.state == State::kRebooting) && trial_of_target)) {
    if (r.state != State::kVerifying) {
      if (Status ok = deps_.machine.Fire(update::Event::kBootedIntoTrial); !ok)
        return Fail(ok.error());
    }
    if (Status ok = deps_.machine.Fire(update::Event::kHealthOk); !ok) return Fail(ok.error());
  } else if ((r.state == State::kInstalled || r.state == State::kRebooting) &&
             boot->TrialPending()) {
    return Fail(Errc::kInvalidArgument, "version " + r.image_version + " waits in " +
                                            SlotText(r.target_slot) +
                                            " for its trial boot: reboot first");
  } else {
    return Fail(Errc::kInvalidArgument,
                "nothing to commit: " + SlotText(boot->booted) + " runs a committed image");
  }
  if (auto sent = FlushReports(); !sent) Log("reports: " + sent.error().message());
  return CheckResult{Outcome::kCommitted, "committed version " + record().image_version + " in " +
                                              SlotText(record().target_slot) +
                                              " (by the operator)"};
}

Result<CheckResult> UpdateClient::Rollback() {
  const update::UpdateRecord& r = record();
  auto boot = deps_.bootloader.State();
  if (!boot) return Fail(std::move(boot).error().WithContext("bootloader state"));
  const bool trial_of_target = boot->booted == r.target_slot && boot->IsTrialBoot();
  const bool pending = r.state == State::kInstalled || r.state == State::kRebooting;
  Outcome outcome = Outcome::kRolledBack;
  if (r.state == State::kVerifying || (pending && trial_of_target)) {
    if (r.state != State::kVerifying) {
      if (Status ok = deps_.machine.Fire(update::Event::kBootedIntoTrial); !ok)
        return Fail(ok.error());
    }
    if (Status ok = deps_.machine.Fire(update::Event::kHealthFailed, "rolled back by the operator");
        !ok) {
      return Fail(ok.error());
    }
    outcome = deps_.reboot_requested() ? Outcome::kRebootRequested : Outcome::kRolledBack;
  } else if (pending && boot->TrialPending() && boot->booted == r.previous_slot) {
    if (Status ok = deps_.machine.Fire(update::Event::kBootedOld,
                                       "cancelled by the operator before the trial boot");
        !ok) {
      return Fail(ok.error());
    }
  } else {
    return Fail(Errc::kInvalidArgument,
                "nothing to roll back: no trial boot is running or "
                "prepared (state " +
                    std::string(update::StateName(r.state)) + ")");
  }
  if (auto sent = FlushReports(); !sent) Log("reports: " + sent.error().message());
  return CheckResult{outcome, "rolled back version " + r.image_version + "; " +
                                  SlotText(r.previous_slot) + " boots next"};
}

}  // namespace aloft::agent::client

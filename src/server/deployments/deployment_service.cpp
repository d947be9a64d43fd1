#include "server/deployments/deployment_service.hpp"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <utility>

#include "core/base/hex.hpp"
#include "core/crypto/hash.hpp"
#include "core/uptane/target_custom.hpp"

namespace aloft::server::deployments {

struct DeploymentService::ActiveSet {
  std::vector<Deployment> newest_first;
};

namespace {

using DirectorChange = CheckInDecision::DirectorChange;

// More deployments than this in one listing are not shown (newest first).
constexpr std::size_t kMaxListed = 1000;
// Active deployments are few; this only guards against a runaway table.
constexpr std::size_t kMaxActive = 100000;

Error Bad(std::string message) { return Error(Errc::kInvalidArgument, std::move(message)); }

// A device that abandoned a delta for the full image says so once (a report message starting
// with kDeltaFallbackPrefix); the fact stays on its row through the reports that follow, so the
// operator still sees it next to "succeeded".
std::string KeepDeltaFallback(const std::string& previous, std::string next) {
  const std::string_view prefix = core::uptane::kDeltaFallbackPrefix;
  if (next.starts_with(prefix)) return next;
  std::size_t at = previous.find(prefix);
  if (at == std::string::npos) return next;
  std::string note = previous.substr(at, 512);
  if (const std::size_t end = note.find(" | "); end != std::string::npos) note.resize(end);
  next += " | " + note;
  if (next.size() > core::wire::kMaxTextBytes) next.resize(core::wire::kMaxTextBytes);
  return next;
}

Result<std::string> NewDeploymentId() {
  Bytes raw(8);
  if (Status s = core::crypto::RandomBytes(raw); !s) return Fail(s.error());
  return "dep-" + HexEncode(raw);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// The digest a device reports once it runs the release: the payload's for a compressed
// artifact, the artifact's own sha256 otherwise (as agent/install/plan.cpp computes it).
Result<std::string> ImageDigest(const Release& release) {
  auto sha = release.target_file.hashes.find("sha256");
  if (sha == release.target_file.hashes.end() || sha->second.empty()) {
    return Fail(Bad("release '" + release.name + "' has no sha256 hash"));
  }
  const core::codec::Json& custom = release.target_file.custom;
  if (custom.IsObject() && custom.Find("payload") != nullptr) {
    auto image = core::uptane::ParseImageCustom(custom);
    if (!image) {
      return Fail(Bad("release '" + release.name + "': " + image.error().message()));
    }
    if (image->payload && !image->payload->sha256.empty()) return Lower(image->payload->sha256);
  }
  return Lower(sha->second);
}

// The digest of the release's signed chunk list, for the Director to agree on; "" without one
// (or with custom metadata that does not parse: devices then check the whole artifact).
std::string ChunksDigest(const Release& release) {
  const core::codec::Json& custom = release.target_file.custom;
  if (!custom.IsObject() || custom.Find("chunks") == nullptr) return {};
  auto image = core::uptane::ParseImageCustom(custom);
  if (!image || !image->chunks) return {};
  return core::uptane::ChunkListSha256(*image->chunks);
}

bool IsDelta(const Release& release) {
  const core::codec::Json& custom = release.target_file.custom;
  return custom.IsObject() && custom.Find("delta") != nullptr;
}

bool RunsImage(const Deployment& d, const DeviceView& device) {
  if (device.image_sha256.empty()) return false;
  const std::string running = Lower(device.image_sha256);
  if (running == d.image_sha256) return true;
  auto sha = d.target.hashes.find("sha256");
  return sha != d.target.hashes.end() && Lower(sha->second) == running;
}

bool Supports(const Deployment& d, std::string_view hardware_id) {
  return std::find(d.hardware_ids.begin(), d.hardware_ids.end(), hardware_id) !=
         d.hardware_ids.end();
}

repo::AssignedImage ImageFor(const Deployment& d, const DeviceView& device) {
  repo::AssignedImage image;
  image.target_path = d.release;
  image.target.length = d.target.length;
  image.target.hashes = d.target.hashes;
  image.chunks_sha256 = d.chunks_sha256;
  image.hardware_id = device.hardware_id;
  image.deployment_id = d.id;
  return image;
}

RolloutState FromWire(core::wire::UpdateState s) {
  using core::wire::UpdateState;
  switch (s) {
    case UpdateState::kDownloading:
      return RolloutState::kDownloading;
    case UpdateState::kInstalling:
      return RolloutState::kInstalling;
    case UpdateState::kRebooting:
      return RolloutState::kRebooting;
    case UpdateState::kSucceeded:
      return RolloutState::kSucceeded;
    case UpdateState::kFailed:
      return RolloutState::kFailed;
    case UpdateState::kRolledBack:
      return RolloutState::kRolledBack;
  }
  return RolloutState::kFailed;
}

// The last `max` bytes of `text`, not starting inside a UTF-8 sequence.
std::string Tail(std::string_view text, std::size_t max) {
  if (text.size() <= max) return std::string(text);
  std::size_t start = text.size() - max;
  while (start < text.size() && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) ++start;
  return std::string(text.substr(start));
}

// The first `max` bytes of `text`, not ending inside a UTF-8 sequence.
std::string Head(std::string_view text, std::size_t max) {
  if (text.size() <= max) return std::string(text);
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end));
}

// "12%" or "12.5%".
std::string Percent(std::int64_t part, std::int64_t whole) {
  if ((part * 100) % whole == 0) return std::to_string(part * 100 / whole) + "%";
  char out[32];
  std::snprintf(out, sizeof out, "%.1f%%",
                static_cast<double>(part) * 100.0 / static_cast<double>(whole));
  return out;
}

}  // namespace

DeploymentService::DeploymentService(DeploymentStore& store, ReleaseCatalog& releases,
                                     DirectorAssigner& director, const Clock& clock,
                                     GroupMembership* groups, BuiltDeltas* built_deltas)
    : store_(store),
      releases_(releases),
      director_(director),
      clock_(clock),
      groups_(groups),
      built_deltas_(built_deltas) {}

Timestamp DeploymentService::Now() const {
  return std::chrono::floor<std::chrono::seconds>(clock_.Now());
}

std::mutex& DeploymentService::DeviceMutex(std::string_view device_id) {
  return device_mutexes_[std::hash<std::string_view>{}(device_id) % device_mutexes_.size()];
}

// --- creation and reads -------------------------------------------------------------------

Result<DeploymentView> DeploymentService::Create(const DeploymentSpec& spec,
                                                 std::string_view actor) {
  if (actor.empty() || actor.size() > kMaxActorBytes) {
    return Fail(Bad("the creator's name must be 1-" + std::to_string(kMaxActorBytes) + " bytes"));
  }
  if (Status s = ValidateSpec(spec); !s) return Fail(s.error());
  auto release = releases_.Find(spec.release);
  if (!release) {
    if (release.error().code() == Errc::kNotFound) {
      return Fail(Errc::kNotFound, "release '" + spec.release.substr(0, 128) +
                                       "' is not a target of the Image repository");
    }
    return Fail(std::move(release).error().WithContext("release lookup"));
  }
  if (release->hardware_ids.empty()) {
    return Fail(Bad("release '" + release->name + "' lists no hardware ids"));
  }
  if (IsDelta(*release)) {
    return Fail(Bad("release '" + release->name +
                    "' is a delta; deploy the full image it produces (devices get the delta "
                    "automatically when it matches the image they run)"));
  }
  auto digest = ImageDigest(*release);
  if (!digest) return Fail(digest.error());
  if (!spec.selector.group.empty()) {
    if (groups_ == nullptr) {
      return Fail(Errc::kUnsupported, "this server has no static device groups");
    }
    auto exists = groups_->Exists(spec.selector.group);
    if (!exists) return Fail(std::move(exists).error().WithContext("group lookup"));
    if (!*exists) {
      return Fail(Errc::kNotFound,
                  "no group '" + spec.selector.group + "' (create it first: POST /api/v1/groups)");
    }
  }
  if (!spec.selector.hardware_id.empty() &&
      std::find(release->hardware_ids.begin(), release->hardware_ids.end(),
                spec.selector.hardware_id) == release->hardware_ids.end()) {
    std::string supported;
    for (const auto& hw : release->hardware_ids) supported += (supported.empty() ? "" : ", ") + hw;
    return Fail(Bad("selector.hardware_id '" + spec.selector.hardware_id +
                    "' is not among the release's hardware ids (" + supported + ")"));
  }

  const Timestamp now = Now();
  Deployment d;
  d.release = spec.release;
  d.release_version = release->version;
  d.target.length = release->target_file.length;
  d.target.hashes = release->target_file.hashes;
  d.chunks_sha256 = ChunksDigest(*release);
  d.hardware_ids = release->hardware_ids;
  d.image_sha256 = std::move(*digest);
  d.selector = spec.selector;
  d.phases = spec.phases;
  for (Phase& p : d.phases) p.started.reset();
  d.phases.front().started = now;
  d.failure_threshold_percent = spec.failure_threshold_percent;
  d.min_devices_for_threshold = spec.min_devices_for_threshold;
  d.phase_deadline_seconds = spec.phase_deadline_seconds;
  d.maintenance_window = spec.maintenance_window;
  d.state = DeploymentState::kActive;
  d.created = d.updated = now;
  d.created_by = std::string(actor);

  std::unique_lock lock(state_mutex_);
  // 64 random bits make a collision unlikely; a few retries make it irrelevant.
  for (int attempt = 0;; ++attempt) {
    auto id = NewDeploymentId();
    if (!id) return Fail(id.error());
    d.id = std::move(*id);
    auto seq = store_.InsertDeployment(d);
    if (seq) {
      d.seq = *seq;
      break;
    }
    if (seq.error().code() != Errc::kAlreadyExists || attempt == 3) return Fail(seq.error());
  }
  InvalidateActive();
  auto view = View(d, /*with_devices=*/true);
  lock.unlock();
  // Deltas from what the fleet runs start building now, so most devices find theirs ready.
  if (built_deltas_ != nullptr) {
    built_deltas_->Prepare(d.release, d.image_sha256,
                           d.selector.hardware_id.empty()
                               ? d.hardware_ids
                               : std::vector<std::string>{d.selector.hardware_id});
  }
  return view;
}

Result<RolloutCounts> DeploymentService::Counts(std::string_view deployment_id) {
  auto groups = store_.CountRollouts(deployment_id);
  if (!groups) return Fail(groups.error());
  RolloutCounts counts;
  for (const RolloutCount& g : *groups) counts.At(g.state) += g.count;
  return counts;
}

Result<DeploymentView> DeploymentService::View(Deployment deployment, bool with_devices) {
  DeploymentView view;
  auto counts = Counts(deployment.id);
  if (!counts) return Fail(counts.error());
  view.counts = *counts;
  if (with_devices) {
    auto rows = store_.ListRollouts(deployment.id, "", kDevicesShown);
    if (!rows) return Fail(rows.error());
    view.devices = std::move(*rows);
  }
  view.deployment = std::move(deployment);
  return view;
}

Result<DeploymentView> DeploymentService::Get(std::string_view id) {
  if (Status s = Tick(); !s) return Fail(s.error());
  auto d = store_.GetDeployment(id);
  if (!d) return Fail(d.error());
  return View(std::move(*d), /*with_devices=*/true);
}

Result<std::vector<DeploymentView>> DeploymentService::List(std::optional<DeploymentState> state,
                                                            std::size_t limit) {
  if (Status s = Tick(); !s) return Fail(s.error());
  auto list = store_.ListDeployments(state, std::min(limit, kMaxListed));
  if (!list) return Fail(list.error());
  std::vector<DeploymentView> out;
  out.reserve(list->size());
  for (Deployment& d : *list) {
    auto view = View(std::move(d), /*with_devices=*/false);
    if (!view) return Fail(view.error());
    out.push_back(std::move(*view));
  }
  return out;
}

// --- operator controls --------------------------------------------------------------------

template <class Change>
Result<DeploymentView> DeploymentService::Control(std::string_view id, Change change) {
  std::unique_lock lock(state_mutex_);
  auto d = store_.GetDeployment(id);
  if (!d) return Fail(d.error());
  const Timestamp now = Now();
  auto changed = change(*d, now);
  if (!changed) return Fail(changed.error());
  if (*changed) {
    d->updated = now;
    if (Status s = store_.UpdateDeployments(std::span(&*d, 1)); !s) return Fail(s.error());
    InvalidateActive();
  }
  return View(std::move(*d), /*with_devices=*/true);
}

Result<DeploymentView> DeploymentService::Pause(std::string_view id, std::string_view reason) {
  if (reason.size() > kMaxReasonBytes) {
    return Fail(Bad("reason is longer than " + std::to_string(kMaxReasonBytes) + " bytes"));
  }
  return Control(id, [&](Deployment& d, Timestamp) -> Result<bool> {
    switch (d.state) {
      case DeploymentState::kPaused:
        return false;
      case DeploymentState::kActive:
        d.state = DeploymentState::kPaused;
        d.paused_reason = reason.empty() ? "paused by an operator" : std::string(reason);
        return true;
      case DeploymentState::kCompleted:
      case DeploymentState::kCancelled:
        break;
    }
    return Fail(Bad("deployment " + d.id + " is " + std::string(DeploymentStateName(d.state)) +
                    " and cannot be paused"));
  });
}

Result<DeploymentView> DeploymentService::Resume(std::string_view id) {
  return Control(id, [&](Deployment& d, Timestamp now) -> Result<bool> {
    switch (d.state) {
      case DeploymentState::kActive:
        return false;
      case DeploymentState::kPaused: {
        // The operator has seen the failures so far: only new ones count from here, and the
        // current phase is observed for its full wait again before the next one starts.
        auto counts = Counts(d.id);
        if (!counts) return Fail(counts.error());
        d.acknowledged_failures = counts->Failures();
        d.state = DeploymentState::kActive;
        d.paused_reason.clear();
        d.phases[d.current_phase].started = now;
        return true;
      }
      case DeploymentState::kCompleted:
      case DeploymentState::kCancelled:
        break;
    }
    return Fail(Bad("deployment " + d.id + " is " + std::string(DeploymentStateName(d.state)) +
                    " and cannot be resumed"));
  });
}

Result<DeploymentView> DeploymentService::Cancel(std::string_view id) {
  return Control(id, [&](Deployment& d, Timestamp) -> Result<bool> {
    switch (d.state) {
      case DeploymentState::kCancelled:
        return false;
      case DeploymentState::kActive:
      case DeploymentState::kPaused:
        d.state = DeploymentState::kCancelled;
        return true;
      case DeploymentState::kCompleted:
        break;
    }
    return Fail(Bad("deployment " + d.id + " is completed and cannot be cancelled"));
  });
}

Result<std::int64_t> DeploymentService::PauseAll(std::string_view reason) {
  if (reason.empty() || reason.size() > kMaxReasonBytes) {
    return Fail(Bad("reason must be 1-" + std::to_string(kMaxReasonBytes) + " bytes"));
  }
  std::unique_lock lock(state_mutex_);
  auto active = store_.ListDeployments(DeploymentState::kActive, kMaxActive);
  if (!active) return Fail(active.error());
  const Timestamp now = Now();
  for (Deployment& d : *active) {
    d.state = DeploymentState::kPaused;
    d.paused_reason = std::string(reason);
    d.updated = now;
  }
  if (!active->empty()) {
    if (Status s = store_.UpdateDeployments(*active); !s) return Fail(s.error());
    InvalidateActive();
  }
  return static_cast<std::int64_t>(active->size());
}

Result<std::vector<std::string>> DeploymentService::TargetingGroup(std::string_view group) {
  std::vector<std::string> ids;
  for (DeploymentState state : {DeploymentState::kActive, DeploymentState::kPaused}) {
    auto list = store_.ListDeployments(state, kMaxActive);
    if (!list) return Fail(list.error());
    for (const Deployment& d : *list) {
      if (d.selector.group == group) ids.push_back(d.id);
    }
  }
  return ids;
}

// --- evaluation ---------------------------------------------------------------------------

Status DeploymentService::Tick() {
  std::unique_lock lock(state_mutex_);
  return TickLocked(Now());
}

Status DeploymentService::TickLocked(Timestamp now) {
  auto overdue = store_.FailOverdue(now, kDeadlineMessage);
  if (!overdue) return Fail(overdue.error());
  auto active = store_.ListDeployments(DeploymentState::kActive, kMaxActive);
  if (!active) return Fail(active.error());
  std::vector<Deployment> changed;
  for (Deployment& d : *active) {
    bool did_change = false;
    if (Status s = Evaluate(d, now, did_change); !s) return s;
    if (did_change) changed.push_back(std::move(d));
  }
  if (changed.empty()) return Ok();
  if (Status s = store_.UpdateDeployments(changed); !s) return s;
  InvalidateActive();
  return Ok();
}

Status DeploymentService::Evaluate(Deployment& d, Timestamp now, bool& changed) {
  auto groups = store_.CountRollouts(d.id);
  if (!groups) return Fail(groups.error());
  RolloutCounts all;
  RolloutCounts current;
  for (const RolloutCount& g : *groups) {
    all.At(g.state) += g.count;
    if (g.phase == static_cast<std::int64_t>(d.current_phase)) current.At(g.state) += g.count;
  }

  const std::int64_t admitted = all.Total();
  const std::int64_t failures = std::max<std::int64_t>(0, all.Failures() - d.acknowledged_failures);
  if (admitted > 0 && admitted >= d.min_devices_for_threshold &&
      failures * 100 > d.failure_threshold_percent * admitted) {
    d.state = DeploymentState::kPaused;
    d.paused_reason = "failure rate " + Percent(failures, admitted) + " exceeded threshold " +
                      std::to_string(d.failure_threshold_percent) + "% in phase " +
                      std::to_string(d.current_phase + 1);
    d.updated = now;
    changed = true;
    return Ok();
  }

  const Phase& phase = d.phases[d.current_phase];
  const Timestamp started = phase.started.value_or(d.created);
  const bool last = d.current_phase + 1 == d.phases.size();
  // Devices join only by checking in, so the last phase stays open long enough for them to
  // ask: at least one phase deadline, even when its wait is 0. Otherwise a deployment read
  // right after creation, before any device asked, would complete having updated nobody.
  const std::int64_t open_seconds =
      last ? std::max(phase.wait_seconds, d.phase_deadline_seconds) : phase.wait_seconds;
  if (now < started + std::chrono::seconds(open_seconds)) return Ok();
  if (!last) {
    if (current.InProgress() > 0) return Ok();
    ++d.current_phase;
    d.phases[d.current_phase].started = now;
  } else {
    if (all.InProgress() > 0) return Ok();
    d.state = DeploymentState::kCompleted;
  }
  d.updated = now;
  changed = true;
  return Ok();
}

// --- devices ------------------------------------------------------------------------------

Result<std::shared_ptr<const DeploymentService::ActiveSet>> DeploymentService::Active() {
  std::lock_guard lock(active_mutex_);
  if (!active_) {
    auto list = store_.ListDeployments(DeploymentState::kActive, kMaxActive);
    if (!list) return Fail(list.error());
    auto set = std::make_shared<ActiveSet>();
    set->newest_first = std::move(*list);
    active_ = std::move(set);
  }
  return active_;
}

void DeploymentService::InvalidateActive() {
  std::lock_guard lock(active_mutex_);
  active_.reset();
}

Status DeploymentService::ClearAssignment(DeviceRollout& row, Timestamp now,
                                          std::string_view message) {
  if (Status s = director_.Assign(row.device_id, std::nullopt); !s) {
    return Fail(std::move(s).error().WithContext("clearing the Director assignment"));
  }
  row.director_assigned = false;
  if (!message.empty()) row.message = std::string(message);
  row.updated_at = now;
  return store_.PutRollouts(std::span(&row, 1));
}

Result<CheckInDecision> DeploymentService::CheckIn(const DeviceView& device) {
  if (!core::wire::IsValidId(device.id)) return Fail(Bad("invalid device id"));
  std::shared_lock state(state_mutex_);
  std::lock_guard device_lock(DeviceMutex(device.id));
  return CheckInLocked(device, Now());
}

Result<CheckInDecision> DeploymentService::CheckInLocked(const DeviceView& device, Timestamp now) {
  auto history = store_.DeviceHistory(device.id);
  if (!history) return Fail(history.error());

  CheckInDecision decision;
  const DeviceHistoryEntry* current = nullptr;  // the row whose image the Director names
  std::int64_t newest_success = 0;
  for (const DeviceHistoryEntry& e : *history) {
    if (e.rollout.director_assigned) current = &e;
    if (e.rollout.state == RolloutState::kSucceeded) {
      newest_success = std::max(newest_success, e.deployment_seq);
    }
  }

  if (current != nullptr) {
    DeviceRollout row = current->rollout;
    if (!IsFinal(row.state)) {
      const bool cancelled_before_start =
          current->deployment_state == DeploymentState::kCancelled &&
          row.state == RolloutState::kPending;
      if (!cancelled_before_start) {
        // Mid-install: carry on whatever the deployment's state or window.
        decision.deployment_id = row.deployment_id;
        decision.update_available = true;
        return decision;
      }
      if (Status s = ClearAssignment(row, now, kCancelledMessage); !s) return Fail(s.error());
      decision.change = DirectorChange::kCleared;
      current = nullptr;
    } else if (IsFailure(row.state)) {
      // Failed by its deadline (or the clear after a failure report did not go through).
      if (Status s = ClearAssignment(row, now, ""); !s) return Fail(s.error());
      decision.change = DirectorChange::kCleared;
      current = nullptr;
    }
    // Succeeded: the Director keeps naming the image the device runs.
  }

  auto active = Active();
  if (!active) return Fail(active.error());
  // The device's static groups, read once and only when a deployment that could admit it
  // names a group: check-ins against group-less deployments cost no extra query.
  std::optional<std::vector<std::string>> device_groups;
  for (const Deployment& d : (*active)->newest_first) {
    // Never offer something older than what already succeeded on this device.
    if (d.seq <= newest_success) break;
    if (!Supports(d, device.hardware_id) || !SelectorMatches(d.selector, device)) continue;
    if (!d.selector.group.empty()) {
      if (groups_ == nullptr) continue;
      if (!device_groups) {
        auto read = groups_->GroupsOf(device.id);
        if (!read) return Fail(std::move(read).error().WithContext("group membership"));
        device_groups = std::move(*read);
      }
      if (std::find(device_groups->begin(), device_groups->end(), d.selector.group) ==
          device_groups->end()) {
        continue;
      }
    }
    const DeviceHistoryEntry* existing = nullptr;
    for (const DeviceHistoryEntry& e : *history) {
      if (e.rollout.deployment_id == d.id) existing = &e;
    }
    if (existing != nullptr && IsFinal(existing->rollout.state)) continue;

    DeviceRollout row;
    if (existing != nullptr) {
      // Admitted before but not assigned now (an earlier assignment did not complete).
      row = existing->rollout;
    } else {
      const std::size_t phase = PhaseForBucket(d.phases, Bucket(d.id, device.id));
      if (phase > d.current_phase) continue;
      if (d.maintenance_window && !WindowOpen(*d.maintenance_window, now)) continue;
      row.deployment_id = d.id;
      row.device_id = device.id;
      row.phase = static_cast<std::int64_t>(phase);
      row.state = RolloutState::kPending;
      row.assigned_at = now;
      row.deadline = now + std::chrono::seconds(d.phase_deadline_seconds);
    }
    row.updated_at = now;

    repo::AssignedImage image = ImageFor(d, device);
    const bool already_running = existing == nullptr && RunsImage(d, device);
    if (!already_running) image.delta = FindDelta(d, device);
    if (already_running) {
      row.state = RolloutState::kSucceeded;
      row.message = std::string(kAlreadyRunningMessage);
      row.deadline = now;
    }
    // The Director must name this image when the device is to install it, and also when it
    // already runs it but the Director still names an older one (which would be installed).
    const bool assign = !already_running || current != nullptr;
    std::vector<DeviceRollout> writes;
    if (assign) {
      if (Status s = director_.Assign(device.id, image); !s) {
        return Fail(std::move(s).error().WithContext("assigning in the Director"));
      }
      if (current != nullptr) {
        DeviceRollout previous = current->rollout;
        previous.director_assigned = false;
        writes.push_back(std::move(previous));
      }
      row.director_assigned = true;
      decision.change = DirectorChange::kAssigned;
      decision.assigned = image;
    }
    writes.push_back(row);
    if (Status s = store_.PutRollouts(writes); !s) return Fail(s.error());
    if (!already_running) {
      decision.deployment_id = d.id;
      decision.update_available = true;
    }
    return decision;
  }
  return decision;
}

std::optional<core::uptane::DeltaRef> DeploymentService::FindDelta(const Deployment& d,
                                                                   const DeviceView& device) {
  if (device.image_sha256.size() != 64) return std::nullopt;
  const std::string from = Lower(device.image_sha256);
  const std::string name = core::uptane::DeltaTargetName(d.release, from);
  // A missing or unreadable delta costs bandwidth, never the update: the full image is
  // assigned either way.
  auto release = releases_.Find(name);
  if (!release) {
    if (built_deltas_ == nullptr || release.error().code() != Errc::kNotFound) return std::nullopt;
    // No signed delta: one aloftd built, if ready.
    return built_deltas_->Offer(d.release, d.image_sha256, from);
  }
  auto custom = core::uptane::ParseImageCustom(release->target_file.custom);
  if (!custom || !custom->delta) return std::nullopt;
  const core::uptane::DeltaInfo& info = *custom->delta;
  // The name is only an address: the signed binding must say the same.
  if (info.from_sha256 != from || info.to_target != d.release || info.to_sha256 != d.image_sha256 ||
      !release->target_file.hashes.contains("sha256") ||
      std::find(custom->hardware_ids.begin(), custom->hardware_ids.end(), device.hardware_id) ==
          custom->hardware_ids.end()) {
    return std::nullopt;
  }
  core::metadata::TargetFile file;
  file.length = release->target_file.length;
  file.hashes = release->target_file.hashes;
  return core::uptane::DeltaRef{name, std::move(file)};
}

Result<bool> DeploymentService::OnReport(std::string_view device_id,
                                         const core::wire::Report& report) {
  if (report.deployment_id.empty()) return false;
  const RolloutState next = FromWire(report.state);
  {
    std::shared_lock state(state_mutex_);
    std::lock_guard device_lock(DeviceMutex(device_id));
    auto row = store_.GetRollout(report.deployment_id, device_id);
    if (!row) return Fail(row.error());
    if (!*row || IsFinal((*row)->state)) return false;
    DeviceRollout& r = **row;
    const Timestamp now = Now();
    r.state = next;
    r.message = KeepDeltaFallback(r.message, Head(report.message, core::wire::kMaxTextBytes));
    r.log_tail = Tail(report.log_tail, core::wire::kMaxLogTailBytes);
    r.updated_at = now;
    // Record the state first: if clearing the Director fails, the row stays assigned and the
    // device's next check-in retries the clear.
    if (Status s = store_.PutRollouts(std::span(&r, 1)); !s) return Fail(s.error());
    if (IsFailure(next) && r.director_assigned) {
      if (Status s = ClearAssignment(r, now, ""); !s) return Fail(s.error());
    }
  }
  if (!IsFailure(next)) return true;

  // A failure may trip the threshold: stop admitting now rather than at the next Tick.
  std::unique_lock lock(state_mutex_);
  auto d = store_.GetDeployment(report.deployment_id);
  if (!d) return Fail(d.error());
  if (d->state != DeploymentState::kActive) return true;
  bool changed = false;
  if (Status s = Evaluate(*d, Now(), changed); !s) return Fail(s.error());
  if (changed) {
    if (Status s = store_.UpdateDeployments(std::span(&*d, 1)); !s) return Fail(s.error());
    InvalidateActive();
  }
  return true;
}

}  // namespace aloft::server::deployments

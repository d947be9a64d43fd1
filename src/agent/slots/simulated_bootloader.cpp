#include "agent/slots/simulated_bootloader.hpp"

#include <array>
#include <string>
#include <utility>

#include "core/codec/json.hpp"
#include "platform/posix/files.hpp"

namespace aloft::agent::slots {
namespace {

using core::codec::Json;
namespace posix = platform::posix;

constexpr std::size_t kMaxStateBytes = 64 * 1024;
constexpr std::array<std::pair<LastBoot, std::string_view>, 4> kLastBootNames{{
    {LastBoot::kNone, "none"},
    {LastBoot::kNormal, "normal"},
    {LastBoot::kTrial, "trial"},
    {LastBoot::kFellBack, "fell_back"},
}};

// The whole file, decoded.
struct SimState {
  SlotId booted = SlotId::kA;
  EnvVars env;
  LastBoot last_boot = LastBoot::kNone;
  std::array<bool, 2> broken{false, false};
};

std::size_t Index(SlotId id) { return id == SlotId::kA ? 0 : 1; }

Error CorruptError(const std::filesystem::path& path, const Error& cause) {
  return Error(Errc::kCorrupt, "simulated bootloader state " + path.string() + ": " +
                                   cause.message());
}

Result<SimState> Decode(const Json& json) {
  if (!json.IsObject()) return Fail(Errc::kCorrupt, "not a JSON object");
  SimState state;
  auto booted = core::codec::GetString(json, "booted");
  if (!booted) return Fail(std::move(booted).error());
  auto booted_id = ParseSlotId(*booted);
  if (!booted_id) return Fail(std::move(booted_id).error());
  state.booted = *booted_id;

  auto env = core::codec::GetObject(json, "env");
  if (!env) return Fail(std::move(env).error());
  for (const auto& [name, value] : **env) {
    if (!value.IsString()) return Fail(Errc::kCorrupt, "env." + name + " is not a string");
    state.env.emplace(name, value.AsString());
  }

  auto last = core::codec::GetString(json, "last_boot");
  if (!last) return Fail(std::move(last).error());
  bool known = false;
  for (const auto& [value, name] : kLastBootNames) {
    if (name == *last) {
      state.last_boot = value;
      known = true;
    }
  }
  if (!known) return Fail(Errc::kCorrupt, "last_boot '" + *last + "' is unknown");

  auto broken = core::codec::GetArray(json, "broken");
  if (!broken) return Fail(std::move(broken).error());
  for (const Json& item : **broken) {
    if (!item.IsString()) return Fail(Errc::kCorrupt, "broken holds a non-string");
    auto id = ParseSlotId(item.AsString());
    if (!id) return Fail(std::move(id).error());
    state.broken[Index(*id)] = true;
  }
  return state;
}

Json Encode(const SimState& state) {
  Json::Object env;
  for (const auto& [name, value] : state.env) env.emplace(name, Json(value));
  Json::Array broken;
  for (const SlotId id : {SlotId::kA, SlotId::kB}) {
    if (state.broken[Index(id)]) broken.emplace_back(SlotIdName(id));
  }
  Json::Object out;
  out.emplace("booted", Json(SlotIdName(state.booted)));
  out.emplace("env", Json(std::move(env)));
  out.emplace("last_boot", Json(LastBootName(state.last_boot)));
  out.emplace("broken", Json(std::move(broken)));
  return Json(std::move(out));
}

// kNotFound passes through (the caller may create the file); everything else that stops us
// from understanding the file is kCorrupt, except plain I/O errors.
Result<SimState> ReadState(const std::filesystem::path& path) {
  auto bytes = posix::ReadFile(path, kMaxStateBytes);
  if (!bytes) {
    if (bytes.error().code() == Errc::kTooLarge) return Fail(CorruptError(path, bytes.error()));
    return Fail(std::move(bytes).error());
  }
  auto json = core::codec::ParseJson(AsChars(*bytes));
  if (!json) return Fail(CorruptError(path, json.error()));
  auto state = Decode(*json);
  if (!state) return Fail(CorruptError(path, state.error()));
  return state;
}

Status WriteState(const std::filesystem::path& path, const SimState& state) {
  const std::string text = core::codec::DumpJson(Encode(state), /*pretty=*/true) + "\n";
  return posix::AtomicWriteFile(path, AsBytes(text), 0600);
}

// The "env" member of the file as a BootEnv.
class FileEnv final : public BootEnv {
 public:
  explicit FileEnv(std::filesystem::path path) : path_(std::move(path)) {}
  Result<EnvVars> Load() override {
    auto state = ReadState(path_);
    if (!state) return Fail(std::move(state).error());
    return std::move(state->env);
  }
  Status Store(const EnvVars& changes) override {
    auto state = ReadState(path_);
    if (!state) return Fail(std::move(state).error());
    for (const auto& [name, value] : changes) state->env[name] = value;
    return WriteState(path_, *state);
  }

 private:
  std::filesystem::path path_;
};

}  // namespace

std::string_view LastBootName(LastBoot value) noexcept {
  for (const auto& [v, name] : kLastBootNames) {
    if (v == value) return name;
  }
  return "none";
}

Result<std::unique_ptr<SimulatedBootloader>> SimulatedBootloader::Open(
    const std::filesystem::path& path, SimulatedOptions options) {
  if (auto valid = options.scheme.Validate(); !valid) return Fail(std::move(valid).error());
  auto existing = ReadState(path);
  if (!existing) {
    if (existing.error().code() != Errc::kNotFound) return Fail(std::move(existing).error());
    SimState fresh;
    fresh.booted = options.initial_slot;
    fresh.env = {{options.scheme.slot_var, options.scheme.ValueOf(options.initial_slot)},
                 {options.scheme.trial_var, "0"},
                 {options.scheme.count_var, "0"},
                 {options.scheme.limit_var, std::to_string(options.scheme.boot_limit)}};
    if (auto written = WriteState(path, fresh); !written) return Fail(std::move(written).error());
  } else if (auto decoded = DecodeBootState(existing->env, options.scheme, existing->booted);
             !decoded) {
    return Fail(CorruptError(path, decoded.error()));
  }

  BootedSlotProbe probe = [path]() -> Result<SlotId> {
    auto state = ReadState(path);
    if (!state) return Fail(std::move(state).error());
    return state->booted;
  };
  auto logic = EnvBootloader::Create(std::make_unique<FileEnv>(path), options.scheme,
                                     std::move(probe));
  if (!logic) return Fail(std::move(logic).error());
  return std::unique_ptr<SimulatedBootloader>(
      new SimulatedBootloader(path, std::move(options.scheme), std::move(*logic)));
}

Result<BootState> SimulatedBootloader::State() { return logic_->State(); }
Status SimulatedBootloader::PrepareTrialBoot(SlotId target) {
  return logic_->PrepareTrialBoot(target);
}
Status SimulatedBootloader::MarkGood() { return logic_->MarkGood(); }
Status SimulatedBootloader::MarkBad(SlotId slot) { return logic_->MarkBad(slot); }

Result<RebootOutcome> SimulatedBootloader::SimulateReboot() {
  auto state = ReadState(path_);
  if (!state) return Fail(std::move(state).error());
  auto boot = DecodeBootState(state->env, scheme_, state->booted);
  if (!boot) return Fail(CorruptError(path_, boot.error()));

  RebootOutcome outcome;
  SlotId next = boot->primary;
  state->last_boot = LastBoot::kNormal;
  if (boot->trial) {
    const int count = boot->boot_count + 1;
    state->env[scheme_.count_var] = std::to_string(count);
    state->last_boot = LastBoot::kTrial;
    if (count > boot->boot_limit) {
      // altbootcmd: give up on the trial slot and go back to the other one for good.
      next = Other(boot->primary);
      state->env[scheme_.slot_var] = scheme_.ValueOf(next);
      state->env[scheme_.trial_var] = "0";
      state->last_boot = LastBoot::kFellBack;
      outcome.fell_back = true;
    }
  }
  state->booted = next;
  outcome.booted = next;
  outcome.came_up = !state->broken[Index(next)];
  if (auto written = WriteState(path_, *state); !written) return Fail(std::move(written).error());
  return outcome;
}

Status SimulatedBootloader::SetBrokenForTest(SlotId slot, bool broken) {
  auto state = ReadState(path_);
  if (!state) return Fail(std::move(state).error());
  state->broken[Index(slot)] = broken;
  return WriteState(path_, *state);
}

Result<LastBoot> SimulatedBootloader::LastBootForTest() {
  auto state = ReadState(path_);
  if (!state) return Fail(std::move(state).error());
  return state->last_boot;
}

}  // namespace aloft::agent::slots

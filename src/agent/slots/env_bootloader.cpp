#include "agent/slots/env_bootloader.hpp"

#include <algorithm>
#include <charconv>
#include <set>
#include <string>

#include "platform/posix/files.hpp"

namespace aloft::agent::slots {
namespace {

constexpr std::size_t kMaxCmdline = 64 * 1024;

const std::string* Find(const EnvVars& vars, const std::string& name) {
  const auto it = vars.find(name);
  return it == vars.end() ? nullptr : &it->second;
}

// A counter variable: unset or empty counts as 0 (U-Boot's own default).
Result<int> ParseCounter(const EnvVars& vars, const std::string& name) {
  const std::string* value = Find(vars, name);
  if (value == nullptr || value->empty()) return 0;
  int out = 0;
  const char* end = value->data() + value->size();
  const auto [ptr, ec] = std::from_chars(value->data(), end, out);
  if (ec != std::errc() || ptr != end || out < 0) {
    return Fail(Errc::kCorrupt, name + "='" + *value + "' is not a counter");
  }
  return out;
}

}  // namespace

Status EnvScheme::Validate() const {
  const std::set<std::string> names{slot_var, trial_var, count_var, limit_var};
  if (names.size() != 4 || names.count("") != 0) {
    return Fail(Errc::kInvalidArgument, "boot environment variable names must be distinct and non-empty");
  }
  if (slot_a_value.empty() || slot_b_value.empty() || slot_a_value == slot_b_value) {
    return Fail(Errc::kInvalidArgument, "slot values must be distinct and non-empty");
  }
  if (boot_limit < 0) return Fail(Errc::kInvalidArgument, "boot limit must not be negative");
  return Ok();
}

Result<BootState> DecodeBootState(const EnvVars& vars, const EnvScheme& scheme, SlotId booted) {
  BootState state;
  state.booted = booted;
  const std::string* slot = Find(vars, scheme.slot_var);
  if (slot == nullptr) return Fail(Errc::kCorrupt, scheme.slot_var + " is not set");
  if (*slot == scheme.slot_a_value) {
    state.primary = SlotId::kA;
  } else if (*slot == scheme.slot_b_value) {
    state.primary = SlotId::kB;
  } else {
    return Fail(Errc::kCorrupt, scheme.slot_var + "='" + *slot + "' names no slot");
  }
  const std::string* trial = Find(vars, scheme.trial_var);
  if (trial == nullptr || trial->empty() || *trial == "0") {
    state.trial = false;
  } else if (*trial == "1") {
    state.trial = true;
  } else {
    return Fail(Errc::kCorrupt, scheme.trial_var + "='" + *trial + "' is neither 0 nor 1");
  }
  auto count = ParseCounter(vars, scheme.count_var);
  if (!count) return Fail(std::move(count).error());
  auto limit = ParseCounter(vars, scheme.limit_var);
  if (!limit) return Fail(std::move(limit).error());
  state.boot_count = *count;
  state.boot_limit = *limit;
  return state;
}

Result<SlotId> BootedSlotFromCmdline(std::string_view cmdline, std::string_view key,
                                     const EnvScheme& scheme) {
  std::size_t pos = 0;
  while (pos < cmdline.size()) {
    const std::size_t end = std::min(cmdline.find_first_of(" \t\n", pos), cmdline.size());
    const std::string_view word = cmdline.substr(pos, end - pos);
    if (word.size() > key.size() && word.substr(0, key.size()) == key && word[key.size()] == '=') {
      const std::string_view value = word.substr(key.size() + 1);
      if (value == scheme.slot_a_value) return SlotId::kA;
      if (value == scheme.slot_b_value) return SlotId::kB;
      return Fail(Errc::kCorrupt, "kernel command line: " + std::string(word) + " names no slot");
    }
    pos = end + 1;
  }
  return Fail(Errc::kNotFound, "kernel command line has no " + std::string(key) + "=");
}

BootedSlotProbe ProcCmdlineProbe(std::string key, EnvScheme scheme) {
  return [key = std::move(key), scheme = std::move(scheme)]() -> Result<SlotId> {
    auto text = platform::posix::ReadFile("/proc/cmdline", kMaxCmdline);
    if (!text) return Fail(std::move(text).error());
    return BootedSlotFromCmdline(AsChars(*text), key, scheme);
  };
}

Result<std::unique_ptr<EnvBootloader>> EnvBootloader::Create(std::unique_ptr<BootEnv> env,
                                                             EnvScheme scheme,
                                                             BootedSlotProbe booted) {
  if (auto valid = scheme.Validate(); !valid) return Fail(std::move(valid).error());
  // Invariants: the composition root always passes both; a null one is a wiring bug.
  if (env == nullptr || !booted) return Fail(Errc::kInternal, "boot env and probe required");
  return std::unique_ptr<EnvBootloader>(
      new EnvBootloader(std::move(env), std::move(scheme), std::move(booted)));
}

Result<BootState> EnvBootloader::State() {
  auto booted = booted_();
  if (!booted) return Fail(std::move(booted).error().WithContext("booted slot"));
  auto vars = env_->Load();
  if (!vars) return Fail(std::move(vars).error());
  return DecodeBootState(*vars, scheme_, *booted);
}

Status EnvBootloader::StoreChanges(const EnvVars& current, const EnvVars& wanted) {
  EnvVars changes;
  for (const auto& [name, value] : wanted) {
    const std::string* now = Find(current, name);
    if (now == nullptr || *now != value) changes.emplace(name, value);
  }
  if (changes.empty()) return Ok();
  return env_->Store(changes);
}

Status EnvBootloader::PrepareTrialBoot(SlotId target) {
  auto booted = booted_();
  if (!booted) return Fail(std::move(booted).error().WithContext("booted slot"));
  if (target == *booted) {
    return Fail(Errc::kInvalidArgument, "trial boot of the running slot " +
                                            std::string(SlotIdName(target)) + " refused");
  }
  auto vars = env_->Load();
  if (!vars) return Fail(std::move(vars).error());
  // One store: slot, flag and counter change together, so the bootloader never sees a trial
  // flag with a stale counter.
  EnvVars wanted{{scheme_.slot_var, scheme_.ValueOf(target)},
                 {scheme_.trial_var, "1"},
                 {scheme_.count_var, "0"}};
  if (scheme_.boot_limit > 0) wanted.emplace(scheme_.limit_var, std::to_string(scheme_.boot_limit));
  return StoreChanges(*vars, wanted);
}

Status EnvBootloader::MarkGood() {
  auto booted = booted_();
  if (!booted) return Fail(std::move(booted).error().WithContext("booted slot"));
  auto vars = env_->Load();
  if (!vars) return Fail(std::move(vars).error());
  return StoreChanges(*vars, {{scheme_.slot_var, scheme_.ValueOf(*booted)},
                              {scheme_.trial_var, "0"},
                              {scheme_.count_var, "0"}});
}

Status EnvBootloader::MarkBad(SlotId slot) {
  auto vars = env_->Load();
  if (!vars) return Fail(std::move(vars).error());
  return StoreChanges(*vars, {{scheme_.slot_var, scheme_.ValueOf(Other(slot))},
                              {scheme_.trial_var, "0"},
                              {scheme_.count_var, "0"}});
}

}  // namespace aloft::agent::slots

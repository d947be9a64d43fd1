#include "agent/update/update_record.hpp"

#include <array>
#include <limits>
#include <utility>

#include "platform/posix/files.hpp"

namespace aloft::agent::update {
namespace {

using core::codec::Json;
namespace codec = core::codec;
namespace posix = platform::posix;

// The record is small; anything bigger than this is not one of ours.
constexpr std::size_t kMaxRecordBytes = std::size_t{64} * 1024;
constexpr std::int64_t kFormatVersion = 1;

struct StateEntry {
  State state;
  std::string_view name;
};
constexpr std::array<StateEntry, 9> kStateNames{{
    {State::kIdle, "idle"},
    {State::kInstalling, "installing"},
    {State::kInstalled, "installed"},
    {State::kRebooting, "rebooting"},
    {State::kVerifying, "verifying"},
    {State::kCommitting, "committing"},
    {State::kCommitted, "committed"},
    {State::kRolledBack, "rolled-back"},
    {State::kFailed, "failed"},
}};

// Rejects members the format does not define: a strict parser, so a record written by a newer
// agent (or damaged into another shape) is kCorrupt instead of half understood.
Status OnlyMembers(const Json& object, std::initializer_list<std::string_view> allowed,
                   std::string_view what) {
  for (const auto& [key, value] : object.AsObject()) {
    bool known = false;
    for (std::string_view name : allowed) known = known || key == name;
    if (!known)
      return Fail(Errc::kInvalidArgument, std::string(what) + ": unknown field '" + key + "'");
  }
  return Ok();
}

Result<Timestamp> GetTimestamp(const Json& object, std::string_view key) {
  auto text = codec::GetString(object, key);
  if (!text) return Fail(std::move(text).error());
  auto parsed = ParseTimestamp(*text);
  if (!parsed)
    return Fail(std::move(parsed).error().WithContext("field '" + std::string(key) + "'"));
  return *parsed;
}

Result<slots::SlotId> GetSlot(const Json& object, std::string_view key) {
  auto text = codec::GetString(object, key);
  if (!text) return Fail(std::move(text).error());
  auto parsed = slots::ParseSlotId(*text);
  if (!parsed)
    return Fail(std::move(parsed).error().WithContext("field '" + std::string(key) + "'"));
  return *parsed;
}

Result<InstalledImage> ParseInstalled(const Json& json) {
  if (!json.IsObject()) return Fail(Errc::kInvalidArgument, "field 'installed' must be an object");
  if (auto ok = OnlyMembers(json, {"sha256", "version", "security_counter"}, "installed"); !ok) {
    return Fail(std::move(ok).error());
  }
  InstalledImage image;
  auto sha = codec::GetString(json, "sha256");
  if (!sha) return Fail(std::move(sha).error().WithContext("installed"));
  auto version = codec::GetString(json, "version");
  if (!version) return Fail(std::move(version).error().WithContext("installed"));
  auto counter = codec::GetInt(json, "security_counter");
  if (!counter) return Fail(std::move(counter).error().WithContext("installed"));
  image.sha256 = std::move(*sha);
  image.version = std::move(*version);
  image.security_counter = *counter;
  return image;
}

}  // namespace

std::string_view StateName(State state) noexcept {
  for (const StateEntry& entry : kStateNames) {
    if (entry.state == state) return entry.name;
  }
  return "unknown";
}

Result<State> ParseState(std::string_view name) {
  for (const StateEntry& entry : kStateNames) {
    if (entry.name == name) return entry.state;
  }
  return Fail(Errc::kInvalidArgument, "unknown update state '" + std::string(name) + "'");
}

bool IsTerminal(State state) noexcept {
  return state == State::kCommitted || state == State::kRolledBack || state == State::kFailed;
}

Json ToJson(const UpdateRecord& record) {
  Json::Object installed{
      {"sha256", record.installed.sha256},
      {"version", record.installed.version},
      {"security_counter", record.installed.security_counter},
  };
  return Json(Json::Object{
      {"format", kFormatVersion},
      {"state", StateName(record.state)},
      {"deployment_id", record.deployment_id},
      {"target_path", record.target_path},
      {"image_sha256", record.image_sha256},
      {"image_length", record.image_length},
      {"image_version", record.image_version},
      {"security_counter", record.security_counter},
      {"target_slot", slots::SlotIdName(record.target_slot)},
      {"previous_slot", slots::SlotIdName(record.previous_slot)},
      {"attempt", record.attempt},
      {"last_error", record.last_error},
      {"log_tail", record.log_tail},
      {"reported", record.reported},
      {"started_at", FormatTimestamp(record.started_at)},
      {"updated_at", FormatTimestamp(record.updated_at)},
      {"installed", Json(std::move(installed))},
  });
}

Result<UpdateRecord> ParseUpdateRecord(const Json& json) {
  if (!json.IsObject()) return Fail(Errc::kInvalidArgument, "update record must be an object");
  if (auto ok = OnlyMembers(
          json,
          {"format", "state", "deployment_id", "target_path", "image_sha256", "image_length",
           "image_version", "security_counter", "target_slot", "previous_slot", "attempt",
           "last_error", "log_tail", "reported", "started_at", "updated_at", "installed"},
          "update record");
      !ok) {
    return Fail(std::move(ok).error());
  }
  auto format = codec::GetInt(json, "format");
  if (!format) return Fail(std::move(format).error());
  if (*format != kFormatVersion) {
    return Fail(Errc::kInvalidArgument, "unsupported record format " + std::to_string(*format));
  }
  UpdateRecord record;
  auto state_name = codec::GetString(json, "state");
  if (!state_name) return Fail(std::move(state_name).error());
  auto state = ParseState(*state_name);
  if (!state) return Fail(std::move(state).error());
  record.state = *state;

  // Plain string members.
  const std::pair<std::string_view, std::string*> strings[] = {
      {"deployment_id", &record.deployment_id}, {"target_path", &record.target_path},
      {"image_sha256", &record.image_sha256},   {"image_version", &record.image_version},
      {"last_error", &record.last_error},       {"log_tail", &record.log_tail},
  };
  for (const auto& [key, out] : strings) {
    auto value = codec::GetString(json, key);
    if (!value) return Fail(std::move(value).error());
    *out = std::move(*value);
  }
  if (record.log_tail.size() > kMaxLogTailBytes) {
    return Fail(Errc::kInvalidArgument, "field 'log_tail' is too long");
  }
  auto length = codec::GetInt(json, "image_length");
  if (!length) return Fail(std::move(length).error());
  if (*length < 0) return Fail(Errc::kInvalidArgument, "field 'image_length' is negative");
  record.image_length = static_cast<std::uint64_t>(*length);
  auto counter = codec::GetInt(json, "security_counter");
  if (!counter) return Fail(std::move(counter).error());
  record.security_counter = *counter;
  auto attempt = codec::GetInt(json, "attempt");
  if (!attempt) return Fail(std::move(attempt).error());
  if (*attempt < 0) return Fail(Errc::kInvalidArgument, "field 'attempt' is negative");
  record.attempt = *attempt;
  auto target = GetSlot(json, "target_slot");
  if (!target) return Fail(std::move(target).error());
  record.target_slot = *target;
  auto previous = GetSlot(json, "previous_slot");
  if (!previous) return Fail(std::move(previous).error());
  record.previous_slot = *previous;
  if (record.state != State::kIdle && record.target_slot == record.previous_slot) {
    return Fail(Errc::kInvalidArgument, "target and previous slot are the same");
  }
  auto reported = codec::GetBool(json, "reported");
  if (!reported) return Fail(std::move(reported).error());
  record.reported = *reported;
  auto started = GetTimestamp(json, "started_at");
  if (!started) return Fail(std::move(started).error());
  record.started_at = *started;
  auto updated = GetTimestamp(json, "updated_at");
  if (!updated) return Fail(std::move(updated).error());
  record.updated_at = *updated;
  const Json* installed = json.Find("installed");
  if (installed == nullptr) return Fail(Errc::kInvalidArgument, "missing field 'installed'");
  auto image = ParseInstalled(*installed);
  if (!image) return Fail(std::move(image).error());
  record.installed = std::move(*image);
  return record;
}

Result<UpdateRecord> UpdateRecordFile::Load() const {
  auto bytes = posix::ReadFile(path_, kMaxRecordBytes);
  if (!bytes) {
    if (bytes.error().code() == Errc::kNotFound) return UpdateRecord{};
    if (bytes.error().code() == Errc::kTooLarge) {
      return Fail(Errc::kCorrupt,
                  "update record " + path_.string() + ": " + bytes.error().message());
    }
    return Fail(std::move(bytes).error().WithContext("update record"));
  }
  auto json = codec::ParseJson(AsChars(*bytes));
  if (!json) {
    return Fail(Errc::kCorrupt, "update record " + path_.string() + ": " + json.error().message());
  }
  auto record = ParseUpdateRecord(*json);
  if (!record) {
    return Fail(Errc::kCorrupt,
                "update record " + path_.string() + ": " + record.error().message());
  }
  return record;
}

Status UpdateRecordFile::Save(const UpdateRecord& record) {
  if (hook_) hook_(WritePoint::kBeforeWrite, record);
  const std::string text = codec::DumpJson(ToJson(record), /*pretty=*/true) + "\n";
  if (auto saved = posix::AtomicWriteFile(path_, AsBytes(text), 0600); !saved) {
    return Fail(std::move(saved).error().WithContext("save update record"));
  }
  if (hook_) hook_(WritePoint::kAfterWrite, record);
  return Ok();
}

}  // namespace aloft::agent::update

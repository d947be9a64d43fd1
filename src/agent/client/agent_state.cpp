#include "agent/client/agent_state.hpp"

#include <algorithm>

#include "core/codec/json.hpp"
#include "platform/posix/files.hpp"

namespace aloft::agent::client {
namespace {

using core::codec::Json;
namespace codec = core::codec;

constexpr std::size_t kMaxStateBytes = 256 * 1024;
constexpr std::int64_t kFormat = 1;
constexpr std::size_t kMaxReasonBytes = 512;

Json ToJson(const Assignment& a) {
  return Json::Object{{"deployment_id", a.deployment_id}, {"target_sha256", a.target_sha256}};
}

Result<Assignment> ParseAssignment(const Json& json) {
  if (!json.IsObject()) return Fail(Errc::kInvalidArgument, "assignment is not an object");
  auto deployment = codec::GetString(json, "deployment_id");
  if (!deployment) return Fail(deployment.error());
  auto sha = codec::GetString(json, "target_sha256");
  if (!sha) return Fail(sha.error());
  return Assignment{std::move(*deployment), std::move(*sha)};
}

Result<AgentState> Parse(const Json& json) {
  if (!json.IsObject()) return Fail(Errc::kInvalidArgument, "not an object");
  auto format = codec::GetInt(json, "format");
  if (!format) return Fail(format.error());
  if (*format != kFormat) return Fail(Errc::kInvalidArgument, "unknown format");
  AgentState state;
  auto enrolled = codec::GetBool(json, "enrolled");
  if (!enrolled) return Fail(enrolled.error());
  state.enrolled = *enrolled;
  auto version = codec::GetInt(json, "director_targets_version");
  if (!version) return Fail(version.error());
  state.director_targets_version = *version;
  auto digest = codec::GetString(json, "inventory_digest");
  if (!digest) return Fail(digest.error());
  state.inventory_digest = std::move(*digest);
  const Json* current = json.Find("current");
  if (current == nullptr) return Fail(Errc::kInvalidArgument, "missing current");
  auto parsed_current = ParseAssignment(*current);
  if (!parsed_current) return Fail(parsed_current.error());
  state.current = std::move(*parsed_current);
  auto blocked = codec::GetArray(json, "blocked");
  if (!blocked) return Fail(blocked.error());
  for (const Json& entry : **blocked) {
    auto a = ParseAssignment(entry);
    if (!a) return Fail(a.error());
    auto reason = codec::GetString(entry, "reason");
    if (!reason) return Fail(reason.error());
    state.blocked.push_back({std::move(*a), std::move(*reason)});
  }
  auto acknowledged = codec::GetString(json, "acknowledged_deployment");
  if (!acknowledged) return Fail(acknowledged.error());
  state.acknowledged_deployment = std::move(*acknowledged);
  return state;
}

}  // namespace

bool AgentState::IsBlocked(const Assignment& a) const noexcept {
  return std::any_of(blocked.begin(), blocked.end(),
                     [&a](const BlockedAssignment& b) { return b.assignment == a; });
}

void AgentState::Block(const Assignment& a, std::string reason) {
  if (IsBlocked(a)) return;
  if (reason.size() > kMaxReasonBytes) reason.resize(kMaxReasonBytes);
  blocked.push_back({a, std::move(reason)});
  if (blocked.size() > kMaxBlocked) blocked.erase(blocked.begin());
}

AgentStateFile::Loaded AgentStateFile::Load() const {
  Loaded loaded;
  auto bytes = platform::posix::ReadFile(path_, kMaxStateBytes);
  if (!bytes) {
    if (bytes.error().code() != Errc::kNotFound) {
      loaded.problem = path_.string() + ": " + bytes.error().message();
    }
    return loaded;
  }
  auto json = codec::ParseJson(AsChars(*bytes));
  if (!json) {
    loaded.problem = path_.string() + ": " + json.error().message();
    return loaded;
  }
  auto state = Parse(*json);
  if (!state) {
    loaded.problem = path_.string() + ": " + state.error().message();
    return loaded;
  }
  loaded.state = std::move(*state);
  return loaded;
}

Status AgentStateFile::Save(const AgentState& state) const {
  Json::Array blocked;
  for (const BlockedAssignment& b : state.blocked) {
    Json entry = ToJson(b.assignment);
    entry["reason"] = b.reason;
    blocked.push_back(std::move(entry));
  }
  const Json json = Json::Object{{"format", kFormat},
                                 {"enrolled", state.enrolled},
                                 {"director_targets_version", state.director_targets_version},
                                 {"inventory_digest", state.inventory_digest},
                                 {"current", ToJson(state.current)},
                                 {"blocked", std::move(blocked)},
                                 {"acknowledged_deployment", state.acknowledged_deployment}};
  const std::string text = codec::DumpJson(json, /*pretty=*/true) + "\n";
  if (Status saved = platform::posix::AtomicWriteFile(path_, AsBytes(text), 0600); !saved) {
    return Fail(std::move(saved).error().WithContext("agent state"));
  }
  return Ok();
}

}  // namespace aloft::agent::client

#include "server/deployments/deployment_json.hpp"

#include <initializer_list>

namespace aloft::server::deployments {
namespace {

using core::codec::Json;

Error Bad(std::string message) { return Error(Errc::kInvalidArgument, std::move(message)); }

std::string Quoted(std::string_view s) { return "'" + std::string(s.substr(0, 64)) + "'"; }

// Refuses members other than `allowed`, so a typo ("failure_treshold_percent") is an error
// instead of a silently applied default.
Status OnlyMembers(const Json& object, std::string_view where,
                   std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : object.AsObject()) {
    bool known = false;
    for (std::string_view a : allowed) known = known || a == key;
    if (!known) {
      return Fail(Bad(std::string(where) + " has an unknown field " + Quoted(key)));
    }
  }
  return Ok();
}

Result<const Json*> Member(const Json& object, std::string_view key, std::string_view path,
                           Json::Kind kind, bool required) {
  const Json* v = object.Find(key);
  if (v == nullptr) {
    if (required) return Fail(Bad(std::string(path) + " is required"));
    return nullptr;
  }
  if (v->kind() != kind) {
    const std::string_view name = core::codec::KindName(kind);
    const bool vowel = name.find_first_of("aeiou") == 0;
    return Fail(Bad(std::string(path) + " must be " + (vowel ? "an " : "a ") + std::string(name)));
  }
  return v;
}

Result<std::int64_t> Int(const Json& object, std::string_view key, std::string_view path) {
  auto v = Member(object, key, path, Json::Kind::kInt, true);
  if (!v) return Fail(v.error());
  return (*v)->AsInt();
}

// A string set from an array, refusing duplicates and arrays longer than `max_items`.
Result<std::set<std::string, std::less<>>> StringSet(const Json& array, std::string_view path,
                                                     std::size_t max_items) {
  const auto& items = array.AsArray();
  if (items.size() > max_items) {
    return Fail(
        Bad(std::string(path) + " lists more than " + std::to_string(max_items) + " entries"));
  }
  std::set<std::string, std::less<>> out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (!items[i].IsString()) {
      return Fail(Bad(std::string(path) + "[" + std::to_string(i) + "] must be a string"));
    }
    if (!out.insert(items[i].AsString()).second) {
      return Fail(Bad(std::string(path) + " lists " + Quoted(items[i].AsString()) + " twice"));
    }
  }
  return out;
}

Result<std::string> NonEmptyString(const Json& object, std::string_view key,
                                   std::string_view path) {
  auto v = Member(object, key, path, Json::Kind::kString, false);
  if (!v) return Fail(v.error());
  if (*v == nullptr) return std::string();
  if ((*v)->AsString().empty()) {
    return Fail(Bad(std::string(path) + " must not be empty (omit it to match any)"));
  }
  return (*v)->AsString();
}

Result<MaintenanceWindow> ParseWindow(const Json& json) {
  if (Status s = OnlyMembers(json, "maintenance_window", {"start", "end"}); !s) {
    return Fail(s.error());
  }
  MaintenanceWindow w;
  for (auto [key, out] : {std::pair{"start", &w.start_minute}, std::pair{"end", &w.end_minute}}) {
    const std::string path = std::string("maintenance_window.") + key;
    auto v = Member(json, key, path, Json::Kind::kString, true);
    if (!v) return Fail(v.error());
    auto minute = ParseClockTime((*v)->AsString());
    if (!minute) return Fail(std::move(minute).error().WithContext(path));
    *out = *minute;
  }
  return w;
}

}  // namespace

Json ToJson(const Selector& s) {
  Json j = Json::Object{};
  if (!s.devices.empty()) {
    Json::Array devices(s.devices.begin(), s.devices.end());
    j["devices"] = std::move(devices);
  }
  if (!s.tags.empty()) {
    Json::Array tags(s.tags.begin(), s.tags.end());
    j["tags"] = std::move(tags);
  }
  if (!s.hardware_id.empty()) j["hardware_id"] = s.hardware_id;
  if (!s.attributes.empty()) {
    Json::Object attributes;
    for (const auto& [k, v] : s.attributes) attributes.emplace(k, v);
    j["attributes"] = std::move(attributes);
  }
  if (!s.image_version.empty()) j["image_version"] = s.image_version;
  if (!s.group.empty()) j["group"] = s.group;
  return j;
}

Result<Selector> ParseSelector(const Json& json) {
  if (!json.IsObject()) return Fail(Bad("selector must be an object"));
  if (Status s = OnlyMembers(json, "selector",
                             {"devices", "tags", "hardware_id", "attributes", "image_version",
                              "group"});
      !s) {
    return Fail(s.error());
  }
  Selector out;
  auto devices = Member(json, "devices", "selector.devices", Json::Kind::kArray, false);
  if (!devices) return Fail(devices.error());
  if (*devices != nullptr) {
    auto set = StringSet(**devices, "selector.devices", kMaxSelectorDevices);
    if (!set) return Fail(set.error());
    out.devices = std::move(*set);
  }
  auto tags = Member(json, "tags", "selector.tags", Json::Kind::kArray, false);
  if (!tags) return Fail(tags.error());
  if (*tags != nullptr) {
    auto set = StringSet(**tags, "selector.tags", kMaxSelectorTags);
    if (!set) return Fail(set.error());
    out.tags = std::move(*set);
  }
  auto hardware = NonEmptyString(json, "hardware_id", "selector.hardware_id");
  if (!hardware) return Fail(hardware.error());
  out.hardware_id = std::move(*hardware);
  auto version = NonEmptyString(json, "image_version", "selector.image_version");
  if (!version) return Fail(version.error());
  out.image_version = std::move(*version);
  auto group = NonEmptyString(json, "group", "selector.group");
  if (!group) return Fail(group.error());
  out.group = std::move(*group);
  auto attributes = Member(json, "attributes", "selector.attributes", Json::Kind::kObject, false);
  if (!attributes) return Fail(attributes.error());
  if (*attributes != nullptr) {
    if ((*attributes)->AsObject().size() > kMaxSelectorAttributes) {
      return Fail(Bad("selector.attributes has more than " +
                      std::to_string(kMaxSelectorAttributes) + " entries"));
    }
    for (const auto& [k, v] : (*attributes)->AsObject()) {
      if (!v.IsString()) {
        return Fail(Bad("selector.attributes." + k.substr(0, 64) + " must be a string"));
      }
      out.attributes.emplace(k, v.AsString());
    }
  }
  return out;
}

Json ToJson(const std::vector<Phase>& phases) {
  Json::Array out;
  for (const Phase& p : phases) {
    Json j = Json::Object{{"percent", p.percent}, {"wait_seconds", p.wait_seconds}};
    if (p.started) j["started"] = FormatTimestamp(*p.started);
    out.push_back(std::move(j));
  }
  return out;
}

Result<std::vector<Phase>> ParsePhases(const Json& json, bool with_started) {
  if (!json.IsArray()) return Fail(Bad("phases must be an array"));
  const auto& items = json.AsArray();
  if (items.empty() || items.size() > kMaxPhases) {
    return Fail(Bad("phases must list 1 to " + std::to_string(kMaxPhases) + " phases"));
  }
  std::vector<Phase> out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string at = "phases[" + std::to_string(i) + "]";
    if (!items[i].IsObject()) return Fail(Bad(at + " must be an object"));
    Status members = with_started
                         ? OnlyMembers(items[i], at, {"percent", "wait_seconds", "started"})
                         : OnlyMembers(items[i], at, {"percent", "wait_seconds"});
    if (!members) return Fail(members.error());
    Phase p;
    auto percent = Int(items[i], "percent", at + ".percent");
    if (!percent) return Fail(percent.error());
    auto wait = Int(items[i], "wait_seconds", at + ".wait_seconds");
    if (!wait) return Fail(wait.error());
    p.percent = *percent;
    p.wait_seconds = *wait;
    if (with_started) {
      auto started = Member(items[i], "started", at + ".started", Json::Kind::kString, false);
      if (!started) return Fail(started.error());
      if (*started != nullptr) {
        auto t = ParseTimestamp((*started)->AsString());
        if (!t) return Fail(std::move(t).error().WithContext(at + ".started"));
        p.started = *t;
      }
    }
    out.push_back(p);
  }
  return out;
}

Result<DeploymentSpec> ParseDeploymentSpec(const Json& body) {
  if (!body.IsObject()) return Fail(Bad("body must be a JSON object"));
  if (Status s = OnlyMembers(
          body, "deployment",
          {"release", "selector", "phases", "failure_threshold_percent",
           "min_devices_for_threshold", "phase_deadline_seconds", "maintenance_window"});
      !s) {
    return Fail(s.error());
  }
  DeploymentSpec spec;
  auto release = Member(body, "release", "release", Json::Kind::kString, true);
  if (!release) return Fail(release.error());
  spec.release = (*release)->AsString();

  auto selector = Member(body, "selector", "selector", Json::Kind::kObject, true);
  if (!selector) return Fail(selector.error());
  auto parsed_selector = ParseSelector(**selector);
  if (!parsed_selector) return Fail(parsed_selector.error());
  spec.selector = std::move(*parsed_selector);

  auto phases = Member(body, "phases", "phases", Json::Kind::kArray, true);
  if (!phases) return Fail(phases.error());
  auto parsed_phases = ParsePhases(**phases, /*with_started=*/false);
  if (!parsed_phases) return Fail(parsed_phases.error());
  spec.phases = std::move(*parsed_phases);

  for (auto [key, out] : {std::pair{"failure_threshold_percent", &spec.failure_threshold_percent},
                          std::pair{"min_devices_for_threshold", &spec.min_devices_for_threshold},
                          std::pair{"phase_deadline_seconds", &spec.phase_deadline_seconds}}) {
    auto v = Int(body, key, key);
    if (!v) return Fail(v.error());
    *out = *v;
  }

  auto window =
      Member(body, "maintenance_window", "maintenance_window", Json::Kind::kObject, false);
  if (!window) return Fail(window.error());
  if (*window != nullptr) {
    auto w = ParseWindow(**window);
    if (!w) return Fail(w.error());
    spec.maintenance_window = *w;
  }

  if (Status s = ValidateSpec(spec); !s) return Fail(s.error());
  return spec;
}

Result<std::string> ParseReason(const Json& body, bool required) {
  if (!body.IsObject()) return Fail(Bad("body must be a JSON object"));
  if (Status s = OnlyMembers(body, "body", {"reason"}); !s) return Fail(s.error());
  auto reason = Member(body, "reason", "reason", Json::Kind::kString, required);
  if (!reason) return Fail(reason.error());
  if (*reason == nullptr) return std::string();
  const std::string& text = (*reason)->AsString();
  if (required && text.empty()) return Fail(Bad("reason must not be empty"));
  if (text.size() > kMaxReasonBytes) {
    return Fail(Bad("reason is longer than " + std::to_string(kMaxReasonBytes) + " bytes"));
  }
  return text;
}

Json ToJson(const RolloutCounts& counts) {
  Json::Object out;
  for (std::size_t i = 0; i < kRolloutStateCount; ++i) {
    out.emplace(std::string(RolloutStateName(static_cast<RolloutState>(i))), counts.by_state[i]);
  }
  return out;
}

Json ToJson(const DeviceRollout& r) {
  return Json::Object{{"device_id", r.device_id},
                      {"state", std::string(RolloutStateName(r.state))},
                      {"phase", r.phase},
                      {"assigned", FormatTimestamp(r.assigned_at)},
                      {"updated", FormatTimestamp(r.updated_at)},
                      {"deadline", FormatTimestamp(r.deadline)},
                      {"message", r.message}};
}

Json ToJson(const DeploymentView& view) {
  const Deployment& d = view.deployment;
  Json j = Json::Object{
      {"id", d.id},
      {"release", d.release},
      {"release_version", d.release_version},
      {"state", std::string(DeploymentStateName(d.state))},
      {"paused_reason", d.paused_reason},
      {"created", FormatTimestamp(d.created)},
      {"created_by", d.created_by},
      {"updated", FormatTimestamp(d.updated)},
      {"current_phase", static_cast<std::int64_t>(d.current_phase)},
      {"phases", ToJson(d.phases)},
      {"failure_threshold_percent", d.failure_threshold_percent},
      {"min_devices_for_threshold", d.min_devices_for_threshold},
      {"phase_deadline_seconds", d.phase_deadline_seconds},
      {"selector", ToJson(d.selector)},
      {"counts", ToJson(view.counts)},
  };
  if (d.maintenance_window) {
    j["maintenance_window"] =
        Json::Object{{"start", FormatClockTime(d.maintenance_window->start_minute)},
                     {"end", FormatClockTime(d.maintenance_window->end_minute)}};
  }
  if (view.devices) {
    Json::Array devices;
    for (const DeviceRollout& r : *view.devices) devices.push_back(ToJson(r));
    j["devices"] = std::move(devices);
  }
  return j;
}

}  // namespace aloft::server::deployments

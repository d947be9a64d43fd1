#include "cli/aloftctl/commands/deploy_spec.hpp"

#include <charconv>

namespace aloft::cli::aloftctl::commands {
namespace {

using core::codec::Json;

constexpr std::int64_t kMaxDuration = std::int64_t{366} * 24 * 3600;

std::vector<std::string_view> Split(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = text.find(sep, start);
    out.push_back(text.substr(start, end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

std::optional<std::int64_t> ParseNumber(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < 0) {
    return std::nullopt;
  }
  return value;
}

bool ValidClock(std::string_view hhmm) {
  if (hhmm.size() != 5 || hhmm[2] != ':') return false;
  auto h = ParseNumber(hhmm.substr(0, 2));
  auto m = ParseNumber(hhmm.substr(3, 2));
  return h && m && *h < 24 && *m < 60;
}

}  // namespace

Result<std::int64_t> ParseDuration(std::string_view text) {
  const auto bad = [&] {
    return Fail(Errc::kInvalidArgument,
                "'" + std::string(text) + "' is not a duration (like 90s, 10m, 2h, 1d)");
  };
  if (text.empty()) return bad();
  std::int64_t unit = 1;
  switch (text.back()) {
    case 's':
      text.remove_suffix(1);
      break;
    case 'm':
      unit = 60;
      text.remove_suffix(1);
      break;
    case 'h':
      unit = 3600;
      text.remove_suffix(1);
      break;
    case 'd':
      unit = 86400;
      text.remove_suffix(1);
      break;
    default:
      break;
  }
  auto value = ParseNumber(text);
  if (!value || *value > kMaxDuration / unit) return bad();
  return *value * unit;
}

Result<Json> ParsePhases(std::string_view spec, std::int64_t default_wait) {
  Json::Array phases;
  std::int64_t previous = 0;
  const auto parts = Split(spec, ',');
  for (std::size_t i = 0; i < parts.size(); ++i) {
    std::string_view part = parts[i];
    std::optional<std::int64_t> wait;
    if (const std::size_t colon = part.find(':'); colon != std::string_view::npos) {
      auto w = ParseDuration(part.substr(colon + 1));
      if (!w) return Fail(w.error());
      wait = *w;
      part = part.substr(0, colon);
    }
    if (!part.empty() && part.back() == '%') part.remove_suffix(1);
    auto percent = ParseNumber(part);
    if (!percent || *percent < 1 || *percent > 100 || *percent <= previous) {
      return Fail(Errc::kInvalidArgument,
                  "--phases: '" + std::string(parts[i]) +
                      "' must be a percentage of 1..100, larger than the phase before");
    }
    previous = *percent;
    const bool last = i + 1 == parts.size();
    phases.push_back(Json::Object{{"percent", *percent},
                                  {"wait_seconds", wait.value_or(last ? 0 : default_wait)}});
  }
  if (previous != 100) {
    return Fail(Errc::kInvalidArgument,
                "--phases must end at 100% (got " + std::to_string(previous) + "%)");
  }
  return Json(std::move(phases));
}

Result<Json> MakeSelector(const DeploySelector& selector) {
  Json out = Json::Object{};
  const auto strings = [](const std::vector<std::string>& items) {
    Json::Array a;
    for (const auto& s : items) a.emplace_back(s);
    return a;
  };
  if (!selector.devices.empty()) out["devices"] = strings(selector.devices);
  if (!selector.tags.empty()) out["tags"] = strings(selector.tags);
  if (!selector.group.empty()) out["group"] = selector.group;
  if (!selector.hardware_id.empty()) out["hardware_id"] = selector.hardware_id;
  if (!selector.attributes.empty()) {
    Json attributes = Json::Object{};
    for (const auto& kv : selector.attributes) {
      const std::size_t eq = kv.find('=');
      if (eq == 0 || eq == std::string::npos) {
        return Fail(Errc::kInvalidArgument, "--attribute '" + kv + "' must be key=value");
      }
      attributes[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    out["attributes"] = std::move(attributes);
  }
  if (out.AsObject().empty()) {
    return Fail(Errc::kInvalidArgument,
                "choose the devices: --to-device ID, --to-tag TAG, --group NAME, "
                "--to-hardware HW or --attribute key=value");
  }
  if (!selector.image_version.empty()) out["image_version"] = selector.image_version;
  return out;
}

Result<Json> ParseWindow(std::string_view text) {
  const std::size_t dash = text.find('-');
  if (dash == std::string_view::npos || !ValidClock(text.substr(0, dash)) ||
      !ValidClock(text.substr(dash + 1))) {
    return Fail(Errc::kInvalidArgument,
                "--window '" + std::string(text) + "' must be HH:MM-HH:MM (UTC)");
  }
  return Json(Json::Object{{"start", std::string(text.substr(0, dash))},
                           {"end", std::string(text.substr(dash + 1))}});
}

}  // namespace aloft::cli::aloftctl::commands

#include "core/uptane/target_custom.hpp"

namespace aloft::core::uptane {
namespace {

using codec::Json;

constexpr std::size_t kMaxHardwareIds = 256;

Result<PayloadInfo> ParsePayload(const Json& json) {
  if (!json.IsObject()) return Fail(Errc::kInvalidArgument, "'payload' must be an object");
  PayloadInfo p;
  auto format = codec::GetString(json, "format");
  if (!format) return Fail(format.error());
  if (*format != "raw") {
    return Fail(Errc::kUnsupported, "payload format '" + *format + "' is not supported");
  }
  p.format = *format;
  auto compression = codec::GetString(json, "compression");
  if (!compression) return Fail(compression.error());
  if (*compression != "none" && *compression != "zstd") {
    return Fail(Errc::kUnsupported, "payload compression '" + *compression + "' is not supported");
  }
  p.compression = *compression;
  auto length = codec::GetInt(json, "length");
  if (!length) return Fail(length.error());
  if (*length < 0) return Fail(Errc::kInvalidArgument, "payload length must not be negative");
  p.length = *length;
  auto sha = codec::GetString(json, "sha256");
  if (!sha) return Fail(sha.error());
  if (sha->size() != 64) return Fail(Errc::kInvalidArgument, "payload sha256 must be 64 hex digits");
  p.sha256 = *sha;
  return p;
}

}  // namespace

Result<ImageCustom> ParseImageCustom(const Json& custom) {
  if (!custom.IsObject()) return Fail(Errc::kInvalidArgument, "target has no 'custom' object");
  ImageCustom c;
  auto version = codec::GetString(custom, "version");
  if (!version) return Fail(version.error());
  c.version = *version;
  auto ids = codec::GetArray(custom, "hardwareIds");
  if (!ids) return Fail(ids.error());
  if ((*ids)->empty() || (*ids)->size() > kMaxHardwareIds) {
    return Fail(Errc::kInvalidArgument, "'hardwareIds' must list 1 to 256 hardware ids");
  }
  for (const Json& id : **ids) {
    if (!id.IsString() || id.AsString().empty()) {
      return Fail(Errc::kInvalidArgument, "'hardwareIds' must hold non-empty strings");
    }
    c.hardware_ids.push_back(id.AsString());
  }
  if (custom.Find("securityCounter") != nullptr) {
    auto counter = codec::GetInt(custom, "securityCounter");
    if (!counter) return Fail(counter.error());
    if (*counter < 0) return Fail(Errc::kInvalidArgument, "'securityCounter' must not be negative");
    c.security_counter = *counter;
  }
  if (const Json* payload = custom.Find("payload")) {
    auto p = ParsePayload(*payload);
    if (!p) return Fail(std::move(p).error().WithContext("payload"));
    c.payload = std::move(*p);
  }
  return c;
}

Result<DirectorCustom> ParseDirectorCustom(const Json& custom) {
  if (!custom.IsObject()) return Fail(Errc::kInvalidArgument, "target has no 'custom' object");
  DirectorCustom c;
  auto hw = codec::GetString(custom, "hardwareId");
  if (!hw) return Fail(hw.error());
  c.hardware_id = *hw;
  auto device = codec::GetString(custom, "deviceId");
  if (!device) return Fail(device.error());
  c.device_id = *device;
  if (custom.Find("deploymentId") != nullptr) {
    auto deployment = codec::GetString(custom, "deploymentId");
    if (!deployment) return Fail(deployment.error());
    c.deployment_id = *deployment;
  }
  return c;
}

Json ToJson(const ImageCustom& c) {
  Json j = Json::Object{};
  j["version"] = c.version;
  Json::Array ids;
  for (const auto& id : c.hardware_ids) ids.emplace_back(id);
  j["hardwareIds"] = std::move(ids);
  j["securityCounter"] = c.security_counter;
  if (c.payload) {
    j["payload"] = Json::Object{{"format", c.payload->format},
                                {"compression", c.payload->compression},
                                {"length", c.payload->length},
                                {"sha256", c.payload->sha256}};
  }
  return j;
}

Json ToJson(const DirectorCustom& c) {
  Json j = Json::Object{{"hardwareId", c.hardware_id}, {"deviceId", c.device_id}};
  if (!c.deployment_id.empty()) j["deploymentId"] = c.deployment_id;
  return j;
}

}  // namespace aloft::core::uptane

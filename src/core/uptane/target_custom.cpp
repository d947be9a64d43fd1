#include "core/uptane/target_custom.hpp"

#include <algorithm>

#include "core/base/hex.hpp"
#include "core/crypto/hash.hpp"

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
  if (sha->size() != 64)
    return Fail(Errc::kInvalidArgument, "payload sha256 must be 64 hex digits");
  p.sha256 = *sha;
  return p;
}

Result<ChunkInfo> ParseChunks(const Json& json) {
  if (!json.IsObject()) return Fail(Errc::kInvalidArgument, "'chunks' must be an object");
  ChunkInfo c;
  auto size = codec::GetInt(json, "size");
  if (!size) return Fail(size.error());
  if (*size < kMinChunkSize || *size > kMaxChunkSize || (*size & (*size - 1)) != 0) {
    return Fail(Errc::kInvalidArgument, "'size' must be a power of two from 4096 to 2^30");
  }
  c.size = *size;
  auto digests = codec::GetArray(json, "sha256");
  if (!digests) return Fail(digests.error());
  if ((*digests)->empty() || (*digests)->size() > kMaxChunks) {
    return Fail(Errc::kInvalidArgument, "'sha256' must list 1 to 4096 digests");
  }
  c.sha256.reserve((*digests)->size());
  for (const Json& digest : **digests) {
    auto bytes = HexDecode(digest.IsString() ? digest.AsString() : std::string());
    if (!bytes || bytes->size() != 32) {
      return Fail(Errc::kInvalidArgument, "'sha256' must hold 64-hex-digit strings");
    }
    c.sha256.push_back(HexEncode(*bytes));
  }
  return c;
}

char LowerHexDigit(char c) { return c >= 'A' && c <= 'F' ? static_cast<char>(c - 'A' + 'a') : c; }

// A SHA-256 in lowercase hex, or kInvalidArgument naming `key`.
Result<std::string> Sha256Member(const Json& json, std::string_view key) {
  auto value = codec::GetString(json, key);
  if (!value) return Fail(value.error());
  auto bytes = HexDecode(*value);
  if (value->size() != 64 || !bytes) {
    return Fail(Errc::kInvalidArgument, "'" + std::string(key) + "' must be 64 hex digits");
  }
  return HexEncode(*bytes);
}

Result<std::int64_t> LengthMember(const Json& json, std::string_view key) {
  auto value = codec::GetInt(json, key);
  if (!value) return Fail(value.error());
  if (*value < 0) return Fail(Errc::kInvalidArgument, "'" + std::string(key) + "' is negative");
  return *value;
}

// The value of a server-built delta pointer's "builtBy".
constexpr std::string_view kServerBuilt = "server";

// The digests and lengths of a delta binding; `to_target` is left to the caller.
Result<DeltaInfo> ParseDeltaDigests(const Json& json) {
  DeltaInfo d;
  auto from = Sha256Member(json, "fromSha256");
  if (!from) return Fail(from.error());
  d.from_sha256 = std::move(*from);
  auto from_length = LengthMember(json, "fromLength");
  if (!from_length) return Fail(from_length.error());
  d.from_length = *from_length;
  auto to = Sha256Member(json, "toSha256");
  if (!to) return Fail(to.error());
  d.to_sha256 = std::move(*to);
  auto to_length = LengthMember(json, "toLength");
  if (!to_length) return Fail(to_length.error());
  d.to_length = *to_length;
  return d;
}

Result<DeltaInfo> ParseDelta(const Json& json) {
  if (!json.IsObject()) return Fail(Errc::kInvalidArgument, "'delta' must be an object");
  auto d = ParseDeltaDigests(json);
  if (!d) return Fail(d.error());
  auto to_target = codec::GetString(json, "toTarget");
  if (!to_target) return Fail(to_target.error());
  if (to_target->empty()) return Fail(Errc::kInvalidArgument, "'toTarget' is empty");
  d->to_target = std::move(*to_target);
  return d;
}

Result<DeltaRef> ParseDeltaRef(const Json& json) {
  if (!json.IsObject()) return Fail(Errc::kInvalidArgument, "'delta' must be an object");
  DeltaRef ref;
  auto target = codec::GetString(json, "target");
  if (!target) return Fail(target.error());
  if (target->empty()) return Fail(Errc::kInvalidArgument, "'target' is empty");
  ref.target = std::move(*target);
  auto length = codec::GetInt(json, "length");
  if (!length) return Fail(length.error());
  if (*length <= 0) return Fail(Errc::kInvalidArgument, "'length' must be positive");
  ref.file.length = *length;
  auto hashes = codec::GetObject(json, "hashes");
  if (!hashes) return Fail(hashes.error());
  if ((*hashes)->empty() || (*hashes)->size() > 8) {
    return Fail(Errc::kInvalidArgument, "'hashes' must list 1 to 8 digests");
  }
  for (const auto& [alg, digest] : **hashes) {
    if (!digest.IsString() || !HexDecode(digest.AsString())) {
      return Fail(Errc::kInvalidArgument, "hash '" + alg + "' must be hex");
    }
    ref.file.hashes.emplace(alg, digest.AsString());
  }
  if (!ref.file.hashes.contains("sha256")) {
    return Fail(Errc::kInvalidArgument, "'hashes' has no sha256");
  }
  if (json.Find("builtBy") != nullptr) {
    auto by = codec::GetString(json, "builtBy");
    if (!by) return Fail(by.error());
    if (*by != kServerBuilt) {
      return Fail(Errc::kInvalidArgument, "'builtBy' must be \"server\"");
    }
    auto digests = ParseDeltaDigests(json);
    if (!digests) return Fail(digests.error());
    ref.server_built = std::move(*digests);
  }
  return ref;
}

}  // namespace

std::string ImageSha256Hex(const metadata::TargetFile& target, const ImageCustom& custom) {
  std::string hex;
  if (custom.payload) {
    hex = custom.payload->sha256;
  } else if (auto it = target.hashes.find("sha256"); it != target.hashes.end()) {
    hex = it->second;
  }
  std::transform(hex.begin(), hex.end(), hex.begin(), LowerHexDigit);
  return hex;
}

std::int64_t ImageLength(const metadata::TargetFile& target, const ImageCustom& custom) {
  return custom.payload ? custom.payload->length : target.length;
}

std::string DeltaTargetName(std::string_view to_target, std::string_view from_sha256) {
  std::string prefix(from_sha256.substr(0, 16));
  std::transform(prefix.begin(), prefix.end(), prefix.begin(), LowerHexDigit);
  return std::string(to_target) + ".from-" + prefix;
}

std::int64_t ChunkCount(std::int64_t length, std::int64_t size) {
  if (length <= 0 || size <= 0) return 0;
  return (length - 1) / size + 1;
}

namespace {

Json ChunksJson(const ChunkInfo& chunks) {
  Json::Array digests;
  for (const auto& digest : chunks.sha256) digests.emplace_back(digest);
  return Json::Object{{"size", chunks.size}, {"sha256", std::move(digests)}};
}

}  // namespace

std::string ChunkListSha256(const ChunkInfo& chunks) {
  return crypto::Sha256Hex(AsBytes(codec::CanonicalJson(ChunksJson(chunks))));
}

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
  if (const Json* delta = custom.Find("delta")) {
    auto d = ParseDelta(*delta);
    if (!d) return Fail(std::move(d).error().WithContext("delta"));
    if (c.payload) {
      return Fail(Errc::kInvalidArgument, "a target cannot be both a delta and an image payload");
    }
    c.delta = std::move(*d);
  }
  if (const Json* chunks = custom.Find("chunks")) {
    auto parsed = ParseChunks(*chunks);
    if (!parsed) return Fail(std::move(parsed).error().WithContext("chunks"));
    c.chunks = std::move(*parsed);
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
  if (const Json* delta = custom.Find("delta")) {
    auto ref = ParseDeltaRef(*delta);
    if (!ref) return Fail(std::move(ref).error().WithContext("delta"));
    c.delta = std::move(*ref);
  }
  if (custom.Find("chunksSha256") != nullptr) {
    auto chunks = Sha256Member(custom, "chunksSha256");
    if (!chunks) return Fail(std::move(chunks).error());
    c.chunks_sha256 = std::move(*chunks);
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
  if (c.delta) {
    j["delta"] = Json::Object{{"fromSha256", c.delta->from_sha256},
                              {"fromLength", c.delta->from_length},
                              {"toTarget", c.delta->to_target},
                              {"toSha256", c.delta->to_sha256},
                              {"toLength", c.delta->to_length}};
  }
  if (c.chunks) j["chunks"] = ChunksJson(*c.chunks);
  return j;
}

Json ToJson(const DirectorCustom& c) {
  Json j = Json::Object{{"hardwareId", c.hardware_id}, {"deviceId", c.device_id}};
  if (!c.deployment_id.empty()) j["deploymentId"] = c.deployment_id;
  if (c.delta) {
    Json::Object hashes;
    for (const auto& [alg, digest] : c.delta->file.hashes) hashes.emplace(alg, digest);
    Json delta = Json::Object{{"target", c.delta->target},
                              {"length", c.delta->file.length},
                              {"hashes", std::move(hashes)}};
    if (const auto& built = c.delta->server_built) {
      delta["builtBy"] = std::string(kServerBuilt);
      delta["fromSha256"] = built->from_sha256;
      delta["fromLength"] = built->from_length;
      delta["toSha256"] = built->to_sha256;
      delta["toLength"] = built->to_length;
    }
    j["delta"] = std::move(delta);
  }
  if (!c.chunks_sha256.empty()) j["chunksSha256"] = c.chunks_sha256;
  return j;
}

}  // namespace aloft::core::uptane

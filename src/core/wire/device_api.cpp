#include "core/wire/device_api.hpp"

#include <array>

namespace aloft::core::wire {
namespace {

using codec::Json;

Error Bad(std::string message) { return Error(Errc::kInvalidArgument, std::move(message)); }

// A string member with a byte limit; `required` false turns a missing member into "".
Result<std::string> Text(const Json& json, std::string_view field, std::size_t max_bytes,
                         bool required = true) {
  if (!required && json.Find(field) == nullptr) return std::string();
  auto s = codec::GetString(json, field);
  if (!s) return Fail(s.error());
  if (s->size() > max_bytes) {
    return Fail(Bad("field '" + std::string(field) + "' is longer than " +
                    std::to_string(max_bytes) + " bytes"));
  }
  return s;
}

Result<std::string> Id(const Json& json, std::string_view field, bool required = true) {
  auto s = Text(json, field, kMaxIdBytes, required);
  if (!s) return s;
  if ((required || !s->empty()) && !IsValidId(*s)) {
    return Fail(Bad("field '" + std::string(field) +
                    "' must be 1-128 characters of letters, digits and . _ : -"));
  }
  return s;
}

Result<Timestamp> Time(const Json& json, std::string_view field) {
  auto s = codec::GetString(json, field);
  if (!s) return Fail(s.error());
  auto t = aloft::ParseTimestamp(*s);
  if (!t) return Fail(std::move(t).error().WithContext(field));
  return t;
}

Result<std::int64_t> NonNegative(const Json& json, std::string_view field) {
  auto v = codec::GetInt(json, field);
  if (!v) return v;
  if (*v < 0) return Fail(Bad("field '" + std::string(field) + "' must not be negative"));
  return v;
}

bool IsHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Result<const Json*> Object(const Json& json) {
  if (!json.IsObject()) return Fail(Bad("body must be a JSON object"));
  return &json;
}

constexpr std::array<std::string_view, 4> kEnrollmentNames = {"pending", "accepted", "rejected",
                                                              "decommissioned"};
constexpr std::array<std::string_view, 6> kStateNames = {
    "downloading", "installing", "rebooting", "succeeded", "failed", "rolled-back"};

}  // namespace

bool IsValidId(std::string_view id) noexcept {
  if (id.empty() || id.size() > kMaxIdBytes || id.front() == '.') return false;
  for (char c : id) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string_view EnrollmentStatusName(EnrollmentStatus s) noexcept {
  return kEnrollmentNames[static_cast<std::size_t>(s)];
}
Result<EnrollmentStatus> ParseEnrollmentStatus(std::string_view name) {
  for (std::size_t i = 0; i < kEnrollmentNames.size(); ++i) {
    if (kEnrollmentNames[i] == name) return static_cast<EnrollmentStatus>(i);
  }
  return Fail(Bad("unknown enrollment status '" + std::string(name.substr(0, 32)) + "'"));
}

std::string_view UpdateStateName(UpdateState s) noexcept {
  return kStateNames[static_cast<std::size_t>(s)];
}
Result<UpdateState> ParseUpdateState(std::string_view name) {
  for (std::size_t i = 0; i < kStateNames.size(); ++i) {
    if (kStateNames[i] == name) return static_cast<UpdateState>(i);
  }
  return Fail(Bad("unknown update state '" + std::string(name.substr(0, 32)) + "'"));
}

Json AuthStatement(const AuthRequest& r) {
  return Json::Object{{"aud", r.audience},
                      {"deviceId", r.device_id},
                      {"issuedAt", FormatTimestamp(r.issued_at)},
                      {"nonce", r.nonce},
                      {"purpose", std::string(kAuthPurpose)}};
}

// --- ToJson -------------------------------------------------------------------------------

Json ToJson(const EnrollRequest& v) {
  Json j = Json::Object{{"deviceId", v.device_id},
                        {"hardwareId", v.hardware_id},
                        {"publicKey", v.public_key}};
  if (!v.enrollment_token.empty()) j["enrollmentToken"] = v.enrollment_token;
  return j;
}
Json ToJson(const EnrollResponse& v) {
  return Json::Object{{"status", std::string(EnrollmentStatusName(v.status))}};
}
Json ToJson(const AuthRequest& v) {
  Json j = AuthStatement(v);
  j.AsObject().erase("purpose");
  j["signature"] = v.signature;
  return j;
}
Json ToJson(const AuthResponse& v) {
  return Json::Object{{"token", v.token}, {"expires", FormatTimestamp(v.expires)}};
}
Json ToJson(const CheckInResponse& v) {
  Json j = Json::Object{{"updateAvailable", v.update_available},
                        {"directorTargetsVersion", v.director_targets_version}};
  if (!v.deployment_id.empty()) j["deploymentId"] = v.deployment_id;
  return j;
}
Json ToJson(const Inventory& v) {
  Json::Object attrs;
  for (const auto& [k, val] : v.attributes) attrs.emplace(k, val);
  return Json::Object{{"hardwareId", v.hardware_id},     {"imageSha256", v.image_sha256},
                      {"imageVersion", v.image_version}, {"agentVersion", v.agent_version},
                      {"securityCounter", v.security_counter}, {"attributes", std::move(attrs)}};
}
Json ToJson(const Report& v) {
  Json j = Json::Object{{"id", v.id},
                        {"state", std::string(UpdateStateName(v.state))},
                        {"bytesDone", v.bytes_done},
                        {"bytesTotal", v.bytes_total},
                        {"message", v.message},
                        {"logTail", v.log_tail},
                        {"at", FormatTimestamp(v.at)}};
  if (!v.deployment_id.empty()) j["deploymentId"] = v.deployment_id;
  return j;
}
Json ToJson(const ReportBatch& v) {
  Json::Array reports;
  for (const auto& r : v.reports) reports.push_back(ToJson(r));
  return Json::Object{{"reports", std::move(reports)}};
}
Json ToJson(const ReportAck& v) {
  Json::Array ids;
  for (const auto& id : v.accepted_ids) ids.emplace_back(id);
  return Json::Object{{"acceptedIds", std::move(ids)}};
}

// --- Parse --------------------------------------------------------------------------------

Result<EnrollRequest> ParseEnrollRequest(const Json& json) {
  if (auto o = Object(json); !o) return Fail(o.error());
  EnrollRequest r;
  auto device = Id(json, "deviceId");
  if (!device) return Fail(device.error());
  r.device_id = *device;
  auto hw = Id(json, "hardwareId");
  if (!hw) return Fail(hw.error());
  r.hardware_id = *hw;
  auto key = codec::GetMember(json, "publicKey", Json::Kind::kObject);
  if (!key) return Fail(key.error());
  r.public_key = **key;
  auto token = Text(json, "enrollmentToken", kMaxIdBytes * 2, /*required=*/false);
  if (!token) return Fail(token.error());
  r.enrollment_token = *token;
  return r;
}

Result<EnrollResponse> ParseEnrollResponse(const Json& json) {
  if (auto o = Object(json); !o) return Fail(o.error());
  auto status = codec::GetString(json, "status");
  if (!status) return Fail(status.error());
  auto parsed = ParseEnrollmentStatus(*status);
  if (!parsed) return Fail(parsed.error());
  return EnrollResponse{*parsed};
}

Result<AuthRequest> ParseAuthRequest(const Json& json) {
  if (auto o = Object(json); !o) return Fail(o.error());
  AuthRequest r;
  auto device = Id(json, "deviceId");
  if (!device) return Fail(device.error());
  r.device_id = *device;
  auto aud = Text(json, "aud", kMaxTextBytes);
  if (!aud) return Fail(aud.error());
  r.audience = *aud;
  auto at = Time(json, "issuedAt");
  if (!at) return Fail(at.error());
  r.issued_at = *at;
  auto nonce = Text(json, "nonce", 64);
  if (!nonce) return Fail(nonce.error());
  if (nonce->size() != 32 || !IsHex(*nonce)) {
    return Fail(Bad("field 'nonce' must be 32 lower-case hex characters"));
  }
  r.nonce = *nonce;
  auto sig = Text(json, "signature", 2048);
  if (!sig) return Fail(sig.error());
  if (sig->empty() || !IsHex(*sig)) return Fail(Bad("field 'signature' must be lower-case hex"));
  r.signature = *sig;
  return r;
}

Result<AuthResponse> ParseAuthResponse(const Json& json) {
  if (auto o = Object(json); !o) return Fail(o.error());
  auto token = Text(json, "token", kMaxTextBytes);
  if (!token) return Fail(token.error());
  auto expires = Time(json, "expires");
  if (!expires) return Fail(expires.error());
  return AuthResponse{*token, *expires};
}

Result<CheckInResponse> ParseCheckInResponse(const Json& json) {
  if (auto o = Object(json); !o) return Fail(o.error());
  CheckInResponse r;
  auto available = codec::GetBool(json, "updateAvailable");
  if (!available) return Fail(available.error());
  r.update_available = *available;
  auto version = NonNegative(json, "directorTargetsVersion");
  if (!version) return Fail(version.error());
  r.director_targets_version = *version;
  auto deployment = Id(json, "deploymentId", /*required=*/false);
  if (!deployment) return Fail(deployment.error());
  r.deployment_id = *deployment;
  return r;
}

Result<Inventory> ParseInventory(const Json& json) {
  if (auto o = Object(json); !o) return Fail(o.error());
  Inventory v;
  auto hw = Id(json, "hardwareId");
  if (!hw) return Fail(hw.error());
  v.hardware_id = *hw;
  auto sha = Text(json, "imageSha256", 64, /*required=*/false);
  if (!sha) return Fail(sha.error());
  if (!sha->empty() && (sha->size() != 64 || !IsHex(*sha))) {
    return Fail(Bad("field 'imageSha256' must be 64 lower-case hex characters"));
  }
  v.image_sha256 = *sha;
  for (auto [field, out] : {std::pair{"imageVersion", &v.image_version},
                            std::pair{"agentVersion", &v.agent_version}}) {
    auto s = Text(json, field, kMaxIdBytes, /*required=*/false);
    if (!s) return Fail(s.error());
    *out = *s;
  }
  if (json.Find("securityCounter") != nullptr) {
    auto counter = NonNegative(json, "securityCounter");
    if (!counter) return Fail(counter.error());
    v.security_counter = *counter;
  }
  if (json.Find("attributes") != nullptr) {
    auto attrs = codec::GetObject(json, "attributes");
    if (!attrs) return Fail(attrs.error());
    if ((*attrs)->size() > kMaxAttributes) return Fail(Bad("more than 64 attributes"));
    for (const auto& [k, val] : **attrs) {
      if (!IsValidId(k)) return Fail(Bad("attribute name '" + k.substr(0, 32) + "' is invalid"));
      if (!val.IsString() || val.AsString().size() > kMaxTextBytes) {
        return Fail(Bad("attribute '" + k + "' must be a string of at most 4096 bytes"));
      }
      v.attributes.emplace(k, val.AsString());
    }
  }
  return v;
}

Result<Report> ParseReport(const Json& json) {
  if (auto o = Object(json); !o) return Fail(o.error());
  Report r;
  auto id = Id(json, "id");
  if (!id) return Fail(id.error());
  r.id = *id;
  auto deployment = Id(json, "deploymentId", /*required=*/false);
  if (!deployment) return Fail(deployment.error());
  r.deployment_id = *deployment;
  auto state_name = codec::GetString(json, "state");
  if (!state_name) return Fail(state_name.error());
  auto state = ParseUpdateState(*state_name);
  if (!state) return Fail(state.error());
  r.state = *state;
  auto done = NonNegative(json, "bytesDone");
  if (!done) return Fail(done.error());
  auto total = NonNegative(json, "bytesTotal");
  if (!total) return Fail(total.error());
  r.bytes_done = *done;
  r.bytes_total = *total;
  auto message = Text(json, "message", kMaxTextBytes, /*required=*/false);
  if (!message) return Fail(message.error());
  r.message = *message;
  auto log = Text(json, "logTail", kMaxLogTailBytes, /*required=*/false);
  if (!log) return Fail(log.error());
  r.log_tail = *log;
  auto at = Time(json, "at");
  if (!at) return Fail(at.error());
  r.at = *at;
  return r;
}

Result<ReportBatch> ParseReportBatch(const Json& json) {
  if (auto o = Object(json); !o) return Fail(o.error());
  auto reports = codec::GetArray(json, "reports");
  if (!reports) return Fail(reports.error());
  if ((*reports)->size() > kMaxReportsPerBatch) return Fail(Bad("more than 100 reports"));
  ReportBatch batch;
  for (std::size_t i = 0; i < (*reports)->size(); ++i) {
    auto r = ParseReport((**reports)[i]);
    if (!r) return Fail(std::move(r).error().WithContext("report " + std::to_string(i)));
    batch.reports.push_back(std::move(*r));
  }
  return batch;
}

Result<ReportAck> ParseReportAck(const Json& json) {
  if (auto o = Object(json); !o) return Fail(o.error());
  auto ids = codec::GetArray(json, "acceptedIds");
  if (!ids) return Fail(ids.error());
  ReportAck ack;
  for (const Json& id : **ids) {
    if (!id.IsString() || !IsValidId(id.AsString())) return Fail(Bad("invalid id in acceptedIds"));
    ack.accepted_ids.push_back(id.AsString());
  }
  return ack;
}

}  // namespace aloft::core::wire

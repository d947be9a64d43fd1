#pragma once

// The device ↔ server contract (API v1): request and response bodies of the device API, and
// their JSON mapping. Agent and server both compile against this file, so they cannot drift
// apart, and neither includes the other. Every Parse* bounds its strings, so a hostile body
// is rejected before any business logic sees it.
//
//   POST /api/v1/device/enroll      EnrollRequest          → EnrollResponse
//   POST /api/v1/device/auth        AuthRequest            → AuthResponse
//   GET  /api/v1/device/updates     (bearer token)         → CheckInResponse
//   PUT  /api/v1/device/inventory   Inventory              → 204
//   POST /api/v1/device/reports     ReportBatch            → ReportAck
//   GET  /api/v1/director/<file>    director metadata for the authenticated device (TUF paths)
//   GET  /api/v1/image/<file>       image repository metadata (TUF paths)
//   GET  /api/v1/targets/<dir>/<sha256>.<name>   artifacts, content-addressed, Range-capable

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/base/result.hpp"
#include "core/base/time.hpp"
#include "core/codec/json.hpp"

namespace aloft::core::wire {

inline constexpr std::string_view kApiPrefix = "/api/v1";
// What a device signs to prove it holds its key; bound to the server (audience) and to
// one moment (issued_at) with a random nonce, so a signature cannot be replayed elsewhere.
inline constexpr std::string_view kAuthPurpose = "aloft-device-auth-v1";

// Limits on identifiers and free text, applied when parsing.
inline constexpr std::size_t kMaxIdBytes = 128;
inline constexpr std::size_t kMaxTextBytes = 4096;
inline constexpr std::size_t kMaxLogTailBytes = 16 * 1024;
inline constexpr std::size_t kMaxAttributes = 64;
inline constexpr std::size_t kMaxReportsPerBatch = 100;

// Device and hardware ids: 1–128 characters of [A-Za-z0-9._:-], not starting with '.'.
bool IsValidId(std::string_view id) noexcept;

struct EnrollRequest {
  std::string device_id;
  std::string hardware_id;
  codec::Json public_key;        // TUF key JSON {"keytype","scheme","keyval":{"public"}}
  std::string enrollment_token;  // empty: the operator must have preauthorized the key
};

enum class EnrollmentStatus : std::uint8_t { kPending, kAccepted, kRejected, kDecommissioned };
std::string_view EnrollmentStatusName(EnrollmentStatus s) noexcept;
Result<EnrollmentStatus> ParseEnrollmentStatus(std::string_view name);

struct EnrollResponse {
  EnrollmentStatus status = EnrollmentStatus::kPending;
};

// The statement a device signs (canonical JSON of AuthStatement()).
struct AuthRequest {
  std::string device_id;
  std::string audience;  // the server's origin as the device knows it, e.g. "https://ota.example"
  Timestamp issued_at{};
  std::string nonce;      // 32 hex characters from the device's CSPRNG
  std::string signature;  // hex, by the device key, over CanonicalJson(AuthStatement(*this))
};
codec::Json AuthStatement(const AuthRequest& request);

struct AuthResponse {
  std::string token;
  Timestamp expires{};
};

struct CheckInResponse {
  bool update_available = false;
  std::int64_t director_targets_version = 0;  // refresh the Director when this moved
  std::string deployment_id;
};

struct Inventory {
  std::string hardware_id;
  std::string image_sha256;
  std::string image_version;
  std::string agent_version;
  std::int64_t security_counter = 0;
  std::map<std::string, std::string> attributes;
};

// Where an update stands on a device. The server's per-device deployment status follows it.
enum class UpdateState : std::uint8_t {
  kDownloading, kInstalling, kRebooting, kSucceeded, kFailed, kRolledBack,
};
std::string_view UpdateStateName(UpdateState s) noexcept;
Result<UpdateState> ParseUpdateState(std::string_view name);

struct Report {
  std::string id;  // unique per report (idempotency): a resent report is accepted once
  std::string deployment_id;
  UpdateState state = UpdateState::kDownloading;
  std::int64_t bytes_done = 0;
  std::int64_t bytes_total = 0;
  std::string message;
  std::string log_tail;
  Timestamp at{};
};

struct ReportBatch {
  std::vector<Report> reports;  // in the order they happened
};

struct ReportAck {
  std::vector<std::string> accepted_ids;  // including ones the server had already seen
};

codec::Json ToJson(const EnrollRequest& v);
codec::Json ToJson(const EnrollResponse& v);
codec::Json ToJson(const AuthRequest& v);
codec::Json ToJson(const AuthResponse& v);
codec::Json ToJson(const CheckInResponse& v);
codec::Json ToJson(const Inventory& v);
codec::Json ToJson(const Report& v);
codec::Json ToJson(const ReportBatch& v);
codec::Json ToJson(const ReportAck& v);

Result<EnrollRequest> ParseEnrollRequest(const codec::Json& json);
Result<EnrollResponse> ParseEnrollResponse(const codec::Json& json);
Result<AuthRequest> ParseAuthRequest(const codec::Json& json);
Result<AuthResponse> ParseAuthResponse(const codec::Json& json);
Result<CheckInResponse> ParseCheckInResponse(const codec::Json& json);
Result<Inventory> ParseInventory(const codec::Json& json);
Result<Report> ParseReport(const codec::Json& json);
Result<ReportBatch> ParseReportBatch(const codec::Json& json);
Result<ReportAck> ParseReportAck(const codec::Json& json);

}  // namespace aloft::core::wire

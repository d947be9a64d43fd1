#pragma once

// The agent's side of the device API (core/wire/device_api.hpp): enrollment, authentication
// with a cached bearer token, and authenticated calls.
//
// How HTTP answers become errors (the same for every call, so the daemon decides by code):
//   kInvalidArgument     403 device_not_accepted, or enrollment answered rejected: the device
//                        is pending, rejected or decommissioned. Retrying soon will not help;
//                        wait for the operator (pending) or stop (decommissioned). No other
//                        answer maps to kInvalidArgument.
//   kVerificationFailed  401 from /auth: the server does not know this key, the signature did
//                        not verify, or the clocks disagree by more than the allowed skew
//   kUnavailable         connection trouble, 5xx, 408, 429 (message carries Retry-After),
//                        an unexpected 3xx: retry with back-off
//   kTimeout, kTooLarge  from the transport (JsonClient)
//   kNotFound            404: the server does not offer the route (wrong server_url?)
//   kUnsupported         any other 4xx: the server refused the request's shape (version skew)
//
// Thread-safety: none; these objects share one JsonClient and are used from one thread.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "agent/config/config.hpp"
#include "agent/identity/device_identity.hpp"
#include "core/base/result.hpp"
#include "core/base/time.hpp"
#include "core/codec/json.hpp"
#include "core/wire/device_api.hpp"
#include "platform/http/json_client.hpp"

namespace aloft::agent::identity {

// The error for a non-2xx answer, per the table above. `what` names the call ("POST /x").
Error AnswerError(const platform::http::JsonResponse& answer, std::string_view what);

// The token to present at enrollment: config.enrollment_token, or the trimmed first line of
// config.enrollment_token_file (kNotFound if that file is missing), or empty when neither is
// set (the operator must then have preauthorized the device's key).
Result<std::string> ReadEnrollmentToken(const config::AgentConfig& config);

// Asks the server to let this device in (POST /api/v1/device/enroll). Idempotent: a device
// calls it at every start until it is accepted.
class Enroller {
 public:
  // All references must outlive the Enroller. `server_url` has no trailing slash.
  Enroller(platform::http::JsonClient& client, const DeviceIdentity& identity,
           std::string server_url, std::string enrollment_token)
      : client_(client),
        identity_(identity),
        server_url_(std::move(server_url)),
        token_(std::move(enrollment_token)) {}

  // kAccepted (200) or kPending (202); a rejected or decommissioned device (403) gets
  // kInvalidArgument naming its status. Other errors per the table above.
  Result<core::wire::EnrollmentStatus> Enroll();

 private:
  platform::http::JsonClient& client_;
  const DeviceIdentity& identity_;
  const std::string server_url_;
  const std::string token_;
};

// A bearer token for the device API, obtained by signing a fresh AuthStatement (audience = the
// server's origin, issued_at = clock.Now(), a 16-byte random nonce) and POSTing it to
// /api/v1/device/auth. The token is cached and renewed when less than kRenewBefore of its
// life is left, or after Invalidate() (call it when the server answers 401).
class TokenSource {
 public:
  static constexpr std::chrono::seconds kRenewBefore{60};

  // `server_url` must be a valid URL (AgentConfig guarantees it); its origin is the audience.
  static Result<TokenSource> Create(platform::http::JsonClient& client,
                                    const DeviceIdentity& identity, std::string server_url,
                                    const Clock& clock);

  // A token with at least kRenewBefore left (by the device clock), fetching a new one if
  // needed. Errors per the table above; a 403 means the device is not (or no longer) accepted.
  Result<std::string> Token();
  // Forgets the cached token; the next Token() authenticates again.
  void Invalidate() noexcept { token_.reset(); }
  // How many times this source authenticated (for tests and metrics).
  int authentications() const noexcept { return authentications_; }

 private:
  TokenSource(platform::http::JsonClient& client, const DeviceIdentity& identity,
              std::string server_url, std::string audience, const Clock& clock)
      : client_(&client),
        identity_(&identity),
        server_url_(std::move(server_url)),
        audience_(std::move(audience)),
        clock_(&clock) {}

  platform::http::JsonClient* client_;
  const DeviceIdentity* identity_;
  std::string server_url_;
  std::string audience_;
  const Clock* clock_;
  std::optional<core::wire::AuthResponse> token_;
  int authentications_ = 0;
};

// Authenticated calls to the device API. A 401 (expired or revoked token, server restarted
// with a new signing key) is answered by authenticating again and retrying the call once.
class DeviceApiClient {
 public:
  DeviceApiClient(platform::http::JsonClient& client, TokenSource& tokens, std::string server_url)
      : client_(client), tokens_(tokens), server_url_(std::move(server_url)) {}

  // `path` starts with "/api/v1/". Returns the 2xx answer; errors per the table above.
  Result<platform::http::JsonResponse> Call(platform::http::HttpMethod method,
                                            std::string_view path,
                                            const std::optional<core::codec::Json>& body);

  // GET /api/v1/device/updates: whether the server has (or just assigned through the
  // Director) an update for this device. kUnavailable for an answer that does not parse.
  Result<core::wire::CheckInResponse> CheckIn();
  // PUT /api/v1/device/inventory.
  Status PutInventory(const core::wire::Inventory& inventory);
  // POST /api/v1/device/reports; the server's acknowledgement.
  Result<core::wire::ReportAck> PostReports(const core::wire::ReportBatch& batch);

 private:
  platform::http::JsonClient& client_;
  TokenSource& tokens_;
  const std::string server_url_;
};

}  // namespace aloft::agent::identity

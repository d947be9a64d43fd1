#include "agent/identity/device_api_client.hpp"

#include <array>
#include <cstdint>
#include <utility>

#include "core/base/hex.hpp"
#include "core/crypto/hash.hpp"
#include "platform/posix/files.hpp"

namespace aloft::agent::identity {
namespace {

using platform::http::HttpMethod;
using platform::http::JsonResponse;
namespace wire = core::wire;

constexpr std::size_t kMaxTokenFileBytes = 4096;

std::string What(HttpMethod method, std::string_view path) {
  return std::string(HttpMethodName(method)) + " " + std::string(path);
}

bool IsNotAccepted(const JsonResponse& answer) {
  if (answer.status != 403) return false;
  const core::codec::Json* error = answer.body.Find("error");
  const core::codec::Json* code = error != nullptr ? error->Find("code") : nullptr;
  return code != nullptr && code->IsString() && code->AsString() == "device_not_accepted";
}

}  // namespace

Error AnswerError(const JsonResponse& answer, std::string_view what) {
  std::string message = std::string(what) + ": " + answer.ErrorText();
  const long s = answer.status;
  if (IsNotAccepted(answer)) {
    return Error(Errc::kInvalidArgument, message + " (the device is not accepted by the server)");
  }
  if (s == 429) {
    if (auto after = answer.RetryAfter()) {
      message += " (retry after " + std::to_string(after->count()) + " s)";
    }
    return Error(Errc::kUnavailable, std::move(message));
  }
  if (s == 404) return Error(Errc::kNotFound, std::move(message));
  if (s == 408 || s < 400 || s >= 500) return Error(Errc::kUnavailable, std::move(message));
  return Error(Errc::kUnsupported, std::move(message));
}

Result<std::string> ReadEnrollmentToken(const config::AgentConfig& config) {
  if (!config.enrollment_token_file) return config.enrollment_token;
  auto bytes = platform::posix::ReadFile(*config.enrollment_token_file, kMaxTokenFileBytes);
  if (!bytes) return Fail(std::move(bytes).error().WithContext("enrollment token"));
  std::string_view text = AsChars(*bytes);
  text = text.substr(0, text.find('\n'));
  while (!text.empty() && (text.back() == '\r' || text.back() == ' ')) text.remove_suffix(1);
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  return std::string(text);
}

Result<wire::EnrollmentStatus> Enroller::Enroll() {
  constexpr std::string_view kPath = "/api/v1/device/enroll";
  const std::string what = What(HttpMethod::kPost, kPath);
  wire::EnrollRequest request{identity_.device_id(), identity_.hardware_id(),
                              identity_.key().Public().ToTufJson(), token_};
  auto answer = client_.Request(HttpMethod::kPost, server_url_ + std::string(kPath),
                                wire::ToJson(request), "");
  if (!answer) return Fail(std::move(answer).error());
  if (answer->status == 200 || answer->status == 202 || answer->status == 403) {
    auto parsed = wire::ParseEnrollResponse(answer->body);
    if (answer->status == 403) {
      const std::string status =
          parsed ? std::string(wire::EnrollmentStatusName(parsed->status)) : "refused";
      return Fail(Errc::kInvalidArgument, what + ": HTTP 403: enrollment of device '" +
                                              identity_.device_id() + "' is " + status);
    }
    if (!parsed) {
      return Fail(Errc::kUnavailable, what + ": unreadable answer: " + parsed.error().message());
    }
    return parsed->status;
  }
  return Fail(AnswerError(*answer, what));
}

Result<TokenSource> TokenSource::Create(platform::http::JsonClient& client,
                                        const DeviceIdentity& identity, std::string server_url,
                                        const Clock& clock) {
  auto origin = platform::http::UrlOrigin(server_url);
  if (!origin) return Fail(std::move(origin).error().WithContext("token source"));
  return TokenSource(client, identity, std::move(server_url), std::move(*origin), clock);
}

Result<std::string> TokenSource::Token() {
  const Timestamp now = std::chrono::floor<std::chrono::seconds>(clock_->Now());
  if (token_ && token_->expires - now > kRenewBefore) return token_->token;
  token_.reset();

  constexpr std::string_view kPath = "/api/v1/device/auth";
  const std::string what = What(HttpMethod::kPost, kPath);
  std::array<std::uint8_t, 16> nonce{};
  if (Status random = core::crypto::RandomBytes(nonce); !random) {
    return Fail(std::move(random).error().WithContext(what));
  }
  wire::AuthRequest request{identity_->device_id(), audience_, now, HexEncode(nonce), ""};
  auto signature =
      identity_->key().Sign(AsBytes(core::codec::CanonicalJson(wire::AuthStatement(request))));
  if (!signature) return Fail(std::move(signature).error().WithContext(what));
  request.signature = HexEncode(*signature);

  auto answer = client_->Request(HttpMethod::kPost, server_url_ + std::string(kPath),
                                 wire::ToJson(request), "");
  if (!answer) return Fail(std::move(answer).error());
  ++authentications_;
  if (answer->status == 401) {
    return Fail(Errc::kVerificationFailed,
                what + ": " + answer->ErrorText() +
                    " (key not enrolled for this device, or the clocks disagree)");
  }
  if (answer->status != 200) return Fail(AnswerError(*answer, what));
  auto parsed = wire::ParseAuthResponse(answer->body);
  if (!parsed || parsed->token.empty()) {
    return Fail(Errc::kUnavailable,
                what + ": unreadable answer" + (parsed ? "" : ": " + parsed.error().message()));
  }
  token_ = std::move(*parsed);
  return token_->token;
}

Result<JsonResponse> DeviceApiClient::Call(HttpMethod method, std::string_view path,
                                           const std::optional<core::codec::Json>& body) {
  const std::string what = What(method, path);
  const std::string url = server_url_ + std::string(path);
  // A 401 means the token is no longer good (expired early by the server's clock, signing
  // key rotated by a restart): authenticate once more and retry, but only once.
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto token = tokens_.Token();
    if (!token) return Fail(std::move(token).error());
    auto answer = client_.Request(method, url, body, *token);
    if (!answer) return Fail(std::move(answer).error());
    if (answer->ok()) return answer;
    if (answer->status == 401 && attempt == 0) {
      tokens_.Invalidate();
      continue;
    }
    if (answer->status == 401) {
      return Fail(Errc::kVerificationFailed,
                  what + ": " + answer->ErrorText() + " even with a fresh token");
    }
    return Fail(AnswerError(*answer, what));
  }
  return Fail(Errc::kInternal, what + ": unreachable");
}

Result<wire::CheckInResponse> DeviceApiClient::CheckIn() {
  constexpr std::string_view kPath = "/api/v1/device/updates";
  auto answer = Call(HttpMethod::kGet, kPath, std::nullopt);
  if (!answer) return Fail(std::move(answer).error());
  auto parsed = wire::ParseCheckInResponse(answer->body);
  if (!parsed) {
    return Fail(Errc::kUnavailable,
                "GET " + std::string(kPath) + ": unreadable answer: " + parsed.error().message());
  }
  return parsed;
}

Status DeviceApiClient::PutInventory(const wire::Inventory& inventory) {
  auto answer = Call(HttpMethod::kPut, "/api/v1/device/inventory", wire::ToJson(inventory));
  if (!answer) return Fail(std::move(answer).error());
  return Ok();
}

Result<wire::ReportAck> DeviceApiClient::PostReports(const wire::ReportBatch& batch) {
  auto answer = Call(HttpMethod::kPost, "/api/v1/device/reports", wire::ToJson(batch));
  if (!answer) return Fail(std::move(answer).error());
  auto ack = wire::ParseReportAck(answer->body);
  if (!ack) {
    return Fail(Errc::kUnavailable, "POST /api/v1/device/reports: unreadable acknowledgement: " +
                                        ack.error().message());
  }
  return ack;
}

}  // namespace aloft::agent::identity

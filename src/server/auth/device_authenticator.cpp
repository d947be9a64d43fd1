#include "server/auth/device_authenticator.hpp"

#include "core/base/hex.hpp"
#include "core/codec/json.hpp"

namespace aloft::server::auth {
namespace {
Error Refused() { return Error(Errc::kVerificationFailed, "device authentication failed"); }
}  // namespace

void DeviceAuthenticator::ForgetOldNonces(Timestamp now) {
  for (auto it = seen_nonces_.begin(); it != seen_nonces_.end();) {
    it = it->second <= now ? seen_nonces_.erase(it) : std::next(it);
  }
}

Result<DeviceRecord> DeviceAuthenticator::Authenticate(const core::wire::AuthRequest& request) {
  Timestamp now = std::chrono::floor<std::chrono::seconds>(clock_.Now());
  if (request.audience != options_.audience) return Fail(Refused());
  auto skew = request.issued_at > now ? request.issued_at - now : now - request.issued_at;
  if (skew > options_.max_clock_skew) return Fail(Refused());

  auto device = directory_.FindDevice(request.device_id);
  if (!device) {
    if (device.error().code() == Errc::kNotFound) return Fail(Refused());
    return Fail(device.error());
  }
  auto signature = HexDecode(request.signature);
  if (!signature) return Fail(Refused());
  std::string statement = core::codec::CanonicalJson(core::wire::AuthStatement(request));
  if (!device->key.Verify(AsBytes(statement), *signature)) return Fail(Refused());

  {
    // A nonce is remembered until its statement could no longer pass the time check.
    std::lock_guard lock(mutex_);
    std::string key = request.device_id + "/" + request.nonce;
    if (seen_nonces_.contains(key)) {
      return Fail(Errc::kRollback, "this authentication request was already used");
    }
    if (seen_nonces_.size() >= options_.max_remembered_nonces) ForgetOldNonces(now);
    if (seen_nonces_.size() >= options_.max_remembered_nonces) {
      return Fail(Errc::kUnavailable, "too many authentications in progress; retry shortly");
    }
    seen_nonces_.emplace(std::move(key), request.issued_at + options_.max_clock_skew);
  }

  if (device->status != core::wire::EnrollmentStatus::kAccepted) {
    return Fail(Errc::kInvalidArgument,
                "device is " + std::string(core::wire::EnrollmentStatusName(device->status)) +
                    ", not accepted");
  }
  return device;
}

}  // namespace aloft::server::auth

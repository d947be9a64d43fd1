#include "server/devices/enrollment_service.hpp"

#include "core/base/hex.hpp"
#include "core/crypto/hash.hpp"
#include "core/crypto/keys.hpp"

namespace aloft::server::devices {
namespace {

using core::wire::EnrollmentStatus;

Timestamp Now(const Clock& clock) { return std::chrono::floor<std::chrono::seconds>(clock.Now()); }

Result<std::string> RandomHex(std::size_t bytes) {
  Bytes raw(bytes);
  if (Status s = core::crypto::RandomBytes(raw); !s) return Fail(s.error());
  return HexEncode(raw);
}

}  // namespace

Result<core::wire::EnrollResponse> EnrollmentService::Enroll(
    const core::wire::EnrollRequest& request) {
  auto key = core::crypto::PublicKey::FromTufJson(request.public_key);
  if (!key) {
    return Fail(Errc::kInvalidArgument, "public key: " + key.error().message());
  }
  // The server computes the key ID; what the device claims about its key is not trusted.
  std::string key_id = key->ComputeKeyId();

  if (auto existing = devices_.GetDevice(request.device_id); existing) {
    if (existing->key_id != key_id) {
      return Fail(Errc::kAlreadyExists, "device id is enrolled with another key");
    }
    return core::wire::EnrollResponse{existing->status};
  } else if (existing.error().code() != Errc::kNotFound) {
    return Fail(existing.error());
  }

  store::DeviceRow row;
  row.id = request.device_id;
  row.hardware_id = request.hardware_id;
  row.public_key = key->ToTufJson();
  row.key_id = key_id;
  row.created_at = row.updated_at = Now(clock_);

  auto preauthorized = enrollment_.FindPreauthorized(key_id);
  if (preauthorized) {
    if (preauthorized->device_id != request.device_id ||
        preauthorized->hardware_id != request.hardware_id) {
      return Fail(Errc::kVerificationFailed,
                  "this key was preauthorized for another device id or hardware");
    }
    row.status = EnrollmentStatus::kAccepted;
  } else if (preauthorized.error().code() != Errc::kNotFound) {
    return Fail(preauthorized.error());
  } else if (!request.enrollment_token.empty()) {
    std::string hash = core::crypto::Sha256Hex(AsBytes(request.enrollment_token));
    if (Status s = enrollment_.ConsumeToken(hash, Now(clock_)); !s) {
      if (s.error().code() == Errc::kNotFound) {
        return Fail(Errc::kVerificationFailed, "unknown enrollment token");
      }
      return Fail(s.error());
    }
    row.status = EnrollmentStatus::kPending;
  } else {
    return Fail(Errc::kVerificationFailed,
                "this key is not preauthorized; enroll with a fleet enrollment token");
  }
  if (Status s = devices_.InsertDevice(row); !s) return Fail(s.error());
  return core::wire::EnrollResponse{row.status};
}

Status EnrollmentService::Transition(std::string_view device_id, EnrollmentStatus to) {
  auto device = devices_.GetDevice(device_id);
  if (!device) return Fail(device.error());
  if (device->status == EnrollmentStatus::kDecommissioned) {
    return Fail(Errc::kInvalidArgument, "device is decommissioned; enroll it again as new");
  }
  if (to == EnrollmentStatus::kRejected && device->status != EnrollmentStatus::kPending) {
    return Fail(Errc::kInvalidArgument, "only a pending device can be rejected");
  }
  return devices_.SetDeviceStatus(device_id, to, Now(clock_));
}

Status EnrollmentService::Accept(std::string_view id) {
  return Transition(id, EnrollmentStatus::kAccepted);
}
Status EnrollmentService::Reject(std::string_view id) {
  return Transition(id, EnrollmentStatus::kRejected);
}
Status EnrollmentService::Decommission(std::string_view id) {
  return Transition(id, EnrollmentStatus::kDecommissioned);
}

Status EnrollmentService::PreauthorizeKey(std::string_view device_id,
                                          std::string_view hardware_id,
                                          const core::codec::Json& public_key) {
  if (!core::wire::IsValidId(device_id) || !core::wire::IsValidId(hardware_id)) {
    return Fail(Errc::kInvalidArgument, "device and hardware ids must be plain identifiers");
  }
  auto key = core::crypto::PublicKey::FromTufJson(public_key);
  if (!key) return Fail(Errc::kInvalidArgument, "public key: " + key.error().message());
  return enrollment_.Preauthorize(
      {key->ComputeKeyId(), std::string(device_id), std::string(hardware_id), Now(clock_)});
}

Result<EnrollmentService::NewToken> EnrollmentService::CreateEnrollmentToken(
    std::chrono::seconds validity, std::int64_t uses) {
  if (validity.count() <= 0 || uses <= 0) {
    return Fail(Errc::kInvalidArgument, "a token needs a positive validity and number of uses");
  }
  auto id = RandomHex(8);
  auto secret = RandomHex(32);
  if (!id || !secret) return Fail(Errc::kInternal, "no randomness for a token");
  NewToken token{"et-" + *id, "aloft-et-" + *secret, Now(clock_) + validity};
  if (Status s = enrollment_.InsertToken({token.id, core::crypto::Sha256Hex(AsBytes(token.secret)),
                                          token.expires_at, uses});
      !s) {
    return Fail(s.error());
  }
  return token;
}

Result<auth::DeviceRecord> StoreDeviceDirectory::FindDevice(std::string_view device_id) {
  auto row = devices_.GetDevice(device_id);
  if (!row) return Fail(row.error());
  auto key = core::crypto::PublicKey::FromTufJson(row->public_key);
  if (!key) return Fail(Errc::kCorrupt, "stored device key is unreadable");
  return auth::DeviceRecord{row->id, row->hardware_id, row->status, std::move(*key)};
}

}  // namespace aloft::server::devices

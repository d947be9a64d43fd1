#pragma once

// How devices join the fleet and how operators decide about them. A device makes its own key
// pair; it joins either with a key an operator preauthorized (accepted at once) or with a
// fleet enrollment token (pending until an operator accepts or rejects it). Decommissioning
// is final: the device is refused at its next request.

#include <chrono>
#include <string>

#include "core/base/time.hpp"
#include "core/wire/device_api.hpp"
#include "server/auth/device_authenticator.hpp"
#include "server/store/device_store.hpp"

namespace aloft::server::devices {

class EnrollmentService {
 public:
  // The stores and the clock must outlive the service.
  EnrollmentService(store::DeviceStore& devices, store::EnrollmentStore& enrollment,
                    const Clock& clock)
      : devices_(devices), enrollment_(enrollment), clock_(clock) {}

  // A device asks to join. Idempotent for the same id and key (a device retrying after a lost
  // answer learns its current status). Errors:
  //   kInvalidArgument     malformed or unsupported public key
  //   kAlreadyExists       the id is enrolled with another key, or the key with another id
  //   kVerificationFailed  neither a preauthorized key nor a valid enrollment token
  //   kExpired             the enrollment token expired or is used up
  Result<core::wire::EnrollResponse> Enroll(const core::wire::EnrollRequest& request);

  // Operator decisions. kNotFound for unknown devices; kInvalidArgument for a transition
  // that is not allowed (anything out of decommissioned; accepting a decommissioned device).
  Status Accept(std::string_view device_id);
  Status Reject(std::string_view device_id);
  Status Decommission(std::string_view device_id);

  // Lets the device whose key this is join as `device_id` without waiting for a decision.
  Status PreauthorizeKey(std::string_view device_id, std::string_view hardware_id,
                         const core::codec::Json& public_key);

  // A new fleet token; the secret is returned once and only its hash is stored.
  struct NewToken {
    std::string id;
    std::string secret;
    Timestamp expires_at{};
  };
  Result<NewToken> CreateEnrollmentToken(std::chrono::seconds validity, std::int64_t uses);

 private:
  Status Transition(std::string_view device_id, core::wire::EnrollmentStatus to);

  store::DeviceStore& devices_;
  store::EnrollmentStore& enrollment_;
  const Clock& clock_;
};

// Lets the authenticator look devices up in the device store.
class StoreDeviceDirectory final : public auth::DeviceDirectory {
 public:
  explicit StoreDeviceDirectory(store::DeviceStore& devices) : devices_(devices) {}
  Result<auth::DeviceRecord> FindDevice(std::string_view device_id) override;

 private:
  store::DeviceStore& devices_;
};

}  // namespace aloft::server::devices

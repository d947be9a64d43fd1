#pragma once

// Proof of possession for devices: a device signs a short statement (core/wire AuthStatement:
// purpose, audience, device id, time, nonce) with the key it made on first start; aloftd
// checks the signature against the key it enrolled, the audience, the time window and that
// the nonce was not used before, and only then issues a token.

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "core/base/time.hpp"
#include "core/crypto/keys.hpp"
#include "core/wire/device_api.hpp"

namespace aloft::server::auth {

struct DeviceRecord {
  std::string device_id;
  std::string hardware_id;
  core::wire::EnrollmentStatus status = core::wire::EnrollmentStatus::kPending;
  core::crypto::PublicKey key;
};

// Where enrolled devices are looked up (the device store implements it).
class DeviceDirectory {
 public:
  virtual ~DeviceDirectory() = default;
  // kNotFound when no device has that id.
  virtual Result<DeviceRecord> FindDevice(std::string_view device_id) = 0;
};

class DeviceAuthenticator {
 public:
  struct Options {
    std::string audience;                           // this server's origin, as devices see it
    std::chrono::seconds max_clock_skew{300};       // |issued_at - now| allowed
    std::size_t max_remembered_nonces = 1'000'000;  // replay cache bound
  };

  // `directory` and `clock` must outlive the authenticator. Thread-safe.
  DeviceAuthenticator(DeviceDirectory& directory, const Clock& clock, Options options)
      : directory_(directory), clock_(clock), options_(std::move(options)) {}

  // Errors:
  //   kVerificationFailed  unknown device, wrong key, bad signature, wrong audience, or a
  //                        statement outside the time window: one message for all, so a
  //                        caller cannot probe which devices exist
  //   kRollback            the nonce was used before (a replay)
  //   kUnavailable         the replay cache is full (retry shortly)
  //   kInvalidArgument     the device is known and proved its key but is not accepted
  //                        (pending, rejected or decommissioned); the message says which
  Result<DeviceRecord> Authenticate(const core::wire::AuthRequest& request);

 private:
  void ForgetOldNonces(Timestamp now);

  DeviceDirectory& directory_;
  const Clock& clock_;
  Options options_;
  std::mutex mutex_;
  std::map<std::string, Timestamp, std::less<>> seen_nonces_;  // device/nonce → when to forget
};

}  // namespace aloft::server::auth

#pragma once

// Who this device is: its id, its hardware id and its private key. The key is made on the
// first start and kept in the agent's data directory; it never leaves the device and is never
// logged (this class has no way to print it).

#include <string>

#include "agent/config/config.hpp"
#include "core/base/result.hpp"
#include "core/crypto/keys.hpp"

namespace aloft::agent::identity {

class DeviceIdentity {
 public:
  // Makes sure config.data_dir exists with mode 0700, then loads config.key_file, or — when
  // it does not exist — generates an ed25519 key and saves it there with mode 0600 (atomic, so
  // a power cut leaves either no key or a whole one). Errors:
  //   kInvalidArgument  the key file is readable by group or others, or holds no usable key
  //   kIo / kNoSpace    the directory or file could not be created or read
  // A key that exists is never replaced: a corrupt key file is an error, not a new identity.
  static Result<DeviceIdentity> LoadOrCreate(const config::AgentConfig& config);

  // For tests and tools that already hold a key.
  DeviceIdentity(std::string device_id, std::string hardware_id, core::crypto::PrivateKey key)
      : device_id_(std::move(device_id)),
        hardware_id_(std::move(hardware_id)),
        key_(std::move(key)) {}

  const std::string& device_id() const noexcept { return device_id_; }
  const std::string& hardware_id() const noexcept { return hardware_id_; }
  const core::crypto::PrivateKey& key() const noexcept { return key_; }
  // The TUF key id of the public key: safe to log.
  std::string KeyId() const { return key_.KeyId(); }

 private:
  std::string device_id_;
  std::string hardware_id_;
  core::crypto::PrivateKey key_;
};

}  // namespace aloft::agent::identity

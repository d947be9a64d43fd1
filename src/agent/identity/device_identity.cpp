#include "agent/identity/device_identity.hpp"

#include <string.h>  // explicit_bzero

#include <filesystem>
#include <system_error>

#include "platform/posix/files.hpp"
#include "platform/posix/key_files.hpp"

namespace aloft::agent::identity {
namespace {

// Clears secret text before its memory is released.
struct WipeOnExit {
  explicit WipeOnExit(std::string& secret) : text(secret) {}
  std::string& text;
  WipeOnExit(const WipeOnExit&) = delete;
  WipeOnExit& operator=(const WipeOnExit&) = delete;
  ~WipeOnExit() { explicit_bzero(text.data(), text.size()); }
};

}  // namespace

Result<DeviceIdentity> DeviceIdentity::LoadOrCreate(const config::AgentConfig& config) {
  if (Status dir = platform::posix::EnsurePrivateDirectory(config.data_dir); !dir) {
    return Fail(std::move(dir).error().WithContext("device identity: data directory"));
  }
  const std::string where = "device key " + config.key_file.string();

  auto pem = platform::posix::ReadPrivateKeyFile(config.key_file);
  if (pem) {
    WipeOnExit wipe(*pem);
    auto key = core::crypto::PrivateKey::FromPem(*pem);
    if (!key) {
      return Fail(Errc::kInvalidArgument, where + ": " + key.error().message());
    }
    return DeviceIdentity(config.device_id, config.hardware_id, std::move(*key));
  }
  if (pem.error().code() != Errc::kNotFound) {
    return Fail(std::move(pem).error().WithContext("device identity"));
  }

  // First start: a new key. Written 0600 from its first instant.
  auto key = core::crypto::PrivateKey::Generate(core::crypto::KeyType::kEd25519);
  if (!key) return Fail(std::move(key).error().WithContext("device identity: generating key"));
  auto fresh = key->ToPem();
  if (!fresh) return Fail(std::move(fresh).error().WithContext("device identity"));
  WipeOnExit wipe(*fresh);
  if (Status saved = platform::posix::SavePrivateKeyFile(config.key_file, *fresh); !saved) {
    return Fail(std::move(saved).error().WithContext("device identity: saving " + where));
  }
  return DeviceIdentity(config.device_id, config.hardware_id, std::move(*key));
}

}  // namespace aloft::agent::identity

#include "cli/aloftctl/keys/key_files.hpp"

#include <string.h>  // explicit_bzero

#include <system_error>

#include "platform/posix/key_files.hpp"

namespace aloft::cli::aloftctl::keys {

namespace fs = std::filesystem;

std::string KeyFileName(std::string_view role, std::string_view keyid) {
  return std::string(role) + "-" + std::string(keyid.substr(0, 16)) + ".pem";
}

void Wipe(std::string& secret) noexcept {
  if (!secret.empty()) explicit_bzero(secret.data(), secret.size());
  secret.clear();
}

Result<fs::path> SaveKey(const fs::path& keys_dir, std::string_view role,
                         const core::crypto::PrivateKey& key, std::string_view passphrase) {
  if (passphrase.size() < kMinPassphraseLength) {
    return Fail(Errc::kInvalidArgument, "the passphrase must have at least " +
                                            std::to_string(kMinPassphraseLength) + " characters");
  }
  const fs::path path = keys_dir / KeyFileName(role, key.KeyId());
  std::error_code ec;
  if (fs::exists(path, ec)) return Fail(Errc::kAlreadyExists, path.string() + " already exists");
  auto pem = key.ToPem(passphrase);
  if (!pem) return Fail(pem.error());
  Status saved = platform::posix::SavePrivateKeyFile(path, *pem);
  Wipe(*pem);
  if (!saved) return Fail(saved.error());
  return path;
}

Result<core::crypto::PrivateKey> LoadKey(const fs::path& path, std::string_view passphrase) {
  auto pem = platform::posix::ReadPrivateKeyFile(path);
  if (!pem) return Fail(pem.error());
  auto key = core::crypto::PrivateKey::FromPem(*pem, passphrase);
  Wipe(*pem);
  if (!key) return Fail(std::move(key).error().WithContext(path.string()));
  return key;
}

std::optional<fs::path> FindKeyFile(const fs::path& keys_dir, std::string_view keyid) {
  const std::string suffix = "-" + std::string(keyid.substr(0, 16)) + ".pem";
  std::error_code ec;
  for (fs::directory_iterator it(keys_dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().filename().string().ends_with(suffix)) return it->path();
  }
  return std::nullopt;
}

}  // namespace aloft::cli::aloftctl::keys

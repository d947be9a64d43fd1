#include "server/app/kek.hpp"

#include <cstdlib>

#include "core/base/hex.hpp"
#include "core/crypto/hash.hpp"
#include "platform/posix/files.hpp"
#include "platform/posix/key_files.hpp"

namespace aloft::server::app {

Result<std::string> LoadKek(const config::ServerConfig& config) {
  if (const char* env = std::getenv(kKekEnvironmentVariable); env != nullptr && *env != '\0') {
    return std::string(env);
  }
  auto text = platform::posix::ReadPrivateKeyFile(config.kek_path());
  if (!text) {
    if (text.error().code() == Errc::kNotFound) {
      return Fail(Errc::kNotFound, "no key-encryption key: " + config.kek_path().string() +
                                       " is missing and ALOFTD_KEK is not set (run aloftd init)");
    }
    return Fail(std::move(text).error().WithContext("key-encryption key"));
  }
  std::string kek = std::move(*text);
  while (!kek.empty() && (kek.back() == '\n' || kek.back() == '\r' || kek.back() == ' ')) {
    kek.pop_back();
  }
  return kek;
}

Result<std::string> LoadOrCreateKek(const config::ServerConfig& config, bool& created) {
  created = false;
  auto existing = LoadKek(config);
  if (existing || existing.error().code() != Errc::kNotFound) return existing;
  Bytes raw(32);
  if (Status s = core::crypto::RandomBytes(raw); !s) return Fail(s.error());
  std::string kek = HexEncode(raw);
  if (Status s = platform::posix::EnsurePrivateDirectory(config.kek_path().parent_path()); !s) {
    return Fail(s.error());
  }
  if (Status s = platform::posix::SavePrivateKeyFile(config.kek_path(), kek + "\n"); !s) {
    return Fail(std::move(s).error().WithContext("key-encryption key"));
  }
  created = true;
  return kek;
}

}  // namespace aloft::server::app

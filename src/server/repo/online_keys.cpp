#include "server/repo/online_keys.hpp"

#include <algorithm>
#include <string>

#include "platform/posix/files.hpp"
#include "platform/posix/key_files.hpp"

namespace aloft::server::repo {
namespace {

using core::crypto::KeyType;
using core::crypto::PrivateKey;

// Clears a PEM holding a private key before its memory is released. volatile keeps the
// compiler from dropping the stores as dead.
void Wipe(std::string& secret) {
  volatile char* p = secret.data();
  for (std::size_t i = 0; i < secret.size(); ++i) p[i] = 0;
  secret.clear();
}

Result<PrivateKey> LoadOrCreateKey(const std::filesystem::path& dir, std::string_view name) {
  const std::filesystem::path path = dir / (std::string(name) + ".pem");
  auto pem = platform::posix::ReadPrivateKeyFile(path);
  if (pem) {
    auto key = PrivateKey::FromPem(*pem);
    Wipe(*pem);
    if (!key) return Fail(std::move(key).error().WithContext("online key " + path.string()));
    return key;
  }
  if (pem.error().code() != Errc::kNotFound) {
    return Fail(std::move(pem).error().WithContext("online key " + std::string(name)));
  }
  auto key = PrivateKey::Generate(KeyType::kEd25519);
  if (!key) return Fail(key.error());
  auto text = key->ToPem();
  if (!text) return Fail(text.error());
  Status saved = platform::posix::SavePrivateKeyFile(path, *text);
  Wipe(*text);
  if (!saved) return Fail(std::move(saved).error().WithContext("online key " + path.string()));
  return key;
}

}  // namespace

Result<OnlineKeys> OnlineKeys::LoadOrCreate(const std::filesystem::path& secrets_dir) {
  if (Status s = platform::posix::EnsurePrivateDirectory(secrets_dir); !s) return Fail(s.error());
  OnlineKeys keys;
  struct Slot {
    std::string_view name;
    PrivateKey* key;
  };
  for (const Slot& slot :
       {Slot{"image-snapshot", &keys.image_snapshot},
        Slot{"image-timestamp", &keys.image_timestamp}, Slot{"director-root", &keys.director_root},
        Slot{"director-targets", &keys.director_targets},
        Slot{"director-snapshot", &keys.director_snapshot},
        Slot{"director-timestamp", &keys.director_timestamp}}) {
    auto key = LoadOrCreateKey(secrets_dir, slot.name);
    if (!key) return Fail(key.error());
    *slot.key = std::move(*key);
  }
  return keys;
}

Result<OnlineKeys> OnlineKeys::Generate() {
  OnlineKeys keys;
  for (PrivateKey* key :
       {&keys.image_snapshot, &keys.image_timestamp, &keys.director_root, &keys.director_targets,
        &keys.director_snapshot, &keys.director_timestamp}) {
    auto fresh = PrivateKey::Generate(KeyType::kEd25519);
    if (!fresh) return Fail(fresh.error());
    *key = std::move(*fresh);
  }
  return keys;
}

}  // namespace aloft::server::repo

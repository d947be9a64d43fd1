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

Status SaveEncrypted(const std::filesystem::path& path, const PrivateKey& key,
                     std::string_view kek) {
  auto text = key.ToPem(kek);
  if (!text) return Fail(text.error());
  Status saved = platform::posix::SavePrivateKeyFile(path, *text);
  Wipe(*text);
  if (!saved) return Fail(std::move(saved).error().WithContext("online key " + path.string()));
  return Ok();
}

Result<PrivateKey> LoadOrCreateKey(const std::filesystem::path& dir, std::string_view name,
                                   std::string_view kek) {
  const std::filesystem::path path = dir / (std::string(name) + ".pem");
  auto pem = platform::posix::ReadPrivateKeyFile(path);
  if (pem) {
    const bool encrypted = pem->find("BEGIN ENCRYPTED PRIVATE KEY") != std::string::npos;
    auto key = PrivateKey::FromPem(*pem, kek);
    Wipe(*pem);
    if (!key) {
      return Fail(Errc::kVerificationFailed,
                  "online key " + path.string() +
                      " cannot be decrypted: is this the key-encryption key it was written with?");
    }
    if (!encrypted) {
      if (Status s = SaveEncrypted(path, *key, kek); !s) return Fail(s.error());
    }
    return key;
  }
  if (pem.error().code() != Errc::kNotFound) {
    return Fail(std::move(pem).error().WithContext("online key " + std::string(name)));
  }
  auto key = PrivateKey::Generate(KeyType::kEd25519);
  if (!key) return Fail(key.error());
  if (Status s = SaveEncrypted(path, *key, kek); !s) return Fail(s.error());
  return key;
}

}  // namespace

Result<OnlineKeys> OnlineKeys::LoadOrCreate(const std::filesystem::path& secrets_dir,
                                             std::string_view kek) {
  constexpr std::size_t kMinKekLength = 32;
  if (kek.size() < kMinKekLength) {
    return Fail(Errc::kInvalidArgument,
                "the key-encryption key must be at least 32 characters (aloftd init makes one)");
  }
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
    auto key = LoadOrCreateKey(secrets_dir, slot.name, kek);
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

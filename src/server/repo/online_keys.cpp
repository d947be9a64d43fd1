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

// Reads one encrypted key file; kNotFound when it does not exist.
Result<PrivateKey> LoadKey(const std::filesystem::path& path, std::string_view kek) {
  auto pem = platform::posix::ReadPrivateKeyFile(path);
  if (!pem) {
    if (pem.error().code() == Errc::kNotFound) return Fail(pem.error());
    return Fail(std::move(pem).error().WithContext("online key " + path.string()));
  }
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

Result<PrivateKey> CreateKey(const std::filesystem::path& path, std::string_view kek) {
  auto key = PrivateKey::Generate(KeyType::kEd25519);
  if (!key) return Fail(key.error());
  if (Status s = SaveEncrypted(path, *key, kek); !s) return Fail(s.error());
  return key;
}

Result<PrivateKey> LoadOrCreateKey(const std::filesystem::path& dir, std::string_view name,
                                   std::string_view kek) {
  const std::filesystem::path path = dir / (std::string(name) + ".pem");
  auto key = LoadKey(path, kek);
  if (key || key.error().code() != Errc::kNotFound) return key;
  return CreateKey(path, kek);
}

// The two files of the Image pair, current or staged.
struct PairPaths {
  std::filesystem::path snapshot;
  std::filesystem::path timestamp;
};
PairPaths ImagePairPaths(const std::filesystem::path& dir, std::string_view suffix) {
  return {dir / ("image-snapshot" + std::string(suffix)),
          dir / ("image-timestamp" + std::string(suffix))};
}
constexpr std::string_view kCurrent = ".pem";
constexpr std::string_view kNext = ".next.pem";

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

// Staging writes the timestamp key first and promotion moves it first, so a crash leaves
// states that tell apart: a staged timestamp key alone is an unfinished staging (ignored, and
// replaced by the next StageNext); a staged snapshot key alone is an unfinished promotion
// (finished by FinishInterruptedPromotion).
Result<std::optional<ImageOnlineKeys>> OnlineKeyRotation::LoadNext() const {
  const PairPaths next = ImagePairPaths(dir_, kNext);
  auto snapshot = LoadKey(next.snapshot, kek_);
  if (!snapshot && snapshot.error().code() == Errc::kNotFound) {
    return std::optional<ImageOnlineKeys>();
  }
  if (!snapshot) return Fail(snapshot.error());
  auto timestamp = LoadKey(next.timestamp, kek_);
  if (!timestamp && timestamp.error().code() == Errc::kNotFound) {
    return Fail(Errc::kCorrupt, "an online-key promotion was interrupted: " +
                                    next.snapshot.string() + " is staged without its pair");
  }
  if (!timestamp) return Fail(timestamp.error());
  return std::optional<ImageOnlineKeys>(ImageOnlineKeys{std::move(*snapshot), std::move(*timestamp)});
}

Result<ImageOnlineKeys> OnlineKeyRotation::StageNext() const {
  auto staged = LoadNext();
  if (!staged) return Fail(staged.error());
  if (*staged) return Fail(Errc::kAlreadyExists, "a rotation of the online keys is already staged");
  const PairPaths next = ImagePairPaths(dir_, kNext);
  auto timestamp = CreateKey(next.timestamp, kek_);
  if (!timestamp) return Fail(timestamp.error());
  auto snapshot = CreateKey(next.snapshot, kek_);
  if (!snapshot) return Fail(snapshot.error());
  return ImageOnlineKeys{std::move(*snapshot), std::move(*timestamp)};
}

Status OnlineKeyRotation::PromoteNext() const {
  const PairPaths next = ImagePairPaths(dir_, kNext);
  const PairPaths current = ImagePairPaths(dir_, kCurrent);
  if (Status s = platform::posix::RenameDurably(next.timestamp, current.timestamp); !s) return s;
  return platform::posix::RenameDurably(next.snapshot, current.snapshot);
}

Result<bool> OnlineKeyRotation::FinishInterruptedPromotion() const {
  const PairPaths next = ImagePairPaths(dir_, kNext);
  std::error_code ec;
  const bool snapshot = std::filesystem::exists(next.snapshot, ec);
  const bool timestamp = std::filesystem::exists(next.timestamp, ec);
  if (!snapshot || timestamp) return false;
  if (Status s = platform::posix::RenameDurably(next.snapshot, ImagePairPaths(dir_, kCurrent).snapshot);
      !s) {
    return Fail(s.error());
  }
  return true;
}

}  // namespace aloft::server::repo

#include "server/operators/totp_seed_cipher.hpp"

#include <algorithm>
#include <string>

#include "core/crypto/aead.hpp"

namespace aloft::server::operators {
namespace {

namespace crypto = core::crypto;

constexpr std::string_view kSalt = "aloft";
constexpr std::string_view kInfo = "aloft/totp-seed/v1";
constexpr std::size_t kMinKekLength = 32;
constexpr std::size_t kOverhead =
    TotpSeedCipher::kMagic.size() + TotpSeedCipher::kNonceBytes + TotpSeedCipher::kTagBytes;
static_assert(TotpSeedCipher::kKeyBytes == crypto::kAes256GcmKeyBytes &&
              TotpSeedCipher::kNonceBytes == crypto::kAes256GcmNonceBytes &&
              TotpSeedCipher::kTagBytes == crypto::kAes256GcmTagBytes);

std::string AssociatedData(std::string_view username) {
  return std::string(kInfo) + "/" + std::string(username);
}

}  // namespace

Result<TotpSeedCipher> TotpSeedCipher::Create(std::string_view kek) {
  if (kek.size() < kMinKekLength) {
    return Fail(Errc::kInvalidArgument,
                "the key-encryption key must be at least 32 characters (aloftd init makes one)");
  }
  auto key = crypto::HkdfSha256(AsBytes(kek), AsBytes(kSalt), AsBytes(kInfo), kKeyBytes);
  if (!key) return Fail(std::move(key).error().WithContext("TOTP seed key"));
  TotpSeedCipher cipher;
  std::copy(key->begin(), key->end(), cipher.key_.begin());
  crypto::Cleanse(*key);
  return cipher;
}

TotpSeedCipher::~TotpSeedCipher() { crypto::Cleanse(key_); }

bool TotpSeedCipher::IsSealed(ByteView stored) noexcept {
  return stored.size() > kOverhead && AsChars(stored.first(kMagic.size())) == kMagic;
}

Result<Bytes> TotpSeedCipher::Seal(ByteView seed, std::string_view username) const {
  if (seed.empty()) return Fail(Errc::kInvalidArgument, "TOTP seed is empty");
  auto sealed = crypto::Aes256GcmSeal(key_, seed, AsBytes(AssociatedData(username)));
  if (!sealed) return Fail(std::move(sealed).error());
  Bytes out(kMagic.begin(), kMagic.end());
  out.insert(out.end(), sealed->begin(), sealed->end());
  return out;
}

Result<Bytes> TotpSeedCipher::Open(ByteView stored, std::string_view username) const {
  if (!IsSealed(stored)) {
    return Fail(Errc::kCorrupt, "the TOTP seed of '" + std::string(username.substr(0, 64)) +
                                    "' is not in encrypted form");
  }
  auto seed = crypto::Aes256GcmOpen(key_, stored.subspan(kMagic.size()),
                                    AsBytes(AssociatedData(username)));
  if (!seed && seed.error().code() == Errc::kVerificationFailed) {
    return Fail(Errc::kVerificationFailed,
                "the TOTP seed of '" + std::string(username.substr(0, 64)) +
                    "' does not decrypt: it was altered, copied from another operator, or "
                    "sealed under a different key-encryption key");
  }
  return seed;
}

void WipeSeed(Bytes& seed) noexcept {
  crypto::Cleanse(seed);
  seed.clear();
}

}  // namespace aloft::server::operators

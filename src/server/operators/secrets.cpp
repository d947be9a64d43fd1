#include "server/operators/secrets.hpp"

#include "core/base/base64.hpp"
#include "core/base/bytes.hpp"
#include "core/crypto/hash.hpp"

namespace aloft::server::operators {

Result<std::string> NewSecret() {
  Bytes raw(kSecretBytes);
  if (Status s = core::crypto::RandomBytes(raw); !s) return Fail(s.error());
  return Base64UrlEncode(raw);
}

bool LooksLikeSecret(std::string_view text) noexcept {
  constexpr std::size_t kEncoded = (kSecretBytes * 4 + 2) / 3;  // 43
  if (text.size() != kEncoded) return false;
  for (char c : text) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string SecretHash(std::string_view secret) { return core::crypto::Sha256Hex(AsBytes(secret)); }

}  // namespace aloft::server::operators

#pragma once

// Bearer secrets (session cookies, CSRF tokens, API tokens) and how they are stored.

#include <cstddef>
#include <string>
#include <string_view>

#include "core/base/result.hpp"

namespace aloft::server::operators {

inline constexpr std::size_t kSecretBytes = 32;  // 256 bits from the OS CSPRNG

// base64url (no padding) of kSecretBytes random bytes: 43 characters.
Result<std::string> NewSecret();
// Whether `text` has the shape NewSecret() produces; anything else is refused before any
// lookup.
bool LooksLikeSecret(std::string_view text) noexcept;

// Lower-case hex SHA-256 of the secret, the only form that is stored. A fast hash is right
// here, unlike for passwords: these secrets carry 256 bits of entropy, so nobody can guess
// them from the hash, while a slow hash would cost CPU on every request.
std::string SecretHash(std::string_view secret);

}  // namespace aloft::server::operators

#pragma once

#include <string>
#include <string_view>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"

namespace aloft {

// RFC 4648 §5 base64url without padding: what tokens and URLs carry.
std::string Base64UrlEncode(ByteView data);
// Strict: only the URL alphabet, no padding, no whitespace, canonical trailing bits.
Result<Bytes> Base64UrlDecode(std::string_view text);

}  // namespace aloft

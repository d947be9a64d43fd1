#pragma once

#include <string>
#include <string_view>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"

namespace aloft {

// Lower-case hex, as TUF writes hashes, key IDs and ed25519 keys.
std::string HexEncode(ByteView data);
// Accepts upper and lower case; fails on odd length or a non-hex character.
Result<Bytes> HexDecode(std::string_view hex);

}  // namespace aloft

#pragma once

// UTF-8 well-formedness (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
// Text from the network (percent-decoded URLs, byte-capped excerpts of it) must be checked or
// repaired before it reaches JSON, whose parsers refuse malformed UTF-8.

#include <string>
#include <string_view>

namespace aloft {

bool IsValidUtf8(std::string_view text) noexcept;

// `text` with every byte that does not belong to a well-formed sequence replaced by U+FFFD.
// Valid text comes back unchanged.
std::string ToValidUtf8(std::string_view text);

}  // namespace aloft

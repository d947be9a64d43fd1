#pragma once

#include <string>
#include <string_view>

namespace aloft {

// Percent-encodes every byte except ASCII letters, digits and "_.-~", as %XX with upper-case
// hex: the same output as Python's urllib.parse.quote(text, safe=""). "/a b" -> "%2Fa%20b".
// The result never contains '/', so it is a single path component, but note that "." and ".."
// pass through unchanged: callers building file names must handle them (see RoleFileName).
std::string PercentEncode(std::string_view text);

// PercentEncode for a single file name: also encodes a lone "." or ".." ("%2E", "%2E%2E"),
// so that no input names the directory itself or its parent.
std::string PercentEncodeFileName(std::string_view text);

}  // namespace aloft

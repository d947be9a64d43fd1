#pragma once

#include <cstddef>
#include <string_view>

#include "core/base/result.hpp"

namespace aloft::server::operators {

inline constexpr std::size_t kMaxUsernameBytes = 64;

// Usernames are 1-64 characters of a-z, 0-9, '.', '_' and '-', starting with a letter or
// digit, and not "self" (the API's name for the caller). Lower case only, so "Alice" and
// "alice" cannot be two accounts. kInvalidArgument otherwise.
Status CheckUsername(std::string_view username);

}  // namespace aloft::server::operators

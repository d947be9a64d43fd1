#include "server/operators/username.hpp"

#include <string>

namespace aloft::server::operators {

Status CheckUsername(std::string_view username) {
  auto bad = [] {
    return Fail(Errc::kInvalidArgument,
                "username must be 1-64 characters of a-z, 0-9, '.', '_' and '-', starting with a "
                "letter or digit");
  };
  if (username.empty() || username.size() > kMaxUsernameBytes) return bad();
  for (std::size_t i = 0; i < username.size(); ++i) {
    char c = username[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) return bad();
  }
  if (username == "self") return Fail(Errc::kInvalidArgument, "username 'self' is reserved");
  return Ok();
}

}  // namespace aloft::server::operators

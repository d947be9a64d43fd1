#include "server/groups/group.hpp"

namespace aloft::server::groups {

Status CheckGroupName(std::string_view name) {
  auto bad = [] {
    return Fail(Errc::kInvalidArgument,
                "group name must be 1-64 characters of a-z, 0-9, '.', '_' and '-', starting "
                "with a letter or digit");
  };
  if (name.empty() || name.size() > kMaxGroupNameBytes) return bad();
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) return bad();
  }
  if (name.find("..") != std::string_view::npos) {
    return Fail(Errc::kInvalidArgument, "group name must not contain '..'");
  }
  return Ok();
}

}  // namespace aloft::server::groups

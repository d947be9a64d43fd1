#include "core/metadata/delegation.hpp"

#include <cstdio>

#include "core/base/hex.hpp"
#include "core/crypto/hash.hpp"

namespace aloft::core::metadata {
namespace {

std::vector<std::string_view> Split(std::string_view s) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t slash = s.find('/', start);
    if (slash == std::string_view::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, slash - start));
    start = slash + 1;
  }
}

// fnmatch for one segment. Iterative with single-star backtracking: linear in practice and
// never recursive, so a hostile pattern cannot exhaust the stack.
bool MatchSegment(std::string_view text, std::string_view pat) {
  std::size_t t = 0, p = 0;
  std::size_t star_p = std::string_view::npos, star_t = 0;
  auto match_class = [&](std::size_t& pi, char c) -> int {  // -1: not a class, 0/1: result
    std::size_t i = pi + 1;
    bool negate = i < pat.size() && (pat[i] == '!');
    if (negate) ++i;
    std::size_t first = i;
    bool found = false;
    while (i < pat.size() && (pat[i] != ']' || i == first)) {
      if (i + 2 < pat.size() && pat[i + 1] == '-' && pat[i + 2] != ']') {
        if (pat[i] <= c && c <= pat[i + 2]) found = true;
        i += 3;
      } else {
        if (pat[i] == c) found = true;
        ++i;
      }
    }
    if (i >= pat.size()) return -1;  // no closing bracket: '[' is literal
    pi = i + 1;
    return found != negate ? 1 : 0;
  };
  while (t < text.size()) {
    if (p < pat.size() && pat[p] == '*') {
      star_p = p++;
      star_t = t;
      continue;
    }
    if (p < pat.size()) {
      if (pat[p] == '?') {
        ++p;
        ++t;
        continue;
      }
      if (pat[p] == '[') {
        std::size_t np = p;
        int r = match_class(np, text[t]);
        if (r == 1) {
          p = np;
          ++t;
          continue;
        }
        if (r == -1 && text[t] == '[') {
          ++p;
          ++t;
          continue;
        }
      } else if (pat[p] == text[t]) {
        ++p;
        ++t;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p + 1;
    t = ++star_t;
  }
  while (p < pat.size() && pat[p] == '*') ++p;
  return p == pat.size();
}

}  // namespace

bool MatchesPathPattern(std::string_view target_path, std::string_view pattern) {
  auto target_parts = Split(target_path);
  auto pattern_parts = Split(pattern);
  if (target_parts.size() != pattern_parts.size()) return false;
  for (std::size_t i = 0; i < target_parts.size(); ++i) {
    if (!MatchSegment(target_parts[i], pattern_parts[i])) return false;
  }
  return true;
}

bool IsDelegatedPath(const DelegatedRole& role, std::string_view target_path) {
  if (role.paths) {
    for (const auto& pattern : *role.paths) {
      if (MatchesPathPattern(target_path, pattern)) return true;
    }
    return false;
  }
  if (role.path_hash_prefixes) {
    std::string digest = crypto::Sha256Hex(AsBytes(target_path));
    for (const auto& prefix : *role.path_hash_prefixes) {
      if (digest.starts_with(prefix)) return true;
    }
  }
  return false;
}

namespace {
std::string BinName(const SuccinctRoles& s, std::uint32_t bin) {
  std::uint64_t bins = std::uint64_t{1} << s.bit_length;
  int width = std::snprintf(nullptr, 0, "%llx", static_cast<unsigned long long>(bins - 1));
  char buf[16];
  std::snprintf(buf, sizeof buf, "%0*x", width, bin);
  return s.name_prefix + "-" + buf;
}
}  // namespace

std::string SuccinctRoleFor(const SuccinctRoles& succinct, std::string_view target_path) {
  Bytes digest = crypto::Sha256(AsBytes(target_path));
  std::uint32_t first = (std::uint32_t{digest[0]} << 24) | (std::uint32_t{digest[1]} << 16) |
                        (std::uint32_t{digest[2]} << 8) | std::uint32_t{digest[3]};
  auto shift = static_cast<unsigned>(32 - succinct.bit_length);
  std::uint32_t bin = shift >= 32 ? 0 : first >> shift;
  return BinName(succinct, bin);
}

bool IsSuccinctRole(const SuccinctRoles& succinct, std::string_view role_name) {
  std::string prefix = succinct.name_prefix + "-";
  if (!role_name.starts_with(prefix)) return false;
  std::string_view suffix = role_name.substr(prefix.size());
  std::string even(suffix);
  if (even.size() % 2 != 0) even.insert(even.begin(), '0');  // HexDecode wants whole bytes
  auto value = HexDecode(even);
  if (!value || value->size() > 4) return false;
  std::uint64_t bin = 0;
  for (std::uint8_t b : *value) bin = (bin << 8) | b;
  if (bin >= (std::uint64_t{1} << succinct.bit_length)) return false;
  // Only the canonical spelling (fixed width, lower case) names a bin.
  return BinName(succinct, static_cast<std::uint32_t>(bin)) == role_name;
}

std::vector<ChildRole> RolesForTarget(const Delegations& delegations,
                                      std::string_view target_path) {
  std::vector<ChildRole> out;
  if (delegations.succinct) {
    out.push_back({SuccinctRoleFor(*delegations.succinct, target_path), true,
                   &delegations.succinct->keys});
    return out;
  }
  for (const DelegatedRole& role : delegations.roles) {
    if (IsDelegatedPath(role, target_path)) out.push_back({role.name, role.terminating, &role.keys});
  }
  return out;
}

const RoleKeys* FindDelegatedRoleKeys(const Delegations& delegations, std::string_view role_name) {
  if (delegations.succinct) {
    return IsSuccinctRole(*delegations.succinct, role_name) ? &delegations.succinct->keys : nullptr;
  }
  for (const DelegatedRole& role : delegations.roles) {
    if (role.name == role_name) return &role.keys;
  }
  return nullptr;
}

}  // namespace aloft::core::metadata

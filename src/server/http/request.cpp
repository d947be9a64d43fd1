#include "server/http/request.hpp"

#include <algorithm>
#include <array>

#include "core/base/utf8.hpp"

namespace aloft::server::http {
namespace {

constexpr std::array<std::pair<Method, std::string_view>, 7> kMethods = {{
    {Method::kGet, "GET"},
    {Method::kHead, "HEAD"},
    {Method::kPost, "POST"},
    {Method::kPut, "PUT"},
    {Method::kPatch, "PATCH"},
    {Method::kDelete, "DELETE"},
    {Method::kOptions, "OPTIONS"},
}};

char LowerAscii(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

int HexValue(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes `in`; '+' becomes a space when `plus_is_space` (query strings). Fails on a
// truncated or non-hex escape, on a decoded NUL and on bytes that are not UTF-8: decoded
// segments end up in JSON error messages and audit records, which must stay valid JSON.
Result<std::string> Decode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (in.size() - i < 3) {
        return Fail(Errc::kInvalidArgument, "truncated percent escape");
      }
      int hi = HexValue(in[i + 1]);
      int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return Fail(Errc::kInvalidArgument, "bad percent escape");
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    if (c == '\0') return Fail(Errc::kInvalidArgument, "NUL in the request target");
    out.push_back(c);
  }
  if (!IsValidUtf8(out)) return Fail(Errc::kInvalidArgument, "the request target is not UTF-8");
  return out;
}

}  // namespace

std::string_view MethodName(Method method) noexcept {
  for (const auto& [m, name] : kMethods) {
    if (m == method) return name;
  }
  return "OTHER";
}

Method ParseMethod(std::string_view name) noexcept {
  for (const auto& [m, n] : kMethods) {
    if (n == name) return m;
  }
  return Method::kOther;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return LowerAscii(x) == LowerAscii(y);
         });
}

void Request::Clear() noexcept {
  method = Method::kGet;
  method_name.clear();
  target.clear();
  path.clear();
  segments.clear();
  query.clear();
  headers.Clear();
  body.clear();
  body_file.reset();
  body_size = 0;
  peer_address.clear();
  tls = false;
  client_certificate.reset();
}

void Headers::Add(std::string name, std::string value) {
  fields_.emplace_back(std::move(name), std::move(value));
}

void Headers::Set(std::string_view name, std::string value) {
  Remove(name);
  fields_.emplace_back(std::string(name), std::move(value));
}

void Headers::Remove(std::string_view name) {
  std::erase_if(fields_, [&](const auto& f) { return EqualsIgnoreCase(f.first, name); });
}

const std::string* Headers::Find(std::string_view name) const {
  for (const auto& [n, v] : fields_) {
    if (EqualsIgnoreCase(n, name)) return &v;
  }
  return nullptr;
}

std::string_view Headers::Get(std::string_view name) const {
  const std::string* v = Find(name);
  return v != nullptr ? std::string_view(*v) : std::string_view();
}

Result<Target> ParseTarget(std::string_view target) {
  if (target.empty() || target.front() != '/') {
    return Fail(Errc::kInvalidArgument, "the request target must be an absolute path");
  }
  Target out;
  std::string_view path = target;
  std::string_view query;
  if (std::size_t q = target.find('?'); q != std::string_view::npos) {
    path = target.substr(0, q);
    query = target.substr(q + 1);
  }
  if (std::size_t hash = query.find('#'); hash != std::string_view::npos) {
    query = query.substr(0, hash);
  }
  if (path.find('#') != std::string_view::npos) {
    return Fail(Errc::kInvalidArgument, "fragment in the request target");
  }
  std::string_view rest = path.substr(1);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  out.path.reserve(path.size());
  if (!rest.empty()) {
    out.segments.reserve(1 + static_cast<std::size_t>(std::count(rest.begin(), rest.end(), '/')));
  }
  while (!rest.empty()) {
    std::size_t slash = rest.find('/');
    std::string_view raw = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (raw.empty() || (slash != std::string_view::npos && rest.empty())) {
      return Fail(Errc::kInvalidArgument, "empty path segment");
    }
    auto segment = Decode(raw, /*plus_is_space=*/false);
    if (!segment) return Fail(std::move(segment).error());
    if (*segment == "." || *segment == ".." || segment->find('/') != std::string::npos) {
      return Fail(Errc::kInvalidArgument, "dot segment or encoded '/' in the path");
    }
    out.path += '/';
    out.path += *segment;
    out.segments.push_back(std::move(*segment));
  }
  if (out.path.empty()) out.path.push_back('/');  // not = "/": g++ 12 -Wrestrict false positive
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    std::size_t eq = pair.find('=');
    auto key = Decode(pair.substr(0, eq), /*plus_is_space=*/true);
    auto value = Decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1),
                        /*plus_is_space=*/true);
    if (!key) return Fail(std::move(key).error());
    if (!value) return Fail(std::move(value).error());
    out.query.emplace(std::move(*key), std::move(*value));
  }
  return out;
}

}  // namespace aloft::server::http

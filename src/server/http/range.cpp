#include "server/http/range.hpp"

#include <charconv>

namespace aloft::server::http {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool ParseUint(std::string_view s, std::uint64_t& out) {
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

// True when an If-None-Match / If-Range list names `etag` (weak comparison: W/ ignored).
bool EtagListMatches(std::string_view list, std::string_view quoted) {
  while (!list.empty()) {
    std::size_t comma = list.find(',');
    std::string_view item = Trim(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    if (item == "*") return true;
    if (item.starts_with("W/")) item.remove_prefix(2);
    if (item == quoted) return true;
  }
  return false;
}

}  // namespace

RangeParse ParseRange(std::string_view header, std::uint64_t size, ByteRange& out) {
  header = Trim(header);
  constexpr std::string_view kPrefix = "bytes=";
  if (header.size() < kPrefix.size() ||
      !EqualsIgnoreCase(header.substr(0, kPrefix.size()), kPrefix)) {
    return RangeParse::kNone;
  }
  std::string_view spec = Trim(header.substr(kPrefix.size()));
  if (spec.find(',') != std::string_view::npos) return RangeParse::kNone;  // multi-range
  std::size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return RangeParse::kNone;
  std::string_view first_text = Trim(spec.substr(0, dash));
  std::string_view last_text = Trim(spec.substr(dash + 1));
  if (first_text.empty()) {
    // Suffix range: the last n bytes.
    std::uint64_t n = 0;
    if (!ParseUint(last_text, n)) return RangeParse::kNone;
    if (n == 0 || size == 0) return RangeParse::kUnsatisfiable;
    out.first = n >= size ? 0 : size - n;
    out.last = size - 1;
    return RangeParse::kSatisfiable;
  }
  std::uint64_t first = 0;
  if (!ParseUint(first_text, first)) return RangeParse::kNone;
  std::uint64_t last = 0;
  if (last_text.empty()) {
    last = size == 0 ? 0 : size - 1;
  } else {
    if (!ParseUint(last_text, last)) return RangeParse::kNone;
    if (last < first) return RangeParse::kNone;  // invalid: ignore the header
  }
  if (first >= size) return RangeParse::kUnsatisfiable;
  out.first = first;
  out.last = std::min(last, size - 1);
  return RangeParse::kSatisfiable;
}

Response ServeFile(const Request& request, const FileResource& file) {
  const std::string quoted = file.etag.empty() ? std::string() : "\"" + file.etag + "\"";
  auto add_cache_headers = [&](Response& r) {
    r.headers.Set("Accept-Ranges", "bytes");
    r.headers.Set("Cache-Control",
                  file.immutable ? "public, max-age=31536000, immutable" : "public, no-cache");
    if (!quoted.empty()) r.headers.Set("ETag", quoted);
  };

  if (!quoted.empty()) {
    if (const std::string* inm = request.headers.Find("If-None-Match");
        inm != nullptr && EtagListMatches(*inm, quoted)) {
      Response r;
      r.status = 304;
      add_cache_headers(r);
      return r;
    }
  }

  bool use_range = request.method == Method::kGet || request.method == Method::kHead;
  if (const std::string* if_range = request.headers.Find("If-Range"); if_range != nullptr) {
    // Only strong ETags are usable here; a date or another tag means "send it all".
    use_range = use_range && !quoted.empty() && Trim(*if_range) == quoted;
  }
  if (const std::string* range = request.headers.Find("Range"); range != nullptr && use_range) {
    ByteRange br;
    switch (ParseRange(*range, file.size, br)) {
      case RangeParse::kSatisfiable: {
        Response r = Response::File(file.path, br.first, br.last - br.first + 1, file.content_type);
        r.status = 206;
        r.headers.Set("Content-Range", "bytes " + std::to_string(br.first) + "-" +
                                           std::to_string(br.last) + "/" +
                                           std::to_string(file.size));
        add_cache_headers(r);
        return r;
      }
      case RangeParse::kUnsatisfiable: {
        Response r = Response::Error(416, "range_not_satisfiable", "range not satisfiable");
        r.headers.Set("Content-Range", "bytes */" + std::to_string(file.size));
        r.headers.Set("Accept-Ranges", "bytes");
        return r;
      }
      case RangeParse::kNone:
        break;
    }
  }
  Response r = Response::File(file.path, 0, file.size, file.content_type);
  add_cache_headers(r);
  return r;
}

}  // namespace aloft::server::http

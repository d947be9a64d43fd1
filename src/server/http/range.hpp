#pragma once

// Serving a stored file (an artifact or a metadata blob) over HTTP with resumable downloads
// (RFC 9110 Range requests, single range) and the cache headers a CDN needs.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "server/http/request.hpp"
#include "server/http/response.hpp"

namespace aloft::server::http {

struct FileResource {
  std::filesystem::path path;
  std::uint64_t size = 0;
  // Strong validator, unquoted (the content hash for content-addressed blobs). Empty: no ETag,
  // no conditional requests.
  std::string etag;
  std::string content_type = "application/octet-stream";
  // Content-addressed (the bytes behind this URL never change): Cache-Control public,
  // max-age=31536000, immutable. Otherwise: public, no-cache (revalidate with the ETag).
  bool immutable = false;
};

// An inclusive byte range [first, last].
struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
};

enum class RangeParse : std::uint8_t {
  kNone,           // no Range header, or one we ignore (syntax error, multi-range, not bytes)
  kSatisfiable,    // one range within the file
  kUnsatisfiable,  // a valid single range that does not overlap the file (→ 416)
};

// Parses `bytes=a-b`, `bytes=a-` and `bytes=-n` against a file of `size` bytes; the last byte
// is clamped to size-1. Several ranges are ignored (served as a full 200, which RFC 9110
// §14.2 permits), as are malformed headers.
RangeParse ParseRange(std::string_view header, std::uint64_t size, ByteRange& out);

// The response for GET/HEAD of `file`: 304 when If-None-Match matches the ETag; 206 with
// Content-Range for a satisfiable Range (unless If-Range names another ETag); 416 with
// "Content-Range: bytes */size" for an unsatisfiable one; 200 with the whole file otherwise.
// Always Accept-Ranges: bytes, ETag (when known) and the Cache-Control described above.
Response ServeFile(const Request& request, const FileResource& file);

}  // namespace aloft::server::http

#pragma once

// The request a handler sees: plain values, no sockets. The transport (server.cpp) builds it
// after the head was read, the target was checked and the body (if any) arrived in full.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/base/result.hpp"

namespace aloft::server::http {

enum class Method : std::uint8_t { kGet, kHead, kPost, kPut, kPatch, kDelete, kOptions, kOther };

// "GET", "HEAD", ...; "OTHER" for kOther.
std::string_view MethodName(Method method) noexcept;
// Exact, case-sensitive (RFC 9110 method names are case-sensitive); unknown → kOther.
Method ParseMethod(std::string_view name) noexcept;

// Header fields in arrival order. Lookups are case-insensitive (ASCII); names keep their case.
class Headers {
 public:
  // Appends a field (a repeated name keeps both).
  void Add(std::string name, std::string value);
  // Replaces every field named `name` with one field.
  void Set(std::string_view name, std::string value);
  void Remove(std::string_view name);
  // Removes every field; the storage stays for the next request on the connection.
  void Clear() noexcept { fields_.clear(); }
  void Reserve(std::size_t fields) { fields_.reserve(fields); }
  // The first field named `name`, or nullptr.
  const std::string* Find(std::string_view name) const;
  // Find() or "" when absent.
  std::string_view Get(std::string_view name) const;
  bool Has(std::string_view name) const { return Find(name) != nullptr; }

  const std::vector<std::pair<std::string, std::string>>& fields() const noexcept {
    return fields_;
  }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

// ASCII case-insensitive equality, for header names and tokens.
bool EqualsIgnoreCase(std::string_view a, std::string_view b) noexcept;

// What the TLS layer verified about the client certificate (mutual TLS).
struct ClientCertificate {
  std::string subject_common_name;
  std::string sha256_fingerprint;  // lower-case hex SHA-256 of the DER encoding
};

// A request target split and checked: the path is percent-decoded segment by segment.
struct Target {
  std::string path;                          // "/api/v1/devices/a b" (decoded, never ends in '/')
  std::vector<std::string> segments;         // {"api", "v1", "devices", "a b"}; "/" has none
  std::map<std::string, std::string> query;  // decoded ('+' is a space); first value wins
};

// Parses an origin-form target ("/a/b?x=1"). kInvalidArgument (→ 400) for a target that does
// not start with '/', bad percent escapes, a NUL or '/' hidden in an escape, "." or ".."
// segments, or empty segments ("//"). One trailing '/' is allowed and dropped ("/a/" = "/a").
Result<Target> ParseTarget(std::string_view target);

struct Request {
  Method method = Method::kGet;
  std::string method_name;  // as sent, for logs and kOther
  std::string target;       // raw request target, as sent
  std::string path;         // from Target
  std::vector<std::string> segments;
  std::map<std::string, std::string> query;
  Headers headers;

  // The body, for ordinary routes (at most the route's max_body_bytes).
  std::string body;
  // For routes with stream_body_to_file: the body is in this file instead (`body` is empty).
  // The server deletes the file after the handler returns; a handler that wants to keep the
  // bytes renames (moves) the file somewhere else before returning.
  std::optional<std::filesystem::path> body_file;
  std::uint64_t body_size = 0;  // bytes in `body` or in `body_file`

  std::string peer_address;  // "127.0.0.1", "::1"
  bool tls = false;
  // Set only when mutual TLS verified a client certificate against the configured CA.
  std::optional<ClientCertificate> client_certificate;

  // Back to a default-constructed request, keeping the strings' and vectors' storage: the
  // server reuses one Request for each request on a keep-alive connection.
  void Clear() noexcept;
};

}  // namespace aloft::server::http

#include "server/http/response.hpp"

#include <utility>

#include "core/base/utf8.hpp"

namespace aloft::server::http {

Response Response::Json(int status, const core::codec::Json& value) {
  return Text(status, "application/json", core::codec::DumpJson(value));
}

Response Response::Error(int status, std::string_view code, std::string_view message) {
  core::codec::Json::Object error;
  error.emplace("code", code);
  error.emplace("message", ToValidUtf8(message));  // messages may quote (cut) client input
  core::codec::Json::Object root;
  root.emplace("error", std::move(error));
  return Json(status, core::codec::Json(std::move(root)));
}

Response Response::Text(int status, std::string_view content_type, std::string body) {
  Response r;
  r.status = status;
  r.headers.Set("Content-Type", std::string(content_type));
  r.body = std::move(body);
  return r;
}

Response Response::File(std::filesystem::path path, std::uint64_t offset, std::uint64_t length,
                        std::string_view content_type) {
  Response r;
  r.headers.Set("Content-Type", std::string(content_type));
  r.file = FileBody{std::move(path), offset, length};
  return r;
}

void ApplySecurityHeaders(Response& response, bool tls) {
  Headers& h = response.headers;
  h.Reserve(h.fields().size() + 6);  // room for all of them at once
  h.Set("X-Content-Type-Options", "nosniff");
  h.Set("Referrer-Policy", "no-referrer");
  h.Set("X-Frame-Options", "DENY");
  if (!h.Has("Content-Security-Policy")) {
    h.Set("Content-Security-Policy", std::string(kContentSecurityPolicy));
  }
  if (!h.Has("Cache-Control")) h.Set("Cache-Control", "no-store");
  if (tls) h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains");
}

}  // namespace aloft::server::http

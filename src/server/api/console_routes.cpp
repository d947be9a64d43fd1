#include "server/api/console_routes.hpp"

#include <system_error>

#include "server/http/range.hpp"

namespace aloft::server::api {
namespace {

using http::Request;
using http::Response;

Response NotFound() { return Response::Error(404, http::errors::kNotFound, "no such resource"); }

// `relative` inside `root` as a regular file, following no link out of `root`; nullopt otherwise.
std::optional<std::filesystem::path> Resolve(const std::filesystem::path& root,
                                             const std::filesystem::path& relative) {
  std::error_code ec;
  const std::filesystem::path candidate = std::filesystem::weakly_canonical(root / relative, ec);
  if (ec || !std::filesystem::is_regular_file(candidate, ec)) return std::nullopt;
  const std::string prefix = root.string() + "/";
  if (candidate.string().rfind(prefix, 0) != 0) return std::nullopt;
  return candidate;
}

Response Serve(const Request& request, const std::filesystem::path& path, bool immutable) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return NotFound();
  http::FileResource resource;
  resource.path = path;
  resource.size = size;
  resource.content_type = std::string(ContentTypeFor(path));
  resource.immutable = immutable;
  return http::ServeFile(request, resource);
}

Response Console(const Request& request, const std::filesystem::path& root) {
  const auto& segments = request.segments;
  if (!segments.empty() && segments.front() == "api") return NotFound();
  if (segments.size() == 2 && segments[0] == "assets") {
    auto asset = Resolve(root, std::filesystem::path("assets") / segments[1]);
    return asset ? Serve(request, *asset, true) : NotFound();
  }
  if (segments.size() == 1) {
    if (auto file = Resolve(root, segments[0]); file && segments[0] != "index.html") {
      return Serve(request, *file, false);
    }
  }
  auto index = Resolve(root, "index.html");
  if (!index) return NotFound();
  return Serve(request, *index, false);
}

}  // namespace

std::string_view ContentTypeFor(const std::filesystem::path& path) noexcept {
  const std::string ext = path.extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".json") return "application/json";
  if (ext == ".woff2") return "font/woff2";
  if (ext == ".txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

Status RegisterConsole(http::Router& router, ConsoleDeps& deps) {
  std::error_code ec;
  std::filesystem::path root = std::filesystem::canonical(deps.dist_dir, ec);
  if (ec || !std::filesystem::is_regular_file(root / "index.html", ec)) {
    return Fail(Errc::kNotFound, "console directory " + deps.dist_dir.string() +
                                     " has no index.html (build it: make web)");
  }
  deps.dist_dir = root;
  http::RouteOptions options;
  options.max_body_bytes = 0;
  options.name = "GET console";
  router.SetGetFallback(
      [&deps](const Request& request, const http::RouteParams&) {
        return Console(request, deps.dist_dir);
      },
      options);
  return Ok();
}

}  // namespace aloft::server::api

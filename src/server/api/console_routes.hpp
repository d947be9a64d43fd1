#pragma once

// The web console (web/, built into web/dist): static files under the server's CSP, served
// by the router's GET fallback so the console's client-side routes (/devices/dev-1, ...)
// load index.html.
//
//   /assets/<file>   hashed build output: Cache-Control immutable; a missing one is 404 (never
//                    index.html, which a browser would try to run as a script)
//   /<file>          other top-level files of the build (favicon.svg): no-cache
//   anything else    index.html (no-cache), except /api/... which stays a JSON 404
//
// Paths come from the already-validated request segments (no "..", no "/" inside a segment)
// and are resolved inside the console directory; symbolic links leading out are refused.

#include <filesystem>

#include "server/http/router.hpp"

namespace aloft::server::api {

struct ConsoleDeps {
  std::filesystem::path dist_dir;  // must contain index.html
};

// Installs the fallback. kNotFound when dist_dir has no index.html (build the console first).
Status RegisterConsole(http::Router& router, ConsoleDeps& deps);

// "text/javascript" for "app.js", ...; "application/octet-stream" for unknown extensions.
std::string_view ContentTypeFor(const std::filesystem::path& path) noexcept;

}  // namespace aloft::server::api

#include "server/api/repo_routes.hpp"

#include "server/api/error_mapping.hpp"

namespace aloft::server::api {
namespace {

using http::Request;
using http::Response;
using http::RouteParams;

constexpr std::string_view kFileParam = "file";

Response NotFound() {
  return Response::Error(404, http::errors::kNotFound, "no such metadata file");
}

Response Serve(Result<Bytes> bytes) {
  if (!bytes) {
    if (bytes.error().code() == Errc::kNotFound) return NotFound();
    return ErrorResponse(bytes.error());
  }
  Response r = Response::Text(200, "application/json", ToString(*bytes));
  r.headers.Set("Cache-Control", "no-store");
  return r;
}

// The file parameter, if it is a name a repository serves at all; checked before any lookup.
const std::string* FileName(const RouteParams& params) {
  auto it = params.find(kFileParam);
  if (it == params.end() || !repo::ParseMetadataFileName(it->second)) return nullptr;
  return &it->second;
}

Response GetImageFile(const Request& request, const RouteParams& params, RepoApiDeps& deps) {
  auto caller = AuthenticateDevice(request, deps.device);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  const std::string* file = FileName(params);
  if (file == nullptr) return NotFound();
  return Serve(deps.image.File(*file));
}

Response GetDirectorFile(const Request& request, const RouteParams& params, RepoApiDeps& deps) {
  auto caller = AuthenticateDevice(request, deps.device);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  const std::string* file = FileName(params);
  if (file == nullptr) return NotFound();
  // Only ever the caller's own repository: the device id comes from the token, not the URL.
  return Serve(deps.director.File(std::get<DeviceCaller>(caller).device_id, *file));
}

}  // namespace

Status RegisterRepoRoutes(http::Router& router, RepoApiDeps& deps) {
  http::RouteOptions options;
  options.max_body_bytes = 0;
  if (Status s = router.Add(
          http::Method::kGet, "/api/v1/image/{file}",
          [&deps](const Request& r, const RouteParams& p) { return GetImageFile(r, p, deps); },
          options);
      !s) {
    return s;
  }
  return router.Add(
      http::Method::kGet, "/api/v1/director/{file}",
      [&deps](const Request& r, const RouteParams& p) { return GetDirectorFile(r, p, deps); },
      options);
}

}  // namespace aloft::server::api

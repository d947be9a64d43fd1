#include "server/api/artifact_routes.hpp"

#include "server/api/error_mapping.hpp"
#include "server/http/range.hpp"

namespace aloft::server::api {
namespace {

using http::Request;
using http::Response;
using http::RouteParams;

Response NoSuchArtifact() {
  return Response::Error(404, http::errors::kNotFound, "no such artifact");
}

Response Download(const Request& request, const RouteParams& params,
                  ArtifactDownloadDeps& deps) {
  auto file = params.find("file");
  if (file == params.end()) return NoSuchArtifact();
  auto sha256 = HashFromTargetFileName(file->second);
  if (!sha256) return NoSuchArtifact();
  auto info = deps.store.Stat(*sha256);
  if (!info) {
    if (info.error().code() == Errc::kNotFound) return NoSuchArtifact();
    return ErrorResponse(info.error());
  }
  std::optional<std::filesystem::path> path = deps.local_path ? deps.local_path(*sha256) : std::nullopt;
  if (!path) {
    return ErrorResponse(Error(Errc::kUnsupported, "artifact store cannot serve local files"));
  }
  http::FileResource resource;
  resource.path = *path;
  resource.size = info->size;
  resource.etag = info->sha256;
  resource.immutable = true;
  return http::ServeFile(request, resource);
}

}  // namespace

std::optional<std::string> HashFromTargetFileName(std::string_view file_name) {
  constexpr std::size_t kHexLength = 64;
  if (file_name.size() < kHexLength + 2 || file_name[kHexLength] != '.') return std::nullopt;
  std::string hash(file_name.substr(0, kHexLength));
  if (!blobs::ValidateBlobId(hash)) return std::nullopt;
  return hash;
}

Status RegisterArtifactDownloadRoutes(http::Router& router, ArtifactDownloadDeps& deps) {
  http::RouteOptions options;
  options.max_body_bytes = 0;
  auto handler = [&deps](const Request& r, const RouteParams& p) { return Download(r, p, deps); };
  if (Status s = router.Add(http::Method::kGet, "/api/v1/targets/{file}", handler, options); !s) {
    return s;
  }
  return router.Add(http::Method::kGet, "/api/v1/targets/{dir}/{file}", handler, options);
}

}  // namespace aloft::server::api

#include "server/api/release_routes.hpp"

#include <array>
#include <fstream>

#include "core/metadata/model.hpp"
#include "server/api/error_mapping.hpp"

namespace aloft::server::api {
namespace {

using http::Method;
using http::Request;
using http::Response;
using http::RouteParams;
using operators::Permission;
using operators::Principal;
using core::codec::Json;

constexpr std::uint64_t kMaxMetadataBytes = 8 * 1024 * 1024;

// Copies the streamed request body into a new blob and checks it against the URL's hash.
Result<blobs::BlobInfo> StoreBody(const Request& request, ReleaseApiDeps& deps,
                                  const std::string& sha256) {
  auto upload = deps.blobs.BeginUpload(deps.max_artifact_bytes);
  if (!upload) return Fail(upload.error());
  if (request.body_file) {
    std::ifstream in(*request.body_file, std::ios::binary);
    if (!in) return Fail(Errc::kIo, "cannot read the uploaded body");
    std::array<char, 64 * 1024> buffer{};
    while (in) {
      in.read(buffer.data(), buffer.size());
      const auto n = static_cast<std::size_t>(in.gcount());
      if (n == 0) break;
      if (Status s = (*upload)->Write(ByteView(reinterpret_cast<const std::uint8_t*>(buffer.data()), n));
          !s) {
        return Fail(s.error());
      }
    }
    if (in.bad()) return Fail(Errc::kIo, "cannot read the uploaded body");
  } else if (Status s = (*upload)->Write(ToBytes(request.body)); !s) {
    return Fail(s.error());
  }
  return (*upload)->Commit(sha256);
}

Response PutArtifact(const Request& request, const RouteParams& params, ReleaseApiDeps& deps) {
  auto caller = deps.gate(request, Permission::kReleasesManage);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  const Principal& who = std::get<Principal>(caller);
  const std::string& sha256 = params.at("sha256");
  if (Status s = blobs::ValidateBlobId(sha256); !s) {
    return BadRequest("the artifact URL must name its SHA-256 as 64 lower-case hex digits");
  }
  const bool existed = static_cast<bool>(deps.blobs.Stat(sha256));
  auto stored = StoreBody(request, deps, sha256);
  if (!stored) {
    if (stored.error().code() == Errc::kVerificationFailed) {
      AuditAction(deps.audit, who, "artifact.upload", sha256, audit::Outcome::kFailure,
                  Json::Object{{"error", "hash mismatch"}});
      return Response::Error(400, "hash_mismatch",
                             "the uploaded bytes do not hash to the SHA-256 in the URL");
    }
    return ErrorResponse(stored.error());
  }
  if (!existed) {
    AuditAction(deps.audit, who, "artifact.upload", sha256, audit::Outcome::kSuccess,
                Json::Object{{"length", static_cast<std::int64_t>(stored->size)}});
  }
  return Response::Json(existed ? 200 : 201,
                        Json::Object{{"sha256", stored->sha256},
                                     {"length", static_cast<std::int64_t>(stored->size)}});
}

Response PutRoot(const Request& request, ReleaseApiDeps& deps) {
  auto caller = deps.gate(request, Permission::kReleasesManage);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  const Principal& who = std::get<Principal>(caller);
  const Bytes bytes = ToBytes(request.body);
  auto version = core::metadata::PeekVersionUntrusted(bytes);
  Status s = deps.image.UploadRoot(bytes);
  const std::string target = version ? "root v" + std::to_string(*version) : "root";
  if (!s) {
    AuditAction(deps.audit, who, "image_repo.root.upload", target, audit::Outcome::kFailure,
                Json::Object{{"error", s.error().message()}});
    return ErrorResponse(s.error());
  }
  AuditAction(deps.audit, who, "image_repo.root.upload", target, audit::Outcome::kSuccess);
  return Response::Json(200, Json::Object{{"version", version ? *version : 0}});
}

Response PutTargets(const Request& request, ReleaseApiDeps& deps) {
  auto caller = deps.gate(request, Permission::kReleasesManage);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  const Principal& who = std::get<Principal>(caller);
  auto version = deps.catalog.PublishTargets(ToBytes(request.body));
  if (!version) {
    AuditAction(deps.audit, who, "image_repo.targets.upload", "targets", audit::Outcome::kFailure,
                Json::Object{{"error", version.error().message()}});
    if (version.error().code() == Errc::kNotFound &&
        version.error().message().find("upload it first") != std::string::npos) {
      return Response::Error(409, "missing_artifact", version.error().message());
    }
    return ErrorResponse(version.error());
  }
  AuditAction(deps.audit, who, "image_repo.targets.upload", "targets v" + std::to_string(*version),
              audit::Outcome::kSuccess);
  return Response::Json(200, Json::Object{{"version", *version}});
}

// {"snapshot": {keyid, key}, "timestamp": {keyid, key}}: what `aloftctl keys init|rotate
// --online-keys` reads.
Json PairJson(const repo::ImageOnlineKeys& pair) {
  return Json::Object{
      {"snapshot", Json::Object{{"keyid", pair.snapshot.KeyId()},
                                {"key", pair.snapshot.Public().ToTufJson()}}},
      {"timestamp", Json::Object{{"keyid", pair.timestamp.KeyId()},
                                 {"key", pair.timestamp.Public().ToTufJson()}}}};
}

Response GetOnlineKeys(const Request& request, ReleaseApiDeps& deps) {
  auto caller = deps.gate(request, Permission::kReleasesRead);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  const auto pairs = deps.image.OnlineKeyPairs();
  Json out = PairJson(pairs.current);
  if (pairs.next) out.AsObject().emplace("next", PairJson(*pairs.next));
  return Response::Json(200, std::move(out));
}

Response RotateOnlineKeys(const Request& request, ReleaseApiDeps& deps) {
  auto caller = deps.gate(request, Permission::kReleasesManage);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  const Principal& who = std::get<Principal>(caller);
  const bool was_staged = deps.image.OnlineKeyPairs().next.has_value();
  auto next = deps.image.StageKeyRotation();
  if (!next) {
    AuditAction(deps.audit, who, "online_keys.rotate", "image", audit::Outcome::kFailure,
                Json::Object{{"error", next.error().message()}});
    return ErrorResponse(next.error());
  }
  if (!was_staged) {
    AuditAction(deps.audit, who, "online_keys.rotate", "image", audit::Outcome::kSuccess,
                Json::Object{{"snapshot", next->snapshot.KeyId()},
                             {"timestamp", next->timestamp.KeyId()}});
  }
  return Response::Json(was_staged ? 200 : 201, Json::Object{{"next", PairJson(*next)}});
}

Response GetDirectorRoot(const Request& request, ReleaseApiDeps& deps) {
  auto caller = deps.gate(request, Permission::kReleasesRead);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  auto root = deps.director_root();
  if (!root) return ErrorResponse(root.error());
  return Response::Text(200, "application/json", ToString(*root));
}

Response ListReleases(const Request& request, ReleaseApiDeps& deps) {
  auto caller = deps.gate(request, Permission::kReleasesRead);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  auto list = deps.catalog.List();
  if (!list) return ErrorResponse(list.error());
  Json::Array out;
  for (const auto& release : *list) out.push_back(releases::ToJson(release));
  return Response::Json(200, Json::Object{{"releases", std::move(out)}});
}

Response GetRelease(const Request& request, const RouteParams& params, ReleaseApiDeps& deps) {
  auto caller = deps.gate(request, Permission::kReleasesRead);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  const std::string& name = params.at("name");
  if (!releases::IsValidReleaseName(name)) {
    return Response::Error(404, http::errors::kNotFound, "no such release");
  }
  auto release = deps.catalog.Find(name);
  if (!release) return ErrorResponse(release.error());
  return Response::Json(200, releases::ToJson(*release));
}

Response ListDeltas(const Request& request, ReleaseApiDeps& deps) {
  auto caller = deps.gate(request, Permission::kReleasesRead);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  Json::Array out;
  if (deps.deltas != nullptr) {
    auto list = deps.deltas->List(500);
    if (!list) return ErrorResponse(list.error());
    for (const auto& delta : *list) out.push_back(deltas::ToJson(delta));
  }
  return Response::Json(200, Json::Object{{"deltas", std::move(out)}});
}

}  // namespace

Status RegisterReleaseRoutes(http::Router& router, ReleaseApiDeps& deps) {
  http::RouteOptions get;
  get.max_body_bytes = 0;
  http::RouteOptions metadata;
  metadata.max_body_bytes = kMaxMetadataBytes;
  http::RouteOptions action;  // a POST whose body, if any (`{}`), carries nothing
  action.max_body_bytes = 1024;
  http::RouteOptions artifact;
  artifact.max_body_bytes = deps.max_artifact_bytes;
  artifact.stream_body_to_file = true;
  artifact.request_timeout = std::chrono::hours(2);  // a large image over a slow uplink
  const http::RouteSpec routes[] = {
      {Method::kPut, "/api/v1/artifacts/{sha256}",
       [&deps](const Request& r, const RouteParams& p) { return PutArtifact(r, p, deps); },
       artifact},
      {Method::kPut, "/api/v1/image-repo/root",
       [&deps](const Request& r, const RouteParams&) { return PutRoot(r, deps); }, metadata},
      {Method::kPut, "/api/v1/image-repo/targets",
       [&deps](const Request& r, const RouteParams&) { return PutTargets(r, deps); }, metadata},
      {Method::kGet, "/api/v1/online-keys",
       [&deps](const Request& r, const RouteParams&) { return GetOnlineKeys(r, deps); }, get},
      {Method::kPost, "/api/v1/online-keys/rotate",
       [&deps](const Request& r, const RouteParams&) { return RotateOnlineKeys(r, deps); }, action},
      {Method::kGet, "/api/v1/director-repo/root",
       [&deps](const Request& r, const RouteParams&) { return GetDirectorRoot(r, deps); }, get},
      {Method::kGet, "/api/v1/releases",
       [&deps](const Request& r, const RouteParams&) { return ListReleases(r, deps); }, get},
      {Method::kGet, "/api/v1/releases/{name}",
       [&deps](const Request& r, const RouteParams& p) { return GetRelease(r, p, deps); }, get},
      {Method::kGet, "/api/v1/deltas",
       [&deps](const Request& r, const RouteParams&) { return ListDeltas(r, deps); }, get},
  };
  return router.AddAll(routes);
}

}  // namespace aloft::server::api

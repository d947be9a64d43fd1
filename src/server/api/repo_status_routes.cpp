#include "server/api/repo_status_routes.hpp"

#include "core/metadata/model.hpp"
#include "server/api/error_mapping.hpp"

namespace aloft::server::api {
namespace {

using core::codec::Json;
using http::Method;
using http::Request;
using http::Response;
using http::RouteParams;
using operators::Permission;
namespace md = core::metadata;

// {"version", "expires"} of the latest `role` of `repo`, or null when there is none yet.
Result<Json> RoleStatus(repo::RepoStore& store, std::string_view repo, std::string_view role) {
  auto latest = store.GetLatest(repo, role);
  if (!latest) return Fail(latest.error());
  if (!*latest) return Json(nullptr);
  return Json(Json::Object{{"version", (*latest)->version},
                           {"expires", FormatTimestamp((*latest)->expires)}});
}

// The root's status plus its roles: threshold and key ids (public facts of the offline root).
Result<Json> RootStatus(repo::RepoStore& store, std::string_view repo) {
  auto latest = store.GetLatest(repo, md::kRoot);
  if (!latest) return Fail(latest.error());
  if (!*latest) return Json(nullptr);
  auto parsed = md::ParseRoot((*latest)->bytes);
  if (!parsed) return Fail(Errc::kCorrupt, "stored root: " + parsed.error().message());
  Json::Object roles;
  for (const auto& [name, keys] : parsed->content.roles) {
    Json::Array ids;
    for (const std::string& id : keys.keyids) ids.push_back(id);
    roles.emplace(name, Json::Object{{"threshold", keys.threshold}, {"keyids", std::move(ids)}});
  }
  return Json(Json::Object{{"version", (*latest)->version},
                           {"expires", FormatTimestamp((*latest)->expires)},
                           {"roles", std::move(roles)}});
}

Response GetStatus(const Request& request, RepoStatusDeps& deps) {
  auto caller = deps.gate(request, Permission::kReleasesRead);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  Json::Object image;
  auto image_root = RootStatus(deps.store, repo::kImageRepo);
  if (!image_root) return ErrorResponse(image_root.error());
  image.emplace("root", std::move(*image_root));
  for (std::string_view role : {md::kTargets, md::kSnapshot, md::kTimestamp}) {
    auto status = RoleStatus(deps.store, repo::kImageRepo, role);
    if (!status) return ErrorResponse(status.error());
    image.emplace(std::string(role), std::move(*status));
  }
  // The Director's targets, snapshot and timestamp are per device and re-signed on demand;
  // its shared root is the one an operator provisions and must watch.
  auto director_root = RootStatus(deps.store, repo::kDirectorRepo);
  if (!director_root) return ErrorResponse(director_root.error());
  Json::Array keys;
  for (const OnlineKeyInfo& key : deps.online_keys()) {
    keys.push_back(Json::Object{
        {"name", key.name},
        {"keyid", key.keyid},
        {"createdAt", key.created_at ? Json(FormatTimestamp(*key.created_at)) : Json(nullptr)}});
  }
  return Response::Json(
      200, Json::Object{{"now", FormatTimestamp(deps.clock.Now())},
                        {"image", std::move(image)},
                        {"director", Json::Object{{"root", std::move(*director_root)}}},
                        {"onlineKeys", std::move(keys)}});
}

}  // namespace

Status RegisterRepoStatusRoutes(http::Router& router, RepoStatusDeps& deps) {
  http::RouteOptions get;
  get.max_body_bytes = 0;
  const http::RouteSpec routes[] = {
      {Method::kGet, "/api/v1/repo/status",
       [&deps](const Request& r, const RouteParams&) { return GetStatus(r, deps); }, get},
  };
  return router.AddAll(routes);
}

}  // namespace aloft::server::api

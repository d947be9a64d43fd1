#include "server/api/group_routes.hpp"

#include <vector>

#include "core/wire/device_api.hpp"
#include "server/api/error_mapping.hpp"

namespace aloft::server::api {
namespace {

using core::codec::Json;
using http::Method;
using http::Request;
using http::Response;
using http::RouteParams;
using operators::Permission;
using operators::Principal;

// A body must be an object holding exactly the expected member (no typos silently ignored).
Result<const Json*> OnlyMember(const Json& body, std::string_view key, Json::Kind kind,
                               std::string_view expected) {
  if (!body.IsObject()) return Fail(Errc::kInvalidArgument, "the body must be a JSON object");
  for (const auto& [k, v] : body.AsObject()) {
    if (k != key) {
      return Fail(Errc::kInvalidArgument, "unknown member '" + k.substr(0, 64) + "' (expected " +
                                              std::string(expected) + ")");
    }
  }
  const Json* value = body.Find(key);
  if (value == nullptr || value->kind() != kind) {
    return Fail(Errc::kInvalidArgument, "the body must be " + std::string(expected));
  }
  return value;
}

Result<std::vector<std::string>> DeviceIds(const Request& request) {
  auto body = ParseJsonBody(request);
  if (!body) return Fail(body.error());
  constexpr std::string_view kShape = R"({"devices": ["device id", ...]})";
  auto devices = OnlyMember(*body, "devices", Json::Kind::kArray, kShape);
  if (!devices) return Fail(devices.error());
  std::vector<std::string> ids;
  for (const Json& id : (*devices)->AsArray()) {
    if (!id.IsString()) return Fail(Errc::kInvalidArgument, "devices must hold strings only");
    ids.push_back(id.AsString());
  }
  return ids;
}

Result<std::size_t> Limit(const Request& request) {
  auto limit = QueryInt(request, "limit", 1, static_cast<std::int64_t>(groups::kMaxPage), 100);
  if (!limit) return Fail(limit.error());
  return static_cast<std::size_t>(*limit);
}

std::string After(const Request& request) {
  auto it = request.query.find("after");
  return it == request.query.end() ? std::string() : it->second;
}

Response List(const Request& request, GroupApiDeps& deps) {
  auto caller = deps.gate(request, Permission::kDevicesRead);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  const std::string after = After(request);
  if (!after.empty() && !groups::CheckGroupName(after))
    return BadRequest("after is not a group name");
  auto limit = Limit(request);
  if (!limit) return ErrorResponse(limit.error());
  auto list = deps.groups.List(after, *limit);
  if (!list) return ErrorResponse(list.error());
  Json::Array out;
  for (const groups::Group& g : *list) out.push_back(GroupJson(g));
  Json body = Json::Object{{"groups", std::move(out)}};
  body["next_after"] = list->size() == *limit && !list->empty() ? Json(list->back().name) : Json();
  return Response::Json(200, body);
}

Response Create(const Request& request, GroupApiDeps& deps) {
  auto caller = deps.gate(request, Permission::kDevicesManage);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  const Principal& who = std::get<Principal>(caller);
  auto body = ParseJsonBody(request);
  if (!body) return ErrorResponse(body.error());
  auto name = OnlyMember(*body, "name", Json::Kind::kString, R"({"name": "group-name"})");
  if (!name) return ErrorResponse(name.error());
  auto group = deps.groups.Create(who.username, (*name)->AsString());
  if (!group) return ErrorResponse(group.error());
  return Response::Json(201, GroupJson(*group));
}

Response Get(const Request& request, const RouteParams& params, GroupApiDeps& deps) {
  auto caller = deps.gate(request, Permission::kDevicesRead);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  const std::string after = After(request);
  if (!after.empty() && !core::wire::IsValidId(after))
    return BadRequest("after is not a device id");
  auto limit = Limit(request);
  if (!limit) return ErrorResponse(limit.error());
  auto page = deps.groups.Get(params.at("name"), after, *limit);
  if (!page) return ErrorResponse(page.error());
  Json body = GroupJson(page->group);
  body["devices"] = Json::Array(page->devices.begin(), page->devices.end());
  body["next_after"] = page->next_after.empty() ? Json() : Json(page->next_after);
  return Response::Json(200, body);
}

Response Delete(const Request& request, const RouteParams& params, GroupApiDeps& deps) {
  auto caller = deps.gate(request, Permission::kDevicesManage);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  const Principal& who = std::get<Principal>(caller);
  const std::string& name = params.at("name");
  if (Status s = deps.groups.Delete(who.username, name); !s) {
    if (s.error().code() == Errc::kAlreadyExists) {
      return Response::Error(409, "group_in_use", s.error().message());
    }
    return ErrorResponse(s.error());
  }
  return Response::Json(200, Json::Object{{"deleted", name}});
}

Response Members(const Request& request, const RouteParams& params, GroupApiDeps& deps, bool add) {
  auto caller = deps.gate(request, Permission::kDevicesManage);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  const Principal& who = std::get<Principal>(caller);
  auto ids = DeviceIds(request);
  if (!ids) return ErrorResponse(ids.error());
  const std::string& name = params.at("name");
  auto change = add ? deps.groups.AddMembers(who.username, name, *ids)
                    : deps.groups.RemoveMembers(who.username, name, *ids);
  if (!change) return ErrorResponse(change.error());
  auto page = deps.groups.Get(name, "", 1);
  if (!page) return ErrorResponse(page.error());
  Json body = GroupJson(page->group);
  body[add ? "added" : "removed"] = change->changed;
  return Response::Json(200, body);
}

}  // namespace

Json GroupJson(const groups::Group& group) {
  return Json::Object{{"name", group.name},
                      {"members", group.members},
                      {"created_at", FormatTimestamp(group.created_at)},
                      {"created_by", group.created_by}};
}

Status RegisterGroupRoutes(http::Router& router, GroupApiDeps& deps) {
  http::RouteOptions get;
  get.max_body_bytes = 0;
  http::RouteOptions post;
  // Up to kMaxMembersPerChange ids of up to 128 bytes each, quoted.
  post.max_body_bytes = 160 * 1024;
  const http::RouteSpec routes[] = {
      {Method::kGet, "/api/v1/groups",
       [&deps](const Request& r, const RouteParams&) { return List(r, deps); }, get},
      {Method::kPost, "/api/v1/groups",
       [&deps](const Request& r, const RouteParams&) { return Create(r, deps); }, post},
      {Method::kGet, "/api/v1/groups/{name}",
       [&deps](const Request& r, const RouteParams& p) { return Get(r, p, deps); }, get},
      {Method::kDelete, "/api/v1/groups/{name}",
       [&deps](const Request& r, const RouteParams& p) { return Delete(r, p, deps); }, get},
      {Method::kPost, "/api/v1/groups/{name}/members",
       [&deps](const Request& r, const RouteParams& p) { return Members(r, p, deps, true); }, post},
      {Method::kPost, "/api/v1/groups/{name}/members/remove",
       [&deps](const Request& r, const RouteParams& p) { return Members(r, p, deps, false); },
       post},
  };
  return router.AddAll(routes);
}

}  // namespace aloft::server::api

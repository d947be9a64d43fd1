#include "server/api/deployment_routes.hpp"

#include "server/api/error_mapping.hpp"
#include "server/deployments/deployment_json.hpp"

namespace aloft::server::api {
namespace {

using http::Method;
using http::Request;
using http::Response;
using http::RouteParams;
using operators::Permission;
using operators::Principal;
using core::codec::Json;

Response Create(const Request& request, DeploymentApiDeps& deps) {
  auto caller = deps.gate(request, Permission::kDeploymentsManage);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  const Principal& who = std::get<Principal>(caller);
  auto body = ParseJsonBody(request);
  if (!body) return ErrorResponse(body.error());
  auto spec = deployments::ParseDeploymentSpec(*body);
  if (!spec) return ErrorResponse(spec.error());
  auto view = deps.deployments.Create(*spec, who.username);
  if (!view) {
    AuditAction(deps.audit, who, "deployment.create", spec->release, audit::Outcome::kFailure,
                Json::Object{{"error", view.error().message()}});
    return ErrorResponse(view.error());
  }
  AuditAction(deps.audit, who, "deployment.create", view->deployment.id, audit::Outcome::kSuccess,
              Json::Object{{"release", spec->release}});
  return Response::Json(201, deployments::ToJson(*view));
}

Response List(const Request& request, DeploymentApiDeps& deps) {
  auto caller = deps.gate(request, Permission::kDeploymentsRead);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  std::optional<deployments::DeploymentState> state;
  if (auto it = request.query.find("state"); it != request.query.end() && !it->second.empty()) {
    auto parsed = deployments::ParseDeploymentState(it->second);
    if (!parsed) return BadRequest("state must be active, paused, completed or cancelled");
    state = *parsed;
  }
  auto views = deps.deployments.List(state);
  if (!views) return ErrorResponse(views.error());
  Json::Array out;
  for (const auto& view : *views) out.push_back(deployments::ToJson(view));
  return Response::Json(200, Json::Object{{"deployments", std::move(out)}});
}

Response Get(const Request& request, const RouteParams& params, DeploymentApiDeps& deps) {
  auto caller = deps.gate(request, Permission::kDeploymentsRead);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  auto view = deps.deployments.Get(params.at("id"));
  if (!view) return ErrorResponse(view.error());
  return Response::Json(200, deployments::ToJson(*view));
}

Response Control(const Request& request, const RouteParams& params, DeploymentApiDeps& deps,
                 std::string_view action) {
  auto caller = deps.gate(request, Permission::kDeploymentsManage);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  const Principal& who = std::get<Principal>(caller);
  const std::string& id = params.at("id");
  std::string reason;
  if (action == "pause" && !request.body.empty()) {
    auto body = ParseJsonBody(request);
    if (!body) return ErrorResponse(body.error());
    auto parsed = deployments::ParseReason(*body, false);
    if (!parsed) return ErrorResponse(parsed.error());
    reason = *parsed;
  }
  auto view = action == "pause"    ? deps.deployments.Pause(id, reason.empty() ? "paused by " + who.username : reason)
              : action == "resume" ? deps.deployments.Resume(id)
                                   : deps.deployments.Cancel(id);
  const std::string audit_action = "deployment." + std::string(action);
  if (!view) {
    AuditAction(deps.audit, who, audit_action, id, audit::Outcome::kFailure,
                Json::Object{{"error", view.error().message()}});
    return ErrorResponse(view.error());
  }
  AuditAction(deps.audit, who, audit_action, id, audit::Outcome::kSuccess,
              reason.empty() ? Json::Object{} : Json::Object{{"reason", reason}});
  return Response::Json(200, deployments::ToJson(*view));
}

Response PauseAll(const Request& request, DeploymentApiDeps& deps) {
  auto caller = deps.gate(request, Permission::kDeploymentsEmergency);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  const Principal& who = std::get<Principal>(caller);
  auto body = ParseJsonBody(request);
  if (!body) return ErrorResponse(body.error());
  auto reason = deployments::ParseReason(*body, true);
  if (!reason) return ErrorResponse(reason.error());
  auto paused = deps.deployments.PauseAll(*reason);
  if (!paused) {
    AuditAction(deps.audit, who, "deployment.pause_all", "*", audit::Outcome::kFailure,
                Json::Object{{"error", paused.error().message()}});
    return ErrorResponse(paused.error());
  }
  AuditAction(deps.audit, who, "deployment.pause_all", "*", audit::Outcome::kSuccess,
              Json::Object{{"reason", *reason}, {"paused", *paused}});
  return Response::Json(200, Json::Object{{"paused", *paused}});
}

}  // namespace

Status RegisterDeploymentRoutes(http::Router& router, DeploymentApiDeps& deps) {
  http::RouteOptions get;
  get.max_body_bytes = 0;
  http::RouteOptions post;
  post.max_body_bytes = 64 * 1024;  // explicit device lists can be long
  const http::RouteSpec routes[] = {
      {Method::kPost, "/api/v1/deployments",
       [&deps](const Request& r, const RouteParams&) { return Create(r, deps); }, post},
      {Method::kGet, "/api/v1/deployments",
       [&deps](const Request& r, const RouteParams&) { return List(r, deps); }, get},
      {Method::kGet, "/api/v1/deployments/{id}",
       [&deps](const Request& r, const RouteParams& p) { return Get(r, p, deps); }, get},
      {Method::kPost, "/api/v1/deployments/pause-all",
       [&deps](const Request& r, const RouteParams&) { return PauseAll(r, deps); }, post},
      {Method::kPost, "/api/v1/deployments/{id}/pause",
       [&deps](const Request& r, const RouteParams& p) { return Control(r, p, deps, "pause"); },
       post},
      {Method::kPost, "/api/v1/deployments/{id}/resume",
       [&deps](const Request& r, const RouteParams& p) { return Control(r, p, deps, "resume"); },
       post},
      {Method::kPost, "/api/v1/deployments/{id}/cancel",
       [&deps](const Request& r, const RouteParams& p) { return Control(r, p, deps, "cancel"); },
       post},
  };
  return router.AddAll(routes);
}

}  // namespace aloft::server::api

#include "server/api/health_routes.hpp"

#include "core/codec/json.hpp"

namespace aloft::server::api {

Status RegisterHealthRoutes(http::Router& router, HealthDeps& deps) {
  using http::Response;
  using core::codec::Json;
  if (Status s = router.Add(http::Method::kGet, "/healthz",
                            [](const http::Request&, const http::RouteParams&) {
                              return Response::Json(200, Json::Object{{"status", "ok"}});
                            });
      !s) {
    return s;
  }
  return router.Add(http::Method::kGet, "/readyz",
                    [&deps](const http::Request&, const http::RouteParams&) {
                      auto lease = deps.pool.Acquire(std::chrono::milliseconds(500));
                      if (lease) {
                        auto probe = (*lease)->PrepareCached("SELECT 1");
                        if (probe && probe->Step()) {
                          return Response::Json(200, Json::Object{{"status", "ready"}});
                        }
                      }
                      return Response::Error(503, http::errors::kUnavailable, "not ready");
                    });
}

}  // namespace aloft::server::api

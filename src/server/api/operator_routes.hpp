#pragma once

// The management API's session, API-token and user routes (contract: "Session and users"):
//   POST/GET/DELETE /api/v1/session           console login, who am I, logout
//   POST/GET        /api/v1/tokens            API tokens (own; admins see all)
//   DELETE          /api/v1/tokens/{id}
//   GET/POST        /api/v1/users             [users.manage]
//   PUT             /api/v1/users/{username}/role   [users.manage]
//   PUT             /api/v1/users/self/password
//   POST            /api/v1/users/self/totp, /api/v1/users/self/totp/confirm
// Handlers parse and bound the body (unknown fields are refused), authenticate
// (operator_auth.hpp), call OperatorService and map its answers; they hold no state.

#include "core/base/result.hpp"
#include "server/api/operator_auth.hpp"
#include "server/http/router.hpp"

namespace aloft::server::api {

// Registers the routes. `deps` must outlive the router.
Status RegisterOperatorRoutes(http::Router& router, OperatorApiDeps& deps);

}  // namespace aloft::server::api

#pragma once

// What every management route shares: the operator gate (who is calling, may they do this),
// the audit trail, and strict JSON bodies. Handlers are written as
//
//   auto caller = deps.gate(request, Permission::kDevicesManage);
//   if (auto* denied = std::get_if<http::Response>(&caller)) return std::move(*denied);
//   ... act ...
//   Audit(deps.audit, principal, "device.accept", id, outcome);
//
// The gate is a function so route files need not know how operators authenticate (session
// cookie + CSRF, or API token): that lives in operator_auth.

#include <functional>
#include <string_view>
#include <variant>

#include "core/codec/json.hpp"
#include "server/audit/audit_log.hpp"
#include "server/http/request.hpp"
#include "server/http/response.hpp"
#include "server/operators/principal.hpp"

namespace aloft::server::api {

using OperatorGate = std::function<std::variant<operators::Principal, http::Response>(
    const http::Request&, operators::Permission)>;

// A JSON body, parsed strictly (limits from the route's body cap). kInvalidArgument with a
// message naming the problem; an empty body is an error too.
Result<core::codec::Json> ParseJsonBody(const http::Request& request);

// Appends one audit record for an operator's action. A failure to write the audit trail is
// logged on stderr (it must not hide the action's own outcome from the caller).
void AuditAction(audit::AuditLog& log, const operators::Principal& who, std::string_view action,
                 std::string_view target, audit::Outcome outcome,
                 core::codec::Json details = core::codec::Json::Object{});

// Query parameter `name` as an integer in [min, max], `fallback` when absent.
Result<std::int64_t> QueryInt(const http::Request& request, std::string_view name,
                              std::int64_t min, std::int64_t max, std::int64_t fallback);

}  // namespace aloft::server::api

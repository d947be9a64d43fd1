#pragma once

// The audit trail over HTTP (contract: "Audit"), for roles with audit.read:
//   GET /api/v1/audit?after=<seq>&limit=<1..1000>  a page of records, oldest first
//   GET /api/v1/audit/verify                       walk the hash chain: ok, or where it breaks
//   GET /api/v1/audit/export?after=<seq>           application/x-ndjson, one record a line
// An export larger than kMaxExportBytes stops at a record boundary and says where to go on
// in the X-Aloft-Next-After header (absent when the export is complete). Exports are
// themselves audited (audit.export).

#include <cstdint>

#include "core/base/result.hpp"
#include "server/api/operator_auth.hpp"
#include "server/http/router.hpp"

namespace aloft::server::api {

inline constexpr std::size_t kMaxExportBytes = 32 * 1024 * 1024;
inline constexpr std::string_view kNextAfterHeader = "X-Aloft-Next-After";

// Registers the routes. `deps` must outlive the router.
Status RegisterAuditRoutes(http::Router& router, OperatorApiDeps& deps);

}  // namespace aloft::server::api

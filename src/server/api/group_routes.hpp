#pragma once

// Static device groups, as operators manage them (business rules in server/groups):
//
//   GET    /api/v1/groups                          devices.read   (?after ?limit) with counts
//   POST   /api/v1/groups                          devices.manage {"name"}
//   GET    /api/v1/groups/{name}                   devices.read   (?after ?limit) members page
//   DELETE /api/v1/groups/{name}                   devices.manage (409 while a deployment
//                                                                  targets it)
//   POST   /api/v1/groups/{name}/members           devices.manage {"devices":[ids]} add
//   POST   /api/v1/groups/{name}/members/remove    devices.manage {"devices":[ids]} remove
//
// Removal is a POST to a sub-resource, like the deployments' pause/resume/cancel, because a
// DELETE with a body is dropped by some proxies. Unknown device ids answer 400 listing them,
// and nothing changes. GroupService audits every change.

#include "server/api/management_common.hpp"
#include "server/groups/group_service.hpp"
#include "server/http/router.hpp"

namespace aloft::server::api {

struct GroupApiDeps {
  OperatorGate gate;
  groups::GroupService& groups;
};

Status RegisterGroupRoutes(http::Router& router, GroupApiDeps& deps);

// The API's view of one group (without members).
core::codec::Json GroupJson(const groups::Group& group);

}  // namespace aloft::server::api

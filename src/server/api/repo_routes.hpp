#pragma once

// The Uptane repositories on the HTTP router, for devices only (a device token is required):
//   GET /api/v1/image/{file}     the Image repository (offline root and targets)
//   GET /api/v1/director/{file}  the calling device's Director repository: the device is
//                                the one the token names, so no device can read another's
//                                instructions
// {file} is "<N>.root.json", "<V>.snapshot.json", "<V>.targets.json" or "timestamp.json";
// anything else, and any version not stored, is 404 (a TUF client finds the end of the root
// chain by the 404 of N+1.root.json). Responses are application/json, Cache-Control no-store.

#include "core/base/result.hpp"
#include "server/api/device_routes.hpp"
#include "server/http/router.hpp"
#include "server/repo/director_repository.hpp"
#include "server/repo/image_repository.hpp"

namespace aloft::server::api {

struct RepoApiDeps {
  DeviceApiDeps& device;  // authentication of the caller
  repo::ImageRepository& image;
  repo::DirectorRepository& director;
};

// Registers the repository routes. `deps` must outlive the router.
Status RegisterRepoRoutes(http::Router& router, RepoApiDeps& deps);

}  // namespace aloft::server::api

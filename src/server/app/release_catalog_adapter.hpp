#pragma once

// The deployment service's view of releases (deployments::ReleaseCatalog), answered by the
// releases module from the Image repository's current signed targets.

#include "server/deployments/ports.hpp"
#include "server/releases/release_catalog.hpp"

namespace aloft::server::app {

class ReleaseCatalogAdapter final : public deployments::ReleaseCatalog {
 public:
  explicit ReleaseCatalogAdapter(releases::ReleaseCatalog& catalog) : catalog_(catalog) {}
  Result<deployments::Release> Find(std::string_view name) override {
    auto found = catalog_.Find(name);
    if (!found) return Fail(found.error());
    return deployments::Release{found->name, found->version, found->hardware_ids,
                                found->security_counter, found->target};
  }

 private:
  releases::ReleaseCatalog& catalog_;
};

}  // namespace aloft::server::app

#pragma once

// How server-built deltas (server/deltas) meet the rest of aloftd: they read releases from
// the releases module, and admission (deployments::BuiltDeltas) asks them for a pointer.

#include <string>
#include <vector>

#include "core/uptane/target_custom.hpp"
#include "server/deltas/delta_service.hpp"
#include "server/deployments/ports.hpp"
#include "server/releases/release_catalog.hpp"
#include "server/store/device_store.hpp"

namespace aloft::server::app {

class DeltaReleaseSource final : public deltas::ReleaseSource {
 public:
  explicit DeltaReleaseSource(releases::ReleaseCatalog& catalog) : catalog_(catalog) {}
  Result<std::vector<releases::Release>> List() override { return catalog_.List(); }

 private:
  releases::ReleaseCatalog& catalog_;
};

class BuiltDeltasAdapter final : public deployments::BuiltDeltas {
 public:
  // Deltas are prepared from the images most devices of the release's hardware run.
  static constexpr std::size_t kPreparedImages = 8;

  BuiltDeltasAdapter(deltas::DeltaService& service, store::DeviceStore& devices,
                     releases::ReleaseCatalog& catalog)
      : service_(service), devices_(devices), catalog_(catalog) {}
  std::optional<core::uptane::DeltaRef> Offer(std::string_view release,
                                              std::string_view image_sha256,
                                              std::string_view from_sha256) override {
    return service_.Offer(deltas::DeltaTarget{std::string(release), std::string(image_sha256)},
                          from_sha256);
  }
  void Prepare(std::string_view release, std::string_view image_sha256,
               const std::vector<std::string>& hardware_ids) override {
    for (const std::string& hardware_id : hardware_ids) {
      auto images = devices_.CommonImages(hardware_id, kPreparedImages);
      if (!images) continue;  // devices still get deltas built on demand
      // Where the offline keys signed a delta already, devices get that one.
      std::erase_if(*images, [&](const std::string& from) {
        return catalog_.Find(core::uptane::DeltaTargetName(release, from)).has_value();
      });
      service_.Prepare(deltas::DeltaTarget{std::string(release), std::string(image_sha256)},
                       *images);
    }
  }

 private:
  deltas::DeltaService& service_;
  store::DeviceStore& devices_;
  releases::ReleaseCatalog& catalog_;
};

}  // namespace aloft::server::app

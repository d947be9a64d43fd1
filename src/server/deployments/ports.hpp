#pragma once

// What the deployment service needs from the rest of aloftd, as two small interfaces the
// composition root implements: the releases the Image repository lists, and the Director
// that tells one device what to install.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"
#include "core/metadata/model.hpp"
#include "core/uptane/target_custom.hpp"
#include "server/repo/director_repository.hpp"

namespace aloft::server::deployments {

// One release: a target of the Image repository's current targets metadata.
struct Release {
  std::string name;  // the target path
  std::string version;
  std::vector<std::string> hardware_ids;
  std::int64_t security_counter = 0;
  // Length, hashes (sha256 required) and custom as the Image repository signed them; custom
  // is read for the payload digest of compressed artifacts (core/uptane/target_custom.hpp).
  core::metadata::TargetFile target_file;
};

// Thread-safety: Find may be called from several threads at once.
class ReleaseCatalog {
 public:
  virtual ~ReleaseCatalog() = default;
  // kNotFound when the Image repository lists no target with this path; other errors are
  // passed through.
  virtual Result<Release> Find(std::string_view name) = 0;
};

// Thread-safety: Assign may be called from several threads at once, for different devices.
class DirectorAssigner {
 public:
  virtual ~DirectorAssigner() = default;
  // Makes the Director name `image` for `device_id`, or nothing when nullopt (the device
  // stops installing). Called only when a device's assignment changes.
  virtual Status Assign(std::string_view device_id,
                        const std::optional<repo::AssignedImage>& image) = 0;
};

// Static device groups (server/groups), as admission sees them. The composition root adapts
// the group store. Thread-safety: both may be called from several threads at once.
class GroupMembership {
 public:
  virtual ~GroupMembership() = default;
  // Whether a group of this name exists (checked when a deployment is created).
  virtual Result<bool> Exists(std::string_view group) = 0;
  // The groups `device_id` is a member of now (read at check-in, only when an active
  // deployment that could admit the device names a group).
  virtual Result<std::vector<std::string>> GroupsOf(std::string_view device_id) = 0;
};

// Deltas aloftd builds itself (server/deltas), for a device whose image the Image repository
// signed no delta from. Thread-safety: Offer may be called from several threads at once.
class BuiltDeltas {
 public:
  virtual ~BuiltDeltas() = default;
  // A Director pointer ("builtBy": "server") to a ready delta from `from_sha256` to the
  // release (`release`, whose image digest is `image_sha256`); nullopt, after asking for one to
  // be built, when there is none yet. Never fails.
  virtual std::optional<core::uptane::DeltaRef> Offer(std::string_view release,
                                                      std::string_view image_sha256,
                                                      std::string_view from_sha256) = 0;
  // A deployment of the release was created for devices of `hardware_ids`: start building
  // deltas from the images they run. Never fails.
  virtual void Prepare(std::string_view release, std::string_view image_sha256,
                       const std::vector<std::string>& hardware_ids) = 0;
};

// The production DirectorAssigner: publishes through the Director repository (one signed
// targets/snapshot/timestamp per change). `director` must outlive this object.
class DirectorRepositoryAssigner final : public DirectorAssigner {
 public:
  explicit DirectorRepositoryAssigner(repo::DirectorRepository& director) : director_(director) {}
  Status Assign(std::string_view device_id,
                const std::optional<repo::AssignedImage>& image) override {
    return director_.Assign(device_id, image);
  }

 private:
  repo::DirectorRepository& director_;
};

}  // namespace aloft::server::deployments

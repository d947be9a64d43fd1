#pragma once

// A release as operators see it: one target of the Image repository's offline-signed targets
// metadata. Everything here comes from signed data; aloftd adds nothing of its own, so what
// the console shows is what devices will verify.

#include <cstdint>
#include <string>
#include <vector>

#include "core/base/result.hpp"
#include "core/codec/json.hpp"
#include "core/metadata/model.hpp"

namespace aloft::server::releases {

struct Release {
  std::string name;  // the target path, e.g. "rpi4-os-2.0.img.zst"
  std::string version;
  std::vector<std::string> hardware_ids;
  std::int64_t security_counter = 0;
  std::string notes;                   // custom "notes", when the signer wrote one
  core::metadata::TargetFile target;  // length and hashes of the artifact as downloaded
  std::string sha256;                 // target.hashes["sha256"]
};

// The release behind one signed target entry. kInvalidArgument when the entry has no sha256
// hash or no valid Aloft image custom data (the Image repository refuses such targets, so
// this only fails on metadata that did not come through it).
Result<Release> ReleaseFromTarget(const std::string& name, const core::metadata::TargetFile& target);

core::codec::Json ToJson(const Release& release);

}  // namespace aloft::server::releases

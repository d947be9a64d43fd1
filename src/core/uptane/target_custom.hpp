#pragma once

// The "custom" members Aloft puts into target entries, and what each repository may say.
//
// Image repository (offline-signed; what a release *is*):
//   {"version": "2.1.0", "hardwareIds": ["rpi4", "rpi4-lite"], "securityCounter": 3,
//    "releaseName": "...", "payload": {"format": "raw", "compression": "zstd" | "none",
//    "length": <uncompressed bytes>, "sha256": "<hex of the uncompressed image>"}}
// Director repository (online-signed; what one device should do now):
//   {"hardwareId": "rpi4", "deviceId": "...", "deploymentId": "..."}
// Anything else is kept (it is signed) and ignored.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/base/result.hpp"
#include "core/codec/json.hpp"

namespace aloft::core::uptane {

// How the artifact is packed; the signed target hashes cover the artifact as downloaded.
struct PayloadInfo {
  std::string format = "raw";        // "raw": a full image for a slot
  std::string compression = "none";  // "none" or "zstd"
  std::int64_t length = 0;           // bytes after decompression
  std::string sha256;                // hex digest after decompression (what the slot must hold)
};

struct ImageCustom {
  std::string version;
  std::vector<std::string> hardware_ids;
  std::int64_t security_counter = 0;
  std::optional<PayloadInfo> payload;  // absent: the artifact is the raw image itself
};

struct DirectorCustom {
  std::string hardware_id;
  std::string device_id;
  std::string deployment_id;
};

// Parse the custom object of a target entry. Errors are kInvalidArgument naming the field.
Result<ImageCustom> ParseImageCustom(const codec::Json& custom);
Result<DirectorCustom> ParseDirectorCustom(const codec::Json& custom);

codec::Json ToJson(const ImageCustom& custom);
codec::Json ToJson(const DirectorCustom& custom);

}  // namespace aloft::core::uptane

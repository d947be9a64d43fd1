#include "agent/bundle/offline_bundle.hpp"

#include <algorithm>
#include <system_error>

#include "agent/uptane_client/uptane_client.hpp"
#include "core/codec/json.hpp"
#include "core/metadata/updater.hpp"
#include "platform/posix/directory_metadata_store.hpp"
#include "platform/posix/files.hpp"

namespace aloft::agent::bundle {
namespace {

namespace fs = std::filesystem;
namespace metadata = core::metadata;
using platform::posix::DirectoryMetadataStore;

constexpr std::string_view kScheme = "bundle:/";
constexpr std::size_t kMaxManifestBytes = 16 * 1024;

// The Updater's view of the bundle: "bundle:/metadata/<file>" is the member "metadata/<file>".
class BundleFetcher final : public metadata::Fetcher {
 public:
  explicit BundleFetcher(BundleReader& reader) : reader_(reader) {}
  Status Fetch(const std::string& url, std::size_t max_bytes, core::io::Writer& sink) override {
    if (!url.starts_with(kScheme)) return Fail(Errc::kInvalidArgument, "not a bundle URL: " + url);
    auto bytes = reader_.Read(std::string_view(url).substr(kScheme.size()), max_bytes);
    if (!bytes) return Fail(std::move(bytes).error());
    return sink.Write(*bytes);
  }

 private:
  BundleReader& reader_;
};

Result<std::string> ManifestTarget(BundleReader& reader) {
  auto bytes = reader.Read(kManifestName, kMaxManifestBytes);
  if (!bytes) {
    if (bytes.error().code() == Errc::kNotFound) {
      return Fail(Errc::kInvalidArgument, "not an update bundle: no bundle.json");
    }
    return Fail(std::move(bytes).error());
  }
  auto json = core::codec::ParseJson(AsChars(*bytes));
  if (!json) return Fail(Errc::kInvalidArgument, "bundle.json: " + json.error().message());
  auto format = core::codec::GetInt(*json, "format");
  if (!format || *format != 1) {
    return Fail(Errc::kInvalidArgument, "bundle.json: unsupported or missing format (want 1)");
  }
  auto target = core::codec::GetString(*json, "target");
  if (!target || target->empty()) {
    return Fail(Errc::kInvalidArgument, "bundle.json: missing target");
  }
  return std::move(*target);
}

// A fresh scratch store holding the device's newest trusted Image root.
Result<DirectoryMetadataStore> ScratchStore(const BundleOptions& options) {
  std::error_code ec;
  fs::remove_all(options.scratch_dir, ec);
  if (ec) return Fail(Errc::kIo, "removing " + options.scratch_dir.string() + ": " + ec.message());
  if (Status made = platform::posix::EnsurePrivateDirectory(options.scratch_dir); !made) {
    return Fail(made.error());
  }
  DirectoryMetadataStore scratch(options.scratch_dir);
  DirectoryMetadataStore device(options.image_metadata_dir);
  auto root = device.Load(metadata::kRoot);
  if (root && *root) {
    if (Status stored = scratch.Store(metadata::kRoot, **root); !stored)
      return Fail(stored.error());
    return scratch;
  }
  if (Status seeded =
          uptane_client::SeedTrustAnchor(scratch, options.image_root, options.max_metadata_bytes);
      !seeded) {
    return Fail(std::move(seeded).error().WithContext("image trust anchor"));
  }
  return scratch;
}

}  // namespace

Result<BundleImage> VerifyBundle(BundleReader& reader, const BundleOptions& options,
                                 const Clock& clock, const core::uptane::DeviceIdentity& device) {
  auto path = ManifestTarget(reader);
  if (!path) return Fail(std::move(path).error());
  auto store = ScratchStore(options);
  if (!store) return Fail(std::move(store).error().WithContext("bundle"));
  BundleFetcher fetcher(reader);
  metadata::Updater image(uptane_client::UpdaterConfigFor(std::string(kScheme) + "metadata/",
                                                          std::string(kScheme) + "targets/",
                                                          options.max_metadata_bytes),
                          fetcher, *store, clock.Now());
  auto target = image.FindTarget(*path);
  if (!target) return Fail(std::move(target).error().WithContext("bundle image repository"));

  auto custom = core::uptane::ParseImageCustom(target->file.custom);
  if (!custom) return Fail(std::move(custom).error().WithContext("image target " + *path));
  const auto& ids = custom->hardware_ids;
  if (std::find(ids.begin(), ids.end(), device.hardware_id) == ids.end()) {
    return Fail(Errc::kVerificationFailed,
                "image " + *path + " was not released for hardware '" + device.hardware_id + "'");
  }
  if (custom->security_counter < device.installed_security_counter) {
    return Fail(Errc::kRollback, "image " + *path + " has security counter " +
                                     std::to_string(custom->security_counter) +
                                     ", below the installed " +
                                     std::to_string(device.installed_security_counter));
  }
  const auto sha = target->file.hashes.find("sha256");
  if (sha == target->file.hashes.end()) {
    return Fail(Errc::kInvalidArgument, "image target " + *path + " has no sha256");
  }
  const std::size_t slash = path->rfind('/');
  const std::string basename = slash == std::string::npos ? *path : path->substr(slash + 1);
  BundleImage out;
  out.artifact_member = "targets/" + sha->second + "." + basename;
  out.image.target_path = *path;
  out.image.target = target->file;
  out.image.image = std::move(*custom);
  return out;
}

}  // namespace aloft::agent::bundle

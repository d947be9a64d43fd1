#pragma once

// A stand-in for aloftd on 127.0.0.1 (TestHttpServer), speaking the device side of the API
// contract exactly: enroll, auth (bearer tokens, 401 when stale), updates, inventory, reports,
// the Director and Image repositories (RepoBuilder, consistent snapshots, bearer token
// required) and public targets at /api/v1/targets/<sha256>.<basename> with Range support.
// Tests drive it like an operator: release an image, assign it to the device, tamper with it.
//
// Thread-safety: the server thread runs Handle(); everything it touches is under mutex_.

#include <zstd.h>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/config/config.hpp"
#include "core/codec/json.hpp"
#include "core/crypto/hash.hpp"
#include "core/uptane/target_custom.hpp"
#include "core/wire/device_api.hpp"
#include "platform/posix/files.hpp"
#include "testing/fake_clock.hpp"
#include "testing/http_server.hpp"
#include "testing/repo_builder.hpp"

namespace aloft::agent::client::testing {

using aloft::testing::TestHttpServer;
namespace wire = core::wire;

inline Bytes Zstd(ByteView data) {
  Bytes out(ZSTD_compressBound(data.size()));
  const size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3);
  out.resize(ZSTD_isError(n) ? 0 : n);
  return out;
}

// An image a test releases: `image` is what the slot must hold; the artifact is its zstd frame.
struct Release {
  std::string path = "rootfs-2.0.img.zst";
  std::string version = "2.0";
  Bytes image;
  std::vector<std::string> hardware_ids{"rpi4"};
  std::int64_t security_counter = 5;

  Bytes Artifact() const { return Zstd(image); }
};

// A deterministic image body, `marker` first (the demo health check reads it).
inline Bytes MakeImage(std::string_view marker, std::size_t size, std::uint8_t seed) {
  Bytes out(marker.begin(), marker.end());
  out.resize(size);
  std::uint32_t x = 2463534242u + seed;
  for (std::size_t i = marker.size(); i < size; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    // Compressible but not trivially: a narrow alphabet.
    out[i] = static_cast<std::uint8_t>('a' + (x % 7));
  }
  return out;
}

struct SeenRequest {
  std::string method;
  std::string path;
  std::string range;
  bool authorized = false;
};

class FakeAloftd {
 public:
  explicit FakeAloftd(const aloft::testing::FakeClock& clock)
      : clock_(clock),
        director_(core::crypto::KeyType::kEd25519, aloft::testing::RepoBuilder::DefaultNow()),
        image_(core::crypto::KeyType::kEd25519, aloft::testing::RepoBuilder::DefaultNow()) {
    auto server = TestHttpServer::Start();
    if (server) server_ = std::move(*server);
    server_->SetHandler([this](const TestHttpServer::Request& r) { return Handle(r); });
    Publish();
  }
  // The server thread reads the members below: stop it before they go.
  ~FakeAloftd() { server_->Stop(); }
  FakeAloftd(const FakeAloftd&) = delete;
  FakeAloftd& operator=(const FakeAloftd&) = delete;

  std::string url() const { return server_->BaseUrl(); }
  TestHttpServer& server() { return *server_; }
  Bytes DirectorRoot() const { return director_.RootBytes(1); }
  Bytes ImageRoot() const { return image_.RootBytes(1); }
  aloft::testing::RepoBuilder& image_repo() { return image_; }

  // The Image repository signs `release` (offline keys in real life).
  void ReleaseImage(const Release& release) {
    std::lock_guard lock(mutex_);
    const Bytes artifact = release.Artifact();
    image_.AddTarget(release.path, artifact);
    core::uptane::ImageCustom custom;
    custom.version = release.version;
    custom.hardware_ids = release.hardware_ids;
    custom.security_counter = release.security_counter;
    core::uptane::PayloadInfo payload;
    payload.compression = "zstd";
    payload.length = static_cast<std::int64_t>(release.image.size());
    payload.sha256 = core::crypto::Sha256Hex(release.image);
    custom.payload = payload;
    image_.targets["targets"].targets[release.path].custom = core::uptane::ToJson(custom);
    image_.PublishTargetsChange();
    PublishLocked();
  }

  // The Image repository signs `patch` as the delta from `from_image` to `to` (as `aloftctl
  // release create --delta-from` does). Returns the delta's target path.
  std::string ReleaseDelta(const Release& to, ByteView from_image, const Bytes& patch) {
    std::lock_guard lock(mutex_);
    const std::string name =
        core::uptane::DeltaTargetName(to.path, core::crypto::Sha256Hex(from_image));
    image_.AddTarget(name, patch);
    core::uptane::ImageCustom custom;
    custom.version = to.version;
    custom.hardware_ids = to.hardware_ids;
    custom.security_counter = to.security_counter;
    custom.delta = core::uptane::DeltaInfo{
        core::crypto::Sha256Hex(from_image), static_cast<std::int64_t>(from_image.size()),
        to.path, core::crypto::Sha256Hex(to.image), static_cast<std::int64_t>(to.image.size())};
    image_.targets["targets"].targets[name].custom = core::uptane::ToJson(custom);
    image_.PublishTargetsChange();
    PublishLocked();
    return name;
  }
  // The artifact bytes the Image repository signed for `path`.
  Bytes ImageArtifact(const std::string& path) const {
    std::lock_guard lock(mutex_);
    auto it = image_.artifacts.find(path);
    return it == image_.artifacts.end() ? Bytes{} : it->second;
  }
  static std::string TargetPathOf(const std::string& path, ByteView artifact) {
    return "/api/v1/targets/" + core::crypto::Sha256Hex(artifact) + "." + path;
  }

  // The Director assigns `release` to dev-1 in `deployment`. `artifact` overrides what the
  // Director describes (length and hashes), to make it disagree with the Image repository.
  // `delta` names a delta target the Director points at (with the length and hashes of
  // `delta_artifact`, or of what the Image repository signed for it).
  void Assign(const Release& release, const std::string& deployment,
              std::optional<Bytes> artifact = std::nullopt,
              const std::string& hardware_id = "rpi4", const std::string& delta = "",
              std::optional<Bytes> delta_artifact = std::nullopt) {
    std::lock_guard lock(mutex_);
    auto& targets = director_.targets["targets"];
    targets.targets.clear();
    director_.AddTarget(release.path, artifact ? *artifact : release.Artifact());
    director_.artifacts.clear();  // the Director serves no artifacts
    core::uptane::DirectorCustom custom{hardware_id, "dev-1", deployment};
    if (!delta.empty()) {
      const Bytes patch = delta_artifact ? *delta_artifact : image_.artifacts.at(delta);
      core::metadata::TargetFile file;
      file.length = static_cast<std::int64_t>(patch.size());
      file.hashes = {{"sha256", core::crypto::Sha256Hex(patch)}};
      custom.delta = core::uptane::DeltaRef{delta, file};
    }
    targets.targets[release.path].custom = core::uptane::ToJson(custom);
    director_.PublishTargetsChange();
    deployment_ = deployment;
    update_available_ = true;
    PublishLocked();
  }

  // Like a delta aloftd built itself: the Director points at `patch` (served under the target
  // name `name`) with its own binding from `from_image` to `release`'s image, and the Image
  // repository knows nothing of it. `binding_image` overrides the image the binding names.
  void AssignServerBuilt(const Release& release, const std::string& deployment,
                         const std::string& name, ByteView from_image, const Bytes& patch,
                         std::optional<Bytes> binding_image = std::nullopt) {
    Assign(release, deployment);
    std::lock_guard lock(mutex_);
    auto& target = director_.targets["targets"].targets.at(release.path);
    auto custom = core::uptane::ParseDirectorCustom(target.custom);
    const Bytes& to = binding_image ? *binding_image : release.image;
    core::metadata::TargetFile file;
    file.length = static_cast<std::int64_t>(patch.size());
    file.hashes = {{"sha256", core::crypto::Sha256Hex(patch)}};
    core::uptane::DeltaRef ref{name, file};
    ref.server_built = core::uptane::DeltaInfo{
        core::crypto::Sha256Hex(from_image), static_cast<std::int64_t>(from_image.size()), "",
        core::crypto::Sha256Hex(to), static_cast<std::int64_t>(to.size())};
    custom->delta = std::move(ref);
    target.custom = core::uptane::ToJson(*custom);
    director_.PublishTargetsChange();
    server_->SetFile(TargetPathOf(name, patch), patch);
    PublishLocked();
  }

  // Replaces the bytes served for `release`'s artifact (same URL): a tampered mirror.
  void ServeArtifact(const Release& release, Bytes bytes) {
    server_->SetFile(TargetPath(release), std::move(bytes));
  }
  static std::string TargetPath(const Release& release) {
    return "/api/v1/targets/" + core::crypto::Sha256Hex(release.Artifact()) + "." + release.path;
  }

  // Answers every request with 503 while down.
  void SetDown(bool down) {
    std::lock_guard lock(mutex_);
    down_ = down;
  }
  // Enrollment answers 202 pending until accepted.
  void SetAccepting(bool accepting) {
    std::lock_guard lock(mutex_);
    accepting_ = accepting;
  }
  // Every token issued so far stops working (a restart with a new signing key).
  void RevokeTokens() {
    std::lock_guard lock(mutex_);
    ++token_generation_;
  }
  // Called for requests under /api/v1/targets/ before the files; nullopt falls through.
  void SetTargetHook(TestHttpServer::Handler hook) {
    std::lock_guard lock(mutex_);
    target_hook_ = std::move(hook);
  }

  std::vector<wire::Report> reports() const {
    std::lock_guard lock(mutex_);
    return reports_;
  }
  std::vector<std::string> ReportIds() const {
    std::vector<std::string> ids;
    for (const auto& r : reports()) ids.push_back(r.id);
    return ids;
  }
  std::optional<wire::Inventory> inventory() const {
    std::lock_guard lock(mutex_);
    return inventory_;
  }
  int inventory_puts() const {
    std::lock_guard lock(mutex_);
    return inventory_puts_;
  }
  int authentications() const {
    std::lock_guard lock(mutex_);
    return authentications_;
  }
  std::vector<SeenRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  int CountRequests(std::string_view prefix) const {
    int n = 0;
    for (const auto& r : requests()) n += r.path.starts_with(prefix) ? 1 : 0;
    return n;
  }
  bool update_available() const {
    std::lock_guard lock(mutex_);
    return update_available_;
  }

 private:
  static TestHttpServer::Response Json(int status, const core::codec::Json& body) {
    TestHttpServer::Response response;
    response.status = status;
    response.body = ToBytes(core::codec::DumpJson(body));
    response.headers.emplace_back("Content-Type", "application/json");
    return response;
  }
  static TestHttpServer::Response ErrorBody(int status, const std::string& code) {
    return Json(status,
                core::codec::Json::Object{
                    {"error", core::codec::Json::Object{{"code", code}, {"message", code}}}});
  }
  static std::optional<core::codec::Json> Body(const TestHttpServer::Request& r) {
    auto json = core::codec::ParseJson(AsChars(r.body));
    if (!json) return std::nullopt;
    return std::move(*json);
  }

  std::string Token() const { return "tok-" + std::to_string(token_generation_); }

  void Publish() {
    std::lock_guard lock(mutex_);
    PublishLocked();
  }
  void PublishLocked() {
    for (auto* repo : {&director_, &image_}) {
      const std::string prefix = repo == &director_ ? "/api/v1/director/" : "/api/v1/image/";
      for (const auto& [name, bytes] : repo->Files()) {
        if (name.starts_with("metadata/")) server_->SetFile(prefix + name.substr(9), bytes);
      }
    }
    for (const auto& [path, content] : image_.artifacts) {
      server_->SetFile("/api/v1/targets/" + core::crypto::Sha256Hex(content) + "." + path, content);
    }
  }

  std::optional<TestHttpServer::Response> Handle(const TestHttpServer::Request& r) {
    TestHttpServer::Handler hook;
    {
      std::lock_guard lock(mutex_);
      auto auth = r.headers.find("authorization");
      const bool authorized = auth != r.headers.end() && auth->second == "Bearer " + Token();
      auto range = r.headers.find("range");
      requests_.push_back(
          {r.method, r.path, range == r.headers.end() ? "" : range->second, authorized});
      if (down_) return ErrorBody(503, "unavailable");
      if (r.path == "/api/v1/device/enroll" && r.method == "POST") {
        auto body = Body(r);
        if (!body || !wire::ParseEnrollRequest(*body)) return ErrorBody(400, "bad_request");
        return Json(accepting_ ? 200 : 202,
                    core::codec::Json::Object{{"status", accepting_ ? "accepted" : "pending"}});
      }
      if (r.path == "/api/v1/device/auth" && r.method == "POST") {
        auto body = Body(r);
        if (!body || !wire::ParseAuthRequest(*body)) return ErrorBody(400, "bad_request");
        if (!accepting_) return ErrorBody(403, "device_not_accepted");
        ++authentications_;
        return Json(
            200, wire::ToJson(wire::AuthResponse{Token(), clock_.Now() + std::chrono::hours(1)}));
      }
      const bool needs_token = r.path.starts_with("/api/v1/device/") ||
                               r.path.starts_with("/api/v1/director/") ||
                               r.path.starts_with("/api/v1/image/");
      if (needs_token && !authorized) return ErrorBody(401, "unauthenticated");
      if (r.path == "/api/v1/device/updates" && r.method == "GET") {
        return Json(200, wire::ToJson(wire::CheckInResponse{
                             update_available_, director_.targets["targets"].common.version,
                             update_available_ ? deployment_ : ""}));
      }
      if (r.path == "/api/v1/device/inventory" && r.method == "PUT") {
        auto body = Body(r);
        if (!body) return ErrorBody(400, "bad_request");
        auto inventory = wire::ParseInventory(*body);
        if (!inventory) return ErrorBody(400, "bad_request");
        inventory_ = std::move(*inventory);
        ++inventory_puts_;
        TestHttpServer::Response none;
        none.status = 204;
        return none;
      }
      if (r.path == "/api/v1/device/reports" && r.method == "POST") {
        auto body = Body(r);
        if (!body) return ErrorBody(400, "bad_request");
        auto batch = wire::ParseReportBatch(*body);
        if (!batch) return ErrorBody(400, "bad_request");
        wire::ReportAck ack;
        for (const wire::Report& report : batch->reports) {
          ack.accepted_ids.push_back(report.id);
          bool seen = false;
          for (const auto& known : reports_) seen = seen || known.id == report.id;
          if (seen) continue;
          reports_.push_back(report);
          const bool final = report.state == wire::UpdateState::kSucceeded ||
                             report.state == wire::UpdateState::kFailed ||
                             report.state == wire::UpdateState::kRolledBack;
          if (final && report.deployment_id == deployment_) update_available_ = false;
        }
        return Json(200, wire::ToJson(ack));
      }
      if (r.path.starts_with("/api/v1/targets/")) hook = target_hook_;
    }
    if (hook) return hook(r);
    return std::nullopt;  // metadata and artifacts: the files
  }

  const aloft::testing::FakeClock& clock_;
  std::unique_ptr<TestHttpServer> server_;
  mutable std::mutex mutex_;
  aloft::testing::RepoBuilder director_;
  aloft::testing::RepoBuilder image_;
  std::string deployment_;
  bool update_available_ = false;
  bool down_ = false;
  bool accepting_ = true;
  int token_generation_ = 1;
  int authentications_ = 0;
  int inventory_puts_ = 0;
  std::optional<wire::Inventory> inventory_;
  std::vector<wire::Report> reports_;
  std::vector<SeenRequest> requests_;
  TestHttpServer::Handler target_hook_;
};

// The device the client tests run, all under `dir`: dev-1 on rpi4, file slots A (holding a
// factory image) and B, the simulated bootloader, and `server`'s two trust anchors written to
// disk. Tests add their own download and health-check settings.
inline Result<config::AgentConfig> PrepareDevice(const FakeAloftd& server,
                                                 const std::filesystem::path& dir) {
  config::AgentConfig c;
  c.server_url = server.url();
  c.allow_insecure_loopback = true;
  c.device_id = "dev-1";
  c.hardware_id = "rpi4";
  c.data_dir = dir / "agent";
  c.key_file = c.data_dir / "device.key";
  c.slots.a = {slots::SlotId::kA, slots::SlotKind::kFile, dir / "slot-a.img"};
  c.slots.b = {slots::SlotId::kB, slots::SlotKind::kFile, dir / "slot-b.img"};
  c.bootloader.kind = config::BootloaderKind::kSimulated;
  c.bootloader.env = dir / "boot.json";
  c.director_root = dir / "director-root.json";
  c.image_root = dir / "image-root.json";
  for (Status s : {platform::posix::AtomicWriteFile(*c.director_root, server.DirectorRoot()),
                   platform::posix::AtomicWriteFile(*c.image_root, server.ImageRoot()),
                   platform::posix::AtomicWriteFile(c.slots.a.device,
                                                    AsBytes("factory image 1.0"))}) {
    if (!s) return Fail(s.error());
  }
  return c;
}

}  // namespace aloft::agent::client::testing

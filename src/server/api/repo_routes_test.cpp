// The repositories as a device reaches them: the real core TUF client and the Uptane
// cross-check, fetching through the router's handlers in-process with the device's bearer
// token, exactly as the HTTP transport would call them.

#include "server/api/repo_routes.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/crypto/hash.hpp"
#include "core/metadata/updater.hpp"
#include "core/uptane/image_match.hpp"
#include "core/wire/device_api.hpp"
#include "platform/sqlite/migrator.hpp"
#include "server/repo/sqlite/sqlite_repo_store.hpp"
#include "server/store/sqlite/migrations.hpp"
#include "server/store/sqlite/sqlite_device_store.hpp"
#include "testing/fake_clock.hpp"
#include "testing/memory_metadata_store.hpp"
#include "testing/repo_builder.hpp"
#include "testing/temp_dir_fixture.hpp"

// The repositories' test fixture (as in server/repo/repositories_test.cpp): a migrated store,
// online keys, a fake clock and an offline Image repository whose root names the online keys.
namespace aloft::server::repo {
namespace {

// Serves repository files by their last URL segment through `serve`; kNotFound stays
// kNotFound (end of the root chain), other errors become kUnavailable, as over HTTP.
class FunctionFetcher final : public core::metadata::Fetcher {
 public:
  using Serve = std::function<Result<Bytes>(const std::string& name)>;
  explicit FunctionFetcher(Serve serve) : serve_(std::move(serve)) {}
  Status Fetch(const std::string& url, std::size_t max_bytes, core::io::Writer& sink) override {
    auto bytes = serve_(url.substr(url.rfind('/') + 1));
    if (!bytes) {
      if (bytes.error().code() == Errc::kNotFound) return Fail(bytes.error());
      return Fail(Errc::kUnavailable, bytes.error().ToString());
    }
    if (bytes->size() > max_bytes) return Fail(Errc::kTooLarge, "too large");
    return sink.Write(*bytes);
  }

 private:
  Serve serve_;
};

// One TUF client run: an updater that starts from `root` and reads through `serve`.
struct Client {
  Client(FunctionFetcher::Serve serve, const Bytes& root, Timestamp now)
      : fetcher(std::move(serve)), updater(Config(), fetcher, store, now) {
    EXPECT_TRUE(store.Store("root", root));
  }
  static core::metadata::UpdaterConfig Config() {
    core::metadata::UpdaterConfig config;
    config.metadata_url = "https://aloftd.test/metadata";
    config.targets_url = "https://aloftd.test/targets";
    return config;
  }
  FunctionFetcher fetcher;
  testing::MemoryMetadataStore store;
  core::metadata::Updater updater;
};

class RepoTest : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    auto pool = platform::sqlite::ConnectionPool::Open(dir_ / "aloft.db", {}, 2);
    ASSERT_TRUE(pool) << pool.error().ToString();
    pool_ = std::move(*pool);
    {
      auto lease = pool_->Acquire(std::chrono::seconds(1));
      ASSERT_TRUE(lease);
      ASSERT_TRUE(platform::sqlite::Migrator(store::sqlite::ServerMigrations()).Migrate(**lease));
    }
    store_.emplace(*pool_);
    auto keys = OnlineKeys::Generate();
    ASSERT_TRUE(keys);
    keys_ = std::move(*keys);
    image_.emplace(*store_, keys_, clock_);
    director_.emplace(*store_, keys_, clock_);
    // The operators' offline repository: their own root and targets keys, the server's online
    // snapshot and timestamp keys.
    offline_.SetRoleKeys("snapshot", {keys_.image_snapshot});
    offline_.SetRoleKeys("timestamp", {keys_.image_timestamp});
  }

  // The offline root as it stands, signed by its root keys and `extra` (old keys, rotation).
  Bytes SignedRoot(const std::vector<core::crypto::PrivateKey>& extra = {}) {
    auto envelope = core::metadata::SignMetadata(core::metadata::ToJson(offline_.root),
                                                 offline_.signers.at("root"));
    EXPECT_TRUE(envelope);
    for (const auto& key : extra) EXPECT_TRUE(core::metadata::AddSignature(*envelope, key));
    return ToBytes(core::metadata::Serialize(*envelope));
  }

  // Adds a released image to the offline targets and bumps their version.
  void Release(const std::string& path, const std::string& content, std::int64_t counter = 5,
               std::vector<std::string> hardware = {"rpi4"}) {
    offline_.AddTarget(path, ToBytes(content));
    core::uptane::ImageCustom custom;
    custom.version = "2.0";
    custom.hardware_ids = std::move(hardware);
    custom.security_counter = counter;
    offline_.targets.at("targets").targets.at(path).custom = core::uptane::ToJson(custom);
    offline_.BumpTargets();
  }
  Bytes OfflineTargets() { return offline_.RoleBytes("targets"); }

  // Root v1 and one release uploaded.
  void PublishRelease(const std::string& path = "rpi4/os-2.0.img",
                      const std::string& content = "os image 2.0") {
    image_root_v1_ = SignedRoot();
    ASSERT_TRUE(image_->UploadRoot(image_root_v1_));
    Release(path, content);
    Status s = image_->UploadTargets(OfflineTargets());
    ASSERT_TRUE(s) << s.error().ToString();
  }

  FunctionFetcher::Serve ImageServe() {
    return [this](const std::string& name) { return image_->File(name); };
  }
  FunctionFetcher::Serve DirectorServe(std::string device_id) {
    return [this, device_id](const std::string& name) { return director_->File(device_id, name); };
  }
  Timestamp Now() const { return std::chrono::floor<std::chrono::seconds>(clock_.Now()); }

  // What a device does: refresh the Director, then check its choice against the Image
  // repository (root v1 as shipped on the device for both).
  Result<std::optional<core::uptane::ApprovedImage>> DeviceCheck(const std::string& device_id,
                                                                 std::int64_t counter = 1) {
    Client director(DirectorServe(device_id), *director_->Root(), Now());
    if (Status s = director.updater.Refresh(); !s) return Fail(s.error().WithContext("director"));
    Client image(ImageServe(), image_root_v1_, Now());
    return core::uptane::SelectApprovedImage(*director.updater.trusted()->targets(), image.updater,
                                             {device_id, "rpi4", counter});
  }

  AssignedImage Assignment(const std::string& path, const std::string& content) {
    AssignedImage a;
    a.target_path = path;
    a.target.length = static_cast<std::int64_t>(content.size());
    a.target.hashes = {{"sha256", core::crypto::Sha256Hex(ToBytes(content))}};
    a.hardware_id = "rpi4";
    a.deployment_id = "dep-1";
    return a;
  }

  testing::FakeClock clock_{testing::RepoBuilder::DefaultNow()};
  std::unique_ptr<platform::sqlite::ConnectionPool> pool_;
  std::optional<sqlite::SqliteRepoStore> store_;
  OnlineKeys keys_;
  std::optional<ImageRepository> image_;
  std::optional<DirectorRepository> director_;
  testing::RepoBuilder offline_;
  Bytes image_root_v1_;  // what devices ship; set by PublishRelease
};

}  // namespace
}  // namespace aloft::server::repo

namespace aloft::server::api {
namespace {

using repo::Client;

class RepoRoutesTest : public repo::RepoTest {
 protected:
  void SetUp() override {
    RepoTest::SetUp();
    devices_.emplace(*pool_);
    enrollment_.emplace(*devices_, *devices_, clock_);
    directory_.emplace(*devices_);
    authenticator_.emplace(
        *directory_, clock_,
        auth::DeviceAuthenticator::Options{"https://ota.test", std::chrono::seconds(300), 1000});
    tokens_.emplace(*auth::TokenService::Create(Bytes(32, 9), clock_, std::chrono::minutes(15)));
    limiter_.emplace(clock_, http::RateLimit{1000, 1000, 1000});
    device_deps_.emplace(DeviceApiDeps{*enrollment_, *authenticator_, *tokens_, *devices_,
                                       *devices_, *limiter_, clock_});
    deps_.emplace(RepoApiDeps{*device_deps_, *image_, *director_});
    ASSERT_TRUE(RegisterRepoRoutes(router_, *deps_));
  }

  // An enrolled, accepted device; returns its token.
  std::string Enroll(const std::string& id) {
    auto key = *core::crypto::PrivateKey::Generate(core::crypto::KeyType::kEd25519);
    EXPECT_TRUE(enrollment_->PreauthorizeKey(id, "rpi4", key.Public().ToTufJson()));
    EXPECT_TRUE(
        enrollment_->Enroll(core::wire::EnrollRequest{id, "rpi4", key.Public().ToTufJson(), ""}));
    return *tokens_->Issue("device", id);
  }

  // GET `path` through the router, as the server would dispatch it.
  http::Response Get(const std::string& path, const std::string& token) {
    auto target = http::ParseTarget(path);
    EXPECT_TRUE(target) << path;
    http::Request request;
    request.method = http::Method::kGet;
    request.method_name = "GET";
    request.target = path;
    request.path = target->path;
    request.segments = target->segments;
    if (!token.empty()) request.headers.Add("Authorization", "Bearer " + token);
    auto match = router_.Find(http::Method::kGet, request.segments);
    if (match.route == nullptr) return http::Response::Error(404, "not_found", "no route");
    return http::InvokeHandler(*match.route, request, match.params, [](std::string_view) {});
  }

  // A client's view of one repository route: 403/404 are "not found", as over HTTP.
  repo::FunctionFetcher::Serve Route(const std::string& repo, const std::string& token) {
    return [this, repo, token](const std::string& name) -> Result<Bytes> {
      http::Response r = Get("/api/v1/" + repo + "/" + name, token);
      if (r.status == 404 || r.status == 403) return Fail(Errc::kNotFound, r.body);
      if (r.status != 200) return Fail(Errc::kUnavailable, std::to_string(r.status));
      return ToBytes(r.body);
    };
  }

  // The whole device workflow over the routes.
  Result<std::optional<core::uptane::ApprovedImage>> Device(const std::string& id,
                                                            const std::string& token) {
    Client director(Route("director", token), *director_->Root(), Now());
    if (Status s = director.updater.Refresh(); !s) return Fail(s.error().WithContext("director"));
    Client image(Route("image", token), image_root_v1_, Now());
    return core::uptane::SelectApprovedImage(*director.updater.trusted()->targets(), image.updater,
                                             {id, "rpi4", 1});
  }

  std::optional<store::sqlite::SqliteDeviceStore> devices_;
  std::optional<devices::EnrollmentService> enrollment_;
  std::optional<devices::StoreDeviceDirectory> directory_;
  std::optional<auth::DeviceAuthenticator> authenticator_;
  std::optional<auth::TokenService> tokens_;
  std::optional<http::RateLimiter> limiter_;
  std::optional<DeviceApiDeps> device_deps_;
  std::optional<RepoApiDeps> deps_;
  http::Router router_;
};

TEST_F(RepoRoutesTest, DevicesGetTheirOwnApprovedAssignment) {
  PublishRelease("rpi4/os-2.0.img", "os image 2.0");
  const std::string a = Enroll("dev-a");
  const std::string b = Enroll("dev-b");
  repo::AssignedImage image = Assignment("rpi4/os-2.0.img", "os image 2.0");
  ASSERT_TRUE(director_->Assign("dev-a", image));

  auto approved = Device("dev-a", a);
  ASSERT_TRUE(approved) << approved.error().ToString();
  ASSERT_TRUE(approved->has_value());
  EXPECT_EQ((*approved)->target_path, "rpi4/os-2.0.img");
  EXPECT_EQ((*approved)->director.device_id, "dev-a");

  // B, reading the very same file names, gets its own (empty) instructions.
  auto other = Device("dev-b", b);
  ASSERT_TRUE(other) << other.error().ToString();
  EXPECT_FALSE(other->has_value());
  http::Response b_targets = Get("/api/v1/director/1.targets.json", b);
  ASSERT_EQ(b_targets.status, 200);
  EXPECT_EQ(b_targets.body.find("rpi4/os-2.0.img"), std::string::npos);
  EXPECT_NE(Get("/api/v1/director/1.targets.json", a).body.find("rpi4/os-2.0.img"),
            std::string::npos);
}

TEST_F(RepoRoutesTest, UnreleasedAssignmentIsRejectedOnTheDevice) {
  PublishRelease("rpi4/os-2.0.img", "os image 2.0");
  const std::string a = Enroll("dev-a");
  ASSERT_TRUE(director_->Assign("dev-a", Assignment("rpi4/backdoor.img", "backdoor")));
  auto approved = Device("dev-a", a);
  ASSERT_FALSE(approved);
  EXPECT_EQ(approved.error().code(), Errc::kVerificationFailed);
}

TEST_F(RepoRoutesTest, ServesJsonUncachedAnd404ForUnknownNames) {
  PublishRelease();
  const std::string a = Enroll("dev-a");
  for (const char* path : {"/api/v1/image/1.root.json", "/api/v1/image/timestamp.json",
                           "/api/v1/director/1.root.json", "/api/v1/director/timestamp.json"}) {
    http::Response r = Get(path, a);
    EXPECT_EQ(r.status, 200) << path << " " << r.body;
    EXPECT_EQ(r.headers.Get("Content-Type"), "application/json") << path;
    EXPECT_EQ(r.headers.Get("Cache-Control"), "no-store") << path;
  }
  for (const char* path : {"/api/v1/image/2.root.json", "/api/v1/image/root.json",
                           "/api/v1/image/1.ROOT.json", "/api/v1/image/01.root.json",
                           "/api/v1/image/9.targets.json", "/api/v1/director/2.root.json",
                           "/api/v1/director/secrets", "/api/v1/image/1.timestamp.json"}) {
    EXPECT_EQ(Get(path, a).status, 404) << path;
  }
}

TEST_F(RepoRoutesTest, RequiresAValidDeviceToken) {
  PublishRelease();
  EXPECT_EQ(Get("/api/v1/image/1.root.json", "").status, 401);
  EXPECT_EQ(Get("/api/v1/director/timestamp.json", "not-a-token").status, 401);
  // An operator-kind token with a device's id is not a device token.
  const std::string a = Enroll("dev-a");
  EXPECT_EQ(Get("/api/v1/director/timestamp.json", *tokens_->Issue("operator", "dev-a")).status,
            401);
  ASSERT_TRUE(enrollment_->Decommission("dev-a"));
  EXPECT_EQ(Get("/api/v1/director/timestamp.json", a).status, 403);
}

}  // namespace
}  // namespace aloft::server::api

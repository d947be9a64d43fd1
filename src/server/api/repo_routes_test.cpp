// The repositories as a device reaches them: the real core TUF client and the Uptane
// cross-check, fetching through the router's handlers in-process with the device's bearer
// token, exactly as the HTTP transport would call them.

#include "server/api/repo_routes.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "core/uptane/image_match.hpp"
#include "core/wire/device_api.hpp"
#include "server/repo/repo_test_fixture.hpp"
#include "server/store/sqlite/sqlite_device_store.hpp"

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

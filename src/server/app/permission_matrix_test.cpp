// The permission matrix of a real aloftd over HTTP: every route it serves × every role, two
// devices and anonymous → allowed or denied exactly as docs/api/openapi.yaml and the
// management API contract say. The routes come from Aloftd::Routes(), so a new route without
// an expectation here fails the test. Also: a device reaches only its own Director metadata
// and rollout, operator and device credentials do not cross over, and cookie sessions need
// X-CSRF-Token on every non-GET request.

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <set>

#include "server/app/aloftd_test_fixture.hpp"

namespace aloft::server::app {
namespace {

using core::codec::Json;
using testfix::Bearer;
using testfix::Reply;

// The callers of every route. Roles are the contract's names.
const std::vector<std::string> kRoles = {"admin", "release-manager", "operator", "viewer",
                                         "auditor"};
const std::vector<std::string> kCallers = {"admin",   "release-manager", "operator",
                                           "viewer",  "auditor",         "device-a",
                                           "device-b", "anonymous"};

// Who may call a route, written out from the contract (not derived from roles.cpp, so a
// wrong permission table fails here).
enum class Gate { kPublic, kAnyOperator, kSomeRoles, kDevice };
struct Expectation {
  Gate gate = Gate::kPublic;
  std::set<std::string> roles;  // kRoles only
};

const std::set<std::string> kUsersManage = {"admin"};
const std::set<std::string> kAuditRead = {"admin", "auditor"};
const std::set<std::string> kRead = {"admin", "release-manager", "operator", "viewer"};
const std::set<std::string> kDevicesManage = {"admin", "operator"};
const std::set<std::string> kReleasesManage = {"admin", "release-manager"};
const std::set<std::string> kDeploymentsManage = {"admin", "release-manager", "operator"};

Expectation Public() { return {Gate::kPublic, {}}; }
Expectation AnyOperator() { return {Gate::kAnyOperator, {}}; }
Expectation Roles(std::set<std::string> roles) { return {Gate::kSomeRoles, std::move(roles)}; }
Expectation DeviceOnly() { return {Gate::kDevice, {}}; }

bool Allowed(const Expectation& e, const std::string& caller) {
  switch (e.gate) {
    case Gate::kPublic: return true;
    case Gate::kAnyOperator: return std::count(kRoles.begin(), kRoles.end(), caller) > 0;
    case Gate::kSomeRoles: return e.roles.count(caller) > 0;
    case Gate::kDevice: return caller == "device-a" || caller == "device-b";
  }
  return false;
}

// The request sent for a route: a concrete path and a body that would succeed (or fail
// validation harmlessly) for an allowed caller. `allowed` lets bodies that consume a version
// (root, targets) be made only for calls expected to go through.
struct Probe {
  std::string path;
  std::function<std::string(const std::string& caller, bool allowed)> body;
};

class PermissionMatrixTest : public testfix::SharedAloftdTest<PermissionMatrixTest> {
 protected:

  static std::vector<std::string> Headers(const std::string& caller) {
    if (caller == "anonymous") return {};
    if (caller == "device-a") return {Bearer(server_->device("dev-a").token)};
    if (caller == "device-b") return {Bearer(server_->device("dev-b").token)};
    return {Bearer(server_->op(caller).token)};
  }

  static std::map<std::string, Expectation> Expectations();
  static std::map<std::string, Probe> Probes();

};

std::function<std::string(const std::string&, bool)> Fixed(std::string body) {
  return [body](const std::string&, bool) { return body; };
}

std::map<std::string, Expectation> PermissionMatrixTest::Expectations() {
  return {
      // Health, metrics (loopback scrape) and artifact downloads are public by design:
      // devices verify every byte, so the artifact bytes need no secrecy.
      {"GET /healthz", Public()},
      {"GET /readyz", Public()},
      {"GET /metrics", Public()},
      {"GET /api/v1/targets/{file}", Public()},
      {"GET /api/v1/targets/{dir}/{file}", Public()},
      // Sign-in and the device's own bootstrap.
      {"POST /api/v1/session", Public()},
      {"POST /api/v1/device/enroll", Public()},
      {"POST /api/v1/device/auth", Public()},
      // tokens.manage-own and the caller's own account: every role.
      {"GET /api/v1/session", AnyOperator()},
      {"DELETE /api/v1/session", AnyOperator()},
      {"POST /api/v1/tokens", AnyOperator()},
      {"GET /api/v1/tokens", AnyOperator()},
      {"DELETE /api/v1/tokens/{id}", AnyOperator()},
      {"PUT /api/v1/users/self/password", AnyOperator()},
      {"POST /api/v1/users/self/totp", AnyOperator()},
      {"POST /api/v1/users/self/totp/confirm", AnyOperator()},
      // users.manage
      {"GET /api/v1/users", Roles(kUsersManage)},
      {"POST /api/v1/users", Roles(kUsersManage)},
      {"PUT /api/v1/users/{username}/role", Roles(kUsersManage)},
      // audit.read
      {"GET /api/v1/audit", Roles(kAuditRead)},
      {"GET /api/v1/audit/verify", Roles(kAuditRead)},
      {"GET /api/v1/audit/export", Roles(kAuditRead)},
      // devices.read / devices.manage
      {"GET /api/v1/devices", Roles(kRead)},
      {"GET /api/v1/devices/{id}", Roles(kRead)},
      {"POST /api/v1/devices/{id}/accept", Roles(kDevicesManage)},
      {"POST /api/v1/devices/{id}/reject", Roles(kDevicesManage)},
      {"POST /api/v1/devices/{id}/revoke", Roles(kDevicesManage)},
      {"POST /api/v1/devices/preauthorize", Roles(kDevicesManage)},
      {"POST /api/v1/enrollment-tokens", Roles(kDevicesManage)},
      {"GET /api/v1/fleet/summary", Roles(kRead)},
      {"GET /api/v1/fleet/history", Roles(kRead)},
      // Static groups: devices.read to look, devices.manage to change.
      {"GET /api/v1/groups", Roles(kRead)},
      {"POST /api/v1/groups", Roles(kDevicesManage)},
      {"GET /api/v1/groups/{name}", Roles(kRead)},
      {"DELETE /api/v1/groups/{name}", Roles(kDevicesManage)},
      {"POST /api/v1/groups/{name}/members", Roles(kDevicesManage)},
      {"POST /api/v1/groups/{name}/members/remove", Roles(kDevicesManage)},
      // releases.manage / releases.read
      {"PUT /api/v1/artifacts/{sha256}", Roles(kReleasesManage)},
      {"PUT /api/v1/image-repo/root", Roles(kReleasesManage)},
      {"PUT /api/v1/image-repo/targets", Roles(kReleasesManage)},
      {"GET /api/v1/online-keys", Roles(kRead)},
      {"POST /api/v1/online-keys/rotate", Roles(kReleasesManage)},
      {"GET /api/v1/repo/status", Roles(kRead)},
      {"GET /api/v1/director-repo/root", Roles(kRead)},
      {"GET /api/v1/releases", Roles(kRead)},
      {"GET /api/v1/releases/{name}", Roles(kRead)},
      {"GET /api/v1/deltas", Roles(kRead)},
      // deployments.read / .manage / .emergency
      {"POST /api/v1/deployments", Roles(kDeploymentsManage)},
      {"GET /api/v1/deployments", Roles(kRead)},
      {"GET /api/v1/deployments/{id}", Roles(kRead)},
      {"POST /api/v1/deployments/pause-all", Roles(kDeploymentsManage)},
      {"POST /api/v1/deployments/{id}/pause", Roles(kDeploymentsManage)},
      {"POST /api/v1/deployments/{id}/resume", Roles(kDeploymentsManage)},
      {"POST /api/v1/deployments/{id}/cancel", Roles(kDeploymentsManage)},
      // The device API: a device token only.
      {"PUT /api/v1/device/inventory", DeviceOnly()},
      {"POST /api/v1/device/reports", DeviceOnly()},
      {"GET /api/v1/device/updates", DeviceOnly()},
      {"GET /api/v1/director/{file}", DeviceOnly()},
      {"GET /api/v1/image/{file}", DeviceOnly()},
  };
}

std::map<std::string, Probe> PermissionMatrixTest::Probes() {
  testfix::Aloftd& s = *server_;
  const std::string sha = s.artifact_sha256();
  const std::string some_key =
      core::codec::DumpJson(s.device("dev-c").key->Public().ToTufJson());
  auto report_counter = std::make_shared<int>(0);
  return {
      {"GET /healthz", {"/healthz", Fixed("")}},
      {"GET /readyz", {"/readyz", Fixed("")}},
      {"GET /metrics", {"/metrics", Fixed("")}},
      {"GET /api/v1/targets/{file}", {"/api/v1/targets/" + sha + "." + testfix::kReleaseName, Fixed("")}},
      {"GET /api/v1/targets/{dir}/{file}",
       {"/api/v1/targets/rpi4/" + sha + "." + testfix::kReleaseName, Fixed("")}},
      {"POST /api/v1/session", {"/api/v1/session", Fixed("{}")}},  // 400: no credentials
      {"POST /api/v1/device/enroll", {"/api/v1/device/enroll", Fixed("{}")}},
      {"POST /api/v1/device/auth",
       {"/api/v1/device/auth",
        [&s](const std::string&, bool) {
          return s.AuthBody(s.device("dev-b"), testfix::Aloftd::NewNonce());
        }}},
      {"GET /api/v1/session", {"/api/v1/session", Fixed("")}},
      {"DELETE /api/v1/session", {"/api/v1/session", Fixed("")}},
      {"POST /api/v1/tokens", {"/api/v1/tokens", Fixed(R"({"name":"matrix-2","expires_in_days":1})")}},
      {"GET /api/v1/tokens", {"/api/v1/tokens", Fixed("")}},
      {"DELETE /api/v1/tokens/{id}", {"/api/v1/tokens/tok_does_not_exist", Fixed("")}},
      {"PUT /api/v1/users/self/password",
       {"/api/v1/users/self/password",
        [&s](const std::string& caller, bool allowed) {
          // The right current password and a new one the policy refuses: 400, nothing changes.
          return core::codec::DumpJson(Json::Object{
              {"current", allowed ? s.op(caller).password : std::string("irrelevant-here")},
              {"new", "short"}});
        }}},
      {"POST /api/v1/users/self/totp", {"/api/v1/users/self/totp", Fixed("{}")}},
      {"POST /api/v1/users/self/totp/confirm",
       {"/api/v1/users/self/totp/confirm", Fixed(R"({"code":"000000"})")}},
      {"GET /api/v1/users", {"/api/v1/users", Fixed("")}},
      {"POST /api/v1/users", {"/api/v1/users", Fixed(R"({"username":"matrix-new","role":"viewer"})")}},
      {"PUT /api/v1/users/{username}/role",
       {"/api/v1/users/m-viewer/role", Fixed(R"({"role":"viewer"})")}},
      {"GET /api/v1/audit", {"/api/v1/audit?limit=5", Fixed("")}},
      {"GET /api/v1/audit/verify", {"/api/v1/audit/verify", Fixed("")}},
      {"GET /api/v1/audit/export", {"/api/v1/audit/export", Fixed("")}},
      {"GET /api/v1/devices", {"/api/v1/devices", Fixed("")}},
      {"GET /api/v1/devices/{id}", {"/api/v1/devices/dev-a", Fixed("")}},
      // dev-c is pending: accepted, then reject and revoke act on it (later calls get 400).
      {"POST /api/v1/devices/{id}/accept", {"/api/v1/devices/dev-c/accept", Fixed("")}},
      {"POST /api/v1/devices/{id}/reject", {"/api/v1/devices/dev-c/reject", Fixed("")}},
      {"POST /api/v1/devices/{id}/revoke", {"/api/v1/devices/dev-c/revoke", Fixed("")}},
      {"POST /api/v1/devices/preauthorize",
       {"/api/v1/devices/preauthorize",
        [some_key](const std::string& caller, bool allowed) {
          // A new key for each call that should go through: a key names one device only.
          std::string key = some_key;
          if (allowed) {
            key = core::codec::DumpJson(
                core::crypto::PrivateKey::Generate(core::crypto::KeyType::kEd25519)->Public().ToTufJson());
          }
          return R"({"device_id":"pre-)" + caller + R"(","hardware_id":"rpi4","public_key":)" +
                 key + "}";
        }}},
      {"POST /api/v1/enrollment-tokens",
       {"/api/v1/enrollment-tokens", Fixed(R"({"uses":1,"valid_hours":1})")}},
      // The first allowed create makes the group, later ones get 409; the delete names a group
      // that does not exist (404); adding dev-b again and removing non-member dev-c change
      // nothing.
      {"GET /api/v1/groups", {"/api/v1/groups", Fixed("")}},
      {"POST /api/v1/groups", {"/api/v1/groups", Fixed(R"({"name":"matrix"})")}},
      {"GET /api/v1/groups/{name}", {"/api/v1/groups/lab", Fixed("")}},
      {"DELETE /api/v1/groups/{name}", {"/api/v1/groups/matrix-none", Fixed("")}},
      {"POST /api/v1/groups/{name}/members",
       {"/api/v1/groups/lab/members", Fixed(R"({"devices":["dev-b"]})")}},
      {"POST /api/v1/groups/{name}/members/remove",
       {"/api/v1/groups/lab/members/remove", Fixed(R"({"devices":["dev-c"]})")}},
      {"PUT /api/v1/artifacts/{sha256}", {"/api/v1/artifacts/" + sha, Fixed(s.artifact())}},
      {"PUT /api/v1/image-repo/root",
       {"/api/v1/image-repo/root",
        [&s](const std::string&, bool allowed) { return allowed ? s.NextRoot() : "{}"; }}},
      {"PUT /api/v1/image-repo/targets",
       {"/api/v1/image-repo/targets",
        [&s](const std::string&, bool allowed) { return allowed ? s.NextTargets() : "{}"; }}},
      {"GET /api/v1/online-keys", {"/api/v1/online-keys", Fixed("")}},
      {"POST /api/v1/online-keys/rotate", {"/api/v1/online-keys/rotate", Fixed("")}},
      {"GET /api/v1/repo/status", {"/api/v1/repo/status", Fixed("")}},
      {"GET /api/v1/fleet/summary", {"/api/v1/fleet/summary", Fixed("")}},
      {"GET /api/v1/fleet/history", {"/api/v1/fleet/history?hours=24", Fixed("")}},
      {"GET /api/v1/director-repo/root", {"/api/v1/director-repo/root", Fixed("")}},
      {"GET /api/v1/releases", {"/api/v1/releases", Fixed("")}},
      {"GET /api/v1/deltas", {"/api/v1/deltas", Fixed("")}},
      {"GET /api/v1/releases/{name}",
       {std::string("/api/v1/releases/") + testfix::kReleaseName, Fixed("")}},
      {"POST /api/v1/deployments", {"/api/v1/deployments", Fixed(s.DeploymentBody("dev-nobody"))}},
      {"GET /api/v1/deployments", {"/api/v1/deployments", Fixed("")}},
      {"GET /api/v1/deployments/{id}", {"/api/v1/deployments/" + s.d1(), Fixed("")}},
      {"POST /api/v1/deployments/pause-all",
       {"/api/v1/deployments/pause-all", Fixed(R"({"reason":"matrix"})")}},
      {"POST /api/v1/deployments/{id}/pause", {"/api/v1/deployments/" + s.d2() + "/pause", Fixed("")}},
      {"POST /api/v1/deployments/{id}/resume",
       {"/api/v1/deployments/" + s.d2() + "/resume", Fixed("")}},
      {"POST /api/v1/deployments/{id}/cancel",
       {"/api/v1/deployments/" + s.d2() + "/cancel", Fixed("")}},
      {"PUT /api/v1/device/inventory",
       {"/api/v1/device/inventory",
        Fixed(core::codec::DumpJson(core::wire::ToJson(core::wire::Inventory{
            testfix::kHardware, std::string(64, 'a'), "1.0", "agent-1", 1, {{"tag", "lab"}}})))}},
      {"POST /api/v1/device/reports",
       {"/api/v1/device/reports",
        [report_counter](const std::string& caller, bool) {
          core::wire::Report report;
          report.id = "matrix-" + caller + "-" + std::to_string(++*report_counter);
          report.deployment_id = "";
          report.state = core::wire::UpdateState::kDownloading;
          report.at = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
          return core::codec::DumpJson(core::wire::ToJson(core::wire::ReportBatch{{report}}));
        }}},
      {"GET /api/v1/device/updates", {"/api/v1/device/updates", Fixed("")}},
      {"GET /api/v1/director/{file}", {"/api/v1/director/1.root.json", Fixed("")}},
      {"GET /api/v1/image/{file}", {"/api/v1/image/1.root.json", Fixed("")}},
  };
}

TEST_F(PermissionMatrixTest, EveryRouteTimesEveryCallerIsAllowedOrDeniedAsDocumented) {
  const auto expectations = Expectations();
  auto probes = Probes();
  std::size_t cells = 0;
  for (const std::string& route : server_->Routes()) {
    auto expected = expectations.find(route);
    auto probe = probes.find(route);
    if (expected == expectations.end() || probe == probes.end()) {
      ADD_FAILURE() << route << " has no expectation in the permission matrix: add its row";
      continue;
    }
    const std::string method = route.substr(0, route.find(' '));
    for (const std::string& caller : kCallers) {
      const bool allowed = Allowed(expected->second, caller);
      Reply r = server_->Call(method, probe->second.path, Headers(caller),
                              probe->second.body(caller, allowed));
      ++cells;
      if (std::getenv("ALOFT_MATRIX_PRINT") != nullptr) {
        std::cout << route << " | " << caller << " | " << r.status << " " << r.ErrorCode() << "\n";
      }
      SCOPED_TRACE(route + " as " + caller + " → " + std::to_string(r.status) + " " +
                   r.body.substr(0, 300));
      ASSERT_NE(r.status, 0) << "no HTTP answer";
      EXPECT_LT(r.status, 500) << "a 5xx";
      if (allowed) {
        EXPECT_NE(r.status, 401) << "allowed by the contract, refused";
        EXPECT_NE(r.status, 403) << "allowed by the contract, refused";
        continue;
      }
      EXPECT_TRUE(r.status == 401 || r.status == 403) << "denied by the contract, let through";
      const std::string code = r.ErrorCode();
      if (caller == "anonymous") {
        EXPECT_EQ(r.status, 401);
      } else if (expected->second.gate == Gate::kDevice) {
        EXPECT_EQ(r.status, 401) << "operator tokens are not device tokens";
      } else if (caller.starts_with("device-")) {
        EXPECT_EQ(r.status, 401) << "device tokens are not operator tokens";
        EXPECT_EQ(code, "unauthenticated");
      } else {
        EXPECT_EQ(r.status, 403);
        EXPECT_EQ(code, "forbidden");
      }
    }
    probes.erase(probe);
  }
  for (const auto& [route, probe] : probes) {
    ADD_FAILURE() << route << " is in the matrix but aloftd does not serve it";
  }
  // 48 routes × 8 callers when this was written.
  EXPECT_GE(cells, 48u * kCallers.size());
  std::cout << "permission matrix: " << cells << " cells\n";
  // pause-all paused d1; later tests expect it active.
  EXPECT_EQ(server_->AsAdmin("POST", "/api/v1/deployments/" + server_->d1() + "/resume").status,
            200);
}

TEST_F(PermissionMatrixTest, DeviceBReadsOnlyItsOwnDirectorMetadata) {
  auto version = [](const std::string& device) {
    const Reply r = server_->Call("GET", "/api/v1/device/updates", {Bearer(server_->device(device).token)});
    EXPECT_EQ(r.status, 200) << r.body;
    const Json json = r.JsonBody();
    const Json* v = json.Find("directorTargetsVersion");
    return v != nullptr && v->IsInt() ? v->AsInt() : -1;
  };
  const std::int64_t va = version("dev-a");
  ASSERT_GE(va, 1) << "dev-a has an assignment";
  const std::string a_targets = "/api/v1/director/" + std::to_string(va) + ".targets.json";
  const auto a = server_->Call("GET", a_targets, {Bearer(server_->device("dev-a").token)});
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_NE(a.body.find(testfix::kReleaseName), std::string::npos) << "A's image is assigned";
  // The same file name asked by dev-b is dev-b's file (or none), never dev-a's.
  const auto b = server_->Call("GET", a_targets, {Bearer(server_->device("dev-b").token)});
  EXPECT_TRUE(b.status == 200 || b.status == 404) << b.status << " " << b.body;
  EXPECT_EQ(b.body.find(testfix::kReleaseName), std::string::npos)
      << "B received A's Director targets";
  EXPECT_EQ(b.body.find("dev-a"), std::string::npos);
  const auto a_ts = server_->Call("GET", "/api/v1/director/timestamp.json",
                                  {Bearer(server_->device("dev-a").token)});
  const auto b_ts = server_->Call("GET", "/api/v1/director/timestamp.json",
                                  {Bearer(server_->device("dev-b").token)});
  EXPECT_EQ(a_ts.status, 200);
  EXPECT_NE(a_ts.body, b_ts.body);
  // No URL names another device's repository.
  for (const char* path :
       {"/api/v1/director/dev-a/1.targets.json", "/api/v1/director/dev-a%2F1.targets.json",
        "/api/v1/director/..%2Fdev-a%2F1.targets.json", "/api/v1/director/1.targets.json?device=dev-a",
        "/api/v1/director/1.targets.json?device_id=dev-a"}) {
    const auto r = server_->Call("GET", path, {Bearer(server_->device("dev-b").token)});
    if (std::string_view(path).find('?') == std::string_view::npos) {
      EXPECT_GE(r.status, 400) << path;
    }
    EXPECT_LT(r.status, 500) << path;
    EXPECT_EQ(r.body.find(testfix::kReleaseName), std::string::npos) << path;
  }
}

TEST_F(PermissionMatrixTest, DeviceBCannotReportForDeviceAsDeployment) {
  auto a_state = [] {
    const auto d = server_->AsAdmin("GET", "/api/v1/deployments/" + server_->d1());
    EXPECT_EQ(d.status, 200) << d.body;
    return core::codec::DumpJson(d.JsonBody());
  };
  const std::string before = a_state();
  core::wire::Report report;
  report.id = "b-claims-a-failed";
  report.deployment_id = server_->d1();
  report.state = core::wire::UpdateState::kFailed;
  report.message = "forged by dev-b";
  report.at = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  const std::string body = core::codec::DumpJson(core::wire::ToJson(core::wire::ReportBatch{{report}}));
  const auto r = server_->Call("POST", "/api/v1/device/reports",
                               {Bearer(server_->device("dev-b").token)}, body);
  EXPECT_LT(r.status, 500) << r.body;
  EXPECT_EQ(a_state(), before) << "dev-b's report moved dev-a's rollout";
  const auto a = server_->AsAdmin("GET", "/api/v1/devices/dev-a");
  EXPECT_EQ(a.body.find("b-claims-a-failed"), std::string::npos) << "stored as dev-a's report";
  // The device id in a body never selects the device: only the token does.
  const auto inventory = server_->Call(
      "PUT", "/api/v1/device/inventory", {Bearer(server_->device("dev-b").token)},
      R"({"deviceId":"dev-a","hardwareId":"rpi4","imageSha256":"","imageVersion":"set-by-b","agentVersion":"b","securityCounter":0,"attributes":{}})");
  EXPECT_LT(inventory.status, 500);
  EXPECT_NE(server_->AsAdmin("GET", "/api/v1/devices/dev-a").Str("image_version"), "set-by-b");
}

TEST_F(PermissionMatrixTest, CookieSessionsNeedCsrfOnEveryNonGetRoute) {
  const testfix::OperatorCast& admin = server_->op("admin");
  const Reply login = server_->Call(
      "POST", "/api/v1/session", {},
      core::codec::DumpJson(Json::Object{{"username", admin.username}, {"password", admin.password}}));
  ASSERT_EQ(login.status, 200) << login.body;
  const std::string marker = "aloft_session=";
  const std::size_t at = login.headers.find(marker);
  ASSERT_NE(at, std::string::npos) << login.headers;
  const std::string cookie =
      login.headers.substr(at + marker.size(), login.headers.find(';', at) - at - marker.size());
  const Reply again = server_->Call("GET", "/api/v1/session", {"Cookie: aloft_session=" + cookie});
  ASSERT_EQ(again.status, 200) << again.body;
  const std::string token = again.Str("csrf_token");
  const std::string cookie_header = "Cookie: aloft_session=" + cookie;

  const std::string before = server_->StateSnapshot();
  const auto expectations = Expectations();
  auto probes = Probes();
  std::size_t refused = 0;
  for (const std::string& route : server_->Routes()) {
    const std::string method = route.substr(0, route.find(' '));
    auto expected = expectations.find(route);
    if (method == "GET" || expected == expectations.end()) continue;
    if (expected->second.gate != Gate::kAnyOperator && expected->second.gate != Gate::kSomeRoles) continue;
    const Probe& probe = probes.at(route);
    for (const std::vector<std::string>& extra :
         {std::vector<std::string>{}, std::vector<std::string>{"X-CSRF-Token: " + std::string(token.size(), 'x')},
          std::vector<std::string>{"X-CSRF-Token: "}}) {
      std::vector<std::string> headers = extra;
      headers.push_back(cookie_header);
      const Reply r = server_->Call(method, probe.path, headers, probe.body("admin", false));
      EXPECT_EQ(r.status, 403) << route << " without a valid X-CSRF-Token: " << r.body;
      EXPECT_EQ(r.ErrorCode(), "csrf_failed") << route;
      ++refused;
    }
  }
  EXPECT_GE(refused, 3u * 20u);
  EXPECT_EQ(server_->StateSnapshot(), before) << "a request refused for CSRF changed state";
  // GET needs no CSRF token; a non-GET with the right one goes through.
  EXPECT_EQ(server_->Call("GET", "/api/v1/devices", {cookie_header}).status, 200);
  EXPECT_EQ(server_->Call("POST", "/api/v1/enrollment-tokens",
                          {cookie_header, "X-CSRF-Token: " + token}, R"({"uses":1,"valid_hours":1})")
                .status,
            201);
  // A bearer token with a session cookie alongside is judged as the token alone.
  EXPECT_EQ(server_->Call("POST", "/api/v1/enrollment-tokens",
                          {cookie_header, Bearer(server_->op("viewer").token)},
                          R"({"uses":1,"valid_hours":1})")
                .status,
            403);
  EXPECT_EQ(server_->Call("DELETE", "/api/v1/session", {cookie_header, "X-CSRF-Token: " + token}).status,
            204);
  EXPECT_EQ(server_->Call("GET", "/api/v1/devices", {cookie_header}).status, 401)
      << "a signed-out session still works";
}

TEST_F(PermissionMatrixTest, OtherMethodsDoNotBypassTheGate) {
  // HEAD, OPTIONS and unknown methods on every protected route, without credentials: never a
  // 2xx (HEAD may be served as GET, so it must pass the same gate).
  const auto expectations = Expectations();
  auto probes = Probes();
  for (const std::string& route : server_->Routes()) {
    auto expected = expectations.find(route);
    if (expected == expectations.end() || expected->second.gate == Gate::kPublic) continue;
    const std::string& path = probes.at(route).path;
    for (const char* method : {"HEAD", "OPTIONS", "PATCH", "TRACE", "PROPFIND"}) {
      const Reply r = server_->Call(method, path, {});
      EXPECT_GE(r.status, 400) << method << " " << path;
      EXPECT_LT(r.status, 500) << method << " " << path;
    }
  }
}

TEST_F(PermissionMatrixTest, ARevokedDeviceIsRefusedAtItsNextRequest) {
  auto key = core::crypto::PrivateKey::Generate(core::crypto::KeyType::kEd25519);
  ASSERT_TRUE(key);
  testfix::Aloftd::Device d{"dev-revoked", std::move(*key), ""};
  ASSERT_EQ(server_->AsAdmin("POST", "/api/v1/devices/preauthorize",
                             core::codec::DumpJson(Json::Object{
                                 {"device_id", d.id},
                                 {"hardware_id", testfix::kHardware},
                                 {"public_key", d.key->Public().ToTufJson()}}))
                .status,
            201);
  ASSERT_EQ(server_->Call("POST", "/api/v1/device/enroll", {}, server_->EnrollBody(d, "")).status, 200);
  const Reply auth = server_->Call("POST", "/api/v1/device/auth", {},
                                   server_->AuthBody(d, testfix::Aloftd::NewNonce()));
  ASSERT_EQ(auth.status, 200) << auth.body;
  const std::string token = auth.Str("token");
  ASSERT_FALSE(token.empty()) << auth.body;
  EXPECT_EQ(server_->Call("GET", "/api/v1/device/updates", {Bearer(token)}).status, 200);
  ASSERT_EQ(server_->AsAdmin("POST", "/api/v1/devices/dev-revoked/revoke").status, 200);
  // The token has not expired, but the device is decommissioned.
  for (const auto& [method, path] : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/api/v1/device/updates"},
           {"GET", "/api/v1/director/timestamp.json"},
           {"GET", "/api/v1/image/timestamp.json"},
           {"POST", "/api/v1/device/reports"},
           {"PUT", "/api/v1/device/inventory"}}) {
    const Reply r = server_->Call(method, path, {Bearer(token)}, "{}");
    EXPECT_EQ(r.status, 403) << method << " " << path << ": " << r.body;
    EXPECT_EQ(r.ErrorCode(), "device_not_accepted") << method << " " << path;
  }
  const Reply again = server_->Call("POST", "/api/v1/device/auth", {},
                                    server_->AuthBody(d, testfix::Aloftd::NewNonce()));
  EXPECT_TRUE(again.status == 401 || again.status == 403) << again.body;
}

}  // namespace
}  // namespace aloft::server::app

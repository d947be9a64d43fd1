// Bad input against a real aloftd over HTTP, on the management and the device routes:
// malformed and truncated JSON, wrong types, oversize bodies and headers, invalid UTF-8, path
// traversal, SQL metacharacters, replayed, expired, forged and revoked credentials. Each gets a
// 4xx, never a 5xx, and leaves the state as it was. Refused requests may add audit records
// (auth_rejected, permission_denied, failed attempts), but never a record of a success.

#include "server/auth/token_service.hpp"
#include "server/app/aloftd_test_fixture.hpp"
#include "testing/fake_clock.hpp"

namespace aloft::server::app {
namespace {

using core::codec::Json;
using testfix::Bearer;
using testfix::Reply;

struct Case {
  std::string what;
  std::string method;
  std::string path;
  std::vector<std::string> headers;
  std::string body;
  int status = 0;  // the exact status expected; 0: any 4xx
};

class BadInputTest : public testfix::SharedAloftdTest<BadInputTest> {
 protected:

  static std::vector<std::string> Admin() { return {Bearer(server_->op("admin").token)}; }
  static std::vector<std::string> DeviceA() { return {Bearer(server_->device("dev-a").token)}; }

  // Sends every case; each must be a 4xx (or exactly `status`), and together they must leave
  // the state unchanged and add no audit record of a success (reads of the audit log aside).
  static void ExpectRefusedAndNothingChanged(const std::vector<Case>& cases) {
    const std::string before = server_->StateSnapshot();
    const std::int64_t head = server_->AuditHead();
    for (const Case& c : cases) {
      const Reply r = server_->Call(c.method, c.path, c.headers, c.body);
      SCOPED_TRACE(c.what + ": " + c.method + " " + c.path.substr(0, 120) + " → " +
                   std::to_string(r.status) + " " + r.body.substr(0, 300));
      if (c.status != 0) {
        EXPECT_EQ(r.status, c.status);
      } else {
        EXPECT_GE(r.status, 400);
        EXPECT_LT(r.status, 500);
      }
      // Errors are JSON with a code, and never leak a path or SQL text.
      if (r.status >= 400 && c.method != "HEAD") {
        EXPECT_FALSE(r.ErrorCode().empty()) << "not a JSON error";
        EXPECT_EQ(r.body.find("SELECT"), std::string::npos);
        EXPECT_EQ(r.body.find("sqlite"), std::string::npos);
        EXPECT_EQ(r.body.find(server_->config().data_dir.string()), std::string::npos);
      }
    }
    EXPECT_EQ(server_->StateSnapshot(), before) << "a refused request changed the state";
    for (const Json& record : server_->AuditAfter(head)) {
      const std::string action = record.Find("action")->AsString();
      if (action.starts_with("audit.")) continue;  // our own reads of the trail
      EXPECT_NE(record.Find("outcome")->AsString(), "success")
          << "a refused request was audited as a success: " << core::codec::DumpJson(record);
    }
    server_->AuditHead();  // the chain still verifies
  }

};

// JSON that is not JSON, or not the object a route wants.
const std::vector<std::pair<std::string, std::string>> kMalformed = {
    {"truncated", R"({"uses":1,"valid_h)"},
    {"unterminated", "{"},
    {"trailing garbage", "{}x"},
    {"not an object", "[]"},
    {"null", "null"},
    {"a string", R"("hello")"},
    {"duplicate keys", R"({"a":1,"a":2})"},
    {"too deep", std::string(200, '[') + std::string(200, ']')},
    {"bare words", "uses=1&valid_hours=1"},
    {"invalid UTF-8", "{\"reason\":\"\xff\xfe\",\"username\":\"\xc3\x28\"}"},
    {"overlong UTF-8", "{\"reason\":\"\xc0\xaf\"}"},
    {"lone surrogate", R"({"reason":"\ud800"})"},
    {"NUL byte", std::string("{\"reason\":\"a\0b\"}", 16)},
    {"huge number", R"({"uses":123456789012345678901234567890,"valid_hours":1})"},
};

TEST_F(BadInputTest, MalformedJsonOnEveryJsonRouteIs400AndChangesNothing) {
  struct Route {
    std::string method, path;
    bool device;
  };
  const std::string d1 = server_->d1();
  const std::vector<Route> routes = {
      {"POST", "/api/v1/enrollment-tokens", false},
      {"POST", "/api/v1/devices/preauthorize", false},
      {"POST", "/api/v1/groups", false},
      {"POST", "/api/v1/groups/lab/members", false},
      {"POST", "/api/v1/groups/lab/members/remove", false},
      {"POST", "/api/v1/deployments", false},
      {"POST", "/api/v1/deployments/pause-all", false},
      {"POST", "/api/v1/deployments/" + d1 + "/pause", false},
      {"POST", "/api/v1/users", false},
      {"PUT", "/api/v1/users/m-viewer/role", false},
      {"POST", "/api/v1/tokens", false},
      {"PUT", "/api/v1/users/self/password", false},
      {"POST", "/api/v1/users/self/totp/confirm", false},
      {"POST", "/api/v1/session", false},
      {"PUT", "/api/v1/image-repo/root", false},
      {"PUT", "/api/v1/image-repo/targets", false},
      {"POST", "/api/v1/device/enroll", true},
      {"POST", "/api/v1/device/auth", true},
      {"PUT", "/api/v1/device/inventory", true},
      {"POST", "/api/v1/device/reports", true},
  };
  std::vector<Case> cases;
  for (const Route& route : routes) {
    for (const auto& [what, body] : kMalformed) {
      cases.push_back({what, route.method, route.path, route.device ? DeviceA() : Admin(), body});
    }
    cases.push_back({"empty body", route.method, route.path,
                     route.device ? DeviceA() : Admin(), ""});
  }
  // An empty body is the documented way to pause without a reason: not bad input there.
  std::erase_if(cases, [&](const Case& c) {
    return c.what == "empty body" && c.path.ends_with("/pause");
  });
  ExpectRefusedAndNothingChanged(cases);
}

TEST_F(BadInputTest, WrongTypesAndOutOfRangeValuesAre400) {
  const std::string key = core::codec::DumpJson(server_->device("dev-c").key->Public().ToTufJson());
  auto admin = [](std::string what, std::string method, std::string path, std::string body) {
    return Case{std::move(what), std::move(method), std::move(path), Admin(), std::move(body), 400};
  };
  const std::string d1 = server_->d1();
  std::vector<Case> cases = {
      admin("uses as string", "POST", "/api/v1/enrollment-tokens", R"({"uses":"5","valid_hours":1})"),
      admin("uses negative", "POST", "/api/v1/enrollment-tokens", R"({"uses":-1,"valid_hours":1})"),
      admin("uses fraction", "POST", "/api/v1/enrollment-tokens", R"({"uses":1.5,"valid_hours":1})"),
      admin("hours too many", "POST", "/api/v1/enrollment-tokens", R"({"uses":1,"valid_hours":1000000})"),
      admin("uses boolean", "POST", "/api/v1/enrollment-tokens", R"({"uses":true,"valid_hours":1})"),
      admin("key as string", "POST", "/api/v1/devices/preauthorize",
            R"({"device_id":"x1","hardware_id":"rpi4","public_key":"ed25519:abc"})"),
      admin("id as number", "POST", "/api/v1/devices/preauthorize",
            R"({"device_id":7,"hardware_id":"rpi4","public_key":)" + key + "}"),
      admin("bad key", "POST", "/api/v1/devices/preauthorize",
            R"({"device_id":"x1","hardware_id":"rpi4","public_key":{"keytype":"rsa","scheme":"x","keyval":{"public":"zz"}}})"),
      admin("release as number", "POST", "/api/v1/deployments",
            R"({"release":5,"selector":{"devices":["dev-a"]},"phases":[{"percent":100,"wait_seconds":0}],"failure_threshold_percent":10,"min_devices_for_threshold":1,"phase_deadline_seconds":60})"),
      admin("percent over 100", "POST", "/api/v1/deployments",
            R"({"release":"os-2.0.img","selector":{"devices":["dev-a"]},"phases":[{"percent":1000,"wait_seconds":0}],"failure_threshold_percent":10,"min_devices_for_threshold":1,"phase_deadline_seconds":60})"),
      admin("phases not an array", "POST", "/api/v1/deployments",
            R"({"release":"os-2.0.img","selector":{"devices":["dev-a"]},"phases":{"percent":100},"failure_threshold_percent":10,"min_devices_for_threshold":1,"phase_deadline_seconds":60})"),
      admin("bad maintenance window", "POST", "/api/v1/deployments",
            R"({"release":"os-2.0.img","selector":{"devices":["dev-a"]},"phases":[{"percent":100,"wait_seconds":0}],"failure_threshold_percent":10,"min_devices_for_threshold":1,"phase_deadline_seconds":60,"maintenance_window":{"start":"25:00","end":"x"}})"),
      admin("devices not strings", "POST", "/api/v1/deployments",
            R"({"release":"os-2.0.img","selector":{"devices":[1,2]},"phases":[{"percent":100,"wait_seconds":0}],"failure_threshold_percent":10,"min_devices_for_threshold":1,"phase_deadline_seconds":60})"),
      admin("deployment to a malformed group", "POST", "/api/v1/deployments",
            R"({"release":"os-2.0.img","selector":{"group":"../lab"},"phases":[{"percent":100,"wait_seconds":0}],"failure_threshold_percent":10,"min_devices_for_threshold":1,"phase_deadline_seconds":60})"),
      admin("group name as number", "POST", "/api/v1/groups", R"({"name":7})"),
      admin("group name upper case", "POST", "/api/v1/groups", R"({"name":"Lab"})"),
      admin("group name too long", "POST", "/api/v1/groups", R"({"name":")" + std::string(65, 'g') + "\"}"),
      admin("group unknown member", "POST", "/api/v1/groups", R"({"name":"x","description":"y"})"),
      admin("group name missing", "POST", "/api/v1/groups", R"({})"),
      admin("members not an array", "POST", "/api/v1/groups/lab/members", R"({"devices":"dev-a"})"),
      admin("members not strings", "POST", "/api/v1/groups/lab/members", R"({"devices":[1]})"),
      admin("members empty", "POST", "/api/v1/groups/lab/members", R"({"devices":[]})"),
      admin("members invalid id", "POST", "/api/v1/groups/lab/members", R"({"devices":["a b"]})"),
      // All or nothing: dev-a exists, but ghost does not, so dev-a is not added either.
      admin("members unknown device", "POST", "/api/v1/groups/lab/members",
            R"({"devices":["dev-a","ghost"]})"),
      admin("remove unknown device", "POST", "/api/v1/groups/lab/members/remove",
            R"({"devices":["dev-b","ghost"]})"),
      admin("members too many", "POST", "/api/v1/groups/lab/members",
            [] {
              std::string body = R"({"devices":[)";
              for (int i = 0; i < 1001; ++i) body += (i ? ",\"d" : "\"d") + std::to_string(i) + "\"";
              return body + "]}";
            }()),
      admin("group limit", "GET", "/api/v1/groups?limit=0", ""),
      admin("group members limit", "GET", "/api/v1/groups/lab?limit=100000", ""),
      admin("group after", "GET", "/api/v1/groups?after=..%2Fx", ""),
      admin("group members after", "GET", "/api/v1/groups/lab?after=a%20b", ""),
      admin("reason as number", "POST", "/api/v1/deployments/pause-all", R"({"reason":123})"),
      admin("reason missing", "POST", "/api/v1/deployments/pause-all", R"({})"),
      admin("reason too long", "POST", "/api/v1/deployments/pause-all",
            R"({"reason":")" + std::string(10000, 'r') + "\"}"),
      admin("pause reason array", "POST", "/api/v1/deployments/" + d1 + "/pause", R"({"reason":[]})"),
      admin("role unknown", "PUT", "/api/v1/users/m-viewer/role", R"({"role":"root"})"),
      admin("role as number", "PUT", "/api/v1/users/m-viewer/role", R"({"role":0})"),
      admin("username bad", "POST", "/api/v1/users", R"({"username":"a b/c","role":"viewer"})"),
      admin("token days string", "POST", "/api/v1/tokens", R"({"name":"x","expires_in_days":"1"})"),
      admin("token days zero", "POST", "/api/v1/tokens", R"({"name":"x","expires_in_days":0})"),
      admin("password types", "PUT", "/api/v1/users/self/password", R"({"current":1,"new":2})"),
      admin("totp code type", "POST", "/api/v1/users/self/totp/confirm", R"({"code":123456})"),
      admin("audit limit", "GET", "/api/v1/audit?limit=100000", ""),
      admin("audit limit negative", "GET", "/api/v1/audit?limit=-1", ""),
      admin("device limit", "GET", "/api/v1/devices?limit=0", ""),
      admin("device status", "GET", "/api/v1/devices?status=everything", ""),
      admin("deployment state", "GET", "/api/v1/deployments?state=all", ""),
      // The device side.
      Case{"inventory types", "PUT", "/api/v1/device/inventory", DeviceA(),
           R"({"hardwareId":"rpi4","imageSha256":5,"imageVersion":"1","agentVersion":"1","securityCounter":"x","attributes":[]})",
           400},
      Case{"inventory of other hardware", "PUT", "/api/v1/device/inventory", DeviceA(),
           R"({"hardwareId":"x86","imageSha256":"","imageVersion":"1","agentVersion":"1","securityCounter":0,"attributes":{}})",
           409},
      Case{"report state unknown", "POST", "/api/v1/device/reports", DeviceA(),
           R"({"reports":[{"id":"r1","state":"exploded","bytesDone":0,"bytesTotal":0,"message":"","logTail":"","at":"2026-01-01T00:00:00Z"}]})",
           400},
      Case{"reports not an array", "POST", "/api/v1/device/reports", DeviceA(),
           R"({"reports":{"id":"r1"}})", 400},
      Case{"enroll key as string", "POST", "/api/v1/device/enroll", {},
           R"({"deviceId":"x9","hardwareId":"rpi4","publicKey":"k"})", 400},
      Case{"auth nonce short", "POST", "/api/v1/device/auth", {},
           R"({"deviceId":"dev-a","audience":"http://127.0.0.1","issuedAt":"2026-01-01T00:00:00Z","nonce":"ab","signature":"00"})",
           0},
  };
  ExpectRefusedAndNothingChanged(cases);
}

TEST_F(BadInputTest, OversizeBodiesAre413AndOversizeHeadersAre431) {
  const std::string sha = server_->artifact_sha256();
  const std::string big_json = R"({"reason":")" + std::string(70 * 1024, 'r') + "\"}";
  const std::string huge_header = "X-Padding: " + std::string(16 * 1024, 'h');
  std::vector<Case> cases = {
      {"enrollment token body", "POST", "/api/v1/enrollment-tokens", Admin(), big_json, 413},
      {"deployment body", "POST", "/api/v1/deployments", Admin(), big_json, 413},
      {"group members body", "POST", "/api/v1/groups/lab/members", Admin(),
       R"({"devices":[")" + std::string(200 * 1024, 'd') + "\"]}", 413},
      {"pause-all body", "POST", "/api/v1/deployments/pause-all", Admin(), big_json, 413},
      {"session body", "POST", "/api/v1/session", {}, big_json, 413},
      {"chunked body", "POST", "/api/v1/deployments/pause-all",
       {Bearer(server_->op("admin").token), "Transfer-Encoding: chunked"}, big_json, 413},
      {"chunked device body", "PUT", "/api/v1/device/inventory",
       {Bearer(server_->device("dev-a").token), "Transfer-Encoding: chunked"}, big_json, 413},
      {"chunked artifact over the cap", "PUT", "/api/v1/artifacts/" + sha,
       {Bearer(server_->op("admin").token), "Transfer-Encoding: chunked"},
       std::string((1 << 20) + 1, 'a'), 413},
      {"enroll body", "POST", "/api/v1/device/enroll", {}, big_json, 413},
      {"auth body", "POST", "/api/v1/device/auth", {}, big_json, 413},
      {"inventory body", "PUT", "/api/v1/device/inventory", DeviceA(), big_json, 413},
      {"reports body", "POST", "/api/v1/device/reports", DeviceA(),
       std::string(3 * 1024 * 1024, ' '), 413},
      {"artifact over the cap", "PUT", "/api/v1/artifacts/" + sha, Admin(),
       std::string((1 << 20) + 1, 'a'), 413},
      {"root over 8 MiB", "PUT", "/api/v1/image-repo/root", Admin(),
       std::string((8 << 20) + 1, ' '), 413},
      {"headers, management", "GET", "/api/v1/devices", {Bearer(server_->op("admin").token), huge_header}, "", 431},
      {"headers, device", "GET", "/api/v1/device/updates", {Bearer(server_->device("dev-a").token), huge_header}, "", 431},
      {"headers, anonymous", "POST", "/api/v1/device/enroll", {huge_header}, "{}", 431},
      {"long token header", "GET", "/api/v1/devices", {"Authorization: Bearer alo_" + std::string(20 * 1024, 'x')}, "", 431},
      {"long URL", "GET", "/api/v1/devices/" + std::string(20 * 1024, 'd'), Admin(), "", 0},
  };
  ExpectRefusedAndNothingChanged(cases);
}

TEST_F(BadInputTest, PathTraversalNeverReachesAFile) {
  const std::string sha = server_->artifact_sha256();
  std::vector<Case> cases;
  for (const std::string& path : {
           std::string("/api/v1/targets/../../data/aloft.db"),
           std::string("/api/v1/targets/%2e%2e/%2e%2e/secrets/token.key"),
           std::string("/api/v1/targets/..%2F..%2Fsecrets%2Ftoken.key"),
           std::string("/api/v1/targets/rpi4/..%2f..%2faloft.db"),
           "/api/v1/targets/" + sha + ".%2e%2e%2fx",
           "/api/v1/targets/" + sha + "/..",
           std::string("/api/v1/targets/%00.img"),
           std::string("/api/v1/targets/.%2e/aloft.db"),
       }) {
    cases.push_back({"download", "GET", path, {}, "", 0});
  }
  for (const std::string& path : {
           std::string("/api/v1/image/..%2F..%2Fsecrets%2Ftoken.key"),
           std::string("/api/v1/image/%2e%2e"),
           std::string("/api/v1/image/../secrets/token.key"),
           std::string("/api/v1/director/%2e%2e%2fdev-b%2ftargets.json"),
           std::string("/api/v1/director/..%5c1.root.json"),
       }) {
    cases.push_back({"device metadata", "GET", path, DeviceA(), "", 0});
  }
  for (const auto& [method, path] : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/api/v1/releases/..%2F..%2Fetc%2Fpasswd"},
           {"GET", "/api/v1/releases/%2e%2e"},
           {"GET", "/api/v1/releases/.hidden"},
           {"GET", "/api/v1/devices/..%2Fusers"},
           {"GET", "/api/v1/deployments/%2e%2e"},
           {"GET", "/api/v1/groups/..%2Flab"},
           {"GET", "/api/v1/groups/%2e%2e"},
           {"DELETE", "/api/v1/groups/%2e%2e"},
           {"DELETE", "/api/v1/groups/..%2F..%2Fdata"},
           {"POST", "/api/v1/groups/..%2Flab/members"},
           {"PUT", "/api/v1/artifacts/..%2F..%2Fsecrets%2Ftoken.key"},
           {"PUT", "/api/v1/artifacts/%2e%2e"},
           {"PUT", "/api/v1/users/..%2Fm-admin/role"},
           {"DELETE", "/api/v1/tokens/..%2F..%2Ftok"},
           {"POST", "/api/v1/devices/..%2Fdev-a/revoke"},
       }) {
    cases.push_back({"management", method, path, Admin(), method == "GET" ? "" : R"({"role":"admin"})", 0});
  }
  cases.push_back({"preauthorize traversal id", "POST", "/api/v1/devices/preauthorize", Admin(),
                   R"({"device_id":"../../etc","hardware_id":"rpi4","public_key":)" +
                       core::codec::DumpJson(server_->device("dev-c").key->Public().ToTufJson()) + "}",
                   400});
  cases.push_back({"deployment of a traversal release", "POST", "/api/v1/deployments", Admin(),
                   R"({"release":"../secrets/token.key","selector":{"devices":["dev-a"]},"phases":[{"percent":100,"wait_seconds":0}],"failure_threshold_percent":10,"min_devices_for_threshold":1,"phase_deadline_seconds":60})",
                   0});
  ExpectRefusedAndNothingChanged(cases);
}

TEST_F(BadInputTest, SqlMetacharactersAreJustCharacters) {
  const std::string sql = "x'%20OR%20'1'%3D'1";
  std::vector<Case> cases = {
      {"device id", "GET", "/api/v1/devices/" + sql, Admin(), "", 404},
      {"hardware filter", "GET", "/api/v1/devices?hardware_id=rpi4'%20OR%201%3D1--", Admin(), "", 400},
      {"status filter", "GET", "/api/v1/devices?status=accepted'--", Admin(), "", 400},
      {"after", "GET", "/api/v1/devices?after=x'%3B%20DROP%20TABLE%20devices%3B--", Admin(), "", 400},
      {"limit", "GET", "/api/v1/devices?limit=1%20OR%201%3D1", Admin(), "", 400},
      {"deployment id", "GET", "/api/v1/deployments/" + sql, Admin(), "", 404},
      {"deployment state", "GET", "/api/v1/deployments?state=active'%3B--", Admin(), "", 400},
      {"cancel id", "POST", "/api/v1/deployments/x'%3B%20DROP%20TABLE%20deployments%3B--/cancel", Admin(), "", 404},
      {"pause id", "POST", "/api/v1/deployments/" + sql + "/pause", Admin(), "", 404},
      {"audit after", "GET", "/api/v1/audit?after=1%3B%20DELETE%20FROM%20audit", Admin(), "", 400},
      {"release name", "GET", "/api/v1/releases/x'%3B--", Admin(), "", 404},
      {"group name", "GET", "/api/v1/groups/" + sql, Admin(), "", 400},
      {"group delete", "DELETE", "/api/v1/groups/x'%3B%20DROP%20TABLE%20device_groups%3B--", Admin(), "", 400},
      {"group create", "POST", "/api/v1/groups", Admin(), R"({"name":"x'); DROP TABLE device_groups;--"})", 400},
      {"group member", "POST", "/api/v1/groups/lab/members", Admin(), R"({"devices":["x' OR 1=1--"]})", 400},
      {"revoke id", "POST", "/api/v1/devices/" + sql + "/revoke", Admin(), "", 404},
      {"token id", "DELETE", "/api/v1/tokens/" + sql, Admin(), "", 404},
      {"username", "PUT", "/api/v1/users/" + sql + "/role", Admin(), R"({"role":"admin"})", 0},
      {"preauthorize id", "POST", "/api/v1/devices/preauthorize", Admin(),
       R"({"device_id":"x'); DROP TABLE devices;--","hardware_id":"rpi4","public_key":)" +
           core::codec::DumpJson(server_->device("dev-c").key->Public().ToTufJson()) + "}",
       400},
      {"deployment selector", "POST", "/api/v1/deployments", Admin(),
       R"({"release":"os-2.0.img","selector":{"devices":["x' OR 1=1--"]},"phases":[{"percent":100,"wait_seconds":0}],"failure_threshold_percent":10,"min_devices_for_threshold":1,"phase_deadline_seconds":60})",
       400},
      {"login", "POST", "/api/v1/session", {},
       R"({"username":"' OR '1'='1","password":"' OR '1'='1' --"})", 401},
      {"device auth id", "POST", "/api/v1/device/auth", {},
       R"({"deviceId":"dev-a' --","audience":"http://127.0.0.1","issuedAt":"2026-01-01T00:00:00Z","nonce":"00000000000000000000000000000000","signature":"00"})",
       0},
  };
  ExpectRefusedAndNothingChanged(cases);
  // A free-form filter value is matched as a value, not run.
  const Reply r = server_->AsAdmin("GET", "/api/v1/devices?image_version=1'%20OR%20'1'%3D'1");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.JsonBody().Find("devices")->AsArray().empty()) << r.body;
}

TEST_F(BadInputTest, InvalidUtf8InPathsAndQueries) {
  std::vector<Case> cases = {
      {"device id", "GET", "/api/v1/devices/%FF%FE", Admin(), "", 400},
      {"deployment id", "GET", "/api/v1/deployments/%C3%28", Admin(), "", 400},
      {"deployment control", "POST", "/api/v1/deployments/%FF/cancel", Admin(), "", 400},
      {"release", "GET", "/api/v1/releases/%C0%AF", Admin(), "", 400},
      {"group", "GET", "/api/v1/groups/%FF", Admin(), "", 400},
      {"group delete", "DELETE", "/api/v1/groups/%C3%28", Admin(), "", 400},
      {"username", "PUT", "/api/v1/users/%FF/role", Admin(), R"({"role":"viewer"})", 0},
      {"token", "DELETE", "/api/v1/tokens/%ED%A0%80", Admin(), "", 0},
      {"query key", "GET", "/api/v1/deployments?%FF=1&state=%FF", Admin(), "", 0},
      {"metadata file", "GET", "/api/v1/image/%FF.json", DeviceA(), "", 400},
      {"artifact", "GET", "/api/v1/targets/%FF", {}, "", 400},
      {"bad escape", "GET", "/api/v1/devices/%ZZ", Admin(), "", 400},
      {"NUL", "GET", "/api/v1/devices/a%00b", Admin(), "", 400},
  };
  // A filter with invalid UTF-8 may answer 200 with nothing found; it must not be a 5xx.
  const Reply filter = server_->AsAdmin("GET", "/api/v1/devices?image_version=%FF%FE");
  EXPECT_LT(filter.status, 500) << filter.body;
  ExpectRefusedAndNothingChanged(cases);
}

TEST_F(BadInputTest, LongUtf8PathsCutForTheAuditTrailStayValid) {
  // Valid UTF-8 longer than what an audit record keeps of a path or target: the cut must not
  // split a character, or the record becomes unreadable and the chain stops verifying.
  std::string e_acute;
  for (int i = 0; i < 150; ++i) e_acute += "%C3%A9";
  std::vector<Case> cases;
  for (const std::string& odd : {std::string("x"), std::string("xy")}) {
    const std::string id = odd + e_acute;
    cases.push_back({"anonymous, bad token", "GET", "/api/v1/devices/" + id,
                     {"Authorization: Bearer alo_nope"}, "", 401});
    cases.push_back({"no permission", "GET", "/api/v1/devices/" + id,
                     {Bearer(server_->op("auditor").token)}, "", 403});
    cases.push_back({"failed action", "POST", "/api/v1/deployments/" + id + "/cancel", Admin(), "",
                     404});
    cases.push_back({"failed decision", "POST", "/api/v1/devices/" + id + "/revoke", Admin(), "", 404});
  }
  ExpectRefusedAndNothingChanged(cases);
  const Reply export_all = server_->AsAdmin("GET", "/api/v1/audit/export");
  EXPECT_EQ(export_all.status, 200);
  std::size_t at = 0;
  while (at < export_all.body.size()) {
    std::size_t end = export_all.body.find('\n', at);
    if (end == std::string::npos) end = export_all.body.size();
    EXPECT_TRUE(core::codec::ParseJson(export_all.body.substr(at, end - at)))
        << "an exported audit line is not valid JSON";
    at = end + 1;
  }
}

TEST_F(BadInputTest, ReplayedExpiredForgedAndRevokedCredentialsAre401) {
  testfix::Aloftd::Device& a = server_->device("dev-a");
  // A signed authentication request works once; the same bytes again are a replay.
  const std::string auth = server_->AuthBody(a, testfix::Aloftd::NewNonce());
  ASSERT_EQ(server_->Call("POST", "/api/v1/device/auth", {}, auth).status, 200);
  // An operator token that worked, then was revoked.
  const Reply made = server_->Call("POST", "/api/v1/tokens", {Bearer(server_->op("operator").token)},
                                   R"({"name":"soon-revoked","expires_in_days":1})");
  ASSERT_EQ(made.status, 201) << made.body;
  const std::string revoked = made.Str("token");
  ASSERT_EQ(server_->Call("DELETE", "/api/v1/tokens/" + made.Str("id"),
                          {Bearer(server_->op("operator").token)})
                .status,
            204);

  // Device tokens signed with the server's key but expired, or for another kind or device,
  // and tokens signed with a key the server does not have.
  const Bytes key = server_->TokenKey();
  ASSERT_EQ(key.size(), 32u);
  testing::FakeClock past(std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()) -
                          std::chrono::hours(2));
  auto old = auth::TokenService::Create(key, past, std::chrono::seconds(900));
  ASSERT_TRUE(old);
  platform::posix::SystemClock now;
  auto right = auth::TokenService::Create(key, now, std::chrono::seconds(900));
  ASSERT_TRUE(right);
  auto wrong = auth::TokenService::Create(Bytes(32, 7), now, std::chrono::seconds(900));
  ASSERT_TRUE(wrong);
  std::string tampered = a.token;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';

  const std::string report = R"({"reports":[{"id":"forged-1","deploymentId":")" + server_->d1() +
                             R"(","state":"failed","bytesDone":0,"bytesTotal":0,"message":"x","logTail":"","at":"2026-01-01T00:00:00Z"}]})";
  std::vector<Case> cases = {
      {"replayed device auth", "POST", "/api/v1/device/auth", {}, auth, 401},
      {"auth signed by another key", "POST", "/api/v1/device/auth", {},
       [&] {
         testfix::Aloftd::Device impostor{"dev-a", core::crypto::PrivateKey::Generate(core::crypto::KeyType::kEd25519).value(), ""};
         return server_->AuthBody(impostor, testfix::Aloftd::NewNonce());
       }(),
       401},
  };
  for (const auto& [what, token] : std::vector<std::pair<std::string, std::string>>{
           {"expired device token", *old->Issue("device", "dev-a")},
           {"forged device token", *wrong->Issue("device", "dev-a")},
           {"token of another kind", *right->Issue("operator", "dev-a")},
           {"token for an unknown device", *right->Issue("device", "dev-ghost")},
           {"tampered device token", tampered},
           {"operator token on a device route", server_->op("admin").token},
           {"garbage", "not-a-token"},
       }) {
    cases.push_back({what, "POST", "/api/v1/device/reports", {Bearer(token)}, report, 401});
    cases.push_back({what, "GET", "/api/v1/device/updates", {Bearer(token)}, "", 401});
    cases.push_back({what, "GET", "/api/v1/director/targets.json", {Bearer(token)}, "", 401});
  }
  std::string tampered_op = server_->op("admin").token;
  tampered_op.back() = tampered_op.back() == 'A' ? 'B' : 'A';
  for (const auto& [what, header] : std::vector<std::pair<std::string, std::string>>{
           {"expired operator token", Bearer("alo_" + std::string(43, 'e'))},
           {"revoked operator token", Bearer(revoked)},
           {"tampered operator token", Bearer(tampered_op)},
           {"device token on a management route", Bearer(a.token)},
           {"empty bearer", "Authorization: Bearer "},
           {"basic auth", "Authorization: Basic YWRtaW46YWRtaW4="},
           {"forged session cookie", "Cookie: aloft_session=" + std::string(43, 's')},
           {"two session cookies", "Cookie: aloft_session=a; aloft_session=b"},
           {"token with invalid UTF-8", "Authorization: Bearer alo_\xff\xfe\xc0\xaf"},
           {"cookie with invalid UTF-8", "Cookie: aloft_session=\xff\xfe"},
       }) {
    cases.push_back({what, "POST", "/api/v1/deployments/pause-all", {header}, R"({"reason":"x"})", 401});
    cases.push_back({what, "POST", "/api/v1/devices/dev-b/revoke", {header}, "", 401});
    cases.push_back({what, "GET", "/api/v1/audit", {header}, "", 401});
  }
  ExpectRefusedAndNothingChanged(cases);
}

}  // namespace
}  // namespace aloft::server::app

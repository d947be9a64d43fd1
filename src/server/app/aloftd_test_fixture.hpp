#pragma once

// A real aloftd for integration tests, shared by every test of one binary: started in-process
// on 127.0.0.1 over plain HTTP with a temporary data directory, plus the cast that the
// permission matrix and the bad-input tests act with:
//   - one operator per role, each with an API token (made through OperatorService on the same
//     database before the server starts: no Argon2 login per role), and a known password;
//   - devices dev-a and dev-b (preauthorized, enrolled, authenticated: device tokens), dev-c
//     pending (enrolled with an enrollment token);
//   - an offline Image repository (root + targets signed here, the server's online snapshot
//     and timestamp keys in its root), an uploaded artifact, a release "rpi4/os-2.0.img";
//   - a static group "lab" whose only member is dev-b;
//   - deployment `d1` of that release to dev-a (which has checked in, so its Director
//     metadata names the image) and deployment `d2` to a device that does not exist.
// StateSnapshot() is what must not change when a request is refused.
// For tests only: it includes gtest and testing/.

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/base/hex.hpp"
#include "core/codec/json.hpp"
#include "core/crypto/hash.hpp"
#include "core/crypto/keys.hpp"
#include "core/metadata/model.hpp"
#include "core/uptane/target_custom.hpp"
#include "core/wire/device_api.hpp"
#include "platform/posix/system_clock.hpp"
#include "platform/sqlite/connection_pool.hpp"
#include "server/app/app.hpp"
#include "server/app/kek.hpp"
#include "server/audit/sqlite/sqlite_audit_log.hpp"
#include "server/operators/operator_service.hpp"
#include "server/operators/password.hpp"
#include "server/operators/secrets.hpp"
#include "server/operators/sqlite/sqlite_operator_store.hpp"
#include "server/repo/online_keys.hpp"
#include "testing/repo_builder.hpp"
#include "testing/temp_dir.hpp"

namespace aloft::server::app::testfix {

using core::codec::Json;

struct Reply {
  long status = 0;  // 0: no HTTP answer at all
  std::string body;
  std::string headers;  // the response head, as received
  // The error code of a JSON error body, "" otherwise.
  std::string ErrorCode() const {
    auto json = core::codec::ParseJson(body);
    if (!json || !json->IsObject()) return "";
    const Json* error = json->Find("error");
    if (error == nullptr || !error->IsObject()) return "";
    const Json* code = error->Find("code");
    return code != nullptr && code->IsString() ? code->AsString() : "";
  }
  // A top-level string / boolean member of the JSON body; "" / false when absent.
  std::string Str(std::string_view key) const {
    Json json = JsonBody();
    const Json* v = json.Find(key);
    return v != nullptr && v->IsString() ? v->AsString() : "";
  }
  bool Bool(std::string_view key) const {
    Json json = JsonBody();
    const Json* v = json.Find(key);
    return v != nullptr && v->IsBool() && v->AsBool();
  }
  Json JsonBody() const {
    auto json = core::codec::ParseJson(body);
    return json ? *json : Json();
  }
};

// One HTTP exchange with libcurl. `path` is sent exactly as given (no dot-segment
// normalisation), so traversal attempts reach the server as written.
inline Reply Send(std::uint16_t port, const std::string& method, const std::string& path,
                  const std::vector<std::string>& headers = {}, const std::string& body = "") {
  Reply out;
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return out;
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + path;
  curl_slist* list = curl_slist_append(nullptr, "Content-Type: application/json");
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
  if (method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  if (method != "GET" && method != "HEAD") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION,
                   +[](char* p, size_t s, size_t n, void* u) -> size_t {
                     static_cast<std::string*>(u)->append(p, s * n);
                     return s * n;
                   });
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION,
                   +[](char* p, size_t s, size_t n, void* u) -> size_t {
                     static_cast<std::string*>(u)->append(p, s * n);
                     return s * n;
                   });
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &out.headers);
  if (curl_easy_perform(curl) == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out.status);
  }
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return out;
}

inline std::string Bearer(const std::string& token) { return "Authorization: Bearer " + token; }

struct OperatorCast {
  std::string username;
  operators::Role role = operators::Role::kViewer;
  std::string password;  // known, so password routes can be exercised without guessing
  std::string token;     // "alo_...", the user's role
};

inline constexpr const char* kHardware = "rpi4";
inline constexpr const char* kReleaseName = "os-2.0.img";
inline constexpr const char* kAudience = "http://127.0.0.1";

class Aloftd {
 public:
  // Everything described at the top of this file; fails the current test on any error.
  void SetUp() {
    auto dir = testing::TempDir::Create();
    ASSERT_TRUE(dir) << dir.error().ToString();
    dir_.emplace(std::move(*dir));
    config_.listen_address = "127.0.0.1";
    config_.listen_port = 0;
    config_.data_dir = dir_->path() / "data";
    config_.public_url = kAudience;
    config_.shutdown_drain = std::chrono::seconds(1);
    // The matrix sends hundreds of requests from one IP and one device within a second.
    config_.per_ip_burst = 1e6;
    config_.per_ip_requests_per_second = 1e6;
    config_.per_device_burst = 1e6;
    config_.per_device_requests_per_second = 1e6;
    config_.max_artifact_bytes = 1 << 20;
    InitOptions init;
    init.admin_password_file = dir_->path() / "admin-otp";
    auto summary = Init(config_, init);
    ASSERT_TRUE(summary) << summary.error().ToString();
    ASSERT_NO_FATAL_FAILURE(MakeOperators());
    auto kek = LoadKek(config_);
    ASSERT_TRUE(kek) << kek.error().ToString();
    auto online = repo::OnlineKeys::LoadOrCreate(config_.secrets_dir(), *kek);
    ASSERT_TRUE(online) << online.error().ToString();
    online_.emplace(std::move(*online));

    auto server = app::Aloftd::Start(config_);
    ASSERT_TRUE(server) << server.error().ToString();
    server_ = std::move(*server);
    ASSERT_NO_FATAL_FAILURE(MakeDevices());
    ASSERT_NO_FATAL_FAILURE(MakeGroups());
    ASSERT_NO_FATAL_FAILURE(PublishRelease());
    ASSERT_NO_FATAL_FAILURE(MakeDeployments());
  }
  void TearDown() {
    server_.reset();
    dir_.reset();
  }

  bool running() const { return server_ != nullptr; }
  std::uint16_t port() const { return server_->port(); }
  std::vector<std::string> Routes() const { return server_->Routes(); }
  const config::ServerConfig& config() const { return config_; }
  Reply Call(const std::string& method, const std::string& path,
             const std::vector<std::string>& headers = {}, const std::string& body = "") const {
    return Send(port(), method, path, headers, body);
  }
  Reply AsAdmin(const std::string& method, const std::string& path,
                const std::string& body = "") const {
    return Call(method, path, {Bearer(op("admin").token)}, body);
  }
  const OperatorCast& op(const std::string& role) const { return operators_.at(role); }
  const std::map<std::string, OperatorCast>& operators() const { return operators_; }

  // --- Devices ---
  struct Device {
    std::string id;
    std::optional<core::crypto::PrivateKey> key;
    std::string token;
  };
  Device& device(const std::string& id) { return devices_.at(id); }

  std::string AuthBody(const Device& d, const std::string& nonce) const {
    core::wire::AuthRequest r{d.id, kAudience,
                              std::chrono::floor<std::chrono::seconds>(clock_.Now()), nonce, ""};
    r.signature =
        HexEncode(*d.key->Sign(AsBytes(core::codec::CanonicalJson(core::wire::AuthStatement(r)))));
    return core::codec::DumpJson(core::wire::ToJson(r));
  }
  std::string EnrollBody(const Device& d, const std::string& enrollment_token) const {
    return core::codec::DumpJson(core::wire::ToJson(core::wire::EnrollRequest{
        d.id, kHardware, d.key->Public().ToTufJson(), enrollment_token}));
  }
  static std::string NewNonce() {
    static int counter = 0;
    std::string n = std::to_string(++counter);
    return std::string(32 - n.size(), '0') + n;
  }

  // --- Repository ---
  // The next root version (same keys), signed: what a release manager uploads for a rotation.
  std::string NextRoot() {
    offline_.root.common.version += 1;
    return SignedRoot();
  }
  // The next targets version (same content), signed.
  std::string NextTargets() {
    offline_.BumpTargets();
    return ToString(offline_.RoleBytes("targets"));
  }
  const std::string& artifact() const { return artifact_; }
  std::string artifact_sha256() const { return core::crypto::Sha256Hex(ToBytes(artifact_)); }
  const std::string& d1() const { return d1_; }
  const std::string& d2() const { return d2_; }
  std::string DeploymentBody(const std::string& device_id) const {
    return core::codec::DumpJson(Json::Object{
        {"release", kReleaseName},
        {"selector", Json::Object{{"devices", Json::Array{device_id}}}},
        {"phases", Json::Array{Json::Object{{"percent", 100}, {"wait_seconds", 0}}}},
        {"failure_threshold_percent", 50},
        {"min_devices_for_threshold", 1},
        {"phase_deadline_seconds", 3600}});
  }

  // What a refused or invalid request must leave alone, read as admin: devices (with their
  // latest reports), groups and their members, deployments with per-device states, releases,
  // users, API tokens and the online keys. Token last-use times are left out: reading the
  // state uses a token.
  std::string StateSnapshot() const {
    std::string out;
    for (const char* path :
         {"/api/v1/devices", "/api/v1/devices/dev-a", "/api/v1/devices/dev-b",
          "/api/v1/devices/dev-c", "/api/v1/groups", "/api/v1/groups/lab",
          "/api/v1/deployments", "/api/v1/releases", "/api/v1/users",
          "/api/v1/tokens", "/api/v1/online-keys", "/api/v1/director-repo/root"}) {
      Reply r = AsAdmin("GET", path);
      EXPECT_EQ(r.status, 200) << path << ": " << r.body;
      Json json = r.JsonBody();
      Strip(json, "last_used");
      // Written behind, up to a second after the check-in that set it (LastSeenRecorder):
      // a flush may land between two snapshots without any request having changed state.
      Strip(json, "last_seen");
      out += std::string(path) + " " + core::codec::DumpJson(json) + "\n";
    }
    return out;
  }
  // The audit trail's records after `seq` (read as admin; the read itself is audited).
  std::vector<Json> AuditAfter(std::int64_t seq) const {
    std::vector<Json> out;
    for (;;) {
      Reply r = AsAdmin("GET", "/api/v1/audit?limit=1000&after=" + std::to_string(seq));
      EXPECT_EQ(r.status, 200) << r.body;
      Json page = r.JsonBody();
      const Json* records = page.Find("records");
      if (records == nullptr || !records->IsArray() || records->AsArray().empty()) return out;
      for (const Json& record : records->AsArray()) {
        seq = record.Find("seq")->AsInt();
        out.push_back(record);
      }
    }
  }
  std::int64_t AuditHead() const {
    Reply r = AsAdmin("GET", "/api/v1/audit/verify");
    EXPECT_EQ(r.status, 200) << r.body;
    Json json = r.JsonBody();
    EXPECT_TRUE(json.Find("ok") != nullptr && json.Find("ok")->AsBool()) << r.body;
    return json.Find("records") != nullptr ? json.Find("records")->AsInt() : 0;
  }

  // The server's device-token key (read from its secrets), to mint expired tokens in tests.
  Bytes TokenKey() const;

 private:
  void MakeOperators();
  void MakeDevices();
  void MakeGroups();
  void PublishRelease();
  void MakeDeployments();
  static void Strip(Json& json, const std::string& key) {
    if (json.IsObject()) {
      json.AsObject().erase(key);
      for (auto& [k, v] : json.AsObject()) Strip(v, key);
    } else if (json.IsArray()) {
      for (Json& v : json.AsArray()) Strip(v, key);
    }
  }
  std::string SignedRoot() {
    auto envelope = core::metadata::SignMetadata(core::metadata::ToJson(offline_.root),
                                                 offline_.signers.at("root"));
    EXPECT_TRUE(envelope);
    return envelope ? core::metadata::Serialize(*envelope) : "";
  }

  platform::posix::SystemClock clock_;
  std::optional<testing::TempDir> dir_;
  config::ServerConfig config_;
  std::map<std::string, OperatorCast> operators_;  // by role name
  std::map<std::string, Device> devices_;
  std::optional<repo::OnlineKeys> online_;
  testing::RepoBuilder offline_{core::crypto::KeyType::kEd25519,
                                std::chrono::floor<std::chrono::seconds>(
                                    platform::posix::SystemClock().Now())};
  std::string artifact_ = "os image 2.0 for rpi4";
  std::string d1_, d2_;
  std::unique_ptr<app::Aloftd> server_;
};

inline void Aloftd::MakeOperators() {
  auto pool = platform::sqlite::ConnectionPool::Open(config_.database_path(), {}, 1);
  ASSERT_TRUE(pool) << pool.error().ToString();
  operators::sqlite::SqliteOperatorStore store(**pool);
  audit::sqlite::SqliteAuditLog audit(**pool, clock_);
  // Cheap hashes: the test's budget is seconds; aloftd verifies whatever parameters a hash
  // names and re-hashes with its own at a successful login.
  operators::OperatorOptions options;
  options.password_hash.time_cost = 1;
  options.password_hash.memory_kib = 64;
  auto kek = LoadKek(config_);
  ASSERT_TRUE(kek) << kek.error().ToString();
  auto cipher = operators::TotpSeedCipher::Create(*kek);
  ASSERT_TRUE(cipher) << cipher.error().ToString();
  auto service =
      operators::OperatorService::Create(store, audit, clock_, std::move(*cipher), options);
  ASSERT_TRUE(service) << service.error().ToString();
  const Timestamp now = std::chrono::floor<std::chrono::seconds>(clock_.Now());
  for (operators::Role role : operators::kAllRoles) {
    OperatorCast cast;
    cast.role = role;
    cast.username = "m-" + std::string(operators::RoleName(role));
    cast.password = "password-of-" + cast.username;
    auto hash = operators::HashPassword(cast.password, options.password_hash);
    ASSERT_TRUE(hash) << hash.error().ToString();
    operators::UserRow row;
    row.username = cast.username;
    row.role = role;
    row.password_hash = *hash;
    row.created_at = row.updated_at = now;
    ASSERT_TRUE(store.InsertUser(row));
    operators::Principal who;
    who.username = cast.username;
    who.role = who.user_role = role;
    who.via = operators::Principal::Via::kToken;
    auto token = (*service)->CreateToken(who, "matrix", std::nullopt, 1);
    ASSERT_TRUE(token) << token.error().ToString();
    cast.token = token->secret;
    operators_.emplace(std::string(operators::RoleName(role)), cast);
  }
  // Used only by the expiry test: an admin token whose expiry has passed.
  operators::ApiTokenRow expired;
  expired.id = "tok_expired_matrix";
  expired.name = "expired";
  expired.username = "m-admin";
  expired.role = operators::Role::kAdmin;
  expired.secret_hash = operators::SecretHash("alo_" + std::string(43, 'e'));
  expired.created_at = now - std::chrono::hours(48);
  expired.expires_at = now - std::chrono::hours(24);
  ASSERT_TRUE(store.InsertToken(expired));
}

inline void Aloftd::MakeDevices() {
  for (const char* id : {"dev-a", "dev-b", "dev-c"}) {
    Device d;
    d.id = id;
    auto key = core::crypto::PrivateKey::Generate(core::crypto::KeyType::kEd25519);
    ASSERT_TRUE(key);
    d.key.emplace(std::move(*key));
    devices_.emplace(id, std::move(d));
  }
  for (const char* id : {"dev-a", "dev-b"}) {
    Device& d = devices_.at(id);
    Reply pre = AsAdmin("POST", "/api/v1/devices/preauthorize",
                        core::codec::DumpJson(Json::Object{{"device_id", d.id},
                                                           {"hardware_id", kHardware},
                                                           {"public_key", d.key->Public().ToTufJson()}}));
    ASSERT_EQ(pre.status, 201) << pre.body;
    Reply enroll = Call("POST", "/api/v1/device/enroll", {}, EnrollBody(d, ""));
    ASSERT_EQ(enroll.status, 200) << enroll.body;
    Reply auth = Call("POST", "/api/v1/device/auth", {}, AuthBody(d, NewNonce()));
    ASSERT_EQ(auth.status, 200) << auth.body;
    auto parsed = core::wire::ParseAuthResponse(auth.JsonBody());
    ASSERT_TRUE(parsed);
    d.token = parsed->token;
  }
  Reply token = AsAdmin("POST", "/api/v1/enrollment-tokens", R"({"uses":2,"valid_hours":1})");
  ASSERT_EQ(token.status, 201) << token.body;
  Reply enroll = Call("POST", "/api/v1/device/enroll", {},
                      EnrollBody(devices_.at("dev-c"), token.Str("token")));
  ASSERT_EQ(enroll.status, 202) << enroll.body;
}

inline void Aloftd::MakeGroups() {
  Reply group = AsAdmin("POST", "/api/v1/groups", R"({"name":"lab"})");
  ASSERT_EQ(group.status, 201) << group.body;
  Reply members = AsAdmin("POST", "/api/v1/groups/lab/members", R"({"devices":["dev-b"]})");
  ASSERT_EQ(members.status, 200) << members.body;
}

inline void Aloftd::PublishRelease() {
  offline_.SetRoleKeys("snapshot", {online_->image_snapshot});
  offline_.SetRoleKeys("timestamp", {online_->image_timestamp});
  Reply root = AsAdmin("PUT", "/api/v1/image-repo/root", SignedRoot());
  ASSERT_EQ(root.status, 200) << root.body;
  Reply blob = AsAdmin("PUT", "/api/v1/artifacts/" + artifact_sha256(), artifact_);
  ASSERT_EQ(blob.status, 201) << blob.body;
  offline_.AddTarget(kReleaseName, ToBytes(artifact_));
  core::uptane::ImageCustom custom;
  custom.version = "2.0";
  custom.hardware_ids = {kHardware};
  custom.security_counter = 5;
  offline_.targets.at("targets").targets.at(kReleaseName).custom = core::uptane::ToJson(custom);
  Reply targets = AsAdmin("PUT", "/api/v1/image-repo/targets", NextTargets());
  ASSERT_EQ(targets.status, 200) << targets.body;
}

inline void Aloftd::MakeDeployments() {
  Reply d1 = AsAdmin("POST", "/api/v1/deployments", DeploymentBody("dev-a"));
  ASSERT_EQ(d1.status, 201) << d1.body;
  d1_ = d1.Str("id");
  Reply d2 = AsAdmin("POST", "/api/v1/deployments", DeploymentBody("dev-nobody"));
  ASSERT_EQ(d2.status, 201) << d2.body;
  d2_ = d2.Str("id");
  // dev-a checks in: the rollout assigns it the image through its Director repository.
  Reply checkin = Call("GET", "/api/v1/device/updates", {Bearer(devices_.at("dev-a").token)});
  ASSERT_EQ(checkin.status, 200) << checkin.body;
  ASSERT_TRUE(checkin.Bool("updateAvailable")) << checkin.body;
}

inline Bytes Aloftd::TokenKey() const {
  std::ifstream in(config_.secrets_dir() / "token.key");
  std::string hex;
  in >> hex;
  auto raw = HexDecode(hex);
  return raw ? *raw : Bytes();
}

// A suite whose tests share one aloftd (starting one, with its offline repository, takes
// seconds): started before the suite's first test, stopped after its last. A test is skipped
// when the server did not start (SetUpTestSuite cannot fail a test itself).
// CRTP: each suite gets its own server.
template <class Suite>
class SharedAloftdTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new Aloftd();
    server_->SetUp();
  }
  static void TearDownTestSuite() {
    if (server_ != nullptr) server_->TearDown();
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    if (server_ == nullptr || !server_->running()) GTEST_SKIP() << "the server did not start";
  }

  static inline Aloftd* server_ = nullptr;
};

}  // namespace aloft::server::app::testfix

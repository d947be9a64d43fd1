// aloftctl's command line run in-process: argument parsing, exit codes, human tables vs --json,
// and the requests the online commands send, checked against a fake aloftd on 127.0.0.1.

#include "cli/aloftctl/commands/app.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <map>
#include <mutex>
#include <sstream>

#include "cli/aloftctl/repo/offline_repo.hpp"
#include "core/crypto/hash.hpp"
#include "core/crypto/keys.hpp"
#include "platform/posix/files.hpp"
#include "testing/fake_clock.hpp"
#include "testing/http_server.hpp"
#include "testing/repo_builder.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::cli::aloftctl::commands {
namespace {

namespace fs = std::filesystem;
namespace posix = platform::posix;
using core::codec::Json;
using testing::TestHttpServer;

constexpr const char* kPassphrase = "correct horse battery";

struct Outcome {
  int code = -1;
  std::string out;
  std::string err;
};

Json ParseOut(const Outcome& o) {
  auto json = core::codec::ParseJson(o.out);
  EXPECT_TRUE(json) << o.out;
  return json ? *json : Json();
}

class AppTest : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    env_vars_["ALOFT_PASSPHRASE"] = kPassphrase;
    env_vars_["HOME"] = (dir_ / "home").string();
    snapshot_ = *core::crypto::PrivateKey::Generate(core::crypto::KeyType::kEd25519);
    timestamp_ = *core::crypto::PrivateKey::Generate(core::crypto::KeyType::kEd25519);
    online_keys_ = Json::Object{
        {"snapshot",
         Json::Object{{"keyid", snapshot_.KeyId()}, {"key", snapshot_.Public().ToTufJson()}}},
        {"timestamp",
         Json::Object{{"keyid", timestamp_.KeyId()}, {"key", timestamp_.Public().ToTufJson()}}}};
    ASSERT_TRUE(
        posix::AtomicWriteFile(dir_ / "online.json", AsBytes(core::codec::DumpJson(online_keys_))));
  }

  Outcome Run(std::vector<std::string> args) {
    std::ostringstream out, err;
    Environment env;
    env.out = &out;
    env.err = &err;
    env.getenv = [this](std::string_view name) -> std::optional<std::string> {
      auto it = env_vars_.find(std::string(name));
      if (it == env_vars_.end()) return std::nullopt;
      return it->second;
    };
    env.prompt = prompt_;
    env.clock = &clock_;
    args.insert(args.begin(), {"aloftctl", "--repo", (dir_ / "repo").string()});
    Outcome o;
    o.code = commands::Run(args, env);
    o.out = out.str();
    o.err = err.str();
    return o;
  }

  // An offline repository with one release signed by both targets keys.
  void MakeSignedRelease() {
    ASSERT_EQ(Run({"keys", "init", "--targets-keys", "2", "--targets-threshold", "2",
                   "--online-keys", (dir_ / "online.json").string()})
                  .code,
              0);
    ASSERT_TRUE(posix::AtomicWriteFile(dir_ / "rootfs.ext4", Bytes(300000, 0x5A)));
    Outcome created = Run({"--json", "release", "create", (dir_ / "rootfs.ext4").string(),
                           "--version", "2.0.0", "--hardware", "rpi4", "--zstd-level", "3"});
    ASSERT_EQ(created.code, 0) << created.err;
    artifact_sha256_ = ParseOut(created).Find("artifact")->Find("sha256")->AsString();
    for (const auto& entry : fs::directory_iterator(dir_ / "repo" / "keys")) {
      if (entry.path().filename().string().starts_with("targets-")) {
        ASSERT_EQ(Run({"release", "sign", "--key", entry.path().string()}).code, 0);
      }
    }
  }

  std::map<std::string, std::string> env_vars_;
  std::function<Result<std::string>(std::string_view, bool)> prompt_;
  testing::FakeClock clock_{testing::RepoBuilder::DefaultNow()};
  core::crypto::PrivateKey snapshot_, timestamp_;
  Json online_keys_;
  std::string artifact_sha256_;
};

TEST_F(AppTest, UsageErrorsAndHelp) {
  EXPECT_EQ(Run({}).code, kExitUsage);
  EXPECT_EQ(Run({"keys"}).code, kExitUsage);
  EXPECT_EQ(Run({"keys", "init"}).code, kExitUsage);  // --online-keys is required
  EXPECT_EQ(Run({"nonsense"}).code, kExitUsage);
  EXPECT_EQ(Run({"keys", "rotate", "--role", "snapshot"}).code, kExitUsage);
  EXPECT_EQ(Run({"deploy", "create", "r", "--to-tag", "x", "--phases", "10%,5%"}).code, kExitUsage);
  EXPECT_EQ(Run({"deploy", "create", "r", "--phases", "100%"}).code, kExitUsage);  // no selector
  Outcome help = Run({"--help"});
  EXPECT_EQ(help.code, kExitOk);
  EXPECT_NE(help.out.find("Exit codes:"), std::string::npos);
  EXPECT_NE(help.out.find("4  aloftd refused"), std::string::npos);
}

TEST_F(AppTest, OfflineFlowTablesAndJson) {
  MakeSignedRelease();
  Outcome show = Run({"keys", "show"});
  ASSERT_EQ(show.code, 0) << show.err;
  EXPECT_NE(show.out.find("ROLE       THRESHOLD  KEY ID"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("(online, on aloftd)"), std::string::npos);
  Outcome json = Run({"keys", "show", "--json"});  // --json after the command works too
  ASSERT_EQ(json.code, 0);
  const Json doc = ParseOut(json);
  EXPECT_EQ(doc.Find("root_version")->AsInt(), 1);
  EXPECT_TRUE(doc.Find("consistent_snapshot")->AsBool());
  EXPECT_EQ(doc.Find("roles")->Find("targets")->Find("threshold")->AsInt(), 2);

  Outcome status = Run({"--json", "release", "status"});
  ASSERT_EQ(status.code, 0);
  EXPECT_TRUE(ParseOut(status).Find("targets")->Find("complete")->AsBool());
  Outcome table = Run({"release", "list", "--staged"});
  EXPECT_NE(table.out.find("rootfs-2.0.0.ext4.zst  2.0.0    rpi4"), std::string::npos) << table.out;

  // Wrong passphrase: a verification problem, exit 3; missing key file: error 1.
  env_vars_["ALOFT_PASSPHRASE"] = "not the passphrase";
  const fs::path key = fs::directory_iterator(dir_ / "repo" / "keys")->path();
  EXPECT_EQ(Run({"release", "sign", "--key", key.string()}).code, kExitVerification);
  EXPECT_EQ(Run({"release", "sign", "--key", (dir_ / "nope.pem").string()}).code, kExitError);
}

TEST_F(AppTest, PassphraseComesFromFileEnvOrTerminal) {
  env_vars_.erase("ALOFT_PASSPHRASE");
  // No file, no variable, no terminal: a clear error, not a hang.
  Outcome none = Run({"keys", "init", "--online-keys", (dir_ / "online.json").string()});
  EXPECT_EQ(none.code, kExitError);
  EXPECT_NE(none.err.find("--passphrase-file"), std::string::npos) << none.err;
  // A passphrase file readable by others is refused.
  ASSERT_TRUE(posix::AtomicWriteFile(dir_ / "pp", AsBytes(std::string(kPassphrase) + "\n"), 0644));
  EXPECT_EQ(Run({"--passphrase-file", (dir_ / "pp").string(), "keys", "init", "--online-keys",
                 (dir_ / "online.json").string()})
                .code,
            kExitError);
  // The terminal: asked twice for new keys; different answers are refused.
  std::vector<std::string> answers = {kPassphrase, "something else"};
  std::vector<bool> secret;
  prompt_ = [&](std::string_view, bool is_secret) -> Result<std::string> {
    secret.push_back(is_secret);
    std::string a = answers.front();
    answers.erase(answers.begin());
    return a;
  };
  EXPECT_EQ(Run({"keys", "init", "--online-keys", (dir_ / "online.json").string()}).code,
            kExitError);
  EXPECT_EQ(secret, (std::vector<bool>{true, true}));
  answers = {kPassphrase, kPassphrase};
  Outcome ok = Run({"keys", "init", "--online-keys", (dir_ / "online.json").string()});
  EXPECT_EQ(ok.code, kExitOk) << ok.err;
  // The file works too, and it is what the keys were encrypted with.
  ASSERT_TRUE(posix::AtomicWriteFile(dir_ / "pp", AsBytes(std::string(kPassphrase) + "\n"), 0600));
  ASSERT_TRUE(posix::AtomicWriteFile(dir_ / "img", Bytes(1000, 1)));
  ASSERT_EQ(
      Run({"release", "create", (dir_ / "img").string(), "--version", "1", "--hardware", "x"}).code,
      kExitOk);
  prompt_ = nullptr;
  bool signed_one = false;
  for (const auto& entry : fs::directory_iterator(dir_ / "repo" / "keys")) {
    if (!entry.path().filename().string().starts_with("targets-")) continue;
    Outcome sign = Run({"--passphrase-file", (dir_ / "pp").string(), "release", "sign", "--key",
                        entry.path().string()});
    EXPECT_EQ(sign.code, kExitOk) << sign.err;
    signed_one = true;
  }
  EXPECT_TRUE(signed_one);
}

// A fake aloftd: records every request and answers from a table of (method path) -> response.
class FakeServer {
 public:
  struct Seen {
    std::string method, target;
    std::map<std::string, std::string> headers;
    std::string body;
  };
  using Answer = std::function<TestHttpServer::Response(const TestHttpServer::Request&)>;

  FakeServer() {
    server_ = *TestHttpServer::Start();
    server_->SetHandler(
        [this](const TestHttpServer::Request& r) -> std::optional<TestHttpServer::Response> {
          std::lock_guard lock(mutex_);
          seen_.push_back({r.method, r.target, r.headers, ToString(r.body)});
          auto it = answers_.find(r.method + " " + r.path);
          if (it == answers_.end()) return Json404();
          return it->second(r);
        });
  }
  void On(const std::string& method_path, Answer answer) {
    std::lock_guard lock(mutex_);
    answers_[method_path] = std::move(answer);
  }
  void OnJson(const std::string& method_path, int status, const Json& body,
              std::vector<std::pair<std::string, std::string>> headers = {}) {
    On(method_path, [=](const TestHttpServer::Request&) {
      TestHttpServer::Response r;
      r.status = status;
      r.body = ToBytes(core::codec::DumpJson(body));
      r.headers = headers;
      r.headers.emplace_back("Content-Type", "application/json");
      return r;
    });
  }
  std::vector<Seen> seen() {
    std::lock_guard lock(mutex_);
    return seen_;
  }
  std::string url() const { return server_->BaseUrl(); }

 private:
  static TestHttpServer::Response Json404() {
    TestHttpServer::Response r;
    r.status = 404;
    r.body = ToBytes(R"({"error":{"code":"not_found","message":"no such route"}})");
    return r;
  }
  std::unique_ptr<TestHttpServer> server_;
  std::mutex mutex_;
  std::map<std::string, Answer> answers_;
  std::vector<Seen> seen_;
};

Json Error(const std::string& code, const std::string& message) {
  return Json::Object{{"error", Json::Object{{"code", code}, {"message", message}}}};
}

class OnlineTest : public AppTest {
 protected:
  Outcome Online(std::vector<std::string> args) {
    args.insert(args.begin(), {"--server", server_.url(), "--allow-http-loopback"});
    return Run(std::move(args));
  }
  FakeServer server_;
};

TEST_F(OnlineTest, FirstLoginReplacesTheOneTimePassword) {
  env_vars_["ALOFT_PASSWORD"] = "one-time-pass";
  env_vars_["ALOFT_NEW_PASSWORD"] = "a much better password";
  std::vector<std::string> passwords;
  server_.On("POST /api/v1/session", [&](const TestHttpServer::Request& r) {
    auto body = core::codec::ParseJson(AsChars(r.body));
    passwords.push_back(body->Find("password")->AsString());
    TestHttpServer::Response resp;
    const bool first = passwords.size() == 1;
    resp.body = ToBytes(std::string(R"({"user":{"username":"admin","role":"admin"},)") +
                        R"("csrf_token":"csrf-1","expires":"2030-01-02T00:00:00Z",)" +
                        R"("must_change_password":)" + (first ? "true" : "false") + "}");
    resp.headers = {{"Set-Cookie", "aloft_session=s" + std::to_string(passwords.size()) +
                                       "; Path=/; HttpOnly; SameSite=Strict"}};
    return resp;
  });
  server_.OnJson("PUT /api/v1/users/self/password", 204, Json());
  server_.OnJson("POST /api/v1/tokens", 201,
                 Json::Object{{"id", "tok-1"}, {"name", "aloftctl"}, {"role", "admin"},
                              {"expires", "2030-01-31T00:00:00Z"}, {"token", "alo_abc"}});
  server_.OnJson("DELETE /api/v1/session", 204, Json());

  Outcome login = Online({"login", "--username", "admin"});
  ASSERT_EQ(login.code, kExitOk) << login.err;
  EXPECT_EQ(passwords, (std::vector<std::string>{"one-time-pass", "a much better password"}));
  bool changed = false;
  for (const auto& request : server_.seen()) {
    if (request.target == "/api/v1/users/self/password") {
      changed = true;
      EXPECT_EQ(request.headers.at("cookie"), "aloft_session=s1");
      EXPECT_EQ(request.body,
                R"({"current":"one-time-pass","new":"a much better password"})");
    }
    if (request.target == "/api/v1/tokens") {
      EXPECT_EQ(request.headers.at("cookie"), "aloft_session=s2") << "the new session";
    }
  }
  EXPECT_TRUE(changed);
}

TEST_F(OnlineTest, FirstLoginWithoutANewPasswordSaysHow) {
  env_vars_["ALOFT_PASSWORD"] = "one-time-pass";
  server_.On("POST /api/v1/session", [&](const TestHttpServer::Request&) {
    TestHttpServer::Response resp;
    resp.body = ToBytes(R"({"user":{"username":"admin","role":"admin","must_change_password":true},)"
                        R"("csrf_token":"c","expires":"2030-01-02T00:00:00Z"})");
    resp.headers = {{"Set-Cookie", "aloft_session=s1; Path=/"}};
    return resp;
  });
  server_.OnJson("DELETE /api/v1/session", 204, Json());
  prompt_ = nullptr;
  Outcome login = Online({"login", "--username", "admin"});
  EXPECT_NE(login.code, kExitOk);
  EXPECT_NE(login.err.find("--new-password-file"), std::string::npos) << login.err;
}

TEST_F(OnlineTest, LoginTradesTheSessionForAStoredToken) {
  env_vars_["ALOFT_PASSWORD"] = "hunter2hunter2";
  int session_posts = 0;
  server_.On("POST /api/v1/session", [&](const TestHttpServer::Request& r) {
    TestHttpServer::Response resp;
    auto body = core::codec::ParseJson(AsChars(r.body));
    if (++session_posts == 1) {
      EXPECT_EQ(body->Find("totp"), nullptr);
      resp.status = 401;
      resp.body = ToBytes(core::codec::DumpJson(Error("totp_required", "TOTP code required")));
      return resp;
    }
    EXPECT_EQ(body->Find("totp")->AsString(), "123456");
    resp.body = ToBytes(R"({"user":{"username":"alice","role":"release-manager"},)"
                        R"("csrf_token":"csrf-1","expires":"2030-01-02T00:00:00Z"})");
    resp.headers = {{"Set-Cookie", "aloft_session=s3cret; Path=/; HttpOnly; SameSite=Strict"}};
    return resp;
  });
  server_.OnJson("POST /api/v1/tokens", 201,
                 Json::Object{{"id", "tok-1"},
                              {"name", "aloftctl"},
                              {"role", "release-manager"},
                              {"expires", "2030-01-31T00:00:00Z"},
                              {"token", "alo_abc"}});
  server_.OnJson("DELETE /api/v1/session", 204, Json());
  prompt_ = [](std::string_view prompt, bool secret) -> Result<std::string> {
    EXPECT_NE(prompt.find("TOTP"), std::string_view::npos);
    EXPECT_FALSE(secret);
    return std::string("123456");
  };

  Outcome login = Online({"login", "--username", "alice", "--token-days", "7"});
  ASSERT_EQ(login.code, kExitOk) << login.err;
  EXPECT_EQ(login.out.find("alo_abc"), std::string::npos);  // the token is never printed

  const auto seen = server_.seen();
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0].body, R"({"password":"hunter2hunter2","username":"alice"})");
  EXPECT_EQ(seen[2].method, "POST");
  EXPECT_EQ(seen[2].target, "/api/v1/tokens");
  EXPECT_EQ(seen[2].headers.at("cookie"), "aloft_session=s3cret");
  EXPECT_EQ(seen[2].headers.at("x-csrf-token"), "csrf-1");
  EXPECT_EQ(seen[2].headers.count("authorization"), 0u);
  EXPECT_EQ(seen[2].body, R"({"expires_in_days":7,"name":"aloftctl"})");
  EXPECT_EQ(seen[3].method, "DELETE");
  EXPECT_EQ(seen[3].headers.at("x-csrf-token"), "csrf-1");

  const fs::path creds = dir_ / "home" / ".config" / "aloft" / "credentials.json";
  struct stat st {};
  ASSERT_EQ(::stat(creds.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // The stored token is used by the next command, with no --server needed.
  server_.OnJson("GET /api/v1/users", 200, Json::Object{{"users", Json::Array{}}});
  Outcome users = Run({"--allow-http-loopback", "user", "list"});
  EXPECT_EQ(users.code, kExitOk) << users.err;
  EXPECT_EQ(server_.seen().back().headers.at("authorization"), "Bearer alo_abc");
}

TEST_F(OnlineTest, BadCredentialsExitFour) {
  env_vars_["ALOFT_PASSWORD"] = "wrong";
  server_.OnJson("POST /api/v1/session", 401, Error("invalid_credentials", "invalid credentials"));
  Outcome login = Online({"login", "--username", "alice"});
  EXPECT_EQ(login.code, kExitRefused);
  EXPECT_NE(login.err.find("invalid_credentials"), std::string::npos) << login.err;
}

TEST_F(OnlineTest, ReleaseDeltasListsWhatTheServerBuilt) {
  env_vars_["ALOFT_TOKEN"] = "alo_tok";
  server_.OnJson(
      "GET /api/v1/deltas", 200,
      Json::Object{{"deltas",
                    Json::Array{Json::Object{{"release", "os-3.img.zst"},
                                             {"from_sha256", std::string(64, 'a')},
                                             {"state", "ready"},
                                             {"artifact_length", 2048},
                                             {"source_release", "os-2.img.zst"},
                                             {"updated_at", "2030-01-01T00:00:00Z"}},
                                Json::Object{{"release", "os-3.img.zst"},
                                             {"from_sha256", std::string(64, 'b')},
                                             {"state", "failed"},
                                             {"error", "no release has image bbbb"},
                                             {"updated_at", "2030-01-01T00:00:01Z"}}}}});
  Outcome listed = Online({"release", "deltas"});
  ASSERT_EQ(listed.code, kExitOk) << listed.err;
  EXPECT_NE(listed.out.find("os-2.img.zst"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("2.0 KiB"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("failed: no release has image bbbb"), std::string::npos) << listed.out;
  Outcome json = Online({"--json", "release", "deltas"});
  ASSERT_EQ(json.code, kExitOk) << json.err;
  EXPECT_NE(json.out.find("\"state\""), std::string::npos) << json.out;
}

TEST_F(OnlineTest, ReleaseUploadSendsArtifactsThenRootThenTargets) {
  MakeSignedRelease();
  env_vars_["ALOFT_TOKEN"] = "alo_tok";
  server_.OnJson("GET /api/v1/releases", 200, Json::Object{{"releases", Json::Array{}}});
  server_.OnJson("PUT /api/v1/artifacts/" + artifact_sha256_, 201,
                 Json::Object{{"sha256", artifact_sha256_}, {"length", 1}});
  server_.OnJson("PUT /api/v1/image-repo/root", 200, Json::Object{{"version", 1}});
  server_.OnJson("PUT /api/v1/image-repo/targets", 200, Json::Object{{"version", 1}});
  Outcome upload = Online({"release", "upload"});
  ASSERT_EQ(upload.code, kExitOk) << upload.err;

  const auto seen = server_.seen();
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0].method + " " + seen[0].target, "GET /api/v1/releases");
  EXPECT_EQ(seen[1].method + " " + seen[1].target, "PUT /api/v1/artifacts/" + artifact_sha256_);
  EXPECT_EQ(seen[1].headers.at("content-type"), "application/octet-stream");
  EXPECT_EQ(core::crypto::Sha256Hex(AsBytes(seen[1].body)), artifact_sha256_);
  EXPECT_EQ(seen[2].target, "/api/v1/image-repo/root");
  auto repo = repo::OfflineRepo::Open(dir_ / "repo");
  EXPECT_EQ(seen[2].body, ToString(*repo->ReadMetadata("root", 1)));  // byte for byte
  EXPECT_EQ(seen[3].target, "/api/v1/image-repo/targets");
  EXPECT_EQ(seen[3].body, ToString(*repo->ReadMetadata("targets", 1)));
  for (const auto& s : seen) EXPECT_EQ(s.headers.at("authorization"), "Bearer alo_tok");

  // Again: the server lists the release and has root v1 (409 rollback): only targets go up.
  server_.OnJson(
      "GET /api/v1/releases", 200,
      Json::Object{{"releases", Json::Array{Json::Object{{"sha256", artifact_sha256_}}}}});
  server_.OnJson("PUT /api/v1/image-repo/root", 409, Error("rollback", "version 1 is not 2"));
  Outcome again = Online({"--json", "release", "upload"});
  ASSERT_EQ(again.code, kExitOk) << again.err;
  EXPECT_EQ(ParseOut(again).Find("artifacts")->AsArray().size(), 0u);
  EXPECT_EQ(server_.seen().size(), 7u);

  // The server refuses the targets: exit 4 with its message.
  server_.OnJson("PUT /api/v1/image-repo/targets", 409,
                 Error("missing_artifact", "upload the artifact first"));
  Outcome refused = Online({"release", "upload", "--skip-artifacts"});
  EXPECT_EQ(refused.code, kExitRefused);
  EXPECT_NE(refused.err.find("missing_artifact"), std::string::npos) << refused.err;
}

TEST_F(OnlineTest, UnsignedTargetsAreNotUploaded) {
  MakeSignedRelease();
  ASSERT_TRUE(posix::AtomicWriteFile(dir_ / "img2", Bytes(5000, 2)));
  ASSERT_EQ(
      Run({"release", "create", (dir_ / "img2").string(), "--version", "2.1", "--hardware", "rpi4"})
          .code,
      0);
  env_vars_["ALOFT_TOKEN"] = "alo_tok";
  Outcome upload = Online({"release", "upload"});
  EXPECT_EQ(upload.code, kExitVerification) << upload.err;
  EXPECT_TRUE(server_.seen().empty());
}

TEST_F(OnlineTest, DeployCreateBuildsTheContractBody) {
  env_vars_["ALOFT_TOKEN"] = "alo_tok";
  server_.OnJson("POST /api/v1/deployments", 201,
                 Json::Object{{"id", "dep-1"}, {"state", "active"}});
  Outcome created =
      Online({"deploy", "create", "os-2.0.img.zst", "--to-tag", "canary", "--to-tag", "lab",
              "--phases", "1%,10%:1h,100%", "--phase-wait", "10m", "--failure-threshold", "5",
              "--deadline", "2h", "--window", "01:00-05:00"});
  ASSERT_EQ(created.code, kExitOk) << created.err;
  EXPECT_NE(created.out.find("created deployment dep-1"), std::string::npos);
  const auto seen = server_.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].headers.at("content-type"), "application/json");
  auto body = core::codec::ParseJson(seen[0].body);
  ASSERT_TRUE(body);
  const Json expected = *core::codec::ParseJson(R"({
    "release": "os-2.0.img.zst",
    "selector": {"tags": ["canary", "lab"]},
    "phases": [{"percent": 1, "wait_seconds": 600}, {"percent": 10, "wait_seconds": 3600},
               {"percent": 100, "wait_seconds": 0}],
    "failure_threshold_percent": 5, "min_devices_for_threshold": 1,
    "phase_deadline_seconds": 7200,
    "maintenance_window": {"start": "01:00", "end": "05:00"}})");
  EXPECT_EQ(*body, expected) << seen[0].body;

  // --to-device takes several ids at once.
  ASSERT_EQ(Online({"deploy", "create", "r", "--to-device", "d1", "d2"}).code, kExitOk);
  auto devices = core::codec::ParseJson(server_.seen().back().body);
  ASSERT_TRUE(devices);
  EXPECT_EQ(core::codec::CanonicalJson(*devices->Find("selector")), R"({"devices":["d1","d2"]})");
  EXPECT_EQ(core::codec::CanonicalJson(*devices->Find("phases")),
            R"([{"percent":100,"wait_seconds":0}])");
}

TEST_F(OnlineTest, DeviceListTableOrJsonAndPathEncoding) {
  env_vars_["ALOFT_TOKEN"] = "alo_tok";
  const Json devices = Json::Object{
      {"devices",
       Json::Array{
           Json::Object{{"id", "dev-1"},
                        {"hardware_id", "rpi4"},
                        {"status", "accepted"},
                        {"image_version", "2.0"},
                        {"last_seen", "2030-01-01T00:00:00Z"},
                        {"deployment", Json::Object{{"id", "dep-1"}, {"state", "installing"}}}},
           Json::Object{{"id", "dev-\x1b[2J"}, {"hardware_id", "rpi4"}, {"status", "pending"}}}},
      {"next_after", "dev-2"}};
  server_.OnJson("GET /api/v1/devices", 200, devices);
  Outcome table = Online({"device", "list", "--hardware", "rpi4", "--status", "accepted"});
  ASSERT_EQ(table.code, kExitOk) << table.err;
  EXPECT_NE(table.out.find("ID"), std::string::npos);
  EXPECT_NE(table.out.find("dev-1"), std::string::npos);
  EXPECT_NE(table.out.find("installing"), std::string::npos);
  EXPECT_EQ(table.out.find('\x1b'), std::string::npos);  // escapes from the server are defused
  EXPECT_NE(table.out.find("--after dev-2"), std::string::npos);
  EXPECT_EQ(server_.seen().back().target, "/api/v1/devices?status=accepted&hardware_id=rpi4");

  Outcome json = Online({"--json", "device", "list"});
  ASSERT_EQ(json.code, kExitOk);
  EXPECT_EQ(ParseOut(json), devices);

  server_.OnJson("POST /api/v1/devices/a%2Fb/accept", 200,
                 Json::Object{{"id", "a/b"}, {"status", "accepted"}});
  Outcome accept = Online({"device", "accept", "a/b"});
  EXPECT_EQ(accept.code, kExitOk) << accept.err;
  EXPECT_EQ(server_.seen().back().target, "/api/v1/devices/a%2Fb/accept");
}

TEST_F(OnlineTest, RefusalsAndServerErrorsMapToExitCodes) {
  env_vars_["ALOFT_TOKEN"] = "alo_tok";
  server_.OnJson("POST /api/v1/deployments/pause-all", 403,
                 Error("forbidden", "needs deployments.emergency"));
  Outcome forbidden = Online({"deploy", "pause-all", "--reason", "incident 42"});
  EXPECT_EQ(forbidden.code, kExitRefused);
  EXPECT_NE(forbidden.err.find("forbidden"), std::string::npos);
  EXPECT_EQ(server_.seen().back().body, R"({"reason":"incident 42"})");

  server_.OnJson("GET /api/v1/users", 503, Error("unavailable", "retry"));
  EXPECT_EQ(Online({"user", "list"}).code, kExitError);

  env_vars_.erase("ALOFT_TOKEN");
  Outcome no_token = Online({"user", "list"});
  EXPECT_EQ(no_token.code, kExitError);
  EXPECT_NE(no_token.err.find("aloftctl login"), std::string::npos) << no_token.err;
  // Plain http to a server that is not on this machine is never allowed.
  EXPECT_EQ(Run({"--server", "http://192.0.2.1:80", "--allow-http-loopback", "user", "list"}).code,
            kExitError);
}

TEST_F(OnlineTest, AuditVerifyAndExport) {
  env_vars_["ALOFT_TOKEN"] = "alo_tok";
  server_.OnJson("GET /api/v1/audit/verify", 200,
                 Json::Object{{"ok", true}, {"records", 12}, {"head_hash", "abc"}});
  Outcome ok = Online({"audit", "verify"});
  EXPECT_EQ(ok.code, kExitOk);
  EXPECT_NE(ok.out.find("12 records"), std::string::npos);
  server_.OnJson(
      "GET /api/v1/audit/verify", 200,
      Json::Object{
          {"ok", false}, {"records", 12}, {"first_bad_seq", 7}, {"problem", "hash mismatch"}});
  EXPECT_EQ(Online({"audit", "verify"}).code, kExitVerification);
  EXPECT_EQ(Online({"--json", "audit", "verify"}).code, kExitVerification);

  const std::string ndjson = "{\"seq\":1}\n{\"seq\":2}\n";
  server_.On("GET /api/v1/audit/export", [&](const TestHttpServer::Request&) {
    TestHttpServer::Response r;
    r.body = ToBytes(ndjson);
    r.headers = {{"Content-Type", "application/x-ndjson"}};
    return r;
  });
  Outcome out = Online({"audit", "export"});
  EXPECT_EQ(out.code, kExitOk) << out.err;
  EXPECT_EQ(out.out, ndjson);
  Outcome file = Online({"audit", "export", "--output", (dir_ / "audit.ndjson").string()});
  EXPECT_EQ(file.code, kExitOk) << file.err;
  EXPECT_EQ(ToString(*posix::ReadFile(dir_ / "audit.ndjson", 1 << 20)), ndjson);
  server_.OnJson("GET /api/v1/audit", 200,
                 Json::Object{{"records", Json::Array{Json::Object{{"seq", 3},
                                                                   {"actor", "alice"},
                                                                   {"action", "release.upload"},
                                                                   {"outcome", "ok"}}}}});
  Outcome list = Online({"audit", "list", "--after", "2", "--limit", "10"});
  EXPECT_EQ(list.code, kExitOk);
  EXPECT_EQ(server_.seen().back().target, "/api/v1/audit?limit=10&after=2");
  EXPECT_NE(list.out.find("release.upload"), std::string::npos);
}

TEST_F(OnlineTest, UsersTokensAndOnlineKeys) {
  env_vars_["ALOFT_TOKEN"] = "alo_tok";
  server_.OnJson(
      "POST /api/v1/users", 201,
      Json::Object{{"username", "bob"}, {"role", "operator"}, {"one_time_password", "otp-xyz"}});
  Outcome add = Online({"user", "add", "bob", "--role", "operator"});
  EXPECT_EQ(add.code, kExitOk);
  EXPECT_NE(add.out.find("otp-xyz"), std::string::npos);
  EXPECT_EQ(server_.seen().back().body, R"({"role":"operator","username":"bob"})");
  server_.OnJson("PUT /api/v1/users/bob/role", 200,
                 Json::Object{{"username", "bob"}, {"role", "viewer"}});
  EXPECT_EQ(Online({"user", "role", "bob", "viewer"}).code, kExitOk);
  EXPECT_EQ(server_.seen().back().body, R"({"role":"viewer"})");

  server_.OnJson("POST /api/v1/enrollment-tokens", 201,
                 Json::Object{{"token", "enr_1"}, {"expires", "x"}, {"uses", 5}});
  Outcome token = Online({"enroll-token", "create", "--uses", "5", "--valid-hours", "2"});
  EXPECT_EQ(token.code, kExitOk);
  EXPECT_EQ(token.out, "enr_1\n");  // alone on stdout, for scripts
  EXPECT_EQ(server_.seen().back().body, R"({"uses":5,"valid_hours":2})");

  server_.OnJson("GET /api/v1/online-keys", 200, online_keys_);
  Outcome keys = Online({"online-keys", "--output", (dir_ / "fetched.json").string()});
  ASSERT_EQ(keys.code, kExitOk) << keys.err;
  // What it wrote is what keys init takes.
  Outcome init = Run({"keys", "init", "--online-keys", (dir_ / "fetched.json").string()});
  EXPECT_EQ(init.code, kExitOk) << init.err;
  server_.OnJson("GET /api/v1/online-keys", 200, Json::Object{{"snapshot", 1}});
  EXPECT_EQ(Online({"online-keys"}).code, kExitError);
}

TEST_F(OnlineTest, GroupsCommandsAndDeployToAGroup) {
  env_vars_["ALOFT_TOKEN"] = "alo_tok";
  const Json listing = Json::Object{
      {"groups", Json::Array{Json::Object{{"name", "lab"},
                                          {"members", 2},
                                          {"created_at", "2030-01-01T00:00:00Z"},
                                          {"created_by", "alice"}}}},
      {"next_after", nullptr}};
  server_.OnJson("GET /api/v1/groups", 200, listing);
  Outcome list = Online({"groups", "list"});
  ASSERT_EQ(list.code, kExitOk) << list.err;
  EXPECT_NE(list.out.find("MEMBERS"), std::string::npos);
  EXPECT_NE(list.out.find("lab"), std::string::npos);
  EXPECT_EQ(ParseOut(Online({"--json", "groups", "list"})), listing);

  server_.OnJson("GET /api/v1/groups/lab", 200,
                 Json::Object{{"name", "lab"}, {"members", 2}, {"devices", Json::Array{"d1", "d2"}},
                              {"next_after", "d2"}});
  Outcome show = Online({"groups", "show", "lab", "--limit", "2"});
  ASSERT_EQ(show.code, kExitOk) << show.err;
  EXPECT_NE(show.out.find("  d2"), std::string::npos);
  EXPECT_NE(show.out.find("--after d2"), std::string::npos);
  EXPECT_EQ(server_.seen().back().target, "/api/v1/groups/lab?limit=2");

  server_.OnJson("POST /api/v1/groups", 201, Json::Object{{"name", "lab"}, {"members", 0}});
  ASSERT_EQ(Online({"groups", "create", "lab"}).code, kExitOk);
  EXPECT_EQ(*core::codec::ParseJson(server_.seen().back().body), (Json::Object{{"name", "lab"}}));

  server_.OnJson("POST /api/v1/groups/lab/members", 200,
                 Json::Object{{"name", "lab"}, {"members", 2}, {"added", 2}});
  Outcome add = Online({"groups", "add", "lab", "d1", "d2"});
  ASSERT_EQ(add.code, kExitOk) << add.err;
  EXPECT_NE(add.out.find("2 added"), std::string::npos) << add.out;
  EXPECT_EQ(core::codec::CanonicalJson(*core::codec::ParseJson(server_.seen().back().body)),
            R"({"devices":["d1","d2"]})");

  server_.OnJson("POST /api/v1/groups/lab/members/remove", 400,
                 Error("invalid_argument", "unknown device ids (nothing was changed): ghost"));
  Outcome remove = Online({"groups", "remove", "lab", "ghost"});
  EXPECT_EQ(remove.code, kExitRefused);
  EXPECT_NE(remove.err.find("ghost"), std::string::npos) << remove.err;

  server_.OnJson("DELETE /api/v1/groups/a%2Fb", 409, Error("group_in_use", "targeted by dep-1"));
  EXPECT_EQ(Online({"groups", "delete", "a/b"}).code, kExitRefused);
  EXPECT_EQ(server_.seen().back().target, "/api/v1/groups/a%2Fb");
  EXPECT_EQ(Online({"groups", "add", "lab"}).code, kExitUsage) << "devices are required";

  server_.OnJson("POST /api/v1/deployments", 201,
                 Json::Object{{"id", "dep-2"}, {"state", "active"}});
  ASSERT_EQ(Online({"deploy", "create", "os-2.0.img", "--group", "lab"}).code, kExitOk);
  auto deploy = core::codec::ParseJson(server_.seen().back().body);
  ASSERT_TRUE(deploy);
  EXPECT_EQ(core::codec::CanonicalJson(*deploy->Find("selector")), R"({"group":"lab"})");
}

}  // namespace
}  // namespace aloft::cli::aloftctl::commands

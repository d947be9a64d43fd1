// aloft-tuf-client end to end: the real binary, run as a separate process the way the TUF
// conformance suite runs it, against repositories our library publishes on a loopback HTTP
// server. Checks exit codes, the exact request sequence, and what ends up on disk.

#include <gtest/gtest.h>

#include <filesystem>
#include <cstdlib>
#include <iostream>
#include <set>

#include "core/crypto/hash.hpp"
#include "core/metadata/model.hpp"
#include "platform/posix/files.hpp"
#include "testing/http_server.hpp"
#include "testing/process.hpp"
#include "testing/repo_builder.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft {
namespace {

namespace fs = std::filesystem;
using core::metadata::DelegatedRole;
using testing::RepoBuilder;
using Paths = std::vector<std::string>;

Timestamp WallNow() {
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

class TufClientTest : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    auto server_or = testing::TestHttpServer::Start();
    ASSERT_TRUE(server_or) << server_or.error().ToString();
    server = std::move(*server_or);
    metadata_dir = dir_ / "metadata";
    target_dir = dir_ / "targets";
    fs::create_directories(metadata_dir);
    fs::create_directories(target_dir);
    Publish();
    root_file = dir_ / "trusted-root.json";
    ASSERT_TRUE(platform::posix::AtomicWriteFile(root_file, repo.RootBytes(1)));
  }

  void Publish() {
    for (const auto& path : published_) server->RemoveFile(path);
    published_.clear();
    served = repo.Files();  // ECDSA signatures differ each time: keep what was served
    for (auto& [path, bytes] : served) {
      server->SetFile("/repo/" + path, bytes);
      published_.push_back("/repo/" + path);
    }
    server->ClearRequests();
  }

  testing::ProcessResult Client(std::vector<std::string> args, std::string prefix = "") {
    std::vector<std::string> argv;
    if (!prefix.empty()) argv = {prefix};
    argv.push_back((testing::BinDir() / "aloft-tuf-client").string());
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = testing::RunProcess(argv);
    EXPECT_TRUE(r);
    return r ? *r : testing::ProcessResult{};
  }
  int Init() {
    auto r = Client({"--metadata-dir", metadata_dir.string(), "init", root_file.string()});
    if (r.exit_code != 0) std::cerr << "init: " << r.output << "\n";
    return r.exit_code;
  }
  testing::ProcessResult Refresh() {
    return Client({"--metadata-url", server->BaseUrl() + "/repo/metadata/", "--metadata-dir",
                   metadata_dir.string(), "refresh"});
  }
  testing::ProcessResult Download(const std::vector<std::string>& names) {
    std::vector<std::string> args = {"--metadata-url", server->BaseUrl() + "/repo/metadata/",
                                     "--metadata-dir", metadata_dir.string()};
    for (const auto& n : names) {
      args.push_back("--target-name");
      args.push_back(n);
    }
    args.insert(args.end(), {"--target-dir", target_dir.string(), "--target-base-url",
                             server->BaseUrl() + "/repo/targets/", "download"});
    return Client(args);
  }
  Paths Requests() {
    Paths out = server->Requests();
    server->ClearRequests();
    for (auto& p : out) p = p.substr(std::string("/repo/").size());
    return out;
  }
  std::set<std::string> Files(const fs::path& dir) {
    std::set<std::string> names;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      if (e.is_regular_file()) names.insert(fs::relative(e.path(), dir).string());
    }
    return names;
  }
  std::string Read(const fs::path& p) {
    auto bytes = platform::posix::ReadFile(p, 1 << 20);
    return bytes ? ToString(*bytes) : "<unreadable: " + bytes.error().ToString() + ">";
  }
  std::int64_t Version(const std::string& role_file) {
    auto bytes = platform::posix::ReadFile(metadata_dir / role_file, 1 << 20);
    return bytes ? *core::metadata::PeekVersionUntrusted(*bytes) : 0;
  }

  RepoBuilder repo{core::crypto::KeyType::kEcdsaP256, WallNow()};
  std::unique_ptr<testing::TestHttpServer> server;
  fs::path metadata_dir, target_dir, root_file;
  std::map<std::string, Bytes> served;

 private:
  Paths published_;
};

TEST_F(TufClientTest, InitMakesNoRequestsAndRefreshFollowsTheProtocol) {
  ASSERT_EQ(Init(), 0);
  EXPECT_TRUE(Requests().empty());
  auto r = Refresh();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Requests(), (Paths{"metadata/2.root.json", "metadata/timestamp.json",
                               "metadata/1.snapshot.json", "metadata/1.targets.json"}));
  EXPECT_EQ(Files(metadata_dir),
            (std::set<std::string>{"root.json", "timestamp.json", "snapshot.json", "targets.json"}));
  EXPECT_EQ(Read(metadata_dir / "timestamp.json"), ToString(served.at("metadata/timestamp.json")));
  EXPECT_EQ(Read(metadata_dir / "targets.json"), ToString(served.at("metadata/1.targets.json")));

  ASSERT_EQ(Refresh().exit_code, 0);
  EXPECT_EQ(Requests(), (Paths{"metadata/2.root.json", "metadata/timestamp.json"}));
}

TEST_F(TufClientTest, DownloadsVerifiesAndCachesTargets) {
  repo.AddTarget("files/a.txt", ToBytes("hello, device"));
  repo.PublishTargetsChange();
  Publish();
  ASSERT_EQ(Init(), 0);
  auto r = Download({"files/a.txt"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string hash = core::crypto::Sha256Hex(AsBytes("hello, device"));
  Paths requests = Requests();
  EXPECT_EQ(requests.back(), "targets/files/" + hash + ".a.txt");
  EXPECT_EQ(Files(target_dir), (std::set<std::string>{"files%2Fa.txt"}));
  EXPECT_EQ(Read(target_dir / "files%2Fa.txt"), "hello, device");

  ASSERT_EQ(Download({"files/a.txt"}).exit_code, 0);
  EXPECT_EQ(Requests(), (Paths{"metadata/2.root.json", "metadata/timestamp.json"}))
      << "a verified cached copy is not fetched again";
}

TEST_F(TufClientTest, TamperedTargetLeavesNothingBehind) {
  repo.AddTarget("app.bin", ToBytes("good bytes"));
  repo.PublishTargetsChange();
  Publish();
  std::string hash = core::crypto::Sha256Hex(AsBytes("good bytes"));
  server->SetFile("/repo/targets/" + hash + ".app.bin", ToBytes("evil bytes"));
  ASSERT_EQ(Init(), 0);
  auto r = Download({"app.bin"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("hash mismatch"), std::string::npos) << r.output;
  EXPECT_TRUE(Files(target_dir).empty());
}

TEST_F(TufClientTest, UnknownTargetFailsWithExitCodeOne) {
  ASSERT_EQ(Init(), 0);
  EXPECT_EQ(Download({"missing"}).exit_code, 1);
}

TEST_F(TufClientTest, FollowsRootRotation) {
  ASSERT_EQ(Init(), 0);
  ASSERT_EQ(Refresh().exit_code, 0);
  for (int i = 0; i < 2; ++i) {
    auto old_keys = repo.signers.at("root");
    repo.SetRoleKeys("root", {repo.NewKey()});
    repo.PublishRoot(old_keys);
  }
  Publish();
  ASSERT_EQ(Refresh().exit_code, 0);
  EXPECT_EQ(Version("root.json"), 3);
  EXPECT_EQ(Requests().front(), "metadata/2.root.json");
}

TEST_F(TufClientTest, ExpiredTimestampIsRejectedAndNotStored) {
  ASSERT_EQ(Init(), 0);
  ASSERT_EQ(Refresh().exit_code, 0);
  repo.timestamp.common.expires = WallNow() - std::chrono::hours(1);
  repo.BumpTimestamp();
  Publish();
  auto r = Refresh();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("expired"), std::string::npos) << r.output;
  EXPECT_EQ(Version("timestamp.json"), 1);
}

TEST_F(TufClientTest, WallClockComesFromGlibcSoFaketimeWorks) {
  ASSERT_TRUE(fs::exists("/usr/bin/faketime")) << "scripts/install-deps installs faketime";
  ASSERT_EQ(Init(), 0);
  // The repository expires in 365 days; 400 days on, the root has expired.
  // libfaketime is preloaded ahead of the sanitizer runtime in the ASan build; tell ASan so.
  setenv("ASAN_OPTIONS", "verify_asan_link_order=0", 0);
  std::string future = FormatTimestamp(repo.now + std::chrono::days(400));
  future = future.substr(0, 10) + " " + future.substr(11, 8);
  auto faked = testing::RunProcess(
      {"/usr/bin/faketime", future, (testing::BinDir() / "aloft-tuf-client").string(),
       "--metadata-url", server->BaseUrl() + "/repo/metadata/", "--metadata-dir",
       metadata_dir.string(), "refresh"});
  ASSERT_TRUE(faked);
  EXPECT_EQ(faked->exit_code, 1) << "root expired in the faked future: " << faked->output;
  EXPECT_NE(faked->output.find("expired"), std::string::npos) << faked->output;
  ASSERT_EQ(Refresh().exit_code, 0) << "and fine in the present";
}

TEST_F(TufClientTest, DelegatedTargetsWithUnusualRoleNames) {
  for (std::string name : {"?", "#", "/delegatedrole", "../delegatedrole"}) {
    DelegatedRole role;
    role.name = name;
    role.paths = std::vector<std::string>{"*"};
    repo.Delegate("targets", role, {repo.NewKey()});
  }
  repo.AddTarget("deep", ToBytes("x"), "../delegatedrole");
  repo.PublishTargetsChange();
  Publish();
  ASSERT_EQ(Init(), 0);
  auto r = Download({"deep"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Files(metadata_dir),
            (std::set<std::string>{"root.json", "timestamp.json", "snapshot.json", "targets.json",
                                   "%3F.json", "%23.json", "%2Fdelegatedrole.json",
                                   "..%2Fdelegatedrole.json"}));
  Paths requests = Requests();
  EXPECT_NE(std::find(requests.begin(), requests.end(), "metadata/1.%3F.json"), requests.end());
}

TEST_F(TufClientTest, BadArgumentsExitWithOne) {
  EXPECT_EQ(Client({"refresh"}).exit_code, 1);
  EXPECT_EQ(Client({"--metadata-dir", "/nonexistent", "init", "/nonexistent"}).exit_code, 1);
  EXPECT_EQ(Client({"--bogus", "x", "refresh"}).exit_code, 1);
  EXPECT_EQ(Client({}).exit_code, 1);
}

TEST_F(TufClientTest, InvalidInitialRootIsRefused) {
  ASSERT_TRUE(platform::posix::AtomicWriteFile(root_file, ToBytes("{\"signed\": 1}")));
  EXPECT_EQ(Init(), 1);
  EXPECT_TRUE(Files(metadata_dir).empty());
}

TEST_F(TufClientTest, ServerDownFailsCleanly) {
  ASSERT_EQ(Init(), 0);
  std::string url = server->BaseUrl() + "/repo/metadata/";
  server.reset();  // nothing listens any more
  auto r = Client({"--metadata-url", url, "--metadata-dir", metadata_dir.string(), "refresh"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(Files(metadata_dir), (std::set<std::string>{"root.json"}));
}

}  // namespace
}  // namespace aloft

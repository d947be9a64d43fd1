// aloft-tuf-demo: what `make demo` shows while the server and agent are being built. A TUF
// repository made by our library is served on 127.0.0.1, and the real aloft-tuf-client
// refreshes, downloads, follows a root key rotation, and refuses four attacks. Each step
// says what it expects; the exit status is 0 only if every step did what it said.

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "core/crypto/hash.hpp"
#include "core/metadata/model.hpp"
#include "platform/posix/files.hpp"
#include "testing/http_server.hpp"
#include "testing/process.hpp"
#include "testing/repo_builder.hpp"
#include "testing/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using aloft::Bytes;
using aloft::testing::RepoBuilder;

class Demo {
 public:
  Demo(aloft::testing::TestHttpServer& server, fs::path dir)
      : server_(server), dir_(std::move(dir)) {}

  void Publish(const RepoBuilder& repo) {
    for (const auto& path : published_) server_.RemoveFile(path);
    published_.clear();
    for (auto& [path, bytes] : repo.Files()) {
      server_.SetFile("/repo/" + path, bytes);
      published_.push_back("/repo/" + path);
    }
  }

  aloft::testing::ProcessResult Client(std::vector<std::string> args) {
    std::vector<std::string> argv = {(aloft::testing::BinDir() / "aloft-tuf-client").string(),
                                     "--metadata-dir", (dir_ / "metadata").string()};
    if (args.front() != "init") {
      argv.insert(argv.end(), {"--metadata-url", server_.BaseUrl() + "/repo/metadata/",
                               "--target-dir", (dir_ / "targets").string(), "--target-base-url",
                               server_.BaseUrl() + "/repo/targets/"});
    }
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = aloft::testing::RunProcess(argv);
    return r ? *r : aloft::testing::ProcessResult{-1, 0, r.error().ToString()};
  }

  // Prints a step and whether the client did what the step expects. (Run the client before
  // calling: argument evaluation order is unspecified, and `detail` usually reads its result.)
  void Step(const std::string& title, const aloft::testing::ProcessResult& r, bool expect_ok,
            const std::string& detail = "") {
    bool ok = (r.exit_code == 0) == expect_ok;
    std::cout << (ok ? "  [ok]   " : "  [FAIL] ") << title << "\n";
    if (!expect_ok || !ok) {
      std::string why = r.output;
      while (!why.empty() && why.back() == '\n') why.pop_back();
      std::cout << "         client said: " << why << "\n";
    }
    if (!detail.empty()) std::cout << "         " << detail << "\n";
    ++steps_;
    if (!ok) ++failed_;
    if (!expect_ok && ok) ++attacks_stopped_;
  }
  void Check(const std::string& what, bool ok) {
    std::cout << (ok ? "  [ok]   " : "  [FAIL] ") << what << "\n";
    ++steps_;
    if (!ok) ++failed_;
  }

  std::string Versions() {
    std::string out;
    for (const char* role : {"root", "timestamp", "snapshot", "targets"}) {
      auto bytes = aloft::platform::posix::ReadFile(dir_ / "metadata" / (std::string(role) + ".json"),
                                                    1 << 20);
      if (!bytes) continue;
      auto v = aloft::core::metadata::PeekVersionUntrusted(*bytes);
      out += std::string(out.empty() ? "" : ", ") + role + " v" + (v ? std::to_string(*v) : "?");
    }
    return "trusted: " + out;
  }
  std::string TargetFile(const std::string& name) {
    auto bytes = aloft::platform::posix::ReadFile(dir_ / "targets" / name, 1 << 20);
    return bytes ? aloft::ToString(*bytes) : "";
  }
  int failed() const { return failed_; }
  int steps() const { return steps_; }
  int attacks_stopped() const { return attacks_stopped_; }

 private:
  aloft::testing::TestHttpServer& server_;
  fs::path dir_;
  std::vector<std::string> published_;
  int steps_ = 0, failed_ = 0, attacks_stopped_ = 0;
};

int Run() {
  auto tmp = aloft::testing::TempDir::Create();
  auto server = aloft::testing::TestHttpServer::Start();
  if (!tmp || !server) {
    std::cerr << "demo: cannot set up a temp dir and a loopback server\n";
    return 1;
  }
  fs::create_directories(tmp->path() / "metadata");
  fs::create_directories(tmp->path() / "targets");
  Demo demo(**server, tmp->path());
  auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  RepoBuilder repo(aloft::core::crypto::KeyType::kEcdsaP256, now);

  std::cout << "Aloft TUF demo: a repository on " << (*server)->BaseUrl()
            << ", the real aloft-tuf-client, in " << tmp->path().string() << "\n\n";

  std::cout << "1. A device trusts root v1, shipped with it, and fetches firmware 1.0\n";
  repo.AddTarget("firmware/device-1.0.bin", aloft::ToBytes("firmware image 1.0"));
  repo.PublishTargetsChange();
  demo.Publish(repo);
  fs::path root_file = tmp->path() / "root-v1.json";
  if (!aloft::platform::posix::AtomicWriteFile(root_file, repo.RootBytes(1))) return 1;
  demo.Step("init from the shipped root (no network)", demo.Client({"init", root_file.string()}),
            true);
  auto refreshed = demo.Client({"refresh"});
  demo.Step("refresh: root, timestamp, snapshot, targets verified", refreshed, true,
            demo.Versions());
  demo.Step("download firmware/device-1.0.bin, length and sha256 verified",
            demo.Client({"--target-name", "firmware/device-1.0.bin", "download"}), true);
  demo.Check("the stored file holds exactly the signed bytes",
             demo.TargetFile("firmware%2Fdevice-1.0.bin") == "firmware image 1.0");

  std::cout << "\n2. The repository rotates its root key and publishes firmware 1.1\n";
  auto old_root_keys = repo.signers.at("root");
  repo.SetRoleKeys("root", {repo.NewKey()});
  repo.PublishRoot(old_root_keys);  // v2 signed by the old and the new key
  repo.AddTarget("firmware/device-1.1.bin", aloft::ToBytes("firmware image 1.1"));
  repo.PublishTargetsChange();
  demo.Publish(repo);
  auto rotated = demo.Client({"refresh"});
  demo.Step("refresh follows the root chain to v2", rotated, true, demo.Versions());
  demo.Step("download firmware 1.1",
            demo.Client({"--target-name", "firmware/device-1.1.bin", "download"}), true);

  std::cout << "\n3. Attacks: each must be refused, leaving the device's trusted state as it was\n";
  std::string hash = aloft::core::crypto::Sha256Hex(aloft::AsBytes("firmware image 1.1"));
  (*server)->SetFile("/repo/targets/firmware/" + hash + ".device-1.1.bin",
                     aloft::ToBytes("firmware image 6.6"));
  fs::remove(tmp->path() / "targets" / "firmware%2Fdevice-1.1.bin");
  demo.Step("arbitrary software: the artifact is swapped on the server",
            demo.Client({"--target-name", "firmware/device-1.1.bin", "download"}), false);
  demo.Check("nothing unverified was written",
             !fs::exists(tmp->path() / "targets" / "firmware%2Fdevice-1.1.bin"));

  demo.Publish(repo);
  auto stale = repo;  // a timestamp older than the one the device trusts
  repo.BumpTimestamp();
  demo.Publish(repo);
  demo.Step("(the device sees timestamp v" + std::to_string(repo.timestamp.common.version) + ")",
            demo.Client({"refresh"}), true);
  const std::string trusted_before_attacks = demo.Versions();
  demo.Publish(stale);
  demo.Step("rollback: the server replays the older timestamp v" +
                std::to_string(stale.timestamp.common.version),
            demo.Client({"refresh"}), false);

  repo.timestamp.common.expires = now - std::chrono::hours(1);
  repo.BumpTimestamp();
  demo.Publish(repo);
  demo.Step("freeze: a newer timestamp that has already expired", demo.Client({"refresh"}),
            false);

  demo.Publish(repo);
  (*server)->SetFile("/repo/metadata/timestamp.json", Bytes(8 * 1024 * 1024, ' '));
  auto endless = demo.Client({"refresh"});
  demo.Step("endless data: an 8 MiB timestamp.json", endless, false);
  demo.Check("the device's trusted metadata is what it was before the attacks (" +
                 trusted_before_attacks + ")",
             demo.Versions() == trusted_before_attacks);

  std::cout << "\n" << demo.steps() << " steps, " << demo.attacks_stopped()
            << " attacks stopped, " << demo.failed() << " failed\n";
  return demo.failed() == 0 ? 0 : 1;
}

}  // namespace

int main() {
  try {
    return Run();
  } catch (const std::exception& e) {
    std::cerr << "demo: " << e.what() << "\n";
  }
  return 1;
}

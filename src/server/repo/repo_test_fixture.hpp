#pragma once

// The repositories' test fixture, shared by server/repo/repositories_test.cpp and
// server/api/repo_routes_test.cpp: a migrated store, online keys, a fake clock and an offline
// Image repository whose root names the online keys, plus a TUF client that reads through a
// function. For tests only: it includes gtest and testing/.

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/crypto/hash.hpp"
#include "core/metadata/updater.hpp"
#include "core/uptane/image_match.hpp"
#include "platform/sqlite/migrator.hpp"
#include "server/repo/director_repository.hpp"
#include "server/repo/image_repository.hpp"
#include "server/repo/online_keys.hpp"
#include "server/repo/sqlite/sqlite_repo_store.hpp"
#include "server/store/sqlite/migrations.hpp"
#include "testing/fake_clock.hpp"
#include "testing/memory_metadata_store.hpp"
#include "testing/repo_builder.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::server::repo {

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

}  // namespace aloft::server::repo

#pragma once

// Shared by the deployments tests: a migrated SQLite database in a temporary directory (the
// server's migrations, as aloftd runs them), a fake
// release catalog and a Director assigner that records every call. For tests only.

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "platform/sqlite/connection_pool.hpp"
#include "platform/sqlite/migrator.hpp"
#include "server/deployments/ports.hpp"
#include "server/deployments/sqlite/sqlite_deployment_store.hpp"
#include "server/store/sqlite/migrations.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::server::deployments {

inline Timestamp T(const char* text) { return *aloft::ParseTimestamp(text); }

// The server's migrations, which include the deployment tables.
inline std::vector<platform::sqlite::Migration> MigrationsWithDeployments() {
  auto server = store::sqlite::ServerMigrations();
  return {server.begin(), server.end()};
}

inline std::string Sha(char c) { return std::string(64, c); }

inline Release MakeRelease(std::string name, std::string version,
                           std::vector<std::string> hardware_ids, std::string sha256) {
  Release r;
  r.name = std::move(name);
  r.version = std::move(version);
  r.hardware_ids = std::move(hardware_ids);
  r.security_counter = 1;
  r.target_file.length = 1234;
  r.target_file.hashes = {{"sha256", std::move(sha256)}};
  return r;
}

class FakeReleaseCatalog final : public ReleaseCatalog {
 public:
  void Add(Release release) {
    std::lock_guard lock(mutex_);
    releases_[release.name] = std::move(release);
  }
  Result<Release> Find(std::string_view name) override {
    std::lock_guard lock(mutex_);
    auto it = releases_.find(std::string(name));
    if (it == releases_.end()) return Fail(Errc::kNotFound, "no such target");
    return it->second;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, Release> releases_;
};

class RecordingAssigner final : public DirectorAssigner {
 public:
  struct Call {
    std::string device_id;
    std::optional<repo::AssignedImage> image;
  };
  Status Assign(std::string_view device_id,
                const std::optional<repo::AssignedImage>& image) override {
    std::lock_guard lock(mutex_);
    if (fail_next_) {
      fail_next_ = false;
      return Fail(Errc::kUnavailable, "director unavailable");
    }
    calls_.push_back({std::string(device_id), image});
    return Ok();
  }
  void FailNext() {
    std::lock_guard lock(mutex_);
    fail_next_ = true;
  }
  std::vector<Call> Calls() {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  std::vector<Call> CallsFor(std::string_view device_id) {
    std::lock_guard lock(mutex_);
    std::vector<Call> out;
    for (const Call& c : calls_) {
      if (c.device_id == device_id) out.push_back(c);
    }
    return out;
  }

 private:
  std::mutex mutex_;
  std::vector<Call> calls_;
  bool fail_next_ = false;
};

// A migrated database and a SqliteDeploymentStore over it.
class DeploymentDbTest : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    auto pool = platform::sqlite::ConnectionPool::Open(dir_ / "aloft.db", {}, 4);
    ASSERT_TRUE(pool) << pool.error().ToString();
    pool_ = std::move(*pool);
    auto lease = pool_->Acquire(std::chrono::seconds(1));
    ASSERT_TRUE(lease);
    const auto migrations = MigrationsWithDeployments();
    auto report = platform::sqlite::Migrator(migrations).Migrate(**lease);
    ASSERT_TRUE(report) << report.error().ToString();
    store_ = std::make_unique<sqlite::SqliteDeploymentStore>(*pool_);
  }

  std::unique_ptr<platform::sqlite::ConnectionPool> pool_;
  std::unique_ptr<sqlite::SqliteDeploymentStore> store_;
};

}  // namespace aloft::server::deployments

#include "agent/uptane_client/uptane_client.hpp"

#include <gtest/gtest.h>

#include "platform/posix/files.hpp"
#include "testing/fake_clock.hpp"
#include "testing/memory_fetcher.hpp"
#include "testing/memory_metadata_store.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::agent::uptane_client {
namespace {

using UptaneClientTest = aloft::testing::TempDirTest;

TEST(TargetUrlTest, ConsistentSnapshotNameOfTheBasename) {
  const std::string sha(64, 'a');
  auto url = TargetUrl("https://ota.example", "images/rpi4/rootfs 2.0.img", {{"sha256", sha}});
  ASSERT_TRUE(url);
  EXPECT_EQ(*url, "https://ota.example/api/v1/targets/" + sha + ".rootfs%202.0.img");
  EXPECT_EQ(TargetUrl("https://x", "a.img", {{"sha512", sha}}).error().code(),
            Errc::kInvalidArgument);
}

TEST_F(UptaneClientTest, TrustAnchorSeedsOnlyAnEmptyStore) {
  aloft::testing::MemoryMetadataStore store;
  ASSERT_TRUE(platform::posix::AtomicWriteFile(dir_ / "root.json", AsBytes("{\"v\":1}")));
  EXPECT_EQ(SeedTrustAnchor(store, dir_ / "missing.json", 1024).error().code(), Errc::kNotFound);
  ASSERT_TRUE(SeedTrustAnchor(store, dir_ / "root.json", 1024));
  EXPECT_EQ(ToString(**store.Load("root")), "{\"v\":1}");
  // A root learnt later (a rotation) is never replaced by the older anchor.
  ASSERT_TRUE(store.Store("root", AsBytes("{\"v\":2}")));
  ASSERT_TRUE(SeedTrustAnchor(store, dir_ / "root.json", 1024));
  EXPECT_EQ(ToString(**store.Load("root")), "{\"v\":2}");
  EXPECT_TRUE(SeedTrustAnchor(store, dir_ / "root.json", 4))
      << "the store already has a root: the anchor is not even read";
}

TEST_F(UptaneClientTest, MissingTrustAnchorIsAClearErrorBeforeAnyRequest) {
  aloft::testing::MemoryFetcher fetcher;
  aloft::testing::FakeClock clock;
  UptaneClientOptions options;
  options.server_url = "https://ota.example";
  options.metadata_dir = dir_ / "metadata";
  UptaneClient client(options, fetcher, clock);
  auto refreshed = client.Refresh({"dev-1", "rpi4", 0});
  ASSERT_FALSE(refreshed);
  EXPECT_EQ(refreshed.error().code(), Errc::kInvalidArgument);
  EXPECT_NE(refreshed.error().message().find("director_root is not set"), std::string::npos)
      << refreshed.error().message();
  options.director_root = dir_ / "nowhere.json";
  UptaneClient missing(options, fetcher, clock);
  EXPECT_EQ(missing.Refresh({"dev-1", "rpi4", 0}).error().code(), Errc::kNotFound);
  EXPECT_TRUE(fetcher.requests().empty());
}

}  // namespace
}  // namespace aloft::agent::uptane_client

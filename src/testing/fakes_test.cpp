// Tests for the in-memory fakes: MemoryFetcher, MemoryMetadataStore, FakeClock.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "core/io/writer.hpp"
#include "testing/fake_clock.hpp"
#include "testing/memory_fetcher.hpp"
#include "testing/memory_metadata_store.hpp"
#include "testing/temp_dir.hpp"

namespace aloft::testing {
namespace {

using namespace std::chrono_literals;

class CountingWriter final : public core::io::Writer {
 public:
  Status Write(ByteView data) override {
    ++writes;
    bytes.insert(bytes.end(), data.begin(), data.end());
    if (fail) return Fail(Errc::kNoSpace, "full");
    return Ok();
  }
  Bytes bytes;
  int writes = 0;
  bool fail = false;
};

TEST(MemoryFetcherTest, ServesRecordsAndLimits) {
  MemoryFetcher fetcher;
  fetcher.Set("https://r/1.root.json", ToBytes("root"));
  CountingWriter sink;
  ASSERT_TRUE(fetcher.Fetch("https://r/1.root.json", 4, sink));
  EXPECT_EQ(ToString(sink.bytes), "root");

  CountingWriter small;
  EXPECT_EQ(fetcher.Fetch("https://r/1.root.json", 3, small).error().code(), Errc::kTooLarge);
  EXPECT_TRUE(small.bytes.empty());
  EXPECT_EQ(fetcher.Fetch("https://r/2.root.json", 100, small).error().code(), Errc::kNotFound);

  fetcher.SetError("https://r/1.root.json", Error(Errc::kTimeout, "slow"));
  auto forced = fetcher.Fetch("https://r/1.root.json", 100, small);
  ASSERT_FALSE(forced);
  EXPECT_EQ(forced.error().code(), Errc::kTimeout);
  EXPECT_EQ(forced.error().message(), "slow");
  fetcher.ClearError("https://r/1.root.json");
  EXPECT_TRUE(fetcher.Fetch("https://r/1.root.json", 100, small));
  fetcher.Remove("https://r/1.root.json");
  EXPECT_EQ(fetcher.Fetch("https://r/1.root.json", 100, small).error().code(), Errc::kNotFound);

  EXPECT_EQ(fetcher.requests(),
            (std::vector<std::string>{"https://r/1.root.json", "https://r/1.root.json",
                                      "https://r/2.root.json", "https://r/1.root.json",
                                      "https://r/1.root.json", "https://r/1.root.json"}));
  fetcher.ClearRequests();
  EXPECT_TRUE(fetcher.requests().empty());
}

TEST(MemoryFetcherTest, StreamsInChunksAndStopsOnSinkError) {
  MemoryFetcher fetcher;
  fetcher.Set("u", Bytes(MemoryFetcher::kChunkBytes * 2 + 1, 7));
  CountingWriter sink;
  ASSERT_TRUE(fetcher.Fetch("u", 1 << 20, sink));
  EXPECT_EQ(sink.writes, 3);
  CountingWriter failing;
  failing.fail = true;
  auto fetched = fetcher.Fetch("u", 1 << 20, failing);
  ASSERT_FALSE(fetched);
  EXPECT_EQ(fetched.error().code(), Errc::kNoSpace);
  EXPECT_EQ(failing.writes, 1);
}

TEST(MemoryMetadataStoreTest, RoundTripAndInjectedFailure) {
  MemoryMetadataStore store;
  auto empty = store.Load("root");
  ASSERT_TRUE(empty);
  EXPECT_FALSE(empty->has_value());
  ASSERT_TRUE(store.Store("root", AsBytes("v1")));
  ASSERT_TRUE(store.Store("root", AsBytes("v2")));
  auto loaded = store.Load("root");
  ASSERT_TRUE(loaded && loaded->has_value());
  EXPECT_EQ(ToString(**loaded), "v2");

  store.SetStoreError(Error(Errc::kNoSpace, "full"));
  EXPECT_EQ(store.Store("root", AsBytes("v3")).error().code(), Errc::kNoSpace);
  store.SetStoreError(std::nullopt);
  EXPECT_EQ(ToString(store.Contents().at("root")), "v2");

  EXPECT_TRUE(store.Remove("root"));
  EXPECT_TRUE(store.Remove("root"));
  EXPECT_TRUE(store.Contents().empty());
}

TEST(FakeClockTest, MovesOnlyWhenTold) {
  FakeClock clock;
  EXPECT_EQ(FormatTimestamp(clock.Now()), "2024-01-01T00:00:00Z");
  const auto mono = clock.Monotonic();
  EXPECT_EQ(clock.Monotonic(), mono);

  clock.Advance(500ms);
  EXPECT_EQ(FormatTimestamp(clock.Now()), "2024-01-01T00:00:00Z");
  clock.Advance(500ms);
  EXPECT_EQ(FormatTimestamp(clock.Now()), "2024-01-01T00:00:01Z");
  EXPECT_EQ(clock.Monotonic() - mono, 1s);

  const Timestamp earlier = ParseTimestamp("2020-06-01T12:00:00Z").value();
  clock.Set(earlier);  // a wall-clock step leaves monotonic time alone
  EXPECT_EQ(clock.Now(), earlier);
  EXPECT_EQ(clock.Monotonic() - mono, 1s);

  FakeClock at(earlier);
  EXPECT_EQ(at.Now(), earlier);
}

TEST(TempDirTest, CreatesAndRemovesEverything) {
  std::filesystem::path where;
  {
    auto temp = TempDir::Create();
    ASSERT_TRUE(temp) << temp.error().ToString();
    where = temp->path();
    EXPECT_TRUE(std::filesystem::is_directory(where));
    std::filesystem::create_directories(where / "a" / "b");
    EXPECT_EQ(temp->Entries(), (std::vector<std::string>{"a"}));
    TempDir moved = std::move(*temp);
    EXPECT_EQ(moved.path(), where);
  }
  EXPECT_FALSE(std::filesystem::exists(where));
}

}  // namespace
}  // namespace aloft::testing

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "agent/download/backoff.hpp"
#include "agent/download/resumable_download.hpp"
#include "core/crypto/hash.hpp"
#include "platform/posix/files.hpp"
#include "testing/fake_clock.hpp"
#include "testing/http_server.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::agent::download {
namespace {

using namespace std::chrono_literals;
using aloft::testing::TestHttpServer;

TEST(BackoffTest, DoublesWithJitterUpToTheCap) {
  Backoff backoff(1000ms, 8000ms, /*seed=*/42);
  const std::chrono::milliseconds bases[] = {1000ms, 2000ms, 4000ms, 8000ms, 8000ms, 8000ms};
  for (auto base : bases) {
    const auto delay = backoff.Next();
    EXPECT_GE(delay, base / 2);
    EXPECT_LE(delay, base);
  }
  EXPECT_EQ(backoff.failures(), 6);
  backoff.Reset();
  EXPECT_LE(backoff.Next(), 1000ms);
}

TEST(BackoffTest, JitterSpreadsAroundTheBase) {
  std::mt19937_64 random(7);
  bool below = false;
  bool above = false;
  for (int i = 0; i < 200; ++i) {
    const auto d = Jittered(100'000ms, 20, random);
    EXPECT_GE(d, 80'000ms);
    EXPECT_LE(d, 120'000ms);
    below = below || d < 100'000ms;
    above = above || d > 100'000ms;
  }
  EXPECT_TRUE(below && above);
  EXPECT_EQ(Jittered(5000ms, 0, random), 5000ms);
}

Bytes Pattern(std::size_t n) {
  Bytes out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>((i * 7919) >> 3);
  return out;
}

class Collector final : public core::io::Writer {
 public:
  Status Write(ByteView data) override {
    if (fail_at && bytes.size() + data.size() > *fail_at) {
      return Fail(Errc::kVerificationFailed, "artifact: hash mismatch (test)");
    }
    bytes.insert(bytes.end(), data.begin(), data.end());
    return Ok();
  }
  Bytes bytes;
  std::optional<std::size_t> fail_at;
};

class ResumableDownloadTest : public aloft::testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    auto server = TestHttpServer::Start();
    ASSERT_TRUE(server) << server.error().ToString();
    server_ = std::move(*server);
    platform::http::CurlFetcherOptions options;
    options.http_loopback_only = true;
    options.connect_timeout = 2s;
    auto fetcher = platform::http::CurlFetcher::Create(options);
    ASSERT_TRUE(fetcher);
    fetcher_ = std::move(*fetcher);
    source_ = std::make_unique<CurlRangeSource>(*fetcher_);
    artifact_ = Pattern(700 * 1000 + 13);
    request_ = {server_->BaseUrl() + "/api/v1/targets/x.img", artifact_.size(),
                core::crypto::Sha256Hex(artifact_)};
    server_->SetFile("/api/v1/targets/x.img", artifact_);
  }

  DownloadOptions Options(bool spool) {
    DownloadOptions options;
    options.retries = 3;
    options.retry_initial = 100ms;
    options.retry_max = 400ms;
    options.checkpoint_bytes = 64 * 1024;
    if (spool) options.spool_dir = dir_ / "downloads";
    return options;
  }

  ResumableDownload Make(DownloadOptions options) {
    return ResumableDownload(
        *source_, clock_,
        [this](std::chrono::milliseconds d) {
          sleeps_.push_back(d);
          clock_.Advance(d);
          return !stop_;
        },
        std::move(options));
  }

  // The first `cuts` requests are answered with only `keep` bytes of what they asked for, as
  // if the connection dropped; later ones are served normally (ranges included).
  void CutFirst(int cuts, std::size_t keep, bool announce_length = false) {
    auto remaining = std::make_shared<std::atomic<int>>(cuts);
    server_->SetHandler([this, remaining, keep,
                         announce_length](const TestHttpServer::Request& request)
                            -> std::optional<TestHttpServer::Response> {
      ranges_.push_back(request.headers.contains("range") ? request.headers.at("range") : "");
      if (remaining->fetch_sub(1) <= 0) return std::nullopt;
      std::size_t offset = 0;
      TestHttpServer::Response response;
      if (request.headers.contains("range")) {
        offset = std::stoul(request.headers.at("range").substr(6));
        response.status = 206;
        response.headers.emplace_back("Content-Range", "bytes " + std::to_string(offset) + "-" +
                                                           std::to_string(artifact_.size() - 1) +
                                                           "/" + std::to_string(artifact_.size()));
      }
      const std::size_t end = std::min(artifact_.size(), offset + keep);
      response.body.assign(artifact_.begin() + static_cast<std::ptrdiff_t>(offset),
                           artifact_.begin() + static_cast<std::ptrdiff_t>(end));
      response.omit_content_length = true;
      if (announce_length) {  // the client then sees a transfer cut short (CURLE_PARTIAL_FILE)
        response.headers.emplace_back("Content-Length", std::to_string(artifact_.size() - offset));
      }
      return response;
    });
  }

  std::unique_ptr<TestHttpServer> server_;
  std::unique_ptr<platform::http::CurlFetcher> fetcher_;
  std::unique_ptr<CurlRangeSource> source_;
  aloft::testing::FakeClock clock_;
  Bytes artifact_;
  DownloadRequest request_;
  std::vector<std::chrono::milliseconds> sleeps_;
  std::vector<std::string> ranges_;  // the Range header of each request ("" for none)
  bool stop_ = false;
};

TEST_F(ResumableDownloadTest, PlainDownloadIsByteExact) {
  auto download = Make(Options(false));
  Collector sink;
  ASSERT_TRUE(download.Run(request_, sink));
  EXPECT_EQ(sink.bytes, artifact_);
  EXPECT_EQ(download.stats().requests, 1);
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(ResumableDownloadTest, InterruptionsAreResumedWithRanges) {
  CutFirst(2, 250 * 1000, /*announce_length=*/true);
  auto download = Make(Options(false));
  Collector sink;
  Status done = download.Run(request_, sink);
  ASSERT_TRUE(done) << done.error().ToString();
  EXPECT_EQ(sink.bytes, artifact_);
  EXPECT_EQ(ranges_, (std::vector<std::string>{"", "bytes=250000-", "bytes=500000-"}));
  EXPECT_EQ(download.stats().resumed, 2);
  EXPECT_EQ(sleeps_.size(), 2u) << "a back-off before each resume";
}

TEST_F(ResumableDownloadTest, ShortBodyWithoutLengthCountsAsInterruption) {
  CutFirst(1, 100 * 1000);
  auto download = Make(Options(false));
  Collector sink;
  ASSERT_TRUE(download.Run(request_, sink));
  EXPECT_EQ(sink.bytes, artifact_);
  EXPECT_EQ(ranges_.back(), "bytes=100000-");
}

TEST_F(ResumableDownloadTest, ServerIgnoringRangesIsAskedForAllAndTheKnownPrefixSkipped) {
  int calls = 0;
  server_->SetHandler([&](const TestHttpServer::Request&) {
    TestHttpServer::Response response;  // always 200 with the whole file, the first one cut
    response.body = artifact_;
    if (calls++ == 0) {
      response.body.resize(300 * 1000);
      response.omit_content_length = true;
    }
    return std::optional(response);
  });
  auto download = Make(Options(false));
  Collector sink;
  Status done = download.Run(request_, sink);
  ASSERT_TRUE(done) << done.error().ToString();
  EXPECT_EQ(sink.bytes, artifact_);
  EXPECT_EQ(calls, 3) << "cut, range refused (200), full request with the prefix skipped";
}

TEST_F(ResumableDownloadTest, SpoolResumesAcrossRestartsFromTheCheckpoint) {
  CutFirst(1, 300 * 1000);
  DownloadOptions options = Options(true);
  options.retries = 0;  // the first run gives up at the cut: the agent "died" there
  {
    auto first = Make(options);
    Collector sink;
    Status failed = first.Run(request_, sink);
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code(), Errc::kUnavailable) << failed.error().ToString();
    EXPECT_EQ(sink.bytes.size(), 300u * 1000u);
  }
  struct stat st {};
  ASSERT_EQ(::stat((dir_ / "downloads").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  const auto partial = dir_ / "downloads" / (request_.sha256 + ".partial");
  ASSERT_EQ(::stat(partial.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // A stale spool of another download is cleaned up by the next one.
  ASSERT_TRUE(
      platform::posix::AtomicWriteFile(dir_ / "downloads" / "old.partial", AsBytes("stale"), 0600));
  auto second = Make(options);
  Collector sink;
  Status done = second.Run(request_, sink);
  ASSERT_TRUE(done) << done.error().ToString();
  EXPECT_EQ(sink.bytes, artifact_) << "the replayed prefix and the fetched rest, byte-exact";
  // Giving up checkpoints what arrived, in whole 4 KiB units (a power cut would lose the bytes
  // since the last 64 KiB checkpoint instead: BytesPastTheCheckpointAreNotTrusted); the rest
  // is asked for with a range.
  const std::uint64_t replayed = second.stats().replayed;
  EXPECT_EQ(replayed, 300u * 1000 / 4096 * 4096);
  EXPECT_EQ(second.stats().requests, 1);
  EXPECT_EQ(ranges_.back(), "bytes=" + std::to_string(replayed) + "-");
  EXPECT_FALSE(std::filesystem::exists(dir_ / "downloads" / "old.partial"));

  ASSERT_TRUE(second.Discard(request_.sha256));
  EXPECT_FALSE(std::filesystem::exists(partial));
  EXPECT_TRUE(second.Discard(request_.sha256)) << "idempotent";
}

TEST_F(ResumableDownloadTest, BytesPastTheCheckpointAreNotTrusted) {
  std::filesystem::create_directories(dir_ / "downloads");
  const auto base = dir_ / "downloads" / request_.sha256;
  Bytes garbage(artifact_.begin(), artifact_.begin() + 20000);
  std::fill(garbage.begin() + 10000, garbage.end(), std::uint8_t{0});  // never fsynced
  ASSERT_TRUE(platform::posix::AtomicWriteFile(base.string() + ".partial", garbage, 0600));
  ASSERT_TRUE(
      platform::posix::AtomicWriteFile(base.string() + ".checkpoint", AsBytes("10000"), 0600));
  auto download = Make(Options(true));
  Collector sink;
  ASSERT_TRUE(download.Run(request_, sink));
  EXPECT_EQ(download.stats().replayed, 8192u) << "the checkpoint, down to a whole 4 KiB";
  EXPECT_EQ(sink.bytes, artifact_);
}

TEST_F(ResumableDownloadTest, CheckpointNeverTrustedPastTheFileOrTheLength) {
  std::filesystem::create_directories(dir_ / "downloads");
  const auto base = dir_ / "downloads" / request_.sha256;
  ASSERT_TRUE(platform::posix::AtomicWriteFile(base.string() + ".partial",
                                               ByteView(artifact_).first(9000), 0644));
  ASSERT_TRUE(
      platform::posix::AtomicWriteFile(base.string() + ".checkpoint", AsBytes("99999999"), 0600));
  auto download = Make(Options(true));
  Collector sink;
  ASSERT_TRUE(download.Run(request_, sink));
  EXPECT_EQ(download.stats().replayed, 8192u);
  EXPECT_EQ(sink.bytes, artifact_);
  struct stat st {};
  ASSERT_EQ(::stat((base.string() + ".partial").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "a readable spool is made private";
}

// The worker's checkpoints are made while the download goes on: a power cut in the middle
// (here: the sink stops the run, and no Checkpoint() runs after it, so only the worker's own
// count is on disk) leaves a checkpoint that names bytes which are in the file and are the
// artifact's.
TEST_F(ResumableDownloadTest, CheckpointsAreMadeDuringTheDownload) {
  DownloadOptions options = Options(true);  // a checkpoint every 64 KiB
  const auto base = dir_ / "downloads" / request_.sha256;
  {
    auto download = Make(options);
    Collector sink;
    sink.fail_at = 600 * 1000;  // the sink's error ends the run without a final checkpoint
    ASSERT_FALSE(download.Run(request_, sink));
  }
  auto text = platform::posix::ReadFile(base.string() + ".checkpoint", 64);
  ASSERT_TRUE(text);
  const std::uint64_t named = std::stoull(std::string(AsChars(*text)));
  EXPECT_GE(named, 256u * 1024) << "checkpoints every 64 KiB, written by the worker";
  EXPECT_LE(named, 600u * 1000);
  EXPECT_EQ(named % 4096, 0u);
  auto partial = platform::posix::ReadFile(base.string() + ".partial", 1 << 20);
  ASSERT_TRUE(partial);
  ASSERT_GE(partial->size(), named);
  EXPECT_TRUE(std::equal(artifact_.begin(), artifact_.begin() + static_cast<std::ptrdiff_t>(named),
                         partial->begin()));

  auto again = Make(options);
  Collector sink;
  ASSERT_TRUE(again.Run(request_, sink));
  EXPECT_EQ(again.stats().replayed, named);
  EXPECT_EQ(sink.bytes, artifact_);
}

TEST_F(ResumableDownloadTest, SinkErrorsEndTheDownloadAtOnce) {
  auto download = Make(Options(false));
  Collector sink;
  sink.fail_at = 1000;
  Status failed = download.Run(request_, sink);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code(), Errc::kVerificationFailed);
  EXPECT_EQ(download.stats().requests, 1);
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(ResumableDownloadTest, GivesUpAfterRetriesWithGrowingBackoff) {
  server_->SetHandler([](const TestHttpServer::Request&) {
    TestHttpServer::Response response;
    response.status = 503;
    return std::optional(response);
  });
  auto download = Make(Options(false));
  Collector sink;
  Status failed = download.Run(request_, sink);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code(), Errc::kUnavailable);
  EXPECT_NE(failed.error().message().find("gave up after 4 failed attempts"), std::string::npos)
      << failed.error().message();
  ASSERT_EQ(sleeps_.size(), 3u);
  EXPECT_LE(sleeps_[0], 100ms);
  EXPECT_GE(sleeps_[2], 200ms);
}

TEST_F(ResumableDownloadTest, StopRequestDuringBackoffCancels) {
  server_->SetHandler([](const TestHttpServer::Request&) {
    TestHttpServer::Response response;
    response.status = 503;
    return std::optional(response);
  });
  stop_ = true;
  auto download = Make(Options(false));
  Collector sink;
  EXPECT_EQ(download.Run(request_, sink).error().code(), Errc::kCancelled);
}

TEST_F(ResumableDownloadTest, MissingArtifactAndOversizeAreNotRetried) {
  auto download = Make(Options(false));
  Collector sink;
  DownloadRequest missing = request_;
  missing.url = server_->BaseUrl() + "/api/v1/targets/none.img";
  EXPECT_EQ(download.Run(missing, sink).error().code(), Errc::kNotFound);
  DownloadRequest shorter = request_;
  shorter.length = artifact_.size() - 1;  // the server has more than was signed
  Collector other;
  EXPECT_EQ(download.Run(shorter, other).error().code(), Errc::kTooLarge);
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(ResumableDownloadTest, DeadlineEndsRetries) {
  server_->SetHandler([](const TestHttpServer::Request&) {
    TestHttpServer::Response response;
    response.status = 503;
    return std::optional(response);
  });
  DownloadOptions options = Options(false);
  options.retries = 100;
  options.retry_initial = 10'000ms;
  options.retry_max = 10'000ms;
  options.deadline = 30'000ms;
  auto download = Make(options);
  Collector sink;
  EXPECT_EQ(download.Run(request_, sink).error().code(), Errc::kTimeout);
  EXPECT_LE(sleeps_.size(), 6u);
}

// Slow retrieval: bytes keep coming, fast enough for any minimum-rate rule, but the whole
// download has a deadline that holds within one transfer too (attack suite:
// AttackSuite.SlowRetrievalByATricklingServer).
TEST_F(ResumableDownloadTest, DeadlineEndsATransferThatTricklesPastIt) {
  server_->SetHandler([this](const TestHttpServer::Request&) {
    TestHttpServer::Response response;
    response.body = artifact_;
    response.trickle_delay = 1ms;
    response.trickle_chunk = 4096;
    return std::optional(response);
  });
  DownloadOptions options = Options(false);
  options.deadline = 5'000ms;
  auto download = Make(options);
  // Each chunk that arrives costs the (fake) clock a second.
  class Slow final : public core::io::Writer {
   public:
    explicit Slow(aloft::testing::FakeClock& clock) : clock_(clock) {}
    Status Write(ByteView data) override {
      clock_.Advance(1s);
      bytes += data.size();
      return Ok();
    }
    std::size_t bytes = 0;

   private:
    aloft::testing::FakeClock& clock_;
  } sink(clock_);
  Status s = download.Run(request_, sink);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::kTimeout) << s.error().ToString();
  EXPECT_NE(s.error().message().find("not finished within 5 s"), std::string::npos)
      << s.error().ToString();
  EXPECT_LT(sink.bytes, artifact_.size());
}

}  // namespace
}  // namespace aloft::agent::download

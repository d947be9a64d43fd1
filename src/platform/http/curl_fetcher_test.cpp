#include "platform/http/curl_fetcher.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/io/writer.hpp"
#include "testing/http_server.hpp"

namespace aloft::platform::http {
namespace {

using testing::TestHttpServer;
using namespace std::chrono_literals;

Bytes Sequence(std::size_t n) {
  Bytes out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(i);
  return out;
}

// Collects what arrived, counting Write calls; can be told to fail.
class RecordingWriter final : public core::io::Writer {
 public:
  Status Write(ByteView data) override {
    ++writes;
    if (fail_after_bytes && bytes.size() + data.size() > *fail_after_bytes) {
      return Fail(Errc::kNoSpace, "disk full (test)");
    }
    bytes.insert(bytes.end(), data.begin(), data.end());
    return Ok();
  }
  Bytes bytes;
  int writes = 0;
  std::optional<std::size_t> fail_after_bytes;
};

class CurlFetcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = TestHttpServer::Start();
    ASSERT_TRUE(server) << server.error().ToString();
    server_ = std::move(*server);
    fetcher_ = MakeFetcher({});
  }

  static std::unique_ptr<CurlFetcher> MakeFetcher(CurlFetcherOptions options) {
    auto fetcher = CurlFetcher::Create(std::move(options));
    EXPECT_TRUE(fetcher) << fetcher.error().ToString();
    return fetcher ? std::move(*fetcher) : nullptr;
  }

  std::string Url(const std::string& path) const { return server_->BaseUrl() + path; }

  // Serves `response` for every request.
  void AnswerAlways(TestHttpServer::Response response) {
    server_->SetHandler([response](const TestHttpServer::Request&) { return response; });
  }

  std::unique_ptr<TestHttpServer> server_;
  std::unique_ptr<CurlFetcher> fetcher_;
};

TEST_F(CurlFetcherTest, FetchesBody) {
  server_->SetFile("/metadata/1.root.json", ToBytes("{\"signed\":{}}"));
  core::io::BytesWriter sink(1024);
  auto fetched = fetcher_->Fetch(Url("/metadata/1.root.json"), 1024, sink);
  ASSERT_TRUE(fetched) << fetched.error().ToString();
  EXPECT_EQ(ToString(sink.bytes()), "{\"signed\":{}}");
  EXPECT_EQ(server_->Requests(), (std::vector<std::string>{"/metadata/1.root.json"}));
}

TEST_F(CurlFetcherTest, ReusesHandleAcrossCallsAndErrors) {
  const Bytes big = Sequence(300 * 1000);
  server_->SetFile("/big", big);
  server_->SetFile("/empty", {});
  for (int i = 0; i < 3; ++i) {
    RecordingWriter sink;
    ASSERT_TRUE(fetcher_->Fetch(Url("/big"), big.size(), sink));
    EXPECT_EQ(sink.bytes, big);
    EXPECT_EQ(fetcher_->Fetch(Url("/missing"), 10, sink).error().code(), Errc::kNotFound);
    RecordingWriter empty;
    ASSERT_TRUE(fetcher_->Fetch(Url("/empty"), 0, empty));
    EXPECT_TRUE(empty.bytes.empty());
  }
}

TEST_F(CurlFetcherTest, NotFoundAndForbiddenAreNotFound) {
  RecordingWriter sink;
  auto missing = fetcher_->Fetch(Url("/metadata/2.root.json"), 1024, sink);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Errc::kNotFound);
  EXPECT_EQ(missing.error().message(), "HTTP 404 from " + Url("/metadata/2.root.json"));
  EXPECT_TRUE(sink.bytes.empty());  // the HTML error page never reaches the sink

  TestHttpServer::Response forbidden;
  forbidden.status = 403;
  forbidden.body = ToBytes("no");
  AnswerAlways(forbidden);
  EXPECT_EQ(fetcher_->Fetch(Url("/x"), 1024, sink).error().code(), Errc::kNotFound);
  EXPECT_TRUE(sink.bytes.empty());
}

TEST_F(CurlFetcherTest, OtherStatusesAreUnavailable) {
  TestHttpServer::Response error;
  error.status = 500;
  error.body = ToBytes("oops");
  AnswerAlways(error);
  RecordingWriter sink;
  auto fetched = fetcher_->Fetch(Url("/x"), 1024, sink);
  ASSERT_FALSE(fetched);
  EXPECT_EQ(fetched.error().code(), Errc::kUnavailable);
  EXPECT_EQ(fetched.error().message(), "HTTP 500 from " + Url("/x"));
  EXPECT_TRUE(sink.bytes.empty());

  error.status = 503;
  error.body.clear();  // no body at all: the status is checked after the transfer
  AnswerAlways(error);
  EXPECT_EQ(fetcher_->Fetch(Url("/x"), 1024, sink).error().code(), Errc::kUnavailable);
}

TEST_F(CurlFetcherTest, RedirectsAreNotFollowed) {
  server_->SetFile("/elsewhere", ToBytes("evil"));
  server_->SetHandler(
      [this](const TestHttpServer::Request& request) -> std::optional<TestHttpServer::Response> {
        if (request.path != "/start") return std::nullopt;
        TestHttpServer::Response redirect;
        redirect.status = 302;
        redirect.headers.emplace_back("Location", Url("/elsewhere"));
        return redirect;
      });
  RecordingWriter sink;
  auto fetched = fetcher_->Fetch(Url("/start"), 1024, sink);
  ASSERT_FALSE(fetched);
  EXPECT_EQ(fetched.error().code(), Errc::kUnavailable);
  EXPECT_NE(fetched.error().message().find("302"), std::string::npos);
  EXPECT_EQ(server_->Requests(), (std::vector<std::string>{"/start"}));
}

TEST_F(CurlFetcherTest, AnnouncedOversizeIsTooLargeBeforeAnyByte) {
  server_->SetFile("/big", Sequence(5000));
  RecordingWriter sink;
  auto fetched = fetcher_->Fetch(Url("/big"), 4999, sink);
  ASSERT_FALSE(fetched);
  EXPECT_EQ(fetched.error().code(), Errc::kTooLarge);
  EXPECT_TRUE(sink.bytes.empty());

  RecordingWriter exact;
  ASSERT_TRUE(fetcher_->Fetch(Url("/big"), 5000, exact));
  EXPECT_EQ(exact.bytes.size(), 5000u);
}

TEST_F(CurlFetcherTest, UnannouncedOversizeIsCutOff) {
  TestHttpServer::Response endless;
  endless.body = Sequence(1 << 20);
  endless.omit_content_length = true;  // close-delimited: the size is unknown in advance
  AnswerAlways(endless);
  RecordingWriter sink;
  auto fetched = fetcher_->Fetch(Url("/timestamp.json"), 1000, sink);
  ASSERT_FALSE(fetched);
  EXPECT_EQ(fetched.error().code(), Errc::kTooLarge);
  EXPECT_LE(sink.bytes.size(), 1000u);

  endless.body = Sequence(1000);
  AnswerAlways(endless);
  RecordingWriter exact;
  ASSERT_TRUE(fetcher_->Fetch(Url("/timestamp.json"), 1000, exact));
  EXPECT_EQ(exact.bytes, Sequence(1000));
}

TEST_F(CurlFetcherTest, SlowRetrievalTimesOut) {
  TestHttpServer::Response slow;
  slow.body = Sequence(100000);
  slow.trickle_delay = 100ms;  // 10 bytes/s, far below the 1024 bytes/s minimum
  slow.trickle_chunk = 1;
  AnswerAlways(slow);
  CurlFetcherOptions options;
  options.low_speed_time = 1s;
  auto fetcher = MakeFetcher(options);
  ASSERT_NE(fetcher, nullptr);
  RecordingWriter sink;
  const auto start = std::chrono::steady_clock::now();
  auto fetched = fetcher->Fetch(Url("/snapshot.json"), slow.body.size(), sink);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(fetched);
  EXPECT_EQ(fetched.error().code(), Errc::kTimeout) << fetched.error().ToString();
  EXPECT_LT(took, 3s);
}

TEST_F(CurlFetcherTest, StalledTransferHitsTotalTimeout) {
  TestHttpServer::Response stalled;
  stalled.body = Sequence(100);
  stalled.stall = true;
  AnswerAlways(stalled);
  CurlFetcherOptions options;
  options.total_timeout = 300ms;
  auto fetcher = MakeFetcher(options);
  ASSERT_NE(fetcher, nullptr);
  RecordingWriter sink;
  auto fetched = fetcher->Fetch(Url("/x"), 1000, sink);
  ASSERT_FALSE(fetched);
  EXPECT_EQ(fetched.error().code(), Errc::kTimeout);

  // The server noticed the hang-up and serves the next request.
  server_->SetHandler(nullptr);
  server_->SetFile("/after", ToBytes("ok"));
  RecordingWriter after;
  ASSERT_TRUE(fetcher->Fetch(Url("/after"), 10, after));
  EXPECT_EQ(ToString(after.bytes), "ok");
}

TEST_F(CurlFetcherTest, SinkErrorIsReturnedUnchanged) {
  server_->SetFile("/image", Sequence(200000));
  RecordingWriter sink;
  sink.fail_after_bytes = 1000;
  auto fetched = fetcher_->Fetch(Url("/image"), 200000, sink);
  ASSERT_FALSE(fetched);
  EXPECT_EQ(fetched.error().code(), Errc::kNoSpace);
  EXPECT_EQ(fetched.error().message(), "disk full (test)");
}

TEST_F(CurlFetcherTest, ConnectionRefusedIsUnavailable) {
  const std::string url = Url("/x");
  server_.reset();  // nobody listens on that port any more
  RecordingWriter sink;
  auto fetched = fetcher_->Fetch(url, 10, sink);
  ASSERT_FALSE(fetched);
  EXPECT_EQ(fetched.error().code(), Errc::kUnavailable);
  EXPECT_NE(fetched.error().message().find(url), std::string::npos);
}

TEST_F(CurlFetcherTest, SchemesAreRestricted) {
  server_->SetFile("/x", ToBytes("x"));
  CurlFetcherOptions options;
  options.allow_http = false;
  auto https_only = MakeFetcher(options);
  ASSERT_NE(https_only, nullptr);
  RecordingWriter sink;
  EXPECT_EQ(https_only->Fetch(Url("/x"), 10, sink).error().code(), Errc::kUnsupported);
  EXPECT_EQ(fetcher_->Fetch("file:///etc/passwd", 1 << 20, sink).error().code(),
            Errc::kUnsupported);
  EXPECT_TRUE(sink.bytes.empty());
  EXPECT_TRUE(server_->Requests().empty());
}

TEST_F(CurlFetcherTest, FetchRangeResumes) {
  const Bytes body = Sequence(1000);
  server_->SetFile("/image", body);
  RecordingWriter tail;
  auto fetched = fetcher_->FetchRange(Url("/image"), 400, 600, tail);
  ASSERT_TRUE(fetched) << fetched.error().ToString();
  EXPECT_EQ(tail.bytes, Bytes(body.begin() + 400, body.end()));

  RecordingWriter whole;
  ASSERT_TRUE(fetcher_->FetchRange(Url("/image"), 0, 1000, whole));
  EXPECT_EQ(whole.bytes, body);

  RecordingWriter capped;
  EXPECT_EQ(fetcher_->FetchRange(Url("/image"), 400, 599, capped).error().code(), Errc::kTooLarge);
  RecordingWriter past_end;
  EXPECT_EQ(fetcher_->FetchRange(Url("/image"), 1000, 10, past_end).error().code(),
            Errc::kInvalidArgument);
  EXPECT_EQ(fetcher_->FetchRange(Url("/nothing"), 10, 10, past_end).error().code(),
            Errc::kNotFound);
}

TEST_F(CurlFetcherTest, FetchRangeRejectsServerThatIgnoresRanges) {
  TestHttpServer::Response full;
  full.body = Sequence(1000);
  AnswerAlways(full);
  RecordingWriter sink;
  auto fetched = fetcher_->FetchRange(Url("/image"), 400, 1000, sink);
  ASSERT_FALSE(fetched);
  EXPECT_EQ(fetched.error().code(), Errc::kUnsupported);
  EXPECT_TRUE(sink.bytes.empty());

  TestHttpServer::Response wrong_range;
  wrong_range.status = 206;
  wrong_range.body = Sequence(10);
  wrong_range.headers.emplace_back("Content-Range", "bytes 0-9/1000");
  AnswerAlways(wrong_range);
  auto misplaced = fetcher_->FetchRange(Url("/image"), 400, 1000, sink);
  ASSERT_FALSE(misplaced);
  EXPECT_EQ(misplaced.error().code(), Errc::kUnavailable);
  EXPECT_TRUE(sink.bytes.empty());
}

// A server that wants "Authorization: Bearer good" and answers 401 to anything else.
TEST_F(CurlFetcherTest, BearerTokenIsSentAndRenewedOnceAfter401) {
  server_->SetHandler([](const TestHttpServer::Request& request) {
    TestHttpServer::Response response;
    auto it = request.headers.find("authorization");
    if (it == request.headers.end() || it->second != "Bearer good") {
      response.status = 401;
      response.body = ToBytes("{\"error\":{\"code\":\"unauthenticated\"}}");
      return std::optional(response);
    }
    response.body = ToBytes("metadata");
    return std::optional(response);
  });
  std::vector<bool> calls;
  CurlFetcherOptions options;
  options.bearer_token = [&calls](bool renew) -> Result<std::string> {
    calls.push_back(renew);
    return std::string(renew ? "good" : "stale");
  };
  auto fetcher = MakeFetcher(options);
  core::io::BytesWriter sink(1024);
  auto fetched = fetcher->Fetch(Url("/director/timestamp.json"), 1024, sink);
  ASSERT_TRUE(fetched) << fetched.error().ToString();
  EXPECT_EQ(ToString(sink.bytes()), "metadata") << "the 401 body never reaches the sink";
  EXPECT_EQ(calls, (std::vector<bool>{false, true}));

  // Refused even with a fresh token: one renewal only, then kVerificationFailed, no secret
  // in the message.
  options.bearer_token = [](bool) -> Result<std::string> { return std::string("s3cret"); };
  auto refused = MakeFetcher(options);
  core::io::BytesWriter nothing(1024);
  auto denied = refused->Fetch(Url("/director/timestamp.json"), 1024, nothing);
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code(), Errc::kVerificationFailed);
  EXPECT_EQ(denied.error().message().find("s3cret"), std::string::npos);
  EXPECT_TRUE(nothing.bytes().empty());

  // A provider error ends the call unchanged.
  options.bearer_token = [](bool) -> Result<std::string> {
    return Fail(Errc::kUnavailable, "auth server down");
  };
  core::io::BytesWriter unused(1024);
  EXPECT_EQ(MakeFetcher(options)->Fetch(Url("/x"), 1024, unused).error().message(),
            "auth server down");
  // Without a provider a 401 stays a generic failure.
  EXPECT_EQ(fetcher_->Fetch(Url("/x"), 1024, unused).error().code(), Errc::kUnavailable);
}

TEST_F(CurlFetcherTest, HttpLoopbackOnlyRefusesOtherHosts) {
  CurlFetcherOptions options;
  options.http_loopback_only = true;
  auto fetcher = MakeFetcher(options);
  core::io::BytesWriter sink(1024);
  auto remote = fetcher->Fetch("http://192.0.2.1/timestamp.json", 1024, sink);
  ASSERT_FALSE(remote);
  EXPECT_EQ(remote.error().code(), Errc::kUnsupported);
  server_->SetFile("/f", ToBytes("ok"));
  ASSERT_TRUE(fetcher->Fetch(Url("/f"), 1024, sink));
  EXPECT_EQ(ToString(sink.bytes()), "ok");
}

TEST_F(CurlFetcherTest, CancelledTransferStopsWithCancelled) {
  TestHttpServer::Response stalled;
  stalled.body = Sequence(1000);
  stalled.stall = true;
  AnswerAlways(stalled);
  std::atomic<bool> stop{false};
  CurlFetcherOptions options;
  options.cancelled = [&stop] { return stop.load(); };
  auto fetcher = MakeFetcher(options);
  std::thread stopper([&stop] {
    std::this_thread::sleep_for(200ms);
    stop = true;
  });
  RecordingWriter sink;
  const auto start = std::chrono::steady_clock::now();
  auto fetched = fetcher->Fetch(Url("/image"), 1000, sink);
  stopper.join();
  ASSERT_FALSE(fetched);
  EXPECT_EQ(fetched.error().code(), Errc::kCancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

TEST_F(CurlFetcherTest, BandwidthCapSlowsTheTransfer) {
  // libcurl measures the rate once a second, so the cap shows on transfers longer than that.
  constexpr std::size_t kSize = 3 * 1000 * 1000;
  server_->SetFile("/image", Sequence(kSize));
  CurlFetcherOptions options;
  options.max_recv_bytes_per_second = 2 * 1000 * 1000;
  auto fetcher = MakeFetcher(options);
  RecordingWriter sink;
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(fetcher->Fetch(Url("/image"), kSize, sink));
  EXPECT_EQ(sink.bytes.size(), kSize);
  // 3 MB at 2 MB/s: 1.5 s on average, less with libcurl's initial burst (about 0.9 s seen);
  // unthrottled it takes a few milliseconds.
  EXPECT_GE(std::chrono::steady_clock::now() - start, 500ms);
}

}  // namespace
}  // namespace aloft::platform::http

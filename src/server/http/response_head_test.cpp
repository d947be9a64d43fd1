#include "server/http/response_head.hpp"

#include <gtest/gtest.h>

namespace aloft::server::http {
namespace {

TEST(ResponseHeadTest, StatusLineFieldsLengthAndBlankLine) {
  Response r = Response::Text(200, "application/json", "{}");
  r.headers.Set("Cache-Control", "no-store");
  std::string out = "kept:";
  EXPECT_EQ(AppendResponseHead(r, 2, /*keep_alive=*/true, out), 0u);
  EXPECT_EQ(out,
            "kept:HTTP/1.1 200 OK\r\n"
            "Content-Type: application/json\r\n"
            "Cache-Control: no-store\r\n"
            "Content-Length: 2\r\n"
            "\r\n");
}

TEST(ResponseHeadTest, ConnectionCloseOnlyWhenNotKeptAlive) {
  Response r = Response::Error(404, "not_found", "no such resource");
  std::string out;
  AppendResponseHead(r, r.body.size(), /*keep_alive=*/false, out);
  EXPECT_EQ(out.rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u) << out;
  EXPECT_NE(out.find("\r\nConnection: close\r\n\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Content-Length: " + std::to_string(r.body.size()) + "\r\n"),
            std::string::npos);
}

TEST(ResponseHeadTest, NoContentStatusesCarryNoLength) {
  for (int status : {100, 204, 304}) {
    Response r;
    r.status = status;
    std::string out;
    AppendResponseHead(r, 0, true, out);
    EXPECT_EQ(out.find("Content-Length"), std::string::npos) << status;
    EXPECT_TRUE(StatusHasNoContent(status));
  }
  EXPECT_FALSE(StatusHasNoContent(200));
  EXPECT_FALSE(StatusHasNoContent(206));
}

TEST(ResponseHeadTest, FramingFieldsAreTheServersAlone) {
  Response r = Response::Text(200, "text/plain", "hello");
  r.headers.Add("content-length", "999");
  r.headers.Add("Transfer-Encoding", "chunked");
  r.headers.Add("CONNECTION", "keep-alive, Upgrade");
  std::string out;
  EXPECT_EQ(AppendResponseHead(r, 5, true, out), 0u);  // left out, but not malformed
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/plain\r\n"
            "Content-Length: 5\r\n"
            "\r\n");
}

TEST(ResponseHeadTest, MalformedFieldsAreLeftOutAndCounted) {
  Response r = Response::Text(200, "text/plain", "x");
  r.headers.Add("X-Split", "a\r\nSet-Cookie: evil=1");
  r.headers.Add("X-Lf", "a\nb");
  r.headers.Add("X-Nul", std::string("a\0b", 3));
  r.headers.Add("Bad Name", "v");
  r.headers.Add("", "v");
  r.headers.Add("X-Colon:", "v");
  r.headers.Add("X-Fine", "tab\tand \"quotes\" are fine");
  std::string out;
  EXPECT_EQ(AppendResponseHead(r, 1, true, out), 6u);
  EXPECT_EQ(out.find("evil"), std::string::npos);
  EXPECT_EQ(out.find("Bad Name"), std::string::npos);
  EXPECT_NE(out.find("X-Fine: tab\tand \"quotes\" are fine\r\n"), std::string::npos);
  EXPECT_TRUE(IsWritableField("ETag", "\"sha256-abc\""));
  EXPECT_FALSE(IsWritableField("ETag", "a\rb"));
}

TEST(ResponseHeadTest, ReasonPhrases) {
  EXPECT_EQ(ReasonPhrase(200), "OK");
  EXPECT_EQ(ReasonPhrase(206), "Partial Content");
  EXPECT_EQ(ReasonPhrase(429), "Too Many Requests");
  EXPECT_EQ(ReasonPhrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(ReasonPhrase(503), "Service Unavailable");
  EXPECT_EQ(ReasonPhrase(299), "Unknown");
  std::string out;
  Response r;
  r.status = 299;
  AppendResponseHead(r, 0, true, out);
  EXPECT_EQ(out.rfind("HTTP/1.1 299 Unknown\r\n", 0), 0u);
}

}  // namespace
}  // namespace aloft::server::http

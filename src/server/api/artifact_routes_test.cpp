// Artifact downloads: content-addressed names only, Range for resume, immutable caching.

#include "server/api/artifact_routes.hpp"

#include <gtest/gtest.h>

#include "core/crypto/hash.hpp"
#include "server/blobs/fs_object_store.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::server::api {
namespace {

class ArtifactRoutesTest : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    auto store = blobs::FsObjectStore::Create(dir_ / "blobs");
    ASSERT_TRUE(store);
    store_ = std::move(*store);
    deps_.emplace(ArtifactDownloadDeps{
        *store_, [this](std::string_view sha) -> std::optional<std::filesystem::path> {
          return store_->PathFor(sha);
        }});
    ASSERT_TRUE(RegisterArtifactDownloadRoutes(router_, *deps_));
    auto upload = store_->BeginUpload(1 << 20);
    ASSERT_TRUE(upload);
    ASSERT_TRUE((*upload)->Write(ToBytes(content_)));
    auto info = (*upload)->Commit(std::nullopt);
    ASSERT_TRUE(info);
    sha_ = info->sha256;
  }

  http::Response Get(const std::string& path, const std::string& range = {},
                     const std::string& if_none_match = {}) {
    auto target = http::ParseTarget(path);
    EXPECT_TRUE(target) << path;
    http::Request request;
    request.method = http::Method::kGet;
    request.method_name = "GET";
    request.target = path;
    request.path = target->path;
    request.segments = target->segments;
    if (!range.empty()) request.headers.Add("Range", range);
    if (!if_none_match.empty()) request.headers.Add("If-None-Match", if_none_match);
    auto match = router_.Find(http::Method::kGet, request.segments);
    if (match.route == nullptr) return http::Response::Error(404, "not_found", "no route");
    return http::InvokeHandler(*match.route, request, match.params, [](std::string_view) {});
  }

  const std::string content_ = "0123456789abcdefghij";
  std::unique_ptr<blobs::FsObjectStore> store_;
  std::optional<ArtifactDownloadDeps> deps_;
  http::Router router_;
  std::string sha_;
};

TEST_F(ArtifactRoutesTest, ServesTheWholeArtifactImmutably) {
  http::Response r = Get("/api/v1/targets/" + sha_ + ".os.img");
  ASSERT_EQ(r.status, 200);
  ASSERT_TRUE(r.file.has_value());
  EXPECT_EQ(r.file->length, content_.size());
  EXPECT_EQ(r.headers.Get("Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(r.headers.Get("ETag"), "\"" + sha_ + "\"");
  EXPECT_EQ(r.headers.Get("Accept-Ranges"), "bytes");
}

TEST_F(ArtifactRoutesTest, ResumesWithARange) {
  http::Response r = Get("/api/v1/targets/rpi4/" + sha_ + ".os.img", "bytes=10-");
  ASSERT_EQ(r.status, 206);
  ASSERT_TRUE(r.file.has_value());
  EXPECT_EQ(r.file->offset, 10u);
  EXPECT_EQ(r.file->length, 10u);
  EXPECT_EQ(r.headers.Get("Content-Range"), "bytes 10-19/20");
}

TEST_F(ArtifactRoutesTest, RevalidationByHashIsNotModified) {
  EXPECT_EQ(Get("/api/v1/targets/" + sha_ + ".os.img", "", "\"" + sha_ + "\"").status, 304);
}

TEST_F(ArtifactRoutesTest, UnknownOrMalformedNamesAre404) {
  const std::string other = core::crypto::Sha256Hex(ToBytes("not stored"));
  for (const std::string& name :
       std::vector<std::string>{other + ".os.img", sha_, sha_ + ".", "os.img", std::string(64, 'G') + ".x",
        "../" + sha_ + ".x", sha_.substr(0, 63) + "..x"}) {
    auto target = http::ParseTarget("/api/v1/targets/" + name);
    if (!target) continue;  // rejected before routing, which is a 400: fine too
    EXPECT_EQ(Get("/api/v1/targets/" + name).status, 404) << name;
  }
  EXPECT_FALSE(HashFromTargetFileName(sha_ + ".").has_value());
  EXPECT_EQ(HashFromTargetFileName(sha_ + ".x"), sha_);
}

}  // namespace
}  // namespace aloft::server::api

// Releases as the Image repository's signed targets define them, and the artifact check that
// keeps a release from being published before its bytes are servable.

#include "server/releases/release_catalog.hpp"

#include <gtest/gtest.h>

#include "core/crypto/hash.hpp"
#include "server/blobs/fs_object_store.hpp"
#include "server/repo/repo_test_fixture.hpp"

namespace aloft::server::releases {
namespace {

class ReleaseCatalogTest : public repo::RepoTest {
 protected:
  void SetUp() override {
    RepoTest::SetUp();
    auto blobs = blobs::FsObjectStore::Create(dir_ / "blobs");
    ASSERT_TRUE(blobs) << blobs.error().ToString();
    blobs_ = std::move(*blobs);
    catalog_.emplace(*image_, *blobs_);
    image_root_v1_ = SignedRoot();
    ASSERT_TRUE(image_->UploadRoot(image_root_v1_));
  }

  void StoreBlob(const std::string& content) {
    auto upload = blobs_->BeginUpload(1 << 20);
    ASSERT_TRUE(upload);
    ASSERT_TRUE((*upload)->Write(ToBytes(content)));
    ASSERT_TRUE((*upload)->Commit(std::nullopt));
  }

  std::unique_ptr<blobs::FsObjectStore> blobs_;
  std::optional<ReleaseCatalog> catalog_;
};

TEST_F(ReleaseCatalogTest, EmptyBeforeTheFirstTargets) {
  auto list = catalog_->List();
  ASSERT_TRUE(list) << list.error().ToString();
  EXPECT_TRUE(list->empty());
  EXPECT_EQ(catalog_->Find("os.img").error().code(), Errc::kNotFound);
}

TEST_F(ReleaseCatalogTest, PublishesWhenEveryArtifactIsStored) {
  StoreBlob("image two");
  Release("os-2.0.img", "image two", 4);
  auto version = catalog_->PublishTargets(OfflineTargets());
  ASSERT_TRUE(version) << version.error().ToString();
  EXPECT_EQ(*version, 2);  // the fixture's targets start at version 1

  auto found = catalog_->Find("os-2.0.img");
  ASSERT_TRUE(found) << found.error().ToString();
  EXPECT_EQ(found->version, "2.0");
  EXPECT_EQ(found->security_counter, 4);
  EXPECT_EQ(found->hardware_ids, std::vector<std::string>{"rpi4"});
  EXPECT_EQ(found->sha256, core::crypto::Sha256Hex(ToBytes("image two")));
  EXPECT_EQ(found->target.length, 9);
  ASSERT_EQ(catalog_->List()->size(), 1u);
}

TEST_F(ReleaseCatalogTest, RefusesTargetsWhoseArtifactWasNotUploaded) {
  Release("os-2.0.img", "never uploaded");
  auto version = catalog_->PublishTargets(OfflineTargets());
  ASSERT_FALSE(version);
  EXPECT_EQ(version.error().code(), Errc::kNotFound);
  EXPECT_NE(version.error().message().find("upload it first"), std::string::npos);
  EXPECT_TRUE(catalog_->List()->empty()) << "nothing may be published";
}

TEST_F(ReleaseCatalogTest, RefusesNamesThatAreNotOneSegment) {
  StoreBlob("nested");
  Release("rpi4/os.img", "nested");
  auto version = catalog_->PublishTargets(OfflineTargets());
  ASSERT_FALSE(version);
  EXPECT_EQ(version.error().code(), Errc::kInvalidArgument);
  EXPECT_TRUE(catalog_->List()->empty());
}

TEST_F(ReleaseCatalogTest, ReleaseNamesAreStrict) {
  EXPECT_TRUE(IsValidReleaseName("rpi4-os_2.0+1.img.zst"));
  EXPECT_FALSE(IsValidReleaseName(""));
  EXPECT_FALSE(IsValidReleaseName(".hidden"));
  EXPECT_FALSE(IsValidReleaseName("a/b"));
  EXPECT_FALSE(IsValidReleaseName("a b"));
  EXPECT_FALSE(IsValidReleaseName("x'; DROP TABLE devices;--"));
  EXPECT_FALSE(IsValidReleaseName(std::string(201, 'a')));
}

}  // namespace
}  // namespace aloft::server::releases

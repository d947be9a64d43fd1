// Server-built deltas: requested once at admission, built in the background from artifacts
// checked against their signed digests, offered as a Director pointer that binds the patch to
// the release's image, and never built from anything the server cannot verify.

#include "server/deltas/delta_service.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <zstd.h>

#include <cctype>
#include <fstream>
#include <memory>
#include <optional>

#include "core/crypto/hash.hpp"
#include "core/delta/patch.hpp"
#include "core/uptane/target_custom.hpp"
#include "platform/sqlite/connection_pool.hpp"
#include "platform/sqlite/migrator.hpp"
#include "server/audit/sqlite/sqlite_audit_log.hpp"
#include "server/blobs/fs_object_store.hpp"
#include "server/deltas/sqlite/sqlite_delta_store.hpp"
#include "server/store/sqlite/migrations.hpp"
#include "testing/fake_clock.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::server::deltas {
namespace {

using core::crypto::Sha256Hex;

// An image with structure: records that a new version shifts and edits in places.
Bytes Image(std::size_t records, std::uint32_t edit_every) {
  Bytes out;
  for (std::uint32_t i = 0; i < static_cast<std::uint32_t>(records); ++i) {
    const std::uint32_t v = (edit_every > 0 && i % edit_every == 0) ? i * 7919 : i;
    for (std::uint32_t k = 0; k < 24; ++k) out.push_back(static_cast<std::uint8_t>((v >> (k % 4 * 8)) + k));
  }
  return out;
}

Bytes Zstd(ByteView data) {
  Bytes out(ZSTD_compressBound(data.size()));
  const std::size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

class FakeReleases final : public ReleaseSource {
 public:
  Result<std::vector<releases::Release>> List() override { return list; }
  std::vector<releases::Release> list;
};

class DeltaServiceTest : public aloft::testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    auto pool = platform::sqlite::ConnectionPool::Open(dir_ / "aloft.db", {}, 2);
    ASSERT_TRUE(pool) << pool.error().ToString();
    pool_ = std::move(*pool);
    auto lease = pool_->Acquire(std::chrono::seconds(1));
    ASSERT_TRUE(lease);
    ASSERT_TRUE(platform::sqlite::Migrator(store::sqlite::ServerMigrations()).Migrate(**lease));
    auto blobs = blobs::FsObjectStore::Create(dir_ / "blobs");
    ASSERT_TRUE(blobs) << blobs.error().ToString();
    blobs_ = std::move(*blobs);
    store_.emplace(*pool_);
    audit_.emplace(*pool_, clock_);
    old_image_ = Image(8000, 0);
    new_image_ = Image(8200, 97);
    old_sha_ = Sha256Hex(old_image_);
    new_sha_ = Sha256Hex(new_image_);
    Publish("os-1.0.img.zst", "1.0", old_image_);
    Publish("os-2.0.img.zst", "2.0", new_image_);
    MakeService();
  }

  void MakeService() {
    DeltaServiceOptions options;
    options.enabled = enabled_;
    options.level = 3;
    options.work_dir = dir_ / "delta-work";
    service_.emplace(*store_, *blobs_, releases_, *audit_, clock_, options);
  }

  // Stores the zstd artifact of `image` and lists it as a release for rpi4.
  releases::Release& Publish(const std::string& name, const std::string& version,
                             const Bytes& image) {
    const Bytes artifact = Zstd(image);
    auto upload = blobs_->BeginUpload(artifact.size());
    EXPECT_TRUE(upload);
    EXPECT_TRUE((*upload)->Write(artifact));
    auto info = (*upload)->Commit(std::nullopt);
    EXPECT_TRUE(info);
    core::uptane::ImageCustom custom;
    custom.version = version;
    custom.hardware_ids = {"rpi4"};
    custom.payload = core::uptane::PayloadInfo{"raw", "zstd",
                                               static_cast<std::int64_t>(image.size()),
                                               Sha256Hex(image)};
    releases::Release r;
    r.name = name;
    r.version = version;
    r.hardware_ids = {"rpi4"};
    r.target.length = static_cast<std::int64_t>(artifact.size());
    r.target.hashes = {{"sha256", info->sha256}};
    r.target.custom = core::uptane::ToJson(custom);
    r.sha256 = info->sha256;
    releases_.list.push_back(r);
    return releases_.list.back();
  }

  DeltaTarget To() const {
    return DeltaTarget{"os-2.0.img.zst", new_sha_};
  }

  ServerDelta Row(const std::string& from) {
    auto row = store_->Get("os-2.0.img.zst", from);
    EXPECT_TRUE(row && *row);
    return row && *row ? **row : ServerDelta{};
  }

  std::vector<audit::AuditRecord> AuditRecords() {
    auto records = audit_->List(0, 100);
    EXPECT_TRUE(records);
    return records ? *records : std::vector<audit::AuditRecord>{};
  }

  aloft::testing::FakeClock clock_;
  std::unique_ptr<platform::sqlite::ConnectionPool> pool_;
  std::unique_ptr<blobs::FsObjectStore> blobs_;
  std::optional<sqlite::SqliteDeltaStore> store_;
  std::optional<audit::sqlite::SqliteAuditLog> audit_;
  FakeReleases releases_;
  bool enabled_ = true;
  std::optional<DeltaService> service_;
  Bytes old_image_;
  Bytes new_image_;
  std::string old_sha_;
  std::string new_sha_;
};

TEST_F(DeltaServiceTest, QueuedOnceBuiltThenOfferedAsABindingToTheSignedImage) {
  EXPECT_FALSE(service_->Offer(To(), old_sha_));
  EXPECT_FALSE(service_->Offer(To(), old_sha_));  // still being built: one request
  auto listed = service_->List(10);
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().state, BuildState::kQueued);

  auto built = service_->BuildNext();
  ASSERT_TRUE(built) << built.error().ToString();
  EXPECT_TRUE(*built);
  const ServerDelta row = Row(old_sha_);
  ASSERT_EQ(row.state, BuildState::kReady) << row.error;
  EXPECT_EQ(row.source_target, "os-1.0.img.zst");
  auto again = service_->BuildNext();
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);  // nothing else queued

  auto ref = service_->Offer(To(), old_sha_);
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->target, core::uptane::DeltaTargetName("os-2.0.img.zst", old_sha_));
  ASSERT_TRUE(ref->server_built);
  EXPECT_EQ(ref->server_built->from_sha256, old_sha_);
  EXPECT_EQ(ref->server_built->from_length, static_cast<std::int64_t>(old_image_.size()));
  EXPECT_EQ(ref->server_built->to_sha256, new_sha_);
  EXPECT_EQ(ref->server_built->to_length, static_cast<std::int64_t>(new_image_.size()));

  // The pointer names a stored blob that really is the patch from the old to the new image,
  // and smaller than the full artifact.
  auto reader = blobs_->Open(ref->file.hashes.at("sha256"));
  ASSERT_TRUE(reader);
  Bytes patch((*reader)->info().size);
  ASSERT_TRUE((*reader)->ReadAt(0, patch));
  EXPECT_EQ(static_cast<std::int64_t>(patch.size()), ref->file.length);
  EXPECT_LT(ref->file.length, releases_.list[1].target.length);
  core::io::BytesWriter out(new_image_.size());
  ASSERT_TRUE(core::delta::ApplyPatch(old_image_, patch, out));
  EXPECT_EQ(out.bytes(), new_image_);

  const auto records = AuditRecords();
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records.back().action, "delta.build");
  EXPECT_EQ(records.back().outcome, audit::Outcome::kSuccess);
  // The scratch images are gone.
  EXPECT_TRUE(std::filesystem::is_empty(dir_ / "delta-work"));
}

TEST_F(DeltaServiceTest, AnImageTheServerDoesNotHoldFailsWithAReasonAndIsRetriedLater) {
  const std::string unknown = Sha256Hex(ToBytes("an image built elsewhere"));
  EXPECT_FALSE(service_->Offer(To(), unknown));
  ASSERT_TRUE(service_->BuildNext());
  ServerDelta row = Row(unknown);
  EXPECT_EQ(row.state, BuildState::kFailed);
  EXPECT_NE(row.error.find("only from images it holds"), std::string::npos) << row.error;
  EXPECT_EQ(AuditRecords().back().outcome, audit::Outcome::kFailure);

  EXPECT_FALSE(service_->Offer(To(), unknown));
  EXPECT_EQ(Row(unknown).state, BuildState::kFailed);  // not retried at once
  clock_.Advance(std::chrono::hours(2));
  EXPECT_FALSE(service_->Offer(To(), unknown));
  EXPECT_EQ(Row(unknown).state, BuildState::kQueued);
}

TEST_F(DeltaServiceTest, AStoredArtifactThatIsNotTheSignedOneIsNeverUsed) {
  // Someone with access to the blob directory swaps the old release's bytes.
  const auto path = blobs_->PathFor(releases_.list[0].sha256);
  ::chmod(path.c_str(), 0600);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(20);
    f.put('\x5a');
  }
  EXPECT_FALSE(service_->Offer(To(), old_sha_));
  ASSERT_TRUE(service_->BuildNext());
  const ServerDelta row = Row(old_sha_);
  EXPECT_EQ(row.state, BuildState::kFailed);
  EXPECT_NE(row.error.find("os-1.0.img.zst"), std::string::npos) << row.error;
  EXPECT_FALSE(service_->Offer(To(), old_sha_));
}

TEST_F(DeltaServiceTest, AReleaseReSignedWithAnotherImageIsBuiltAgain) {
  EXPECT_FALSE(service_->Offer(To(), old_sha_));
  ASSERT_TRUE(service_->BuildNext());
  DeltaTarget resigned = To();
  const std::string other = Sha256Hex(ToBytes("another 2.0"));
  resigned.image_sha256 = other;
  EXPECT_FALSE(service_->Offer(resigned, old_sha_));
  EXPECT_EQ(Row(old_sha_).state, BuildState::kQueued);
}

TEST_F(DeltaServiceTest, APatchNoSmallerThanTheArtifactIsRefused) {
  // Unrelated random images: the patch cannot beat the compressed full image.
  Bytes a(64 * 1024);
  Bytes b(64 * 1024);
  std::uint32_t x = 12345;
  for (auto& byte : a) byte = static_cast<std::uint8_t>((x = x * 1103515245 + 12345) >> 16);
  for (auto& byte : b) byte = static_cast<std::uint8_t>((x = x * 1103515245 + 12345) >> 16);
  Publish("noise-1.img.zst", "n1", a);
  Publish("noise-2.img.zst", "n2", b);
  const DeltaTarget to{"noise-2.img.zst", Sha256Hex(b)};
  EXPECT_FALSE(service_->Offer(to, Sha256Hex(a)));
  ASSERT_TRUE(service_->BuildNext());
  auto row = store_->Get("noise-2.img.zst", Sha256Hex(a));
  ASSERT_TRUE(row && *row);
  EXPECT_EQ((*row)->state, BuildState::kFailed);
  EXPECT_NE((*row)->error.find("no smaller than the full artifact"), std::string::npos)
      << (*row)->error;
}

TEST_F(DeltaServiceTest, CancelLeavesTheRequestQueued) {
  EXPECT_FALSE(service_->Offer(To(), old_sha_));
  service_->Cancel();
  auto built = service_->BuildNext();
  ASSERT_TRUE(built);
  EXPECT_FALSE(*built);
  EXPECT_EQ(Row(old_sha_).state, BuildState::kQueued);
}

TEST_F(DeltaServiceTest, PrepareQueuesTheFleetsImagesAhead) {
  std::string upper = old_sha_;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  service_->Prepare(To(), {upper, new_sha_, "junk", old_sha_});
  auto listed = service_->List(10);
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);  // the old image once; the release's own image and junk not
  EXPECT_EQ(listed->front().from_sha256, old_sha_);
  ASSERT_TRUE(service_->BuildNext());
  EXPECT_TRUE(service_->Offer(To(), old_sha_));  // ready when the first device asks
}

TEST_F(DeltaServiceTest, DisabledOrPointlessRequestsQueueNothing) {
  EXPECT_FALSE(service_->Offer(To(), new_sha_));  // the device runs the release already
  EXPECT_FALSE(service_->Offer(To(), "not-a-digest"));
  enabled_ = false;
  MakeService();
  EXPECT_FALSE(service_->Offer(To(), old_sha_));
  service_->Prepare(To(), {old_sha_});
  auto listed = service_->List(10);
  ASSERT_TRUE(listed);
  EXPECT_TRUE(listed->empty());
}

}  // namespace
}  // namespace aloft::server::deltas

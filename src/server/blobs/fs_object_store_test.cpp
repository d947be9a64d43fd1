#include "server/blobs/fs_object_store.hpp"

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "core/crypto/hash.hpp"
#include "core/io/writer.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::server::blobs {
namespace {

using core::crypto::Sha256Hex;

class FsObjectStoreTest : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    root_ = dir_ / "blobs";
    auto store = FsObjectStore::Create(root_);
    ASSERT_TRUE(store) << store.error().ToString();
    store_ = std::move(*store);
  }

  Result<BlobInfo> Upload(std::string_view content, std::uint64_t max_bytes = 1 << 20,
                          std::optional<std::string_view> expected = std::nullopt) {
    auto upload = store_->BeginUpload(max_bytes);
    if (!upload) return Fail(upload.error());
    if (Status s = (*upload)->Write(AsBytes(content)); !s) return Fail(s.error());
    return (*upload)->Commit(expected);
  }

  // Regular files anywhere under `dir`.
  static std::vector<std::filesystem::path> FilesUnder(const std::filesystem::path& dir) {
    std::vector<std::filesystem::path> out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
      if (e.is_regular_file()) out.push_back(e.path());
    }
    return out;
  }

  std::filesystem::path root_;
  std::unique_ptr<FsObjectStore> store_;
};

mode_t ModeOf(const std::filesystem::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

std::string ReadAll(BlobReader& reader) {
  core::io::BytesWriter out(1 << 24);
  auto s = CopyRange(reader, 0, reader.info().size, out);
  EXPECT_TRUE(s) << s.error().ToString();
  return ToString(out.bytes());
}

TEST_F(FsObjectStoreTest, UploadStatOpenReadRemove) {
  const std::string content = "firmware image v1.2.3";
  const std::string id = Sha256Hex(AsBytes(content));
  auto info = Upload(content);
  ASSERT_TRUE(info) << info.error().ToString();
  EXPECT_EQ(info->sha256, id);
  EXPECT_EQ(info->size, content.size());
  EXPECT_TRUE(
      std::filesystem::is_regular_file(root_ / "sha256" / id.substr(0, 2) / id.substr(2, 2) / id));
  EXPECT_EQ(store_->PathFor(id), root_ / "sha256" / id.substr(0, 2) / id.substr(2, 2) / id);

  auto stat = store_->Stat(id);
  ASSERT_TRUE(stat) << stat.error().ToString();
  EXPECT_EQ(*stat, *info);

  auto reader = store_->Open(id);
  ASSERT_TRUE(reader) << reader.error().ToString();
  EXPECT_EQ((*reader)->info(), *info);
  EXPECT_GE((*reader)->NativeFd(), 0);
  EXPECT_EQ(ReadAll(**reader), content);

  // Ranges, as an HTTP Range request would ask for them.
  std::uint8_t buf[8] = {};
  auto n = (*reader)->ReadAt(9, buf);
  ASSERT_TRUE(n);
  EXPECT_EQ(ToString(ByteView(buf, *n)), "image v1");
  n = (*reader)->ReadAt(content.size() - 3, buf);
  ASSERT_TRUE(n);
  EXPECT_EQ(ToString(ByteView(buf, *n)), "2.3");
  n = (*reader)->ReadAt(content.size() + 100, buf);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 0u);
  core::io::BytesWriter range(100);
  ASSERT_TRUE(CopyRange(**reader, 0, 8, range));
  EXPECT_EQ(ToString(range.bytes()), "firmware");
  auto outside = CopyRange(**reader, 10, content.size(), range);
  ASSERT_FALSE(outside);
  EXPECT_EQ(outside.error().code(), Errc::kInvalidArgument);

  auto list = store_->List();
  ASSERT_TRUE(list);
  EXPECT_EQ(*list, std::vector<BlobInfo>{*info});

  ASSERT_TRUE(store_->Remove(id));
  // An open reader keeps the content it opened.
  EXPECT_EQ(ReadAll(**reader), content);
  EXPECT_EQ(store_->Stat(id).error().code(), Errc::kNotFound);
  EXPECT_EQ(store_->Open(id).error().code(), Errc::kNotFound);
  EXPECT_EQ(store_->Remove(id).error().code(), Errc::kNotFound);
  list = store_->List();
  ASSERT_TRUE(list);
  EXPECT_TRUE(list->empty());
}

TEST_F(FsObjectStoreTest, EmptyBlob) {
  auto info = Upload("");
  ASSERT_TRUE(info) << info.error().ToString();
  EXPECT_EQ(info->sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(info->size, 0u);
  auto reader = store_->Open(info->sha256);
  ASSERT_TRUE(reader);
  EXPECT_EQ(ReadAll(**reader), "");
}

TEST_F(FsObjectStoreTest, StreamsInManyChunks) {
  std::string content;
  for (int i = 0; i < 300000; ++i) content += static_cast<char>('a' + i % 26 + (i / 7) % 3);
  auto upload = store_->BeginUpload(content.size());  // exactly at the cap is allowed
  ASSERT_TRUE(upload);
  std::size_t at = 0;
  for (std::size_t chunk = 1; at < content.size(); chunk = chunk * 3 % 8191 + 1) {
    const std::size_t n = std::min(chunk, content.size() - at);
    ASSERT_TRUE((*upload)->Write(AsBytes(std::string_view(content).substr(at, n))));
    at += n;
  }
  const std::string id = Sha256Hex(AsBytes(content));
  auto info = (*upload)->Commit(id);
  ASSERT_TRUE(info) << info.error().ToString();
  EXPECT_EQ(info->sha256, id);
  auto reader = store_->Open(id);
  ASSERT_TRUE(reader);
  EXPECT_EQ(ReadAll(**reader), content);
}

TEST_F(FsObjectStoreTest, CapExceededStoresNothing) {
  auto upload = store_->BeginUpload(10);
  ASSERT_TRUE(upload);
  ASSERT_TRUE((*upload)->Write(AsBytes("12345")));
  auto over = (*upload)->Write(AsBytes("678901"));
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code(), Errc::kTooLarge);
  // The upload is over: later calls fail, and nothing is left anywhere.
  EXPECT_FALSE((*upload)->Write(AsBytes("x")));
  EXPECT_FALSE((*upload)->Commit(std::nullopt));
  EXPECT_TRUE(FilesUnder(root_ / "tmp").empty());
  EXPECT_TRUE(FilesUnder(root_ / "sha256").empty());
}

TEST_F(FsObjectStoreTest, HashMismatchStoresNothing) {
  const std::string other = Sha256Hex(AsBytes("something else"));
  auto info = Upload("the real content", 100, other);
  ASSERT_FALSE(info);
  EXPECT_EQ(info.error().code(), Errc::kVerificationFailed) << info.error().ToString();
  EXPECT_TRUE(FilesUnder(root_ / "tmp").empty());
  EXPECT_TRUE(FilesUnder(root_ / "sha256").empty());
  EXPECT_EQ(store_->Stat(Sha256Hex(AsBytes("the real content"))).error().code(), Errc::kNotFound);
}

TEST_F(FsObjectStoreTest, DuplicateUploadIsIdempotent) {
  auto first = Upload("same bytes");
  ASSERT_TRUE(first);
  auto second = Upload("same bytes");
  ASSERT_TRUE(second) << second.error().ToString();
  EXPECT_EQ(*first, *second);
  EXPECT_EQ(FilesUnder(root_ / "sha256").size(), 1u);
  EXPECT_TRUE(FilesUnder(root_ / "tmp").empty());
}

TEST_F(FsObjectStoreTest, DamagedExistingBlobIsReplacedByAGoodUpload) {
  auto first = Upload("complete content");
  ASSERT_TRUE(first);
  ASSERT_EQ(::truncate(store_->PathFor(first->sha256).c_str(), 3), 0);
  auto again = Upload("complete content");
  ASSERT_TRUE(again);
  auto reader = store_->Open(first->sha256);
  ASSERT_TRUE(reader);
  EXPECT_EQ(ReadAll(**reader), "complete content");
}

TEST_F(FsObjectStoreTest, InvalidIdsAreRejectedEverywhere) {
  ASSERT_TRUE(Upload("x"));
  const std::string valid = Sha256Hex(AsBytes("x"));
  std::string upper = valid;
  upper[0] = 'A';
  upper[1] = 'B';
  const std::string bad_ids[] = {
      "../../etc/passwd",
      "",
      valid.substr(0, 63),
      valid + "0",
      upper,
      std::string(64, 'g'),
      "../" + valid.substr(3),
      valid.substr(0, 32) + "/" + valid.substr(33),
      std::string(valid.substr(0, 63)) + std::string(1, '\0'),
  };
  for (const std::string& id : bad_ids) {
    SCOPED_TRACE(id);
    EXPECT_EQ(store_->Stat(id).error().code(), Errc::kInvalidArgument);
    EXPECT_EQ(store_->Open(id).error().code(), Errc::kInvalidArgument);
    EXPECT_EQ(store_->Remove(id).error().code(), Errc::kInvalidArgument);
    auto upload = store_->BeginUpload(10);
    ASSERT_TRUE(upload);
    ASSERT_TRUE((*upload)->Write(AsBytes("x")));
    auto commit = (*upload)->Commit(id);
    ASSERT_FALSE(commit);
    EXPECT_EQ(commit.error().code(), Errc::kInvalidArgument);
    EXPECT_EQ(commit.error().message().find('\0'), std::string::npos);
  }
  EXPECT_TRUE(store_->Stat(valid));  // the real blob is untouched
  EXPECT_TRUE(FilesUnder(root_ / "tmp").empty());
}

TEST_F(FsObjectStoreTest, ConcurrentUploadsOfTheSameContentEndWithOneBlob) {
  const std::string content(200000, 'z');
  std::vector<std::thread> threads;
  std::vector<Result<BlobInfo>> results(4, Fail(Errc::kInternal, "not run"));
  for (std::size_t t = 0; t < results.size(); ++t) {
    threads.emplace_back([&, t] {
      auto upload = store_->BeginUpload(content.size());
      ASSERT_TRUE(upload);
      for (std::size_t at = 0; at < content.size(); at += 1000) {
        ASSERT_TRUE((*upload)->Write(AsBytes(std::string_view(content).substr(at, 1000))));
      }
      results[t] = (*upload)->Commit(std::nullopt);
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& r : results) {
    ASSERT_TRUE(r) << r.error().ToString();
    EXPECT_EQ(r->sha256, Sha256Hex(AsBytes(content)));
  }
  EXPECT_EQ(FilesUnder(root_ / "sha256").size(), 1u);
  EXPECT_TRUE(FilesUnder(root_ / "tmp").empty());
}

TEST_F(FsObjectStoreTest, AbandonedUploadLeavesNothing) {
  {
    auto upload = store_->BeginUpload(100);
    ASSERT_TRUE(upload);
    ASSERT_TRUE((*upload)->Write(AsBytes("half")));
    EXPECT_EQ(FilesUnder(root_ / "tmp").size(), 1u);
    EXPECT_TRUE(store_->List()->empty());  // not visible before Commit
  }
  EXPECT_TRUE(FilesUnder(root_ / "tmp").empty());
  EXPECT_TRUE(FilesUnder(root_ / "sha256").empty());
}

TEST_F(FsObjectStoreTest, ReopenRemovesStaleUploadsAndIsExclusive) {
  ASSERT_TRUE(Upload("kept"));
  std::ofstream(root_ / "tmp" / "upload-0123456789abcdef") << "crashed mid-upload";
  auto second = FsObjectStore::Create(root_);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code(), Errc::kUnavailable);

  store_.reset();
  auto reopened = FsObjectStore::Create(root_);
  ASSERT_TRUE(reopened) << reopened.error().ToString();
  EXPECT_TRUE(FilesUnder(root_ / "tmp").empty());
  EXPECT_TRUE((*reopened)->Stat(Sha256Hex(AsBytes("kept"))));
}

TEST_F(FsObjectStoreTest, ModesAreExactWhateverTheUmask) {
  store_.reset();
  const mode_t old_umask = ::umask(077);
  auto store = FsObjectStore::Create(dir_ / "private");
  ASSERT_TRUE(store);
  auto upload = (*store)->BeginUpload(10);
  ASSERT_TRUE(upload);
  ASSERT_TRUE((*upload)->Write(AsBytes("m")));
  auto info = (*upload)->Commit(std::nullopt);
  ::umask(old_umask);
  ASSERT_TRUE(info);
  const auto file = (*store)->PathFor(info->sha256);
  EXPECT_EQ(ModeOf(file), 0640u);
  EXPECT_EQ(ModeOf(file.parent_path()), 0750u);
  EXPECT_EQ(ModeOf(file.parent_path().parent_path()), 0750u);
  EXPECT_EQ(ModeOf(dir_ / "private" / "sha256"), 0750u);
  EXPECT_EQ(ModeOf(dir_ / "private" / "tmp"), 0750u);
  EXPECT_EQ(ModeOf(dir_ / "private"), 0750u);
}

TEST_F(FsObjectStoreTest, ListIgnoresForeignFiles) {
  auto a = Upload("a");
  auto b = Upload("b");
  ASSERT_TRUE(a && b);
  // A file with a valid id in the wrong fan-out directory, and junk.
  const std::string misplaced = Sha256Hex(AsBytes("c"));
  std::ofstream(store_->PathFor(a->sha256).parent_path() / misplaced) << "c";
  std::ofstream(store_->PathFor(a->sha256).parent_path() / "README") << "junk";
  auto list = store_->List();
  ASSERT_TRUE(list) << list.error().ToString();
  std::vector<BlobInfo> expected = {*a, *b};
  std::sort(expected.begin(), expected.end(),
            [](const BlobInfo& x, const BlobInfo& y) { return x.sha256 < y.sha256; });
  EXPECT_EQ(*list, expected);
}

// Disk full, for real: the store lives on a 256 KiB tmpfs. Needs CAP_SYS_ADMIN (root in the
// build container); skipped elsewhere.
class TmpfsMount {
 public:
  explicit TmpfsMount(std::filesystem::path dir) : dir_(std::move(dir)) {
    std::filesystem::create_directories(dir_);
    mounted_ = ::mount("tmpfs", dir_.c_str(), "tmpfs", 0, "size=256k,mode=0700") == 0;
    errno_ = errno;
  }
  ~TmpfsMount() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;
  bool mounted() const { return mounted_; }
  int error() const { return errno_; }

 private:
  std::filesystem::path dir_;
  bool mounted_ = false;
  int errno_ = 0;
};

TEST_F(FsObjectStoreTest, DiskFullIsNoSpaceAndLeavesNothing) {
  TmpfsMount mount(dir_ / "small");
  if (!mount.mounted()) {
    GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(mount.error());
  }
  auto store = FsObjectStore::Create(dir_ / "small" / "blobs");
  ASSERT_TRUE(store) << store.error().ToString();
  auto small = [&](std::string_view content) -> Result<BlobInfo> {
    auto upload = (*store)->BeginUpload(1 << 20);
    if (!upload) return Fail(upload.error());
    if (Status s = (*upload)->Write(AsBytes(content)); !s) return Fail(s.error());
    return (*upload)->Commit(std::nullopt);
  };
  ASSERT_TRUE(small("fits"));

  auto upload = (*store)->BeginUpload(1 << 20);
  ASSERT_TRUE(upload);
  const std::string chunk(16 * 1024, 'f');
  Status status = Ok();
  for (int i = 0; i < 64 && status; ++i) status = (*upload)->Write(AsBytes(chunk));
  ASSERT_FALSE(status) << "256 KiB tmpfs accepted 1 MiB";
  EXPECT_EQ(status.error().code(), Errc::kNoSpace) << status.error().ToString();
  upload->reset();

  EXPECT_TRUE(FilesUnder(dir_ / "small" / "blobs" / "tmp").empty());
  auto list = (*store)->List();
  ASSERT_TRUE(list);
  EXPECT_EQ(list->size(), 1u);  // only "fits"
  // The space came back: the store still works.
  EXPECT_TRUE(small("after the failure"));
}

}  // namespace
}  // namespace aloft::server::blobs

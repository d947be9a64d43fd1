#include "server/blobs/fs_object_store.hpp"

#include <fcntl.h>
#include <stdio.h>  // renameat2, RENAME_NOREPLACE (glibc, _GNU_SOURCE)
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <limits>
#include <mutex>
#include <system_error>
#include <utility>

#include "core/base/hex.hpp"
#include "core/crypto/hash.hpp"
#include "platform/posix/files.hpp"
#include "platform/posix/unique_fd.hpp"

namespace aloft::server::blobs {
namespace {

using platform::posix::ErrnoError;
using platform::posix::FsyncDirectory;
using platform::posix::FsyncRetrying;
using platform::posix::OpenRetrying;
using platform::posix::UniqueFd;
using platform::posix::WriteAll;

constexpr mode_t kFileMode = 0640;
constexpr mode_t kDirMode = 0750;
constexpr std::string_view kTempPrefix = "upload-";

// Makes `dir` a directory with mode kDirMode. Returns true in `created` when it did not exist,
// so the caller can fsync the parent to make the new entry durable.
Status EnsureDirectory(const std::filesystem::path& dir, bool* created = nullptr) {
  if (created != nullptr) *created = false;
  if (::mkdir(dir.c_str(), kDirMode) == 0) {
    if (created != nullptr) *created = true;
    // mkdir applied the umask; set the exact mode.
    if (::chmod(dir.c_str(), kDirMode) < 0) return Fail(ErrnoError(errno, "chmod", dir));
    return Ok();
  }
  if (errno != EEXIST) return Fail(ErrnoError(errno, "create directory", dir));
  struct stat st {};
  if (::stat(dir.c_str(), &st) < 0) return Fail(ErrnoError(errno, "stat", dir));
  if (!S_ISDIR(st.st_mode)) return Fail(Errc::kIo, dir.string() + " is not a directory");
  return Ok();
}

// Creates <parent>/<name> when missing and fsyncs <parent> if it did.
Status EnsureDurableDirectory(const std::filesystem::path& parent, std::string_view name) {
  bool created = false;
  if (Status s = EnsureDirectory(parent / name, &created); !s) return s;
  return created ? FsyncDirectory(parent) : Ok();
}

}  // namespace

struct FsObjectStoreState {
  std::filesystem::path root;
  std::filesystem::path blobs;  // root/sha256
  std::filesystem::path tmp;    // root/tmp
  // Held (flock) for as long as the store or any of its uploads lives.
  UniqueFd lock;
  // Serialises publishing (Commit's rename) with Remove, so that a Commit that found its
  // content already present cannot report success while a concurrent Remove deletes it.
  std::mutex publish_mutex;

  std::filesystem::path PathFor(std::string_view id) const {
    return blobs / id.substr(0, 2) / id.substr(2, 2) / id;
  }
};

namespace {

class FsBlobUpload final : public BlobUpload {
 public:
  FsBlobUpload(std::shared_ptr<FsObjectStoreState> shared, std::filesystem::path temp, UniqueFd fd,
               std::uint64_t max_bytes)
      : shared_(std::move(shared)),
        temp_(std::move(temp)),
        fd_(std::move(fd)),
        max_bytes_(max_bytes) {}
  FsBlobUpload(const FsBlobUpload&) = delete;
  FsBlobUpload& operator=(const FsBlobUpload&) = delete;
  ~FsBlobUpload() override { Abort(); }

  Status Write(ByteView data) override {
    if (!fd_.valid()) return Fail(Errc::kInternal, "write to a finished upload");
    if (data.size() > max_bytes_ - written_) {
      Abort();
      return Fail(Errc::kTooLarge,
                  "upload exceeds its limit of " + std::to_string(max_bytes_) + " bytes");
    }
    hasher_.Update(data);
    written_ += data.size();
    Status written = WriteAll(fd_.get(), data, temp_);
    if (!written) Abort();
    return written;
  }

  Result<BlobInfo> Commit(std::optional<std::string_view> expected_sha256) override {
    if (!fd_.valid()) return Fail(Errc::kInternal, "commit of a finished upload");
    auto fail = [this](Error error) -> Result<BlobInfo> {
      Abort();
      return Fail(std::move(error));
    };
    if (expected_sha256) {
      if (Status s = ValidateBlobId(*expected_sha256); !s) {
        return fail(std::move(s).error().WithContext("expected hash"));
      }
    }
    BlobInfo info{HexEncode(hasher_.Finish()), written_};
    if (expected_sha256 && *expected_sha256 != info.sha256) {
      return fail(Error(Errc::kVerificationFailed, "uploaded content has SHA-256 " + info.sha256 +
                                                       ", expected " +
                                                       std::string(*expected_sha256)));
    }
    if (FsyncRetrying(fd_.get()) < 0) return fail(ErrnoError(errno, "fsync", temp_));
    if (fd_.Close() < 0) return fail(ErrnoError(errno, "close", temp_));

    const std::string_view id = info.sha256;
    const std::filesystem::path level1 = shared_->blobs / id.substr(0, 2);
    const std::filesystem::path level2 = level1 / id.substr(2, 2);
    if (Status s = EnsureDurableDirectory(shared_->blobs, id.substr(0, 2)); !s) {
      return fail(std::move(s).error());
    }
    if (Status s = EnsureDurableDirectory(level1, id.substr(2, 2)); !s) {
      return fail(std::move(s).error());
    }
    const std::filesystem::path final_path = level2 / id;

    std::lock_guard lock(shared_->publish_mutex);
    // RENAME_NOREPLACE makes "already stored" an atomic answer, so concurrent uploads of the
    // same content end with one file and no needless directory fsync.
    if (::renameat2(AT_FDCWD, temp_.c_str(), AT_FDCWD, final_path.c_str(), RENAME_NOREPLACE) < 0) {
      const int err = errno;
      bool replace = err == EINVAL || err == ENOSYS;  // file system without NOREPLACE
      if (err == EEXIST) {
        struct stat st {};
        // Same name means same content unless the stored file was damaged (truncated by
        // something outside this program); a size mismatch is the damage we can see cheaply.
        replace = ::stat(final_path.c_str(), &st) == 0 &&
                  static_cast<std::uint64_t>(st.st_size) != info.size;
        if (!replace) {
          Abort();  // dedupe: the blob is already there
          return info;
        }
      }
      if (!replace) return fail(ErrnoError(err, "rename " + temp_.string() + " to", final_path));
      if (::rename(temp_.c_str(), final_path.c_str()) < 0) {
        return fail(ErrnoError(errno, "rename " + temp_.string() + " to", final_path));
      }
    }
    temp_.clear();  // published: nothing to clean up any more
    if (Status s = FsyncDirectory(level2); !s) return Fail(std::move(s).error());
    return info;
  }

 private:
  void Abort() noexcept {
    fd_.Reset();
    if (!temp_.empty()) ::unlink(temp_.c_str());
    temp_.clear();
  }

  std::shared_ptr<FsObjectStoreState> shared_;
  std::filesystem::path temp_;  // empty once published or discarded
  UniqueFd fd_;                 // invalid once committed or aborted
  std::uint64_t max_bytes_ = 0;
  std::uint64_t written_ = 0;
  core::crypto::Hasher hasher_{core::crypto::HashAlgorithm::kSha256};
};

class FsBlobReader final : public BlobReader {
 public:
  FsBlobReader(BlobInfo info, UniqueFd fd, std::filesystem::path path)
      : info_(std::move(info)), fd_(std::move(fd)), path_(std::move(path)) {}

  const BlobInfo& info() const noexcept override { return info_; }
  int NativeFd() const noexcept override { return fd_.get(); }

  Result<std::size_t> ReadAt(std::uint64_t offset, std::span<std::uint8_t> out) override {
    std::size_t total = 0;
    while (total < out.size()) {
      const std::uint64_t at = offset + total;
      if (at >= info_.size) break;
      if (at > static_cast<std::uint64_t>(std::numeric_limits<off_t>::max())) break;
      const ssize_t n =
          ::pread(fd_.get(), out.data() + total, out.size() - total, static_cast<off_t>(at));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Fail(ErrnoError(errno, "read", path_));
      if (n == 0) break;
      total += static_cast<std::size_t>(n);
    }
    return total;
  }

 private:
  BlobInfo info_;
  UniqueFd fd_;
  std::filesystem::path path_;
};

}  // namespace

Result<std::unique_ptr<FsObjectStore>> FsObjectStore::Create(const std::filesystem::path& root) {
  auto shared = std::make_shared<FsObjectStoreState>();
  shared->root = root;
  shared->blobs = root / "sha256";
  shared->tmp = root / "tmp";
  const std::string where = "open blob store " + root.string();

  std::error_code ec;
  if (root.has_parent_path()) std::filesystem::create_directories(root.parent_path(), ec);
  if (ec) return Fail(ErrnoError(ec.value(), "create directory", root.parent_path()));
  for (const auto& dir : {shared->root, shared->blobs, shared->tmp}) {
    if (Status s = EnsureDirectory(dir); !s) return Fail(std::move(s).error().WithContext(where));
  }

  const std::filesystem::path lock_path = root / "lock";
  shared->lock.Reset(
      OpenRetrying(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, kFileMode));
  if (!shared->lock.valid()) {
    return Fail(ErrnoError(errno, "open", lock_path).WithContext(where));
  }
  if (::flock(shared->lock.get(), LOCK_EX | LOCK_NB) < 0) {
    if (errno == EWOULDBLOCK) {
      return Fail(Errc::kUnavailable, where +
                                          ": another store (this or another process) has "
                                          "it open");
    }
    return Fail(ErrnoError(errno, "lock", lock_path).WithContext(where));
  }

  // We hold the lock, so anything in tmp/ is an upload a crash interrupted.
  for (std::filesystem::directory_iterator it(shared->tmp, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (::unlink(it->path().c_str()) < 0 && errno != ENOENT) {
      return Fail(ErrnoError(errno, "remove stale upload", it->path()).WithContext(where));
    }
  }
  if (ec) return Fail(ErrnoError(ec.value(), "list", shared->tmp).WithContext(where));
  return std::unique_ptr<FsObjectStore>(new FsObjectStore(std::move(shared)));
}

FsObjectStore::~FsObjectStore() = default;

const std::filesystem::path& FsObjectStore::root() const noexcept { return shared_->root; }

std::filesystem::path FsObjectStore::PathFor(std::string_view sha256) const {
  return shared_->PathFor(sha256);
}

Result<std::unique_ptr<BlobUpload>> FsObjectStore::BeginUpload(std::uint64_t max_bytes) {
  std::uint8_t random[16] = {};
  if (Status s = core::crypto::RandomBytes(random); !s) return Fail(std::move(s).error());
  std::filesystem::path temp = shared_->tmp / (std::string(kTempPrefix) + HexEncode(random));
  UniqueFd fd(
      OpenRetrying(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, kFileMode));
  if (!fd.valid()) return Fail(ErrnoError(errno, "create", temp));
  if (::fchmod(fd.get(), kFileMode) < 0) {
    Error error = ErrnoError(errno, "chmod", temp);
    ::unlink(temp.c_str());
    return Fail(std::move(error));
  }
  return std::unique_ptr<BlobUpload>(
      std::make_unique<FsBlobUpload>(shared_, std::move(temp), std::move(fd), max_bytes));
}

Result<BlobInfo> FsObjectStore::Stat(std::string_view sha256) {
  if (Status s = ValidateBlobId(sha256); !s) return Fail(std::move(s).error());
  const std::filesystem::path path = PathFor(sha256);
  struct stat st {};
  if (::stat(path.c_str(), &st) < 0) {
    if (errno == ENOENT) return Fail(Errc::kNotFound, "no blob " + std::string(sha256));
    return Fail(ErrnoError(errno, "stat", path));
  }
  if (!S_ISREG(st.st_mode)) return Fail(Errc::kCorrupt, path.string() + " is not a file");
  return BlobInfo{std::string(sha256), static_cast<std::uint64_t>(st.st_size)};
}

Result<std::unique_ptr<BlobReader>> FsObjectStore::Open(std::string_view sha256) {
  if (Status s = ValidateBlobId(sha256); !s) return Fail(std::move(s).error());
  std::filesystem::path path = PathFor(sha256);
  UniqueFd fd(OpenRetrying(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY));
  if (!fd.valid()) {
    if (errno == ENOENT) return Fail(Errc::kNotFound, "no blob " + std::string(sha256));
    return Fail(ErrnoError(errno, "open", path));
  }
  // Size from the descriptor, not the path: it describes exactly the file we will read.
  struct stat st {};
  if (::fstat(fd.get(), &st) < 0) return Fail(ErrnoError(errno, "stat", path));
  if (!S_ISREG(st.st_mode)) return Fail(Errc::kCorrupt, path.string() + " is not a file");
  BlobInfo info{std::string(sha256), static_cast<std::uint64_t>(st.st_size)};
  return std::unique_ptr<BlobReader>(
      std::make_unique<FsBlobReader>(std::move(info), std::move(fd), std::move(path)));
}

Status FsObjectStore::Remove(std::string_view sha256) {
  if (Status s = ValidateBlobId(sha256); !s) return s;
  const std::filesystem::path path = PathFor(sha256);
  {
    std::lock_guard lock(shared_->publish_mutex);
    if (::unlink(path.c_str()) < 0) {
      if (errno == ENOENT) return Fail(Errc::kNotFound, "no blob " + std::string(sha256));
      return Fail(ErrnoError(errno, "remove", path));
    }
  }
  return FsyncDirectory(path.parent_path());
}

Result<std::vector<BlobInfo>> FsObjectStore::List() {
  // The names in `dir` that are `length` characters long.
  auto names = [](const std::filesystem::path& dir,
                  std::size_t length) -> Result<std::vector<std::string>> {
    std::vector<std::string> out;
    std::error_code ec;
    for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (name.size() == length) out.push_back(std::move(name));
    }
    // A fan-out directory removed under us by hand simply has no blobs.
    if (ec && ec.value() != ENOENT) return Fail(ErrnoError(ec.value(), "list", dir));
    return out;
  };

  std::vector<BlobInfo> out;
  auto level1 = names(shared_->blobs, 2);
  if (!level1) return Fail(std::move(level1).error());
  for (const std::string& a : *level1) {
    auto level2 = names(shared_->blobs / a, 2);
    if (!level2) return Fail(std::move(level2).error());
    for (const std::string& b : *level2) {
      const std::filesystem::path dir = shared_->blobs / a / b;
      auto ids = names(dir, 64);
      if (!ids) return Fail(std::move(ids).error());
      for (std::string& id : *ids) {
        // Only names a Commit could have produced, in the directory it would have used.
        if (!ValidateBlobId(id) || id.compare(0, 2, a) != 0 || id.compare(2, 2, b) != 0) {
          continue;
        }
        struct stat st {};
        if (::lstat((dir / id).c_str(), &st) < 0 || !S_ISREG(st.st_mode)) continue;
        out.push_back({std::move(id), static_cast<std::uint64_t>(st.st_size)});
      }
    }
  }
  std::sort(out.begin(), out.end(),
            [](const BlobInfo& x, const BlobInfo& y) { return x.sha256 < y.sha256; });
  return out;
}

}  // namespace aloft::server::blobs

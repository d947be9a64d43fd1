#pragma once

// An ObjectStore in a local directory:
//
//   <root>/lock                     held with flock() while a store is open
//   <root>/tmp/upload-<random>      uploads in progress (removed by Open: see below)
//   <root>/sha256/ab/cd/abcd...     blob "abcd..." (two levels of fan-out by its first 4 digits)
//
// Uploads stream into tmp/ while being hashed; Commit() fsyncs the file, renames it into place
// under its hash (rename is atomic, so a reader sees the whole blob or none) and fsyncs the
// directory. A failed upload leaves nothing under sha256/. Files are created 0640 and
// directories 0750, whatever the umask, so the server's group (e.g. a proxy serving files)
// can read them and others cannot.
//
// One process owns a root at a time: Create() takes an exclusive flock on <root>/lock and fails
// with kUnavailable when another store (in any process) holds it. That is what makes it safe
// for Create() to delete everything in tmp/, which only a crash can have left there. The lock
// is released when the store and every upload it began are gone.
//
// Empty fan-out directories are left in place after Remove() (at most 65,536 of them), so
// Remove() never races with a Commit() creating the same directory.

#include <filesystem>
#include <memory>
#include <string_view>
#include <utility>

#include "core/base/result.hpp"
#include "server/blobs/object_store.hpp"

namespace aloft::server::blobs {

struct FsObjectStoreState;  // defined in the .cpp

class FsObjectStore final : public ObjectStore {
 public:
  // Creates <root> (and parents), tmp/ and sha256/ as needed, takes the lock and deletes
  // stale uploads. kUnavailable if the root is in use; kIo / kNoSpace otherwise.
  static Result<std::unique_ptr<FsObjectStore>> Create(const std::filesystem::path& root);

  ~FsObjectStore() override;
  FsObjectStore(const FsObjectStore&) = delete;
  FsObjectStore& operator=(const FsObjectStore&) = delete;

  Result<std::unique_ptr<BlobUpload>> BeginUpload(std::uint64_t max_bytes) override;
  Result<BlobInfo> Stat(std::string_view sha256) override;
  Result<std::unique_ptr<BlobReader>> Open(std::string_view sha256) override;
  Status Remove(std::string_view sha256) override;
  Result<std::vector<BlobInfo>> List() override;

  // Where blob `sha256` lives (which must be a valid id), for tools and tests.
  std::filesystem::path PathFor(std::string_view sha256) const;
  const std::filesystem::path& root() const noexcept;

 private:
  explicit FsObjectStore(std::shared_ptr<FsObjectStoreState> shared) : shared_(std::move(shared)) {}

  // Shared with uploads, which may outlive the store (and keep the root locked meanwhile).
  std::shared_ptr<FsObjectStoreState> shared_;
};

}  // namespace aloft::server::blobs

#pragma once

// The server's artifact storage: immutable blobs named by the SHA-256 of their content.
//
// The store, not the client, names a blob: an upload streams in, is hashed on the way, and is
// stored under the hash it turned out to have. So a blob's id is also its integrity check,
// uploading the same bytes twice stores them once, and no caller-chosen name ever reaches a
// path. Ids are exactly 64 lower-case hex digits; every method rejects anything else with
// kInvalidArgument before touching storage (this is the path-traversal defence).
//
// Implementations: FsObjectStore (local directory). An S3-compatible one is planned, so this
// interface names no file-system types.
//
// Thread-safety: every ObjectStore method may be called from any thread concurrently. A
// BlobUpload or BlobReader is used by one thread at a time. Uploads and readers may outlive
// the store object that made them.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"
#include "core/io/writer.hpp"

namespace aloft::server::blobs {

struct BlobInfo {
  std::string sha256;  // 64 lower-case hex digits
  std::uint64_t size = 0;

  friend bool operator==(const BlobInfo&, const BlobInfo&) = default;
};

// Ok when `sha256` is exactly 64 lower-case hex digits; kInvalidArgument otherwise. The
// message quotes at most a short, sanitised prefix of the input.
Status ValidateBlobId(std::string_view sha256);

// An upload in progress. Write() streams the content (core::io::Writer); Commit() stores it.
// Destroying an upload that was not committed discards everything written, as does any failed
// Write() or Commit(): after a failure, start a new upload.
class BlobUpload : public core::io::Writer {
 public:
  // Write() fails with kTooLarge once more than the upload's max_bytes arrive, kNoSpace when
  // storage is full, kIo otherwise. Nothing is visible to Stat/Open/List until Commit().

  // Makes the content a blob and returns its id and size. When `expected_sha256` is given and
  // the content hashes to something else: kVerificationFailed, nothing stored. A malformed
  // `expected_sha256` is kInvalidArgument. Storing content that is already present succeeds
  // and keeps one copy. Once Commit() returns, the blob survives a crash.
  virtual Result<BlobInfo> Commit(std::optional<std::string_view> expected_sha256) = 0;
};

// Read access to one blob, as an HTTP layer needs it to serve byte ranges.
class BlobReader {
 public:
  virtual ~BlobReader() = default;

  virtual const BlobInfo& info() const noexcept = 0;

  // Reads up to out.size() bytes at `offset` and returns how many were read: fewer only at
  // the end of the blob, 0 at or past it. kIo on failure.
  virtual Result<std::size_t> ReadAt(std::uint64_t offset, std::span<std::uint8_t> out) = 0;

  // For zero-copy serving (sendfile/splice): a descriptor open for reading on the content,
  // owned by the reader and valid while it lives; use explicit offsets (pread, sendfile with an
  // offset pointer), never the file position. -1 when the content is not a local file; then
  // use ReadAt. The content behind it does not change, even if the blob is removed meanwhile.
  virtual int NativeFd() const noexcept { return -1; }
};

// Streams bytes [offset, offset + length) of the blob into `out`. kInvalidArgument when the
// range does not lie within the blob; kIo if the blob ends early; `out`'s own errors as is.
Status CopyRange(BlobReader& reader, std::uint64_t offset, std::uint64_t length,
                 core::io::Writer& out);

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // Starts an upload that may hold at most `max_bytes` bytes. kNoSpace / kIo.
  virtual Result<std::unique_ptr<BlobUpload>> BeginUpload(std::uint64_t max_bytes) = 0;

  // kNotFound when there is no such blob.
  virtual Result<BlobInfo> Stat(std::string_view sha256) = 0;

  // kNotFound when there is no such blob.
  virtual Result<std::unique_ptr<BlobReader>> Open(std::string_view sha256) = 0;

  // Deletes the blob; readers already open keep reading the old content. kNotFound when there
  // was no such blob. Callers that track references must make sure none remain: the store
  // counts none.
  virtual Status Remove(std::string_view sha256) = 0;

  // Every stored blob, ordered by id. A blob committed or removed during the call may or may
  // not appear.
  virtual Result<std::vector<BlobInfo>> List() = 0;
};

}  // namespace aloft::server::blobs

#pragma once

// Downloads one artifact into a Writer (the install pipeline) so that every byte reaches the
// writer exactly once and in order, whatever happens to the connection:
//
//   - an interrupted transfer (connection reset, stall, short body, 5xx) is resumed with
//     "Range: bytes=N-" after a back-off with jitter, up to `retries` times in a row without
//     progress; a server that ignores ranges gets a full request whose first N bytes are
//     skipped
//   - with a spool directory, the bytes are also appended to "<spool>/<sha256>.partial" (mode
//     0600 in a 0700 directory, fsynced every `checkpoint_bytes`, the fsynced length recorded
//     in "<sha256>.checkpoint"), by a worker thread with direct I/O, so that the spool costs
//     the download neither page-cache copies nor waits for the disk. After a power cut or a
//     restart, the next Run() replays the checkpointed prefix into the new pipeline, which
//     hashes it again, and fetches only the rest. Bytes past the checkpoint (and past its last
//     whole 4 KiB) are dropped: only what reached the disk for sure is trusted to be there, and
//     the signed hash still judges all of it at the end.
//   - at most `length` bytes (the signed length) are ever requested or accepted
//
// The writer's errors end the download at once (never retried: the same bytes would fail
// again). The spool costs disk space up to the artifact's (compressed) size while an install
// runs; without a spool directory an interruption is still resumed within Run(), but a
// restart starts over.
//
// Memory: with a spool, kSpoolBufferBytes (two aligned buffers, which the replay reads
// through too); the network path uses libcurl's.
// Thread-safety: none.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "agent/download/backoff.hpp"
#include "core/base/result.hpp"
#include "core/base/time.hpp"
#include "core/io/writer.hpp"
#include "platform/http/curl_fetcher.hpp"

namespace aloft::agent::download {

// A range-capable GET: the body of `url` from byte `offset` on (offset 0: a plain request),
// at most `max_bytes` of it, into `sink`. Errors as platform::http::CurlFetcher::FetchRange
// (kUnsupported when the server answered a range request with 200).
class RangeSource {
 public:
  virtual ~RangeSource() = default;
  virtual Status Get(const std::string& url, std::uint64_t offset, std::uint64_t max_bytes,
                     core::io::Writer& sink) = 0;
};

// RangeSource over a CurlFetcher (which must outlive it).
class CurlRangeSource final : public RangeSource {
 public:
  explicit CurlRangeSource(platform::http::CurlFetcher& fetcher) : fetcher_(fetcher) {}
  Status Get(const std::string& url, std::uint64_t offset, std::uint64_t max_bytes,
             core::io::Writer& sink) override;

 private:
  platform::http::CurlFetcher& fetcher_;
};

struct DownloadOptions {
  int retries = 5;  // consecutive failed attempts (no new byte) before giving up
  std::chrono::milliseconds retry_initial{1000};
  std::chrono::milliseconds retry_max{60'000};
  // The whole download, retries and back-off included (monotonic time).
  std::chrono::milliseconds deadline{std::chrono::hours(6)};
  // Where partial downloads are kept across restarts; none when unset.
  std::optional<std::filesystem::path> spool_dir;
  std::uint64_t checkpoint_bytes = std::uint64_t{4} << 20;
};

struct DownloadRequest {
  std::string url;
  std::uint64_t length = 0;  // the signed length: exactly this many bytes are delivered
  std::string sha256;        // 64 lower-case hex digits: names the spool files
};

struct DownloadStats {
  std::uint64_t replayed = 0;  // bytes replayed from the spool (offered, if the sink refused)
  int requests = 0;            // HTTP requests made
  int resumed = 0;             // of which range requests (offset > 0)
};

class ResumableDownload {
 public:
  static constexpr std::size_t kSpoolBufferBytes = 256 * 1024;

  // `source`, `clock` must outlive this object. `sleep` waits between attempts.
  ResumableDownload(RangeSource& source, const Clock& clock, SleepFn sleep,
                    DownloadOptions options);

  // Delivers exactly request.length bytes to `sink`. Errors:
  //   the sink's own error            as returned by sink.Write (never retried)
  //   kUnavailable / kTimeout         retries exhausted (the last transfer error), or the
  //                                   deadline passed
  //   kCancelled                      `sleep` or the source reported a stop request
  //   kNotFound, kInvalidArgument...  from the source, not retried
  //   kIo / kNoSpace                  the spool could not be written
  // On error the spool keeps its checkpointed prefix for the next Run (see Discard).
  Status Run(const DownloadRequest& request, core::io::Writer& sink);

  // Deletes the spool of `sha256` (after the install finished, or when its bytes must not be
  // trusted again, e.g. the artifact failed verification). Succeeds when there is none.
  Status Discard(const std::string& sha256);

  const DownloadStats& stats() const noexcept { return stats_; }

 private:
  RangeSource& source_;
  const Clock& clock_;
  SleepFn sleep_;
  DownloadOptions options_;
  DownloadStats stats_;
};

}  // namespace aloft::agent::download

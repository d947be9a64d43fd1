#include "agent/download/resumable_download.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <functional>
#include <system_error>
#include <utility>

#include "platform/posix/background_job.hpp"
#include "platform/posix/direct_file.hpp"
#include "platform/posix/files.hpp"
#include "platform/posix/unique_fd.hpp"

namespace aloft::agent::download {
namespace {

namespace fs = std::filesystem;
namespace posix = platform::posix;

constexpr std::size_t kMaxCheckpointFileBytes = 64;

bool IsSha256Hex(std::string_view s) {
  if (s.size() != 64) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool IsRetryable(Errc code) { return code == Errc::kUnavailable || code == Errc::kTimeout; }

// The partial download on disk: "<sha>.partial" (the bytes) and "<sha>.checkpoint" (how many
// of them were fsynced, in decimal).
//
// Appending must not hold up the download it protects: the download thread never waits for an
// fdatasync (a slow flash medium takes tens of milliseconds per checkpoint), and the artifact
// does not pass through the page cache (78 MB of dirty pages for a 256 MiB image, which a small
// device would have to write back under memory pressure while it installs). So the bytes are
// gathered into two aligned kChunkBytes buffers and written direct (platform::posix::DirectFile:
// O_DIRECT where the file system allows) by a worker thread, which also makes the checkpoints.
// Only whole DirectFile::kAlignment units ever reach the file: what is left in the buffer when a
// download stops is fetched again by the next run.
class Spool {
 public:
  static constexpr std::size_t kBufferCount = 2;
  static constexpr std::size_t kChunkBytes = ResumableDownload::kSpoolBufferBytes / kBufferCount;
  static constexpr std::size_t kUnit = posix::DirectFile::kAlignment;

  // Opens (creating) the spool of `sha256` in `dir` and cuts it to its checkpoint (in whole
  // units), never past `length`. Other downloads' spools in `dir` are deleted: only one install
  // runs at a time, and an abandoned deployment's bytes must not fill the disk.
  static Result<Spool> Open(const fs::path& dir, const std::string& sha256, std::uint64_t length,
                            std::uint64_t checkpoint_every) {
    if (Status made = posix::EnsurePrivateDirectory(dir); !made) return Fail(made.error());
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (!name.starts_with(sha256 + ".")) fs::remove(it->path(), ec);
    }
    const fs::path data_path = dir / (sha256 + ".partial");
    const fs::path checkpoint_path = dir / (sha256 + ".checkpoint");
    std::uint64_t trusted = 0;
    auto text = posix::ReadFile(checkpoint_path, kMaxCheckpointFileBytes);
    if (text) {
      const std::string_view digits = AsChars(*text);
      const auto [end, rc] = std::from_chars(digits.data(), digits.data() + digits.size(), trusted);
      if (rc != std::errc() || end != digits.data() + digits.size()) trusted = 0;
    }
    auto file = posix::DirectFile::Open(data_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (!file) return Fail(std::move(file).error());
    const int fd = file->fd();
    struct stat st {};
    if (::fstat(fd, &st) != 0) return Fail(posix::ErrnoError(errno, "stat", data_path));
    // A spool is ours only if nobody else can read it: downloaded data is root's alone.
    if ((st.st_mode & 077) != 0 && ::fchmod(fd, 0600) != 0) {
      return Fail(posix::ErrnoError(errno, "chmod", data_path));
    }
    trusted = std::min({trusted, static_cast<std::uint64_t>(st.st_size), length});
    trusted -= trusted % kUnit;  // appends go on direct, from a whole unit
    if (::ftruncate(fd, static_cast<off_t>(trusted)) != 0) {
      return Fail(posix::ErrnoError(errno, "truncate", data_path));
    }
    Spool spool(std::max<std::uint64_t>(checkpoint_every, 1));
    spool.disk_ = std::make_unique<Disk>(std::move(*file), checkpoint_path, trusted);
    for (auto& buffer : spool.buffers_) {
      buffer = posix::AllocateAligned(kChunkBytes);
      if (!buffer) return Fail(Errc::kInternal, "out of memory for the download spool");
    }
    spool.offset_ = trusted;
    spool.io_ = std::make_unique<posix::BackgroundJob>();
    return spool;
  }

  std::uint64_t size() const noexcept { return offset_ + fill_; }

  // Pushes the trusted prefix (all of size(), before any Append) into `sink`, read through the
  // spool's own buffer; `sink_failed` tells whose error it was.
  Status Replay(core::io::Writer& sink, bool& sink_failed) {
    std::uint8_t* buffer = buffers_[current_].get();
    std::uint64_t at = 0;
    while (at < offset_) {
      auto n = disk_->file.ReadAt(buffer, kChunkBytes, at);
      if (!n) return Fail(std::move(n).error());
      if (*n == 0) {
        return Fail(Errc::kIo, "read " + disk_->file.path().string() + ": shorter than expected");
      }
      const auto usable = static_cast<std::size_t>(std::min<std::uint64_t>(*n, offset_ - at));
      if (Status ok = sink.Write(ByteView(buffer, usable)); !ok) {
        sink_failed = true;
        return ok;
      }
      at += usable;
    }
    return Ok();
  }

  // Copies `data` into the buffer; each full buffer goes to the worker. Errors are the
  // worker's, from an earlier write or checkpoint.
  Status Append(ByteView data) {
    while (!data.empty()) {
      const std::size_t n = std::min(kChunkBytes - fill_, data.size());
      std::memcpy(buffers_[current_].get() + fill_, data.data(), n);
      fill_ += n;
      data = data.subspan(n);
      if (fill_ == kChunkBytes) {
        if (Status ok = Flush(kChunkBytes); !ok) return ok;
      }
    }
    return Ok();
  }

  // Writes the buffer's whole units, waits for every write, then makes them durable and
  // records their count. The rest of a unit stays in the buffer for later appends.
  Status Checkpoint() {
    if (Status ok = Flush(fill_ - fill_ % kUnit); !ok) return ok;
    if (Status ok = io_->Wait(); !ok) return ok;
    return disk_->Sync(offset_);
  }

 private:
  // What the worker touches, on the heap so that its address survives moving the spool.
  struct Disk {
    Disk(posix::DirectFile f, fs::path checkpoint, std::uint64_t trusted)
        : file(std::move(f)), checkpoint_path(std::move(checkpoint)), synced(trusted) {}

    // Makes the first `bytes` durable, then records their count (in that order: the
    // checkpoint never names bytes that are not on the disk).
    Status Sync(std::uint64_t bytes) {
      if (bytes == synced) return Ok();
      if (::fdatasync(file.fd()) != 0) return Fail(posix::ErrnoError(errno, "fsync", file.path()));
      const std::string text = std::to_string(bytes);
      if (Status ok = posix::AtomicWriteFile(checkpoint_path, AsBytes(text), 0600); !ok) return ok;
      synced = bytes;
      return Ok();
    }

    posix::DirectFile file;
    fs::path checkpoint_path;
    std::uint64_t synced;  // what the checkpoint names
  };

  explicit Spool(std::uint64_t checkpoint_every) : checkpoint_every_(checkpoint_every) {}

  // Hands the first `n` bytes of the current buffer (whole units) to the worker, which writes
  // them and makes a checkpoint once checkpoint_every_ bytes have gathered since the last one;
  // then fills the other buffer, starting with what was left of this one.
  Status Flush(std::size_t n) {
    if (n == 0) return Ok();
    std::uint8_t* buffer = buffers_[current_].get();
    // Start() first waits for the other buffer's job, so it is free to fill next.
    Status started = io_->Start([disk = disk_.get(), buffer, n, at = offset_,
                                 every = checkpoint_every_]() -> Status {
      if (Status ok = disk->file.WriteAt(ByteView(buffer, n), at); !ok) return ok;
      if (at + n - disk->synced >= every) return disk->Sync(at + n);
      return Ok();
    });
    if (!started) return started;
    const std::size_t next = (current_ + 1) % kBufferCount;
    std::memcpy(buffers_[next].get(), buffer + n, fill_ - n);
    fill_ -= n;
    offset_ += n;
    current_ = next;
    return Ok();
  }

  std::uint64_t checkpoint_every_;
  std::unique_ptr<Disk> disk_;
  std::array<posix::AlignedBuffer, kBufferCount> buffers_;
  std::size_t current_ = 0;   // the buffer being filled
  std::size_t fill_ = 0;      // bytes waiting in it
  std::uint64_t offset_ = 0;  // bytes handed to the worker (written, or being written)
  // Last member: destroyed first, so a running job finishes before what it uses goes.
  std::unique_ptr<posix::BackgroundJob> io_;
};

// Forwards a transfer's bytes to the pipeline and then to the spool, after dropping the first
// `skip` (a full answer to a resume the server would not serve as a range). A spool that cannot
// be written is given up, not the download: the spool only helps a later restart.
class Tee final : public core::io::Writer {
 public:
  Tee(core::io::Writer& sink, std::optional<Spool>& spool, std::uint64_t skip,
      std::function<bool()> past_deadline)
      : sink_(sink), spool_(spool), skip_(skip), past_deadline_(std::move(past_deadline)) {}

  Status Write(ByteView data) override {
    // Checked per chunk, not only between attempts: a server trickling bytes just above the
    // minimum rate must not hold one transfer past the whole download's deadline.
    if (past_deadline_()) {
      deadline_passed_ = true;
      return Fail(Errc::kTimeout, "download deadline passed");
    }
    const std::size_t dropped =
        static_cast<std::size_t>(std::min<std::uint64_t>(skip_, data.size()));
    skip_ -= dropped;
    data = data.subspan(dropped);
    if (data.empty()) return Ok();
    if (Status ok = sink_.Write(data); !ok) {
      sink_failed_ = true;
      return ok;
    }
    delivered_ += data.size();
    if (spool_ && !spool_->Append(data)) spool_.reset();
    return Ok();
  }

  std::uint64_t delivered() const noexcept { return delivered_; }
  bool sink_failed() const noexcept { return sink_failed_; }
  bool deadline_passed() const noexcept { return deadline_passed_; }

 private:
  core::io::Writer& sink_;
  std::optional<Spool>& spool_;
  std::uint64_t skip_;
  std::uint64_t delivered_ = 0;
  bool sink_failed_ = false;
  std::function<bool()> past_deadline_;
  bool deadline_passed_ = false;
};

}  // namespace

Status CurlRangeSource::Get(const std::string& url, std::uint64_t offset, std::uint64_t max_bytes,
                            core::io::Writer& sink) {
  const auto cap = static_cast<std::size_t>(max_bytes);
  if (offset == 0) return fetcher_.Fetch(url, cap, sink);
  return fetcher_.FetchRange(url, offset, cap, sink);
}

ResumableDownload::ResumableDownload(RangeSource& source, const Clock& clock, SleepFn sleep,
                                     DownloadOptions options)
    : source_(source), clock_(clock), sleep_(std::move(sleep)), options_(std::move(options)) {}

Status ResumableDownload::Run(const DownloadRequest& request, core::io::Writer& sink) {
  stats_ = {};
  if (request.length == 0) return Fail(Errc::kInvalidArgument, "download: empty artifact");
  std::optional<Spool> spool;
  if (options_.spool_dir) {
    if (!IsSha256Hex(request.sha256)) {
      return Fail(Errc::kInvalidArgument,
                  "download: '" + request.sha256.substr(0, 80) + "' is not a sha256 digest");
    }
    auto opened =
        Spool::Open(*options_.spool_dir, request.sha256, request.length, options_.checkpoint_bytes);
    // Without a spool the download still works; only a restart would start over.
    if (opened) spool.emplace(std::move(*opened));
  }

  std::uint64_t delivered = 0;
  if (spool && spool->size() > 0) {
    stats_.replayed = spool->size();  // counted before: a replay the sink refuses counts too
    bool sink_failed = false;
    if (Status replayed = spool->Replay(sink, sink_failed); !replayed) {
      if (!sink_failed) (void)Discard(request.sha256);
      return Fail(std::move(replayed).error().WithContext("download: replaying saved bytes"));
    }
    delivered = spool->size();
  }

  const auto deadline = clock_.Monotonic() + options_.deadline;
  // Whatever ends the download, the bytes that arrived stay usable for the next Run.
  const auto give_up = [&spool](Error error) -> Status {
    if (spool && !spool->Checkpoint()) spool.reset();
    return Fail(std::move(error));
  };
  Backoff backoff(options_.retry_initial, options_.retry_max);
  int failures = 0;
  bool ranges = true;  // false once the server answered a range request with the whole body
  const auto past_deadline = [this, deadline] { return clock_.Monotonic() >= deadline; };
  const auto too_late = [&] {
    return give_up(Error(Errc::kTimeout, "download " + request.url + ": not finished within " +
                                             std::to_string(options_.deadline.count() / 1000) +
                                             " s"));
  };
  while (delivered < request.length) {
    if (past_deadline()) return too_late();
    const std::uint64_t offset = delivered;
    Tee tee(sink, spool, ranges ? 0 : offset, past_deadline);
    ++stats_.requests;
    if (ranges && offset > 0) ++stats_.resumed;
    Status got = ranges ? source_.Get(request.url, offset, request.length - offset, tee)
                        : source_.Get(request.url, 0, request.length, tee);
    delivered += tee.delivered();
    if (tee.deadline_passed()) return too_late();
    if (tee.sink_failed()) return got;
    if (got && delivered == request.length) break;
    Error error =
        got ? Error(Errc::kUnavailable, "GET " + request.url + ": the connection closed after " +
                                            std::to_string(delivered) + " of " +
                                            std::to_string(request.length) + " bytes")
            : std::move(got).error();
    if (tee.delivered() > 0) {  // progress: the connection works, just not for long
      failures = 0;
      backoff.Reset();
    }
    if (error.code() == Errc::kUnsupported && ranges && offset > 0) {
      ranges = false;  // ask again for everything and skip what we have
      continue;
    }
    if (!IsRetryable(error.code())) return give_up(std::move(error));
    if (++failures > options_.retries) {
      return give_up(std::move(error).WithContext("download: gave up after " +
                                                  std::to_string(failures) + " failed attempts"));
    }
    if (spool && !spool->Checkpoint()) spool.reset();
    if (!sleep_(backoff.Next())) return give_up(Error(Errc::kCancelled, "download: stopped"));
  }
  return Ok();
}

Status ResumableDownload::Discard(const std::string& sha256) {
  if (!options_.spool_dir || !IsSha256Hex(sha256)) return Ok();
  std::error_code ec;
  bool removed = false;
  for (const char* suffix : {".partial", ".checkpoint"}) {
    const fs::path path = *options_.spool_dir / (sha256 + suffix);
    removed = fs::remove(path, ec) || removed;
    if (ec) return Fail(Errc::kIo, "download: removing " + path.string() + ": " + ec.message());
  }
  if (removed) return posix::FsyncDirectory(*options_.spool_dir);
  return Ok();
}

}  // namespace aloft::agent::download

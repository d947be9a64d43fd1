#include "agent/bundle/bundle_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <map>
#include <vector>

#include "core/base/percent_encode.hpp"
#include "platform/posix/files.hpp"
#include "platform/posix/unique_fd.hpp"

namespace aloft::agent::bundle {
namespace {

namespace fs = std::filesystem;
namespace posix = platform::posix;
using posix::UniqueFd;

constexpr std::size_t kChunkBytes = 256 * 1024;
constexpr std::size_t kBlock = 512;
constexpr std::size_t kMaxMembers = 100'000;
constexpr std::size_t kMaxLongNameBytes = 4096;
constexpr std::size_t kMaxPaxBytes = 64 * 1024;

Status CheckName(std::string_view name) {
  if (!IsSafeMemberName(name)) {
    return Fail(Errc::kInvalidArgument,
                "bundle member '" + std::string(name.substr(0, 200)) + "' is not a safe name");
  }
  return Ok();
}

// Reads exactly `size` bytes at `offset` of `fd`, in pieces, into `sink`.
Status StreamRange(int fd, const fs::path& path, std::uint64_t offset, std::uint64_t size,
                   core::io::Writer& sink) {
  std::vector<std::uint8_t> buffer(kChunkBytes);
  std::uint64_t at = 0;
  while (at < size) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), size - at));
    const ssize_t n = ::pread(fd, buffer.data(), want, static_cast<off_t>(offset + at));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail(posix::ErrnoError(errno, "read", path));
    if (n == 0) return Fail(Errc::kVerificationFailed, path.string() + ": ends early");
    if (Status ok = sink.Write(ByteView(buffer.data(), static_cast<std::size_t>(n))); !ok)
      return ok;
    at += static_cast<std::uint64_t>(n);
  }
  return Ok();
}

Status LengthMismatch(std::string_view name, std::uint64_t have, std::uint64_t want) {
  return Fail(Errc::kVerificationFailed, "bundle member " + std::string(name) + " has " +
                                             std::to_string(have) + " bytes, signed length is " +
                                             std::to_string(want));
}

// --- directory ---------------------------------------------------------------------------

class DirectoryBundle final : public BundleReader {
 public:
  explicit DirectoryBundle(fs::path dir) : dir_(std::move(dir)) {}

  Result<Bytes> Read(std::string_view name, std::size_t max_bytes) override {
    if (Status ok = CheckName(name); !ok) return Fail(ok.error());
    return posix::ReadFile(dir_ / std::string(name), max_bytes);
  }

  Status Stream(std::string_view name, std::uint64_t length, const std::string&,
                core::io::Writer& sink) override {
    if (Status ok = CheckName(name); !ok) return ok;
    const fs::path path = dir_ / std::string(name);
    const int fd = posix::OpenRetrying(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return Fail(Errc::kNotFound, "bundle has no " + std::string(name));
      return Fail(posix::ErrnoError(errno, "open", path));
    }
    UniqueFd owned(fd);
    struct stat st {};
    if (::fstat(fd, &st) != 0) return Fail(posix::ErrnoError(errno, "stat", path));
    if (!S_ISREG(st.st_mode)) return Fail(Errc::kInvalidArgument, path.string() + " is not a file");
    if (static_cast<std::uint64_t>(st.st_size) != length) {
      return LengthMismatch(name, static_cast<std::uint64_t>(st.st_size), length);
    }
    return StreamRange(fd, path, 0, length, sink);
  }

  std::string Describe() const override { return dir_.string(); }

 private:
  fs::path dir_;
};

// --- tar ---------------------------------------------------------------------------------

using Header = std::array<std::uint8_t, kBlock>;

std::string_view Field(const Header& h, std::size_t offset, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(h.data()) + offset, size);
  return text.substr(0, text.find('\0'));
}

// Octal, NUL/space padded; or GNU base-256 (high bit of the first byte) for big members.
std::optional<std::uint64_t> Number(const Header& h, std::size_t offset, std::size_t size) {
  if ((h[offset] & 0x80) != 0) {
    std::uint64_t value = 0;
    for (std::size_t i = 1; i < size; ++i) {
      if (value >> 56 != 0) return std::nullopt;
      value = (value << 8) | h[offset + i];
    }
    return (h[offset] & 0x7f) == 0 ? std::optional(value) : std::nullopt;
  }
  std::uint64_t value = 0;
  bool digits = false;
  for (std::size_t i = 0; i < size; ++i) {
    const char c = static_cast<char>(h[offset + i]);
    if (c == ' ' && !digits) continue;
    if (c < '0' || c > '7') break;
    if (value >> 60 != 0) return std::nullopt;
    value = value * 8 + static_cast<std::uint64_t>(c - '0');
    digits = true;
  }
  return digits ? std::optional(value) : std::nullopt;
}

bool ChecksumOk(const Header& h) {
  auto stored = Number(h, 148, 8);
  if (!stored) return false;
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < kBlock; ++i)
    sum += (i >= 148 && i < 156) ? std::uint64_t{' '} : std::uint64_t{h[i]};
  return sum == *stored;
}

std::string Normalize(std::string name) {
  while (name.starts_with("./")) name.erase(0, 2);
  return name;
}

// The "path" record of a pax extended header ("<len> path=<value>\n" records), if any.
std::optional<std::string> PaxPath(std::string_view records) {
  std::optional<std::string> path;
  while (!records.empty()) {
    std::size_t length = 0;
    std::size_t i = 0;
    while (i < records.size() && records[i] >= '0' && records[i] <= '9') {
      length = length * 10 + static_cast<std::size_t>(records[i] - '0');
      if (length > records.size()) return path;
      ++i;
    }
    if (length == 0 || length > records.size() || i >= length) return path;
    std::string_view record = records.substr(i, length - i);
    records.remove_prefix(length);
    if (record.starts_with(' ')) record.remove_prefix(1);
    if (record.ends_with('\n')) record.remove_suffix(1);
    if (record.starts_with("path=")) path = std::string(record.substr(5));
  }
  return path;
}

class TarBundle final : public BundleReader {
 public:
  struct Member {
    std::uint64_t offset = 0;
    std::uint64_t size = 0;
  };

  static Result<std::unique_ptr<BundleReader>> Open(const fs::path& file) {
    const int fd = posix::OpenRetrying(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return Fail(Errc::kNotFound, "bundle " + file.string() + " not found");
      return Fail(posix::ErrnoError(errno, "open", file));
    }
    std::unique_ptr<TarBundle> tar(new TarBundle(file, UniqueFd(fd)));
    if (Status indexed = tar->Index(); !indexed) {
      return Fail(std::move(indexed).error().WithContext("bundle " + file.string()));
    }
    return std::unique_ptr<BundleReader>(std::move(tar));
  }

  Result<Bytes> Read(std::string_view name, std::size_t max_bytes) override {
    if (Status ok = CheckName(name); !ok) return Fail(ok.error());
    auto it = members_.find(std::string(name));
    if (it == members_.end()) return Fail(Errc::kNotFound, "bundle has no " + std::string(name));
    if (it->second.size > max_bytes) {
      return Fail(Errc::kTooLarge, "bundle member " + std::string(name) + " is larger than " +
                                       std::to_string(max_bytes) + " bytes");
    }
    core::io::BytesWriter out(max_bytes);
    if (Status ok = StreamRange(fd_.get(), file_, it->second.offset, it->second.size, out); !ok) {
      return Fail(ok.error());
    }
    return std::move(out).bytes();
  }

  Status Stream(std::string_view name, std::uint64_t length, const std::string&,
                core::io::Writer& sink) override {
    if (Status ok = CheckName(name); !ok) return ok;
    auto it = members_.find(std::string(name));
    if (it == members_.end()) return Fail(Errc::kNotFound, "bundle has no " + std::string(name));
    if (it->second.size != length) return LengthMismatch(name, it->second.size, length);
    return StreamRange(fd_.get(), file_, it->second.offset, length, sink);
  }

  std::string Describe() const override { return file_.string(); }

 private:
  TarBundle(fs::path file, UniqueFd fd) : file_(std::move(file)), fd_(std::move(fd)) {}

  Result<std::string> ReadText(std::uint64_t offset, std::uint64_t size, std::size_t cap) {
    if (size > cap) return Fail(Errc::kInvalidArgument, "extended header too large");
    core::io::BytesWriter out(cap);
    if (Status ok = StreamRange(fd_.get(), file_, offset, size, out); !ok) return Fail(ok.error());
    return std::string(AsChars(out.bytes()));
  }

  Status Index() {
    struct stat st {};
    if (::fstat(fd_.get(), &st) != 0) return Fail(posix::ErrnoError(errno, "stat", file_));
    const auto file_size = static_cast<std::uint64_t>(st.st_size);
    std::uint64_t pos = 0;
    std::optional<std::string> long_name;
    while (pos + kBlock <= file_size) {
      Header h{};
      const ssize_t n = ::pread(fd_.get(), h.data(), h.size(), static_cast<off_t>(pos));
      if (n != static_cast<ssize_t>(h.size())) return Fail(posix::ErrnoError(errno, "read", file_));
      if (std::all_of(h.begin(), h.end(), [](std::uint8_t b) { return b == 0; })) return Ok();
      if (!ChecksumOk(h)) {
        return Fail(Errc::kInvalidArgument,
                    "not a tar file (bad header checksum at byte " + std::to_string(pos) + ")");
      }
      auto size = Number(h, 124, 12);
      if (!size)
        return Fail(Errc::kInvalidArgument, "bad member size at byte " + std::to_string(pos));
      const std::uint64_t data = pos + kBlock;
      const std::uint64_t padded = (*size + kBlock - 1) / kBlock * kBlock;
      if (padded > file_size - data) {
        return Fail(Errc::kInvalidArgument, "truncated member at byte " + std::to_string(pos));
      }
      const char type = static_cast<char>(h[156]);
      if (type == 'L') {
        auto text = ReadText(data, *size, kMaxLongNameBytes);
        if (!text) return Fail(text.error());
        long_name = text->substr(0, text->find('\0'));
      } else if (type == 'x') {
        auto text = ReadText(data, *size, kMaxPaxBytes);
        if (!text) return Fail(text.error());
        if (auto path = PaxPath(*text)) long_name = std::move(*path);
      } else if (type == '0' || type == '\0' || type == '7') {
        std::string name;
        if (long_name) {
          name = std::move(*long_name);
        } else {
          const std::string_view prefix = Field(h, 345, 155);
          const std::string_view base = Field(h, 0, 100);
          name = prefix.empty() ? std::string(base) : std::string(prefix) + "/" + std::string(base);
        }
        long_name.reset();
        if (members_.size() >= kMaxMembers) return Fail(Errc::kInvalidArgument, "too many members");
        members_[Normalize(std::move(name))] = Member{data, *size};
      } else {
        long_name.reset();  // directories, links, global headers: not bundle files
      }
      pos = data + padded;
    }
    return Ok();
  }

  fs::path file_;
  UniqueFd fd_;
  std::map<std::string, Member, std::less<>> members_;
};

// --- URL ---------------------------------------------------------------------------------

class UrlBundle final : public BundleReader {
 public:
  UrlBundle(std::string base_url, core::metadata::Fetcher& fetcher,
            download::ResumableDownload& download)
      : base_(std::move(base_url)), fetcher_(fetcher), download_(download) {
    while (base_.ends_with('/')) base_.pop_back();
  }

  Result<Bytes> Read(std::string_view name, std::size_t max_bytes) override {
    if (Status ok = CheckName(name); !ok) return Fail(ok.error());
    return core::metadata::FetchBytes(fetcher_, Url(name), max_bytes);
  }

  Status Stream(std::string_view name, std::uint64_t length, const std::string& sha256,
                core::io::Writer& sink) override {
    if (Status ok = CheckName(name); !ok) return ok;
    return download_.Run(download::DownloadRequest{Url(name), length, sha256}, sink);
  }

  std::string Describe() const override { return base_; }

 private:
  std::string Url(std::string_view name) const {
    std::string url = base_;
    std::size_t start = 0;
    while (start <= name.size()) {
      const std::size_t slash = std::min(name.find('/', start), name.size());
      url += "/" + PercentEncode(name.substr(start, slash - start));
      start = slash + 1;
    }
    return url;
  }

  std::string base_;
  core::metadata::Fetcher& fetcher_;
  download::ResumableDownload& download_;
};

}  // namespace

bool IsSafeMemberName(std::string_view name) noexcept {
  if (name.empty() || name.size() > kMaxLongNameBytes || name.front() == '/') return false;
  std::size_t start = 0;
  while (start <= name.size()) {
    const std::size_t slash = std::min(name.find('/', start), name.size());
    const std::string_view segment = name.substr(start, slash - start);
    if (segment.empty() || segment == "." || segment == "..") return false;
    if (segment.find('\0') != std::string_view::npos) return false;
    start = slash + 1;
  }
  return true;
}

Result<std::unique_ptr<BundleReader>> OpenBundleDirectory(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Fail(Errc::kNotFound, "bundle directory " + dir.string() + " not found");
  }
  return std::unique_ptr<BundleReader>(new DirectoryBundle(dir));
}

Result<std::unique_ptr<BundleReader>> OpenBundleTar(const fs::path& file) {
  return TarBundle::Open(file);
}

std::unique_ptr<BundleReader> OpenBundleUrl(std::string base_url, core::metadata::Fetcher& fetcher,
                                            download::ResumableDownload& download) {
  return std::make_unique<UrlBundle>(std::move(base_url), fetcher, download);
}

}  // namespace aloft::agent::bundle

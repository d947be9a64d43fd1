#pragma once

// Where an offline update bundle's files come from. A bundle is a copy of the Image
// repository cut down to one target (see offline_bundle.hpp for the layout); it arrives as a
// directory (an unpacked USB stick), as an uncompressed tar file of that directory, or as a
// URL under which the same files are served.
//
// Member names are relative paths with '/' separators ("metadata/1.root.json"); a name that is
// absolute or contains "." or ".." segments is refused (kInvalidArgument), so a bundle can
// never make the agent read outside it.
//
// Thread-safety: none.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "agent/download/resumable_download.hpp"
#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "core/io/writer.hpp"
#include "core/metadata/fetcher.hpp"

namespace aloft::agent::bundle {

class BundleReader {
 public:
  virtual ~BundleReader() = default;

  // A small member (the manifest, metadata). kNotFound when the bundle has no such member,
  // kTooLarge when it holds more than `max_bytes`.
  virtual Result<Bytes> Read(std::string_view name, std::size_t max_bytes) = 0;

  // Streams the member `name` into `sink`: exactly `length` bytes (the signed length) or an
  // error (kVerificationFailed when the member is shorter or longer; kNotFound when absent).
  // `sha256` (hex, signed) lets a remote source resume and spool.
  virtual Status Stream(std::string_view name, std::uint64_t length, const std::string& sha256,
                        core::io::Writer& sink) = 0;

  // For messages: the path or URL of the bundle.
  virtual std::string Describe() const = 0;
};

// Whether `name` is a safe relative member name (see above).
bool IsSafeMemberName(std::string_view name) noexcept;

// A bundle unpacked in `dir`. kNotFound when `dir` is not a directory.
Result<std::unique_ptr<BundleReader>> OpenBundleDirectory(const std::filesystem::path& dir);

// An uncompressed POSIX tar file (ustar, with GNU long names and pax "path" records), indexed
// once when opened: regular-file members only, later duplicates win (as tar extracts them).
// kInvalidArgument for a file that is not such a tar (bad header checksum, truncated member).
Result<std::unique_ptr<BundleReader>> OpenBundleTar(const std::filesystem::path& file);

// A bundle served under `base_url` ("https://host/bundles/rootfs-2.0"): members are fetched
// from "<base_url>/<member>" through `fetcher` (small members) and `download` (the artifact,
// resumable); both must outlive the reader.
std::unique_ptr<BundleReader> OpenBundleUrl(std::string base_url, core::metadata::Fetcher& fetcher,
                                            download::ResumableDownload& download);

}  // namespace aloft::agent::bundle

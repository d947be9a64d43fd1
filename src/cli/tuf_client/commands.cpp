#include "cli/tuf_client/commands.hpp"

#include "core/metadata/trusted_set.hpp"
#include "core/metadata/updater.hpp"
#include "core/metadata/verify.hpp"
#include "platform/http/curl_fetcher.hpp"
#include "platform/posix/directory_metadata_store.hpp"
#include "platform/posix/files.hpp"
#include "platform/posix/system_clock.hpp"

namespace aloft::cli::tuf_client {
namespace {

using core::metadata::Updater;
using core::metadata::UpdaterConfig;

constexpr std::size_t kMaxRootBytes = 512 * 1024;

Status RequireDir(const std::filesystem::path& dir, const char* option) {
  if (dir.empty()) return Fail(Errc::kInvalidArgument, std::string(option) + " is required");
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return Fail(Errc::kInvalidArgument, std::string(option) + " " + dir.string() +
                                            " is not a directory");
  }
  return Ok();
}

// The updater and what it needs, wired together. Only this file names concrete adapters.
class Client {
 public:
  static Result<std::unique_ptr<Client>> Create(const Options& opts) {
    auto fetcher = platform::http::CurlFetcher::Create();
    if (!fetcher) return Fail(fetcher.error());
    return std::unique_ptr<Client>(new Client(opts, std::move(*fetcher)));
  }
  Updater& updater() { return updater_; }

 private:
  Client(const Options& opts, std::unique_ptr<platform::http::CurlFetcher> fetcher)
      : fetcher_(std::move(fetcher)),
        store_(opts.metadata_dir),
        updater_(MakeConfig(opts), *fetcher_, store_, platform::posix::SystemClock().Now()) {}

  static UpdaterConfig MakeConfig(const Options& opts) {
    UpdaterConfig c;
    c.metadata_url = opts.metadata_url;
    c.targets_url = opts.target_base_url;
    c.max_root_rotations = opts.max_root_rotations;
    return c;
  }

  std::unique_ptr<platform::http::CurlFetcher> fetcher_;
  platform::posix::DirectoryMetadataStore store_;
  Updater updater_;
};

Status CheckRefreshOptions(const Options& opts) {
  if (Status s = RequireDir(opts.metadata_dir, "--metadata-dir"); !s) return s;
  if (opts.metadata_url.empty()) return Fail(Errc::kInvalidArgument, "--metadata-url is required");
  return Ok();
}

}  // namespace

Status Init(const Options& opts, const std::filesystem::path& trusted_root) {
  if (Status s = RequireDir(opts.metadata_dir, "--metadata-dir"); !s) return s;
  auto bytes = platform::posix::ReadFile(trusted_root, kMaxRootBytes);
  if (!bytes) return Fail(std::move(bytes).error().WithContext("trusted root"));
  auto set = core::metadata::TrustedSet::Create(*bytes, platform::posix::SystemClock().Now());
  if (!set) return Fail(set.error());
  platform::posix::DirectoryMetadataStore store(opts.metadata_dir);
  return store.Store(core::metadata::kRoot, *bytes);
}

Status Refresh(const Options& opts) {
  if (Status s = CheckRefreshOptions(opts); !s) return s;
  auto client = Client::Create(opts);
  if (!client) return Fail(client.error());
  return (*client)->updater().Refresh();
}

Status Download(const Options& opts) {
  if (Status s = CheckRefreshOptions(opts); !s) return s;
  if (Status s = RequireDir(opts.target_dir, "--target-dir"); !s) return s;
  if (opts.target_base_url.empty()) {
    return Fail(Errc::kInvalidArgument, "--target-base-url is required");
  }
  if (opts.target_names.empty()) return Fail(Errc::kInvalidArgument, "--target-name is required");
  auto client_or = Client::Create(opts);
  if (!client_or) return Fail(client_or.error());
  Updater& updater = (*client_or)->updater();
  if (Status s = updater.Refresh(); !s) return s;
  for (const std::string& name : opts.target_names) {
    auto info = updater.FindTarget(name);
    if (!info) return Fail(info.error());
    // One stable file per target path, percent-encoded so no path can escape the directory.
    std::filesystem::path dest = opts.target_dir / PercentEncodeFileName(name);
    auto cached = platform::posix::ReadFile(dest, static_cast<std::size_t>(info->file.length));
    if (cached && core::metadata::VerifyLengthAndHashes("cached " + name, *cached,
                                                        info->file.length, info->file.hashes)) {
      continue;  // verified copy already there
    }
    auto writer = platform::posix::AtomicFileWriter::Create(dest, 0644);
    if (!writer) return Fail(writer.error());
    if (Status s = updater.DownloadTarget(*info, *writer); !s) return s;  // writer discards
    if (Status s = writer->Commit(); !s) return s;
  }
  return Ok();
}

}  // namespace aloft::cli::tuf_client

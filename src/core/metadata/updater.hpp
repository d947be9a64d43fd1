#pragma once

// The TUF client workflow of specification 1.0.x §5: root chain, timestamp, snapshot,
// targets, delegated target search and verified target download. All effects come in through
// interfaces: the repository through a Fetcher, persistence through a MetadataStore, time as
// one reference instant. Each role's bytes are persisted as soon as they verified, and never
// before, so the store only ever holds metadata this client trusted.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/percent_encode.hpp"
#include "core/io/writer.hpp"
#include "core/metadata/fetcher.hpp"
#include "core/metadata/metadata_store.hpp"
#include "core/metadata/trusted_set.hpp"

namespace aloft::core::metadata {

struct UpdaterConfig {
  std::string metadata_url;  // base URL of the metadata, with or without a trailing '/'
  std::string targets_url;   // base URL of the target files
  // Caps that keep a hostile repository from stalling the client with endless data or an
  // endless chain (TUF's endless-data attack).
  std::size_t max_root_rotations = 256;
  std::size_t max_delegations = 32;  // roles visited in one target search
  std::size_t root_max_bytes = 512 * 1024;
  std::size_t timestamp_max_bytes = 16 * 1024;
  std::size_t snapshot_max_bytes = 2 * 1024 * 1024;
  std::size_t targets_max_bytes = 5 * 1024 * 1024;
  // With consistent snapshots, fetch targets as "<dir>/<hash>.<name>" (§5.7.3).
  bool prefix_targets_with_hash = true;
};

struct TargetInfo {
  std::string path;
  TargetFile file;
};

class Updater {
 public:
  // `fetcher` and `store` must outlive the updater. `reference_time` is the instant against
  // which every expiry is judged during this update (§5.1).
  Updater(UpdaterConfig config, Fetcher& fetcher, MetadataStore& store, Timestamp reference_time);

  // §5.2–5.6: loads the trusted root from the store (it must be there and verify), follows
  // the root chain, then timestamp, snapshot and top-level targets. Runs once; later calls
  // return the first result.
  Status Refresh();

  // §5.6.7: looks `target_path` up, walking delegations pre-order depth-first (terminating
  // roles stop the search; each role is visited once; at most max_delegations roles).
  // Refreshes first if that has not happened. kNotFound if no trusted role lists it.
  Result<TargetInfo> FindTarget(std::string_view target_path);

  // §5.7: downloads a target, streaming it through `sink` while checking length and hashes.
  // On error the sink has seen unverified bytes and must discard them; the bytes are
  // verified only when this returns Ok().
  Status DownloadTarget(const TargetInfo& target, io::Writer& sink);

  // The trusted state, once Refresh() got that far.
  const TrustedSet* trusted() const noexcept { return trusted_ ? &*trusted_ : nullptr; }

 private:
  Status DoRefresh();
  Status LoadRoot();
  Status LoadTimestamp();
  Status LoadSnapshot();
  Status LoadTargets(std::string_view role, std::string_view delegator);
  Result<Bytes> FetchMetadata(const std::string& file_name, std::size_t max_bytes);
  Status Persist(std::string_view role, ByteView bytes);

  UpdaterConfig config_;
  Fetcher& fetcher_;
  MetadataStore& store_;
  Timestamp reference_time_;
  std::optional<TrustedSet> trusted_;
  std::optional<Status> refreshed_;
};

}  // namespace aloft::core::metadata

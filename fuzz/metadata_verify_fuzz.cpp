// TUF verification against a fixed trusted root (fixed_repo.hpp): the input is a script of
// TrustedSet updates, one per line group separated by "\n--\n" (never valid inside JSON). Each
// step's first byte picks the update and the rest is the metadata:
//   R UpdateRoot   T UpdateTimestamp   S UpdateSnapshot   C UpdateSnapshot(from_cache)
//   G UpdateTargets   D UpdateDelegatedTargets("delegated", by "targets")
// so the fuzzer explores both the bytes and the order of the client workflow.
// Invariants, checked after every step:
//  - nothing unsigned is trusted: when a role's trusted content changed, the step's bytes parse
//    and meet that role's threshold under the keys trusted at that point;
//  - root moves one version at a time and never once a timestamp is trusted;
//  - trusted timestamp and snapshot versions never go back, and a snapshot version never stops
//    listing a role or lists it at a lower version (§5.4.3, §5.5.5);
//  - a step that succeeds leaves a fresh role at the version its parent names (§5.5.4, §5.6.4),
//    and a successful timestamp update is newer than the one it replaced.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/codec/json.hpp"
#include "core/metadata/model.hpp"
#include "core/metadata/trusted_set.hpp"
#include "core/metadata/verify.hpp"
#include "fuzz/check.hpp"
#include "fuzz/fixed_repo.hpp"

namespace {

using aloft::ByteView;
using aloft::Errc;
using aloft::core::codec::CanonicalJson;
using aloft::fuzz::Check;
namespace md = aloft::core::metadata;

constexpr std::string_view kSeparator = "\n--\n";
constexpr std::string_view kDelegated = "delegated";

std::vector<std::string_view> Steps(std::string_view input) {
  std::vector<std::string_view> steps;
  while (true) {
    const std::size_t at = input.find(kSeparator);
    steps.push_back(input.substr(0, at));
    if (at == std::string_view::npos) return steps;
    input.remove_prefix(at + kSeparator.size());
  }
}

// A role's trusted content as canonical text ("" when none), to see whether a step changed it.
template <class T>
std::string Fingerprint(const T* content) {
  return content == nullptr ? std::string() : CanonicalJson(md::ToJson(*content));
}

struct Snapshot {
  std::string root, timestamp, snapshot, targets, delegated;
  std::int64_t root_version = 0;
  std::optional<std::int64_t> timestamp_version, snapshot_version;
  std::optional<md::SnapshotMetadata> snapshot_meta;
};

Snapshot Observe(const md::TrustedSet& set) {
  Snapshot s;
  s.root = Fingerprint(&set.root());
  s.timestamp = Fingerprint(set.timestamp());
  s.snapshot = Fingerprint(set.snapshot());
  s.targets = Fingerprint(set.targets());
  s.delegated = Fingerprint(set.targets(kDelegated));
  s.root_version = set.root().common.version;
  if (set.timestamp() != nullptr) s.timestamp_version = set.timestamp()->common.version;
  if (set.snapshot() != nullptr) {
    s.snapshot_version = set.snapshot()->common.version;
    s.snapshot_meta = *set.snapshot();
  }
  return s;
}

template <class T>
bool SignedBy(const aloft::Result<md::Untrusted<T>>& parsed, std::string_view role,
              const md::KeyRing& keys, const md::RoleKeys& role_keys) {
  return parsed.has_value() && md::VerifyThreshold(role, *parsed, keys, role_keys).has_value();
}

const md::RoleKeys& TopRole(const md::RootMetadata& root, std::string_view role) {
  return root.roles.at(std::string(role));
}

bool Fresh(const md::Common& c, const md::TrustedSet& set) {
  return c.expires > set.reference_time();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto created =
      md::TrustedSet::Create(aloft::fuzz::FixedTrustedRoot(), aloft::fuzz::FixedReferenceTime());
  Check(created.has_value(), "the fixed root is trusted");
  md::TrustedSet& set = *created;

  const std::string_view input(reinterpret_cast<const char*>(data), size);
  for (std::string_view step : Steps(input)) {
    if (step.empty()) continue;
    const char op = step.front();
    const ByteView bytes = aloft::AsBytes(step.substr(1));
    const Snapshot before = Observe(set);
    const md::RootMetadata trusted_root = set.root();
    bool ok = false;
    switch (op) {
      case 'R':
        ok = set.UpdateRoot(bytes).has_value();
        if (before.timestamp_version) Check(!ok, "root is fixed once a timestamp is trusted");
        break;
      case 'T': {
        auto r = set.UpdateTimestamp(bytes);
        ok = r.has_value();
        if (ok && *r) {
          Check(!before.timestamp_version ||
                    set.timestamp()->common.version > *before.timestamp_version,
                "an accepted timestamp is newer");
        }
        if (ok && !*r)
          Check(Observe(set).timestamp == before.timestamp, "an equal timestamp changes nothing");
        break;
      }
      case 'S':
      case 'C':
        ok = set.UpdateSnapshot(bytes, op == 'C').has_value();
        break;
      case 'G':
        ok = set.UpdateTargets(bytes).has_value();
        break;
      case 'D':
        ok = set.UpdateDelegatedTargets(bytes, kDelegated, md::kTargets).has_value();
        break;
      default:
        continue;
    }
    const Snapshot after = Observe(set);
    // ALOFT_FUZZ_VERIFY_TRACE=1 prints each step's verdict: to see how far a corpus gets.
    static const bool trace = std::getenv("ALOFT_FUZZ_VERIFY_TRACE") != nullptr;
    if (trace) std::fprintf(stderr, "step %c: %s\n", op, ok ? "ok" : "refused");

    // Nothing unsigned is trusted.
    if (after.root != before.root) {
      Check(ok, "root changes only on success");
      Check(after.root_version == before.root_version + 1, "root moves one version at a time");
      auto parsed = md::ParseRoot(bytes);
      Check(SignedBy(parsed, md::kRoot, trusted_root.keys, TopRole(trusted_root, md::kRoot)),
            "a new root is signed by the old root's keys");
      Check(SignedBy(parsed, md::kRoot, set.root().keys, TopRole(set.root(), md::kRoot)),
            "a new root is signed by its own keys");
    }
    if (after.timestamp != before.timestamp) {
      Check(op == 'T', "only a timestamp step changes the timestamp");
      Check(SignedBy(md::ParseTimestamp(bytes), md::kTimestamp, trusted_root.keys,
                     TopRole(trusted_root, md::kTimestamp)),
            "a trusted timestamp is signed");
    }
    if (after.snapshot != before.snapshot) {
      Check(op == 'S' || op == 'C', "only a snapshot step changes the snapshot");
      Check(SignedBy(md::ParseSnapshot(bytes), md::kSnapshot, trusted_root.keys,
                     TopRole(trusted_root, md::kSnapshot)),
            "a trusted snapshot is signed");
    }
    if (after.targets != before.targets) {
      Check(op == 'G' && ok, "only a successful targets step changes targets");
      Check(SignedBy(md::ParseTargets(bytes), md::kTargets, trusted_root.keys,
                     TopRole(trusted_root, md::kTargets)),
            "trusted targets are signed");
    }
    if (after.delegated != before.delegated) {
      Check(op == 'D' && ok, "only a successful delegated step changes the delegated role");
    }

    // Versions never go back.
    if (before.timestamp_version) {
      Check(after.timestamp_version && *after.timestamp_version >= *before.timestamp_version,
            "the timestamp version never goes back");
    }
    if (before.snapshot_meta) {
      Check(after.snapshot_meta.has_value(), "a trusted snapshot stays");
      for (const auto& [name, meta] : before.snapshot_meta->meta) {
        auto it = after.snapshot_meta->meta.find(name);
        Check(it != after.snapshot_meta->meta.end() && it->second.version >= meta.version,
              "no role disappears from the snapshot or goes back");
      }
    }

    // What a successful step leaves behind.
    if (!ok) continue;
    switch (op) {
      case 'T':
        Check(Fresh(set.timestamp()->common, set), "an accepted timestamp is fresh");
        break;
      case 'S':
      case 'C':
        Check(Fresh(set.snapshot()->common, set), "an accepted snapshot is fresh");
        Check(set.snapshot()->common.version == set.timestamp()->snapshot_meta.version,
              "the snapshot is the version the timestamp names");
        break;
      case 'G':
      case 'D': {
        const std::string_view role = op == 'G' ? md::kTargets : kDelegated;
        const md::TargetsMetadata* t = set.targets(role);
        Check(t != nullptr && Fresh(t->common, set), "accepted targets are fresh");
        auto it = set.snapshot()->meta.find(std::string(role) + ".json");
        Check(it != set.snapshot()->meta.end() && it->second.version == t->common.version,
              "targets are the version the snapshot names");
        break;
      }
      default:
        break;
    }
  }
  return 0;
}

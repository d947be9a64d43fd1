#pragma once

// What the update loop remembers between runs, next to (never instead of) the update record:
// <data_dir>/agent-state.json, replaced atomically.
//
//   enrolled                   the server accepted this device once (enrollment is skipped)
//   director_targets_version   the Director targets version last acted on (-1: never)
//   inventory_digest           what the last successful inventory PUT described
//   current                    the update last started: deployment and the Director's
//                              artifact sha256 (written before the update record's kStart)
//   blocked                    assignments not to try again: refused by verification, or
//                              failed for a reason retrying cannot fix (at most kMaxBlocked,
//                              oldest dropped first)
//   acknowledged_deployment    the last deployment answered "already running that image"
//
// This state is advisory: the update record decides what the device runs. So a file that
// cannot be read is not fail-stop (unlike the record): Load() returns a default state and
// says why, and the agent carries on; at worst it enrolls again, re-sends an inventory or
// tries a blocked assignment once more (bounded by max_update_attempts).
//
// Thread-safety: none.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/base/result.hpp"

namespace aloft::agent::client {

struct Assignment {
  std::string deployment_id;
  std::string target_sha256;
  friend bool operator==(const Assignment&, const Assignment&) = default;
};

struct BlockedAssignment {
  Assignment assignment;
  std::string reason;
  friend bool operator==(const BlockedAssignment&, const BlockedAssignment&) = default;
};

struct AgentState {
  static constexpr std::size_t kMaxBlocked = 16;

  bool enrolled = false;
  std::int64_t director_targets_version = -1;
  std::string inventory_digest;
  Assignment current;
  std::vector<BlockedAssignment> blocked;
  std::string acknowledged_deployment;

  bool IsBlocked(const Assignment& a) const noexcept;
  // Adds `a` (once), dropping the oldest entry beyond kMaxBlocked.
  void Block(const Assignment& a, std::string reason);

  friend bool operator==(const AgentState&, const AgentState&) = default;
};

class AgentStateFile {
 public:
  static constexpr std::string_view kFileName = "agent-state.json";

  explicit AgentStateFile(const std::filesystem::path& data_dir) : path_(data_dir / kFileName) {}

  struct Loaded {
    AgentState state;
    std::string problem;  // why a default state was returned for an existing file; else empty
  };
  // Never fails (see above): a missing file is the default state without a problem.
  Loaded Load() const;
  // Atomic and durable; kIo / kNoSpace.
  Status Save(const AgentState& state) const;

  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace aloft::agent::client

#pragma once

// Checks an audit hash chain record by record, without I/O, so every storage backend verifies
// the same way and tests can feed it records directly.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "server/audit/audit_log.hpp"

namespace aloft::server::audit {

// The separately stored head of the chain: the last appended record's seq and hash
// ({0, kGenesisHash} for an empty log).
struct ChainHead {
  std::int64_t seq = 0;
  std::string hash;
};

class ChainVerifier {
 public:
  // Feed records in ascending seq order. Returns false once the chain is broken; later
  // records are then ignored (the first bad seq is what the report names).
  bool Add(const AuditRecord& record);
  // A stored row that could not be read back (its fields do not parse): broken at `seq`.
  bool AddUnreadable(std::int64_t seq);

  // The verdict, checking the last record against `head` (nullopt: the head is missing).
  VerifyReport Finish(const std::optional<ChainHead>& head) const;

 private:
  bool Broken(std::int64_t seq, std::string problem);

  std::int64_t next_seq_ = 1;
  std::string prev_hash_ = std::string(kGenesisHash);
  VerifyReport report_;
};

}  // namespace aloft::server::audit

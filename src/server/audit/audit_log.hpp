#pragma once

// The audit trail: who did what to what, when, and how it ended. Records form a hash chain:
// each record's hash covers its own fields and the previous record's hash, so changing,
// removing or reordering a record breaks every later link, and Verify() finds the first bad
// one. The head (last seq and hash) is kept separately as well, so cutting records off the
// end is noticed too.
//
// What the chain cannot do on its own: someone who can rewrite the whole database can
// recompute every hash. Anchor the head elsewhere (Verify() returns it; export it to a log
// host or a ticket) to detect that.
//
// Never put secrets (passwords, token or session secrets, TOTP seeds or codes) in an event.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"
#include "core/base/time.hpp"
#include "core/codec/json.hpp"

namespace aloft::server::audit {

enum class Outcome : std::uint8_t {
  kSuccess,  // the action happened
  kFailure,  // it was attempted and failed (bad password, bad input)
  kDenied,   // it was refused by policy (no permission, throttled, CSRF)
};
std::string_view OutcomeName(Outcome outcome) noexcept;  // "success", "failure", "denied"
Result<Outcome> ParseOutcome(std::string_view name);

// Size bounds on an event, so no request can grow the log by more than a few KiB.
inline constexpr std::size_t kMaxAuditFieldBytes = 256;         // actor, action, target
inline constexpr std::size_t kMaxAuditDetailsBytes = 8 * 1024;  // canonical JSON of details

struct AuditEvent {
  std::string actor;   // a username, "anonymous" or "system"
  std::string action;  // "session.login", "user.create", ... (see the service that logs it)
  std::string target;  // what was acted on: a username, a token id, a route; may be empty
  Outcome outcome = Outcome::kSuccess;
  core::codec::Json details = core::codec::Json::Object{};  // must be an object
};

struct AuditRecord {
  std::int64_t seq = 0;  // 1, 2, 3, ... without gaps
  Timestamp at{};
  std::string actor;
  std::string action;
  std::string target;
  Outcome outcome = Outcome::kSuccess;
  core::codec::Json details = core::codec::Json::Object{};
  std::string prev_hash;  // the previous record's hash; kGenesisHash for seq 1
  std::string hash;       // RecordHash(*this)
};

// The prev_hash of the first record: 64 zeros.
inline constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

// Lower-case hex SHA-256 of the canonical JSON of every field except "hash":
// {"action","actor","at","details","outcome","prev_hash","seq","target"}.
std::string RecordHash(const AuditRecord& record);

// {"seq","at","actor","action","target","outcome","details","prev_hash","hash"}: the API's
// and the export's form.
core::codec::Json ToJson(const AuditRecord& record);

// kInvalidArgument when a field is over its bound or details is not an object.
Status CheckEvent(const AuditEvent& event);

// `event` with malformed UTF-8 (in its fields, detail keys and detail strings) replaced by
// U+FFFD, a field that only grew past its bound by that cut back at a character boundary.
// Events quote request paths and ids, possibly cut mid-character; a stored record must read
// back as JSON or the chain stops verifying. Append stores this form.
AuditEvent WithValidUtf8(AuditEvent event);

struct VerifyReport {
  bool ok = true;
  std::int64_t records = 0;  // records examined
  std::string head_hash;     // the last record's hash (kGenesisHash when empty)
  std::optional<std::int64_t> first_bad_seq;
  std::string problem;  // what is wrong there, for people
};
core::codec::Json ToJson(const VerifyReport& report);  // {"ok","records","head_hash",...}

// Thread-safe implementations: Append from many threads (and processes) yields one linear
// chain.
class AuditLog {
 public:
  virtual ~AuditLog() = default;

  // Adds a record with the next seq, the clock's time and the chain's hashes, and returns it.
  // kInvalidArgument for an event over its bounds (CheckEvent); kCorrupt when the stored
  // head is missing (the log was tampered with: fail closed, run Verify).
  virtual Result<AuditRecord> Append(const AuditEvent& event) = 0;

  // Up to `limit` (capped at 1000) records with seq > after, in order.
  virtual Result<std::vector<AuditRecord>> List(std::int64_t after, std::size_t limit) = 0;

  // Calls `sink` for each record with seq > after, in order, reading them as it goes (memory
  // does not grow with the log). The sink returns false to stop early. kCorrupt when a stored
  // record cannot be read back.
  virtual Status Export(std::int64_t after,
                        const std::function<bool(const AuditRecord&)>& sink) = 0;

  // Walks the whole chain and the stored head. Tampering is a report with ok=false, not an
  // error; errors are for failures to read at all.
  virtual Result<VerifyReport> Verify() = 0;
};

}  // namespace aloft::server::audit

#include "server/audit/chain_verifier.hpp"

namespace aloft::server::audit {
namespace {

std::string Seq(std::int64_t seq) { return std::to_string(seq); }

}  // namespace

bool ChainVerifier::Broken(std::int64_t seq, std::string problem) {
  report_.ok = false;
  report_.first_bad_seq = seq;
  report_.problem = std::move(problem);
  return false;
}

bool ChainVerifier::Add(const AuditRecord& r) {
  if (!report_.ok) return false;
  ++report_.records;
  // A gap means records were deleted; a seq below the expected one cannot come from an
  // ordered read of a primary key, so it means the reader is broken: either way, stop here.
  if (r.seq > next_seq_) {
    return Broken(next_seq_, r.seq == next_seq_ + 1 ? "record " + Seq(next_seq_) + " is missing"
                                                    : "records " + Seq(next_seq_) + " to " +
                                                          Seq(r.seq - 1) + " are missing");
  }
  if (r.seq < next_seq_) return Broken(r.seq, "record " + Seq(r.seq) + " is out of order");
  if (r.prev_hash != prev_hash_) {
    return Broken(r.seq, "record " + Seq(r.seq) + " does not link to the record before it " +
                             "(records were changed, removed or reordered)");
  }
  if (RecordHash(r) != r.hash) {
    return Broken(r.seq, "record " + Seq(r.seq) + " was modified (its hash does not match)");
  }
  prev_hash_ = r.hash;
  ++next_seq_;
  return true;
}

bool ChainVerifier::AddUnreadable(std::int64_t seq) {
  if (!report_.ok) return false;
  ++report_.records;
  return Broken(seq, "record " + Seq(seq) + " was modified (its fields are unreadable)");
}

VerifyReport ChainVerifier::Finish(const std::optional<ChainHead>& head) const {
  VerifyReport report = report_;
  report.head_hash = prev_hash_;
  if (!report.ok) return report;
  std::int64_t last = next_seq_ - 1;
  auto broken = [&](std::optional<std::int64_t> seq, std::string problem) {
    report.ok = false;
    report.first_bad_seq = seq;
    report.problem = std::move(problem);
    return report;
  };
  if (!head) return broken(std::nullopt, "the stored chain head is missing");
  if (head->seq > last) {
    return broken(last + 1, "records " + Seq(last + 1) + " to " + Seq(head->seq) +
                                " were removed from the end of the log");
  }
  if (head->seq < last) {
    return broken(head->seq + 1, "records after " + Seq(head->seq) +
                                     " were added without updating the chain head");
  }
  if (head->hash != prev_hash_) {
    return broken(last == 0 ? std::nullopt : std::optional<std::int64_t>(last),
                  "the last record does not match the stored chain head");
  }
  return report;
}

}  // namespace aloft::server::audit

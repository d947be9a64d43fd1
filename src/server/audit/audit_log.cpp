#include "server/audit/audit_log.hpp"

#include "core/base/bytes.hpp"
#include "core/crypto/hash.hpp"

namespace aloft::server::audit {

using core::codec::Json;

std::string_view OutcomeName(Outcome outcome) noexcept {
  switch (outcome) {
    case Outcome::kSuccess:
      return "success";
    case Outcome::kFailure:
      return "failure";
    case Outcome::kDenied:
      return "denied";
  }
  return "unknown";
}

Result<Outcome> ParseOutcome(std::string_view name) {
  for (Outcome o : {Outcome::kSuccess, Outcome::kFailure, Outcome::kDenied}) {
    if (OutcomeName(o) == name) return o;
  }
  return Fail(Errc::kInvalidArgument, "unknown audit outcome");
}

namespace {

Json HashedFields(const AuditRecord& r) {
  return Json::Object{{"action", r.action},
                      {"actor", r.actor},
                      {"at", FormatTimestamp(r.at)},
                      {"details", r.details},
                      {"outcome", OutcomeName(r.outcome)},
                      {"prev_hash", r.prev_hash},
                      {"seq", r.seq},
                      {"target", r.target}};
}

}  // namespace

std::string RecordHash(const AuditRecord& record) {
  return core::crypto::Sha256Hex(AsBytes(core::codec::CanonicalJson(HashedFields(record))));
}

Json ToJson(const AuditRecord& record) {
  Json json = HashedFields(record);
  json["hash"] = record.hash;
  return json;
}

Status CheckEvent(const AuditEvent& event) {
  for (const std::string* field : {&event.actor, &event.action, &event.target}) {
    if (field->size() > kMaxAuditFieldBytes) {
      return Fail(Errc::kInvalidArgument, "audit event field is too long");
    }
  }
  if (event.action.empty()) return Fail(Errc::kInvalidArgument, "audit event has no action");
  if (!event.details.IsObject()) {
    return Fail(Errc::kInvalidArgument, "audit event details must be an object");
  }
  if (core::codec::CanonicalJson(event.details).size() > kMaxAuditDetailsBytes) {
    return Fail(Errc::kInvalidArgument, "audit event details are too large");
  }
  return Ok();
}

Json ToJson(const VerifyReport& report) {
  Json json =
      Json::Object{{"ok", report.ok}, {"records", report.records}, {"head_hash", report.head_hash}};
  if (report.first_bad_seq) json["first_bad_seq"] = *report.first_bad_seq;
  if (!report.problem.empty()) json["problem"] = report.problem;
  return json;
}

}  // namespace aloft::server::audit

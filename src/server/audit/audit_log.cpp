#include "server/audit/audit_log.hpp"

#include "core/base/bytes.hpp"
#include "core/base/utf8.hpp"
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

namespace {
Json ValidUtf8(const Json& value) {
  if (value.IsString()) return ToValidUtf8(value.AsString());
  if (value.IsArray()) {
    Json::Array out;
    for (const Json& v : value.AsArray()) out.push_back(ValidUtf8(v));
    return out;
  }
  if (value.IsObject()) {
    Json::Object out;
    for (const auto& [k, v] : value.AsObject()) out.insert_or_assign(ToValidUtf8(k), ValidUtf8(v));
    return out;
  }
  return value;
}
}  // namespace

AuditEvent WithValidUtf8(AuditEvent event) {
  for (std::string* field : {&event.actor, &event.action, &event.target}) {
    if (IsValidUtf8(*field)) continue;
    const bool fitted = field->size() <= kMaxAuditFieldBytes;
    *field = ToValidUtf8(*field);
    if (fitted && field->size() > kMaxAuditFieldBytes) {
      std::size_t end = kMaxAuditFieldBytes;
      while (end > 0 && (static_cast<unsigned char>((*field)[end]) & 0xC0) == 0x80) --end;
      field->resize(end);
    }
  }
  event.details = ValidUtf8(event.details);
  return event;
}

Json ToJson(const VerifyReport& report) {
  Json json =
      Json::Object{{"ok", report.ok}, {"records", report.records}, {"head_hash", report.head_hash}};
  if (report.first_bad_seq) json["first_bad_seq"] = *report.first_bad_seq;
  if (!report.problem.empty()) json["problem"] = report.problem;
  return json;
}

}  // namespace aloft::server::audit

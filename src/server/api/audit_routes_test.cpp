// The audit routes through the Router: paging, verification, NDJSON export, bad queries.
// Who may call them is part of operator_routes_test's permission matrix.

#include "server/api/audit_routes.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "server/api/operator_api_test_fixture.hpp"
#include "server/operators/audit_actions.hpp"

namespace aloft::server::api {
namespace {

using http::Method;

class AuditRoutesTest : public OperatorApiTest {
 protected:
  void SetUp() override {
    OperatorApiTest::SetUp();
    if (HasFatalFailure()) return;
    operators::Principal root = Bootstrap();
    AddUser(root, "auditor", operators::Role::kAuditor);
    auditor_ = TokenFor("auditor");
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE(audit_->Append({"test", "test.event", std::to_string(i), audit::Outcome::kSuccess,
                                  Json::Object{{"i", i}}}));
    }
    total_ = static_cast<std::int64_t>(AuditRecords().size());
  }

  Creds auditor_;
  std::int64_t total_ = 0;
};

TEST_F(AuditRoutesTest, PagesFollowNextAfter) {
  std::int64_t after = 0;
  std::int64_t seen = 0;
  while (true) {
    http::Response r = Call(
        Method::kGet, "/api/v1/audit?after=" + std::to_string(after) + "&limit=4", "", auditor_);
    ASSERT_EQ(r.status, 200) << r.body;
    Json body = BodyOf(r);
    const auto& records = body.Find("records")->AsArray();
    ASSERT_LE(records.size(), 4u);
    for (const Json& rec : records) {
      EXPECT_EQ(rec.Find("seq")->AsInt(), ++seen);
      for (const char* key :
           {"at", "actor", "action", "target", "outcome", "details", "prev_hash", "hash"}) {
        EXPECT_NE(rec.Find(key), nullptr) << key;
      }
    }
    std::int64_t next = body.Find("next_after")->AsInt();
    if (records.empty()) {
      EXPECT_EQ(next, after);
      break;
    }
    EXPECT_EQ(next, seen);
    after = next;
  }
  EXPECT_EQ(seen, total_);
  http::Response defaults = Call(Method::kGet, "/api/v1/audit", "", auditor_);
  EXPECT_EQ(static_cast<std::int64_t>(BodyOf(defaults).Find("records")->AsArray().size()), total_);
}

TEST_F(AuditRoutesTest, BadQueriesAre400) {
  for (const char* q : {"after=-1", "after=abc", "after=1.5", "after=", "limit=0", "limit=1001",
                        "limit=1e3", "limit=99999999999999999999", "after=%2B1"}) {
    http::Response r = Call(Method::kGet, std::string("/api/v1/audit?") + q, "", auditor_);
    EXPECT_EQ(r.status, 400) << q << " -> " << r.body;
  }
  EXPECT_EQ(Call(Method::kGet, "/api/v1/audit/export?after=x", "", auditor_).status, 400);
}

TEST_F(AuditRoutesTest, VerifyReportsTheChainAndWhereItBreaks) {
  http::Response ok = Call(Method::kGet, "/api/v1/audit/verify", "", auditor_);
  ASSERT_EQ(ok.status, 200);
  Json report = BodyOf(ok);
  EXPECT_EQ(*report.Find("ok"), Json(true));
  EXPECT_EQ(report.Find("records")->AsInt(), total_);
  EXPECT_EQ(report.Find("head_hash")->AsString(), AuditRecords().back().hash);
  EXPECT_EQ(report.Find("first_bad_seq"), nullptr);

  RawSql("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET actor = 'nobody' WHERE seq = 3;");
  Json broken = BodyOf(Call(Method::kGet, "/api/v1/audit/verify", "", auditor_));
  EXPECT_EQ(*broken.Find("ok"), Json(false));
  EXPECT_EQ(broken.Find("first_bad_seq")->AsInt(), 3);
  EXPECT_FALSE(broken.Find("problem")->AsString().empty());
}

TEST_F(AuditRoutesTest, ExportIsOneJsonRecordPerLineAndIsItselfAudited) {
  http::Response r = Call(Method::kGet, "/api/v1/audit/export?after=2", "", auditor_);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.Get("Content-Type"), "application/x-ndjson");
  EXPECT_FALSE(r.headers.Has(kNextAfterHeader)) << "complete";
  std::istringstream lines(r.body);
  std::string line;
  std::int64_t expected = 3;
  auto stored = AuditRecords();
  while (std::getline(lines, line)) {
    auto json = core::codec::ParseJson(line);
    ASSERT_TRUE(json) << line;
    EXPECT_EQ(json->Find("seq")->AsInt(), expected);
    EXPECT_EQ(*json, audit::ToJson(stored[static_cast<std::size_t>(expected - 1)]));
    ++expected;
  }
  EXPECT_EQ(expected - 1, total_);
  auto after = AuditRecords();
  ASSERT_EQ(static_cast<std::int64_t>(after.size()), total_ + 1);
  EXPECT_EQ(after.back().action, operators::actions::kAuditExport);
  EXPECT_EQ(after.back().actor, "auditor");
}

}  // namespace
}  // namespace aloft::server::api

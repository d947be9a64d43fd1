#include "core/wire/device_api.hpp"

#include <gtest/gtest.h>

namespace aloft::core::wire {
namespace {

using codec::Json;

Timestamp T(const char* s) { return *aloft::ParseTimestamp(s); }

TEST(DeviceApi, IdsAreBoundedAndPlain) {
  EXPECT_TRUE(IsValidId("device-01:rpi4_a.b"));
  EXPECT_FALSE(IsValidId(""));
  EXPECT_FALSE(IsValidId(".hidden"));
  EXPECT_FALSE(IsValidId("../etc"));
  EXPECT_FALSE(IsValidId("a b"));
  EXPECT_FALSE(IsValidId("x'; DROP TABLE devices;--"));
  EXPECT_FALSE(IsValidId(std::string(129, 'a')));
  EXPECT_TRUE(IsValidId(std::string(128, 'a')));
}

TEST(DeviceApi, EveryMessageRoundTrips) {
  EnrollRequest enroll{"dev-1", "rpi4", Json::Object{{"keytype", "ed25519"}}, "tok"};
  EXPECT_EQ(ParseEnrollRequest(ToJson(enroll))->enrollment_token, "tok");
  EXPECT_EQ(ParseEnrollResponse(ToJson(EnrollResponse{EnrollmentStatus::kAccepted}))->status,
            EnrollmentStatus::kAccepted);
  AuthRequest auth{"dev-1", "https://ota.test", T("2030-01-01T00:00:00Z"), std::string(32, 'a'),
                   "abcd"};
  auto auth_back = ParseAuthRequest(ToJson(auth));
  ASSERT_TRUE(auth_back) << auth_back.error().ToString();
  EXPECT_EQ(CanonicalJson(AuthStatement(*auth_back)), CanonicalJson(AuthStatement(auth)));
  EXPECT_EQ(ParseAuthResponse(ToJson(AuthResponse{"t", T("2030-01-01T00:10:00Z")}))->token, "t");
  EXPECT_EQ(ParseCheckInResponse(ToJson(CheckInResponse{true, 7, "dep-1"}))->director_targets_version,
            7);
  Inventory inv{"rpi4", std::string(64, 'b'), "2.0", "0.1", 3, {{"site", "lab 4"}}};
  EXPECT_EQ(ParseInventory(ToJson(inv))->attributes.at("site"), "lab 4");
  Report report{"r-1", "dep-1", UpdateState::kRolledBack, 5, 10, "health check failed", "log",
                T("2030-01-01T00:00:00Z")};
  auto batch = ParseReportBatch(ToJson(ReportBatch{{report, report}}));
  ASSERT_TRUE(batch);
  EXPECT_EQ(batch->reports[1].state, UpdateState::kRolledBack);
  EXPECT_EQ(ParseReportAck(ToJson(ReportAck{{"r-1"}}))->accepted_ids.size(), 1u);
}

TEST(DeviceApi, AuthStatementIsBoundToPurposeAndAudience) {
  AuthRequest auth{"dev-1", "https://a", T("2030-01-01T00:00:00Z"), std::string(32, '0'), "00"};
  std::string statement = CanonicalJson(AuthStatement(auth));
  EXPECT_NE(statement.find("aloft-device-auth-v1"), std::string::npos);
  auth.audience = "https://b";
  EXPECT_NE(CanonicalJson(AuthStatement(auth)), statement);
}

TEST(DeviceApi, RejectsHostileBodies) {
  EXPECT_FALSE(ParseEnrollRequest(Json::Array{}));
  EXPECT_FALSE(ParseEnrollRequest(Json::Object{{"deviceId", "../x"}, {"hardwareId", "h"},
                                               {"publicKey", Json::Object{}}}));
  EXPECT_FALSE(ParseEnrollRequest(Json::Object{{"deviceId", 5}}));
  Json auth = ToJson(AuthRequest{"d", "a", T("2030-01-01T00:00:00Z"), std::string(32, 'a'), "ab"});
  auth["nonce"] = "short";
  EXPECT_FALSE(ParseAuthRequest(auth));
  auth["nonce"] = std::string(32, 'A');
  EXPECT_FALSE(ParseAuthRequest(auth)) << "upper-case hex is not the canonical form";
  Json report = ToJson(Report{"r", "", UpdateState::kFailed, 0, 0, "", "", T("2030-01-01T00:00:00Z")});
  report["logTail"] = std::string(kMaxLogTailBytes + 1, 'x');
  EXPECT_FALSE(ParseReport(report));
  report["logTail"] = "";
  report["state"] = "exploded";
  EXPECT_FALSE(ParseReport(report));
  report["state"] = "failed";
  report["bytesDone"] = -1;
  EXPECT_FALSE(ParseReport(report));
  Json::Array many(kMaxReportsPerBatch + 1, ToJson(Report{"r", "", UpdateState::kFailed, 0, 0,
                                                          "", "", T("2030-01-01T00:00:00Z")}));
  EXPECT_FALSE(ParseReportBatch(Json::Object{{"reports", many}}));
  Json inv = ToJson(Inventory{"hw", "", "", "", 0, {}});
  inv["imageSha256"] = "zz";
  EXPECT_FALSE(ParseInventory(inv));
}

}  // namespace
}  // namespace aloft::core::wire

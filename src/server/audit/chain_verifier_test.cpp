#include "server/audit/chain_verifier.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace aloft::server::audit {
namespace {

using core::codec::Json;

// A correctly chained log of `n` records.
std::vector<AuditRecord> Chain(int n) {
  std::vector<AuditRecord> out;
  std::string prev(kGenesisHash);
  for (int i = 1; i <= n; ++i) {
    AuditRecord r;
    r.seq = i;
    r.at = Timestamp(std::chrono::seconds(1704067200 + i));
    r.actor = "alice";
    r.action = "user.create";
    r.target = "user" + std::to_string(i);
    r.details = Json::Object{{"role", "viewer"}};
    r.prev_hash = prev;
    r.hash = RecordHash(r);
    prev = r.hash;
    out.push_back(r);
  }
  return out;
}

VerifyReport Verify(const std::vector<AuditRecord>& records, std::optional<ChainHead> head) {
  ChainVerifier v;
  for (const auto& r : records) {
    if (!v.Add(r)) break;
  }
  return v.Finish(head);
}

ChainHead HeadOf(const std::vector<AuditRecord>& records) {
  if (records.empty()) return ChainHead{0, std::string(kGenesisHash)};
  return ChainHead{records.back().seq, records.back().hash};
}

TEST(ChainVerifierTest, AnIntactChainVerifies) {
  auto chain = Chain(5);
  VerifyReport report = Verify(chain, HeadOf(chain));
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.records, 5);
  EXPECT_EQ(report.head_hash, chain.back().hash);
  EXPECT_FALSE(report.first_bad_seq);
  VerifyReport empty = Verify({}, HeadOf({}));
  EXPECT_TRUE(empty.ok);
  EXPECT_EQ(empty.head_hash, kGenesisHash);
}

TEST(ChainVerifierTest, TheHashCoversEveryField) {
  AuditRecord base = Chain(1)[0];
  std::vector<AuditRecord> variants(8, base);
  variants[0].seq = 2;
  variants[1].at += std::chrono::seconds(1);
  variants[2].actor = "mallory";
  variants[3].action = "user.delete";
  variants[4].target = "root";
  variants[5].outcome = Outcome::kDenied;
  variants[6].details = Json::Object{{"role", "admin"}};
  variants[7].prev_hash = std::string(64, '1');
  for (const auto& v : variants) EXPECT_NE(RecordHash(v), base.hash);
}

TEST(ChainVerifierTest, AModifiedRecordIsFound) {
  auto chain = Chain(5);
  chain[2].actor = "mallory";
  VerifyReport report = Verify(chain, HeadOf(chain));
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 3);
  EXPECT_NE(report.problem.find("modified"), std::string::npos) << report.problem;
}

TEST(ChainVerifierTest, AModifiedAndRehashedRecordBreaksTheNextLink) {
  auto chain = Chain(5);
  chain[2].actor = "mallory";
  chain[2].hash = RecordHash(chain[2]);
  VerifyReport report = Verify(chain, HeadOf(chain));
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 4);
}

TEST(ChainVerifierTest, ARemovedRecordIsAGap) {
  auto chain = Chain(5);
  chain.erase(chain.begin() + 1);
  VerifyReport report = Verify(chain, HeadOf(chain));
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 2);
  EXPECT_EQ(report.problem, "record 2 is missing");
  auto first_gone = Chain(3);
  first_gone.erase(first_gone.begin());
  EXPECT_EQ(Verify(first_gone, HeadOf(first_gone)).first_bad_seq, 1);
}

TEST(ChainVerifierTest, RenumberedRecordsAfterARemovalAreFound) {
  auto chain = Chain(5);
  chain.erase(chain.begin() + 1);
  for (std::size_t i = 0; i < chain.size(); ++i) chain[i].seq = static_cast<std::int64_t>(i + 1);
  VerifyReport report = Verify(chain, HeadOf(chain));
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 2);
}

TEST(ChainVerifierTest, SwappedRecordsAreFound) {
  auto chain = Chain(5);
  std::swap(chain[1].seq, chain[2].seq);
  std::swap(chain[1], chain[2]);  // read back in seq order: record contents swapped
  VerifyReport report = Verify(chain, HeadOf(chain));
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 2);
}

TEST(ChainVerifierTest, RecordsCutFromTheEndAreFoundThroughTheHead) {
  auto chain = Chain(5);
  ChainHead head = HeadOf(chain);
  chain.resize(3);
  VerifyReport report = Verify(chain, head);
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 4);
  EXPECT_NE(report.problem.find("removed from the end"), std::string::npos) << report.problem;
  VerifyReport all_gone = Verify({}, head);
  EXPECT_FALSE(all_gone.ok);
  EXPECT_EQ(all_gone.first_bad_seq, 1);
}

TEST(ChainVerifierTest, AHeadThatDoesNotMatchOrIsMissingIsFound) {
  auto chain = Chain(3);
  EXPECT_FALSE(Verify(chain, std::nullopt).ok);
  ChainHead behind{2, chain[1].hash};
  VerifyReport appended = Verify(chain, behind);
  EXPECT_FALSE(appended.ok);
  EXPECT_EQ(appended.first_bad_seq, 3);
  ChainHead other{3, std::string(64, 'f')};
  VerifyReport mismatch = Verify(chain, other);
  EXPECT_FALSE(mismatch.ok);
  EXPECT_EQ(mismatch.first_bad_seq, 3);
}

TEST(ChainVerifierTest, AnUnreadableRecordStopsTheWalk) {
  auto chain = Chain(3);
  ChainVerifier v;
  EXPECT_TRUE(v.Add(chain[0]));
  EXPECT_FALSE(v.AddUnreadable(2));
  EXPECT_FALSE(v.Add(chain[2]));
  VerifyReport report = v.Finish(HeadOf(chain));
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 2);
  EXPECT_EQ(report.records, 2);
}

TEST(AuditEventTest, EventsAreBounded) {
  AuditEvent ok{"alice", "user.create", "bob", Outcome::kSuccess, Json::Object{}};
  EXPECT_TRUE(CheckEvent(ok));
  AuditEvent no_action = ok;
  no_action.action.clear();
  EXPECT_FALSE(CheckEvent(no_action));
  AuditEvent long_target = ok;
  long_target.target = std::string(kMaxAuditFieldBytes + 1, 't');
  EXPECT_FALSE(CheckEvent(long_target));
  AuditEvent array_details = ok;
  array_details.details = Json::Array{};
  EXPECT_FALSE(CheckEvent(array_details));
  AuditEvent big_details = ok;
  big_details.details = Json::Object{{"x", std::string(kMaxAuditDetailsBytes, 'x')}};
  EXPECT_FALSE(CheckEvent(big_details));
}

TEST(AuditEventTest, JsonFormHasEveryFieldOfTheContract) {
  AuditRecord r = Chain(1)[0];
  Json json = ToJson(r);
  for (const char* key :
       {"seq", "at", "actor", "action", "target", "outcome", "details", "prev_hash", "hash"}) {
    EXPECT_NE(json.Find(key), nullptr) << key;
  }
  EXPECT_EQ(json.AsObject().size(), 9u);
  EXPECT_EQ(*json.Find("outcome"), Json("success"));
  EXPECT_EQ(*json.Find("at"), Json("2024-01-01T00:00:01Z"));
}

}  // namespace
}  // namespace aloft::server::audit

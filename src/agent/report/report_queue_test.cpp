#include "agent/report/report_queue.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "testing/temp_dir_fixture.hpp"

namespace aloft::agent::report {
namespace {

namespace wire = core::wire;
using ReportQueueTest = testing::TempDirTest;

wire::Report Make(std::string deployment, wire::UpdateState state, std::int64_t done,
                  std::string id = "") {
  return wire::Report{std::move(id),
                      std::move(deployment),
                      state,
                      done,
                      100,
                      "",
                      "",
                      Timestamp(std::chrono::seconds(1700000000))};
}

std::vector<std::string> Ids(const ReportQueue& q) {
  std::vector<std::string> out;
  for (const auto& r : q.Pending()) out.push_back(r.id);
  return out;
}

TEST_F(ReportQueueTest, ReportsAreDurableInOrderAcrossReopen) {
  auto q = ReportQueue::Open(dir_ / "reports");
  ASSERT_TRUE(q) << q.error().ToString();
  struct stat st {};
  ASSERT_EQ(::stat((dir_ / "reports").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  auto a = q->Enqueue(Make("d", wire::UpdateState::kDownloading, 1));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->size(), 32u) << "a random id";
  ASSERT_TRUE(q->Enqueue(Make("d", wire::UpdateState::kInstalling, 1, "r-2")));
  ASSERT_TRUE(q->Enqueue(Make("d", wire::UpdateState::kRebooting, 1, "r-3")));
  const auto before = Ids(*q);

  auto again = ReportQueue::Open(dir_ / "reports");
  ASSERT_TRUE(again);
  EXPECT_EQ(Ids(*again), before);
  ASSERT_TRUE(again->Enqueue(Make("d", wire::UpdateState::kSucceeded, 1, "r-4")));
  EXPECT_EQ(Ids(*again).back(), "r-4");
  EXPECT_EQ(again->Pending()[1].state, wire::UpdateState::kInstalling);
}

TEST_F(ReportQueueTest, RefusesReportsTheServerWouldRefuse) {
  auto q = ReportQueue::Open(dir_ / "reports");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->Enqueue(Make("d", wire::UpdateState::kFailed, 0, "../evil")).error().code(),
            Errc::kInvalidArgument);
  wire::Report big = Make("d", wire::UpdateState::kFailed, 0);
  big.log_tail = std::string(wire::kMaxLogTailBytes + 1, 'x');
  EXPECT_EQ(q->Enqueue(big).error().code(), Errc::kInvalidArgument);
  ASSERT_TRUE(q->Enqueue(Make("d", wire::UpdateState::kFailed, 0, "same")));
  EXPECT_EQ(q->Enqueue(Make("d", wire::UpdateState::kFailed, 0, "same")).error().code(),
            Errc::kInvalidArgument);
  EXPECT_EQ(q->size(), 1u);
  EXPECT_TRUE(q->Contains("same"));
  EXPECT_FALSE(q->Contains("other"));
}

TEST_F(ReportQueueTest, WhenFullOldestProgressGoesNeverATransition) {
  ReportQueueOptions options;
  options.max_reports = 3;
  auto q = ReportQueue::Open(dir_ / "reports", options);
  ASSERT_TRUE(q);
  using S = wire::UpdateState;
  ASSERT_TRUE(q->Enqueue(Make("d", S::kDownloading, 0, "t1")));   // transition
  ASSERT_TRUE(q->Enqueue(Make("d", S::kDownloading, 50, "p1")));  // progress
  ASSERT_TRUE(q->Enqueue(Make("d", S::kDownloading, 90, "p2")));  // progress
  ASSERT_TRUE(q->Enqueue(Make("d", S::kInstalling, 0, "t2")));    // full: p1 goes
  EXPECT_EQ(Ids(*q), (std::vector<std::string>{"t1", "p2", "t2"}));
  ASSERT_TRUE(q->Enqueue(Make("d", S::kRebooting, 0, "t3")));  // p2 goes
  EXPECT_EQ(Ids(*q), (std::vector<std::string>{"t1", "t2", "t3"}));
  // Only transitions left: new progress is discarded, a new transition refused.
  ASSERT_TRUE(q->Enqueue(Make("d", S::kRebooting, 5, "p3")));
  EXPECT_EQ(Ids(*q), (std::vector<std::string>{"t1", "t2", "t3"}));
  EXPECT_EQ(q->Enqueue(Make("d", S::kSucceeded, 0, "t4")).error().code(), Errc::kNoSpace);
  EXPECT_EQ(q->dropped_progress(), 3u);
  auto reopened = ReportQueue::Open(dir_ / "reports", options);
  EXPECT_EQ(Ids(*reopened), (std::vector<std::string>{"t1", "t2", "t3"}));
}

TEST_F(ReportQueueTest, CorruptFilesAreDroppedAndTemporaryFilesIgnored) {
  {
    auto q = ReportQueue::Open(dir_ / "reports");
    ASSERT_TRUE(q);
    ASSERT_TRUE(q->Enqueue(Make("d", wire::UpdateState::kFailed, 0, "good")));
  }
  { std::ofstream(dir_ / "reports" / "00000000000000000005-bad.json") << "{not json"; }
  { std::ofstream(dir_ / "reports" / ".x.tmp-123") << "partial"; }
  auto q = ReportQueue::Open(dir_ / "reports");
  ASSERT_TRUE(q) << q.error().ToString();
  EXPECT_EQ(Ids(*q), std::vector<std::string>{"good"});
  EXPECT_EQ(q->dropped_corrupt(), 1u);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "reports" / "00000000000000000005-bad.json"));
  ASSERT_TRUE(q->Enqueue(Make("d", wire::UpdateState::kFailed, 0, "next")));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "reports" / "00000000000000000006-next.json"))
      << "sequence continues after the highest seen";
}

}  // namespace
}  // namespace aloft::agent::report

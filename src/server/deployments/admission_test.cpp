#include "server/deployments/admission.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <set>

namespace aloft::server::deployments {
namespace {

Timestamp T(const char* text) { return *aloft::ParseTimestamp(text); }

std::string DeviceId(int i) {
  char id[32];
  std::snprintf(id, sizeof id, "device-%05d", i);
  return id;
}

std::vector<Phase> Phases(std::initializer_list<std::int64_t> percents) {
  std::vector<Phase> out;
  for (std::int64_t p : percents) out.push_back(Phase{p, 0, std::nullopt});
  return out;
}

TEST(AdmissionTest, BucketIsStableAndInRange) {
  EXPECT_EQ(Bucket("dep-1", "device-1"), Bucket("dep-1", "device-1"));
  std::set<std::uint32_t> seen;
  for (int i = 0; i < 100; ++i) {
    const std::uint32_t b = Bucket("dep-1", DeviceId(i));
    EXPECT_LT(b, kBuckets);
    seen.insert(b);
  }
  EXPECT_GT(seen.size(), 90u) << "buckets should be spread, not clustered";
  // The separator is part of the input: ("ab", "c") and ("a", "bc") are different pairs.
  EXPECT_NE(Bucket("ab", "c"), Bucket("a", "bc"));
}

TEST(AdmissionTest, PhaseSharesMatchPercentagesOver10000Devices) {
  const std::vector<Phase> phases = Phases({1, 10, 50, 100});
  std::array<int, 4> cumulative{};
  for (int i = 0; i < 10000; ++i) {
    const std::size_t phase = PhaseForBucket(phases, Bucket("dep-0123456789abcdef", DeviceId(i)));
    ASSERT_LT(phase, phases.size());
    for (std::size_t k = phase; k < cumulative.size(); ++k) ++cumulative[k];
  }
  for (std::size_t k = 0; k < phases.size(); ++k) {
    const double share = cumulative[k] / 100.0;  // percent of 10,000
    EXPECT_NEAR(share, static_cast<double>(phases[k].percent), 2.0) << "phase " << k;
  }
  EXPECT_GT(cumulative[0], 40) << "a 1% phase of 10,000 devices holds about 100";
  EXPECT_EQ(cumulative[3], 10000);
}

TEST(AdmissionTest, DifferentDeploymentsDrawDifferentCanaries) {
  const std::vector<Phase> phases = Phases({10, 100});
  int in_both = 0;
  int in_first = 0;
  for (int i = 0; i < 10000; ++i) {
    const bool a = PhaseForBucket(phases, Bucket("dep-aaaaaaaaaaaaaaaa", DeviceId(i))) == 0;
    const bool b = PhaseForBucket(phases, Bucket("dep-bbbbbbbbbbbbbbbb", DeviceId(i))) == 0;
    in_first += a ? 1 : 0;
    in_both += a && b ? 1 : 0;
  }
  // Independent 10% draws overlap on about 1% of devices, not 10%.
  EXPECT_NEAR(in_first, 1000, 200);
  EXPECT_LT(in_both, 250);
}

TEST(AdmissionTest, BucketBoundariesFollowPercent) {
  const std::vector<Phase> phases = Phases({1, 10, 100});
  EXPECT_EQ(PhaseForBucket(phases, 0), 0u);
  EXPECT_EQ(PhaseForBucket(phases, 99), 0u);
  EXPECT_EQ(PhaseForBucket(phases, 100), 1u);
  EXPECT_EQ(PhaseForBucket(phases, 999), 1u);
  EXPECT_EQ(PhaseForBucket(phases, 1000), 2u);
  EXPECT_EQ(PhaseForBucket(phases, 9999), 2u);
  EXPECT_EQ(PhaseForBucket(Phases({50}), 9999), 1u) << "invalid phases admit nobody";
}

TEST(AdmissionTest, MaintenanceWindowSameDay) {
  const MaintenanceWindow w{9 * 60, 17 * 60};
  EXPECT_FALSE(WindowOpen(w, T("2030-01-01T08:59:59Z")));
  EXPECT_TRUE(WindowOpen(w, T("2030-01-01T09:00:00Z")));
  EXPECT_TRUE(WindowOpen(w, T("2030-01-01T16:59:59Z")));
  EXPECT_FALSE(WindowOpen(w, T("2030-01-01T17:00:00Z")));
  EXPECT_FALSE(WindowOpen(w, T("2030-01-01T23:00:00Z")));
}

TEST(AdmissionTest, MaintenanceWindowWrapsMidnight) {
  const MaintenanceWindow w{22 * 60, 4 * 60};
  EXPECT_FALSE(WindowOpen(w, T("2030-01-01T21:59:00Z")));
  EXPECT_TRUE(WindowOpen(w, T("2030-01-01T22:00:00Z")));
  EXPECT_TRUE(WindowOpen(w, T("2030-01-01T23:59:59Z")));
  EXPECT_TRUE(WindowOpen(w, T("2030-01-02T00:00:00Z")));
  EXPECT_TRUE(WindowOpen(w, T("2030-01-02T03:59:59Z")));
  EXPECT_FALSE(WindowOpen(w, T("2030-01-02T04:00:00Z")));
  EXPECT_FALSE(WindowOpen(w, T("2030-01-02T12:00:00Z")));
}

TEST(AdmissionTest, ClockTimes) {
  EXPECT_EQ(*ParseClockTime("00:00"), 0);
  EXPECT_EQ(*ParseClockTime("23:59"), 23 * 60 + 59);
  EXPECT_EQ(FormatClockTime(22 * 60 + 5), "22:05");
  for (const char* bad : {"24:00", "12:60", "1:00", "12:5", "12-00", "", "aa:bb", "12:000"}) {
    EXPECT_EQ(ParseClockTime(bad).error().code(), Errc::kInvalidArgument) << bad;
  }
}

TEST(AdmissionTest, DeviceTagsAreTrimmedCommaSeparated) {
  DeviceView d;
  EXPECT_TRUE(DeviceTags(d).empty());
  d.attributes["tags"] = " lab, canary ,,eu-west ";
  EXPECT_EQ(DeviceTags(d), (std::vector<std::string>{"lab", "canary", "eu-west"}));
}

TEST(AdmissionTest, SelectorCriteriaAreAllRequired) {
  DeviceView d;
  d.id = "dev-1";
  d.hardware_id = "rpi4";
  d.image_version = "1.0";
  d.attributes = {{"tags", "lab,canary"}, {"site", "berlin"}, {"ring", "2"}};

  struct Case {
    const char* name;
    Selector selector;
    bool matches;
  };
  // Selector{devices, tags, hardware_id, attributes, image_version, group}
  // (group membership is not SelectorMatches' to decide: group_admission_test.cpp)
  // clang-format off
  const std::vector<Case> cases = {
      {"empty selector",          {{}, {}, "", {}, "", ""}, true},
      {"listed device",           {{"dev-0", "dev-1"}, {}, "", {}, "", ""}, true},
      {"unlisted device",         {{"dev-0", "dev-2"}, {}, "", {}, "", ""}, false},
      {"one tag",                 {{}, {"canary"}, "", {}, "", ""}, true},
      {"all tags",                {{}, {"canary", "lab"}, "", {}, "", ""}, true},
      {"missing tag",             {{}, {"canary", "prod"}, "", {}, "", ""}, false},
      {"tags match whole words",  {{}, {"can"}, "", {}, "", ""}, false},
      {"hardware",                {{}, {}, "rpi4", {}, "", ""}, true},
      {"other hardware",          {{}, {}, "rpi3", {}, "", ""}, false},
      {"attributes",              {{}, {}, "", {{"site", "berlin"}, {"ring", "2"}}, "", ""}, true},
      {"attribute differs",       {{}, {}, "", {{"site", "paris"}}, "", ""}, false},
      {"attribute missing",       {{}, {}, "", {{"floor", "1"}}, "", ""}, false},
      {"image version",           {{}, {}, "", {}, "1.0", ""}, true},
      {"other image version",     {{}, {}, "", {}, "1.1", ""}, false},
      {"everything",              {{"dev-1"}, {"lab"}, "rpi4", {{"site", "berlin"}}, "1.0", ""},
                                  true},
      {"everything but version",  {{"dev-1"}, {"lab"}, "rpi4", {{"site", "berlin"}}, "0.9", ""},
                                  false},
  };
  // clang-format on
  for (const Case& c : cases) {
    EXPECT_EQ(SelectorMatches(c.selector, d), c.matches) << c.name;
  }
}

}  // namespace
}  // namespace aloft::server::deployments

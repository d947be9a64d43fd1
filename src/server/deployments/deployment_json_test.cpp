#include "server/deployments/deployment_json.hpp"

#include <gtest/gtest.h>

namespace aloft::server::deployments {
namespace {

using core::codec::Json;

Timestamp T(const char* text) { return *aloft::ParseTimestamp(text); }

Json Parse(std::string_view text) {
  auto json = core::codec::ParseJson(text);
  EXPECT_TRUE(json) << json.error().ToString() << "\n" << text;
  return json ? *json : Json();
}

constexpr std::string_view kContractExample = R"({
  "release": "rpi4-os-2.0.img.zst",
  "selector": {"devices": ["dev-2", "dev-1"], "tags": ["canary"], "hardware_id": "rpi4",
               "attributes": {"site": "berlin"}, "image_version": "1.9"},
  "phases": [{"percent": 1, "wait_seconds": 600}, {"percent": 10, "wait_seconds": 3600},
             {"percent": 100, "wait_seconds": 0}],
  "failure_threshold_percent": 10, "min_devices_for_threshold": 1,
  "phase_deadline_seconds": 3600,
  "maintenance_window": {"start": "22:00", "end": "04:00"}
})";

TEST(DeploymentJsonTest, ParsesTheContractExample) {
  auto spec = ParseDeploymentSpec(Parse(kContractExample));
  ASSERT_TRUE(spec) << spec.error().ToString();
  EXPECT_EQ(spec->release, "rpi4-os-2.0.img.zst");
  EXPECT_EQ(spec->selector.devices, (std::set<std::string, std::less<>>{"dev-1", "dev-2"}));
  EXPECT_EQ(spec->selector.tags.count("canary"), 1u);
  EXPECT_EQ(spec->selector.hardware_id, "rpi4");
  EXPECT_EQ(spec->selector.attributes.at("site"), "berlin");
  EXPECT_EQ(spec->selector.image_version, "1.9");
  ASSERT_EQ(spec->phases.size(), 3u);
  EXPECT_EQ(spec->phases[1].percent, 10);
  EXPECT_EQ(spec->phases[1].wait_seconds, 3600);
  EXPECT_EQ(spec->failure_threshold_percent, 10);
  EXPECT_EQ(spec->min_devices_for_threshold, 1);
  EXPECT_EQ(spec->phase_deadline_seconds, 3600);
  ASSERT_TRUE(spec->maintenance_window);
  EXPECT_EQ(spec->maintenance_window->start_minute, 22 * 60);
  EXPECT_EQ(spec->maintenance_window->end_minute, 4 * 60);
}

TEST(DeploymentJsonTest, MinimalSpecHasNoWindowAndAnEmptySelector) {
  auto spec = ParseDeploymentSpec(Parse(R"({"release": "a.img", "selector": {},
      "phases": [{"percent": 100, "wait_seconds": 0}], "failure_threshold_percent": 0,
      "min_devices_for_threshold": 1, "phase_deadline_seconds": 60})"));
  ASSERT_TRUE(spec) << spec.error().ToString();
  EXPECT_EQ(spec->selector, Selector{});
  EXPECT_FALSE(spec->maintenance_window);
}

TEST(DeploymentJsonTest, RefusesBadSpecsNamingTheField) {
  // Each case replaces one member of a valid body.
  struct Case {
    const char* member;
    const char* value;  // nullptr: remove the member
    const char* message;
  };
  const std::vector<Case> cases = {
      {"release", nullptr, "release is required"},
      {"release", "\"\"", "release must be a target path"},
      {"release", "7", "release must be a string"},
      {"selector", nullptr, "selector is required"},
      {"selector", R"({"groups": "x"})", "selector has an unknown field 'groups'"},
      {"selector", R"({"group": 7})", "selector.group must be a string"},
      {"selector", R"({"devices": ["a", "a"]})", "selector.devices lists 'a' twice"},
      {"selector", R"({"devices": ["../etc"]})", "is not a device id"},
      {"selector", R"({"devices": [1]})", "selector.devices[0] must be a string"},
      {"selector", R"({"tags": ["a,b"]})", "must not contain a comma"},
      {"selector", R"({"tags": [""]})", "a tag must be 1-128 bytes"},
      {"selector", R"({"hardware_id": ""})", "selector.hardware_id must not be empty"},
      {"selector", R"({"hardware_id": "a b"})", "selector.hardware_id must be 1-128"},
      {"selector", R"({"attributes": {"site": 1}})", "selector.attributes.site must be a string"},
      {"selector", R"({"image_version": ""})", "selector.image_version must not be empty"},
      {"phases", nullptr, "phases is required"},
      {"phases", "[]", "phases must list 1 to 10 phases"},
      {"phases", R"([{"percent": 0, "wait_seconds": 0}, {"percent": 100, "wait_seconds": 0}])",
       "phases[0].percent must be between 1 and 100, not 0"},
      {"phases", R"([{"percent": 101, "wait_seconds": 0}])",
       "phases[0].percent must be between 1 and 100, not 101"},
      {"phases", R"([{"percent": 10, "wait_seconds": 0}, {"percent": 10, "wait_seconds": 0}])",
       "phases[1].percent must be greater than the previous phase's 10"},
      {"phases", R"([{"percent": 10, "wait_seconds": 0}, {"percent": 50, "wait_seconds": 0}])",
       "the last phase must reach 100 percent, not 50"},
      {"phases", R"([{"percent": 100, "wait_seconds": -1}])",
       "phases[0].wait_seconds must be between 0 and 2592000, not -1"},
      {"phases", R"([{"percent": 100}])", "phases[0].wait_seconds is required"},
      {"phases", R"([{"percent": 100, "wait_seconds": 0, "started": "2030-01-01T00:00:00Z"}])",
       "phases[0] has an unknown field 'started'"},
      {"phases", R"({"percent": 100})", "phases must be an array"},
      {"failure_threshold_percent", "101", "failure_threshold_percent must be between 0 and 100"},
      {"failure_threshold_percent", "\"10\"", "failure_threshold_percent must be an integer"},
      {"failure_threshold_percent", nullptr, "failure_threshold_percent is required"},
      {"min_devices_for_threshold", "0", "min_devices_for_threshold must be between 1 and"},
      {"phase_deadline_seconds", "59", "phase_deadline_seconds must be between 60 and 2592000"},
      {"maintenance_window", R"({"start": "25:00", "end": "04:00"})",
       "maintenance_window.start: time '25:00' is not between 00:00 and 23:59"},
      {"maintenance_window", R"({"start": "04:00", "end": "04:00"})",
       "maintenance_window start and end must differ"},
      {"maintenance_window", R"({"start": "04:00"})", "maintenance_window.end is required"},
      {"maintenance_window", R"({"start": "1:00", "end": "2:00"})", "is not HH:MM"},
      {"maintenance_window", "null", "maintenance_window must be an object"},
      {"failure_treshold_percent", "10",
       "deployment has an unknown field 'failure_treshold_percent'"},
  };
  for (const Case& c : cases) {
    Json body = Parse(kContractExample);
    if (c.value == nullptr) {
      body.AsObject().erase(c.member);
    } else {
      body[c.member] = Parse(c.value);
    }
    auto spec = ParseDeploymentSpec(body);
    ASSERT_FALSE(spec) << c.member << " = " << (c.value ? c.value : "(absent)");
    EXPECT_EQ(spec.error().code(), Errc::kInvalidArgument);
    EXPECT_NE(spec.error().message().find(c.message), std::string::npos)
        << c.member << ": got '" << spec.error().message() << "', want '" << c.message << "'";
  }
  EXPECT_EQ(ParseDeploymentSpec(Parse("[]")).error().code(), Errc::kInvalidArgument);
}

TEST(DeploymentJsonTest, ReasonBodies) {
  EXPECT_EQ(*ParseReason(Parse("{}"), false), "");
  EXPECT_EQ(*ParseReason(Parse(R"({"reason": "smoke"})"), true), "smoke");
  EXPECT_EQ(ParseReason(Parse("{}"), true).error().message(), "reason is required");
  EXPECT_EQ(ParseReason(Parse(R"({"reason": ""})"), true).error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(ParseReason(Parse(R"({"why": "x"})"), false).error().code(), Errc::kInvalidArgument);
  Json long_reason = Json::Object{{"reason", std::string(kMaxReasonBytes + 1, 'x')}};
  EXPECT_EQ(ParseReason(long_reason, false).error().code(), Errc::kInvalidArgument);
}

TEST(DeploymentJsonTest, PhasesAndSelectorRoundTrip) {
  std::vector<Phase> phases = {{10, 600, T("2030-01-01T00:00:00Z")}, {100, 0, std::nullopt}};
  auto back = ParsePhases(ToJson(phases), /*with_started=*/true);
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(*back, phases);

  Selector s{{"d1", "d2"}, {"t"}, "rpi4", {{"k", "v"}}, "1.0", "g1"};
  auto selector = ParseSelector(ToJson(s));
  ASSERT_TRUE(selector) << selector.error().ToString();
  EXPECT_EQ(*selector, s);
}

TEST(DeploymentJsonTest, ViewShowsWhatTheContractNames) {
  DeploymentView view;
  Deployment& d = view.deployment;
  d.id = "dep-0011223344556677";
  d.release = "a.img";
  d.release_version = "2.0";
  d.state = DeploymentState::kPaused;
  d.paused_reason = "failure rate 50% exceeded threshold 10% in phase 1";
  d.created = d.updated = T("2030-01-01T00:00:00Z");
  d.created_by = "alice";
  d.phases = {{10, 600, T("2030-01-01T00:00:00Z")}, {100, 0, std::nullopt}};
  d.maintenance_window = MaintenanceWindow{22 * 60, 4 * 60};
  view.counts.At(RolloutState::kFailed) = 1;
  view.counts.At(RolloutState::kRolledBack) = 2;
  DeviceRollout r;
  r.device_id = "dev-1";
  r.state = RolloutState::kRolledBack;
  r.phase = 0;
  r.message = "health check failed";
  r.assigned_at = r.updated_at = r.deadline = T("2030-01-01T00:00:00Z");
  view.devices = std::vector<DeviceRollout>{r};

  const Json j = ToJson(view);
  EXPECT_EQ(j.Find("id")->AsString(), d.id);
  EXPECT_EQ(j.Find("state")->AsString(), "paused");
  EXPECT_EQ(j.Find("paused_reason")->AsString(), d.paused_reason);
  EXPECT_EQ(j.Find("created")->AsString(), "2030-01-01T00:00:00Z");
  EXPECT_EQ(j.Find("created_by")->AsString(), "alice");
  EXPECT_EQ(j.Find("current_phase")->AsInt(), 0);
  EXPECT_EQ(j.Find("failure_threshold_percent")->AsInt(), 10);
  const auto& phases = j.Find("phases")->AsArray();
  ASSERT_EQ(phases.size(), 2u);
  EXPECT_EQ(phases[0].Find("started")->AsString(), "2030-01-01T00:00:00Z");
  EXPECT_EQ(phases[1].Find("started"), nullptr);
  const Json* counts = j.Find("counts");
  for (const char* key : {"pending", "downloading", "installing", "rebooting", "succeeded",
                          "failed", "rolled_back"}) {
    ASSERT_NE(counts->Find(key), nullptr) << key;
  }
  EXPECT_EQ(counts->Find("rolled_back")->AsInt(), 2);
  EXPECT_EQ(j.Find("maintenance_window")->Find("start")->AsString(), "22:00");
  const auto& devices = j.Find("devices")->AsArray();
  ASSERT_EQ(devices.size(), 1u);
  EXPECT_EQ(devices[0].Find("device_id")->AsString(), "dev-1");
  EXPECT_EQ(devices[0].Find("state")->AsString(), "rolled_back");
  EXPECT_EQ(devices[0].Find("updated")->AsString(), "2030-01-01T00:00:00Z");
  EXPECT_EQ(devices[0].Find("message")->AsString(), "health check failed");

  view.devices.reset();
  EXPECT_EQ(ToJson(view).Find("devices"), nullptr) << "listings leave devices out";
}

}  // namespace
}  // namespace aloft::server::deployments

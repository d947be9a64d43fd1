// Static groups through a real aloftd over HTTP: the management routes, their audit records,
// and a deployment that targets a group, whose membership is read when a device checks in.

#include <gtest/gtest.h>

#include <algorithm>

#include "server/app/aloftd_test_fixture.hpp"

namespace aloft::server::app {
namespace {

using core::codec::Json;
using testfix::Bearer;
using testfix::Reply;

class GroupRoutesTest : public testfix::SharedAloftdTest<GroupRoutesTest> {
 protected:
  static Reply Admin(const std::string& method, const std::string& path,
                     const std::string& body = "") {
    return server_->AsAdmin(method, path, body);
  }
  static Reply CheckIn(const std::string& device) {
    return server_->Call("GET", "/api/v1/device/updates", {Bearer(server_->device(device).token)});
  }
  static std::vector<std::string> Strings(const Json& array) {
    std::vector<std::string> out;
    for (const Json& v : array.AsArray()) out.push_back(v.AsString());
    return out;
  }
  static bool Audited(std::int64_t after, const std::string& action, const std::string& target,
                      const std::string& outcome) {
    auto records = server_->AuditAfter(after);
    return std::any_of(records.begin(), records.end(), [&](const Json& r) {
      return r.Find("action")->AsString() == action && r.Find("target")->AsString() == target &&
             r.Find("outcome")->AsString() == outcome && r.Find("actor")->AsString() == "m-admin";
    });
  }
};

TEST_F(GroupRoutesTest, CreateListShowChangeAndDeleteAGroup) {
  const std::int64_t head = server_->AuditHead();
  Reply created = Admin("POST", "/api/v1/groups", R"({"name":"ring-1"})");
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.Str("name"), "ring-1");
  EXPECT_EQ(created.Str("created_by"), "m-admin");
  EXPECT_EQ(created.JsonBody().Find("members")->AsInt(), 0);
  Reply again = Admin("POST", "/api/v1/groups", R"({"name":"ring-1"})");
  EXPECT_EQ(again.status, 409) << again.body;

  Reply added = Admin("POST", "/api/v1/groups/ring-1/members", R"({"devices":["dev-b","dev-a"]})");
  ASSERT_EQ(added.status, 200) << added.body;
  EXPECT_EQ(added.JsonBody().Find("added")->AsInt(), 2);
  EXPECT_EQ(added.JsonBody().Find("members")->AsInt(), 2);

  Reply list = Admin("GET", "/api/v1/groups");
  ASSERT_EQ(list.status, 200) << list.body;
  std::map<std::string, std::int64_t> counts;
  const Json groups = list.JsonBody();  // kept alive for the loop
  for (const Json& g : groups.Find("groups")->AsArray()) {
    counts[g.Find("name")->AsString()] = g.Find("members")->AsInt();
  }
  EXPECT_EQ(counts["ring-1"], 2);
  EXPECT_EQ(counts["lab"], 1);  // the fixture's group

  Reply page = Admin("GET", "/api/v1/groups/ring-1?limit=1");
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(Strings(*page.JsonBody().Find("devices")), (std::vector<std::string>{"dev-a"}));
  EXPECT_EQ(page.Str("next_after"), "dev-a");
  Reply rest = Admin("GET", "/api/v1/groups/ring-1?limit=1&after=dev-a");
  EXPECT_EQ(Strings(*rest.JsonBody().Find("devices")), (std::vector<std::string>{"dev-b"}));

  Reply removed = Admin("POST", "/api/v1/groups/ring-1/members/remove", R"({"devices":["dev-a"]})");
  ASSERT_EQ(removed.status, 200) << removed.body;
  EXPECT_EQ(removed.JsonBody().Find("removed")->AsInt(), 1);
  EXPECT_EQ(removed.JsonBody().Find("members")->AsInt(), 1);

  Reply viewer =
      server_->Call("GET", "/api/v1/groups/ring-1", {Bearer(server_->op("viewer").token)});
  EXPECT_EQ(viewer.status, 200) << "viewers read groups";
  Reply deleted = Admin("DELETE", "/api/v1/groups/ring-1");
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_EQ(Admin("GET", "/api/v1/groups/ring-1").status, 404);
  EXPECT_EQ(Admin("DELETE", "/api/v1/groups/ring-1").status, 404);

  EXPECT_TRUE(Audited(head, "group.create", "ring-1", "success"));
  EXPECT_TRUE(Audited(head, "group.create", "ring-1", "failure"));
  EXPECT_TRUE(Audited(head, "group.members_add", "ring-1", "success"));
  EXPECT_TRUE(Audited(head, "group.members_remove", "ring-1", "success"));
  EXPECT_TRUE(Audited(head, "group.delete", "ring-1", "success"));
}

TEST_F(GroupRoutesTest, UnknownDevicesAreNamedAndNothingChanges) {
  ASSERT_EQ(Admin("POST", "/api/v1/groups", R"({"name":"ring-2"})").status, 201);
  Reply bad = Admin("POST", "/api/v1/groups/ring-2/members", R"({"devices":["dev-a","ghost-7"]})");
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_NE(bad.body.find("ghost-7"), std::string::npos) << bad.body;
  EXPECT_EQ(Admin("GET", "/api/v1/groups/ring-2").JsonBody().Find("members")->AsInt(), 0);
  EXPECT_EQ(Admin("POST", "/api/v1/groups/nope/members", R"({"devices":["dev-a"]})").status, 404);
}

TEST_F(GroupRoutesTest, ADeploymentToAGroupAdmitsMembersWhenTheyCheckIn) {
  ASSERT_EQ(Admin("POST", "/api/v1/groups", R"({"name":"canary"})").status, 201);
  auto body = [](const std::string& group) {
    return core::codec::DumpJson(
        Json::Object{{"release", testfix::kReleaseName},
                     {"selector", Json::Object{{"group", group}}},
                     {"phases", Json::Array{Json::Object{{"percent", 100}, {"wait_seconds", 0}}}},
                     {"failure_threshold_percent", 50},
                     {"min_devices_for_threshold", 1},
                     {"phase_deadline_seconds", 3600}});
  };
  EXPECT_EQ(Admin("POST", "/api/v1/deployments", body("no-such-group")).status, 404);
  Reply deployment = Admin("POST", "/api/v1/deployments", body("canary"));
  ASSERT_EQ(deployment.status, 201) << deployment.body;
  const std::string id = deployment.Str("id");
  EXPECT_EQ(deployment.JsonBody().Find("selector")->Find("group")->AsString(), "canary");

  // dev-b is not a member yet: nothing for it.
  Reply before = CheckIn("dev-b");
  ASSERT_EQ(before.status, 200) << before.body;
  EXPECT_FALSE(before.Bool("updateAvailable")) << before.body;
  EXPECT_EQ(before.JsonBody().Find("directorTargetsVersion")->AsInt(), 0) << before.body;

  // Added after the rollout started: admitted at its next check-in.
  ASSERT_EQ(Admin("POST", "/api/v1/groups/canary/members", R"({"devices":["dev-b"]})").status, 200);
  Reply after = CheckIn("dev-b");
  ASSERT_EQ(after.status, 200) << after.body;
  EXPECT_TRUE(after.Bool("updateAvailable")) << after.body;
  // The check-in's reads share one snapshot, begun before the admission wrote the Director's
  // targets for dev-b; the version it reports is read after that write, so it sees it.
  EXPECT_GE(after.JsonBody().Find("directorTargetsVersion")->AsInt(), 1) << after.body;
  Reply view = Admin("GET", "/api/v1/deployments/" + id);
  ASSERT_EQ(view.status, 200) << view.body;
  const Json viewed = view.JsonBody();
  const Json* devices = viewed.Find("devices");
  ASSERT_NE(devices, nullptr) << view.body;
  ASSERT_EQ(devices->AsArray().size(), 1u) << view.body;
  EXPECT_EQ(devices->AsArray()[0].Find("device_id")->AsString(), "dev-b") << view.body;

  // The group cannot be deleted under its deployment.
  Reply in_use = Admin("DELETE", "/api/v1/groups/canary");
  EXPECT_EQ(in_use.status, 409) << in_use.body;
  EXPECT_EQ(in_use.ErrorCode(), "group_in_use");
  EXPECT_NE(in_use.body.find(id), std::string::npos);
  ASSERT_EQ(Admin("POST", "/api/v1/deployments/" + id + "/cancel").status, 200);
  EXPECT_EQ(Admin("DELETE", "/api/v1/groups/canary").status, 200);
}

}  // namespace
}  // namespace aloft::server::app

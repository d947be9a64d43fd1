#include <gtest/gtest.h>
#include <sys/stat.h>

#include "cli/aloftctl/client/api_client.hpp"
#include "cli/aloftctl/client/credentials.hpp"
#include "platform/posix/files.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::cli::aloftctl::client {
namespace {

using CredentialsTest = testing::TempDirTest;

TEST_F(CredentialsTest, RoundTripPrivateAndByOrigin) {
  const auto path = dir_ / "cfg" / "aloft" / "credentials.json";
  auto empty = Credentials::Load(path);
  ASSERT_TRUE(empty);  // a missing file is no credentials
  EXPECT_EQ(empty->Find("https://a.example"), nullptr);
  ASSERT_TRUE(empty->Set("https://A.example:8443/", {"alo_1", "id1", "alice", "2030", "/ca.pem"}));
  ASSERT_TRUE(empty->Save(path));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(path.parent_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  auto loaded = Credentials::Load(path);
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  const ServerCredentials* found = loaded->Find("https://a.example:8443");
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->token, "alo_1");
  EXPECT_EQ(found->ca_file, "/ca.pem");
  EXPECT_EQ(loaded->default_server(), "https://a.example:8443");
  EXPECT_EQ(loaded->Find("https://b.example"), nullptr);

  // Readable by others: refused, it holds tokens.
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  EXPECT_FALSE(Credentials::Load(path));
  ASSERT_TRUE(platform::posix::AtomicWriteFile(path, AsBytes("not json"), 0600));
  EXPECT_EQ(Credentials::Load(path).error().code(), Errc::kCorrupt);
}

TEST(CredentialsPathTest, XdgThenHome) {
  std::map<std::string, std::string> vars = {{"HOME", "/home/a"}};
  const auto getenv = [&vars](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  EXPECT_EQ(*DefaultCredentialsPath(getenv), "/home/a/.config/aloft/credentials.json");
  vars["XDG_CONFIG_HOME"] = "/xdg";
  EXPECT_EQ(*DefaultCredentialsPath(getenv), "/xdg/aloft/credentials.json");
  vars.clear();
  EXPECT_FALSE(DefaultCredentialsPath(getenv));
}

TEST(ApiClientTest, RefusalErrorsSayWhatTheServerSaid) {
  const Error e = RefusalError("PUT /api/v1/image-repo/targets",
                               Refusal{409, "missing_artifact", "upload it first"});
  EXPECT_EQ(e.code(), Errc::kAlreadyExists);
  EXPECT_EQ(e.message(),
            "aloftd refused PUT /api/v1/image-repo/targets (HTTP 409 missing_artifact): upload it "
            "first");
  EXPECT_NE(RefusalError("x", Refusal{401, "unauthenticated", ""}).message().find("aloftctl login"),
            std::string::npos);
  EXPECT_EQ(RefusalError("x", Refusal{404, "", ""}).code(), Errc::kNotFound);
  EXPECT_EQ(Segment("a/b c"), "a%2Fb%20c");
  EXPECT_EQ(Segment(".."), "%2E%2E");
}

TEST(ApiClientTest, ServerUrlIsChecked) {
  EXPECT_FALSE(ApiClient::Create({}));
  EXPECT_EQ(ApiClient::Create({"http://ota.example", "", std::nullopt, false}).error().code(),
            Errc::kUnsupported);
  EXPECT_EQ(ApiClient::Create({"http://ota.example", "", std::nullopt, true}).error().code(),
            Errc::kUnsupported);  // plain http only to loopback
  auto ok = ApiClient::Create({"https://ota.example:8443/", "", std::nullopt, false});
  ASSERT_TRUE(ok);
  EXPECT_EQ((*ok)->Url("/api/v1/x"), "https://ota.example:8443/api/v1/x");
}

}  // namespace
}  // namespace aloft::cli::aloftctl::client

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "agent/identity/device_api_client.hpp"
#include "agent/identity/device_identity.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::agent::identity {
namespace {

using platform::http::JsonResponse;

class IdentityTest : public testing::TempDirTest {
 protected:
  config::AgentConfig Config() const {
    config::AgentConfig c;
    c.device_id = "dev-1";
    c.hardware_id = "rpi4";
    c.data_dir = dir_ / "data" / "aloft";
    c.key_file = c.data_dir / "device.key";
    return c;
  }
  static unsigned Mode(const std::filesystem::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st.st_mode & 07777;
  }
};

TEST_F(IdentityTest, FirstStartCreatesPrivateKeyAndLaterStartsReloadIt) {
  const config::AgentConfig config = Config();
  auto first = DeviceIdentity::LoadOrCreate(config);
  ASSERT_TRUE(first) << first.error().ToString();
  EXPECT_EQ(Mode(config.data_dir), 0700u);
  EXPECT_EQ(Mode(config.key_file), 0600u);
  EXPECT_EQ(first->key().type(), core::crypto::KeyType::kEd25519);
  EXPECT_EQ(first->device_id(), "dev-1");

  auto second = DeviceIdentity::LoadOrCreate(config);
  ASSERT_TRUE(second) << second.error().ToString();
  EXPECT_EQ(second->KeyId(), first->KeyId());
}

TEST_F(IdentityTest, KeyReadableByOthersIsRefusedNotReplaced) {
  const config::AgentConfig config = Config();
  ASSERT_TRUE(DeviceIdentity::LoadOrCreate(config));
  ASSERT_EQ(::chmod(config.key_file.c_str(), 0644), 0);
  auto loaded = DeviceIdentity::LoadOrCreate(config);
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(Mode(config.key_file), 0644u) << "left for the operator to fix";
}

TEST_F(IdentityTest, CorruptKeyIsAnErrorNotANewIdentity) {
  const config::AgentConfig config = Config();
  ASSERT_TRUE(DeviceIdentity::LoadOrCreate(config));
  { std::ofstream(config.key_file, std::ios::trunc) << "garbage"; }
  auto loaded = DeviceIdentity::LoadOrCreate(config);
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(loaded.error().message().find("garbage"), std::string::npos);
}

TEST_F(IdentityTest, EnrollmentTokenFromFileIsTrimmed) {
  config::AgentConfig config = Config();
  config.enrollment_token = "inline";
  EXPECT_EQ(*ReadEnrollmentToken(config), "inline");
  config.enrollment_token.clear();
  config.enrollment_token_file = dir_ / "token";
  EXPECT_EQ(ReadEnrollmentToken(config).error().code(), Errc::kNotFound);
  { std::ofstream(dir_ / "token") << "  secret-42 \nignored\n"; }
  EXPECT_EQ(*ReadEnrollmentToken(config), "secret-42");
}

JsonResponse Answer(long status, std::string code = "") {
  JsonResponse r;
  r.status = status;
  if (!code.empty()) {
    core::codec::Json::Object error{{"code", code}, {"message", "m"}};
    r.body = core::codec::Json::Object{{"error", core::codec::Json(std::move(error))}};
  }
  return r;
}

TEST(AnswerErrorTest, OnlyNotAcceptedIsInvalidArgument) {
  EXPECT_EQ(AnswerError(Answer(403, "device_not_accepted"), "x").code(), Errc::kInvalidArgument);
  EXPECT_EQ(AnswerError(Answer(403, "forbidden"), "x").code(), Errc::kUnsupported);
  EXPECT_EQ(AnswerError(Answer(400, "bad_request"), "x").code(), Errc::kUnsupported);
  EXPECT_EQ(AnswerError(Answer(404), "x").code(), Errc::kNotFound);
  EXPECT_EQ(AnswerError(Answer(503), "x").code(), Errc::kUnavailable);
  EXPECT_EQ(AnswerError(Answer(302), "x").code(), Errc::kUnavailable);
  JsonResponse limited = Answer(429, "rate_limited");
  limited.headers["retry-after"] = "9";
  Error e = AnswerError(limited, "POST /r");
  EXPECT_EQ(e.code(), Errc::kUnavailable);
  EXPECT_NE(e.message().find("retry after 9 s"), std::string::npos) << e.message();
}

}  // namespace
}  // namespace aloft::agent::identity

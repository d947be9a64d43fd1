#include <gtest/gtest.h>

#include <map>

#include "core/base/base64.hpp"
#include "core/base/hex.hpp"
#include "core/codec/json.hpp"
#include "core/crypto/hash.hpp"
#include "server/auth/device_authenticator.hpp"
#include "server/auth/token_service.hpp"
#include "testing/fake_clock.hpp"

namespace aloft::server::auth {
namespace {

using core::crypto::PrivateKey;
using core::wire::AuthRequest;
using core::wire::EnrollmentStatus;

Timestamp T(const char* s) { return *aloft::ParseTimestamp(s); }

class MapDirectory final : public DeviceDirectory {
 public:
  Result<DeviceRecord> FindDevice(std::string_view id) override {
    auto it = devices.find(std::string(id));
    if (it == devices.end()) return Fail(Errc::kNotFound, "no such device");
    return it->second;
  }
  std::map<std::string, DeviceRecord> devices;
};

TEST(TokenService, IssuesAndVerifies) {
  testing::FakeClock clock(T("2030-01-01T00:00:00Z"));
  auto service = TokenService::Create(Bytes(32, 7), clock, std::chrono::minutes(15));
  ASSERT_TRUE(service);
  auto token = service->Issue("device", "dev-1");
  ASSERT_TRUE(token);
  auto claims = service->Verify(*token, "device");
  ASSERT_TRUE(claims) << claims.error().ToString();
  EXPECT_EQ(claims->subject, "dev-1");
  EXPECT_EQ(claims->expires, T("2030-01-01T00:15:00Z"));
  EXPECT_EQ(claims->id.size(), 32u);
}

TEST(TokenService, RejectsForgedForeignAndExpiredTokens) {
  testing::FakeClock clock(T("2030-01-01T00:00:00Z"));
  auto service = *TokenService::Create(Bytes(32, 7), clock, std::chrono::minutes(15));
  auto other = *TokenService::Create(Bytes(32, 8), clock, std::chrono::minutes(15));
  std::string token = *service.Issue("device", "dev-1");
  EXPECT_EQ(other.Verify(token, "device").error().code(), Errc::kVerificationFailed)
      << "another deployment's key";
  EXPECT_EQ(service.Verify(token, "api").error().code(), Errc::kVerificationFailed)
      << "a device token is not an API token";
  // Change the subject inside the payload: the MAC no longer matches.
  std::string tampered = token;
  tampered[10] = tampered[10] == 'A' ? 'B' : 'A';
  EXPECT_EQ(service.Verify(tampered, "device").error().code(), Errc::kVerificationFailed);
  EXPECT_FALSE(service.Verify("", "device"));
  EXPECT_FALSE(service.Verify("alt1..", "device"));
  EXPECT_FALSE(service.Verify("alt2..", "device"));
  EXPECT_FALSE(service.Verify("alt3." + token.substr(5), "device"));
  EXPECT_FALSE(service.Verify(std::string(5000, 'a'), "device"));
  clock.Advance(std::chrono::minutes(15));
  EXPECT_EQ(service.Verify(token, "device").error().code(), Errc::kExpired);
  EXPECT_FALSE(TokenService::Create(Bytes(16, 1), clock, std::chrono::minutes(1)))
      << "short keys are refused";
}

// A token signed with `key` around any payload: what a holder of the key could make, to show
// that the parser, not only the MAC, refuses malformed claims.
std::string SignToken(std::string_view prefix, std::string_view payload, const Bytes& key) {
  auto mac = core::crypto::HmacSha256Key::Create(key);
  std::string signed_part = std::string(prefix) + Base64UrlEncode(AsBytes(payload));
  return signed_part + "." + Base64UrlEncode(*mac->Mac(AsBytes(signed_part)));
}

TEST(TokenService, ClaimsAreAFixedListOfFields) {
  testing::FakeClock clock(T("2030-01-01T00:00:00Z"));
  const Bytes key(32, 7);
  auto service = *TokenService::Create(key, clock, std::chrono::minutes(15));
  using namespace std::string_literals;
  const std::string good =
      "device\0dev-1\0id\0"
      "1893456000\0"
      "1893456900"s;
  auto claims = service.Verify(SignToken("alt2.", good, key), "device");
  ASSERT_TRUE(claims) << claims.error().ToString();
  EXPECT_EQ(claims->subject, "dev-1");
  EXPECT_EQ(claims->issued_at, T("2030-01-01T00:00:00Z"));
  EXPECT_EQ(claims->expires, T("2030-01-01T00:15:00Z"));
  for (const std::string& bad : {"device\0dev-1\0id\0"
                                 "1893456000"s,  // four fields
                                 "device\0dev-1\0id\0"
                                 "1893456000\0"
                                 "1893456900\0x"s,  // six
                                 "device\0dev-1\0id\0"
                                 "1893456000\0"
                                 "18934569x0"s,  // not a number
                                 "device\0dev-1\0id\0"
                                 "1893456000\0"
                                 "-1"s,
                                 "device\0dev-1\0id\0"
                                 "1893456000\0"s,  // empty expiry
                                 ""s}) {
    EXPECT_EQ(service.Verify(SignToken("alt2.", bad, key), "device").error().code(),
              Errc::kVerificationFailed);
  }
  // The prefix is signed: a JSON payload under alt2 (or the reverse) does not parse.
  EXPECT_FALSE(service.Verify(SignToken("alt1.", good, key), "device"));
  EXPECT_FALSE(service.Issue("device", "dev\0-1"s)) << "NUL would shift the fields";
}

TEST(TokenService, AcceptsTheEarlierJsonFormat) {
  testing::FakeClock clock(T("2030-01-01T00:00:00Z"));
  const Bytes key(32, 7);
  auto service = *TokenService::Create(key, clock, std::chrono::minutes(15));
  const std::string legacy = SignToken(
      "alt1.",
      R"({"exp":"2030-01-01T00:15:00Z","iat":"2030-01-01T00:00:00Z","jti":"ab","kind":"device",)"
      R"("sub":"dev-1"})",
      key);
  auto claims = service.Verify(legacy, "device");
  ASSERT_TRUE(claims) << claims.error().ToString();
  EXPECT_EQ(claims->subject, "dev-1");
  EXPECT_EQ(claims->id, "ab");
  EXPECT_EQ(service.Verify(legacy, "api").error().code(), Errc::kVerificationFailed);
  clock.Advance(std::chrono::minutes(15));
  EXPECT_EQ(service.Verify(legacy, "device").error().code(), Errc::kExpired);
}

class DeviceAuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory.devices["dev-1"] =
        DeviceRecord{"dev-1", "rpi4", EnrollmentStatus::kAccepted, key.Public()};
  }
  AuthRequest Signed(std::string nonce = std::string(32, 'a'), std::string audience = kAudience) {
    AuthRequest r{"dev-1", std::move(audience), clock.Now(), std::move(nonce), ""};
    std::string statement = core::codec::CanonicalJson(core::wire::AuthStatement(r));
    r.signature = HexEncode(*key.Sign(AsBytes(statement)));
    return r;
  }
  static constexpr const char* kAudience = "https://ota.test";
  testing::FakeClock clock{T("2030-01-01T00:00:00Z")};
  PrivateKey key = *PrivateKey::Generate(core::crypto::KeyType::kEd25519);
  MapDirectory directory;
  DeviceAuthenticator auth{directory, clock, {kAudience, std::chrono::seconds(300), 4}};
};

TEST_F(DeviceAuthenticatorTest, AcceptsAFreshSignedStatement) {
  auto device = auth.Authenticate(Signed());
  ASSERT_TRUE(device) << device.error().ToString();
  EXPECT_EQ(device->hardware_id, "rpi4");
}

TEST_F(DeviceAuthenticatorTest, RejectsReplay) {
  AuthRequest r = Signed();
  ASSERT_TRUE(auth.Authenticate(r));
  EXPECT_EQ(auth.Authenticate(r).error().code(), Errc::kRollback);
}

TEST_F(DeviceAuthenticatorTest, RejectsStaleOrFutureStatements) {
  AuthRequest r = Signed();
  clock.Advance(std::chrono::seconds(301));
  EXPECT_EQ(auth.Authenticate(r).error().code(), Errc::kVerificationFailed);
  AuthRequest future = Signed(std::string(32, 'b'));
  clock.Set(T("2029-12-31T23:50:00Z"));
  EXPECT_EQ(auth.Authenticate(future).error().code(), Errc::kVerificationFailed);
}

TEST_F(DeviceAuthenticatorTest, RejectsWrongKeyAudienceAndUnknownDeviceAlike) {
  AuthRequest wrong_aud = Signed(std::string(32, 'c'), "https://evil.test");
  EXPECT_EQ(auth.Authenticate(wrong_aud).error().message(), "device authentication failed");
  AuthRequest r = Signed(std::string(32, 'd'));
  r.device_id = "dev-2";  // unknown, and the signature no longer matches either
  EXPECT_EQ(auth.Authenticate(r).error().message(), "device authentication failed");
  PrivateKey other = *PrivateKey::Generate(core::crypto::KeyType::kEd25519);
  directory.devices["dev-1"].key = other.Public();
  EXPECT_EQ(auth.Authenticate(Signed(std::string(32, 'e'))).error().message(),
            "device authentication failed");
}

TEST_F(DeviceAuthenticatorTest, RevokedOrPendingDeviceIsTold) {
  directory.devices["dev-1"].status = EnrollmentStatus::kDecommissioned;
  auto r = auth.Authenticate(Signed());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::kInvalidArgument);
  EXPECT_NE(r.error().message().find("decommissioned"), std::string::npos);
}

TEST_F(DeviceAuthenticatorTest, ReplayCacheIsBoundedAndForgetsExpiredNonces) {
  for (char c : std::string("0123")) ASSERT_TRUE(auth.Authenticate(Signed(std::string(32, c))));
  EXPECT_EQ(auth.Authenticate(Signed(std::string(32, '5'))).error().code(), Errc::kUnavailable);
  clock.Advance(std::chrono::seconds(301));
  EXPECT_TRUE(auth.Authenticate(Signed(std::string(32, '6'))));
}

}  // namespace
}  // namespace aloft::server::auth
